#pragma once
// --index scan|mih|auto and --substrings: how `search` and `index search` search on the host,
// and when a one-shot `search` builds multi-index tables at all.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

#include "rlhash/search/multi_index.hpp"
#include "rlhash/search/search_plan.hpp"

namespace rlhash::cli {

struct IndexOptions {
  std::string method = "auto";
  int substrings = 0;
};

inline void add_index_options(CLI::App& app, IndexOptions& o) {
  app.add_option("--index", o.method,
                 "Host search: scan (linear), mih (multi-index hashing) or auto (per batch, see docs/cli.md)")
      ->check(CLI::IsMember({"scan", "mih", "auto"}))
      ->default_val("auto");
  app.add_option("--substrings", o.substrings,
                 "Multi-index substrings (0: about log2(N)-bit substrings, as Norouzi et al.)")
      ->check(CLI::NonNegativeNumber)
      ->default_val(0);
}

/// Whether a one-shot search of `queries` queries should build tables: with `auto`, only when
/// the scans they might save outweigh building them (MihCostModel::build_ns_per_entry), since
/// the tables are thrown away afterwards; `rlhash index build` keeps them instead.
inline bool worth_building(SearchMethod method, Index queries, const CodesView& database, int substrings) {
  if (method != SearchMethod::automatic) return method == SearchMethod::mih;
  const MihCostModel costs;
  const int m = substrings > 0 ? substrings : MultiIndex::default_substrings(database.size, database.bits);
  return static_cast<double>(queries) * costs.scan_ns(database.size, database.words) >
         4.0 * costs.build_ns(database.size, m, database.words);
}

/// Builds the tables a one-shot search uses (null when not worth it), printing the build time
/// apart from the search time.
inline std::unique_ptr<MultiIndex> build_tables_for(SearchMethod method, Index queries,
                                                    const CodesView& database, int substrings, int threads,
                                                    double& seconds) {
  seconds = 0;
  if (!worth_building(method, queries, database, substrings)) return nullptr;
  const auto start = std::chrono::steady_clock::now();
  auto tables = std::make_unique<MultiIndex>(database, substrings, threads);
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "built %d multi-index tables of %lld codes in %.4f s\n", tables->substrings(),
               static_cast<long long>(database.size), seconds);
  return tables;
}

}  // namespace rlhash::cli
