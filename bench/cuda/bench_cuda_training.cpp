// One DRLIH training step at the paper's size on the host backend and on the CUDA backend, in
// the same run (design target: the device step >= 10x the host step on an H100). The step is the
// library's own: DrlihHasher::training_step on a DrlihNetwork (feature-first Elman RNN agent,
// hidden 4096, 32 bits in action groups of 12, the shared policy layer) over 512-d features
// (IdentityRepresentation: the agent's cost without a representation MLP), batch 256 with every
// valid triplet of its 10 classes, the triplet loss (DRLIH eq. 3, 9) on the host, BPTT, global
// gradient clipping and one Adam update of every parameter, as nn::Trainer runs it. The device
// step includes the transfers the method makes: the batch up, p down, dL/dlogits up.
// BM_training_step_cuda reports `speedup_vs_cpu` against the host step timed just before it
// (run both: no --benchmark_filter that drops the CPU one).
//
//   build/bench/cuda/bench_cuda_training
//   build/bench/cuda/bench_cuda_training --benchmark_filter=small   (the same at hidden 256)
#if defined(__GNUC__) && !defined(__clang__)
// GCC 12 false positive inside Eigen's AVX-512 GEMM packing under -march=native (as bench_nn).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/reward/triplet_sampling.hpp"

using namespace rlhash;

namespace {

constexpr Index batch = 256, bits = 32, group = 12, features = 512;

// Host step times by hidden size, for the device benchmark's ratio.
std::map<Index, double>& host_seconds() {
  static std::map<Index, double> seconds;
  return seconds;
}

/// The DRLIH agent on backend B with the library's training step, a fixed batch and triplets.
template <class B>
class DrlihStep {
 public:
  using Hasher = DrlihHasher<IdentityRepresentation<float, B>>;

  explicit DrlihStep(Index hidden) : hidden_(hidden), net_(make_network(hidden)), adam_(adam_config()) {
    Rng rng(1);
    rlhash::Matrix<float> x(features, batch);
    for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(standard_normal(rng));
    x_ = B::from_host(x);
    std::vector<std::int32_t> classes;
    std::vector<Index> items;
    for (Index i = 0; i < batch; ++i) {
      classes.push_back(static_cast<std::int32_t>(i % 10));
      items.push_back(i);
    }
    triplets_ = sample_triplets(Labels::from_class_ids(classes, 10), items, 1, rng);
    groups_ = action_groups(bits, group);
    params_ = net_.parameters();
  }

  /// One step; returns the loss (computed from the downloaded p, so the forward is complete;
  /// the clipping norm's download waits for the backward).
  double run() {
    nn::zero_grad(params_);
    const double loss = Hasher::training_step(net_, x_, triplets_, groups_, reward_, 0.0, rng_);
    nn::clip_grad_norm(params_, 1.0);
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
  static typename Hasher::Network make_network(Index hidden) {
    typename Hasher::Config c;
    c.bits = bits;
    c.group_size = group;
    c.rnn_hidden = static_cast<int>(hidden);
    c.seed = 1;
    return Hasher(c).make_network(features);
  }
  static nn::AdamConfig adam_config() { return nn::AdamConfig{1e-4, 0.9, 0.999, 1e-8, 5e-4, false}; }

  Index hidden_;
  typename Hasher::Network net_;
  nn::Adam<float, B> adam_;
  typename B::template Matrix<float> x_;
  std::vector<nn::Triplet> triplets_;
  std::vector<ActionGroup> groups_;
  GroupRewardOptions reward_;
  Rng rng_{2};
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
