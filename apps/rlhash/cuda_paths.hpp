#pragma once
// The tool's CUDA paths: defined in cuda_paths.cpp, for real in a build with CUDA
// (RLHASH_HAS_CUDA) and as clear errors without it, so the subcommands never test the macro.
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

}  // namespace rlhash::cli
