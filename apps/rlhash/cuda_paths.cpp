// The tool's CUDA module, rlhash-cuda.so (see cuda_paths.hpp): built only with CUDA, loaded by
// the tool at run time. It instantiates the methods with networks on cuda::CudaBackend; the
// kernels themselves are compiled by nvcc in cuda_kernels.cu.
#include "cuda_paths.hpp"

#include "rlhash/core/error.hpp"

#include <cuda_runtime_api.h>

#include <utility>

#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/gpu_hamming_index.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/methods/via_backend.hpp"

namespace rlhash::cli::cuda_module {

std::string use_cuda_device(const DeviceChoice& device) {
  const int count = cuda::device_count();
  if (count == 0)
    throw InvalidArgument("--device " + device.text + ": no CUDA device is available on this machine");
  if (device.index >= count)
    throw InvalidArgument("--device " + device.text + ": this machine has " + std::to_string(count) +
                          " CUDA device(s), numbered from 0");
  RLHASH_CUDA_CHECK(cudaSetDevice(device.index));
  cudaDeviceProp properties{};
  RLHASH_CUDA_CHECK(cudaGetDeviceProperties(&properties, device.index));
  return "CUDA device " + std::to_string(device.index) + " (" + properties.name + ")";
}

namespace {

/// One method's CUDA path: the method on cuda::CudaBackend, reached through its host hasher.
struct CudaPath {
  const char* method;
  void (*fit)(AnyHasher&, const Eigen::Ref<const MatrixF>&, const Labels&, const FitOptions&);
  BinaryCodes (*encode)(const AnyHasher&, const Eigen::Ref<const MatrixF>&);
};

template <class DeviceHasher>
constexpr CudaPath path_of() {
  return {DeviceHasher::method_name, &fit_via<DeviceHasher>, &encode_via<DeviceHasher>};
}

const CudaPath* find_path(const std::string& method) {
  using cuda::CudaBackend;
  static const CudaPath paths[] = {
      path_of<DrlihOn<CudaBackend>>(),         path_of<DrlihOn<CudaBackend, DrlihNgVariant>>(),
      path_of<FcTripletOn<CudaBackend>>(),     path_of<DrlhOn<CudaBackend>>(),
      path_of<PolicyHashingOn<CudaBackend>>(), path_of<BchClassifierOn<CudaBackend>>(),
  };
  for (const CudaPath& path : paths)
    if (method == path.method) return &path;
  return nullptr;
}

const CudaPath& path_for(const std::string& method) {
  const CudaPath* path = find_path(method);
  if (path == nullptr) throw InvalidArgument("--device cuda: " + method + " has no CUDA path");
  return *path;
}

}  // namespace

bool has_cuda_path(const std::string& method) { return find_path(method) != nullptr; }

void fit_on_cuda(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                 const FitOptions& options) {
  path_for(hasher.method()).fit(hasher, features, labels, options);
}

BinaryCodes encode_on_cuda(const AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features) {
  return path_for(hasher.method()).encode(hasher, features);
}

KnnResult knn_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, Index k, int device) {
  return cuda::GpuHammingIndex(database, {}, device).knn(queries, k);
}

RangeResult range_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, int radius, int device) {
  return cuda::GpuHammingIndex(database, {}, device).range(queries, radius);
}

}  // namespace rlhash::cli::cuda_module

extern "C" __attribute__((visibility("default"))) const rlhash::cli::CudaPathTable* rlhash_cli_cuda_paths() {
  namespace m = rlhash::cli::cuda_module;
  static const rlhash::cli::CudaPathTable table{rlhash::cli::cuda_path_table_abi,
                                                &m::use_cuda_device,
                                                &m::has_cuda_path,
                                                &m::fit_on_cuda,
                                                &m::encode_on_cuda,
                                                &m::knn_on_cuda,
                                                &m::range_on_cuda};
  return &table;
}
