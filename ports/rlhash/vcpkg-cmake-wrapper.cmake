# Installed by the port's `cuda` feature; vcpkg's toolchain runs it in place of
# find_package(rlhash ...). rlhash's CMake package does not export the CUDA component, so it is
# defined here over the system's CUDA toolkit: the CUDA runtime and cuBLAS.
_find_package(${ARGS})
if(rlhash_FOUND AND NOT TARGET rlhash::cuda)
  find_package(CUDAToolkit)
  if(CUDAToolkit_FOUND)
    add_library(rlhash::cuda INTERFACE IMPORTED)
    set_target_properties(rlhash::cuda PROPERTIES
      INTERFACE_LINK_LIBRARIES "rlhash::rlhash;CUDA::cudart;CUDA::cublas"
      INTERFACE_COMPILE_DEFINITIONS "RLHASH_HAS_CUDA=1")
  else()
    message(WARNING "rlhash: the CUDA toolkit was not found, so rlhash::cuda is not available")
  endif()
endif()
