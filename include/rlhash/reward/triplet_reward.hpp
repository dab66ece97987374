#pragma once
/// \file
/// DRLIH's hierarchical triplet rewards (eq. (3), (4)) and the Monte-Carlo policy gradient of
/// the action-group reward (eq. (8)).
///
///   J(a, p, n)   = max(0, m_t + |a - p|^2 - |a - n|^2)              (eq. 3)
///   R^g_{t,j}    = -J over the bits of action group j only           (eq. 4, group reward)
///   R^G_t        = -J over the whole code                            (eq. 4, global reward)
///
/// The global reward is differentiable in the relaxed code (nn::triplet_margin_loss). The group
/// reward is optimised by REINFORCE over the Bernoulli policy: with actions A ~ pi and
/// objective E[sum_j mean_t R^g_{t,j}(A)], an unbiased estimate of the gradient w.r.t. the
/// logit z of bit b (in group j) of image n is
///
///   (a_bn - p_bn) * (1 / T) * sum over triplets t that contain n of (R^g_{t,j}(A) - B_{t,j})
///
/// (eq. (8) with the triplet rewards routed to the images whose actions produced them; the
/// rewards of triplets without n do not depend on n's actions and would only add noise).
/// B is a baseline that must not depend on the sampled actions to keep the estimate unbiased:
/// "greedy" (the reward of the thresholded code, self-critical style) is exact; "batch_mean"
/// (the batch's mean reward of the group, the usual choice) depends on the sample and is
/// biased by O(1 / T).
///
/// The paper computes the rewards on the relaxed code (probabilities). Then R^g does not depend
/// on the sampled actions and the REINFORCE term has zero mean — it only adds noise; the
/// default here is the reward of the SAMPLED bits (`on_probabilities = false`).
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/loss.hpp"

namespace rlhash {

/// One action group: bits [begin, begin + size) of the code.
struct ActionGroup {
  Index begin = 0;
  Index size = 0;
};

/// q bits in groups of k (eq. (2)); the last group is shorter when k does not divide q
/// (32 bits, k = 12: 12 + 12 + 8).
inline std::vector<ActionGroup> action_groups(Index bits, Index group_size) {
  detail::require(bits > 0 && group_size > 0, "action_groups: bits and group size must be > 0, got " +
                                                  std::to_string(bits) + " and " +
                                                  std::to_string(group_size));
  std::vector<ActionGroup> groups;
  for (Index b = 0; b < bits; b += group_size) groups.push_back({b, std::min(group_size, bits - b)});
  return groups;
}

enum class RewardBaseline { none, batch_mean, greedy };

/// Parses "none", "batch_mean", "greedy".
inline RewardBaseline parse_reward_baseline(const std::string& name) {
  if (name == "none") return RewardBaseline::none;
  if (name == "batch_mean") return RewardBaseline::batch_mean;
  if (name == "greedy") return RewardBaseline::greedy;
  throw InvalidArgument("reward baseline: unknown value '" + name + "'; expected none, batch_mean or greedy");
}

/// R_{t,j} = -J(codes of group j) for every group j (rows) and triplet t (columns), over
/// `codes` (bits x N, relaxed or binary, one sample per column).
template <class D>
Matrix<typename D::Scalar> group_triplet_rewards(const Eigen::MatrixBase<D>& codes,
                                                 const std::vector<ActionGroup>& groups,
                                                 const std::vector<nn::Triplet>& triplets, double margin) {
  using S = typename D::Scalar;
  const Index n = codes.cols();
  Matrix<S> rewards(static_cast<Index>(groups.size()), static_cast<Index>(triplets.size()));
  for (std::size_t g = 0; g < groups.size(); ++g)
    detail::require(
        groups[g].begin >= 0 && groups[g].size > 0 && groups[g].begin + groups[g].size <= codes.rows(),
        "group_triplet_rewards: group " + std::to_string(g) + " exceeds the " + std::to_string(codes.rows()) +
            " bits of the codes");
  for (std::size_t t = 0; t < triplets.size(); ++t) {
    const auto& tr = triplets[t];
    detail::require(tr.anchor >= 0 && tr.anchor < n && tr.positive >= 0 && tr.positive < n &&
                        tr.negative >= 0 && tr.negative < n,
                    "group_triplet_rewards: triplet " + std::to_string(t) + " indexes outside the " +
                        std::to_string(n) + " codes");
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const auto a = codes.col(tr.anchor).segment(groups[g].begin, groups[g].size);
      const auto p = codes.col(tr.positive).segment(groups[g].begin, groups[g].size);
      const auto q = codes.col(tr.negative).segment(groups[g].begin, groups[g].size);
      const S value = static_cast<S>(margin) + (a - p).squaredNorm() - (a - q).squaredNorm();
      rewards(static_cast<Index>(g), static_cast<Index>(t)) = -std::max(value, S(0));
    }
  }
  return rewards;
}

