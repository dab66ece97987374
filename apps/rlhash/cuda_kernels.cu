// The tool's one .cu file: nvcc compiles the CUDA backend's kernels and the GPU Hamming index's
// member functions here; everything that uses them (cuda_paths.cpp) is plain C++.
#include "rlhash/cuda/backend_kernels.cuh"
#include "rlhash/cuda/gpu_hamming_index.cuh"
