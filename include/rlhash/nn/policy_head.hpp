#pragma once
/// \file
/// DRLIH's policy layer, eq. (6): p_t = sigmoid(w_p^T c_t + b_p), the probability that bit t
/// is 1, one bit per RNN step. The head is shared across steps by default (one w_p, b_p) or
/// per step (row t of W_p and b_p(t) for step t).
///
/// Input: RNN states, hidden x (T N), step-major (as ElmanRnn / FeatureFirstRnn return them).
/// Output: T x N probabilities, bit t of sample n at (t, n) — a batch of relaxed codes, one
/// sample per column, ready for the triplet loss (eq. (3)).
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

enum class HeadSharing { shared, per_step };

template <class S, class B = CpuBackend>
class PolicyHead {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using Vector = typename B::template Vector<S>;
  using ConstRef = typename B::template ConstRef<S>;

  PolicyHead(Index hidden, Index steps, Rng& rng, HeadSharing sharing = HeadSharing::shared,
             Init init = Init::xavier_uniform, double range = 0.05)
      : steps_(steps), sharing_(sharing) {
    rlhash::detail::require(hidden > 0 && steps > 0, "PolicyHead: hidden and steps must be > 0, got " +
                                                         std::to_string(hidden) + " and " +
                                                         std::to_string(steps));
    const Index heads = sharing == HeadSharing::shared ? 1 : steps;
    rlhash::Matrix<S> weight(heads, hidden);
    initialize(weight, init, rng, range);
    weight_ = B::from_host(weight);
    bias_ = B::template zeros<S>(heads, 1);
    weight_grad_ = B::template zeros<S>(heads, hidden);
    bias_grad_ = B::template zeros<S>(heads, 1);
  }

  Index hidden() const { return weight_.cols(); }
  Index steps() const { return steps_; }
  HeadSharing sharing() const { return sharing_; }

  /// Probabilities p (steps x N) for the states `c` (hidden x (steps N)).
  const Matrix& forward(const ConstRef& c) {
    compute_flat_logits(c, flat_);
    B::copy(states_, c);
    unflatten(flat_, logits_);
    B::template activation_forward<SigmoidFunction>(logits_, probabilities_);
    return probabilities_;
  }

  Matrix infer(const ConstRef& c) const {
    Matrix flat;
    compute_flat_logits(c, flat);
    return probabilities_of(flat);
  }

  /// W_p^T (hidden x heads): head t's weights as the contiguous column t, what logits_of_step
  /// reads. Take it once per pass over the steps (the weights change only between passes).
  Matrix head_columns() const {
    Matrix columns;
    B::transpose_into(columns, weight_);
    return columns;
  }

  /// The logits of step t for its states `c` (hidden x N), written to columns [t N, (t+1) N)
  /// of `flat` (1 x (steps N), the step-major row of logits), `columns` = head_columns():
  /// inference that runs the RNN one step at a time collects them there, then calls
  /// probabilities_of(flat).
  template <class Flat>
  void logits_of_step(const ConstRef& c, Index t, const Matrix& columns, Flat& flat) const {
    const Index n = c.cols();
    const Index head = sharing_ == HeadSharing::shared ? 0 : t;
    auto out = B::cols(flat, t * n, n);
    B::product(out, B::transpose(B::cols(columns, head, 1)), c);  // w_t^T c
    B::add_bias(out, B::map(static_cast<const S*>(bias_.data()) + head, 1, 1));
  }
  /// sigmoid of the step-major logits `flat` (1 x (steps N)) as steps x N probabilities.
  Matrix probabilities_of(const ConstRef& flat) const {
    Matrix z, p;
    unflatten(flat, z);
    B::template activation_forward<SigmoidFunction>(z, p);
    return p;
  }

  /// The logits z (steps x N) of the last forward; p = sigmoid(z).
  const Matrix& logits() const { return logits_; }
  const Matrix& probabilities() const { return probabilities_; }

  /// Backward from dL/dp (steps x N); returns dL/dc (hidden x (steps N)).
  const Matrix& backward(const ConstRef& d_prob) {
    check_grad_shape(d_prob, "the probability gradient");
    B::template activation_backward<SigmoidFunction>(probabilities_, d_prob, d_logits_);
    return backward_logits(d_logits_);
  }

