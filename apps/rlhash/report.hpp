#pragma once
// Printing evaluation results: the human table on stdout and the documented --json schema
// (docs/cli-json.md). `eval` writes many results, `metrics` one.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "json_writer.hpp"
#include "rlhash/codes/code_health.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/search/cpu_features.hpp"

namespace rlhash::cli {

struct ResultRow {
  std::string method;
  int bits = 0;
  std::uint64_t seed = 0;
  EvalReport report;
  double train_seconds = 0;
  double encode_seconds = 0;
  CodeHealth health;                                        ///< of the database codes
  std::vector<std::pair<std::string, std::string>> config;  ///< the method's every config field
};

struct ProtocolInfo {
  std::uint64_t seed = 0;
  Index n_train = 0, n_val = 0, n_queries = 0, n_database = 0;
  std::string augmentation = "off";  ///< of the training images (augment_options.hpp)
};

inline void write_health(JsonWriter& json, const CodeHealth& h) {
  json.field("distinct_codes", static_cast<long long>(h.distinct_codes));
  json.field("constant_bits", h.constant_bits);
  json.field("mean_bit_balance", h.mean_bit_balance);
  json.field("max_abs_bit_correlation", h.max_abs_correlation);
}

/// A config value's JSON token: true/false, integers and finite numbers as such, anything else
/// a string.
inline void write_config_value(JsonWriter& json, const std::string& text) {
  if (text == "true" || text == "false") {
    json.value(text == "true");
    return;
  }
  const auto parsed_whole = [&](const char* end) {
    return !text.empty() && end == text.c_str() + text.size();
  };
  char* end = nullptr;
  errno = 0;
  const long long integer = std::strtoll(text.c_str(), &end, 10);
  if (parsed_whole(end) && errno == 0) {
    json.value(integer);
    return;
  }
  errno = 0;
  const unsigned long long large = std::strtoull(text.c_str(), &end, 10);
  if (parsed_whole(end) && errno == 0 && text[0] != '-') {
    json.value(static_cast<unsigned long>(large));
    return;
  }
  const double number = std::strtod(text.c_str(), &end);
  if (parsed_whole(end) && std::isfinite(number) && text.find_first_of("xXpP") == std::string::npos)
    json.value(number);
  else
    json.value(text);
}

/// "config": {field: value, ...} in the config's declaration order (omitted when empty).
inline void write_config(JsonWriter& json, const std::vector<std::pair<std::string, std::string>>& config) {
  if (config.empty()) return;
  json.key("config").begin_object();
  for (const auto& [name, text] : config) {
    json.key(name);
    write_config_value(json, text);
  }
  json.end_object();
}

inline void write_result(JsonWriter& json, const ResultRow& row) {
  const EvalReport& r = row.report;
  json.begin_object();
  json.field("method", row.method)
      .field("bits", row.bits)
      .field("seed", static_cast<unsigned long>(row.seed));
  json.field("map", r.map).field("map_tie_aware", r.map_tie_aware);
  const auto write_map = [&](const char* name, const std::map<int, double>& values) {
    json.key(name).begin_object();
    for (const auto& [k, v] : values) json.field(std::to_string(k), v);
    json.end_object();
  };
  write_map("map_at", r.map_at);
  json.field("precision_radius" + std::to_string(r.radius), r.precision_radius);
  json.field("empty_radius" + std::to_string(r.radius), static_cast<long long>(r.empty_radius));
  write_map("precision_at", r.precision_at);
  write_map("ndcg_at", r.ndcg_at);
  json.key("pr").begin_array();
  for (const auto& point : r.pr) json.begin_array().value(point.precision).value(point.recall).end_array();
  json.end_array();
  json.field("queries", static_cast<long long>(r.queries));
  json.field("queries_without_relevant", static_cast<long long>(r.queries_without_relevant));
  json.field("train_seconds", row.train_seconds).field("encode_seconds", row.encode_seconds);
  write_health(json, row.health);
  write_config(json, row.config);
  json.end_object();
}

inline void write_protocol(JsonWriter& json, const ProtocolInfo& p) {
  json.key("protocol").begin_object();
  json.field("seed", static_cast<unsigned long>(p.seed));
  json.field("n_train", static_cast<long long>(p.n_train)).field("n_val", static_cast<long long>(p.n_val));
  json.field("n_queries", static_cast<long long>(p.n_queries));
  json.field("n_database", static_cast<long long>(p.n_database));
  json.field("augmentation", p.augmentation);
  json.field("tie_policy",
             "stable (ties ranked by database index); map_tie_aware = expected AP over tie orders");
  json.field("map_at_k_normalisation", "relevant items retrieved within the top k");
  json.field("radius_inclusive", true);
  json.field("simd", to_string(active_simd_path()));
  json.end_object();
}

inline std::string eval_json(const ProtocolInfo& protocol, const std::vector<ResultRow>& rows) {
  JsonWriter json;
  json.begin_object();
  write_protocol(json, protocol);
  json.key("results").begin_array();
  for (const auto& row : rows) write_result(json, row);
  json.end_array().end_object();
  return json.str() + "\n";
}

inline void print_table_header(const EvalOptions& options) {
  std::printf("%-12s %5s %7s %7s", "method", "bits", "mAP", "mAP-tie");
  for (int k : options.map_at) std::printf(" %8s", ("mAP@" + std::to_string(k)).c_str());
  std::printf(" %7s %6s", ("P@r" + std::to_string(options.radius)).c_str(), "empty");
  for (int k : options.precision_at) std::printf(" %7s", ("P@" + std::to_string(k)).c_str());
  std::printf(" %8s %8s %8s %5s %7s %7s\n", "train_s", "encode_s", "distinct", "const", "balance", "maxcorr");
}

inline void print_table_row(const ResultRow& row) {
  const EvalReport& r = row.report;
  std::printf("%-12s %5d %7.4f %7.4f", row.method.c_str(), row.bits, r.map, r.map_tie_aware);
  for (const auto& [k, v] : r.map_at) std::printf(" %8.4f", v);
  std::printf(" %7.4f %6lld", r.precision_radius, static_cast<long long>(r.empty_radius));
  for (const auto& [k, v] : r.precision_at) std::printf(" %7.4f", v);
  std::printf(" %8.2f %8.2f %8lld %5d %7.4f %7.4f\n", row.train_seconds, row.encode_seconds,
              static_cast<long long>(row.health.distinct_codes), row.health.constant_bits,
              row.health.mean_bit_balance, row.health.max_abs_correlation);
  std::fflush(stdout);
}

}  // namespace rlhash::cli
