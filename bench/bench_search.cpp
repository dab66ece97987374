// Retrieval core benchmarks: exact kNN over 10^6 random codes of 32 / 64 / 128 bits, compared in
// the same run with faiss IndexBinaryFlat on identical codes (when built with faiss) and with the
// plain read bandwidth of the same buffer. Every benchmark reports "codes/s" (query-code pairs
// per wall-clock second), so ratios can be read off directly.
//
//   build-search/bench/bench_search --benchmark_filter='/1/|bandwidth'   (the 1-thread numbers)
//   RLHASH_SIMD=avx2 build-search/bench/bench_search ...                 (force a kernel path)
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/knn.hpp"

#if defined(RLHASH_BENCH_HAVE_FAISS)
#include <faiss/IndexBinaryFlat.h>
#if defined(_OPENMP)
#include <omp.h>
#endif
#endif

namespace {

using rlhash::BinaryCodes;
using rlhash::Index;

constexpr Index kDatabase = 1000000;
constexpr Index kQueries = 1000;
constexpr Index kK = 100;

BinaryCodes random_codes(Index count, int bits, std::uint64_t seed) {
  rlhash::Rng rng(seed);
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    for (int w = 0; w < codes.words(); ++w) codes.row(i)[w] = rng();
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

const BinaryCodes& database(int bits) {
  static std::map<int, BinaryCodes> cache;
  auto it = cache.find(bits);
  if (it == cache.end()) it = cache.emplace(bits, random_codes(kDatabase, bits, 1000 + bits)).first;
  return it->second;
}

const BinaryCodes& queries(int bits) {
  static std::map<int, BinaryCodes> cache;
  auto it = cache.find(bits);
  if (it == cache.end()) it = cache.emplace(bits, random_codes(kQueries, bits, 2000 + bits)).first;
  return it->second;
}

void report(benchmark::State& state, double pairs_per_iteration) {
  state.counters["codes/s"] = benchmark::Counter(
      pairs_per_iteration * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// ---- rlhash ---------------------------------------------------------------------------------

void BM_rlhash_knn_batch(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const BinaryCodes& db = database(bits);
  const BinaryCodes& q = queries(bits);
  for (auto _ : state) {
    rlhash::KnnResult result = rlhash::knn_search(q, db, kK, threads);
    benchmark::DoNotOptimize(result.indices.data());
  }
  report(state, static_cast<double>(kQueries) * static_cast<double>(kDatabase));
  state.SetLabel(rlhash::to_string(rlhash::active_simd_path()));
}
BENCHMARK(BM_rlhash_knn_batch)
    ->ArgNames({"bits", "threads"})
    ->ArgsProduct({{32, 64, 128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_rlhash_knn_one(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const BinaryCodes& db = database(bits);
  const BinaryCodes& q = queries(bits);
  Index next = 0;
  for (auto _ : state) {
    rlhash::KnnResult result = rlhash::knn_search_one(q.row(next), db, kK, threads);
    benchmark::DoNotOptimize(result.indices.data());
    next = (next + 1) % q.size();
  }
  report(state, static_cast<double>(kDatabase));
  state.SetLabel(rlhash::to_string(rlhash::active_simd_path()));
}
BENCHMARK(BM_rlhash_knn_one)
    ->ArgNames({"bits", "threads"})
    ->ArgsProduct({{32, 64, 128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

/// One-query top-100 per kernel path (1 thread, 64 bits).
void BM_rlhash_knn_one_path(benchmark::State& state) {
  const auto path = static_cast<rlhash::SimdPath>(state.range(0));
  if (!rlhash::simd_path_supported(path)) {
    state.SkipWithError("SIMD path not supported by this CPU");
    return;
  }
  const BinaryCodes& db = database(64);
  const BinaryCodes& q = queries(64);
  Index next = 0;
  for (auto _ : state) {
    rlhash::KnnResult result = rlhash::knn_search_one(q.row(next), db, kK, 1, path);
    benchmark::DoNotOptimize(result.indices.data());
    next = (next + 1) % q.size();
  }
  report(state, static_cast<double>(kDatabase));
  state.SetLabel(rlhash::to_string(path));
}
BENCHMARK(BM_rlhash_knn_one_path)
    ->ArgName("path")
    ->DenseRange(0, 3)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

/// The one-query scans' registration: code lengths 32, 64 and 128, wall time in microseconds.
void per_code_length(benchmark::internal::Benchmark* b) {
  b->ArgName("bits")->Arg(32)->Arg(64)->Arg(128)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

/// All N distances of one query stored to memory (no selection), 1 thread.
void BM_rlhash_distances(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const BinaryCodes& db = database(bits);
  const BinaryCodes& q = queries(bits);
  std::vector<std::int32_t> out(static_cast<std::size_t>(kDatabase));
  Index next = 0;
  for (auto _ : state) {
    rlhash::hamming_distances(q.row(next), db, out.data());
    benchmark::DoNotOptimize(out.data());
    next = (next + 1) % q.size();
  }
  report(state, static_cast<double>(kDatabase));
  state.SetLabel(rlhash::to_string(rlhash::active_simd_path()));
}
BENCHMARK(BM_rlhash_distances)->Apply(per_code_length);

// ---- the machine's read bandwidth over the same buffer -----------------------------------------

/// ORs the database buffer with 512-bit loads (256-bit without AVX-512): the speed limit of any
/// scan that reads every code once. bytes/s and the equivalent codes/s.
void BM_read_bandwidth(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const BinaryCodes& db = database(bits);
  const std::size_t bytes = static_cast<std::size_t>(db.size()) * static_cast<std::size_t>(db.words()) * 8;
  const char* data = reinterpret_cast<const char*>(db.data());
  for (auto _ : state) {
#if defined(__AVX512F__)
    __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
    std::size_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
      a = _mm512_or_si512(a, _mm512_load_si512(data + i));
      b = _mm512_or_si512(b, _mm512_load_si512(data + i + 64));
      c = _mm512_or_si512(c, _mm512_load_si512(data + i + 128));
      d = _mm512_or_si512(d, _mm512_load_si512(data + i + 192));
    }
    for (; i + 64 <= bytes; i += 64) a = _mm512_or_si512(a, _mm512_load_si512(data + i));
    __m512i all = _mm512_or_si512(_mm512_or_si512(a, b), _mm512_or_si512(c, d));
    benchmark::DoNotOptimize(all);
#elif defined(__AVX2__)
    __m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
    std::size_t i = 0;
    for (; i + 128 <= bytes; i += 128) {
      a = _mm256_or_si256(a, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i)));
      b = _mm256_or_si256(b, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 32)));
      c = _mm256_or_si256(c, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 64)));
      d = _mm256_or_si256(d, _mm256_load_si256(reinterpret_cast<const __m256i*>(data + i + 96)));
    }
    __m256i all = _mm256_or_si256(_mm256_or_si256(a, b), _mm256_or_si256(c, d));
    benchmark::DoNotOptimize(all);
#else
    std::uint64_t all = 0;
    for (std::size_t i = 0; i < bytes / 8; ++i) all |= db.data()[i];
    benchmark::DoNotOptimize(all);
#endif
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * state.iterations());
  report(state, static_cast<double>(kDatabase));
}
BENCHMARK(BM_read_bandwidth)->Apply(per_code_length);

// ---- faiss IndexBinaryFlat on identical codes ---------------------------------------------------

#if defined(RLHASH_BENCH_HAVE_FAISS)

/// faiss layout: bits/8 bytes per code, the same bytes as the first bits/8 of each rlhash row.
std::vector<std::uint8_t> faiss_bytes(const BinaryCodes& codes) {
  const std::size_t size = static_cast<std::size_t>(codes.bits() / 8);
  std::vector<std::uint8_t> out(static_cast<std::size_t>(codes.size()) * size);
  for (Index i = 0; i < codes.size(); ++i)
    std::memcpy(out.data() + static_cast<std::size_t>(i) * size, codes.row(i), size);
  return out;
}

faiss::IndexBinaryFlat& faiss_index(int bits) {
  static std::map<int, std::unique_ptr<faiss::IndexBinaryFlat>> cache;
  auto it = cache.find(bits);
  if (it == cache.end()) {
    auto index = std::make_unique<faiss::IndexBinaryFlat>(bits);
    const std::vector<std::uint8_t> bytes = faiss_bytes(database(bits));
    index->add(kDatabase, bytes.data());
    it = cache.emplace(bits, std::move(index)).first;
  }
  return *it->second;
}

void set_faiss_threads(int threads) {
#if defined(_OPENMP)
  omp_set_num_threads(threads);
#else
  (void)threads;
#endif
}

/// Identical codes must give identical distance lists (labels may differ only within ties).
bool same_distances_as_rlhash(int bits) {
  const BinaryCodes one = queries(bits).rows({0});
  const std::vector<std::uint8_t> q = faiss_bytes(one);
  std::vector<std::int32_t> distances(static_cast<std::size_t>(kK));
  std::vector<faiss::IndexBinary::idx_t> labels(static_cast<std::size_t>(kK));
  faiss_index(bits).search(1, q.data(), kK, distances.data(), labels.data());
  const rlhash::KnnResult ours = rlhash::knn_search(one, database(bits), kK, 1);
  return distances == ours.distances;
}

void BM_faiss_knn_batch(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  if (!same_distances_as_rlhash(bits)) {
    state.SkipWithError("faiss and rlhash disagree on the distances");
    return;
  }
  faiss::IndexBinaryFlat& index = faiss_index(bits);
  const std::vector<std::uint8_t> q = faiss_bytes(queries(bits));
  std::vector<std::int32_t> distances(static_cast<std::size_t>(kQueries * kK));
  std::vector<faiss::IndexBinary::idx_t> labels(static_cast<std::size_t>(kQueries * kK));
  set_faiss_threads(threads);
  for (auto _ : state) {
    index.search(kQueries, q.data(), kK, distances.data(), labels.data());
    benchmark::DoNotOptimize(labels.data());
  }
  report(state, static_cast<double>(kQueries) * static_cast<double>(kDatabase));
}
BENCHMARK(BM_faiss_knn_batch)
    ->ArgNames({"bits", "threads"})
    ->ArgsProduct({{32, 64, 128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_faiss_knn_one(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  faiss::IndexBinaryFlat& index = faiss_index(bits);
  const std::vector<std::uint8_t> q = faiss_bytes(queries(bits));
  const std::size_t size = static_cast<std::size_t>(bits / 8);
  std::vector<std::int32_t> distances(static_cast<std::size_t>(kK));
  std::vector<faiss::IndexBinary::idx_t> labels(static_cast<std::size_t>(kK));
  set_faiss_threads(threads);
  Index next = 0;
  for (auto _ : state) {
    index.search(1, q.data() + static_cast<std::size_t>(next) * size, kK, distances.data(), labels.data());
    benchmark::DoNotOptimize(labels.data());
    next = (next + 1) % kQueries;
  }
  report(state, static_cast<double>(kDatabase));
}
BENCHMARK(BM_faiss_knn_one)
    ->ArgNames({"bits", "threads"})
    ->ArgsProduct({{32, 64, 128}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

#endif  // RLHASH_BENCH_HAVE_FAISS

// Prints the targets' ratios after the usual table, from the runs of this process only:
// rlhash over faiss (batched and one-query kNN, 1 thread) and the one-query scan over the read
// bandwidth of the same buffer. A ratio whose two runs were filtered out is not printed.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const auto counter = run.counters.find("codes/s");
      if (counter != run.counters.end() && run.run_type == Run::RT_Iteration)
        rates_[run.benchmark_name()] = counter->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nratios (codes/s over codes/s, same run)\n");
    for (const char* bits : {"32", "64", "128"}) {
      const std::string b = std::string("bits:") + bits;
      ratio("kNN batch vs faiss, 1 thread, " + b, "BM_rlhash_knn_batch/" + b + "/threads:1/real_time",
            "BM_faiss_knn_batch/" + b + "/threads:1/real_time", "20x");
      ratio("one-query kNN vs faiss, 1 thread, " + b, "BM_rlhash_knn_one/" + b + "/threads:1/real_time",
            "BM_faiss_knn_one/" + b + "/threads:1/real_time", "");
      ratio("one-query kNN vs read bandwidth, " + b, "BM_rlhash_knn_one/" + b + "/threads:1/real_time",
            "BM_read_bandwidth/" + b + "/real_time", b == "bits:64" ? "0.80" : "");
    }
  }

 private:
  void ratio(const std::string& what, const std::string& numerator, const std::string& denominator,
             const char* target) {
    const auto n = rates_.find(numerator), d = rates_.find(denominator);
    if (n == rates_.end() || d == rates_.end() || d->second <= 0) return;
    std::printf("  %-45s %8.2f%s%s\n", what.c_str(), n->second / d->second, *target ? "   target >= " : "",
                target);
  }
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
