#!/usr/bin/env bash
# Packaging and documentation checks, for CI:
#   recipes   conanfile.py, test_package/ and the vcpkg port declare what they should, with the
#             version of include/rlhash/version.hpp (no Conan or vcpkg client is needed);
#   install   the CMake install in the plain layout (lib/cmake/rlhash, from the given build dir)
#             and in vcpkg's layout (share/rlhash), each used by tests/consumer in a build of its
#             own (and the exported rlhash::cuda when the build has CUDA), plus pkg-config;
#   docs      the Doxygen API reference, with any warning an error;
#   snippets  every ```cpp block of README.md and docs/ compiles (tools/check-doc-snippets.py);
#   conan     the Conan 2 client on the recipe, offline (tools/ci-conan.sh);
#   vcpkg     the port through a stand-in of vcpkg's helpers, no nvcc (tools/ci-vcpkg-port.sh);
#   eigen     Eigen 3.4 through 5.x: a 5.x-shaped package is taken, 3.3 refused (tools/ci-eigen-versions.sh);
#   aarch64   the xsimd kernels cross-built for 64-bit ARM, tested under qemu-user (tools/ci-aarch64.sh).
# Usage: bash tools/ci-packaging.sh [build-dir]
#   build-dir: a configured build of the project (default: build, as tools/run-tests.sh leaves it).
# Scratch files go to build-pkg-ci/, recreated on every run.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
work=build-pkg-ci
jobs=${RLHASH_PACKAGING_JOBS:-2}  # compilations at once

