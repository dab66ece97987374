// GPU Hamming search benchmarks (Google Benchmark), against the design targets:
//   - one k-NN query over 10^8 codes of 64 bits, against a device-to-device cudaMemcpy of the
//     same 800 MB buffer (target: the scan reads at >= 70% of the copy's bandwidth);
//   - 1000 queries x 10^7 codes of 64 bits, against the popcount throughput limit of the
//     device (target: >= 50%) and against the CPU path on 2 threads (target: >= 20x).
// Counters: read_GBps (database bytes read per second), copy_GBps (bytes read + written per
// second by cudaMemcpy), fraction_of_copy = read_GBps / copy_GBps, dist_per_s, popcount_limit
// (64-bit distances per second at SMs x clock x 16 popc/clk/SM / 2 popc per word, the
// sm_90 throughput table), fraction_of_popcount_limit.
// Exits with 77 and a message when there is no CUDA device.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/cuda/error.hpp"
#include "rlhash/cuda/gpu_hamming_index.cuh"
#include "rlhash/cuda/memory.hpp"
#include "rlhash/search/knn.hpp"

namespace {

using rlhash::BinaryCodes;
using rlhash::Index;

// 64-bit codes straight from the generator: one word per code.
BinaryCodes random_codes64(Index n, std::uint64_t seed) {
  BinaryCodes codes(n, 64);
  rlhash::Rng rng(seed);
  for (Index i = 0; i < n; ++i) codes.data()[i] = rng();
  return codes;
}

struct Data {
  BinaryCodes db;
  BinaryCodes queries;
  std::unique_ptr<rlhash::cuda::GpuHammingIndex> index;
};

Data& data_1e8() {
  static Data d{random_codes64(100'000'000, 1), random_codes64(1, 2), nullptr};
  if (!d.index) d.index = std::make_unique<rlhash::cuda::GpuHammingIndex>(d.db);
  return d;
}

Data& data_1e7() {
  static Data d{random_codes64(10'000'000, 3), random_codes64(1000, 4), nullptr};
  if (!d.index) d.index = std::make_unique<rlhash::cuda::GpuHammingIndex>(d.db);
  return d;
}

// Seconds per device-to-device copy of `bytes` bytes: the best of 10 timed copies after a warm-up.
double copy_seconds(const void* src, std::size_t bytes) {
  rlhash::cuda::DeviceBuffer<unsigned char> dst(bytes);
  cudaEvent_t start, stop;
  RLHASH_CUDA_CHECK(cudaEventCreate(&start));
  RLHASH_CUDA_CHECK(cudaEventCreate(&stop));
  float best = 1e30f;
  for (int rep = 0; rep < 11; ++rep) {
    RLHASH_CUDA_CHECK(cudaEventRecord(start));
    RLHASH_CUDA_CHECK(cudaMemcpyAsync(dst.data(), src, bytes, cudaMemcpyDeviceToDevice));
    RLHASH_CUDA_CHECK(cudaEventRecord(stop));
    RLHASH_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    RLHASH_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (rep > 0) best = std::min(best, ms);
  }
  (void)cudaEventDestroy(start);
  (void)cudaEventDestroy(stop);
  return best / 1e3;
}

double popcount_limit_64bit_per_second() {
  int device = 0, sms = 0, clock_khz = 0;
  RLHASH_CUDA_CHECK(cudaGetDevice(&device));
  RLHASH_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  RLHASH_CUDA_CHECK(cudaDeviceGetAttribute(&clock_khz, cudaDevAttrClockRate, device));
  return static_cast<double>(sms) * clock_khz * 1e3 * 16.0 / 2.0;
}

void BM_gpu_knn_one_query_1e8(benchmark::State& state) {
  Data& d = data_1e8();
  const Index k = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(d.index->knn(d.queries, k));
  const double bytes = static_cast<double>(d.db.size()) * 8.0;
  const double copy = copy_seconds(d.index->device_codes(), static_cast<std::size_t>(bytes));
  state.counters["read_GBps"] =
      benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["copy_GBps"] = 2.0 * bytes / copy / 1e9;
  state.counters["copy_ms"] = copy * 1e3;
}
BENCHMARK(BM_gpu_knn_one_query_1e8)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_gpu_memcpy_d2d_800MB(benchmark::State& state) {
  Data& d = data_1e8();
  const std::size_t bytes = static_cast<std::size_t>(d.db.size()) * 8;
  rlhash::cuda::DeviceBuffer<unsigned char> dst(bytes);
  for (auto _ : state) {
    RLHASH_CUDA_CHECK(cudaMemcpy(dst.data(), d.index->device_codes(), bytes, cudaMemcpyDeviceToDevice));
  }
  state.counters["copy_GBps"] = benchmark::Counter(2.0 * static_cast<double>(bytes) / 1e9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_gpu_memcpy_d2d_800MB)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_gpu_knn_batch_1000x1e7(benchmark::State& state) {
  Data& d = data_1e7();
  const Index k = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(d.index->knn(d.queries, k));
  const double distances = static_cast<double>(d.db.size()) * static_cast<double>(d.queries.size());
  state.counters["dist_per_s"] = benchmark::Counter(distances, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["popcount_limit"] = popcount_limit_64bit_per_second();
}
BENCHMARK(BM_gpu_knn_batch_1000x1e7)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond)->UseRealTime();

// The CPU path on 2 threads over the same data, for the >= 20x comparison (one iteration:
// about 10^10 distances).
void BM_cpu_knn_batch_1000x1e7_2threads(benchmark::State& state) {
  Data& d = data_1e7();
  for (auto _ : state) benchmark::DoNotOptimize(rlhash::knn_search(d.queries, d.db, state.range(0), 2));
  const double distances = static_cast<double>(d.db.size()) * static_cast<double>(d.queries.size());
  state.counters["dist_per_s"] = benchmark::Counter(distances, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cpu_knn_batch_1000x1e7_2threads)
    ->Arg(10)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (rlhash::cuda::device_count() == 0) {
    std::fprintf(stderr, "bench_cuda_hamming: no CUDA device, nothing to measure\n");
    return 77;
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
