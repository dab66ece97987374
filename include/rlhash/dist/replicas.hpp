#pragma once
/// \file
/// The ranks of an MPI communicator as the replicas of a data-parallel training run
/// (nn/replicas.hpp): `FitOptions::replicas = &replicas` trains the network methods with each
/// rank computing its part of every global batch.
///
/// The gradient sum is a deterministic allreduce. The flat gradient (p values) is cut into P
/// slices; one MPI_Alltoallv hands rank j every rank's slice j; rank j adds them in rank order
/// (0, 1, ..., P - 1); one MPI_Allgatherv hands every rank all summed slices. Each value is thus
/// added in the same order whichever rank holds it, and every rank gets the same bits — which
/// MPI_Allreduce does not promise (its reduction order may differ between ranks and with the
/// algorithm MPI picks). Traffic per rank and step: sends and receives (P - 1) / P x p values
/// twice, as a ring allreduce; the batch outputs' gather adds bits x batch values per rank.
#include <cstdint>
#include <vector>

#include "rlhash/dist/communicator.hpp"
#include "rlhash/dist/shard.hpp"
#include "rlhash/nn/replicas.hpp"

namespace rlhash::dist {

namespace detail {

template <class S>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}

/// Sums `n` values over the ranks of `comm` in rank order, the same bits on every rank.
template <class S>
void ordered_sum(const Communicator& comm, S* values, std::size_t n) {
  const int ranks = comm.size();
  if (ranks == 1) return;
  const auto total = static_cast<Index>(n);
  std::vector<int> counts(static_cast<std::size_t>(ranks)), offsets(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) {
    const RowRange slice = shard_rows(total, ranks, r);
    counts[static_cast<std::size_t>(r)] = as_count(slice.size(), "data-parallel gradient sum");
    offsets[static_cast<std::size_t>(r)] = as_count(slice.begin, "data-parallel gradient sum");
  }
  // Every rank's copy of this rank's slice, in rank order.
  const int mine = counts[static_cast<std::size_t>(comm.rank())];
  std::vector<S> parts(static_cast<std::size_t>(mine) * static_cast<std::size_t>(ranks));
  std::vector<int> part_counts(static_cast<std::size_t>(ranks), mine), part_offsets(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) part_offsets[static_cast<std::size_t>(r)] = as_count(std::int64_t{mine} * r, "data-parallel gradient sum");
  const MPI_Datatype type = mpi_type<S>();
  check_mpi(MPI_Alltoallv(values, counts.data(), offsets.data(), type, parts.data(), part_counts.data(),
                          part_offsets.data(), type, comm.get()),
            "MPI_Alltoallv");
  std::vector<S> summed(parts.begin(), parts.begin() + mine);
  for (int r = 1; r < ranks; ++r)
    for (int i = 0; i < mine; ++i) summed[static_cast<std::size_t>(i)] += parts[static_cast<std::size_t>(r * mine + i)];
  check_mpi(MPI_Allgatherv(summed.data(), mine, type, values, counts.data(), offsets.data(), type, comm.get()),
            "MPI_Allgatherv");
}

}  // namespace detail

/// The ranks of `comm` as data-parallel replicas (rank r is replica r). `comm` must outlive the
/// result; only the thread that talks to MPI may train with it.
inline nn::Replicas replicas_of(const Communicator& comm) {
  nn::Replicas replicas;
  replicas.rank = comm.rank();
  replicas.count = comm.size();
  replicas.sum_floats = [comm](float* values, std::size_t n) { detail::ordered_sum(comm, values, n); };
  replicas.sum_doubles = [comm](double* values, std::size_t n) { detail::ordered_sum(comm, values, n); };
  replicas.concatenate = [comm](const void* mine, void* all, const std::vector<std::int64_t>& sizes) {
    std::vector<int> counts(sizes.size()), offsets(sizes.size());
    std::int64_t at = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      counts[r] = detail::as_count(sizes[r], "data-parallel batch gather");
      offsets[r] = detail::as_count(at, "data-parallel batch gather");
      at += sizes[r];
    }
    check_mpi(MPI_Allgatherv(mine, counts[static_cast<std::size_t>(comm.rank())], MPI_BYTE, all, counts.data(),
                             offsets.data(), MPI_BYTE, comm.get()),
              "MPI_Allgatherv");
  };
  replicas.all_ok = [comm](bool ok) {
    for (const std::int64_t flag : comm.all_gather(ok ? 1 : 0))
      if (flag == 0) return false;
    return true;
  };
  return replicas;
}

}  // namespace rlhash::dist
