// rlhash search: exact kNN or range search of query codes in database codes.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <limits>

#include "code_options.hpp"
#include "command.hpp"
#include "device_option.hpp"
#include "distributed.hpp"
#include "index_options.hpp"
#include "json_writer.hpp"
#include "method_options.hpp"
#include "output_paths.hpp"
#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/io/npy.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash::cli {
namespace {

struct SearchOptions {
  std::string database_codes, query_codes, indices, distances, lims, format = "packed";
  int bits = 0;
  Index k = 0;
  int radius = -1;
  std::string device = "cpu";
  IndexOptions index;
  bool distributed = false;
};

void run(const SearchOptions& o, const CommonOptions& common) {
  if ((o.k > 0) == (o.radius >= 0)) throw InvalidArgument("give exactly one of --k and --radius");
  if (o.radius >= 0 && o.lims.empty()) throw InvalidArgument("--radius needs --lims (the per-query offsets)");
  validate_outputs({{"--indices", o.indices},
                    {"--distances", o.distances},
                    {"--lims", o.radius >= 0 ? o.lims : ""},
                    {"--json", common.json_path}},
                   {{"--database-codes", o.database_codes}, {"--query-codes", o.query_codes}});
  if (o.distributed)
    return run_distributed_search({o.database_codes, o.query_codes, o.indices, o.distances, o.lims, o.format,
                                   o.device, o.bits, o.k, o.radius},
                                  common);
  const DeviceChoice device = select_device(o.device);
  const CodeFormat format = parse_code_format(o.format);
  const BinaryCodes database = read_codes(o.database_codes, o.bits, format);
  const BinaryCodes queries = read_codes(o.query_codes, o.bits, format);
  check(o.k <= std::max<Index>(database.size(), 1), "--k ", o.k, " exceeds the ", database.size(),
        " codes of --database-codes '", o.database_codes, "'; expected 1 .. ", database.size());
  const SearchMethod method = parse_search_method(o.index.method);
  if (device.cuda && method == SearchMethod::mih)
    throw InvalidArgument("--index mih runs on the host; --device cuda scans on the GPU");
  double build_seconds = 0;
  const auto tables = device.cuda ? nullptr
                                  : build_tables_for(method, o.k > 0 ? queries.size() : 0, database,
                                                     o.index.substrings, common.threads, build_seconds);
  SearchPlan plan;
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();  // process CPU time: robust where the machine is shared
  double seconds = 0;
  double cpu_seconds = 0;  // of every thread of the process
  Index results = 0;
  if (o.k > 0) {
    const KnnResult r = sized_by(message("--k ", o.k, " with ", queries.size(), " queries"), [&] {
      return device.cuda ? knn_on_cuda(queries, database, o.k, device.index)
                         : planned_knn(queries, database, tables.get(), o.k, method, common.threads, &plan);
    });
    seconds = seconds_since(start);
    cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    // Both files or neither: a failure never leaves indices of one search beside distances of another.
    write_files_atomic(
        {{o.indices, npy_bytes(dtype_of<Index>(), {r.queries, r.k}, r.indices.data())},
         {o.distances, npy_bytes(dtype_of<std::int32_t>(), {r.queries, r.k}, r.distances.data())}});
    results = static_cast<Index>(r.indices.size());
  } else {
    const RangeResult r = sized_by(message("--radius ", o.radius, " with ", queries.size(), " queries"), [&] {
      return device.cuda ? range_on_cuda(queries, database, o.radius, device.index)
             : tables    ? tables->range(queries, database, o.radius, common.threads)
                         : range_search(queries, database, o.radius, common.threads);
    });
    plan.used = tables ? SearchMethod::mih : SearchMethod::scan;
    seconds = seconds_since(start);
    cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    const auto count = static_cast<Index>(r.indices.size());
    write_files_atomic(
        {{o.indices, npy_bytes(dtype_of<Index>(), {count}, r.indices.data())},
         {o.distances, npy_bytes(dtype_of<std::int32_t>(), {count}, r.distances.data())},
         {o.lims, npy_bytes(dtype_of<Index>(), {static_cast<Index>(r.lims.size())}, r.lims.data())}});
    results = static_cast<Index>(r.indices.size());
  }
  const std::string path =
      device.cuda ? device.text
                  : std::string("SIMD ") + to_string(active_simd_path()) + ", " + to_string(plan.used);
  std::fprintf(stderr, "searched %lld queries in %lld codes: %lld results in %.4f s (%s)\n",
               static_cast<long long>(queries.size()), static_cast<long long>(database.size()),
               static_cast<long long>(results), seconds, path.c_str());
  if (!common.json_path.empty()) {
    JsonWriter json;
    json.begin_object()
        .field("queries", static_cast<long long>(queries.size()))
        .field("database", static_cast<long long>(database.size()))
        .field("bits", o.bits)
        .field("mode", o.k > 0 ? "knn" : "range")
        .field(o.k > 0 ? "k" : "radius", o.k > 0 ? static_cast<long long>(o.k) : o.radius)
        .field("results", static_cast<long long>(results))
        .field("search_seconds", seconds)
        .field("search_cpu_seconds", cpu_seconds)
        .field("device", device.text)
        .field("simd", to_string(active_simd_path()))
        .field("index", device.cuda ? "scan" : to_string(plan.used))
        .field("table_build_seconds", build_seconds)
        .end_object();
    const std::string text = json.str() + "\n";
    write_file_atomic(common.json_path, text.data(), text.size());
  }
}

const RegisterCommand search_command{
    {"search", "Exact Hamming kNN (--k) or range (--radius) search",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<SearchOptions>();
       app.add_option("--database-codes", o->database_codes, "Database code file (.npy)")->required();
       app.add_option("--query-codes", o->query_codes, "Query code file (.npy)")->required();
       app.add_option("--bits", o->bits, "Code length in bits")->required()->check(CLI::Range(1, 1024));
       app.add_option("--k", o->k, "Number of nearest neighbours")
           ->check(CLI::Range(Index{1}, std::numeric_limits<Index>::max()));
       app.add_option("--radius", o->radius, "Hamming radius (inclusive)")->check(CLI::Range(0, 1024));
       app.add_option("--indices", o->indices, "Output: int64 indices")->required();
       app.add_option("--distances", o->distances, "Output: int32 distances")->required();
       app.add_option("--lims", o->lims, "Output with --radius: int64 [nq + 1] offsets");
       add_code_format_option(app, o->format);
       add_device_option(app, o->device, "Where the scan runs");
       add_index_options(app, o->index);
       add_distributed_flag(app, o->distributed);
       add_common_options(app, common, false);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
