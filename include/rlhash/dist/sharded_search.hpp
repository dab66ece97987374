#pragma once
/// \file
/// Exact kNN and range search over a database sharded across MPI ranks, merged into exactly what
/// knn_search / range_search return on the whole database in one process: global indices, the
/// same distances and the same tie order (distance, then global index).
///
/// Every rank holds all queries and its shard (shard.hpp). It searches its shard for every query
/// (local top k, or its local range results) and turns local indices into global ones. The merge
/// is spread over the ranks, never funnelled through one: rank r owns the queries
/// shard_rows(Q, P, r), and one MPI_Alltoallv sends each rank the partial results of the queries it
/// owns. Each rank then sends and receives about Q k / P results per peer, Q k (12 bytes each:
/// int64 index + int32 distance) in all, whatever P is, and merges only its Q / P queries. The
/// shards' index ranges increase with the rank, so concatenating the parts in rank order and
/// sorting stably by distance orders them by (distance, global index); the first k of that are
/// the global top k, since any code of the global top k is in the top k of its own shard.
#include <algorithm>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

#include "rlhash/dist/communicator.hpp"
#include "rlhash/dist/shard.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash::dist {

/// The results of the queries a rank owns: queries [first_query, first_query + result.queries).
struct OwnedKnn {
  Index first_query = 0;
  KnnResult result;
};
struct OwnedRange {
  Index first_query = 0;
  RangeResult result;
};

