#pragma once
/// \file
/// The selection logic of the GPU Hamming search, shared by the CUDA kernels (compiled by nvcc
/// as __host__ __device__) and by the host: plain C++17 without any CUDA header, so the CPU test
/// suite checks it on every machine, GPU or not.
///
/// Hamming distances are small integers (0..bits), so exact top-k needs no comparison sort:
///   1. histogram pass: for every query and every database *chunk* (a contiguous index range)
///      count the codes at each distance, hist[q][c][d];
///   2. select: the global histogram H[d] = sum_c hist[q][c][d] gives the threshold t, the
///      smallest distance with H[0] + ... + H[t] >= k. Every code at distance < t is a result
///      ("below" of them, fewer than k); of the H[t] codes at distance t ("ties") the `take`
///      = k - below with the smallest indices are. Per chunk, an exclusive scan over chunks turns
///      hist[q][c][d] (d < t) into the output slot of the chunk's first code at distance d, and
///      a scan of the tie counts into the slot of its first tie;
///   3. gather pass: each chunk walks its codes in index order and writes code i at distance d
///      to its slot + (number of earlier codes of the chunk at distance d).
/// The output comes out sorted by (distance, index) -- exactly the CPU search's order -- with no
/// sort at all, and the gather pass skips every chunk that holds no result.
/// Range search is the same with t = radius + 1 and no ties.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

#include "rlhash/cuda/host_device.hpp"

