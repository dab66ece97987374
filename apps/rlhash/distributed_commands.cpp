// The --distributed paths of search, encode and metrics (distributed.hpp), one MPI job each:
// every step that can fail on one rank is agreed (rlhash/dist/communicator.hpp), so a failure
// stops every rank with one message, printed by rank 0, naming the failing rank and its cause,
// and no output file appears.
#include "distributed.hpp"
#include "rlhash/core/error.hpp"

#ifdef RLHASH_HAS_MPI
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "data_options.hpp"
#include "device_option.hpp"
#include "json_writer.hpp"
#include "method_options.hpp"
#include "report.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/dist/distributed_evaluate.hpp"
#include "rlhash/dist/replicas.hpp"
#include "rlhash/dist/sharded_search.hpp"
#include "rlhash/dist/shared_file.hpp"
#include "rlhash/methods/model.hpp"
#endif

namespace rlhash::cli {

#ifdef RLHASH_HAS_MPI
namespace {

/// Runs `job` as one MPI job. An agreed failure is reported once, by rank 0, and every rank
/// leaves with status 1 after it; anything else (an error inside a collective)
/// names this rank and stops every rank with MPI_Abort.
template <class Job>
void run_as_job(Job&& job) {
  const dist::Environment mpi;
  const dist::Communicator comm;
  try {
    job(comm);
  } catch (const dist::DistributedError& e) {
    // Rank 0 prints before any rank leaves: mpirun stops the job when the first rank exits
    // with an error, which could otherwise kill rank 0 before its message is out.
    if (comm.rank() == 0) {
      std::fprintf(stderr, "rlhash: error: %s\n", e.what());
      std::fflush(stderr);
    }
    MPI_Barrier(comm.get());
    MPI_Finalize();
    std::exit(1);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rlhash: error: rank %d: %s\n", comm.rank(), e.what());
    MPI_Abort(comm.get(), 1);
  }
}

/// The options as one text, compared across ranks before any work.
std::string options_text(std::initializer_list<std::string> values) {
  std::string text;
  for (const auto& value : values) text += value + " | ";
  return text;
}

std::string join(const std::vector<int>& values) {
  std::string text;
  for (const int value : values) text += std::to_string(value) + ",";
  return text;
}

std::int64_t sum_over_ranks(const dist::Communicator& comm, std::int64_t value) {
  std::int64_t total = 0;
  for (const std::int64_t part : comm.all_gather(value)) total += part;
  return total;
}

void write_json_atomic(const std::string& path, const JsonWriter& json) {
  const std::string text = json.str() + "\n";
  write_file_atomic(path, text.data(), text.size());
}

void search_job(const DistributedSearch& o, const CommonOptions& common, const dist::Communicator& comm) {
  dist::require_same_on_all_ranks(
      comm,
      options_text({o.database_codes, o.query_codes, o.indices, o.distances, o.lims, o.format, o.device,
                    std::to_string(o.bits), std::to_string(o.k), std::to_string(o.radius), common.json_path}),
      "search options");
  CodeFormat format{};
  dist::agree(comm, [&] {
    if ((o.k > 0) == (o.radius >= 0)) throw InvalidArgument("give exactly one of --k and --radius");
    if (o.radius >= 0 && o.lims.empty())
      throw InvalidArgument("--radius needs --lims (the per-query offsets)");
    if (o.device != "cpu")
      throw InvalidArgument("--distributed searches on the CPU; drop --device " + o.device);
    format = parse_code_format(o.format);
  });
  const dist::CodeShard shard = dist::read_code_shard(comm, o.database_codes, o.bits, format);
  BinaryCodes queries;
  dist::agree(comm, [&] { queries = read_codes(o.query_codes, o.bits, format); });

  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  double seconds = 0;
  std::int64_t results = 0;
  const Index q = queries.size();
  if (o.k > 0) {
    const dist::OwnedKnn r = dist::sharded_knn_search(comm, queries, shard, o.k, common.threads);
    comm.barrier();
    seconds = seconds_since(start);
    const Index first = r.first_query * o.k, count = r.result.queries * o.k;
    dist::write_shared_npy(comm, o.indices, {q, o.k}, first, r.result.indices.data(), count);
    dist::write_shared_npy(comm, o.distances, {q, o.k}, first, r.result.distances.data(), count);
    results = q * o.k;
  } else {
    dist::OwnedRange r = dist::sharded_range_search(comm, queries, shard, o.radius, common.threads);
    comm.barrier();
    seconds = seconds_since(start);
    const auto mine = static_cast<std::int64_t>(r.result.indices.size());
    const std::int64_t before = comm.exclusive_sum(mine);
    results = sum_over_ranks(comm, mine);
    dist::write_shared_npy(comm, o.indices, {results}, before, r.result.indices.data(), mine);
    dist::write_shared_npy(comm, o.distances, {results}, before, r.result.distances.data(), mine);
    // lims: this rank's queries, shifted to global offsets; the last rank adds the final entry.
    std::vector<std::int64_t>& lims = r.result.lims;
    for (auto& lim : lims) lim += before;
    if (comm.rank() + 1 < comm.size()) lims.pop_back();
    dist::write_shared_npy(comm, o.lims, {q + 1}, r.first_query, lims.data(),
                           static_cast<Index>(lims.size()));
  }
  if (comm.rank() != 0) return;
  std::fprintf(stderr, "searched %lld queries in %lld codes on %d ranks: %lld results in %.4f s (SIMD %s)\n",
               static_cast<long long>(q), static_cast<long long>(shard.total), comm.size(),
               static_cast<long long>(results), seconds, to_string(active_simd_path()));
  if (common.json_path.empty()) return;
  JsonWriter json;
  json.begin_object()
      .field("queries", static_cast<long long>(q))
      .field("database", static_cast<long long>(shard.total))
      .field("bits", o.bits)
      .field("mode", o.k > 0 ? "knn" : "range")
      .field(o.k > 0 ? "k" : "radius", o.k > 0 ? static_cast<long long>(o.k) : o.radius)
      .field("results", static_cast<long long>(results))
      .field("search_seconds", seconds)
      .field("ranks", comm.size())
      .field("simd", to_string(active_simd_path()))
      .end_object();
  write_json_atomic(common.json_path, json);
}

/// This rank's rows of a feature file: only those rows of a plain .npy (memory-mapped), the
/// rows of the whole array otherwise. uint8 features are scaled to [0, 1] as read_features does.
struct FeatureRows {
  MatrixF features;
  dist::RowRange rows;
  Index total = 0;
};

FeatureRows read_feature_rows(const std::string& spec, bool no_scale, const dist::Communicator& comm) {
  FeatureRows out;
  const auto take = [&](Index total) {
    if (total < comm.size())
      throw InvalidArgument("'" + spec + "' holds " + std::to_string(total) + " items for " +
                            std::to_string(comm.size()) + " ranks; expected at least one item per rank");
    out.total = total;
    out.rows = dist::shard_rows(total, comm.size(), comm.rank());
  };
  if (spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".npy") == 0) {
    const NpyMap map(spec);
    take(map.items());
    const std::size_t row_bytes = static_cast<std::size_t>(map.dims()) * dtype_itemsize(map.dtype());
    out.features.resize(map.dims(), out.rows.size());
    rlhash::detail::convert_elements(map.bytes() + static_cast<std::size_t>(out.rows.begin) * row_bytes,
                                     map.dtype(), static_cast<std::size_t>(out.features.size()),
                                     out.features.data(), spec);
    if (map.dtype() == "|u1" && !no_scale) out.features /= 255.0f;
    return out;
  }
  const MatrixF all = read_features(spec, no_scale);
  take(all.cols());
  out.features = all.middleCols(out.rows.begin, out.rows.size());
  return out;
}

void encode_job(const DistributedEncode& o, const CommonOptions& common, const dist::Communicator& comm) {
  dist::require_same_on_all_ranks(comm,
                                  options_text({o.model, o.features, o.codes, o.format, o.device,
                                                std::to_string(o.no_scale), common.json_path}),
                                  "encode options");
  std::optional<Model> model;
  DeviceChoice device;
  CodeFormat format{};
  dist::agree(comm, [&] {
    format = parse_code_format(o.format);
    const DeviceChoice requested = select_device(o.device);
    model.emplace(Model::load(o.model, model_overrides(Model::method_of(o.model), common.sets)));
    device = device_for(requested, model->hasher.method());
  });
  FeatureRows rows;
  dist::agree(comm, [&] { rows = read_feature_rows(o.features, o.no_scale, comm); });
  comm.barrier();
  const auto start = std::chrono::steady_clock::now();
  NdArray array;
  dist::agree(comm, [&] { array = codes_to_array(encode_on(device, *model, rows.features), format); });
  comm.barrier();
  const double seconds = seconds_since(start);
  const Index width = array.shape()[1];
  const std::size_t row_bytes = static_cast<std::size_t>(width) * array.itemsize();
  dist::write_shared_file(comm, o.codes, npy_header(array.dtype(), {rows.total, width}),
                          static_cast<std::uint64_t>(rows.rows.begin) * row_bytes, array.bytes(),
                          array.nbytes());
  if (comm.rank() == 0)
    std::printf("encoded %lld items to %d-bit codes in %.3f s on %d ranks; wrote %s\n",
                static_cast<long long>(rows.total), model->hasher.bits(), seconds, comm.size(),
                o.codes.c_str());
}

void require_labels_match(const BinaryCodes& database, const BinaryCodes& queries,
                          const Labels& database_labels, const Labels& query_labels) {
  if (database_labels.size() != database.size() || query_labels.size() != queries.size())
    throw InvalidArgument("labels and codes differ in count: " + std::to_string(database.size()) +
                          " database codes, " + std::to_string(database_labels.size()) +
                          " database labels, " + std::to_string(queries.size()) + " query codes, " +
                          std::to_string(query_labels.size()) + " query labels");
}

void metrics_job(const DistributedMetrics& o, const CommonOptions& common, const dist::Communicator& comm) {
  dist::require_same_on_all_ranks(
      comm,
      options_text({o.database_codes, o.query_codes, o.database_labels, o.query_labels, o.format,
                    std::to_string(o.bits), join(o.top_k), join(o.precision_at), std::to_string(o.radius),
                    common.json_path}),
      "metrics options");
  BinaryCodes database, queries;
  Labels database_labels, query_labels;
  dist::agree(comm, [&] {
    const CodeFormat format = parse_code_format(o.format);
    database = read_codes(o.database_codes, o.bits, format);
    queries = read_codes(o.query_codes, o.bits, format);
    database_labels = read_labels(o.database_labels);
    query_labels = read_labels(o.query_labels);
    require_labels_match(database, queries, database_labels, query_labels);
  });
  EvalOptions options;
  options.map_at = o.top_k;
  options.precision_at = o.precision_at;
  options.radius = o.radius;
  options.threads = common.threads;
  ResultRow row{"codes",
                o.bits,
                common.seed,
                dist::distributed_evaluate(comm, queries, database, query_labels, database_labels, options),
                0,
                0,
                {},
                {}};
  if (comm.rank() != 0) return;
  row.health = code_health(database);  // every rank holds the whole database; rank 0 reports
  print_table_header(options);
  print_table_row(row);
  if (common.json_path.empty()) return;
  JsonWriter json;
  write_result(json, row);
  write_json_atomic(common.json_path, json);
}

/// The codes of every column of `x`, each rank encoding its columns shard_rows(N, P, rank) and
/// one MPI_Allgatherv of the packed rows: the hashers encode item by item, so the codes are
/// those of one process.
BinaryCodes encode_split(const dist::Communicator& comm, const nn::Replicas& replicas, const MatrixF& x,
                         const Job::Encoder& encode) {
  const dist::RowRange mine = dist::shard_rows(x.cols(), comm.size(), comm.rank());
  BinaryCodes part;
  dist::agree(comm, [&] { part = encode(x.middleCols(mine.begin, mine.size())); });
  dist::require_same_on_all_ranks(comm, std::to_string(part.bits()), "code lengths");
  BinaryCodes all(x.cols(), part.bits());
  const auto row_bytes = static_cast<std::int64_t>(all.words()) * 8;
  std::vector<std::int64_t> sizes(static_cast<std::size_t>(comm.size()));
  for (int r = 0; r < comm.size(); ++r)
    sizes[static_cast<std::size_t>(r)] = dist::shard_rows(x.cols(), comm.size(), r).size() * row_bytes;
  replicas.concatenate(part.data(), all.data(), sizes);
  return all;
}

}  // namespace