namespace detail {

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<std::int64_t>() {
  return MPI_INT64_T;
}
template <>
inline MPI_Datatype mpi_type<std::int32_t>() {
  return MPI_INT32_T;
}

/// Exchanges blocks: send_counts[r] entries of `send` (in rank order) go to rank r; returns what
/// every rank sent here, in rank order, and the counts received from each rank.
template <class T>
std::vector<T> all_to_all(const Communicator& comm, const std::vector<T>& send, const std::vector<std::int64_t>& send_counts,
                          std::vector<std::int64_t>& receive_counts) {
  const auto p = static_cast<std::size_t>(comm.size());
  receive_counts.assign(p, 0);
  check_mpi(MPI_Alltoall(send_counts.data(), 1, MPI_INT64_T, receive_counts.data(), 1, MPI_INT64_T, comm.get()),
            "MPI_Alltoall");
  std::vector<int> sc(p), sd(p), rc(p), rd(p);
  std::int64_t send_at = 0, receive_at = 0;
  for (std::size_t r = 0; r < p; ++r) {
    sc[r] = as_count(send_counts[r], "sharded search");
    sd[r] = as_count(send_at, "sharded search");
    rc[r] = as_count(receive_counts[r], "sharded search");
    rd[r] = as_count(receive_at, "sharded search");
    send_at += send_counts[r];
    receive_at += receive_counts[r];
  }
  std::vector<T> received(static_cast<std::size_t>(receive_at));
  check_mpi(MPI_Alltoallv(send.data(), sc.data(), sd.data(), mpi_type<T>(), received.data(), rc.data(), rd.data(),
                          mpi_type<T>(), comm.get()),
            "MPI_Alltoallv");
  return received;
}

/// Sorts (distance, index) pairs gathered in rank order into (distance, global index) order.
inline void sort_merged(std::vector<std::pair<std::int32_t, Index>>& merged) {
  std::stable_sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace detail

/// Exact kNN of every query in the sharded database (collective). Returns the results of the
/// queries this rank owns (shard_rows(queries.size, P, rank)), equal to those rows of
/// knn_search(queries, whole database, k).
inline OwnedKnn sharded_knn_search(const Communicator& comm, const CodesView& queries, const CodeShard& shard, Index k,
                                   int threads = 0) {
  KnnResult local;
  agree(comm, [&] {
    rlhash::detail::require_k(k);
    local = knn_search(queries, shard.codes, k, threads);
  });
  for (Index& index : local.indices)
    if (index >= 0) index += shard.offset;

  const Index q = queries.size;
  const int p = comm.size();
  std::vector<std::int64_t> send_counts(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) send_counts[static_cast<std::size_t>(r)] = shard_rows(q, p, r).size() * k;
  std::vector<std::int64_t> receive_counts;
  const std::vector<Index> indices = detail::all_to_all(comm, local.indices, send_counts, receive_counts);
  const std::vector<std::int32_t> distances = detail::all_to_all(comm, local.distances, send_counts, receive_counts);

  const RowRange mine = shard_rows(q, p, comm.rank());
  OwnedKnn owned;
  owned.first_query = mine.begin;
  owned.result.queries = mine.size();
  owned.result.k = k;
  owned.result.indices.assign(static_cast<std::size_t>(mine.size() * k), Index{-1});
  owned.result.distances.assign(static_cast<std::size_t>(mine.size() * k), std::int32_t{-1});
  std::vector<std::pair<std::int32_t, Index>> merged;
  for (Index query = 0; query < mine.size(); ++query) {
    merged.clear();
    for (int r = 0; r < p; ++r)  // rank r's block holds mine.size() rows of k
      for (Index j = 0; j < k; ++j) {
        const auto at = static_cast<std::size_t>((r * mine.size() + query) * k + j);
        if (indices[at] >= 0) merged.emplace_back(distances[at], indices[at]);
      }
    detail::sort_merged(merged);
    const std::size_t count = std::min(merged.size(), static_cast<std::size_t>(k));
    for (std::size_t j = 0; j < count; ++j) {
      owned.result.distances[static_cast<std::size_t>(query * k) + j] = merged[j].first;
      owned.result.indices[static_cast<std::size_t>(query * k) + j] = merged[j].second;
    }
  }
  return owned;
}

/// Every database code within `radius` of each query in the sharded database (collective).
/// Returns the results of the queries this rank owns, equal to those queries' results of
/// range_search(queries, whole database, radius); lims start at 0.
inline OwnedRange sharded_range_search(const Communicator& comm, const CodesView& queries, const CodeShard& shard,
                                       int radius, int threads = 0) {
  RangeResult local;
  agree(comm, [&] { local = range_search(queries, shard.codes, radius, threads); });
  for (Index& index : local.indices) index += shard.offset;

  const Index q = queries.size;
  const int p = comm.size();
  // First the per-query counts of each owner's queries, then the results themselves.
  std::vector<std::int64_t> counts(static_cast<std::size_t>(q));
  for (Index query = 0; query < q; ++query) counts[static_cast<std::size_t>(query)] = local.count(query);
  std::vector<std::int64_t> count_blocks(static_cast<std::size_t>(p)), result_blocks(static_cast<std::size_t>(p));
  for (int r = 0; r < p; ++r) {
    const RowRange owner = shard_rows(q, p, r);
    count_blocks[static_cast<std::size_t>(r)] = owner.size();
    result_blocks[static_cast<std::size_t>(r)] =
        local.lims[static_cast<std::size_t>(owner.end)] - local.lims[static_cast<std::size_t>(owner.begin)];
  }
  std::vector<std::int64_t> received_counts;
  const std::vector<std::int64_t> part_counts = detail::all_to_all(comm, counts, count_blocks, received_counts);
  const std::vector<Index> indices = detail::all_to_all(comm, local.indices, result_blocks, received_counts);
  const std::vector<std::int32_t> distances = detail::all_to_all(comm, local.distances, result_blocks, received_counts);

  const RowRange mine = shard_rows(q, p, comm.rank());
  // Where each source rank's results for each owned query start in the received arrays.
  std::vector<std::int64_t> starts(static_cast<std::size_t>(p * mine.size()));
  std::int64_t at = 0;
  for (int r = 0; r < p; ++r)
    for (Index query = 0; query < mine.size(); ++query) {
      const auto slot = static_cast<std::size_t>(r * mine.size() + query);
      starts[slot] = at;
      at += part_counts[slot];
    }
  OwnedRange owned;
  owned.first_query = mine.begin;
  RangeResult& result = owned.result;
  result.queries = mine.size();
  result.lims.assign(static_cast<std::size_t>(mine.size()) + 1, 0);
  result.indices.reserve(indices.size());
  result.distances.reserve(distances.size());
  std::vector<std::pair<std::int32_t, Index>> merged;
  for (Index query = 0; query < mine.size(); ++query) {
    merged.clear();
    for (int r = 0; r < p; ++r) {
      const auto slot = static_cast<std::size_t>(r * mine.size() + query);
      for (std::int64_t j = starts[slot]; j < starts[slot] + part_counts[slot]; ++j)
        merged.emplace_back(distances[static_cast<std::size_t>(j)], indices[static_cast<std::size_t>(j)]);
    }
    detail::sort_merged(merged);
    for (const auto& [distance, index] : merged) {
      result.distances.push_back(distance);
      result.indices.push_back(index);
    }
    result.lims[static_cast<std::size_t>(query) + 1] = static_cast<std::int64_t>(result.indices.size());
  }
  return owned;
}

}  // namespace rlhash::dist
