#pragma once
/// \file
/// Exact k-nearest-neighbour search in Hamming space.
///
/// Results are ordered by (distance, database index): exactly what a stable sort of all N
/// distances would give, so ties are deterministic and independent of threads and SIMD path.
/// When k > N the slots past the N real neighbours hold index -1 and distance -1.
///
/// Hamming distances are small integers (0..bits), which the scan exploits: each query keeps a
/// histogram of the distances of its candidates and the current threshold T, the smallest d with
/// at least k candidates at distance <= d. A code with distance >= T can never enter the top k
/// (k earlier codes are at least as close and win the tie by index), so the fused SIMD scan hands
/// over only codes below T; the candidate buffer is compacted back to k entries when it reaches
/// 2k. Memory per query is O(k + bits), never O(N), and after the first few thousand codes almost
/// no code passes the filter, so the scan runs at the speed of the distance kernel.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming_kernels.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash {

/// k nearest neighbours of each of `queries` queries, row-major [queries, k]. Unused slots
/// (k > N) hold index -1 and distance -1.
struct KnnResult {
  Index queries = 0;
  Index k = 0;
  std::vector<Index> indices;
  std::vector<std::int32_t> distances;

  Index index(Index query, Index rank) const { return indices[static_cast<std::size_t>(query * k + rank)]; }
  std::int32_t distance(Index query, Index rank) const {
    return distances[static_cast<std::size_t>(query * k + rank)];
  }
};

namespace detail {

/// The per-query top-k state of the fused scan (see the file comment). Pushes must come in
/// increasing database index order. The loops over the buffer are branch-free: whether a
/// candidate survives is data-dependent and would mispredict about half the time.
class TopKCollector {
 public:
  void reset(Index k, int bits) {
    k_ = k;
    bits_ = bits;
    threshold_ = bits + 1;
    below_ = 0;
    histogram_.assign(static_cast<std::size_t>(bits) + 2, 0);
    capacity_ = std::max<Index>(2 * k, k + 32);
    indices_.clear();
    distances_.clear();
    // Growing the buffers push by push costs more than the scan of a small database.
    const auto reserve = static_cast<std::size_t>(std::min<Index>(capacity_, Index{1} << 16));
    indices_.reserve(reserve);
    distances_.reserve(reserve);
  }

  /// Starts an empty collector from the distances of codes first .. first + count - 1 at once:
  /// the same state as pushing them one by one, from a histogram instead of `count` branches.
  void prime(Index first, const std::int32_t* distances, Index count) {
    for (Index j = 0; j < count; ++j) ++histogram_[static_cast<std::size_t>(distances[j])];
    Index below = 0;
    std::int32_t t = 0;
    while (t <= bits_ && below + histogram_[static_cast<std::size_t>(t)] < k_)
      below += histogram_[static_cast<std::size_t>(t++)];
    threshold_ = t;  // bits + 1 when there are fewer than k codes
    below_ = below;
    const std::size_t size = indices_.size();
    indices_.resize(size + static_cast<std::size_t>(count));
    distances_.resize(size + static_cast<std::size_t>(count));
    for (Index j = 0; j < count; ++j) {
      indices_[size + static_cast<std::size_t>(j)] = first + j;
      distances_[size + static_cast<std::size_t>(j)] = distances[j];
    }
    compact();
  }

  /// Codes at this distance or more cannot enter the top k.
  std::int32_t threshold() const { return threshold_; }

  void push(Index index, int distance) {
    if (distance >= threshold_) return;
    if (static_cast<Index>(indices_.size()) >= capacity_) compact();
    indices_.push_back(index);
    distances_.push_back(distance);
    ++histogram_[static_cast<std::size_t>(distance)];
    if (++below_ >= k_) {
      // Lower T to the smallest d with at least k candidates at distance <= d.
      while (below_ >= k_) {
        --threshold_;
        below_ -= histogram_[static_cast<std::size_t>(threshold_)];
      }
    }
  }