void run_distributed_job(const std::string& options, const std::function<void(const Job&)>& command) {
  run_as_job([&](const dist::Communicator& comm) {
    dist::require_same_on_all_ranks(comm, options, "options");
    const nn::Replicas replicas = dist::replicas_of(comm);
    Job job;
    job.replicas = &replicas;
    job.leader = comm.rank() == 0;
    job.agree = [&comm](const std::function<void()>& step) { dist::agree(comm, step); };
    job.encode = [&](const MatrixF& x, const Job::Encoder& encode) {
      return encode_split(comm, replicas, x, encode);
    };
    job.evaluate = [&comm](const BinaryCodes& queries, const BinaryCodes& database,
                           const Labels& query_labels, const Labels& database_labels,
                           const EvalOptions& eval_options) {
      return dist::distributed_evaluate(comm, queries, database, query_labels, database_labels, eval_options);
    };
    command(job);
  });
}

void run_distributed_search(const DistributedSearch& o, const CommonOptions& common) {
  run_as_job([&](const dist::Communicator& comm) { search_job(o, common, comm); });
}
void run_distributed_encode(const DistributedEncode& o, const CommonOptions& common) {
  run_as_job([&](const dist::Communicator& comm) { encode_job(o, common, comm); });
}
void run_distributed_metrics(const DistributedMetrics& o, const CommonOptions& common) {
  run_as_job([&](const dist::Communicator& comm) { metrics_job(o, common, comm); });
}

#else

namespace {
[[noreturn]] void refuse_without_mpi() {
  throw InvalidArgument(
      "--distributed: this rlhash was built without MPI; install an MPI implementation (e.g. Debian's "
      "libopenmpi-dev) and reconfigure with RLHASH_WITH_MPI=ON");
}
}  // namespace

void run_distributed_job(const std::string&, const std::function<void(const Job&)>&) { refuse_without_mpi(); }
void run_distributed_search(const DistributedSearch&, const CommonOptions&) { refuse_without_mpi(); }
void run_distributed_encode(const DistributedEncode&, const CommonOptions&) { refuse_without_mpi(); }
void run_distributed_metrics(const DistributedMetrics&, const CommonOptions&) { refuse_without_mpi(); }

#endif

}  // namespace rlhash::cli
