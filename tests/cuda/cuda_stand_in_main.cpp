// Main of test_cuda_stand_in: the CUDA backend's GPU tests against the checking stand-in for the
// CUDA runtime and cuBLAS (cuda_stand_in.cpp). Fails when a test fails or when the backend
// broke a rule of the API anywhere, also behind a status it ignored (a destructor's free).
#include <cstdio>

#include "catch_runner.hpp"
#include "cuda_stand_in.hpp"

int main(int argc, char** argv) {
  const int result = rlhash::test::run_catch(argc, argv);
  const int violations = rlhash::test::cuda_stand_in_violations();
  if (violations > 0) std::fprintf(stderr, "CUDA stand-in: %d rule violations\n", violations);
  return result != 0 ? result : (violations > 0 ? 1 : 0);
}
