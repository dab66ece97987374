// rlhash index build|add|search: a persistent HammingIndex file (codes, ids and multi-index
// tables), so that the tables are built once and every later search is sublinear.
#include <cstdio>
#include <numeric>

#include "code_options.hpp"
#include "command.hpp"
#include "index_options.hpp"
#include "json_writer.hpp"
#include "method_options.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/io/npy.hpp"
#include "rlhash/search/hamming_index.hpp"

namespace rlhash::cli {
namespace {

struct IndexCommandOptions {
  std::string file, codes, ids, query_codes, indices, distances, lims, format = "packed";
  int bits = 0;
  Index k = 0;
  int radius = -1;
  bool no_tables = false;
  IndexOptions index;
};

/// The ids of `count` new codes: from --ids, else consecutive after the largest id present.
std::vector<std::int64_t> ids_for(const IndexCommandOptions& o, const HammingIndex& index, Index count) {
  if (!o.ids.empty()) {
    auto ids = read_npy_vector<std::int64_t>(o.ids);
    if (static_cast<Index>(ids.size()) != count)
      throw InvalidArgument("--ids '" + o.ids + "' holds " + std::to_string(ids.size()) + " ids for " +
                            std::to_string(count) + " codes");
    return ids;
  }
  std::int64_t next = 0;
  for (Index i = 0; i < index.size(); ++i) next = std::max(next, index.id(i) + 1);
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  std::iota(ids.begin(), ids.end(), next);
  return ids;
}

/// Adds the codes of --codes (tables rebuilt when the index has them), timing the tables.
void add_codes(const IndexCommandOptions& o, HammingIndex& index, int threads) {
  const BinaryCodes codes = read_codes(o.codes, index.bits(), parse_code_format(o.format));
  index.add(codes, ids_for(o, index, codes.size()));
  if (o.no_tables) {
    index.drop_tables();
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  index.build_tables(o.index.substrings, threads);
  std::fprintf(stderr, "built %d multi-index tables of %lld codes in %.4f s\n", index.tables().substrings(),
               static_cast<long long>(index.size()), seconds_since(start));
}

void build(const IndexCommandOptions& o, const CommonOptions& common) {
  HammingIndex index(o.bits);
  add_codes(o, index, common.threads);
  index.save(o.file);
  std::fprintf(stderr, "wrote %s: %lld codes of %d bits\n", o.file.c_str(),
               static_cast<long long>(index.size()), index.bits());
}

void add(const IndexCommandOptions& o, const CommonOptions& common) {
  HammingIndex index = HammingIndex::load(o.file);
  add_codes(o, index, common.threads);
  index.save(o.file);
  std::fprintf(stderr, "wrote %s: %lld codes of %d bits\n", o.file.c_str(),
               static_cast<long long>(index.size()), index.bits());
}

void search(const IndexCommandOptions& o, const CommonOptions& common) {
  if ((o.k > 0) == (o.radius >= 0)) throw InvalidArgument("give exactly one of --k and --radius");
  if (o.radius >= 0 && o.lims.empty()) throw InvalidArgument("--radius needs --lims (the per-query offsets)");
  const SearchMethod method = parse_search_method(o.index.method);
  const auto load_start = std::chrono::steady_clock::now();
  const HammingIndex index = HammingIndex::load(o.file);
  const double load_seconds = seconds_since(load_start);
  if (method == SearchMethod::mih && !index.has_tables())
    throw InvalidArgument("--index mih: '" + o.file + "' has no tables (build it without --no-tables)");
  const BinaryCodes queries = read_codes(o.query_codes, index.bits(), parse_code_format(o.format));
  std::fprintf(stderr, "loaded %s in %.4f s (%s)\n", o.file.c_str(), load_seconds,
               index.has_tables() ? "with tables" : "no tables");
  SearchPlan plan;
  const auto start = std::chrono::steady_clock::now();
  double seconds = 0;
  Index results = 0;
  if (o.k > 0) {
    const KnnResult r = index.knn(queries, o.k, method, common.threads, &plan);
    seconds = seconds_since(start);
    write_npy(o.indices, r.indices.data(), {r.queries, r.k});
    write_npy(o.distances, r.distances.data(), {r.queries, r.k});
    results = static_cast<Index>(r.indices.size());
  } else {
    const RangeResult r = index.range(queries, o.radius, method, common.threads);
    plan.used = method != SearchMethod::scan && index.has_tables() ? SearchMethod::mih : SearchMethod::scan;
    seconds = seconds_since(start);
    write_npy(o.indices, r.indices.data(), {static_cast<Index>(r.indices.size())});
    write_npy(o.distances, r.distances.data(), {static_cast<Index>(r.distances.size())});
    write_npy(o.lims, r.lims.data(), {static_cast<Index>(r.lims.size())});
    results = static_cast<Index>(r.indices.size());
  }
  std::fprintf(stderr, "searched %lld queries in %lld codes: %lld results in %.4f s (SIMD %s, %s)\n",
               static_cast<long long>(queries.size()), static_cast<long long>(index.size()),
               static_cast<long long>(results), seconds, to_string(active_simd_path()), to_string(plan.used));
  if (!common.json_path.empty()) {
    JsonWriter json;
    json.begin_object()
        .field("queries", static_cast<long long>(queries.size()))
        .field("database", static_cast<long long>(index.size()))
        .field("bits", index.bits())
        .field("mode", o.k > 0 ? "knn" : "range")
        .field(o.k > 0 ? "k" : "radius", o.k > 0 ? static_cast<long long>(o.k) : o.radius)
        .field("results", static_cast<long long>(results))
        .field("search_seconds", seconds)
        .field("load_seconds", load_seconds)
        .field("index", to_string(plan.used))
        .field("simd", to_string(active_simd_path()))
        .end_object();
    const std::string text = json.str() + "\n";
    write_file_atomic(common.json_path, text.data(), text.size());
  }
}

const RegisterCommand index_command{
    {"index", "A persistent Hamming index file: build, add codes, search (scan or multi-index)",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<IndexCommandOptions>();
       auto action = std::make_shared<std::function<void()>>();
       app.require_subcommand(1);
       CLI::App* b = app.add_subcommand("build", "Index --codes (ids from --ids or 0..N-1) into --file");
       CLI::App* a = app.add_subcommand("add", "Add --codes to the index --file (tables rebuilt)");
       CLI::App* s = app.add_subcommand("search", "kNN (--k) or range (--radius) search of --query-codes");
       for (CLI::App* sub : {b, a, s}) {
         sub->add_option("--file", o->file, "Index file (.rlhi)")->required();
         add_code_format_option(*sub, o->format);
         add_common_options(*sub, common, false);
       }
       for (CLI::App* sub : {b, a}) {
         sub->add_option("--codes", o->codes, "Code file (.npy) to add")->required();
         sub->add_option("--ids", o->ids, "int64 ids (.npy), one per code (default: consecutive)");
         sub->add_flag("--no-tables", o->no_tables, "Keep no multi-index tables (searches scan)");
         sub->add_option("--substrings", o->index.substrings,
                         "Multi-index substrings (0: about log2(N) bits each)")
             ->check(CLI::NonNegativeNumber)
             ->default_val(0);
       }
       b->add_option("--bits", o->bits, "Code length in bits")->required()->check(CLI::Range(1, 1024));
       s->add_option("--query-codes", o->query_codes, "Query code file (.npy)")->required();
       s->add_option("--k", o->k, "Number of nearest neighbours")->check(CLI::PositiveNumber);
       s->add_option("--radius", o->radius, "Hamming radius (inclusive)")->check(CLI::NonNegativeNumber);
       s->add_option("--indices", o->indices, "Output: int64 ids")->required();
       s->add_option("--distances", o->distances, "Output: int32 distances")->required();
       s->add_option("--lims", o->lims, "Output with --radius: int64 [nq + 1] offsets");
       s->add_option("--index", o->index.method, "scan, mih or auto (per batch, from a priced pilot)")
           ->check(CLI::IsMember({"scan", "mih", "auto"}))
           ->default_val("auto");
       b->callback([o, action, &common] { *action = [o, &common] { build(*o, common); }; });
       a->callback([o, action, &common] { *action = [o, &common] { add(*o, common); }; });
       s->callback([o, action, &common] { *action = [o, &common] { search(*o, common); }; });
       return [action] { (*action)(); };
     }}};

}  // namespace
}  // namespace rlhash::cli
