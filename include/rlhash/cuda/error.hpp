#pragma once
/// \file
/// Errors of the CUDA component: every failing CUDA runtime or cuBLAS call becomes a
/// rlhash::CudaError whose message names the call, the source location and the library's own
/// error name and text. Host code only; usable from .cpp files compiled by the C++ compiler
/// (link CUDA::cudart / CUDA::cublas, which the rlhash::cuda target does).
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>
#include <utility>

#include "rlhash/core/error.hpp"

namespace rlhash {

/// A CUDA runtime or cuBLAS call failed. `call()` is the failing expression as written.
class CudaError : public Error {
 public:
  CudaError(const std::string& message, std::string call) : Error(message), call_(std::move(call)) {}
  const std::string& call() const { return call_; }

 private:
  std::string call_;
};

namespace cuda {

/// cuBLAS has no cublasGetStatusString before 11.4; this one covers the statuses it documents.
inline const char* cublas_status_name(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS:
      return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED:
      return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED:
      return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE:
      return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH:
      return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR:
      return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED:
      return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR:
      return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED:
      return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR:
      return "CUBLAS_STATUS_LICENSE_ERROR";
    default:
      return "unknown cuBLAS status";
  }
}

namespace detail {

inline std::string where(const char* file, int line) {
  return std::string(file) + ":" + std::to_string(line);
}

/// Throws CudaError unless `status` is cudaSuccess. Clears the runtime's sticky "last error"
/// for non-sticky failures so that a caught error does not resurface in the next call.
inline void check(cudaError_t status, const char* call, const char* file, int line) {
  if (status == cudaSuccess) return;
  (void)cudaGetLastError();
  throw CudaError(std::string(call) + " failed at " + where(file, line) + ": " + cudaGetErrorName(status) +
                      " (" + cudaGetErrorString(status) + ")",
                  call);
}

/// Throws CudaError unless `status` is CUBLAS_STATUS_SUCCESS.
inline void check(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw CudaError(std::string(call) + " failed at " + where(file, line) + ": " + cublas_status_name(status) +
                      " (status " + std::to_string(static_cast<int>(status)) + ")",
                  call);
}

}  // namespace detail
}  // namespace cuda
}  // namespace rlhash

/// Checks a cudaError_t or cublasStatus_t expression; throws rlhash::CudaError naming it.
#define RLHASH_CUDA_CHECK(call) ::rlhash::cuda::detail::check((call), #call, __FILE__, __LINE__)
/// Checks that the last kernel launch was accepted (bad configuration, missing kernel image).
#define RLHASH_CUDA_CHECK_LAUNCH(what) \
  ::rlhash::cuda::detail::check(cudaGetLastError(), "launch of " what, __FILE__, __LINE__)
