// The one .cu file of a program using the CUDA backend: it compiles the backend's kernels and
// their launchers (see rlhash/cuda/backend.hpp); the tests themselves are plain C++.
#include "rlhash/cuda/backend_kernels.cuh"
