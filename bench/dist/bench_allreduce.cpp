// The data-parallel gradient sum (dist::replicas_of: reduce-scatter, rank-order sums, allgather)
// against MPI_Allreduce on the same buffers in the same run, for the parameter counts of the
// default networks (docs/distributed.md). Every rank runs the same fixed number of repetitions;
// rank 0 prints the best time of each.
//   mpirun -np 2 bench_allreduce [REPETITIONS]
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "rlhash/dist/replicas.hpp"

namespace {

template <class Sum>
double best_seconds(const rlhash::dist::Communicator& comm, int repetitions, Sum&& sum) {
  double best = 1e300;
  for (int i = 0; i < repetitions; ++i) {
    comm.barrier();
    const auto start = std::chrono::steady_clock::now();
    sum();
    const double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double slowest = 0;  // a step waits for the slowest rank
    MPI_Allreduce(&local, &slowest, 1, MPI_DOUBLE, MPI_MAX, comm.get());
    best = std::min(best, slowest);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const rlhash::dist::Environment mpi(&argc, &argv);
  const rlhash::dist::Communicator comm;
  const rlhash::nn::Replicas replicas = rlhash::dist::replicas_of(comm);
  const int repetitions = argc > 1 ? std::atoi(argv[1]) : 20;
  if (comm.rank() == 0)
    std::printf("%d ranks, best of %d\n%-44s %12s %14s %14s %8s\n", comm.size(), repetitions, "network (32 bits)",
                "parameters", "ordered sum", "MPI_Allreduce", "ratio");
  const struct {
    const char* name;
    std::size_t parameters;
  } networks[] = {{"dsh, hashnet, csq, greedyhash, dpsh", 836640},
                  {"fc-triplet, dph", 1345056},
                  {"drlih", 1599264}};
  for (const auto& network : networks) {
    std::vector<float> gradient(network.parameters, 1.0f + static_cast<float>(comm.rank()));
    std::vector<float> reduced(network.parameters);
    const double ordered = best_seconds(comm, repetitions, [&] { replicas.sum(gradient.data(), gradient.size()); });
    const double allreduce = best_seconds(comm, repetitions, [&] {
      MPI_Allreduce(gradient.data(), reduced.data(), static_cast<int>(gradient.size()), MPI_FLOAT, MPI_SUM, comm.get());
    });
    if (comm.rank() == 0)
      std::printf("%-44s %12zu %11.3f ms %11.3f ms %7.2fx\n", network.name, network.parameters, ordered * 1e3,
                  allreduce * 1e3, ordered / allreduce);
  }
  return 0;
}
