#pragma once
/// \file
/// The definitions of GpuHammingIndex's member functions (declared in gpu_hamming_index.hpp)
/// and the kernels they launch. Include this file from exactly ONE .cu file of a program,
/// compiled by nvcc; everything else includes gpu_hamming_index.hpp. The functions here are
/// deliberately not `inline`: a second inclusion is a link error that names the function
/// instead of a silent violation of the one-definition rule.
#if !defined(__CUDACC__)
#error "rlhash/cuda/gpu_hamming_index.cuh must be compiled by nvcc: include it from one .cu file"
#endif

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>

#include "rlhash/cuda/error.hpp"
#include "rlhash/cuda/gpu_hamming_index.hpp"
#include "rlhash/cuda/hamming_kernels.cuh"

namespace rlhash::cuda {

namespace detail {

/// Histogram copies per block: as many (up to one per warp) as fit in the 48 KiB of shared
/// memory a kernel gets without opting in.
inline int histogram_replicas(int query_tile, int words, int bins) {
  const std::size_t budget = 48 * 1024 - static_cast<std::size_t>(query_tile) * words * sizeof(std::uint64_t);
  const std::size_t one = static_cast<std::size_t>(query_tile) * bins * sizeof(int);
  return static_cast<int>(std::clamp<std::size_t>(budget / one, 1, kernels::block_warps));
}

template <int W, int QT>
void launch_histogram(const std::uint64_t* db, Index n, int words, std::uint64_t tail,
                      const std::uint64_t* queries, int batch, const SearchPlan& plan, int* hist,
                      cudaStream_t stream) {
  const int replicas = histogram_replicas(QT, words, plan.bins);
  const std::size_t shared = static_cast<std::size_t>(QT) * words * sizeof(std::uint64_t) +
                             static_cast<std::size_t>(replicas) * QT * plan.bins * sizeof(int);
  const dim3 grid(static_cast<unsigned>(plan.chunks), static_cast<unsigned>((batch + QT - 1) / QT));
  kernels::histogram_kernel<W, QT><<<grid, kernels::block_threads, shared, stream>>>(
      db, n, words, tail, queries, batch, plan.chunk_len, plan.chunks, plan.bins, replicas, hist);
  RLHASH_CUDA_CHECK_LAUNCH("rlhash::cuda::kernels::histogram_kernel");
}

template <int QT>
void dispatch_histogram(const std::uint64_t* db, Index n, int words, std::uint64_t tail,
                        const std::uint64_t* queries, int batch, const SearchPlan& plan, int* hist,
                        cudaStream_t stream) {
  switch (words) {
    case 1:
      launch_histogram<1, QT>(db, n, words, tail, queries, batch, plan, hist, stream);
      break;
    case 2:
      launch_histogram<2, QT>(db, n, words, tail, queries, batch, plan, hist, stream);
      break;
    case 4:
      launch_histogram<4, QT>(db, n, words, tail, queries, batch, plan, hist, stream);
      break;
    default:
      launch_histogram<0, QT>(db, n, words, tail, queries, batch, plan, hist, stream);
      break;
  }
}

template <int W>
void launch_gather(const std::uint64_t* db, Index n, int words, std::uint64_t tail,
                   const std::uint64_t* queries, int batch, const SearchPlan& plan, const int* slots,
                   const Threshold* thresholds, const ChunkInfo* info, const long long* out_base,
                   long long* out_indices, int* out_distances, cudaStream_t stream) {
  const std::size_t shared = static_cast<std::size_t>(words) * sizeof(std::uint64_t) +
                             static_cast<std::size_t>(plan.bins) * sizeof(int);
  const dim3 grid(static_cast<unsigned>(plan.chunks), static_cast<unsigned>(batch));
  kernels::gather_kernel<W><<<grid, kernels::block_threads, shared, stream>>>(
      db, n, words, tail, queries, plan.chunk_len, plan.chunks, plan.bins, slots, thresholds, info, out_base,
      out_indices, out_distances);
  RLHASH_CUDA_CHECK_LAUNCH("rlhash::cuda::kernels::gather_kernel");
}

}  // namespace detail

GpuHammingIndex::GpuHammingIndex(const CodesView& database, GpuSearchOptions options, int device)
    : options_(options) {
  rlhash::detail::require_codes(database, "GpuHammingIndex: database");
  if (database.size >= INT_MAX)
    throw InvalidArgument("GpuHammingIndex: database of " + std::to_string(database.size) +
                          " codes; expected fewer than 2^31 - 1 (the kernels count in 32-bit integers)");
  if (device < 0) RLHASH_CUDA_CHECK(cudaGetDevice(&device));
  const int devices = device_count();
  if (device >= devices)
    throw InvalidArgument("GpuHammingIndex: device " + std::to_string(device) + " requested, " +
                          std::to_string(devices) + " CUDA device(s) present");
  device_ = device;
  size_ = database.size;
  bits_ = database.bits;
  words_ = database.words;
  tail_ = database.tail_mask();
  (void)plan_search(size_, bits_, 1, 0, options_);  // rejects bad options now, not at the first search
  DeviceGuard guard(device_);
  stream_.emplace();
  codes_.resize(static_cast<std::size_t>(size_) * static_cast<std::size_t>(words_));
  // On the index's own (non-blocking) stream, so the kernels queued there are ordered after it.
  codes_.copy_from_host_async(database.data, codes_.size(), stream_->get());
  stream_->synchronize();
}

void GpuHammingIndex::check_queries(const CodesView& queries, const char* what) const {
  rlhash::detail::require_codes(queries, what);
  if (queries.bits != bits_)
    throw InvalidArgument(std::string(what) + ": queries have " + std::to_string(queries.bits) +
                          " bits, the GPU index " + std::to_string(bits_) +
                          " bits; expected equal code lengths");
}

void GpuHammingIndex::histogram_and_select(const CodesView& queries, Index q0, Index count,
                                           const SearchPlan& plan, int k, int radius) {
  const cudaStream_t stream = stream_->get();
  const std::size_t query_words = static_cast<std::size_t>(count) * static_cast<std::size_t>(words_);
  scratch_.host_queries.resize(query_words);
  std::memcpy(scratch_.host_queries.data(), queries.row(q0), query_words * sizeof(std::uint64_t));
  scratch_.queries.resize(query_words);
  scratch_.queries.copy_from_host_async(scratch_.host_queries.data(), query_words, stream);
  const std::size_t chunk_rows = static_cast<std::size_t>(count) * static_cast<std::size_t>(plan.chunks);
  scratch_.hist.resize(chunk_rows * static_cast<std::size_t>(plan.bins));
  scratch_.thresholds.resize(static_cast<std::size_t>(count));
  scratch_.chunk_info.resize(chunk_rows);

  const int batch = static_cast<int>(count);
  if (batch >= kernels::query_tile)
    detail::dispatch_histogram<kernels::query_tile>(codes_.data(), size_, words_, tail_,
                                                    scratch_.queries.data(), batch, plan,
                                                    scratch_.hist.data(), stream);
  else
    detail::dispatch_histogram<1>(codes_.data(), size_, words_, tail_, scratch_.queries.data(), batch, plan,
                                  scratch_.hist.data(), stream);
  kernels::select_kernel<<<static_cast<unsigned>(batch), kernels::block_threads,
                           static_cast<std::size_t>(plan.bins) * sizeof(int), stream>>>(
      scratch_.hist.data(), plan.chunks, plan.bins, k, radius, scratch_.thresholds.data(),
      scratch_.chunk_info.data());
  RLHASH_CUDA_CHECK_LAUNCH("rlhash::cuda::kernels::select_kernel");
}

void GpuHammingIndex::gather(Index first, Index count, const SearchPlan& plan, std::size_t total_results) {
  const cudaStream_t stream = stream_->get();
  const auto query = static_cast<std::size_t>(first);  // the per-query arrays from `first` on
  const auto chunk_rows = query * static_cast<std::size_t>(plan.chunks);
  scratch_.out_base.resize(static_cast<std::size_t>(count));
  scratch_.out_base.copy_from_host_async(scratch_.host_base.data(), static_cast<std::size_t>(count), stream);
  scratch_.host_indices.resize(total_results);
  scratch_.host_distances.resize(total_results);
  if (total_results > 0) {
    scratch_.out_indices.resize(total_results);
    scratch_.out_distances.resize(total_results);
    const int batch = static_cast<int>(count);
#define RLHASH_GATHER_ARGS                                                                                   \
  codes_.data(), size_, words_, tail_, scratch_.queries.data() + query* static_cast<std::size_t>(words_),    \
      batch, plan, scratch_.hist.data() + chunk_rows* static_cast<std::size_t>(plan.bins),                   \
      scratch_.thresholds.data() + query, scratch_.chunk_info.data() + chunk_rows, scratch_.out_base.data(), \
      scratch_.out_indices.data(), scratch_.out_distances.data(), stream
    switch (words_) {
      case 1:
        detail::launch_gather<1>(RLHASH_GATHER_ARGS);
        break;
      case 2:
        detail::launch_gather<2>(RLHASH_GATHER_ARGS);
        break;
      case 4:
        detail::launch_gather<4>(RLHASH_GATHER_ARGS);
        break;
      default:
        detail::launch_gather<0>(RLHASH_GATHER_ARGS);
        break;
    }
#undef RLHASH_GATHER_ARGS
    scratch_.out_indices.copy_to_host_async(scratch_.host_indices.data(), total_results, stream);
    scratch_.out_distances.copy_to_host_async(scratch_.host_distances.data(), total_results, stream);
  }
  stream_->synchronize();
}

KnnResult GpuHammingIndex::knn(const CodesView& queries, Index k) {
  check_queries(queries, "GpuHammingIndex::knn: queries");
  rlhash::detail::require_k(k);
  KnnResult result;
  result.queries = queries.size;
  result.k = k;
  result.indices.assign(static_cast<std::size_t>(queries.size * k), Index{-1});
  result.distances.assign(static_cast<std::size_t>(queries.size * k), std::int32_t{-1});
  if (queries.size == 0 || k == 0 || size_ == 0) return result;
  const Index k_eff = std::min(k, size_);
  DeviceGuard guard(device_);
  const SearchPlan plan = plan_search(size_, bits_, queries.size, k_eff, options_);
  for (Index q0 = 0; q0 < queries.size; q0 += plan.batch) {
    const Index count = std::min(plan.batch, queries.size - q0);
    histogram_and_select(queries, q0, count, plan, static_cast<int>(k_eff), -1);
    scratch_.host_base.resize(static_cast<std::size_t>(count));
    for (Index q = 0; q < count; ++q) scratch_.host_base[static_cast<std::size_t>(q)] = q * k_eff;
    gather(0, count, plan, static_cast<std::size_t>(count * k_eff));
    // Rows of k_eff results into rows of k slots (the rest stays -1).
    for (Index q = 0; q < count; ++q)
      for (Index r = 0; r < k_eff; ++r) {
        const std::size_t from = static_cast<std::size_t>(q * k_eff + r);
        const std::size_t to = static_cast<std::size_t>((q0 + q) * k + r);
        result.indices[to] = static_cast<Index>(scratch_.host_indices[from]);
        result.distances[to] = scratch_.host_distances[from];
      }
  }
  return result;
}

RangeResult GpuHammingIndex::range(const CodesView& queries, int radius) {
  check_queries(queries, "GpuHammingIndex::range: queries");
  if (radius < 0)
    throw InvalidArgument("GpuHammingIndex::range: radius = " + std::to_string(radius) + ", expected >= 0");
  RangeResult result;
  result.queries = queries.size;
  result.lims.assign(static_cast<std::size_t>(queries.size) + 1, 0);
  if (queries.size == 0 || size_ == 0) return result;
  DeviceGuard guard(device_);
  const SearchPlan plan = plan_search(size_, bits_, queries.size, 0, options_);
  const long long max_results = max_gather_results(options_);
  const int clamped = std::min(radius, bits_);
  for (Index q0 = 0; q0 < queries.size; q0 += plan.batch) {
    const Index count = std::min(plan.batch, queries.size - q0);
    histogram_and_select(queries, q0, count, plan, -1, clamped);
    // The result sizes are known after the select pass: size the output, then gather.
    scratch_.host_thresholds.resize(static_cast<std::size_t>(count));
    RLHASH_CUDA_CHECK(cudaMemcpyAsync(scratch_.host_thresholds.data(), scratch_.thresholds.data(),
                                      static_cast<std::size_t>(count) * sizeof(Threshold),
                                      cudaMemcpyDeviceToHost, stream_->get()));
    stream_->synchronize();
    // Gather in groups of queries whose results fit the scratch budget.
    for (Index first = 0; first < count;) {
      const Index end = result_group_end(scratch_.host_thresholds.data(), first, count, max_results);
      scratch_.host_base.resize(static_cast<std::size_t>(end - first));
      const std::size_t before = static_cast<std::size_t>(q0 + first);  // lims[before] is final
      long long total = 0;
      for (Index q = first; q < end; ++q) {
        scratch_.host_base[static_cast<std::size_t>(q - first)] = total;
        total += scratch_.host_thresholds[static_cast<std::size_t>(q)].below;
        result.lims[static_cast<std::size_t>(q0 + q) + 1] = result.lims[before] + total;
      }
      gather(first, end - first, plan, static_cast<std::size_t>(total));
      result.indices.insert(result.indices.end(), scratch_.host_indices.data(),
                            scratch_.host_indices.data() + static_cast<std::size_t>(total));
      result.distances.insert(result.distances.end(), scratch_.host_distances.data(),
                              scratch_.host_distances.data() + static_cast<std::size_t>(total));
      first = end;
    }
  }
  return result;
}

}  // namespace rlhash::cuda
