#!/usr/bin/env bash
# How rlhash finds Eigen, for CI: the installed package (headers only) is consumed with a
# stand-in Eigen 5.0.1 package first in CMAKE_PREFIX_PATH while Debian's Eigen 3.4.0 is on the
# system too: rlhash must take 5.0.1 (Eigen 5's version file rejects a request for 3.4, so a
# versioned find would skip it and silently take the system's 3.4). tests/consumer builds and runs
# with it (the headers stay Debian's 3.4: this checks the CMake logic, not Eigen 5's API). A
# stand-in Eigen 3.3.9 must be refused with a message naming the version; the project's own
# configure takes the 5.0.1 package as well.
# Usage: bash tools/ci-eigen-versions.sh [work-dir]   (default build-pkg-ci/eigen-versions, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-build-pkg-ci/eigen-versions}
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

headers_only=(-DRLHASH_BUILD_TESTS=OFF -DRLHASH_BUILD_BENCHMARKS=OFF -DRLHASH_BUILD_EXAMPLES=OFF
              -DRLHASH_BUILD_APPS=OFF -DRLHASH_BUILD_DOCS=OFF -DRLHASH_WITH_CUDA=OFF)
cmake -S . -B "$work/rlhash-build" -DCMAKE_INSTALL_PREFIX="$work/rlhash" "${headers_only[@]}" >/dev/null
cmake --install "$work/rlhash-build" >/dev/null
for version in 5.0.1 3.3.9; do
  cmake -DPREFIX="$work/eigen-$version" -DEIGEN_VERSION="$version" -DHEADERS=/usr/include/eigen3 \
    -P tests/packaging/eigen/make_eigen_prefix.cmake
done

found_eigen() { sed -n 's/^Eigen3_DIR:PATH=//p' "$1/CMakeCache.txt"; }

# Eigen 5.x first in the search path, Debian's 3.4.0 on the system: 5.0.1 is taken.
cmake -S tests/consumer -B "$work/consumer-5" -DCMAKE_PREFIX_PATH="$work/eigen-5.0.1;$work/rlhash" >/dev/null
[ "$(found_eigen "$work/consumer-5")" = "$work/eigen-5.0.1/share/eigen3/cmake" ] ||
  { echo "the consumer took Eigen from '$(found_eigen "$work/consumer-5")', not the 5.0.1 package" >&2; exit 1; }
cmake --build "$work/consumer-5" --target rlhash_consumer -j1 >"$work/consumer-5.log" 2>&1 ||
  { cat "$work/consumer-5.log" >&2; exit 1; }
"$work/consumer-5/rlhash_consumer" >/dev/null

# The project's own configure (nothing built) takes it too.
cmake -S . -B "$work/project-5" -DCMAKE_PREFIX_PATH="$work/eigen-5.0.1" "${headers_only[@]}" >/dev/null
[ "$(found_eigen "$work/project-5")" = "$work/eigen-5.0.1/share/eigen3/cmake" ] ||
  { echo "the project took Eigen from '$(found_eigen "$work/project-5")', not the 5.0.1 package" >&2; exit 1; }

# Eigen 3.3 is refused, by name and version.
if cmake -S tests/consumer -B "$work/consumer-3.3" -DCMAKE_PREFIX_PATH="$work/eigen-3.3.9;$work/rlhash" \
     >"$work/consumer-3.3.log" 2>&1; then
  echo "the consumer accepted Eigen 3.3.9" >&2; exit 1
fi
grep -q "rlhash needs Eigen 3.4 or newer; found 3.3.9" "$work/consumer-3.3.log" ||
  { cat "$work/consumer-3.3.log" >&2; exit 1; }
echo "Eigen: a 5.0.1 package is taken before the system's 3.4.0 (consumer built and ran), 3.3.9 is refused"
