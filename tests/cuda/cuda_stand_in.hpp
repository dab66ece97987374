#pragma once
// The checking stand-in for the CUDA runtime and cuBLAS (cuda_stand_in.cpp).

namespace rlhash::test {

/// Rules the backend broke so far (each also printed on stderr).
int cuda_stand_in_violations();

}  // namespace rlhash::test
