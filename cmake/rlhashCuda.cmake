# The optional CUDA component: rlhash::cuda adds the CUDA runtime and cuBLAS.
#
# The component stays header-only: rlhash/cuda/*.hpp are plain C++ over the CUDA runtime and
# cuBLAS (any translation unit may include them), rlhash/cuda/*.cuh hold the kernels and the
# kernel-launching definitions and must be included from .cu files compiled by nvcc -- the
# GPU index's definitions (gpu_hamming_index.cuh) from exactly one .cu per program.
#
# The exported target needs only the toolkit's libraries (find_package(CUDAToolkit)); nvcc is
# needed only when the project compiles its own .cu files (tests, benchmarks, examples, the CLI),
# so installing the headers (Conan, the vcpkg port) works without a CUDA compiler.
if(RLHASH_BUILD_TESTS OR RLHASH_BUILD_BENCHMARKS OR RLHASH_BUILD_EXAMPLES OR RLHASH_BUILD_APPS)
  enable_language(CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES OR CMAKE_CUDA_ARCHITECTURES STREQUAL "52")
    # H100/H200; `native` fails on machines without a GPU (CI).
    set(CMAKE_CUDA_ARCHITECTURES 90)
  endif()
endif()
find_package(CUDAToolkit REQUIRED)
add_library(rlhash_cuda INTERFACE)
add_library(rlhash::cuda ALIAS rlhash_cuda)
set_target_properties(rlhash_cuda PROPERTIES EXPORT_NAME cuda)
target_link_libraries(rlhash_cuda INTERFACE rlhash CUDA::cudart CUDA::cublas)
target_compile_definitions(rlhash_cuda INTERFACE RLHASH_HAS_CUDA=1)
get_property(_rlhash_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if(CUDA IN_LIST _rlhash_languages)
  target_compile_features(rlhash_cuda INTERFACE cuda_std_17)
endif()

# Options for the project's own CUDA targets (tests, benches): nvcc's front end warns about
# Eigen 3.4's defaulted __host__ __device__ members (diagnostic 20012) and its constexpr
# std::complex helpers (20015); those are Eigen's, not ours. Host-compiler warnings stay on for the host parts of .cu files.
function(rlhash_cuda_target_options target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-diag-suppress=20012,20015 -Xcompiler=-Wall,-Wextra>)
endfunction()
