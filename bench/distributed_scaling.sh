#!/usr/bin/env bash
# Sharded search and distributed encoding at 1 and 2 MPI ranks against the single-process tool
# (docs/distributed.md). Each figure is the best of REPEATS runs, as the tool reports it: search
# and encode time inside the job (after the data are read), plus the wall time of the whole command.
#   bench/distributed_scaling.sh BUILD_DIR [DATABASE_CODES] [QUERIES] [REPEATS]
# Needs /usr/bin/python3 with numpy to write the random data.
set -euo pipefail
build=${1:?usage: bench/distributed_scaling.sh BUILD_DIR [DATABASE_CODES] [QUERIES] [REPEATS]}
n=${2:-4000000}
q=${3:-2000}
repeats=${4:-3}
rlhash=$(realpath "$build/apps/rlhash/rlhash")
# shellcheck source=bench/mpi_launcher.sh
source "$(dirname "${BASH_SOURCE[0]}")/mpi_launcher.sh"

/usr/bin/python3 - "$work" "$n" "$q" <<'PY'
import sys, numpy as np
work, n, q = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
np.save(f"{work}/db.npy", rng.integers(0, 256, size=(n, 16), dtype=np.uint8))     # 128-bit codes
np.save(f"{work}/q.npy", rng.integers(0, 256, size=(q, 16), dtype=np.uint8))
x = rng.standard_normal((200000, 128), dtype=np.float32)
np.save(f"{work}/x.npy", x)
np.save(f"{work}/y.npy", (np.arange(200000) % 10).astype(np.int32))
PY
"$rlhash" train --method lsh --bits 128 --features "$work/x.npy" --labels "$work/y.npy" \
  --queries-per-class 10 --train-per-class 100 --val-per-class 10 --out "$work/lsh.rlh" >/dev/null

best() {  # best <label> <command...>: the best in-job seconds and wall seconds over the repeats
  local label=$1 best_job="" best_wall=""
  shift
  for _ in $(seq "$repeats"); do
    local start end out job wall
    start=$(date +%s.%N)
    out=$("$@" 2>&1)
    end=$(date +%s.%N)
    job=$(grep -oE 'in [0-9.]+ s' <<<"$out" | head -1 | grep -oE '[0-9.]+')
    wall=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    best_job=$(awk -v a="$job" -v b="${best_job:-$job}" 'BEGIN { print (a < b ? a : b) }')
    best_wall=$(awk -v a="$wall" -v b="${best_wall:-$wall}" 'BEGIN { print (a < b ? a : b) }')
  done
  printf '%-44s %10s s %10s s\n' "$label" "$best_job" "$best_wall"
}

search=(search --database-codes "$work/db.npy" --query-codes "$work/q.npy" --bits 128 --k 10
        --indices "$work/i.npy" --distances "$work/d.npy")
encode=(encode --model "$work/lsh.rlh" --features "$work/x.npy" --codes "$work/c.npy")
echo "database $n codes of 128 bits, $q queries, k = 10; encode 200000 x 128 floats with LSH-128"
printf '%-44s %12s %12s\n' "run" "in job" "wall"
best "search, 1 process, 1 thread" "$rlhash" "${search[@]}" --threads 1
best "search, 1 process, 2 threads" "$rlhash" "${search[@]}" --threads 2
best "search --distributed, 1 rank x 1 thread" "${mpirun[@]}" -np 1 "$rlhash" "${search[@]}" --threads 1 --distributed
best "search --distributed, 2 ranks x 1 thread" "${mpirun[@]}" -np 2 "$rlhash" "${search[@]}" --threads 1 --distributed
best "encode, 1 process, 1 thread" "$rlhash" "${encode[@]}" --threads 1
best "encode --distributed, 1 rank x 1 thread" "${mpirun[@]}" -np 1 "$rlhash" "${encode[@]}" --threads 1 --distributed
best "encode --distributed, 2 ranks x 1 thread" "${mpirun[@]}" -np 2 "$rlhash" "${encode[@]}" --threads 1 --distributed
