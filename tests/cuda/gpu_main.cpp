// Main of the GPU test executables: checks for a CUDA device first and returns 77 (registered
// as SKIP_RETURN_CODE with ctest) when there is none, so a machine without a GPU reports the
// tests as skipped, never as passed or failed. Catch2 v2 has no SKIP, hence this main.
#include <cstdio>

#include "catch_runner.hpp"
#include "rlhash/cuda/memory.hpp"

int main(int argc, char** argv) {
  if (rlhash::cuda::device_count() == 0) {
    std::fprintf(stderr, "no CUDA device: skipping the GPU tests (exit code 77)\n");
    return 77;
  }
  return rlhash::test::run_catch(argc, argv);
}