[ -f "$build/CMakeCache.txt" ] || { echo "ci-packaging: $build is not a configured build directory" >&2; exit 1; }
version=$(sed -n 's/^#define RLHASH_VERSION_STRING "\(.*\)"$/\1/p' include/rlhash/version.hpp)
[ -n "$version" ] || { echo "ci-packaging: no RLHASH_VERSION_STRING in include/rlhash/version.hpp" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"

part() {  # part <name> <command...>: runs one part and prints its time
  local name=$1 start=$SECONDS
  shift
  echo "--- packaging: $name"
  "$@"
  echo "--- packaging: $name took $((SECONDS - start))s"
}

# ---- recipes ----------------------------------------------------------------------------------
recipes() {
  /usr/bin/python3 - "$version" <<'PY'
"""Checks the Conan recipe and the vcpkg port without their clients: the recipe is parsed with
ast (nothing is imported), the manifest with json."""
import ast
import json
import re
import sys

version = sys.argv[1]
problems = []


def check(condition, message):
    if not condition:
        problems.append(message)


def literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def recipe_class(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
               and any(getattr(b, "id", None) == "ConanFile" for b in n.bases)]
    check(len(classes) == 1, f"{path}: expected one class deriving from ConanFile, found {len(classes)}")
    if not classes:
        return {}, {}, tree
    attributes = {t.id: s.value for s in classes[0].body if isinstance(s, ast.Assign)
                  for t in s.targets if isinstance(t, ast.Name)}
    methods = {f.name: f for f in classes[0].body if isinstance(f, ast.FunctionDef)}
    return attributes, methods, tree


def strings_in(node):
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def calls_in(node):
    """Dotted names of the calls in `node`, e.g. 'self.requires', 'self.info.clear'."""
    def dotted(f):
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            base = dotted(f.value)
            return f"{base}.{f.attr}" if base else None
        return None
    return {dotted(n.func) for n in ast.walk(node) if isinstance(n, ast.Call)} - {None}


attributes, methods, tree = recipe_class("conanfile.py")
check(literal(attributes.get("name")) == "rlhash", "conanfile.py: name must be \"rlhash\"")
check(literal(attributes.get("version")) == version,
      f"conanfile.py: version is {literal(attributes.get('version'))!r}, include/rlhash/version.hpp says {version!r}")
check(literal(attributes.get("package_type")) == "header-library", "conanfile.py: package_type must be \"header-library\"")
check(bool(literal(attributes.get("license"))), "conanfile.py: no license")
options = literal(attributes.get("options")) or {}
defaults = literal(attributes.get("default_options")) or {}
for option, default in (("with_zlib", True), ("with_cuda", False)):
    check(options.get(option) == [True, False], f"conanfile.py: option {option} must be [True, False]")
    check(defaults.get(option) is default, f"conanfile.py: {option} must default to {default}")
for method in ("layout", "requirements", "validate", "package_id", "generate", "build", "package", "package_info"):
    check(method in methods, f"conanfile.py: no {method}() method")
if "package_id" in methods:
    check("self.info.clear" in calls_in(methods["package_id"]), "conanfile.py: package_id() must call self.info.clear()")
if "requirements" in methods:
    required = [s for s in strings_in(methods["requirements"]) if "/" in s]
    for dependency in ("eigen/", "xsimd/", "zlib/"):
        check(any(r.startswith(dependency) for r in required), f"conanfile.py: requirements() does not require {dependency}")
    check(any(isinstance(n, ast.Attribute) and n.attr == "with_zlib" for n in ast.walk(methods["requirements"])),
          "conanfile.py: zlib must depend on the with_zlib option")
if "generate" in methods:
    texts = strings_in(methods["generate"])
    check("RLHASH_WITH_ZLIB" in texts and "RLHASH_WITH_CUDA" in texts and any("RLHASH_BUILD_" in t for t in texts),
          "conanfile.py: generate() must set RLHASH_WITH_ZLIB, RLHASH_WITH_CUDA and turn RLHASH_BUILD_* off")
if "package" in methods:
    check({"cmake.install"} <= calls_in(methods["package"]), "conanfile.py: package() must use the CMake install")
if "package_info" in methods:
    texts = strings_in(methods["package_info"])
    for needed in ("cmake_file_name", "rlhash", "rlhash::rlhash", "rlhash::cuda", "RLHASH_HAS_ZLIB=1", "RLHASH_HAS_CUDA=1"):
        check(needed in texts, f"conanfile.py: package_info() does not mention {needed!r}")
    check(any(isinstance(n, ast.Attribute) and n.attr == "with_cuda" for n in ast.walk(methods["package_info"])),
          "conanfile.py: the cuda component must depend on the with_cuda option")
imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("conan")
            for a in n.names}
check("ConanFile" in imported, "conanfile.py: must import ConanFile from conan")
check(not any(isinstance(n, ast.ImportFrom) and (n.module or "").startswith("conans") for n in ast.walk(tree)),
      "conanfile.py: imports from 'conans' are Conan 1 API")

_, test_methods, _ = recipe_class("test_package/conanfile.py")
for method in ("requirements", "layout", "build", "test"):
    check(method in test_methods, f"test_package/conanfile.py: no {method}() method")
if "requirements" in test_methods:
    check(any(isinstance(n, ast.Attribute) and n.attr == "tested_reference_str"
              for n in ast.walk(test_methods["requirements"])),
          "test_package/conanfile.py: requirements() must require self.tested_reference_str")

try:
    manifest = json.load(open("ports/rlhash/vcpkg.json", encoding="utf-8"))
except ValueError as e:
    manifest = {}
    problems.append(f"ports/rlhash/vcpkg.json: not JSON: {e}")
check(manifest.get("name") == "rlhash", "ports/rlhash/vcpkg.json: name must be \"rlhash\"")
manifest_version = next((manifest[k] for k in ("version", "version-semver", "version-string") if k in manifest), None)
check(manifest_version == version, f"ports/rlhash/vcpkg.json: version is {manifest_version!r}, version.hpp says {version!r}")
features = manifest.get("features", {})
check("cuda" in features, "ports/rlhash/vcpkg.json: no cuda feature")
check("zlib" in features and "zlib" in manifest.get("default-features", []),
      "ports/rlhash/vcpkg.json: zlib must be a default feature")
portfile = open("ports/rlhash/portfile.cmake", encoding="utf-8").read()
for needed in ("vcpkg_cmake_configure", "vcpkg_cmake_install", "vcpkg_cmake_config_fixup", "vcpkg_install_copyright",
               "RLHASH_INSTALL_CMAKEDIR=share/rlhash"):
    check(needed in portfile, f"ports/rlhash/portfile.cmake: does not use {needed}")

changelog = open("CHANGELOG.md", encoding="utf-8").read()
check(re.search(rf"^## \[{re.escape(version)}\]", changelog, re.M) is not None,
      f"CHANGELOG.md: no section for version {version}")

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"conanfile.py, test_package/ and ports/rlhash declare rlhash {version} as they should")
PY
}