struct GroupRewardOptions {
  double margin = 1.0;  ///< m_t of eq. (3)
  RewardBaseline baseline = RewardBaseline::batch_mean;
  bool on_probabilities = false;  ///< the paper's literal reading: rewards of the relaxed code
  /// Codes sampled per image: 1 = one sample with `baseline`; K >= 2 = K samples, each with the
  /// leave-one-out baseline (group_policy_gradient_leave_one_out).
  int samples = 1;
};

template <class S>
struct GroupPolicyGradient {
  Matrix<S> logit_grad;    ///< d(-objective)/dz, bits x N
  double mean_reward = 0;  ///< sum over groups of the mean reward over triplets (the objective's sample)
};

namespace detail {
/// Each triplet's advantage (groups x T) routed to its three images and averaged over the T
/// triplets: the return of every image in every group (groups x N).
template <class S>
Matrix<S> route_to_images(const Matrix<S>& advantage, const std::vector<nn::Triplet>& triplets, Index n) {
  Matrix<S> returns = Matrix<S>::Zero(advantage.rows(), n);
  for (std::size_t t = 0; t < triplets.size(); ++t) {
    const auto col = advantage.col(static_cast<Index>(t));
    returns.col(triplets[t].anchor) += col;
    returns.col(triplets[t].positive) += col;
    returns.col(triplets[t].negative) += col;
  }
  return returns / static_cast<S>(triplets.size());
}

/// d(-objective)/dz = -(a - p) * return of the bit's group and image (bits x N).
template <class S>
Matrix<S> policy_logit_grad(const Matrix<S>& p, const Matrix<S>& a, const Matrix<S>& returns,
                            const std::vector<ActionGroup>& groups) {
  Matrix<S> grad(p.rows(), p.cols());
  for (std::size_t g = 0; g < groups.size(); ++g)
    grad.middleRows(groups[g].begin, groups[g].size) =
        ((p.middleRows(groups[g].begin, groups[g].size) - a.middleRows(groups[g].begin, groups[g].size))
             .array()
             .rowwise() *
         returns.row(static_cast<Index>(g)).array())
            .matrix();
  return grad;
}
}  // namespace detail

