// rlhash metrics: every retrieval metric on codes a user already has, whatever produced them.
#include <cstdio>
#include <limits>

#include "code_options.hpp"
#include "command.hpp"
#include "data_options.hpp"
#include "distributed.hpp"
#include "output_paths.hpp"
#include "report.hpp"
#include "rlhash/core/file.hpp"

namespace rlhash::cli {
namespace {

struct MetricsOptions {
  std::string database_codes, query_codes, database_labels, query_labels, format = "packed";
  int bits = 0;
  std::vector<int> top_k{1000};
  std::vector<int> precision_at{100, 500, 1000};
  int radius = 2;
  bool distributed = false;
};

void run(const MetricsOptions& o, const CommonOptions& common) {
  validate_outputs({{"--json", common.json_path}}, {{"--database-codes", o.database_codes},
                                                    {"--query-codes", o.query_codes},
                                                    {"--database-labels", o.database_labels},
                                                    {"--query-labels", o.query_labels}});
  if (o.distributed)
    return run_distributed_metrics({o.database_codes, o.query_codes, o.database_labels, o.query_labels,
                                    o.format, o.bits, o.top_k, o.precision_at, o.radius},
                                   common);
  const CodeFormat format = parse_code_format(o.format);
  const BinaryCodes database = read_codes(o.database_codes, o.bits, format);
  const BinaryCodes queries = read_codes(o.query_codes, o.bits, format);
  const Labels database_labels = read_labels(o.database_labels);
  const Labels query_labels = read_labels(o.query_labels);
  if (database_labels.size() != database.size() || query_labels.size() != queries.size())
    throw InvalidArgument("labels and codes differ in count: " + std::to_string(database.size()) +
                          " database codes, " + std::to_string(database_labels.size()) +
                          " database labels, " + std::to_string(queries.size()) + " query codes, " +
                          std::to_string(query_labels.size()) + " query labels");
  EvalOptions options;
  options.map_at = o.top_k;
  options.precision_at = o.precision_at;
  options.radius = o.radius;
  options.threads = common.threads;
  ResultRow row{"codes",
                o.bits,
                common.seed,
                evaluate(queries, database, query_labels, database_labels, options),
                0,
                0,
                code_health(database),
                {}};
  print_table_header(options);
  print_table_row(row);
  if (!common.json_path.empty()) {
    JsonWriter json;
    write_result(json, row);
    const std::string text = json.str() + "\n";
    write_file_atomic(common.json_path, text.data(), text.size());
  }
}

const RegisterCommand metrics_command{
    {"metrics", "Retrieval metrics of query codes against database codes",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<MetricsOptions>();
       app.add_option("--database-codes", o->database_codes, "Database code file (.npy)")->required();
       app.add_option("--query-codes", o->query_codes, "Query code file (.npy)")->required();
       app.add_option("--bits", o->bits, "Code length in bits")->required()->check(CLI::Range(1, 1024));
       app.add_option("--database-labels", o->database_labels, "Database labels")->required();
       app.add_option("--query-labels", o->query_labels, "Query labels")->required();
       app.add_option("--top-k", o->top_k, "Cutoffs k of mAP@k")
           ->delimiter(',')
           ->check(CLI::Range(1, std::numeric_limits<int>::max()))
           ->default_str("1000");
       app.add_option("--precision-at", o->precision_at, "Cutoffs k of precision@k")
           ->delimiter(',')
           ->check(CLI::Range(1, std::numeric_limits<int>::max()))
           ->default_str("100,500,1000");
       app.add_option("--radius", o->radius, "Hamming radius of precision within radius")
           ->default_val(2)
           ->check(CLI::Range(0, 1024));
       add_code_format_option(app, o->format);
       add_distributed_flag(app, o->distributed);
       add_common_options(app, common, false);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
