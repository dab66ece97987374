#!/usr/bin/env bash
# The main job: installs what is missing, builds the rlhash tool, and evaluates the key methods on
# Fashion-MNIST (Debian's dataset-fashion-mnist) at 32 bits — DRLIH against SDH, ITQ and LSH —
# printing the retrieval table.
# Extra arguments go to `rlhash eval`, e.g. `--bits 12,24,32,48`; RLHASH_MAIN_METHODS=all for the paper-style
# table (hours on 2 cores), or `--json results.json`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DRLHASH_BUILD_TESTS=OFF -DRLHASH_BUILD_BENCHMARKS=OFF \
  -DRLHASH_BUILD_EXAMPLES=OFF >/dev/null
cmake --build build-release -j2 --target rlhash_cli
methods=${RLHASH_MAIN_METHODS:-drlih,sdh,itq,lsh}
./build-release/apps/rlhash/rlhash eval --dataset fashion-mnist --method "$methods" --bits 32 "$@"
