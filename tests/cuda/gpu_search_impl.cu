// The one .cu file of the test program: it compiles GpuHammingIndex's kernels and member
// functions (see gpu_hamming_index.hpp); the tests themselves are plain C++.
#include "rlhash/cuda/gpu_hamming_index.cuh"
