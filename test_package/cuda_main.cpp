// Links the rlhash::cuda component (CUDA runtime and cuBLAS from the system toolkit).
#include <cstdio>
#include <rlhash/cuda/memory.hpp>
#include <rlhash/version.hpp>

int main() {
  std::printf("rlhash %s: %d CUDA device(s)\n", RLHASH_VERSION_STRING, rlhash::cuda::device_count());
  return 0;
}
