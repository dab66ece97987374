# Finds rlhash's dependencies as Debian (or Conan/vcpkg) installs them. Used by the build and by
# the installed rlhashConfig.cmake, so consumers get the same fixes.
include(CMakeFindDependencyMacro)

find_dependency(Eigen3 3.4 NO_MODULE)
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
