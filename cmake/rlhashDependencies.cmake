# Finds rlhash's dependencies as Debian (or Conan/vcpkg) installs them. Used by the build and by
# the installed rlhashConfig.cmake, so consumers get the same fixes.
include(CMakeFindDependencyMacro)

# Eigen 3.4 through 5.x. No version in the call: Eigen's version file (SameMajorVersion) would
# reject 5.x for a requested 3.4, and Debian's 3.4.0 rejects version ranges. Without a version,
# CMake takes the first Eigen3 in its search order (CMAKE_PREFIX_PATH first), then the minimum is
# checked here.
find_dependency(Eigen3 NO_MODULE)
if(Eigen3_FOUND AND DEFINED Eigen3_VERSION AND Eigen3_VERSION VERSION_LESS 3.4)
  set(_rlhash_eigen_message "rlhash needs Eigen 3.4 or newer; found ${Eigen3_VERSION} at ${Eigen3_DIR}")
  if(CMAKE_FIND_PACKAGE_NAME)  # inside find_package(rlhash): fail that call, not the project
    set(${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE "${_rlhash_eigen_message}")
    set(${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)
    return()
  endif()
  message(FATAL_ERROR "${_rlhash_eigen_message}")
endif()
find_dependency(xsimd)
find_dependency(Threads)

# Debian's xsimd 8.1 exports a target whose INTERFACE_LINK_LIBRARIES names a bare `xtl` that no
# package provides, so every link fails with -lxtl. xsimd itself needs nothing from xtl, so give
# the name a harmless empty target when nobody else defined one.
if(TARGET xsimd AND NOT TARGET xtl)
  get_target_property(_rlhash_xsimd_links xsimd INTERFACE_LINK_LIBRARIES)
  if(_rlhash_xsimd_links MATCHES "(^|;)xtl(;|$)")
    add_library(xtl INTERFACE IMPORTED)
  endif()
endif()

if(RLHASH_WITH_ZLIB)
  find_dependency(ZLIB)
endif()
