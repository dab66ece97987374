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
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

enum class HeadSharing { shared, per_step };

template <class S>
class PolicyHead {
 public:
  using Scalar = S;

  PolicyHead(Index hidden, Index steps, Rng& rng, HeadSharing sharing = HeadSharing::shared,
             Init init = Init::xavier_uniform, double range = 0.05)
      : steps_(steps), sharing_(sharing) {
    rlhash::detail::require(hidden > 0 && steps > 0, "PolicyHead: hidden and steps must be > 0, got " +
                                                         std::to_string(hidden) + " and " +
                                                         std::to_string(steps));
    const Index heads = sharing == HeadSharing::shared ? 1 : steps;
    weight_.resize(heads, hidden);
    initialize(weight_, init, rng, range);
    bias_ = Vector<S>::Zero(heads);
    weight_grad_ = Matrix<S>::Zero(heads, hidden);
    bias_grad_ = Vector<S>::Zero(heads);
  }

  Index hidden() const { return weight_.cols(); }
  Index steps() const { return steps_; }
  HeadSharing sharing() const { return sharing_; }

  /// Probabilities p (steps x N) for the states `c` (hidden x (steps N)).
  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& c) {
    compute_logits(c, logits_);
    states_ = c;
    probabilities_ = (S(1) / (S(1) + (-logits_.array()).exp())).matrix();
    return probabilities_;
  }

  Matrix<S> infer(const Eigen::Ref<const Matrix<S>>& c) const {
    Matrix<S> z;
    compute_logits(c, z);
    return (S(1) / (S(1) + (-z.array()).exp())).matrix();
  }

  /// The logits z (steps x N) of the last forward; p = sigmoid(z).
  const Matrix<S>& logits() const { return logits_; }
  const Matrix<S>& probabilities() const { return probabilities_; }

  /// Backward from dL/dp (steps x N); returns dL/dc (hidden x (steps N)).
  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& d_prob) {
    check_grad_shape(d_prob, "probability");
    const Matrix<S> d_logits =
        (d_prob.array() * probabilities_.array() * (S(1) - probabilities_.array())).matrix();
    return backward_logits(d_logits);
  }

  /// Backward from dL/dz (steps x N) — the stable path for REINFORCE (bernoulli.hpp).
  const Matrix<S>& backward_logits(const Eigen::Ref<const Matrix<S>>& d_logits) {
    check_grad_shape(d_logits, "logit");
    const Index n = logits_.cols();
    state_grad_.resize(hidden(), steps_ * n);
    if (sharing_ == HeadSharing::shared) {
      // The N x steps transpose, read column-major, is the step-major flat row: entry t N + n.
      const Matrix<S> transposed = d_logits.transpose();
      const Eigen::Map<const RowVector<S>> flat(transposed.data(), steps_ * n);
      weight_grad_.noalias() += flat * states_.transpose();
      bias_grad_(0) += flat.sum();
      state_grad_.noalias() = weight_.transpose() * flat;
    } else {
      for (Index t = 0; t < steps_; ++t) {
        weight_grad_.row(t).noalias() += d_logits.row(t) * states_.middleCols(t * n, n).transpose();
        bias_grad_(t) += d_logits.row(t).sum();
        state_grad_.middleCols(t * n, n).noalias() = weight_.row(t).transpose() * d_logits.row(t);
      }
    }
    return state_grad_;
  }

  /// Names: "weight" (W_p, 1 x hidden shared or steps x hidden per step), "bias".
  ParameterList<S> parameters() {
    return {make_param(weight_, weight_grad_, "weight"), make_param(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    weight_grad_.setZero();
    bias_grad_.setZero();
  }
  void set_training(bool) {}

  Matrix<S>& weight() { return weight_; }
  Vector<S>& bias() { return bias_; }

 private:
  void compute_logits(const Eigen::Ref<const Matrix<S>>& c, Matrix<S>& z) const {
    rlhash::detail::require(c.rows() == hidden() && c.cols() > 0 && c.cols() % steps_ == 0,
                            "PolicyHead: states are " + std::to_string(c.rows()) + " x " +
                                std::to_string(c.cols()) + ", expected " + std::to_string(hidden()) + " x (" +
                                std::to_string(steps_) + " * N)");
    const Index n = c.cols() / steps_;
    z.resize(steps_, n);
    if (sharing_ == HeadSharing::shared) {
      RowVector<S> flat(c.cols());
      flat.noalias() = weight_ * c;  // one GEMV over every step at once
      z = Eigen::Map<const Matrix<S>>(flat.data(), n, steps_).transpose();
      z.array() += bias_(0);
    } else {
      for (Index t = 0; t < steps_; ++t) {
        z.row(t).noalias() = weight_.row(t) * c.middleCols(t * n, n);
        z.row(t).array() += bias_(t);
      }
    }
  }
  void check_grad_shape(const Eigen::Ref<const Matrix<S>>& g, const char* what) const {
    rlhash::detail::require<StateError>(logits_.size() > 0, "PolicyHead::backward called before forward");
    rlhash::detail::require(g.rows() == logits_.rows() && g.cols() == logits_.cols(),
                            std::string("PolicyHead::backward: ") + what + " gradient is " +
                                std::to_string(g.rows()) + " x " + std::to_string(g.cols()) + ", expected " +
                                std::to_string(logits_.rows()) + " x " + std::to_string(logits_.cols()));
  }

  Index steps_;
  HeadSharing sharing_;
  Matrix<S> weight_, weight_grad_;
  Vector<S> bias_, bias_grad_;
  Matrix<S> states_, logits_, probabilities_, state_grad_;
};

}  // namespace rlhash::nn
