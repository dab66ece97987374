// Forward + backward of the nn layers against the raw Eigen GEMMs they must do, at the same
// shapes (batch 64, hidden 512, 784-d input). The ratio layer / raw is the overhead of the layer
// code (caching inputs, bias adds, activations, bookkeeping) over its unavoidable products.
//
//   build-nn/bench/bench_nn --benchmark_format=json > nn.json   (ratios: see docs in the report)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive inside Eigen's AVX-512 GEMM packing (ptranspose -> _mm512_unpack*_ps in
// avx512fintrin.h) when built with -march=native -Werror; not about this file's code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>

#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/elman_rnn.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/sequential.hpp"

using namespace rlhash;
using namespace rlhash::nn;

namespace {
constexpr Index batch = 64, hidden = 512, input = 784, out = 64, steps = 8, group = 4;

MatrixF random(Index rows, Index cols, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(2 * uniform_unit(rng) - 1);
  return m;
}

// ---- Dense stack: 784 -> 512 -> ReLU -> 512 -> ReLU -> 64 ------------------------------------
using Stack = Sequential<Dense<float>, ReLU<float>, Dense<float>, ReLU<float>, Dense<float>>;

void BM_DenseStack_layers(benchmark::State& state) {
  Rng rng(1);
  Stack net(Dense<float>(input, hidden, rng), ReLU<float>(), Dense<float>(hidden, hidden, rng), ReLU<float>(),
            Dense<float>(hidden, out, rng));
  const MatrixF x = random(input, batch, 2), g = random(out, batch, 3);
  for (auto _ : state) {
    net.forward(x);
    benchmark::DoNotOptimize(net.backward(g).data());
  }
  state.counters["gflops"] =
      benchmark::Counter(3.0 * 2.0 * batch * (input * hidden + hidden * hidden + hidden * out) * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DenseStack_raw_gemm(benchmark::State& state) {
  const MatrixF w1 = random(hidden, input, 4), w2 = random(hidden, hidden, 5), w3 = random(out, hidden, 6);
  MatrixF dw1 = MatrixF::Zero(hidden, input), dw2 = MatrixF::Zero(hidden, hidden),
          dw3 = MatrixF::Zero(out, hidden);
  const MatrixF x = random(input, batch, 2), g = random(out, batch, 3);
  MatrixF y1(hidden, batch), y2(hidden, batch), y3(out, batch), d2(hidden, batch), d1(hidden, batch),
      dx(input, batch);
  for (auto _ : state) {
    y1.noalias() = w1 * x;
    y2.noalias() = w2 * y1;
    y3.noalias() = w3 * y2;
    dw3.noalias() += g * y2.transpose();
    d2.noalias() = w3.transpose() * g;
    dw2.noalias() += d2 * y1.transpose();
    d1.noalias() = w2.transpose() * d2;
    dw1.noalias() += d1 * x.transpose();
    dx.noalias() = w1.transpose() * d1;
    benchmark::DoNotOptimize(dx.data());
    benchmark::DoNotOptimize(y3.data());
  }
  state.counters["gflops"] =
      benchmark::Counter(3.0 * 2.0 * batch * (input * hidden + hidden * hidden + hidden * out) * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

// ---- The representation MLP's step: 784 -> 1024 -> ReLU -> 512 -> ReLU, with and without the
// first layer's input gradient (MlpRepresentation turns it off: its input is data). The ratio of
// the two is what skipping dX = W^T dY saves per training step.
void BM_MlpRepresentation_step(benchmark::State& state) {
  constexpr Index hidden1 = 1024;
  Rng rng(7);
  Sequential<Dense<float>, ReLU<float>, Dense<float>, ReLU<float>> net(
      Dense<float>(input, hidden1, rng), ReLU<float>(), Dense<float>(hidden1, hidden, rng), ReLU<float>());
  net.layer<0>().set_input_gradient(state.range(0) != 0);
  const MatrixF x = random(input, batch, 2), g = random(hidden, batch, 3);
  for (auto _ : state) {
    net.forward(x);
    benchmark::DoNotOptimize(net.backward(g).data());
  }
}

// ---- General Elman RNN: 8 steps of 784-d inputs, hidden 512 ----------------------------------
void BM_ElmanRnn_layers(benchmark::State& state) {
  Rng rng(7);
  ElmanRnn<float> rnn(input, hidden, rng);
  const MatrixF x = random(input, steps * batch, 8), c0 = random(hidden, batch, 9),
                g = random(hidden, steps * batch, 10);
  for (auto _ : state) {
    rnn.forward(x, c0);
    benchmark::DoNotOptimize(rnn.backward(g).data());
  }
}

void BM_ElmanRnn_raw_gemm(benchmark::State& state) {
  const MatrixF wx = random(hidden, input, 11), wh = random(hidden, hidden, 12);
  MatrixF dwx = MatrixF::Zero(hidden, input), dwh = MatrixF::Zero(hidden, hidden);
  const MatrixF x = random(input, steps * batch, 8), c0 = random(hidden, batch, 9),
                g = random(hidden, steps * batch, 10);
  MatrixF a(hidden, steps * batch), prev = random(hidden, steps * batch, 13), carry(hidden, batch),
                                    dx(input, steps * batch);
  for (auto _ : state) {
    a.noalias() = wx * x;
    for (Index t = 0; t < steps; ++t)
      a.middleCols(t * batch, batch).noalias() += wh * prev.middleCols(t * batch, batch);
    for (Index t = steps - 1; t >= 0; --t) carry.noalias() = wh.transpose() * g.middleCols(t * batch, batch);
    dwh.noalias() += g * prev.transpose();
    dwx.noalias() += g * x.transpose();
    dx.noalias() = wx.transpose() * g;
    benchmark::DoNotOptimize(dx.data());
    benchmark::DoNotOptimize(carry.data());
    benchmark::DoNotOptimize(a.data());
  }
}

// ---- DRLIH feature-first unroll: 784-d feature, hidden 512, 8 steps in groups of 4 -------------
void BM_FeatureFirstRnn_layers(benchmark::State& state) {
  Rng rng(14);
  FeatureFirstRnn<float> rnn(input, hidden, rng);
  const MatrixF f = random(input, batch, 15), h0 = random(hidden, batch, 16),
                g = random(hidden, steps * batch, 17);
  for (auto _ : state) {
    rnn.forward(f, h0, steps, group);
    benchmark::DoNotOptimize(rnn.backward(g).data());
  }
}

void BM_FeatureFirstRnn_raw_gemm(benchmark::State& state) {
  const MatrixF wf = random(hidden, input, 18), wh = random(hidden, hidden, 19);
  MatrixF dwf = MatrixF::Zero(hidden, input), dwh = MatrixF::Zero(hidden, hidden),
          dwx = MatrixF::Zero(hidden, hidden);
  const MatrixF f = random(input, batch, 15), g = random(hidden, steps * batch, 17);
  MatrixF proj(hidden, batch), a(hidden, steps * batch),
      prev = random(hidden, steps * batch, 20), carry(hidden, batch), df(input, batch), start(hidden, batch);
  for (auto _ : state) {
    proj.noalias() = wf * f;
    for (Index s = 0; s < steps; ++s)
      a.middleCols(s * batch, batch).noalias() = wh * prev.middleCols(s * batch, batch);
    for (Index s = steps - 1; s >= 0; --s) carry.noalias() = wh.transpose() * g.middleCols(s * batch, batch);
    for (Index s = 0; s < steps; s += group)
      dwh.noalias() += g.middleCols(s * batch, batch) * prev.middleCols(s * batch, batch).transpose();
    dwx.noalias() += g * prev.transpose();
    start = g.leftCols(batch);
    dwf.noalias() += start * f.transpose();
    df.noalias() = wf.transpose() * start;
    benchmark::DoNotOptimize(df.data());
    benchmark::DoNotOptimize(carry.data());
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(proj.data());
  }
}
}  // namespace

BENCHMARK(BM_DenseStack_layers)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DenseStack_raw_gemm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_MlpRepresentation_step)
    ->ArgName("input_gradient")
    ->Arg(1)
    ->Arg(0)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ElmanRnn_layers)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ElmanRnn_raw_gemm)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FeatureFirstRnn_layers)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FeatureFirstRnn_raw_gemm)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
