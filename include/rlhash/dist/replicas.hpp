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
  // Slice r of the values belongs to rank r.
  std::vector<std::int64_t> slices(static_cast<std::size_t>(ranks));
  for (int r = 0; r < ranks; ++r) slices[static_cast<std::size_t>(r)] = shard_rows(static_cast<Index>(n), ranks, r).size();
  const Layout layout = layout_of(slices, "data-parallel gradient sum");
  // Every rank's copy of this rank's slice, in rank order.
  const std::int64_t mine = slices[static_cast<std::size_t>(comm.rank())];
  const Layout parts_layout =
      layout_of(std::vector<std::int64_t>(static_cast<std::size_t>(ranks), mine), "data-parallel gradient sum");
  std::vector<S> parts(static_cast<std::size_t>(parts_layout.total));
  const MPI_Datatype type = mpi_type<S>();
  check_mpi(MPI_Alltoallv(values, layout.counts.data(), layout.offsets.data(), type, parts.data(),
                          parts_layout.counts.data(), parts_layout.offsets.data(), type, comm.get()),
            "MPI_Alltoallv");
  std::vector<S> summed(parts.begin(), parts.begin() + mine);
  for (int r = 1; r < ranks; ++r)
    for (std::int64_t i = 0; i < mine; ++i) summed[static_cast<std::size_t>(i)] += parts[static_cast<std::size_t>(r * mine + i)];
  check_mpi(MPI_Allgatherv(summed.data(), static_cast<int>(mine), type, values, layout.counts.data(),
                           layout.offsets.data(), type, comm.get()),
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
    const detail::Layout layout = detail::layout_of(sizes, "data-parallel gather");
    check_mpi(MPI_Allgatherv(mine, layout.counts[static_cast<std::size_t>(comm.rank())], MPI_BYTE, all,
                             layout.counts.data(), layout.offsets.data(), MPI_BYTE, comm.get()),
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
