cmake_minimum_required(VERSION 3.25)
# cmake -DPORT=rlhash -DFEATURES=... -DCURRENT_PACKAGES_DIR=... -DCURRENT_BUILDTREES_DIR=...
#       -DPORTFILE=<checkout>/ports/rlhash/portfile.cmake -P run_port.cmake
# Runs the port's portfile with the stand-in helpers, as `vcpkg install` would.
include("${CMAKE_CURRENT_LIST_DIR}/vcpkg_helpers.cmake")
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}" "${CURRENT_BUILDTREES_DIR}")
# The portfile's CMAKE_CURRENT_LIST_DIR must be the port's folder, as under vcpkg.
include("${PORTFILE}")
