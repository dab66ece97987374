// One training step of the deep hashing baselines' network (MLP 784 -> 1024 -> ReLU -> bits,
// batch 64, the comparison protocol of docs/methods/deep-baselines.md) against the two limits
// that bound it on one core:
//   * BM_PeakFma: the core's FP32 peak, measured: independent 256-bit FMA chains (AVX2 + FMA),
//     enough of them to hide the FMA latency on every pipe. Nothing can multiply faster.
//   * BM_MlpStep_raw_gemm: the step's unavoidable products, as plain Eigen GEMMs: forward
//     W1 X and W2 H, backward dW2 += G H^T, dH = W2^T G, dW1 += dH X^T (no dX: X is data).
//   * BM_MlpStep_network: the same step through DeepHashNetwork (Dense, ReLU, caches, bias).
//   * BM_MlpStep_network_adam: plus the Adam update (with L2 weight decay) of every parameter.
//   * BM_Adam_update: the Adam update alone.
//   * BM_Gemm_*: each product alone, at its shape.
// "gflops" is the step's multiply-add count (2 per FMA) over time; the ratio of a step's gflops
// to BM_PeakFma's is the fraction of the core's peak it reaches. An epoch is 5,000 / 64 steps.
//
//   build/bench/bench_deep_hashing_step --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive inside Eigen's AVX-512 GEMM packing under -march=native -Werror.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/optimizer.hpp"

using namespace rlhash;

namespace {
constexpr Index batch = 64, input = 784, hidden = 1024, bits = 32;
// Multiply-adds of one step: forward 784x1024 and 1024x32, backward dW1 (784x1024), dW2 and dH
// (1024x32 each); 2 flops each.
constexpr double step_flops = 2.0 * batch * (2.0 * input * hidden + 3.0 * hidden * bits);

MatrixF random(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(2 * uniform_unit(rng) - 1);
  return m;
}

void set_gflops(benchmark::State& state, double flops) {
  state.counters["gflops"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

#if defined(__AVX2__) && defined(__FMA__)
// 12 independent accumulators: FMA latency (4-5 cycles) x 2 pipes needs >= 10 in flight.
void BM_PeakFma(benchmark::State& state) {
  constexpr int chains = 12, rounds = 4096;
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (auto _ : state) {
    __m256 acc[chains];
    for (int c = 0; c < chains; ++c) acc[c] = _mm256_set1_ps(static_cast<float>(c));
    for (int r = 0; r < rounds; ++r)
      for (int c = 0; c < chains; ++c) acc[c] = _mm256_fmadd_ps(acc[c], a, b);
    for (int c = 0; c < chains; ++c) benchmark::DoNotOptimize(acc[c]);
  }
  set_gflops(state, 2.0 * 8 * chains * rounds);
}
BENCHMARK(BM_PeakFma);
#endif

void BM_MlpStep_raw_gemm(benchmark::State& state) {
  const MatrixF w1 = random(hidden, input, 1), w2 = random(bits, hidden, 2), x = random(input, batch, 3),
                g = random(bits, batch, 4);
  MatrixF dw1 = MatrixF::Zero(hidden, input), dw2 = MatrixF::Zero(bits, hidden), h(hidden, batch),
          u(bits, batch), dh(hidden, batch);
  for (auto _ : state) {
    h.noalias() = w1 * x;
    u.noalias() = w2 * h;
    dw2.noalias() += g * h.transpose();
    dh.noalias() = w2.transpose() * g;
    dw1.noalias() += dh * x.transpose();
    benchmark::DoNotOptimize(u.data());
    benchmark::DoNotOptimize(dw1.data());
  }
  set_gflops(state, step_flops);
}
BENCHMARK(BM_MlpStep_raw_gemm)->Unit(benchmark::kMicrosecond);

using Network = DeepHashNetwork<ShallowMlpRepresentation<float>>;

Network make_network() {
  Rng rng(5);
  return Network(input, ShallowMlpRepresentationConfig{}, bits, 0, rng);
}

// The comparison protocol's optimizer: Adam 1e-4 with L2 weight decay 1e-5.
nn::Adam<float> protocol_adam() {
  nn::AdamConfig config;
  config.learning_rate = 1e-4;
  config.weight_decay = 1e-5;
  return nn::Adam<float>(config);
}

void BM_MlpStep_network(benchmark::State& state) {
  Network net = make_network();
  const MatrixF x = random(input, batch, 3), g = random(bits, batch, 4);
  for (auto _ : state) {
    net.zero_grad();
    benchmark::DoNotOptimize(net.forward(x).data());
    net.backward(g);
  }
  set_gflops(state, step_flops);
}
BENCHMARK(BM_MlpStep_network)->Unit(benchmark::kMicrosecond);

void BM_MlpStep_network_adam(benchmark::State& state) {
  Network net = make_network();
  nn::Adam<float> adam = protocol_adam();
  const auto params = net.parameters();
  const MatrixF x = random(input, batch, 3), g = random(bits, batch, 4);
  for (auto _ : state) {
    net.zero_grad();
    benchmark::DoNotOptimize(net.forward(x).data());
    net.backward(g);
    adam.step(params);
  }
  set_gflops(state, step_flops);
}
BENCHMARK(BM_MlpStep_network_adam)->Unit(benchmark::kMicrosecond);

// The Adam update (L2 weight decay) of the network's parameters alone: memory-bound.
void BM_Adam_update(benchmark::State& state) {
  Network net = make_network();
  nn::Adam<float> adam = protocol_adam();
  const auto params = net.parameters();
  const MatrixF x = random(input, batch, 3), g = random(bits, batch, 4);
  net.forward(x);
  net.backward(g);
  for (auto _ : state) adam.step(params);
  state.counters["parameters"] = static_cast<double>(input * hidden + hidden + hidden * bits + bits);
}
BENCHMARK(BM_Adam_update)->Unit(benchmark::kMicrosecond);

// Each product alone: {rows of the result, inner dimension, columns of the result}.
void BM_Gemm_forward_w1x(benchmark::State& state) {  // 1024x784 * 784x64
  const MatrixF w1 = random(hidden, input, 1), x = random(input, batch, 3);
  MatrixF h(hidden, batch);
  for (auto _ : state) {
    h.noalias() = w1 * x;
    benchmark::DoNotOptimize(h.data());
  }
  set_gflops(state, 2.0 * hidden * input * batch);
}
BENCHMARK(BM_Gemm_forward_w1x)->Unit(benchmark::kMicrosecond);

void BM_Gemm_weight_grad_dw1(benchmark::State& state) {  // 1024x64 * 64x784, accumulated
  const MatrixF dh = random(hidden, batch, 6), x = random(input, batch, 3);
  MatrixF dw1 = MatrixF::Zero(hidden, input);
  for (auto _ : state) {
    dw1.noalias() += dh * x.transpose();
    benchmark::DoNotOptimize(dw1.data());
  }
  set_gflops(state, 2.0 * hidden * input * batch);
}
BENCHMARK(BM_Gemm_weight_grad_dw1)->Unit(benchmark::kMicrosecond);
}  // namespace

BENCHMARK_MAIN();
