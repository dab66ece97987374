#!/usr/bin/env bash
# The Conan 2 client on conanfile.py, offline, for CI:
#   - Conan 2 from PyPI in a virtual environment (kept in build-conan-venv/ between runs);
#   - a fresh Conan home with the ConanCenter remote disabled;
#   - eigen/xsimd/zlib resolved to local recipes under tests/packaging/conan/ that take Debian's
#     packages: first debian/ (Conan's default names), then conancenter/ (eigen/3.4.0 exposing
#     Eigen3::Eigen, zlib as ZLIB::ZLIB, ... as ConanCenter names them);
#   - `conan create` with test_package/ for the default options, with_cuda=True (the consumer
#     builds and links the CUDA runtime and cuBLAS; no GPU is needed) and with_zlib=False, and
#     the default options again over the ConanCenter-shaped recipes;
#   - the pkg-config files PkgConfigDeps writes for the package: a program builds with them, the
#     CUDA component links -lcudart -lcublas, no -L names a folder the package lacks; the CMake
#     version file accepts 0.1 and refuses 0.0 (SameMinorVersion).
# Usage: bash tools/ci-conan.sh [work-dir]   (default build-pkg-ci/conan, recreated)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-build-pkg-ci/conan}
venv=build-conan-venv
version=$(sed -n 's/^#define RLHASH_VERSION_STRING "\(.*\)"$/\1/p' include/rlhash/version.hpp)
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

if [ ! -x "$venv/bin/conan" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "conan>=2.0,<3"
fi
conan() { "$PWD/$venv/bin/conan" "$@"; }
conan --version

# A Conan home of its own; the remote stays configured but disabled, so nothing is downloaded.
export CONAN_HOME="$work/home"
conan profile detect --force >/dev/null
conan remote disable conancenter >/dev/null
jobs=(-c tools.build:jobs=2)
# test_package/ is copied so that its build folder stays out of the checkout.
cp -r test_package "$work/test_package"

export_debian() {
  conan export tests/packaging/conan/debian --name eigen --version 3.4.0
  conan export tests/packaging/conan/debian --name xsimd --version 13.0.0
  conan export tests/packaging/conan/debian --name zlib --version 1.2.13
}

create() {  # create <label> <conan create options...>
  local label=$1 start=$SECONDS
  shift
  echo "--- conan create ($label)"
  conan create . --build=missing -tf "$work/test_package" "${jobs[@]}" "$@" >"$work/create-$label.log" 2>&1 ||
    { tail -n 60 "$work/create-$label.log" >&2; return 1; }
  grep -E "rlhash [0-9.]+: |CUDA device" "$work/create-$label.log" | tail -n 2
  echo "--- conan create ($label) took $((SECONDS - start))s"
}

pkgconfig_files() {
  # The files a pkg-config user gets, with the CUDA component declared.
  conan install --requires="rlhash/$version" -o "rlhash/*:with_cuda=True" -g PkgConfigDeps -g CMakeDeps \
    --output-folder "$work/generated" >"$work/install.log" 2>&1 || { tail -n 40 "$work/install.log" >&2; return 1; }
  local pc=$work/generated
  grep -q -- "-lcudart" "$pc/rlhash-cuda.pc" && grep -q -- "-lcublas" "$pc/rlhash-cuda.pc" ||
    { echo "rlhash-cuda.pc does not link -lcudart -lcublas:" >&2; cat "$pc/rlhash-cuda.pc" >&2; return 1; }
  local dir
  for dir in $(PKG_CONFIG_PATH="$pc" pkg-config --libs-only-L rlhash-all rlhash rlhash-cuda | tr ' ' '\n' | sed -n 's/^-L//p'); do
    [ -d "$dir" ] || { echo "pkg-config names -L$dir, which does not exist" >&2; return 1; }
  done
  # shellcheck disable=SC2046  # pkg-config's flags are meant to be split
  g++ -std=c++17 tests/packaging/pc_main.cpp -o "$work/pc_main" $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs rlhash)
  "$work/pc_main"
  # SameMinorVersion, as the project's own rlhashConfigVersion.cmake: a request for an older minor
  # version of the same major one is refused (SameMajorVersion, Conan's default, would accept it).
  local minor=${version%.*} older_minor
  [ "${minor#*.}" -gt 0 ] || { echo "version $version: no older minor version to check against" >&2; return 1; }
  older_minor="${version%%.*}.$(( ${minor#*.} - 1 ))"
  for request in "$minor" "$older_minor"; do
    cmake -DPACKAGE_FIND_VERSION="$request" -DPACKAGE_FIND_VERSION_MAJOR="${request%%.*}" \
      -DPACKAGE_FIND_VERSION_MINOR="${request#*.}" -DPACKAGE_FIND_VERSION_PATCH=0 -DPACKAGE_FIND_VERSION_COUNT=2 \
      -DVERSION_FILE="$pc/rlhash-config-version.cmake" -P tests/packaging/check_version_file.cmake >>"$work/version.log" 2>&1
  done
  grep -qx "rlhash-config-version.cmake: $minor compatible" "$work/version.log" &&
    grep -qx "rlhash-config-version.cmake: $older_minor not compatible" "$work/version.log" ||
    { echo "Conan's rlhash-config-version.cmake is not SameMinorVersion:" >&2; cat "$work/version.log" >&2; return 1; }
  echo "pkg-config files and the CMake version file from Conan's generators are as they should be"
}

export_debian >/dev/null
create default
create cuda -o "rlhash/*:with_cuda=True"
create no-zlib -o "rlhash/*:with_zlib=False"
pkgconfig_files

# Again over recipes named and shaped like ConanCenter's (a cache of their own).
conan remove "*" -c >/dev/null
for dep in eigen xsimd zlib; do conan export "tests/packaging/conan/conancenter/$dep" >/dev/null; done
create conancenter
# The project's build inside `conan create` and the test package found the ConanCenter-shaped
# packages (CMakeDeps announces each target it declares).
for target in Eigen3::Eigen xsimd ZLIB::ZLIB; do
  grep -q "Conan: .*[Tt]arget declared '$target'" "$work/create-conancenter.log" ||
    { echo "no CMake target $target from the ConanCenter-shaped packages" >&2; exit 1; }
done
echo "conan create passed: default, with_cuda=True, with_zlib=False; ConanCenter-shaped dependencies"
