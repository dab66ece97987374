// The program's one .cu file: the CUDA backend's kernels and the GPU index's member functions,
// compiled by nvcc. Every other file of the program is plain C++.
#include <rlhash/cuda/backend_kernels.cuh>
#include <rlhash/cuda/gpu_hamming_index.cuh>
