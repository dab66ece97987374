#!/usr/bin/env bash
# Data-parallel training at 1 and 2 MPI ranks against the single-process tool (docs/distributed.md):
# `rlhash train` of METHOD with its default network on synthetic 784-dimensional features in 10
# classes, EPOCHS epochs; each figure is the best of REPEATS runs of the training time the tool
# reports (the fit alone, per-epoch validation included), and the training throughput from it.
#   bench/distributed_training.sh BUILD_DIR [METHOD] [TRAIN_PER_CLASS] [EPOCHS] [REPEATS]
# Needs /usr/bin/python3 with numpy to write the data.
set -euo pipefail
build=${1:?usage: bench/distributed_training.sh BUILD_DIR [METHOD] [TRAIN_PER_CLASS] [EPOCHS] [REPEATS]}
method=${2:-fc-triplet}
per_class=${3:-300}
epochs=${4:-2}
repeats=${5:-3}
rlhash=$(realpath "$build/apps/rlhash/rlhash")
# shellcheck source=bench/mpi_launcher.sh
source "$(dirname "${BASH_SOURCE[0]}")/mpi_launcher.sh"

/usr/bin/python3 - "$work" "$per_class" <<'PY'
import sys, numpy as np
work, per_class = sys.argv[1], int(sys.argv[2])
n = 10 * (per_class + 20)
rng = np.random.default_rng(1)
y = (np.arange(n) % 10).astype(np.int32)
centres = rng.standard_normal((10, 784)).astype(np.float32)
np.save(f"{work}/x.npy", centres[y] + 2 * rng.standard_normal((n, 784), dtype=np.float32))
np.save(f"{work}/y.npy", y)
PY

best() {  # best <label> <command...>: the best training seconds over the repeats
  local label=$1 best_s=""
  shift
  for _ in $(seq "$repeats"); do
    local out s
    out=$("$@" 2>&1)
    s=$(grep -oE 'items in [0-9.]+ s' <<<"$out" | grep -oE '[0-9.]+ s' | grep -oE '[0-9.]+')
    best_s=$(awk -v a="$s" -v b="${best_s:-$s}" 'BEGIN { print (a < b ? a : b) }')
  done
  local items=$((10 * per_class * epochs))
  printf '%-46s %9s s %10s items/s\n' "$label" "$best_s" "$(awk -v n="$items" -v s="$best_s" 'BEGIN { printf "%.0f", n / s }')"
}

train=(train --method "$method" --bits 32 --features "$work/x.npy" --labels "$work/y.npy"
       --queries-per-class 10 --train-per-class "$per_class" --val-per-class 10
       --set "$method.epochs=$epochs" --out "$work/m.rlh")
echo "$method, 32 bits, default network, $((10 * per_class)) training items x $epochs epochs, batch 64"
printf '%-46s %11s %18s\n' "run" "training" "throughput"
best "1 process, 1 thread" "$rlhash" "${train[@]}" --threads 1
best "1 process, 2 threads" "$rlhash" "${train[@]}" --threads 2
best "train --distributed, 1 rank x 1 thread" "${mpirun[@]}" -np 1 "$rlhash" "${train[@]}" --threads 1 --distributed
best "train --distributed, 2 ranks x 1 thread" "${mpirun[@]}" -np 2 "$rlhash" "${train[@]}" --threads 1 --distributed
