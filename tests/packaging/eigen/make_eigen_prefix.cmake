# cmake -DPREFIX=<dir> -DEIGEN_VERSION=<x.y.z> -DHEADERS=<dir> -P make_eigen_prefix.cmake
# Writes a stand-in Eigen3 CMake package into PREFIX/share/eigen3/cmake, shaped like the one Eigen
# installs at that version: package Eigen3, target Eigen3::Eigen over HEADERS, and a version file
# that accepts a single requested version only when its given components match (Eigen 5.x's
# Eigen3ConfigVersion.cmake: a request for 3.4 means 3.4.x, so 5.0.1 fails it). Used by
# tools/ci-eigen-versions.sh to test how rlhash finds Eigen 3.4 through 5.x.
cmake_minimum_required(VERSION 3.25)
include(CMakePackageConfigHelpers)
set(dir "${PREFIX}/share/eigen3/cmake")
file(MAKE_DIRECTORY "${dir}")
file(WRITE "${dir}/Eigen3Config.cmake" "\
# Stand-in for Eigen ${EIGEN_VERSION}'s package config (headers: ${HEADERS}).
if(NOT TARGET Eigen3::Eigen)
  add_library(Eigen3::Eigen INTERFACE IMPORTED)
  set_target_properties(Eigen3::Eigen PROPERTIES INTERFACE_INCLUDE_DIRECTORIES \"${HEADERS}\")
endif()
set(EIGEN3_VERSION_STRING \"${EIGEN_VERSION}\")
")
write_basic_package_version_file("${dir}/Eigen3ConfigVersion.cmake" VERSION "${EIGEN_VERSION}"
  COMPATIBILITY SameMinorVersion ARCH_INDEPENDENT)
