#pragma once
/// \file
/// Bernoulli policies over bits (DRLIH eq. (1)-(2), (8)): sampling actions, their
/// log-probabilities and the gradients REINFORCE needs. Everything is element-wise over a
/// steps x N matrix (bit t of sample n at (t, n)); actions are 0/1 in the scalar type.
///
/// log P(a | z) with p = sigmoid(z) is a z - softplus(z), computed as
/// a z - max(z, 0) - log1p(exp(-|z|)), which neither overflows nor takes log(0).
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::nn {

namespace detail {
template <class A, class B>
void require_same_shape(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b, const char* where) {
  rlhash::detail::require(a.rows() == b.rows() && a.cols() == b.cols(),
                          std::string(where) + ": shapes differ (" + std::to_string(a.rows()) + " x " +
                              std::to_string(a.cols()) + " vs " + std::to_string(b.rows()) + " x " +
                              std::to_string(b.cols()) + ")");
}
}  // namespace detail

/// Draws a_i = 1 with probability p_i, in column-major order, one uniform draw per element.
template <class D>
Matrix<typename D::Scalar> sample_bernoulli(const Eigen::MatrixBase<D>& probabilities, Rng& rng) {
  using S = typename D::Scalar;
  Matrix<S> actions(probabilities.rows(), probabilities.cols());
  for (Index j = 0; j < actions.cols(); ++j)
    for (Index i = 0; i < actions.rows(); ++i)
      actions(i, j) = uniform_unit(rng) < static_cast<double>(probabilities(i, j)) ? S(1) : S(0);
  return actions;
}

/// log P(a | z) element-wise, from logits z.
template <class Dz, class Da>
Matrix<typename Dz::Scalar> bernoulli_log_prob(const Eigen::MatrixBase<Dz>& logits,
                                               const Eigen::MatrixBase<Da>& actions) {
  using S = typename Dz::Scalar;
  detail::require_same_shape(logits, actions, "bernoulli_log_prob");
  const auto z = logits.array();
  return (actions.array() * z - z.max(S(0)) - (-z.abs()).exp().log1p()).matrix();
}

/// d log P(a | z) / dz = a - sigmoid(z).
template <class Dz, class Da>
Matrix<typename Dz::Scalar> bernoulli_log_prob_grad_logits(const Eigen::MatrixBase<Dz>& logits,
                                                           const Eigen::MatrixBase<Da>& actions) {
  using S = typename Dz::Scalar;
  detail::require_same_shape(logits, actions, "bernoulli_log_prob_grad_logits");
  return (actions.array() - S(1) / (S(1) + (-logits.array()).exp())).matrix();
}

/// log P(a | p) = a log p + (1 - a) log(1 - p), from probabilities in (0, 1).
template <class Dp, class Da>
Matrix<typename Dp::Scalar> bernoulli_log_prob_from_probabilities(const Eigen::MatrixBase<Dp>& probabilities,
                                                                  const Eigen::MatrixBase<Da>& actions) {
  using S = typename Dp::Scalar;
  detail::require_same_shape(probabilities, actions, "bernoulli_log_prob_from_probabilities");
  const auto p = probabilities.array();
  const auto a = actions.array();
  return (a * p.log() + (S(1) - a) * (S(1) - p).log()).matrix();
}

/// d log P(a | p) / dp = a / p - (1 - a) / (1 - p).
template <class Dp, class Da>
Matrix<typename Dp::Scalar> bernoulli_log_prob_grad_probabilities(const Eigen::MatrixBase<Dp>& probabilities,
                                                                  const Eigen::MatrixBase<Da>& actions) {
  using S = typename Dp::Scalar;
  detail::require_same_shape(probabilities, actions, "bernoulli_log_prob_grad_probabilities");
  const auto p = probabilities.array();
  const auto a = actions.array();
  return (a / p - (S(1) - a) / (S(1) - p)).matrix();
}

/// Sums of consecutive groups of `group` rows: the log-probability of each action group,
/// log pi(A_i) = sum_j log P(a_{t_i + j}) (eq. (2)). Input steps x N, output (steps / group) x N.
template <class D>
Matrix<typename D::Scalar> group_log_prob(const Eigen::MatrixBase<D>& log_prob, Index group) {
  rlhash::detail::require(group > 0 && log_prob.rows() % group == 0,
                          "group_log_prob: " + std::to_string(log_prob.rows()) +
                              " steps cannot be split into groups of " + std::to_string(group));
  const Index groups = log_prob.rows() / group;
  Matrix<typename D::Scalar> out(groups, log_prob.cols());
  for (Index g = 0; g < groups; ++g) out.row(g) = log_prob.middleRows(g * group, group).colwise().sum();
  return out;
}

/// REINFORCE (eq. (8)): the gradient w.r.t. the logits of the loss L = -sum R * log P(a | z),
/// i.e. -(a - sigmoid(z)) * R element-wise; `returns` has the logits' shape (broadcast a
/// group's or a sample's reward over its bits before calling).
template <class Dz, class Da, class Dr>
Matrix<typename Dz::Scalar> reinforce_logit_grad(const Eigen::MatrixBase<Dz>& logits,
                                                 const Eigen::MatrixBase<Da>& actions,
                                                 const Eigen::MatrixBase<Dr>& returns) {
  detail::require_same_shape(logits, returns, "reinforce_logit_grad");
  return (-bernoulli_log_prob_grad_logits(logits, actions).array() * returns.array()).matrix();
}

}  // namespace rlhash::nn
