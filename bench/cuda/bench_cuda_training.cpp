// One DRLIH training step at the paper's size on the host backend and on the CUDA backend, in
// the same run (issue target: the device step >= 10x the host step on an H100):
//   the agent (feature-first Elman RNN, hidden 4096) over 32 bits in groups of 12 from a
//   512-d representation, batch 256; the shared policy layer (sigmoid(w^T c_t + v) for every
//   step: Dense to one logit + sigmoid over all states); the triplet loss (DRLIH eq. 3, 9) on
//   the host; backpropagation through time; one Adam update of every parameter.
// The device step includes the two small transfers of the host loss (p down, dL/dp up: 32 KiB
// each). BM_training_step_cuda reports `speedup_vs_cpu` against the host step timed just before
// it (run both: no --benchmark_filter that drops the CPU one).
//
//   build/bench/cuda/bench_cuda_training
//   build/bench/cuda/bench_cuda_training --benchmark_filter=small   (the same at hidden 512)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive inside Eigen's AVX-512 GEMM packing under -march=native (as bench_nn).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"

using namespace rlhash;

namespace {

constexpr Index batch = 256, bits = 32, group = 12, features = 512;
constexpr double margin = 2.0;

// Host step times by hidden size, for the device benchmark's ratio.
std::map<Index, double>& host_seconds() {
  static std::map<Index, double> seconds;
  return seconds;
}

/// The DRLIH agent + policy layer + Adam on backend B, with a fixed batch and triplets.
template <class B>
class DrlihStep {
 public:
  explicit DrlihStep(Index hidden)
      : hidden_(hidden),
        rng_(1),
        rnn_(features, hidden, rng_),
        head_(hidden, 1, rng_),
        adam_(nn::AdamConfig{1e-4, 0.9, 0.999, 1e-8, 0.0, false}) {
    rlhash::Matrix<float> feature(features, batch);
    for (Index i = 0; i < feature.size(); ++i) feature.data()[i] = static_cast<float>(standard_normal(rng_));
    feature_ = B::from_host(feature);
    h0_ = B::template zeros<float>(hidden, batch);
    for (Index i = 0; i < batch; ++i)  // each item with two random others
      triplets_.push_back({i, static_cast<Index>(uniform_below(rng_, batch)),
                           static_cast<Index>(uniform_below(rng_, batch))});
    nn::append_parameters(params_, rnn_.parameters(), "rnn.");
    nn::append_parameters(params_, head_.parameters(), "head.");
  }

  /// One step; returns the loss (which reads the device result, so the step is complete).
  float run() {
    rnn_.zero_grad();
    head_.zero_grad();
    const auto& states = rnn_.forward(feature_, h0_, bits, group);
    // p: 1 x (bits N), step-major (entry t N + n), to the bits x N codes the loss reads.
    const rlhash::Matrix<float> flat = B::to_host(sigmoid_.forward(head_.forward(states)));
    const rlhash::Matrix<float> codes =
        Eigen::Map<const rlhash::Matrix<float>>(flat.data(), batch, bits).transpose();
    rlhash::Matrix<float> d_codes;
    const float loss = nn::triplet_margin_loss(codes, triplets_, margin, &d_codes);
    const rlhash::Matrix<float> d_flat_t = d_codes.transpose();
    const rlhash::Matrix<float> d_flat =
        Eigen::Map<const rlhash::Matrix<float>>(d_flat_t.data(), 1, bits * batch);
    rnn_.backward(head_.backward(sigmoid_.backward(B::from_host(d_flat))));
    adam_.step(params_);
    return loss;
  }

  double flops() const {
    // Forward: the feature projection and one hidden x hidden GEMM per step; backward: one
    // GEMM per step through time, the weight gradients (W_h at group starts, the W_x/W_h
    // GEMM over all steps, W_f) and dL/dfeature.
    const double h = static_cast<double>(hidden_), n = batch, t = bits, f = features;
    const double gemm = 2 * h * h * n;
    return 2 * h * f * n * 3 + gemm * t * 2 + 2 * h * h * n * t + gemm * ((bits + group - 1) / group);
  }

 private:
  Index hidden_;
  Rng rng_;
  nn::FeatureFirstRnn<float, B> rnn_;
  nn::Dense<float, B> head_;
  nn::Sigmoid<float, B> sigmoid_;
  nn::Adam<float, B> adam_;
  typename B::template Matrix<float> feature_, h0_;
  std::vector<nn::Triplet> triplets_;
  nn::ParameterList<float, B> params_;
};

template <class B>
void run_steps(benchmark::State& state, bool record_host) {
  const Index hidden = state.range(0);
  DrlihStep<B> step(hidden);
  step.run();  // warm-up: allocations, cuBLAS's first-call setup, the optimizer state
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(step.run());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
                         static_cast<double>(state.iterations());
  state.counters["gflops"] =
      benchmark::Counter(step.flops() * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (record_host) {
    host_seconds()[hidden] = seconds;
  } else if (host_seconds().count(hidden) > 0) {
    state.counters["speedup_vs_cpu"] = host_seconds()[hidden] / seconds;
  }
}

void BM_training_step_cpu(benchmark::State& state) { run_steps<nn::CpuBackend>(state, true); }

void BM_training_step_cuda(benchmark::State& state) {
  if (cuda::device_count() == 0) {
    state.SkipWithError("no CUDA device");
    return;
  }
  run_steps<cuda::CudaBackend>(state, false);
}

}  // namespace

// The paper's hidden size; a host step is several seconds on a few cores, hence few iterations.
BENCHMARK(BM_training_step_cpu)
    ->Name("BM_training_step_cpu/paper")
    ->Arg(4096)
    ->Iterations(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_training_step_cuda)
    ->Name("BM_training_step_cuda/paper")
    ->Arg(4096)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
// The library's default hidden size (methods/drlih.hpp), to see the ratio where the GPU is less busy.
BENCHMARK(BM_training_step_cpu)
    ->Name("BM_training_step_cpu/small")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_training_step_cuda)
    ->Name("BM_training_step_cuda/small")
    ->Arg(256)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
