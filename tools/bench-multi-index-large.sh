#!/usr/bin/env bash
# bench_multi_index at the large sizes (multi-index vs scan vs auto, k = 1, 10, 100, random and
# clustered codes, one thread, CPU time), each size and code length run only when its codes and
# tables fit in 80% of the memory available now (MemAvailable), else skipped with the estimate.
#
#   tools/bench-multi-index-large.sh [build dir, default build] [N ...]   (default N: 1e7 1e8)
#
# Queries per batch: RLHASH_BENCH_QUERIES (default here 100); repetitions (interleaved at random,
# so that each method sees the same disturbances): RLHASH_BENCH_REPETITIONS (default 3). Writes
# mi-<N>-<bits>.json into RLHASH_BENCH_OUT (default .) and ends with the docs table of the best
# repetitions (tools/bench-multi-index-summary.py).
set -euo pipefail
build=${1:-build}
shift || true
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1e7 1e8)
bench=$build/bench/bench_multi_index
[[ -x $bench ]] || { echo "$0: $bench not built (cmake --build $build --target bench_multi_index)" >&2; exit 1; }
export RLHASH_BENCH_QUERIES=${RLHASH_BENCH_QUERIES:-100}
out=${RLHASH_BENCH_OUT:-.}
mkdir -p "$out"
reports=()
available_kib=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
for n in "${sizes[@]}"; do
  for bits in 64 128; do
    # Codes, queries aside; tables: m substrings of <= log2 N bits (MultiIndex::default_substrings),
    # each N x (4-byte position + the code) plus 2^(bits/m) 4-byte offsets. One data set at a time.
    need_kib=$(awk -v n="$n" -v b="$bits" 'BEGIN {
      len = int(log(n) / log(2)); if (len > 26) len = 26; if (len < 4) len = 4;
      m = int((b + len - 1) / len); words = int((b + 63) / 64); sub_bits = int((b + m - 1) / m);
      bytes = n * words * 8 + m * n * (4 + 8 * words) + m * 2 ^ sub_bits * 4;
      printf "%d", bytes / 1024 }')
    if (( need_kib * 10 > available_kib * 8 )); then
      echo "skipped N=$n bits=$bits: needs ~$((need_kib / 1024)) MiB, $((available_kib / 1024)) MiB available"
      continue
    fi
    echo "N=$n bits=$bits: ~$((need_kib / 1024)) MiB of codes and tables"
    report=$out/mi-$n-$bits.json
    RLHASH_BENCH_N=$n RLHASH_BENCH_BITS=$bits "$bench" --benchmark_counters_tabular=true \
      --benchmark_repetitions="${RLHASH_BENCH_REPETITIONS:-3}" --benchmark_enable_random_interleaving=true \
      --benchmark_out="$report" --benchmark_out_format=json
    reports+=("$report")
  done
done
[[ ${#reports[@]} -eq 0 ]] || python3 "$(dirname "$0")/bench-multi-index-summary.py" "${reports[@]}"
