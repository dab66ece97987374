#pragma once
/// \file
/// An owned cuBLAS handle bound to a stream. Plain C++: any translation unit may include it.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "rlhash/cuda/error.hpp"

namespace rlhash::cuda {

/// A cuBLAS handle on `stream` (the legacy default stream unless given). TF32 tensor-core math
/// is never enabled (CUBLAS_DEFAULT_MATH), so products keep full float precision.
class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream = nullptr) {
    RLHASH_CUDA_CHECK(cublasCreate(&handle_));
    try {
      RLHASH_CUDA_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
      RLHASH_CUDA_CHECK(cublasSetStream(handle_, stream));
    } catch (...) {
      (void)cublasDestroy(handle_);
      throw;
    }
    stream_ = stream;
  }
  ~CublasHandle() {
    // The status is ignored: a destructor must not throw, and at process exit the CUDA
    // context may already be gone.
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }
  cudaStream_t stream() const { return stream_; }
  void synchronize() const { RLHASH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cublasHandle_t handle_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace rlhash::cuda
