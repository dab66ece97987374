// Multi-index hashing against the library's own scan, in one run: kNN of a batch of queries over
// N random or clustered codes, k = 1, 10, 100, one thread unless RLHASH_BENCH_THREADS says
// otherwise. Each benchmark reports "s/query"; the ratio of two rows of one run is the speedup.
//
//   build/bench/bench_multi_index                                   (N = 10^6)
//   RLHASH_BENCH_N=100000000 RLHASH_BENCH_BITS=64 build/bench/bench_multi_index
//   (tools/bench-multi-index-large.sh runs the large sizes where memory allows;
//   tools/bench-multi-index.py compares with faiss-cpu and norouzi/mih)
//
// Clustered codes imitate learned ones: N / 1000 centres, every code a centre with each bit
// flipped with probability 1/16, queries drawn around the same centres.
// BM_build reports the tables' build time (wall clock and CPU) and memory; the "model/real" counter of the
// mih rows is the cost model's predicted time over the measured one (search_plan.hpp uses the model).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <time.h>  // clock_gettime, CLOCK_THREAD_CPUTIME_ID (POSIX)

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/multi_index.hpp"
#include "rlhash/search/search_plan.hpp"

namespace {

using rlhash::BinaryCodes;
using rlhash::Index;

Index env_index(const char* name, Index fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? static_cast<Index>(std::atof(text)) : fallback;
}

const Index kDatabase = env_index("RLHASH_BENCH_N", 1000000);
const Index kQueries = env_index("RLHASH_BENCH_QUERIES", 200);
const int kThreads = static_cast<int>(env_index("RLHASH_BENCH_THREADS", 1));
// The mih rows' per-query fallback budget in scans (MultiIndex::knn's fallback_scans); "inf"
// measures the tables alone, what fitting the cost model needs.
const double kFallbackScans = [] {
  const char* text = std::getenv("RLHASH_BENCH_MIH_FALLBACK");
  return text != nullptr ? std::atof(text) : 1.0;
}();

BinaryCodes codes_around(Index count, const BinaryCodes* centres, int bits, rlhash::Rng& rng) {
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    const std::uint64_t* centre = centres ? centres->row(static_cast<Index>(rlhash::uniform_below(
                                                rng, static_cast<std::uint64_t>(centres->size()))))
                                          : nullptr;
    for (int w = 0; w < codes.words(); ++w) {
      const std::uint64_t noise = rng() & rng() & rng() & rng();
      codes.row(i)[w] = centre ? centre[w] ^ noise : rng();
    }
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

/// One data set at a time (10^8 codes and their tables take gigabytes).
struct Dataset {
  int bits = 0;
  bool clustered = false;
  BinaryCodes database, queries;
  std::unique_ptr<rlhash::MultiIndex> tables;
  double build_seconds = 0;      // wall clock
  double build_cpu_seconds = 0;  // process CPU time: what a shared machine disturbs least
};

Dataset& dataset(int bits, bool clustered) {
  static Dataset data;
  if (data.bits == bits && data.clustered == clustered) return data;
  data = Dataset();
  rlhash::Rng rng(7000 + static_cast<std::uint64_t>(bits) * 2 + clustered);
  if (clustered) {
    const BinaryCodes centres = codes_around(std::max<Index>(1, kDatabase / 1000), nullptr, bits, rng);
    data.database = codes_around(kDatabase, &centres, bits, rng);
    data.queries = codes_around(kQueries, &centres, bits, rng);
  } else {
    data.database = codes_around(kDatabase, nullptr, bits, rng);
    data.queries = codes_around(kQueries, nullptr, bits, rng);
  }
  const auto start = std::chrono::steady_clock::now();
  const std::clock_t cpu_start = std::clock();
  data.tables = std::make_unique<rlhash::MultiIndex>(data.database, 0, kThreads);
  data.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  data.build_cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
  data.bits = bits;
  data.clustered = clustered;
  return data;
}

void label(benchmark::State& state, const Dataset& data) {
  state.SetLabel(std::string(data.clustered ? "clustered" : "random") + " N=" + std::to_string(kDatabase) +
                 " m=" + std::to_string(data.tables->substrings()) + " threads=" + std::to_string(kThreads) +
                 " simd=" + rlhash::to_string(rlhash::active_simd_path()));
}

void per_query(benchmark::State& state) {
  state.counters["s/query"] =
      benchmark::Counter(static_cast<double>(kQueries),
                         benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void BM_build(benchmark::State& state) {
  const Dataset& data = dataset(static_cast<int>(state.range(0)), state.range(1) != 0);
  for (auto _ : state) state.SetIterationTime(data.build_seconds);
  state.counters["build_s"] = data.build_seconds;
  state.counters["build_cpu_s"] = data.build_cpu_seconds;
  state.counters["table_MiB"] = static_cast<double>(data.tables->memory_bytes()) / (1 << 20);
  state.counters["codes_MiB"] =
      static_cast<double>(data.database.size() * data.database.words() * 8) / (1 << 20);
  label(state, data);
}

void BM_search(benchmark::State& state, rlhash::SearchMethod method) {
  const Dataset& data = dataset(static_cast<int>(state.range(0)), state.range(1) != 0);
  const Index k = state.range(2);
  rlhash::SearchPlan plan;
  rlhash::MultiIndexWork work;
  std::vector<char> fell_back;
  for (auto _ : state) {
    rlhash::KnnResult result =
        method == rlhash::SearchMethod::mih
            ? data.tables->knn(data.queries, data.database, k, kThreads, &work, kFallbackScans,
                               rlhash::MihCostModel(), &fell_back)
            : rlhash::planned_knn(data.queries, data.database, data.tables.get(), k, method, kThreads, &plan);
    benchmark::DoNotOptimize(result.indices.data());
  }
  per_query(state);
  if (method == rlhash::SearchMethod::mih) {
    const auto runs = static_cast<double>(state.iterations());
    state.counters["probes/query"] = static_cast<double>(work.probes) / runs / kQueries;
    state.counters["candidates/query"] = static_cast<double>(work.candidates) / runs / kQueries;
    state.counters["accepted/query"] = static_cast<double>(work.accepted) / runs / kQueries;
    state.counters["scanned/query"] =
        static_cast<double>(std::count(fell_back.begin(), fell_back.end(), char{1})) / kQueries;
    state.counters["model_ns/query"] =
        rlhash::MihCostModel().mih_ns(work, data.database.words(), data.tables->offsets_bytes()) / runs /
        kQueries / kThreads;
  }
  if (method == rlhash::SearchMethod::automatic) {
    state.counters["chose_mih"] = plan.used == rlhash::SearchMethod::mih;
    // The last batch's work: equal to the mih row's when auto chose the tables (in batches of 10
    // queries or more its pilot has the same one-scan budget per query).
    state.counters["probes/query"] = static_cast<double>(plan.work.probes) / kQueries;
    state.counters["candidates/query"] = static_cast<double>(plan.work.candidates) / kQueries;
  }
  label(state, data);
}

/// Seconds of CPU time of the calling thread (one-thread runs) or of wall clock (several threads).
double clock_seconds() {
  if (kThreads > 1) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

/// auto against one of the two methods on the same batch, alternating within every iteration, so
/// that whatever else the machine runs disturbs both alike. Rows of microseconds per query
/// scatter by up to 2x between separately timed benchmarks on a shared machine; the paired ratio
/// "auto/other" does not.
void paired_with_auto(benchmark::State& state, rlhash::SearchMethod other) {
  const Dataset& data = dataset(static_cast<int>(state.range(0)), state.range(1) != 0);
  const Index k = state.range(2);
  rlhash::SearchPlan plan;
  double seconds[2] = {0, 0};  // other, auto
  bool auto_first = false;
  for (auto _ : state) {
    double iteration = 0;
    for (int turn = 0; turn < 2; ++turn) {
      const bool run_auto = (turn == 0) == auto_first;
      const double start = clock_seconds();
      rlhash::KnnResult result =
          rlhash::planned_knn(data.queries, data.database, data.tables.get(), k,
                              run_auto ? rlhash::SearchMethod::automatic : other, kThreads, &plan);
      benchmark::DoNotOptimize(result.indices.data());
      const double took = clock_seconds() - start;
      seconds[run_auto ? 1 : 0] += took;
      iteration += took;
      if (run_auto) state.counters["chose_mih"] = plan.used == rlhash::SearchMethod::mih;
    }
    state.SetIterationTime(iteration);
    auto_first = !auto_first;
  }
  const double queries = static_cast<double>(state.iterations()) * static_cast<double>(kQueries);
  state.counters["other_s/query"] = seconds[0] / queries;
  state.counters["auto_s/query"] = seconds[1] / queries;
  state.counters["auto/other"] = seconds[1] / seconds[0];
  label(state, data);
}

void BM_auto_vs_mih(benchmark::State& state) { paired_with_auto(state, rlhash::SearchMethod::mih); }
void BM_auto_vs_scan(benchmark::State& state) { paired_with_auto(state, rlhash::SearchMethod::scan); }

void BM_scan(benchmark::State& state) { BM_search(state, rlhash::SearchMethod::scan); }
void BM_mih(benchmark::State& state) { BM_search(state, rlhash::SearchMethod::mih); }
void BM_auto(benchmark::State& state) { BM_search(state, rlhash::SearchMethod::automatic); }

void register_all() {
  const Index bits_only = env_index("RLHASH_BENCH_BITS", 0);
  for (const int bits : {64, 128}) {
    if (bits_only != 0 && bits != bits_only) continue;
    for (const int clustered : {0, 1}) {
      benchmark::RegisterBenchmark("BM_build", BM_build)
          ->Args({bits, clustered})
          ->UseManualTime()
          ->Iterations(1);
      for (const int k : {1, 10, 100}) {
        for (auto* b : {benchmark::RegisterBenchmark("BM_scan", BM_scan),
                        benchmark::RegisterBenchmark("BM_mih", BM_mih),
                        benchmark::RegisterBenchmark("BM_auto", BM_auto)}) {
          b->Args({bits, clustered, k})->Unit(benchmark::kMillisecond);
          // One thread: CPU time, robust on a shared machine. Several: wall-clock time.
          if (kThreads > 1) b->UseRealTime();
        }
        for (auto* b : {benchmark::RegisterBenchmark("BM_auto_vs_mih", BM_auto_vs_mih),
                        benchmark::RegisterBenchmark("BM_auto_vs_scan", BM_auto_vs_scan)})
          b->Args({bits, clustered, k})->Unit(benchmark::kMillisecond)->UseManualTime();
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
