#!/usr/bin/env bash
# Builds the authors' multi-index hashing (https://github.com/norouzi/mih) beside rlhash, from a
# checkout given by path, with tools/norouzi_mih_main.cpp as its driver (no HDF5 needed: the
# driver reads the .npy files of tools/bench-multi-index.py). Nothing is copied into rlhash.
#
#   tools/build-norouzi-mih.sh <mih checkout> [output binary, default build/norouzi_mih]
#
# Flags: the project's own (-O2 -DSINGLE_CORE -DNDEBUG) plus -march=native, so that its
# __builtin_popcountll compiles to the popcnt instruction as rlhash's kernels do.
set -euo pipefail
src=${1:?usage: $0 <mih checkout> [output]}
out=${2:-build/norouzi_mih}
here=$(cd "$(dirname "$0")" && pwd)
for f in src/mihasher.cpp src/sparse_hashtable.cpp src/bucket_group.cpp src/array32.cpp src/linscan.cpp include/mihasher.h; do
  [[ -f $src/$f ]] || { echo "$0: $src/$f missing: not a norouzi/mih checkout" >&2; exit 1; }
done
mkdir -p "$(dirname "$out")"
${CXX:-g++} -O2 -march=native -DSINGLE_CORE -DNDEBUG -w -I "$src/include" "$here/norouzi_mih_main.cpp" \
  "$src/src/mihasher.cpp" "$src/src/sparse_hashtable.cpp" "$src/src/bucket_group.cpp" "$src/src/array32.cpp" \
  "$src/src/linscan.cpp" -o "$out"
echo "$out"
