#pragma once
/// \file
/// Exact Hamming k-NN and range search on a CUDA device: the database lives in device memory,
/// queries are streamed to it in batches. Results are identical -- indices, distances and tie
/// order -- to the CPU's knn_search / range_search (rlhash/search/knn.hpp, range.hpp), and come
/// back in the very same KnnResult / RangeResult types.
///
/// How a header-only library ships kernels: this header is plain C++ (CUDA runtime API only)
/// and declares the class; the member functions that launch kernels are defined in
/// rlhash/cuda/gpu_hamming_index.cuh. Include that .cuh from exactly ONE .cu file of the
/// program (compiled by nvcc); every other translation unit, .cpp or .cu, includes this header
/// only. Including the .cuh twice gives duplicate-symbol link errors, not silent ODR trouble.
/// Link the rlhash::cuda CMake target (CUDA::cudart, CUDA::cublas).
#include <cstdint>
#include <optional>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/cuda/memory.hpp"
#include "rlhash/cuda/select.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash::cuda {

/// A database of packed codes (BinaryCodes layout) resident on one CUDA device.
///
/// Not thread-safe: one index owns one stream and one set of scratch buffers; use one index
/// per host thread (they may share a device).
class GpuHammingIndex {
 public:
  /// Copies `database` to device `device` (-1: the current device). Databases of 2^31 codes or
  /// more are rejected (the kernels count in 32-bit integers).
  explicit GpuHammingIndex(const CodesView& database, GpuSearchOptions options = {}, int device = -1);

  Index size() const { return size_; }
  int bits() const { return bits_; }
  int words() const { return words_; }
  int device() const { return device_; }
  const GpuSearchOptions& options() const { return options_; }
  /// The device copy of the codes (size() * words() words).
  const std::uint64_t* device_codes() const { return codes_.data(); }

  /// Exact k nearest neighbours of every query, ordered by (distance, index); slots past N
  /// hold index -1 and distance -1. Same result as rlhash::knn_search.
  KnnResult knn(const CodesView& queries, Index k);
  /// Every code within `radius` (inclusive) of each query, ordered by (distance, index). Same
  /// result as rlhash::range_search.
  RangeResult range(const CodesView& queries, int radius);

  /// The chunking and batching a search of `queries` queries with `results_per_query`
  /// results would use (0 for range search).
  SearchPlan plan(Index queries, Index results_per_query) const {
    return plan_search(size_, bits_, queries, results_per_query, options_);
  }

 private:
  struct Scratch {
    DeviceBuffer<std::uint64_t> queries;
    DeviceBuffer<int> hist;  // [batch][chunks][bins]: counts, then output slots
    DeviceBuffer<Threshold> thresholds;
    DeviceBuffer<ChunkInfo> chunk_info;
    DeviceBuffer<long long> out_base;
    DeviceBuffer<long long> out_indices;
    DeviceBuffer<int> out_distances;
    PinnedBuffer<std::uint64_t> host_queries;
    PinnedBuffer<Threshold> host_thresholds;
    PinnedBuffer<long long> host_base;
    PinnedBuffer<long long> host_indices;
    PinnedBuffer<int> host_distances;
  };

  void check_queries(const CodesView& queries, const char* what) const;
  /// Uploads queries [q0, q0 + count) and runs the histogram and select passes; `k` >= 0 for
  /// k-NN (already clamped to N), else range search with `radius`.
  void histogram_and_select(const CodesView& queries, Index q0, Index count, const SearchPlan& plan, int k,
                            int radius);
  /// Runs the gather pass for queries [first, first + count) of the batch, whose output offsets
  /// (from the first one's) are in scratch_.host_base.
  void gather(Index first, Index count, const SearchPlan& plan, std::size_t total_results);

  Index size_ = 0;
  int bits_ = 0;
  int words_ = 0;
  std::uint64_t tail_ = 0;
  int device_ = 0;
  GpuSearchOptions options_;
  DeviceBuffer<std::uint64_t> codes_;
  std::optional<Stream> stream_;  // created on device_, after the constructor selects it
  Scratch scratch_;
};

}  // namespace rlhash::cuda
