#!/usr/bin/env bash
# The portable xsimd Hamming kernels on 64-bit ARM, for CI: Debian's aarch64 cross compiler
# builds the search tests (every kernel path bit for bit against the scalar reference, NEON's
# among them) and tools/kernel_ratio_main.cpp statically, and qemu-user runs them. The speed
# ratio it prints is measured under emulation: a rough indication, not ARM hardware's.
# Usage: bash tools/ci-aarch64.sh [work-dir]   (default build-aarch64, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-build-aarch64}
command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null ||
  bash tools/install-deps.sh g++-aarch64-linux-gnu qemu-user
rm -rf "$work"
mkdir -p "$work/include"
# Only the header-only dependencies, not all of the host's /usr/include (its C library is amd64's).
for dir in eigen3 xsimd catch2; do ln -s "/usr/include/$dir" "$work/include/$dir"; done

cxx=(aarch64-linux-gnu-g++ -O2 -static -pthread -Wall -Wextra -Wpedantic -Werror -DRLHASH_HAS_XSIMD=1 -I include
     -isystem "$work/include" -isystem "$work/include/eigen3")
start=$SECONDS
"${cxx[@]}" -std=c++20 -I tests/support -I tests/search tests/support/catch_impl.cpp tests/support/main.cpp \
  tests/search/test_*.cpp -o "$work/test_search" &
"${cxx[@]}" -std=c++17 tools/kernel_ratio_main.cpp -o "$work/kernel_ratio" &
wait -n
wait -n
echo "aarch64 cross build took $((SECONDS - start))s"
file "$work/test_search" | grep -q "ARM aarch64" || { echo "$work/test_search is not an aarch64 program" >&2; exit 1; }

# The paths the emulated CPU runs: scalar and xsimd (NEON); the x86 paths report "not supported".
qemu-aarch64 "$work/test_search" >"$work/test_search.log" 2>&1 || { cat "$work/test_search.log" >&2; exit 1; }
tail -n 2 "$work/test_search.log"
grep -q "best SIMD path on this machine: xsimd" "$work/test_search.log" ||
  { echo "the emulated aarch64 CPU did not take the xsimd path" >&2; exit 1; }
echo "speed of the kernels under qemu-aarch64 (emulated; a rough ratio only):"
qemu-aarch64 "$work/kernel_ratio" scalar xsimd 100000