/// The REINFORCE estimate for the group rewards (see the file comment). `probabilities` and
/// `actions` are bits x N (actions 0/1 drawn from the probabilities); the result is the
/// gradient of the LOSS -sum_j mean_t R^g_{t,j} w.r.t. the logits, ready for
/// PolicyHead::backward_logits. No triplets: a zero gradient.
template <class Dp, class Da>
GroupPolicyGradient<typename Dp::Scalar> group_policy_gradient(const Eigen::MatrixBase<Dp>& probabilities,
                                                               const Eigen::MatrixBase<Da>& actions,
                                                               const std::vector<ActionGroup>& groups,
                                                               const std::vector<nn::Triplet>& triplets,
                                                               const GroupRewardOptions& options) {
  using S = typename Dp::Scalar;
  detail::require(probabilities.rows() == actions.rows() && probabilities.cols() == actions.cols(),
                  "group_policy_gradient: probabilities are " + std::to_string(probabilities.rows()) + " x " +
                      std::to_string(probabilities.cols()) + ", actions " + std::to_string(actions.rows()) +
                      " x " + std::to_string(actions.cols()));
  GroupPolicyGradient<S> out;
  out.logit_grad = Matrix<S>::Zero(probabilities.rows(), probabilities.cols());
  if (triplets.empty()) return out;
  const Matrix<S> p = probabilities;
  const Matrix<S> a = actions;
  const Matrix<S> rewards = options.on_probabilities
                                ? group_triplet_rewards(p, groups, triplets, options.margin)
                                : group_triplet_rewards(a, groups, triplets, options.margin);
  const S count = static_cast<S>(triplets.size());
  out.mean_reward = static_cast<double>(rewards.sum() / count);
  Matrix<S> advantage = rewards;
  switch (options.baseline) {
    case RewardBaseline::none:
      break;
    case RewardBaseline::batch_mean:
      advantage.colwise() -= Vector<S>(rewards.rowwise().sum() / count);
      break;
    case RewardBaseline::greedy: {
      const Matrix<S> greedy = (p.array() > S(0.5)).template cast<S>().matrix();
      advantage -= group_triplet_rewards(greedy, groups, triplets, options.margin);
      break;
    }
  }
  out.logit_grad = detail::policy_logit_grad(p, a, detail::route_to_images(advantage, triplets, p.cols()), groups);
  return out;
}

/// The REINFORCE estimate from K >= 2 codes sampled independently per image, each with the
/// leave-one-out baseline (the mean reward of the other K - 1 samples, "buy 4 REINFORCE
/// samples, get a baseline for free", Kool, van Hoof & Welling 2019): unbiased, because a
/// sample's baseline does not depend on its own actions, and of lower variance than the unbiased
/// one-sample estimate without a baseline (the batch-mean baseline, biased by O(1/T), can be
/// lower still: tests/methods/test_drlih.cpp measures both). The rewards are those of the sampled bits; `options.baseline`
/// and `options.on_probabilities` are not used. The result is the mean of the K per-sample
/// estimates; `mean_reward` the mean over the samples.
template <class Dp, class S = typename Dp::Scalar>
GroupPolicyGradient<S> group_policy_gradient_leave_one_out(const Eigen::MatrixBase<Dp>& probabilities,
                                                           const std::vector<Matrix<S>>& samples,
                                                           const std::vector<ActionGroup>& groups,
                                                           const std::vector<nn::Triplet>& triplets,
                                                           const GroupRewardOptions& options) {
  const Index k = static_cast<Index>(samples.size());
  detail::require(k >= 2, "group_policy_gradient_leave_one_out: needs at least 2 samples, got " +
                              std::to_string(k));
  for (const auto& a : samples)
    detail::require(a.rows() == probabilities.rows() && a.cols() == probabilities.cols(),
                    "group_policy_gradient_leave_one_out: a sample is " + std::to_string(a.rows()) + " x " +
                        std::to_string(a.cols()) + ", probabilities " + std::to_string(probabilities.rows()) +
                        " x " + std::to_string(probabilities.cols()));
  GroupPolicyGradient<S> out;
  out.logit_grad = Matrix<S>::Zero(probabilities.rows(), probabilities.cols());
  if (triplets.empty()) return out;
  const Matrix<S> p = probabilities;
  std::vector<Matrix<S>> rewards;
  rewards.reserve(samples.size());
  Matrix<S> total = Matrix<S>::Zero(static_cast<Index>(groups.size()), static_cast<Index>(triplets.size()));
  for (const auto& a : samples) {
    rewards.push_back(group_triplet_rewards(a, groups, triplets, options.margin));
    total += rewards.back();
  }
  const S count = static_cast<S>(triplets.size());
  out.mean_reward = static_cast<double>(total.sum() / (count * static_cast<S>(k)));
  for (Index i = 0; i < k; ++i) {
    const Matrix<S> advantage = rewards[i] - (total - rewards[i]) / static_cast<S>(k - 1);
    out.logit_grad += detail::policy_logit_grad(p, samples[i], detail::route_to_images(advantage, triplets, p.cols()), groups);
  }
  out.logit_grad /= static_cast<S>(k);
  return out;
}

}  // namespace rlhash
