#pragma once
/// \file
/// The listwise policy gradient of deep policy hashing (methods/policy_hashing.hpp, step 2):
/// for each query of a batch, S codes are drawn from its Bernoulli policy, each ranks the whole
/// database by Hamming distance and is rewarded by a listwise metric of that ranking
/// (reward/listwise_reward.hpp), and REINFORCE with the leave-one-out baseline turns the
/// rewards into a gradient w.r.t. the logits.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/reward/listwise_reward.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash::rl {

/// Leave-one-out REINFORCE (Kool, van Hoof & Welling 2019) for ONE query: the gradient of the
/// loss -E_{h ~ Bernoulli(p)}[R(h)] w.r.t. the logits, estimated from S >= 2 independent samples
/// `actions` (bits x S, 0/1) with rewards `rewards[s]`:
///   g = -(1/S) sum_s (R_s - b_s) (h_s - p),   b_s = (1/(S-1)) sum_{s' != s} R_s'.
/// b_s does not depend on h_s, so E[g] is exactly -dE[R]/dz.
template <class S>
Vector<S> rloo_logit_gradient(const Eigen::Ref<const Vector<S>>& probabilities,
                              const Eigen::Ref<const Matrix<S>>& actions, const double* rewards) {
  const Index samples = actions.cols();
  // Called once per query of every batch: the messages are built only on failure.
  if (samples < 2)
    throw InvalidArgument("rloo_logit_gradient: needs at least 2 samples, got " + std::to_string(samples));
  if (actions.rows() != probabilities.size())
    throw InvalidArgument("rloo_logit_gradient: actions have " + std::to_string(actions.rows()) +
                          " bits, probabilities " + std::to_string(probabilities.size()));
  double sum = 0.0;
  for (Index s = 0; s < samples; ++s) sum += rewards[s];
  Vector<S> grad = Vector<S>::Zero(probabilities.size());
  const double others = static_cast<double>(samples - 1);
  for (Index s = 0; s < samples; ++s) {
    const double advantage = rewards[s] - (sum - rewards[s]) / others;
    if (advantage != 0.0) grad.noalias() += static_cast<S>(-advantage) * (actions.col(s) - probabilities);
  }
  return grad / static_cast<S>(samples);
}

/// What one batch's listwise policy gradient produced.
template <class S>
struct ListwiseGradient {
  Matrix<S> logit_grad;    ///< dLoss/dlogits (bits x B), loss = -mean over the batch of E[R]
  Matrix<S> actions;       ///< the sampled codes, bits x (B S): sample s of query q in column q S + s
  Matrix<double> rewards;  ///< S x B
  double mean_reward = 0;  ///< over all samples of the batch
};

/// The relevance flags of database item j (j < database_labels.size()) for query item `query`
/// of `query_labels`, as 0/1 bytes.
inline void relevance_flags(const Labels& query_labels, Index query, const Labels& database_labels,
                            std::vector<std::uint8_t>& flags) {
  const Index n = database_labels.size();
  flags.resize(static_cast<std::size_t>(n));
  if (query_labels.words_per_item() == 1 && database_labels.words_per_item() == 1) {
    const std::uint64_t word = query_labels.row(query)[0];
    const std::uint64_t* rows = database_labels.row(0);
    for (Index j = 0; j < n; ++j) flags[static_cast<std::size_t>(j)] = (word & rows[j]) != 0 ? 1 : 0;
  } else {
    for (Index j = 0; j < n; ++j)
      flags[static_cast<std::size_t>(j)] = query_labels.relevant(query, database_labels, j) ? 1 : 0;
  }
}

/// The listwise policy gradient of a batch (step 2 of the method). Query q of the batch has
/// logits `logits.col(q)` and is database item `query_items[q]` (left out of its own ranking);
/// relevance comes from `labels` (the database's labels, which are also the queries'). `samples` codes per
/// query are drawn from `rng` in a fixed order (query by query, bit by bit), then the rewards are computed on
/// `threads` threads (0: all cores) — the result does not depend on the thread count.
template <class S, class Reward>
ListwiseGradient<S> listwise_policy_gradient(const Eigen::Ref<const Matrix<S>>& logits,
                                             const std::vector<Index>& query_items,
                                             const BinaryCodes& database, const Labels& labels, int samples,
                                             const Reward& reward, Rng& rng, int threads = 1) {
  const Index batch = logits.cols();
  const Index bits = logits.rows();
  const Index n = database.size();
  // Called every training step: the messages are built only on failure.
  const auto fail = [](const std::string& what) {
    throw InvalidArgument("listwise policy gradient: " + what);
  };
  if (samples < 2) fail("samples = " + std::to_string(samples) + ", expected >= 2");
  if (static_cast<Index>(query_items.size()) != batch)
    fail(std::to_string(query_items.size()) + " query items for " + std::to_string(batch) + " logit columns");
  if (database.bits() != bits)
    fail("database codes have " + std::to_string(database.bits()) + " bits, the logits " +
         std::to_string(bits));
  if (labels.size() != n)
    fail(std::to_string(labels.size()) + " labels for a database of " + std::to_string(n) + " codes");
  for (Index q : query_items)
    if (q < 0 || q >= n)
      fail("query item " + std::to_string(q) + " outside the database [0, " + std::to_string(n) + ")");
  ListwiseGradient<S> out;
  const Matrix<S> p = (S(1) / (S(1) + (-logits.array()).exp())).matrix();
  out.actions.resize(bits, batch * samples);
  for (Index q = 0; q < batch; ++q)
    for (Index s = 0; s < samples; ++s)
      for (Index b = 0; b < bits; ++b)
        out.actions(b, q * samples + s) = uniform_unit(rng) < static_cast<double>(p(b, q)) ? S(1) : S(0);
  const BinaryCodes sampled = BinaryCodes::from_probabilities(out.actions);
  out.rewards.resize(samples, batch);
  out.logit_grad.resize(bits, batch);
  if (n > 0 && batch > 0) {
    const int workers = static_cast<int>(std::min<Index>(rlhash::detail::resolve_threads(threads), batch));
    rlhash::detail::run_parallel(workers, [&](int t) {
      std::vector<std::int32_t> distances(static_cast<std::size_t>(n));
      std::vector<std::uint8_t> relevant;
      ListwiseRewardWorkspace workspace;
      for (Index q = rlhash::detail::share_begin(batch, workers, t);
           q < rlhash::detail::share_begin(batch, workers, t + 1); ++q) {
        const Index item = query_items[static_cast<std::size_t>(q)];
        relevance_flags(labels, item, labels, relevant);
        for (Index s = 0; s < samples; ++s) {
          hamming_distances(sampled.row(q * samples + s), database, distances.data());
          out.rewards(s, q) =
              reward(distances.data(), relevant.data(), n, static_cast<int>(bits), item, workspace);
        }
        out.logit_grad.col(q) = rloo_logit_gradient<S>(p.col(q), out.actions.middleCols(q * samples, samples),
                                                       out.rewards.col(q).data());
      }
    });
  } else {
    out.rewards.setZero();
    out.logit_grad.setZero();
  }
  if (batch > 0) out.logit_grad /= static_cast<S>(batch);
  out.mean_reward = out.rewards.size() > 0 ? out.rewards.mean() : 0.0;
  return out;
}

}  // namespace rlhash::rl
