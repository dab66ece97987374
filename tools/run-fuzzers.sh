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
fuzzers=(npy idx npz labels envelope inflate)

cmake -S "$root" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE= \
  -DRLHASH_BUILD_FUZZERS=ON -DRLHASH_BUILD_TESTS=ON -DRLHASH_BUILD_BENCHMARKS=OFF \
  -DRLHASH_BUILD_EXAMPLES=OFF -DRLHASH_BUILD_APPS=OFF -DRLHASH_WITH_CUDA=OFF >/dev/null
cmake --build "$build" -j "${RLHASH_FUZZ_JOBS:-$(nproc)}" --target "${fuzzers[@]/#/fuzz_}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# One fuzzer over a copy of its corpus; the verdict goes to $work/<name>.status.
fuzz_one() {
  local name=$1 corpus="$work/corpus-$1" artifacts="$build/fuzz-artifacts/$1"
  mkdir -p "$corpus" "$artifacts"
  cp -r "$root/tests/fuzz/corpus/$name/." "$corpus/"
  if "$build/tests/fuzz/fuzz_$name" "$corpus" -max_total_time="$seconds" -timeout=25 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 >"$work/$name.log" 2>&1; then
    echo ok >"$work/$name.status"
  else
    echo FAILED >"$work/$name.status"
  fi
}

# The fuzzers run side by side (each for `seconds` of wall time), so the stage takes about
# `seconds` however many there are.
for name in "${fuzzers[@]}"; do fuzz_one "$name" & done
wait

status=0
for name in "${fuzzers[@]}"; do
  log="$work/$name.log"
  result="$(cat "$work/$name.status")"
  if [[ "$result" != ok ]]; then
    status=1
    tail -n 60 "$log"
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)"
  echo "fuzz_$name: $result, $execs executions in ${seconds}s, ${cov:-cov: ?}, corpus $(ls "$work/corpus-$name" | wc -l) inputs"
  [[ "$result" == ok ]] || echo "  reproducers: $build/fuzz-artifacts/$name/"
done
exit "$status"
