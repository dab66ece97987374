#!/usr/bin/env bash
# Builds rlhash's libFuzzer targets (tests/fuzz) with Clang and runs each for a number of seconds
# over a copy of its seed corpus (tests/fuzz/corpus/<name>), so the checked-in corpus never
# changes. Fails when any fuzzer finds a crash, a sanitizer report or a stray exception; the
# reproducer is kept under <build>/fuzz-artifacts/<name>/.
#
#   tools/run-fuzzers.sh [seconds-per-fuzzer, default 60]
#
# Environment: RLHASH_FUZZ_BUILD_DIR (default <repo>/build-fuzz), RLHASH_FUZZ_CXX (default
# clang++-14, else clang++), RLHASH_FUZZ_JOBS (build parallelism, default nproc).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RLHASH_FUZZ_BUILD_DIR:-$root/build-fuzz}"
cxx="${RLHASH_FUZZ_CXX:-}"
if [[ -z "$cxx" ]]; then
  if command -v clang++-14 >/dev/null; then cxx=clang++-14; else cxx=clang++; fi
fi
fuzzers=(npy idx npz)

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= \
  -DRLHASH_BUILD_FUZZERS=ON -DRLHASH_BUILD_TESTS=ON -DRLHASH_BUILD_BENCHMARKS=OFF \
  -DRLHASH_BUILD_EXAMPLES=OFF -DRLHASH_BUILD_APPS=OFF -DRLHASH_WITH_CUDA=OFF >/dev/null
cmake --build "$build" -j "${RLHASH_FUZZ_JOBS:-$(nproc)}" --target "${fuzzers[@]/#/fuzz_}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
status=0
for name in "${fuzzers[@]}"; do
  corpus="$work/corpus-$name"
  artifacts="$build/fuzz-artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$root/tests/fuzz/corpus/$name/." "$corpus/"
  log="$work/$name.log"
  if "$build/tests/fuzz/fuzz_$name" "$corpus" -max_total_time="$seconds" -timeout=25 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$log" 2>&1; then
    result=ok
  else
    result=FAILED
    status=1
    tail -n 60 "$log"
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
  echo "fuzz_$name: $result, $execs executions in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) inputs"
  [[ "$result" == ok ]] || echo "  reproducers: $artifacts/"
done
exit "$status"