  /// Writes the (at most k) results sorted by (distance, index) and pads with -1; returns the
  /// number of real results.
  Index finish(Index* indices_out, std::int32_t* distances_out) {
    compact();
    // Counting sort by distance, stable because the buffer is in index order.
    std::vector<Index> start(static_cast<std::size_t>(bits_) + 2, 0);
    for (const std::int32_t d : distances_) ++start[static_cast<std::size_t>(d) + 1];
    for (std::size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (std::size_t j = 0; j < indices_.size(); ++j) {
      const Index slot = start[static_cast<std::size_t>(distances_[j])]++;
      indices_out[slot] = indices_[j];
      distances_out[slot] = distances_[j];
    }
    const auto kept = static_cast<Index>(indices_.size());
    std::fill(indices_out + kept, indices_out + k_, Index{-1});
    std::fill(distances_out + kept, distances_out + k_, std::int32_t{-1});
    return kept;
  }

 private:
  /// Keeps what can still be in the top k: every candidate below T and the earliest k - below
  /// at distance T; afterwards the histogram counts exactly the kept candidates up to T.
  void compact() {
    Index quota = k_ - below_;
    const std::int32_t t = threshold_;
    Index* indices = indices_.data();
    std::int32_t* distances = distances_.data();
    std::size_t out = 0;
    for (std::size_t j = 0; j < indices_.size(); ++j) {
      const std::int32_t d = distances[j];
      const Index i = indices[j];
      const bool at = d == t;
      const bool kept = (d < t) | (at & (quota > 0));
      quota -= static_cast<Index>(at & kept);
      indices[out] = i;
      distances[out] = d;
      out += kept;
    }
    indices_.resize(out);
    distances_.resize(out);
    if (t <= bits_) {
      histogram_[static_cast<std::size_t>(t)] = (k_ - below_) - quota;
      std::fill(histogram_.begin() + t + 1, histogram_.end(), 0);
    }
  }

  Index k_ = 0;
  int bits_ = 0;
  std::int32_t threshold_ = 0;
  Index below_ = 0;  // buffered codes with distance < threshold_
  Index capacity_ = 0;
  std::vector<Index> histogram_;
  std::vector<Index> indices_;
  std::vector<std::int32_t> distances_;
};

/// Database codes per block of the batched scan: about 128 KiB, so a block stays in L2 while
/// every query of the thread scans it.
inline Index scan_block_codes(int words) { return std::max<Index>(1024, 16384 / words); }

/// How many leading codes prime a top-k collector. Priming costs a few nanoseconds per code;
/// every code that later passes a still-high threshold costs tens of nanoseconds in a streaming
/// scan (it breaks the branch-free loop), and about k ln(N / primed) codes pass, so about 8k
/// primed codes balance the two.
/// Queries a thread scans together in knn_search (see there).
constexpr Index knn_query_chunk = 256;

inline Index prime_codes(Index k, Index n) {
  return std::min(n, std::clamp<Index>(8 * k, 1024, Index{1} << 16));
}

/// Primes top-k collectors for queries [q0, q1) with the first `count` database codes.
inline void prime_collectors(SimdPath path, const CodesView& queries, Index q0, Index q1,
                             const CodesView& database, Index count, TopKCollector* sinks) {
  std::vector<std::int32_t> distances(static_cast<std::size_t>(count));
  for (Index q = q0; q < q1; ++q) {
    distances_range(path, database, 0, count, queries.row(q), distances.data());
    sinks[q - q0].prime(0, distances.data(), count);
  }
}

/// Runs the fused scan for queries [q0, q1) over database codes [from, N), sinks[q - q0]
/// serving query q; database blocks outermost and groups of max_scan_group queries per block.
template <class Sink>
void scan_queries(SimdPath path, const CodesView& queries, Index q0, Index q1, const CodesView& database,
                  Sink* sinks, Index from = 0) {
  const Index block = scan_block_codes(database.words);
  for (Index b0 = from; b0 < database.size; b0 += block) {
    const Index b1 = std::min(database.size, b0 + block);
    for (Index q = q0; q < q1; q += max_scan_group) {
      const int group = static_cast<int>(std::min<Index>(max_scan_group, q1 - q));
      const std::uint64_t* codes[max_scan_group];
      Sink* group_sinks[max_scan_group];
      for (int g = 0; g < group; ++g) {
        codes[g] = queries.row(q + g);
        group_sinks[g] = sinks + (q + g - q0);
      }
      scan_range(path, database, b0, b1, codes, group, group_sinks);
    }
  }
}

inline void require_k(Index k) {
  if (k < 0) throw InvalidArgument("knn: k = " + std::to_string(k) + ", expected k >= 0");
}

}  // namespace detail

/// Exact kNN of every query, multi-threaded over queries (`threads` 0 = hardware concurrency).
inline KnnResult knn_search(const CodesView& queries, const CodesView& database, Index k, int threads = 0,
                            SimdPath path = active_simd_path()) {
  detail::require_query_database(queries, database, "knn_search");
  detail::require_k(k);
  require_simd_path(path);
  const int requested = detail::resolve_threads(threads);
  KnnResult result;
  result.queries = queries.size;
  result.k = k;
  const auto slots = static_cast<std::size_t>(checked_mul(queries.size, k, "knn_search: queries x k"));
  const std::size_t bytes =
      checked_bytes(static_cast<Index>(slots), sizeof(Index) + sizeof(std::int32_t), "knn_search: result");
  allocating(
      bytes,
      [&] {
        result.indices.assign(slots, Index{-1});
        result.distances.assign(slots, std::int32_t{-1});
      },
      "knn_search: ", queries.size, " queries x k = ", k, " results");
  if (queries.size == 0 || k == 0 || database.size == 0) return result;
  const int workers = static_cast<int>(std::min<Index>(requested, queries.size));
  const Index primed = detail::prime_codes(k, database.size);
  detail::run_parallel(workers, [&](int t) {
    const Index q0 = detail::share_begin(queries.size, workers, t);
    const Index q1 = detail::share_begin(queries.size, workers, t + 1);
    // A thread's queries go in chunks, each chunk one pass over the database: the collectors'
    // buffers (primed entries each) then take a bounded amount of memory whatever the batch
    // size, where one collector per query took 12 KB a query at k <= 128 (1.2 GB for 10^5
    // queries). The extra passes over the database are a small share of the chunk's work.
    std::vector<detail::TopKCollector> sinks(
        static_cast<std::size_t>(std::min(detail::knn_query_chunk, q1 - q0)));
    for (Index c0 = q0; c0 < q1; c0 += detail::knn_query_chunk) {
      const Index c1 = std::min(q1, c0 + detail::knn_query_chunk);
      for (Index q = c0; q < c1; ++q) sinks[static_cast<std::size_t>(q - c0)].reset(k, database.bits);
      detail::prime_collectors(path, queries, c0, c1, database, primed, sinks.data());
      detail::scan_queries(path, queries, c0, c1, database, sinks.data(), primed);
      for (Index q = c0; q < c1; ++q)
        sinks[static_cast<std::size_t>(q - c0)].finish(result.indices.data() + q * k,
                                                       result.distances.data() + q * k);
    }
  });
  return result;
}

/// Exact kNN of one query (database.words words), the database split across threads and the
/// partial top-k lists merged. Same result as knn_search on a one-query batch.
inline KnnResult knn_search_one(const std::uint64_t* query, const CodesView& database, Index k,
                                int threads = 0, SimdPath path = active_simd_path()) {
  detail::require_codes(database, "knn_search_one: database");
  detail::require_k(k);
  require_simd_path(path);
  if (query == nullptr) throw InvalidArgument("knn_search_one: null query");
  const int requested = detail::resolve_threads(threads);
  KnnResult result;
  result.queries = 1;
  result.k = k;
  result.indices.assign(static_cast<std::size_t>(k), Index{-1});
  result.distances.assign(static_cast<std::size_t>(k), std::int32_t{-1});
  if (k == 0 || database.size == 0) return result;
  // Below ~64K codes per thread, starting threads costs more than the scan.
  constexpr Index min_share = Index{1} << 16;
  const int workers = static_cast<int>(std::clamp<Index>(database.size / min_share, 1, requested));
  const auto slots = static_cast<std::size_t>(checked_mul(workers, k, "knn_search_one: threads x k"));
  std::vector<Index> part_indices(slots);
  std::vector<std::int32_t> part_distances(slots);
  detail::run_parallel(workers, [&](int t) {
    const Index begin = detail::share_begin(database.size, workers, t);
    const Index end = detail::share_begin(database.size, workers, t + 1);
    detail::TopKCollector sink;
    sink.reset(k, database.bits);
    const Index primed = detail::prime_codes(k, end - begin);
    std::vector<std::int32_t> distances(static_cast<std::size_t>(primed));
    detail::distances_range(path, database, begin, begin + primed, query, distances.data());
    sink.prime(begin, distances.data(), primed);
    detail::TopKCollector* sinks[1] = {&sink};
    const std::uint64_t* codes[1] = {query};
    detail::scan_range(path, database, begin + primed, end, codes, 1, sinks);
    sink.finish(part_indices.data() + t * k, part_distances.data() + t * k);
  });
  if (workers == 1) {
    result.indices = std::move(part_indices);
    result.distances = std::move(part_distances);
    return result;
  }
  // The parts cover increasing index ranges, so a stable sort by distance of their concatenation
  // orders by (distance, index).
  std::vector<std::pair<std::int32_t, Index>> merged;
  for (std::size_t j = 0; j < part_indices.size(); ++j)
    if (part_indices[j] >= 0) merged.emplace_back(part_distances[j], part_indices[j]);
  std::stable_sort(merged.begin(), merged.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  const std::size_t count = std::min(merged.size(), static_cast<std::size_t>(k));
  for (std::size_t j = 0; j < count; ++j) {
    result.distances[j] = merged[j].first;
    result.indices[j] = merged[j].second;
  }
  return result;
}

}  // namespace rlhash