  /// Backward from dL/dz (steps x N) — the stable path for REINFORCE (bernoulli.hpp).
  const Matrix& backward_logits(const ConstRef& d_logits) {
    check_grad_shape(d_logits, "the logit gradient");
    const Index n = logits_.cols();
    // The N x steps transpose, read column-major, is the step-major flat row: entry t N + n.
    B::resize(d_flat_, 1, steps_ * n);
    B::transpose_into(B::map(d_flat_.data(), n, steps_), d_logits);
    B::resize(state_grad_, hidden(), steps_ * n);
    if (sharing_ == HeadSharing::shared) {
      B::add_product(weight_grad_, d_flat_, B::transpose(states_));
      B::add_row_sums(bias_grad_, d_flat_);
      B::product(state_grad_, B::transpose(weight_), d_flat_);
      return state_grad_;
    }
    // Per step t: row t of W_p sees only step t's states (a hidden x steps buffer holds the
    // rows as columns, so every operand is a contiguous column range).
    B::resize(weight_grad_columns_, hidden(), steps_);
    B::set_zero(weight_grad_columns_);
    const Matrix columns = head_columns();
    for (Index t = 0; t < steps_; ++t) {
      const auto d_t = B::cols(static_cast<const Matrix&>(d_flat_), t * n, n);
      const auto c_t = B::cols(static_cast<const Matrix&>(states_), t * n, n);
      B::add_product(B::cols(weight_grad_columns_, t, 1), c_t, B::transpose(d_t));
      B::add_row_sums(B::map(bias_grad_.data() + t, 1, 1), d_t);
      B::product(B::cols(state_grad_, t * n, n), B::cols(columns, t, 1), d_t);
    }
    B::transpose_into(weight_grad_step_, weight_grad_columns_);
    B::add(weight_grad_, weight_grad_step_);
    return state_grad_;
  }

  /// Names: "weight" (W_p, 1 x hidden shared or steps x hidden per step), "bias".
  ParameterList<S, B> parameters() {
    return {make_param<B>(weight_, weight_grad_, "weight"), make_param<B>(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    B::set_zero(weight_grad_);
    B::set_zero(bias_grad_);
  }
  void set_training(bool) {}

  Matrix& weight() { return weight_; }
  const Matrix& weight() const { return weight_; }
  Vector& bias() { return bias_; }
  const Vector& bias() const { return bias_; }

 private:
  /// The step-major logits (1 x (steps N)) of the states `c` (hidden x (steps N)).
  void compute_flat_logits(const ConstRef& c, Matrix& flat) const {
    check_states(c);
    B::resize(flat, 1, c.cols());
    if (sharing_ == HeadSharing::shared) {
      B::product(flat, weight_, c);  // one GEMV over every step at once
      B::add_bias(flat, bias_);
      return;
    }
    const Index n = c.cols() / steps_;
    const Matrix columns = head_columns();
    for (Index t = 0; t < steps_; ++t) logits_of_step(B::cols(c, t * n, n), t, columns, flat);
  }

  /// The step-major row `flat` (entry t N + n) as steps x N: read column-major, it is the
  /// N x steps transpose.
  void unflatten(const ConstRef& flat, Matrix& z) const {
    const Index n = flat.cols() / steps_;
    B::transpose_into(z, B::map(flat.data(), n, steps_));
  }

  void check_states(const ConstRef& c) const {
    if (c.rows() == hidden() && c.cols() > 0 && c.cols() % steps_ == 0) return;  // checked every step
    throw InvalidArgument("PolicyHead: states are " + std::to_string(c.rows()) + " x " +
                          std::to_string(c.cols()) + ", expected " + std::to_string(hidden()) + " x (" +
                          std::to_string(steps_) + " * N)");
  }
  void check_grad_shape(const ConstRef& g, const char* what) const {
    rlhash::detail::require<StateError>(logits_.size() > 0, "PolicyHead::backward called before forward");
    rlhash::detail::require_shape("PolicyHead::backward", what, g.rows(), g.cols(), logits_.rows(),
                                  logits_.cols());
  }

  Index steps_;
  HeadSharing sharing_;
  Matrix weight_, weight_grad_;
  Vector bias_, bias_grad_;
  Matrix states_, logits_, probabilities_, state_grad_;
  Matrix flat_, d_flat_, d_logits_, weight_grad_columns_, weight_grad_step_;
};

}  // namespace rlhash::nn
