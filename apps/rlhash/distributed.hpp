#pragma once
// --distributed: search, encode and metrics as one job over the ranks of mpirun (rlhash::mpi).
// The subcommands parse their options as always and hand them here; without MPI in the build
// these entry points refuse with a clear message.
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "command.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::cli {

struct DistributedSearch {
  std::string database_codes, query_codes, indices, distances, lims, format, device;
  int bits = 0;
  Index k = 0;
  int radius = -1;
};

struct DistributedEncode {
  std::string model, features, codes, format, device;
  bool no_scale = false;
};

struct DistributedMetrics {
  std::string database_codes, query_codes, database_labels, query_labels, format;
  int bits = 0;
  std::vector<int> top_k, precision_at;
  int radius = 2;
};

void run_distributed_search(const DistributedSearch& o, const CommonOptions& common);
void run_distributed_encode(const DistributedEncode& o, const CommonOptions& common);
void run_distributed_metrics(const DistributedMetrics& o, const CommonOptions& common);

inline void add_distributed_flag(CLI::App& app, bool& distributed) {
  app.add_flag("--distributed", distributed,
               "One job over the ranks of mpirun (see docs/distributed.md); needs an MPI build");
}

}  // namespace rlhash::cli
