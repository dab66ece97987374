#pragma once
/// \file
/// Deep Q-learning pieces (Mnih et al. 2015): the bootstrapped regression targets and the
/// target-network updates. The loss is nn::selected_huber_loss (only the taken action's value
/// is regressed).
#include <algorithm>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::rl {

/// y_j = r_j + gamma * max_a Q_target(s'_j, a), or r_j when transition j ended the episode
/// (terminal[j] != 0). `next_q` is actions x N.
template <class D>
Vector<typename D::Scalar> q_learning_targets(const Eigen::MatrixBase<D>& next_q,
                                              const std::vector<float>& rewards,
                                              const std::vector<unsigned char>& terminal, double gamma) {
  using S = typename D::Scalar;
  const Index n = next_q.cols();
  rlhash::detail::require(static_cast<Index>(rewards.size()) == n && static_cast<Index>(terminal.size()) == n,
                          "q_learning_targets: " + std::to_string(rewards.size()) + " rewards and " +
                              std::to_string(terminal.size()) + " terminal flags for " + std::to_string(n) +
                              " next states");
  rlhash::detail::require(gamma >= 0 && gamma <= 1,
                          "q_learning_targets: gamma must be in [0, 1], got " + std::to_string(gamma));
  Vector<S> y(n);
  for (Index j = 0; j < n; ++j) {
    const auto k = static_cast<std::size_t>(j);
    y(j) = static_cast<S>(rewards[k]);
    if (!terminal[k]) y(j) += static_cast<S>(gamma) * next_q.col(j).maxCoeff();
  }
  return y;
}

/// Double DQN (van Hasselt et al. 2016): the online network picks the next action, the target
/// network values it: y_j = r_j + gamma * Q_target(s'_j, argmax_a Q_online(s'_j, a)).
template <class D1, class D2>
Vector<typename D1::Scalar> double_q_learning_targets(const Eigen::MatrixBase<D1>& next_q_target,
                                                      const Eigen::MatrixBase<D2>& next_q_online,
                                                      const std::vector<float>& rewards,
                                                      const std::vector<unsigned char>& terminal,
                                                      double gamma) {
  using S = typename D1::Scalar;
  rlhash::detail::require(
      next_q_target.rows() == next_q_online.rows() && next_q_target.cols() == next_q_online.cols(),
      "double_q_learning_targets: target and online values differ in shape");
  Vector<S> y = q_learning_targets(next_q_target, rewards, terminal, gamma);  // validates sizes
  for (Index j = 0; j < next_q_target.cols(); ++j) {
    const auto k = static_cast<std::size_t>(j);
    if (terminal[k]) continue;
    Index best = 0;
    next_q_online.col(j).maxCoeff(&best);
    y(j) = static_cast<S>(rewards[k]) + static_cast<S>(gamma) * next_q_target(best, j);
  }
  return y;
}

namespace detail {
template <class S, class B>
void require_same_parameters(const nn::ParameterList<S, B>& from, const nn::ParameterList<S, B>& to,
                             const char* what) {
  rlhash::detail::require(from.size() == to.size(), std::string(what) + ": the networks have " +
                                                        std::to_string(from.size()) + " and " +
                                                        std::to_string(to.size()) + " parameters");
  for (std::size_t i = 0; i < from.size(); ++i)
    rlhash::detail::require(from[i].rows == to[i].rows && from[i].cols == to[i].cols,
                            std::string(what) + ": parameter '" + from[i].name + "' has different shapes");
}
}  // namespace detail

/// Hard target update: every parameter of `target` := the online network's (on the networks'
/// backend).
template <class Net>
void copy_parameters(Net& online, Net& target) {
  using B = nn::backend_of_t<Net>;
  const auto from = online.parameters();
  const auto to = target.parameters();
  detail::require_same_parameters(from, to, "copy_parameters");
  for (std::size_t i = 0; i < from.size(); ++i) B::copy(to[i].value(), from[i].value());
}

/// Soft (Polyak) target update: target := tau * online + (1 - tau) * target (on the networks'
/// backend, as (1 - tau) target + tau online).
template <class Net>
void soft_update(Net& online, Net& target, double tau) {
  rlhash::detail::require(tau >= 0 && tau <= 1,
                          "soft_update: tau must be in [0, 1], got " + std::to_string(tau));
  using S = typename Net::Scalar;
  using B = nn::backend_of_t<Net>;
  const auto from = online.parameters();
  const auto to = target.parameters();
  detail::require_same_parameters(from, to, "soft_update");
  const S t = static_cast<S>(tau);
  typename B::template Matrix<S> scaled;
  for (std::size_t i = 0; i < from.size(); ++i) {
    B::copy(scaled, from[i].value());
    B::scale(scaled, t);
    B::scale(to[i].value(), S(1) - t);
    B::add(to[i].value(), scaled);
  }
}

}  // namespace rlhash::rl
