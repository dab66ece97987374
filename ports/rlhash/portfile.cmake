# rlhash's vcpkg port, kept in the repository as an overlay port: it packages the checkout it sits
# in (<checkout>/ports/rlhash -> <checkout>), so it must stay at that place.
#   classic mode:  vcpkg install rlhash --overlay-ports=<checkout>/ports
#   manifest mode: "overlay-ports": ["<checkout>/ports"] in vcpkg-configuration.json
# vcpkg hashes the port's own files, not the checkout: after changing the sources, run
# `vcpkg remove rlhash` and install again with `--binarysource=clear`.
# A port for a registry changes one statement, the next one: instead of the checkout it fetches a
# release, `vcpkg_from_github(OUT_SOURCE_PATH SOURCE_PATH REPO <owner>/rlhash REF "v${VERSION}"
# SHA512 <archive hash>)` (and drops the check below it).
get_filename_component(SOURCE_PATH "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
if(NOT EXISTS "${SOURCE_PATH}/include/rlhash/version.hpp")
  message(FATAL_ERROR "rlhash overlay port: no rlhash sources at ${SOURCE_PATH}; "
                      "the port must stay in <rlhash checkout>/ports/rlhash")
endif()

# Header-only: the configurations do not differ, so only one is installed.
set(VCPKG_BUILD_TYPE release)

vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
  FEATURES
    zlib RLHASH_WITH_ZLIB
    cuda RLHASH_WITH_CUDA
)

vcpkg_cmake_configure(
  SOURCE_PATH "${SOURCE_PATH}"
  OPTIONS
    ${FEATURE_OPTIONS}
    -DRLHASH_BUILD_TESTS=OFF
    -DRLHASH_BUILD_BENCHMARKS=OFF
    -DRLHASH_BUILD_EXAMPLES=OFF
    -DRLHASH_BUILD_APPS=OFF
    -DRLHASH_BUILD_DOCS=OFF
    -DRLHASH_INSTALL_CMAKEDIR=share/rlhash
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup(PACKAGE_NAME rlhash CONFIG_PATH share/rlhash)
vcpkg_fixup_pkgconfig()

# With the cuda feature the package exports rlhash::cuda, defined from the toolkit's libraries
# (find_package(CUDAToolkit)); installing needs no CUDA compiler. The package's config loads the
# component when the consumer's machine has the CUDA toolkit.

# Nothing to link: no debug tree and no lib/; the license is share/rlhash/copyright.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/debug" "${CURRENT_PACKAGES_DIR}/lib" "${CURRENT_PACKAGES_DIR}/share/doc")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
