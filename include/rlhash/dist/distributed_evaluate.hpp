#pragma once
/// \file
/// Retrieval evaluation with the queries split across MPI ranks: bit-for-bit the report
/// evaluate() gives in one process. The evaluation sums its per-query metrics in fixed blocks of
/// detail::eval_block_size queries and adds the block sums in block order; here rank r evaluates
/// the blocks of shard_rows(Q, P, r, block size) against the whole database, and one
/// MPI_Allgatherv hands every rank all block sums in block order, which it adds exactly as one
/// process does. Traffic: (Q / 64) x (5 + cutoffs + 2 (bits + 1)) doubles to every rank.
#include <vector>

#include "rlhash/dist/communicator.hpp"
#include "rlhash/dist/shard.hpp"
#include "rlhash/eval/evaluate.hpp"

namespace rlhash::dist {

/// evaluate(queries, database, query_labels, database_labels, options) with the queries split
/// across the ranks of `comm` (collective; every rank passes the same arguments and gets the
/// same report).
template <class DistanceFn = rlhash::detail::SimdHammingDistances>
EvalReport distributed_evaluate(const Communicator& comm, const BinaryCodes& queries, const BinaryCodes& database,
                                const Labels& query_labels, const Labels& database_labels,
                                const EvalOptions& options = {}, DistanceFn distance = {}) {
  const RowRange mine = shard_rows(queries.size(), comm.size(), comm.rank(), rlhash::detail::eval_block_size);
  std::vector<double> sums;
  agree(comm, [&] {
    sums = rlhash::detail::evaluation_block_sums(queries, database, query_labels, database_labels,
                                                 rlhash::detail::self_exclusions(queries, database, options), options,
                                                 std::move(distance), mine.begin, mine.end);
  });
  const detail::Layout layout =
      detail::layout_of(comm.all_gather(static_cast<std::int64_t>(sums.size())), "distributed evaluation");
  std::vector<double> all(static_cast<std::size_t>(layout.total));
  check_mpi(MPI_Allgatherv(sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, all.data(), layout.counts.data(),
                           layout.offsets.data(), MPI_DOUBLE, comm.get()),
            "MPI_Allgatherv");
  return rlhash::detail::evaluation_report(all, queries.size(), options, database.bits());
}

}  // namespace rlhash::dist
