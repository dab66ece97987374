// The tool's CUDA paths (see cuda_paths.hpp). With CUDA this file instantiates the RL methods on
// cuda::CudaBackend -- a minute of compile time, hence outside the CLI's unity file; the kernels
// themselves are compiled by nvcc in cuda_kernels.cu.
#include "cuda_paths.hpp"

#include "rlhash/core/error.hpp"

#ifdef RLHASH_HAS_CUDA
#include <cuda_runtime_api.h>

#include <utility>

#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/gpu_hamming_index.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/fit_via.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#endif

namespace rlhash::cli {

#ifdef RLHASH_HAS_CUDA

std::string use_cuda_device(const DeviceChoice& device) {
  const int count = cuda::device_count();
  if (count == 0) throw InvalidArgument("--device " + device.text + ": no CUDA device is available on this machine");
  if (device.index >= count)
    throw InvalidArgument("--device " + device.text + ": this machine has " + std::to_string(count) +
                          " CUDA device(s), numbered from 0");
  RLHASH_CUDA_CHECK(cudaSetDevice(device.index));
  cudaDeviceProp properties{};
  RLHASH_CUDA_CHECK(cudaGetDeviceProperties(&properties, device.index));
  return "CUDA device " + std::to_string(device.index) + " (" + properties.name + ")";
}

bool fit_on_cuda(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                 const FitOptions& options) {
  using cuda::CudaBackend;
  using Fit = void (*)(AnyHasher&, const Eigen::Ref<const MatrixF>&, const Labels&, const FitOptions&);
  static const std::pair<const char*, Fit> device_trainers[] = {
      {DrlihOn<CudaBackend>::method_name, &fit_via<DrlihOn<CudaBackend>>},
      {DrlihOn<CudaBackend, DrlihNgVariant>::method_name, &fit_via<DrlihOn<CudaBackend, DrlihNgVariant>>},
      {FcTripletOn<CudaBackend>::method_name, &fit_via<FcTripletOn<CudaBackend>>},
      {DrlhOn<CudaBackend>::method_name, &fit_via<DrlhOn<CudaBackend>>},
      {PolicyHashingOn<CudaBackend>::method_name, &fit_via<PolicyHashingOn<CudaBackend>>},
      {BchClassifierOn<CudaBackend>::method_name, &fit_via<BchClassifierOn<CudaBackend>>},
  };
  for (const auto& [method, fit] : device_trainers)
    if (hasher.method() == method) {
      fit(hasher, features, labels, options);
      return true;
    }
  return false;
}

KnnResult knn_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, Index k, int device) {
  return cuda::GpuHammingIndex(database, {}, device).knn(queries, k);
}

RangeResult range_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, int radius, int device) {
  return cuda::GpuHammingIndex(database, {}, device).range(queries, radius);
}

#else

std::string use_cuda_device(const DeviceChoice& device) {
  throw InvalidArgument("--device " + device.text +
                        ": this rlhash was built without CUDA (configure with -DRLHASH_WITH_CUDA=ON)");
}

// Unreachable without a CUDA device: use_cuda_device refused it first.
bool fit_on_cuda(AnyHasher&, const Eigen::Ref<const MatrixF>&, const Labels&, const FitOptions&) {
  throw StateError("fit_on_cuda: this rlhash was built without CUDA");
}
KnnResult knn_on_cuda(const BinaryCodes&, const BinaryCodes&, Index, int) {
  throw StateError("knn_on_cuda: this rlhash was built without CUDA");
}
RangeResult range_on_cuda(const BinaryCodes&, const BinaryCodes&, int, int) {
  throw StateError("range_on_cuda: this rlhash was built without CUDA");
}

#endif

}  // namespace rlhash::cli