namespace rlhash::cuda {

/// The per-query outcome of step 2.
struct Threshold {
  int t = 0;      ///< codes at distance < t are all results
  int below = 0;  ///< how many codes have distance < t
  int take = 0;   ///< how many codes at distance == t are results (smallest indices first)
};

/// The per-(query, chunk) plan of step 3.
struct ChunkInfo {
  int below = 0;     ///< codes of this chunk at distance < t (all written)
  int tie_base = 0;  ///< output slot of the chunk's first tie that is kept
  int tie_need = 0;  ///< how many of the chunk's ties (its first, in index order) are kept
};

/// Tuning of GpuHammingIndex. The defaults suit an H100/H200; tests shrink the chunks to put
/// many chunk boundaries into small databases.
struct GpuSearchOptions {
  /// Queries per batch (0: as many as `scratch_bytes` allows, at most 65535).
  Index batch_queries = 0;
  /// Device memory for per-batch scratch (chunk histograms, chunk plans, results). Range search
  /// also gathers at most this many bytes of results at once (12 per result; one query's
  /// results are never split), so a wide radius over a large database runs in several passes
  /// instead of failing to allocate.
  std::size_t scratch_bytes = std::size_t{256} << 20;
  /// Upper bound on chunks per query: more chunks = more parallelism for few queries and less
  /// work in the gather pass, but more histogram memory.
  Index max_chunks = 4096;
  /// Lower bound on codes per chunk.
  Index min_chunk_codes = 4096;
};

/// How a search is cut into chunks and query batches.
struct SearchPlan {
  Index chunk_len = 0;  ///< codes per chunk (the last chunk may be shorter)
  int chunks = 0;       ///< chunks per query (0 for an empty database)
  Index batch = 0;      ///< queries per batch
  int bins = 0;         ///< histogram bins, bits + 1
};

namespace detail {

/// k-NN threshold from the global histogram `hist` (bins = bits + 1), for k = min(k, N):
/// t = min{ t : hist[0] + ... + hist[t] >= k }. k == 0 selects nothing.
RLHASH_HD inline Threshold knn_threshold(const int* hist, int bins, int k) {
  Threshold th;
  if (k <= 0) return th;
  int below = 0;
  for (int d = 0; d < bins; ++d) {
    if (below + hist[d] >= k) {
      th.t = d;
      th.below = below;
      th.take = k - below;
      return th;
    }
    below += hist[d];
  }
  // Fewer than k codes in all (the caller clamps k to N, so this is unreachable): take all.
  th.t = bins;
  th.below = below;
  th.take = 0;
  return th;
}

/// Range threshold: every code at distance <= radius, i.e. t = radius + 1 (at most bins).
RLHASH_HD inline Threshold range_threshold(const int* hist, int bins, int radius) {
  Threshold th;
  th.t = radius + 1 < bins ? radius + 1 : bins;
  for (int d = 0; d < th.t; ++d) th.below += hist[d];
  return th;
}

/// A chunk's plan from its counts below t and at t and the ties of all earlier chunks.
RLHASH_HD inline ChunkInfo chunk_info(int below, int ties, int ties_before, const Threshold& th) {
  ChunkInfo info;
  info.below = below;
  info.tie_base = th.below + ties_before;
  int need = th.take - ties_before;
  need = need < 0 ? 0 : need;
  info.tie_need = need < ties ? need : ties;
  return info;
}

/// Turns the counts of one distance d over all chunks (column[c * stride], c < chunks) into
/// output slots: column[c * stride] = base + (codes at distance d in chunks before c), where
/// base = codes at distance < d over the whole database.
RLHASH_HD inline void scan_chunk_column(int* column, long long stride, int chunks, int base) {
  int running = base;
  for (int c = 0; c < chunks; ++c) {
    const int count = column[c * stride];
    column[c * stride] = running;
    running += count;
  }
}

inline Index ceil_div(Index a, Index b) { return (a + b - 1) / b; }

}  // namespace detail

/// Scratch bytes that one query of a batch needs on the device: chunk histograms and plans, the
/// query itself and `results` output slots (index + distance).
inline std::size_t scratch_bytes_per_query(int chunks, int bins, int words, Index results) {
  return static_cast<std::size_t>(chunks) * static_cast<std::size_t>(bins) * sizeof(int) +
         static_cast<std::size_t>(chunks) * sizeof(ChunkInfo) + sizeof(Threshold) + sizeof(long long) +
         static_cast<std::size_t>(words) * sizeof(std::uint64_t) +
         static_cast<std::size_t>(results) * (sizeof(long long) + sizeof(int));
}

/// Chunking and batching of `queries` queries against `n` codes of `bits` bits, each query
/// producing `results_per_query` results (k for k-NN; range search sizes its output separately,
/// pass 0). Throws InvalidArgument when the options are out of range.
inline SearchPlan plan_search(Index n, int bits, Index queries, Index results_per_query,
                              const GpuSearchOptions& options) {
  rlhash::detail::require(options.max_chunks >= 1 && options.min_chunk_codes >= 1,
                          "GpuSearchOptions: max_chunks and min_chunk_codes must be >= 1, got " +
                              std::to_string(options.max_chunks) + " and " +
                              std::to_string(options.min_chunk_codes));
  rlhash::detail::require(options.batch_queries >= 0 && options.batch_queries <= 65535,
                          "GpuSearchOptions: batch_queries must be in 0..65535 (a grid dimension), got " +
                              std::to_string(options.batch_queries));
  SearchPlan plan;
  plan.bins = bits + 1;
  if (n > 0) {
    plan.chunk_len = std::max(options.min_chunk_codes, detail::ceil_div(n, options.max_chunks));
    // Whole blocks of 256 codes keep every tile of a chunk full (and aligned) except the last.
    if (plan.chunk_len > 256) plan.chunk_len = detail::ceil_div(plan.chunk_len, 256) * 256;
    plan.chunks = static_cast<int>(detail::ceil_div(n, plan.chunk_len));
  }
  const int words = (bits + 63) / 64;
  if (options.batch_queries > 0) {
    plan.batch = options.batch_queries;
  } else {
    const std::size_t per_query = scratch_bytes_per_query(plan.chunks, plan.bins, words, results_per_query);
    plan.batch = static_cast<Index>(
        std::min<std::size_t>(65535, std::max<std::size_t>(1, options.scratch_bytes / per_query)));
  }
  plan.batch = std::max<Index>(1, std::min(plan.batch, queries));
  return plan;
}

/// Results one range-search gather pass may write: `scratch_bytes` of (index, distance) pairs.
inline long long max_gather_results(const GpuSearchOptions& options) {
  return std::max<long long>(
      1, static_cast<long long>(options.scratch_bytes / (sizeof(long long) + sizeof(int))));
}

/// The end of the group of queries starting at `begin` (< `count`) whose range results,
/// `thresholds[q].below` summed, fit `max_results`: at least `begin + 1`, since one query's
/// results are gathered in one pass whatever their number.
inline Index result_group_end(const Threshold* thresholds, Index begin, Index count, long long max_results) {
  long long total = thresholds[begin].below;
  Index end = begin + 1;
  while (end < count && total + thresholds[end].below <= max_results) total += thresholds[end++].below;
  return end;
}

/// The GPU algorithm run serially on host data: `distances[i]` (0..bits) of one query to the
/// N database codes, cut into chunks of `chunk_len`, with the same steps and the same helper
/// functions as the kernels. Writes `th.below + th.take` results to `indices` / `out_distances`
/// and returns the threshold. `radius < 0` means k-NN with `k`, else range search (k ignored).
/// It is the executable specification of the kernels and what the CPU tests check.
inline Threshold emulate_select(const int* distances, Index n, int bits, Index chunk_len, Index k, int radius,
                                std::vector<Index>& indices, std::vector<int>& out_distances) {
  rlhash::detail::require(chunk_len >= 1, "emulate_select: chunk_len must be >= 1");
  const int bins = bits + 1;
  const int chunks = n == 0 ? 0 : static_cast<int>(detail::ceil_div(n, chunk_len));
  std::vector<int> hist(static_cast<std::size_t>(chunks) * bins, 0);
  for (Index i = 0; i < n; ++i) {
    rlhash::detail::require(distances[i] >= 0 && distances[i] <= bits,
                            "emulate_select: distance out of 0..bits");
    ++hist[static_cast<std::size_t>(i / chunk_len) * bins + distances[i]];
  }
  // Step 2: global histogram, threshold, chunk plans, slots.
  std::vector<int> global(bins, 0);
  for (int c = 0; c < chunks; ++c)
    for (int d = 0; d < bins; ++d) global[d] += hist[static_cast<std::size_t>(c) * bins + d];
  const Threshold th = radius < 0
                           ? detail::knn_threshold(global.data(), bins, static_cast<int>(std::min(k, n)))
                           : detail::range_threshold(global.data(), bins, radius);
  std::vector<ChunkInfo> info(chunks);
  int ties_before = 0;
  for (int c = 0; c < chunks; ++c) {
    int below = 0;
    for (int d = 0; d < th.t; ++d) below += hist[static_cast<std::size_t>(c) * bins + d];
    const int ties = th.t < bins ? hist[static_cast<std::size_t>(c) * bins + th.t] : 0;
    info[c] = detail::chunk_info(below, ties, ties_before, th);
    ties_before += ties;
  }
  int base = 0;
  for (int d = 0; d < th.t; ++d) {
    detail::scan_chunk_column(hist.data() + d, bins, chunks, base);
    base += global[d];
  }
  // Step 3: each chunk in index order, stopping once its results are out (as the kernel does).
  const std::size_t total = static_cast<std::size_t>(th.below) + static_cast<std::size_t>(th.take);
  indices.assign(total, -1);
  out_distances.assign(total, -1);
  for (int c = 0; c < chunks; ++c) {
    int* slot = hist.data() + static_cast<std::size_t>(c) * bins;
    int below_seen = 0, ties_seen = 0;
    for (Index i = c * chunk_len; i < std::min(n, (c + 1) * chunk_len); ++i) {
      if (below_seen >= info[c].below && ties_seen >= info[c].tie_need) break;
      const int d = distances[i];
      std::size_t pos = total;
      if (d < th.t) {
        pos = static_cast<std::size_t>(slot[d]++);
        ++below_seen;
      } else if (d == th.t) {
        if (ties_seen < info[c].tie_need) pos = static_cast<std::size_t>(info[c].tie_base + ties_seen);
        ++ties_seen;
      }
      if (pos < total) {
        indices[pos] = i;
        out_distances[pos] = d;
      }
    }
  }
  return th;
}

}  // namespace rlhash::cuda
