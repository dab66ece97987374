// Deep policy hashing: the cost of one training step's listwise rewards against the network's
// forward + backward on the same batch (the design target: rewards < network).
//
// Rewards: S = 8 sampled codes x 64 queries, each ranking a 5,000-code database by Hamming
// distance and scored by the listwise reward, plus the leave-one-out REINFORCE gradient
// (listwise_policy_gradient: sampling, packing, SIMD distance scans, O(N) reward, gradient).
// Network: the default MLP 784 -> 1024 -> 512 -> bits, forward + backward of 64 items.
// Both single-threaded (the GEMMs run on Eigen's thread pool; pin it to one thread with
// OMP_NUM_THREADS=1 for a like-for-like ratio).
//
//   OMP_NUM_THREADS=1 build/bench/bench_policy_hashing
#if defined(__GNUC__) && !defined(__clang__)
// g++ 12 with -march=native (AVX-512) flags _mm512_undefined_ps() inside Eigen's GEMM packing
// as maybe-uninitialized; a false positive in Eigen, not in this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <benchmark/benchmark.h>

#include <string>

#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/rl/listwise_policy_gradient.hpp"

using namespace rlhash;

namespace {
constexpr Index batch = 64, database_size = 5000, inputs = 784;
constexpr int samples = 8;

MatrixF random_matrix(Index rows, Index cols, std::uint64_t seed, double scale = 1.0) {
  Rng rng(seed);
  MatrixF m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<float>(scale * standard_normal(rng));
  return m;
}

Labels random_labels(Index n, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = static_cast<std::int32_t>(uniform_below(rng, 10));
  return Labels::from_class_ids(ids, 10);
}

template <class Reward>
void run_rewards(benchmark::State& state, const Reward& reward) {
  const int bits = static_cast<int>(state.range(0));
  const BinaryCodes database = BinaryCodes::from_signs(random_matrix(bits, database_size, 1));
  const Labels labels = random_labels(database_size, 2);
  const MatrixF logits = random_matrix(bits, batch, 3);
  std::vector<Index> queries(static_cast<std::size_t>(batch));
  for (Index q = 0; q < batch; ++q) queries[static_cast<std::size_t>(q)] = q * 71;
  Rng rng(4);
  for (auto _ : state) {
    auto g = rl::listwise_policy_gradient<float>(logits, queries, database, labels, samples, reward, rng, 1);
    benchmark::DoNotOptimize(g.logit_grad.data());
  }
  state.counters["rankings/s"] =
      benchmark::Counter(static_cast<double>(batch * samples), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_step_rewards_tie_ap(benchmark::State& state) { run_rewards(state, TieAwareApReward{}); }
void BM_step_rewards_ap(benchmark::State& state) { run_rewards(state, AveragePrecisionReward{}); }
void BM_step_rewards_ndcg100(benchmark::State& state) { run_rewards(state, NdcgAtKReward(100)); }

void BM_step_network_forward_backward(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  Rng rng(5);
  auto net = MlpPolicyNetwork<float>::make(inputs, bits, MlpPolicyNetwork<float>::Config{}, rng);
  const MatrixF x = random_matrix(inputs, batch, 6, 0.3).cwiseAbs();
  const MatrixF dy = random_matrix(bits, batch, 7, 0.01);
  for (auto _ : state) {
    net.forward(x);
    benchmark::DoNotOptimize(net.backward(dy).data());
  }
}
}  // namespace

BENCHMARK(BM_step_rewards_tie_ap)->Arg(12)->Arg(32)->Arg(48)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_step_rewards_ap)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_step_rewards_ndcg100)->Arg(32)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_step_network_forward_backward)->Arg(12)->Arg(32)->Arg(48)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
