# A stand-in for the vcpkg CMake helpers that ports/rlhash/portfile.cmake calls, so CI can run
# the port's CMake path without vcpkg (tools/ci-vcpkg-port.sh). Each helper does what vcpkg's
# does for a header-only, release-only port: configure and install the sources into
# CURRENT_PACKAGES_DIR, and check what vcpkg's fixups would check.
# Inputs (-D): PORT, FEATURES (the enabled features, `core` first), CURRENT_PACKAGES_DIR,
# CURRENT_BUILDTREES_DIR, and optionally STAND_IN_CMAKE_ARGS (extra configure arguments).

function(vcpkg_check_features)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUT_FEATURE_OPTIONS" "FEATURES")
  set(options "")
  list(LENGTH arg_FEATURES count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET arg_FEATURES ${i} feature)
    list(GET arg_FEATURES ${j} option)
    if(feature IN_LIST FEATURES)
      list(APPEND options "-D${option}=ON")
    else()
      list(APPEND options "-D${option}=OFF")
    endif()
  endforeach()
  set(${arg_OUT_FEATURE_OPTIONS} "${options}" PARENT_SCOPE)
endfunction()

function(vcpkg_cmake_configure)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "SOURCE_PATH" "OPTIONS")
  if(NOT VCPKG_BUILD_TYPE STREQUAL "release")
    message(FATAL_ERROR "stand-in: the port should set VCPKG_BUILD_TYPE release (header-only)")
  endif()
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${arg_SOURCE_PATH}" -B "${CURRENT_BUILDTREES_DIR}/rel"
            -DCMAKE_BUILD_TYPE=Release "-DCMAKE_INSTALL_PREFIX=${CURRENT_PACKAGES_DIR}" ${arg_OPTIONS}
            ${STAND_IN_CMAKE_ARGS}
    RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "stand-in vcpkg_cmake_configure: configuring ${arg_SOURCE_PATH} failed")
  endif()
endfunction()

function(vcpkg_cmake_install)
  execute_process(COMMAND "${CMAKE_COMMAND}" --install "${CURRENT_BUILDTREES_DIR}/rel" RESULT_VARIABLE result
                  OUTPUT_QUIET)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "stand-in vcpkg_cmake_install failed")
  endif()
endfunction()

# vcpkg moves CONFIG_PATH to share/PACKAGE_NAME; the port installs it there already.
function(vcpkg_cmake_config_fixup)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "PACKAGE_NAME;CONFIG_PATH" "")
  if(NOT arg_CONFIG_PATH STREQUAL "share/${arg_PACKAGE_NAME}")
    message(FATAL_ERROR "stand-in: CONFIG_PATH ${arg_CONFIG_PATH} is not share/${arg_PACKAGE_NAME}")
  endif()
  if(NOT EXISTS "${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}/${arg_PACKAGE_NAME}Config.cmake")
    message(FATAL_ERROR "stand-in: no ${arg_PACKAGE_NAME}Config.cmake in ${CURRENT_PACKAGES_DIR}/${arg_CONFIG_PATH}")
  endif()
endfunction()

# vcpkg rewrites the .pc files' prefixes; rlhash's is relocatable (prefix from ${pcfiledir}).
function(vcpkg_fixup_pkgconfig)
  file(GLOB pc_files "${CURRENT_PACKAGES_DIR}/share/pkgconfig/*.pc" "${CURRENT_PACKAGES_DIR}/lib/pkgconfig/*.pc")
  if(NOT pc_files)
    message(FATAL_ERROR "stand-in vcpkg_fixup_pkgconfig: no .pc file installed")
  endif()
endfunction()

function(vcpkg_install_copyright)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "" "FILE_LIST")
  file(READ "${arg_FILE_LIST}" text)
  file(WRITE "${CURRENT_PACKAGES_DIR}/share/${PORT}/copyright" "${text}")
endfunction()
