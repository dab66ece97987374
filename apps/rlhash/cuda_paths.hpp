#pragma once
// The tool's CUDA paths. They live in a separately built module, rlhash-cuda.so (cuda_paths.cpp
// and the kernels, linked to the CUDA runtime and cuBLAS), which cuda_module.cpp loads with
// dlopen the first time --device cuda asks for it: the tool itself never maps the CUDA
// libraries, so it starts like a CPU tool and runs on machines without them. A tool built
// without CUDA has no module, and --device cuda is a clear error; the subcommands never test a
// macro.
#include <string>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash::cli {

struct DeviceChoice {
  bool cuda = false;
  int index = 0;
  std::string text = "cpu";  // as given on the command line, for messages
};

/// Makes the CUDA device current and returns its name; throws InvalidArgument naming --device
/// when the tool has no CUDA, the machine no device, or not that many.
std::string use_cuda_device(const DeviceChoice& device);

/// Whether `method` trains and encodes on a CUDA device (the methods with networks).
bool has_cuda_path(const std::string& method);

/// Trains `hasher` on the current CUDA device, or encodes with it there; its method must have a
/// CUDA path. The trained hasher is the host one, as a model file holds it.
void fit_on_cuda(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                 const FitOptions& options);
BinaryCodes encode_on_cuda(const AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features);

/// Exact k-NN / range search with the database resident on `device` (rlhash::cuda::GpuHammingIndex):
/// the same results as knn_search / range_search.
KnnResult knn_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, Index k, int device);
RangeResult range_on_cuda(const BinaryCodes& queries, const BinaryCodes& database, int radius, int device);

/// What the module exports: the functions above, for one build of the tool (the module is
/// built with the tool; `abi` guards against pairing it with another build's).
struct CudaPathTable {
  int abi;
  std::string (*use_cuda_device)(const DeviceChoice&);
  bool (*has_cuda_path)(const std::string&);
  void (*fit_on_cuda)(AnyHasher&, const Eigen::Ref<const MatrixF>&, const Labels&, const FitOptions&);
  BinaryCodes (*encode_on_cuda)(const AnyHasher&, const Eigen::Ref<const MatrixF>&);
  KnnResult (*knn_on_cuda)(const BinaryCodes&, const BinaryCodes&, Index, int);
  RangeResult (*range_on_cuda)(const BinaryCodes&, const BinaryCodes&, int, int);
};
constexpr int cuda_path_table_abi = 1;
/// The module's one exported symbol: extern "C" const CudaPathTable* rlhash_cli_cuda_paths().
constexpr const char* cuda_path_table_symbol = "rlhash_cli_cuda_paths";

}  // namespace rlhash::cli
