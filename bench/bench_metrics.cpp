// evaluate() on the protocol's shape, 1,000 queries x 60,000 database codes, and its parts: byte
// distances, the byte ranking and the metrics read off it. Ten classes, codes near ten
// prototypes (one per class) with each bit flipped with probability 1/4, so that the relevant
// items sit at small distances and every distance bucket is tied, as in learned codes.
//
//   build/bench/bench_metrics --benchmark_filter=BM_evaluate
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/search/hamming_bytes.hpp"

using namespace rlhash;

namespace {

constexpr Index kDatabase = 60000;
constexpr Index kQueries = 1000;
constexpr int kClasses = 10;

struct Protocol {
  BinaryCodes queries, database;
  Labels query_labels, database_labels;
};

const Protocol& protocol() {
  static const Protocol data = [] {
    Rng rng(7);
    std::uint64_t prototypes[kClasses];
    for (auto& p : prototypes) p = rng() & 0xFFFFFFFFULL;
    auto draw = [&](Index count, std::vector<std::int32_t>& ids) {
      BinaryCodes codes(count, 32);
      ids.resize(static_cast<std::size_t>(count));
      for (Index i = 0; i < count; ++i) {
        const auto c = static_cast<std::int32_t>(uniform_below(rng, kClasses));
        ids[static_cast<std::size_t>(i)] = c;
        codes.row(i)[0] = (prototypes[c] ^ (rng() & rng())) & 0xFFFFFFFFULL;
      }
      return codes;
    };
    Protocol p;
    std::vector<std::int32_t> q_ids, db_ids;
    p.queries = draw(kQueries, q_ids);
    p.database = draw(kDatabase, db_ids);
    p.query_labels = Labels::from_class_ids(q_ids, kClasses);
    p.database_labels = Labels::from_class_ids(db_ids, kClasses);
    return p;
  }();
  return data;
}

// The evaluation at the Python benchmark's options (mAP@k, P@100, NDCG@100), one thread: the
// whole report (whole:1), or only the top-k metrics (whole:0, EvalOptions::whole_ranking = false).
void BM_evaluate(benchmark::State& state) {
  const Protocol& p = protocol();
  EvalOptions options;
  options.map_at = {static_cast<int>(state.range(0))};
  options.precision_at = {100};
  options.ndcg_at = {100};
  options.threads = 1;
  options.whole_ranking = state.range(1) != 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(evaluate(p.queries, p.database, p.query_labels, p.database_labels, options));
  state.SetItemsProcessed(state.iterations() * kQueries);  // queries per second
}
// In milliseconds per 1,000 queries, i.e. microseconds per query. One thread runs on the calling
// thread, so the CPU column is the work's cost even on a machine shared with other processes.
BENCHMARK(BM_evaluate)
    ->ArgNames({"map_at", "whole"})
    ->Args({1000, 1})
    ->Args({60000, 1})
    ->Args({1000, 0})
    ->Args({60000, 0})
    ->Unit(benchmark::kMillisecond);

// One query's byte distances (packed 32-bit codes).
void BM_byte_distances(benchmark::State& state) {
  const Protocol& p = protocol();
  const PackedCodes32 packed = PackedCodes32::from(p.database);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(kDatabase));
  Index q = 0;
  for (auto _ : state) {
    hamming_distances_u8(static_cast<std::uint32_t>(p.queries.row(q)[0]), packed, out.data());
    benchmark::DoNotOptimize(out.data());
    q = (q + 1) % kQueries;
  }
  state.SetItemsProcessed(state.iterations() * kDatabase);
}
BENCHMARK(BM_byte_distances);

// One query's byte ranking (histogram and positions of the relevant items), then its metrics.
void BM_byte_ranking(benchmark::State& state) {
  const Protocol& p = protocol();
  const PackedCodes32 packed = PackedCodes32::from(p.database);
  std::vector<std::uint8_t> classes(static_cast<std::size_t>((kDatabase + 63) / 64 * 64), 255);
  for (Index j = 0; j < kDatabase; ++j)
    classes[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(p.database_labels.first_label(j));
  std::vector<ByteRankingInput> inputs(8);
  for (Index q = 0; q < 8; ++q) {
    inputs[static_cast<std::size_t>(q)].resize(kDatabase);
    hamming_distances_u8(static_cast<std::uint32_t>(p.queries.row(q)[0]), packed,
                         inputs[static_cast<std::size_t>(q)].distances());
    equal_byte_bits(classes.data(), inputs[static_cast<std::size_t>(q)].blocks(),
                    static_cast<std::uint8_t>(p.query_labels.first_label(q)),
                    inputs[static_cast<std::size_t>(q)].relevant_words());
  }
  QueryRanking ranking;
  const bool with_metrics = state.range(0) != 0;
  std::size_t q = 0;
  for (auto _ : state) {
    ranking.build(inputs[q], 32);
    if (with_metrics) {
      benchmark::DoNotOptimize(average_precision(ranking));
      benchmark::DoNotOptimize(tie_aware_average_precision(ranking));
    }
    benchmark::DoNotOptimize(ranking.relevant_positions().data());
    q = (q + 1) % inputs.size();
  }
  state.SetItemsProcessed(state.iterations() * kDatabase);
}
BENCHMARK(BM_byte_ranking)->ArgName("with_ap")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
