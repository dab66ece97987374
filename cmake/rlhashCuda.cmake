# The optional CUDA component: rlhash::cuda adds the CUDA runtime and cuBLAS.
enable_language(CUDA)
if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "52")
  # H100/H200; `native` fails on machines without a GPU (CI).
  set(CMAKE_CUDA_ARCHITECTURES 90)
endif()
find_package(CUDAToolkit REQUIRED)
add_library(rlhash_cuda INTERFACE)
add_library(rlhash::cuda ALIAS rlhash_cuda)
target_link_libraries(rlhash_cuda INTERFACE rlhash CUDA::cudart CUDA::cublas)
target_compile_definitions(rlhash_cuda INTERFACE RLHASH_HAS_CUDA=1)
