#pragma once
// Printing evaluation results: the human table on stdout and the documented --json schema
// (docs/cli-json.md). `eval` writes many results, `metrics` one.
#include <cstdio>
#include <string>
#include <vector>

#include "json_writer.hpp"
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
};

struct ProtocolInfo {
  std::uint64_t seed = 0;
  Index n_train = 0, n_val = 0, n_queries = 0, n_database = 0;
};

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
  json.end_object();
}

inline void write_protocol(JsonWriter& json, const ProtocolInfo& p) {
  json.key("protocol").begin_object();
  json.field("seed", static_cast<unsigned long>(p.seed));
  json.field("n_train", static_cast<long long>(p.n_train)).field("n_val", static_cast<long long>(p.n_val));
  json.field("n_queries", static_cast<long long>(p.n_queries));
  json.field("n_database", static_cast<long long>(p.n_database));
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
  std::printf(" %8s %8s\n", "train_s", "encode_s");
}

inline void print_table_row(const ResultRow& row) {
  const EvalReport& r = row.report;
  std::printf("%-12s %5d %7.4f %7.4f", row.method.c_str(), row.bits, r.map, r.map_tie_aware);
  for (const auto& [k, v] : r.map_at) std::printf(" %8.4f", v);
  std::printf(" %7.4f %6lld", r.precision_radius, static_cast<long long>(r.empty_radius));
  for (const auto& [k, v] : r.precision_at) std::printf(" %7.4f", v);
  std::printf(" %8.2f %8.2f\n", row.train_seconds, row.encode_seconds);
  std::fflush(stdout);
}

}  // namespace rlhash::cli
