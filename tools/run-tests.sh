#!/usr/bin/env bash
# The test command: installs what is missing, configures, builds (warnings are errors) and runs
# the whole test suite with ctest. Usage: bash tools/run-tests.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash tools/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRLHASH_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure -j2
