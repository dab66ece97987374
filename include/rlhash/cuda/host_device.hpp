#pragma once
/// \file
/// RLHASH_HD marks a function that both the CUDA kernels (nvcc: __host__ __device__) and plain
/// host C++ compile, so the host test suite checks the very code the kernels run.
#if defined(__CUDACC__)
#define RLHASH_HD __host__ __device__
#else
#define RLHASH_HD
#endif
