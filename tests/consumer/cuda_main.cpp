// Links the installed rlhash::cuda component (CUDA runtime and cuBLAS) from plain C++.
#include <cstdio>
#include <rlhash/cuda/memory.hpp>
#include <rlhash/version.hpp>

int main() {
  std::printf("rlhash %s with CUDA: %d device(s)\n", RLHASH_VERSION_STRING, rlhash::cuda::device_count());
  return 0;
}
