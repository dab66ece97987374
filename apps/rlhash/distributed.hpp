#pragma once
// --distributed: search, encode and metrics as one job over the ranks of mpirun (rlhash::mpi).
// The subcommands parse their options as always and hand them here; without MPI in the build
// these entry points refuse with a clear message. train and eval run their own steps through a
// Job, which is one process or the ranks of mpirun.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "command.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/nn/replicas.hpp"

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

/// How a command's steps run: in one process (the defaults) or as one job over the ranks of
/// mpirun (run_distributed_job), where the networks train data-parallel, encoding and evaluation
/// are split across the ranks, and rank 0 alone prints and writes.
struct Job {
  using Encoder = std::function<BinaryCodes(const MatrixF&)>;
  const nn::Replicas* replicas = nullptr;  ///< FitOptions::replicas; null: one process
  bool leader = true;                      ///< prints and writes the outputs
  /// Runs a step that may fail on one rank: a failure on any rank fails it on every rank, with
  /// the first failing rank's message.
  std::function<void(const std::function<void()>&)> agree = [](const std::function<void()>& step) { step(); };
  /// The codes of every column of `x`: each rank encodes its share, every rank gets them all.
  std::function<BinaryCodes(const MatrixF& x, const Encoder& encode)> encode =
      [](const MatrixF& x, const Encoder& encode) { return encode(x); };
  /// evaluate(), the queries split across the ranks.
  std::function<EvalReport(const BinaryCodes&, const BinaryCodes&, const Labels&, const Labels&,
                           const EvalOptions&)>
      evaluate = [](const BinaryCodes& queries, const BinaryCodes& database, const Labels& query_labels,
                    const Labels& database_labels, const EvalOptions& options) {
        return rlhash::evaluate(queries, database, query_labels, database_labels, options);
      };
};

/// Runs `command` as one MPI job: `options` (the command line's settings as text) must be the
/// same on every rank; a failure agreed in a step is printed once, by rank 0, and every rank
/// exits with status 1.
void run_distributed_job(const std::string& options, const std::function<void(const Job&)>& command);

inline void add_distributed_flag(CLI::App& app, bool& distributed) {
  app.add_flag("--distributed", distributed,
               "One job over the ranks of mpirun (see docs/distributed.md); needs an MPI build");
}

}  // namespace rlhash::cli
