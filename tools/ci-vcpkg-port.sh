#!/usr/bin/env bash
# ports/rlhash/portfile.cmake run through a stand-in of vcpkg's CMake helpers
# (tests/packaging/vcpkg/), for CI, with the features `zlib` and `cuda` and with no CUDA
# compiler to be found (CMAKE_CUDA_COMPILER points nowhere, nvcc is off PATH): the headers and
# rlhash::cuda install, and tests/consumer, asking for COMPONENTS cuda as the port's usage text
# does, builds and links its CUDA program (no GPU needed) against the installed package.
# Usage: bash tools/ci-vcpkg-port.sh [work-dir]   (default build-pkg-ci/vcpkg-port, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-build-pkg-ci/vcpkg-port}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
packages=$work/packages/rlhash_x64-linux

# The CUDA toolkit's libraries stay findable (FindCUDAToolkit), its compiler does not.
cuda_root=$(dirname "$(dirname "$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")")
path_without_nvcc=$(echo "$PATH" | tr ':' '\n' | grep -v -x "$cuda_root/bin" | paste -sd: -)
PATH=$path_without_nvcc cmake -DPORT=rlhash "-DFEATURES=core;zlib;cuda" -DCURRENT_PACKAGES_DIR="$packages" \
  -DCURRENT_BUILDTREES_DIR="$work/buildtrees" -DPORTFILE="$PWD/ports/rlhash/portfile.cmake" \
  "-DSTAND_IN_CMAKE_ARGS=-DCMAKE_CUDA_COMPILER=/nonexistent/nvcc;-DCUDAToolkit_ROOT=$cuda_root" \
  -P tests/packaging/vcpkg/run_port.cmake >"$work/port.log" 2>&1 || { cat "$work/port.log" >&2; exit 1; }
for file in include/rlhash/rlhash.hpp include/rlhash/cuda/memory.hpp share/rlhash/rlhashConfig.cmake \
            share/rlhash/rlhashCudaTargets.cmake share/rlhash/usage share/rlhash/copyright; do
  [ -f "$packages/$file" ] || { echo "the port did not install $file" >&2; exit 1; }
done
if [ -e "$packages/lib" ] || [ -e "$packages/debug" ]; then echo "the port left lib/ or debug/" >&2; exit 1; fi
if grep -q "CMAKE_CUDA_COMPILER" "$work/buildtrees/rel/CMakeFiles/CMakeCUDACompiler.cmake" 2>/dev/null; then
  echo "the port's build enabled the CUDA language" >&2; exit 1
fi

cmake -S tests/consumer -B "$work/consumer" -DCMAKE_PREFIX_PATH="$packages" -DRLHASH_CONSUMER_COMPONENTS=cuda \
  -DCUDAToolkit_ROOT="$cuda_root" >/dev/null
cmake --build "$work/consumer" --target rlhash_consumer_cuda -j1 >"$work/consumer.log" 2>&1 ||
  { cat "$work/consumer.log" >&2; exit 1; }
"$work/consumer/rlhash_consumer_cuda"
echo "vcpkg port (stand-in helpers): installed with zlib and cuda without a CUDA compiler; rlhash::cuda links"
