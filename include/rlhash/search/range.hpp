#pragma once
/// \file
/// Exact range search in Hamming space: every database code within distance r (inclusive) of
/// each query, sorted by (distance, index), in faiss's RangeSearchResult layout: the results of
/// query q are entries [lims[q], lims[q + 1]) of the flat `indices` / `distances` arrays.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming_kernels.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash {

struct RangeResult {
  Index queries = 0;
  std::vector<std::int64_t> lims;  // [queries + 1]
  std::vector<Index> indices;
  std::vector<std::int32_t> distances;

  /// Number of results of query q.
  Index count(Index query) const {
    return lims[static_cast<std::size_t>(query) + 1] - lims[static_cast<std::size_t>(query)];
  }
};

namespace detail {

/// Collects every pushed code with distance <= radius, in index order.
class RangeCollector {
 public:
  explicit RangeCollector(int radius = 0) : threshold_(radius + 1) {}
  std::int32_t threshold() const { return threshold_; }
  void push(Index index, int distance) {
    if (distance >= threshold_) return;
    indices_.push_back(index);
    distances_.push_back(distance);
  }
  /// Stable counting sort by distance (the pushes came in index order) into the outputs.
  void finish(Index* indices_out, std::int32_t* distances_out) const {
    std::vector<std::size_t> start(static_cast<std::size_t>(threshold_) + 1, 0);
    for (const std::int32_t d : distances_) ++start[static_cast<std::size_t>(d) + 1];
    for (std::size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
    for (std::size_t j = 0; j < indices_.size(); ++j) {
      const std::size_t slot = start[static_cast<std::size_t>(distances_[j])]++;
      indices_out[slot] = indices_[j];
      distances_out[slot] = distances_[j];
    }
  }
  std::size_t size() const { return indices_.size(); }

 private:
  std::int32_t threshold_;
  std::vector<Index> indices_;
  std::vector<std::int32_t> distances_;
};

/// Builds a RangeResult from per-query collectors (any type with size() and finish()).
template <class Collector>
RangeResult assemble_range(const std::vector<Collector>& per_query) {
  RangeResult result;
  result.queries = static_cast<Index>(per_query.size());
  result.lims.assign(per_query.size() + 1, 0);
  for (std::size_t q = 0; q < per_query.size(); ++q)
    result.lims[q + 1] = result.lims[q] + static_cast<std::int64_t>(per_query[q].size());
  result.indices.resize(static_cast<std::size_t>(result.lims.back()));
  result.distances.resize(static_cast<std::size_t>(result.lims.back()));
  for (std::size_t q = 0; q < per_query.size(); ++q)
    per_query[q].finish(result.indices.data() + result.lims[q], result.distances.data() + result.lims[q]);
  return result;
}

}  // namespace detail

/// All database codes with distance <= radius from each query, sorted by (distance, index);
/// multi-threaded over queries (`threads` 0 = hardware concurrency). radius >= bits returns the
/// whole database for every query.
inline RangeResult range_search(const CodesView& queries, const CodesView& database, int radius,
                                int threads = 0, SimdPath path = active_simd_path()) {
  detail::require_query_database(queries, database, "range_search");
  if (radius < 0)
    throw InvalidArgument("range_search: radius = " + std::to_string(radius) + ", expected >= 0");
  require_simd_path(path);
  const int requested = detail::resolve_threads(threads);
  std::vector<detail::RangeCollector> sinks(static_cast<std::size_t>(queries.size),
                                            detail::RangeCollector(std::min(radius, database.bits)));
  if (queries.size > 0 && database.size > 0) {
    const int workers = static_cast<int>(std::min<Index>(requested, queries.size));
    detail::run_parallel(workers, [&](int t) {
      const Index q0 = detail::share_begin(queries.size, workers, t);
      const Index q1 = detail::share_begin(queries.size, workers, t + 1);
      detail::scan_queries(path, queries, q0, q1, database, sinks.data() + q0);
    });
  }
  return detail::assemble_range(sinks);
}

}  // namespace rlhash