# ---- install + consumers ----------------------------------------------------------------------
configure_consumer() {  # configure_consumer <prefix> <build-dir>
  cmake -S tests/consumer -B "$2" -DCMAKE_PREFIX_PATH="$PWD/$1" >/dev/null
  # The consumer must have found this prefix's package, not one installed elsewhere.
  local found
  found=$(sed -n 's/^rlhash_DIR:PATH=//p' "$2/CMakeCache.txt")
  case "$found" in
    "$PWD/$1"/*) echo "$2: rlhash_DIR = $found" ;;
    *) echo "$2 found rlhash in '$found', not under $1" >&2; return 1 ;;
  esac
}

install_layouts() {
  # Plain layout: the test stage's build, installed as a user would.
  cmake --install "$build" --prefix "$work/plain" >/dev/null
  ls "$work"/plain/lib*/cmake/rlhash/rlhashConfig.cmake "$work"/plain/lib*/cmake/rlhash/rlhashTargets.cmake >/dev/null

  # vcpkg's layout: configured as ports/rlhash/portfile.cmake configures it.
  cmake -S . -B "$work/vcpkg-build" -DCMAKE_INSTALL_PREFIX="$PWD/$work/vcpkg" -DRLHASH_INSTALL_CMAKEDIR=share/rlhash \
    -DRLHASH_BUILD_TESTS=OFF -DRLHASH_BUILD_BENCHMARKS=OFF -DRLHASH_BUILD_EXAMPLES=OFF -DRLHASH_BUILD_APPS=OFF \
    -DRLHASH_BUILD_DOCS=OFF -DRLHASH_WITH_CUDA=OFF >/dev/null
  cmake --install "$work/vcpkg-build" >/dev/null
  ls "$work/vcpkg/share/rlhash/rlhashConfig.cmake" "$work/vcpkg/share/rlhash/rlhashTargets.cmake" >/dev/null
  if [ -e "$work/vcpkg/lib" ]; then echo "the vcpkg layout must not have lib/ (header-only)" >&2; return 1; fi
  ls "$work/plain/include/rlhash/rlhash.hpp" "$work/vcpkg/include/rlhash/rlhash.hpp" >/dev/null

  # pkg-config: both layouts keep the .pc file in share/pkgconfig.
  local layout modversion
  for layout in plain vcpkg; do
    modversion=$(PKG_CONFIG_PATH="$PWD/$work/$layout/share/pkgconfig" pkg-config --modversion rlhash)
    [ "$modversion" = "$version" ] || { echo "pkg-config ($layout): version $modversion, expected $version" >&2; return 1; }
  done
  # The .pc file is relocatable: the plain install went to another prefix than the build was
  # configured with, and a program built with nothing but pkg-config's flags still compiles,
  # links (zlib included) and runs.
  # shellcheck disable=SC2046  # pkg-config's flags are meant to be split
  g++ tests/packaging/pc_main.cpp -o "$work/pc_main" \
    $(PKG_CONFIG_PATH="$PWD/$work/plain/share/pkgconfig" pkg-config --cflags --libs rlhash)
  "$work/pc_main"
  echo "installed $work/plain (lib/cmake/rlhash) and $work/vcpkg (share/rlhash); pkg-config reports $version"
}

consumers() {
  configure_consumer "$work/plain" "$work/consumer-plain"
  configure_consumer "$work/vcpkg" "$work/consumer-vcpkg"
  # One translation unit each: with two jobs, both build at once, one core each.
  local layout status=0
  local -a pids=()
  for layout in plain vcpkg; do
    cmake --build "$work/consumer-$layout" -j1 >"$work/consumer-$layout.log" 2>&1 &
    pids+=($!)
    if [ "$jobs" -lt 2 ]; then wait "${pids[-1]}" || status=1; fi
  done
  if [ "$jobs" -ge 2 ]; then
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  fi
  if [ "$status" -ne 0 ]; then
    cat "$work/consumer-plain.log" "$work/consumer-vcpkg.log" >&2
    return 1
  fi
  "$work/consumer-plain/rlhash_consumer"
  "$work/consumer-vcpkg/rlhash_consumer"
  # The CUDA component is exported when the installed build had it (nvcc found).
  if grep -q '^RLHASH_WITH_CUDA:BOOL=ON' "$build/CMakeCache.txt"; then
    "$work/consumer-plain/rlhash_consumer_cuda"
  else
    echo "$build was configured without CUDA: rlhash::cuda is not checked"
  fi
}

install_and_consume() {
  install_layouts
  consumers
}

# ---- docs ---------------------------------------------------------------------------------------
docs() {
  command -v doxygen >/dev/null || bash tools/install-deps.sh doxygen
  cmake -S . -B "$work/docs" -DRLHASH_BUILD_DOCS=ON -DRLHASH_DOCS_WARNINGS_AS_ERRORS=ON -DRLHASH_BUILD_TESTS=OFF \
    -DRLHASH_BUILD_BENCHMARKS=OFF -DRLHASH_BUILD_EXAMPLES=OFF -DRLHASH_BUILD_APPS=OFF -DRLHASH_WITH_CUDA=OFF >/dev/null
  cmake --build "$work/docs" --target docs
  [ -f "$work/docs/docs/html/index.html" ]
}

snippets() {
  /usr/bin/python3 tools/check-doc-snippets.py --jobs "$jobs"
}

command -v pkg-config >/dev/null || bash tools/install-deps.sh pkg-config
start=$SECONDS
part "recipes (conanfile.py, test_package, ports/rlhash)" recipes
part "install (plain and vcpkg layouts) + consumers" install_and_consume
part "docs (Doxygen, warnings are errors)" docs
part "doc snippets" snippets
part "conan create (Conan 2 client, local recipes)" bash tools/ci-conan.sh "$work/conan"
part "vcpkg port (stand-in helpers, no nvcc)" bash tools/ci-vcpkg-port.sh "$work/vcpkg-port"
part "Eigen 3.4 through 5.x (CMake package logic)" bash tools/ci-eigen-versions.sh "$work/eigen-versions"
part "xsimd kernels on aarch64 (cross build, qemu-user)" bash tools/ci-aarch64.sh "$work/aarch64"
echo "packaging checks passed in $((SECONDS - start))s"
