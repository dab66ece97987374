// The one .cu file of bench_cuda_training: the CUDA backend's kernels and launchers
// (rlhash/cuda/backend.hpp); the benchmark itself is plain C++.
#include "rlhash/cuda/backend_kernels.cuh"
