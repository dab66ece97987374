#pragma once
/// \file
/// DRLIH's "feature-first" unroll of the Elman RNN (eq. (5) and the text after it): for a
/// state (h, i) of history h and image feature i,
///
///     c_1 = tanh(W_f i + W_h h + b)
///     c_t = tanh(W_x c_{t-1} + W_h c_{t-1} + b),   t = 2..k
///
/// — the feature enters only at the first step of an action group, afterwards the input is the
/// previous hidden state. W_f is hidden x features (the feature size may differ from the
/// hidden size); W_x and W_h (the paper's W_xi, W_hi) are kept as separate parameters although
/// after the first step only their sum acts.
///
/// DRLIH emits q bits in groups of k: group j starts from h = the last state of group j - 1
/// and the same feature i. `forward(feature, h0, steps, group_size)` unrolls all groups in one
/// call (a step s, counted from 0, starts a group when s % group_size == 0), so one backward
/// sees the whole chain. States are step-major: step s occupies columns [s N, (s + 1) N).
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S>
class FeatureFirstRnn {
 public:
  using Scalar = S;

  FeatureFirstRnn(Index features, Index hidden, Rng& rng, Init init = Init::xavier_uniform,
                  double range = 0.05) {
    rlhash::detail::require(features > 0 && hidden > 0,
                            "FeatureFirstRnn: features and hidden must be > 0, got " +
                                std::to_string(features) + " and " + std::to_string(hidden));
    feature_weight_.resize(hidden, features);
    input_weight_.resize(hidden, hidden);
    hidden_weight_.resize(hidden, hidden);
    initialize(feature_weight_, init, rng, range);
    initialize(input_weight_, init, rng, range);
    initialize(hidden_weight_, init, rng, range);
    bias_ = Vector<S>::Zero(hidden);
    feature_weight_grad_ = Matrix<S>::Zero(hidden, features);
    input_weight_grad_ = Matrix<S>::Zero(hidden, hidden);
    hidden_weight_grad_ = Matrix<S>::Zero(hidden, hidden);
    bias_grad_ = Vector<S>::Zero(hidden);
  }

  Index features() const { return feature_weight_.cols(); }
  Index hidden() const { return hidden_weight_.rows(); }
  Index steps() const { return steps_; }
  Index group_size() const { return group_; }

  /// `feature`: features x N; `h0`: hidden x N, the history entering the first group (zeros
  /// for the first group of a code). Runs `steps` steps, re-injecting the feature every
  /// `group_size` steps (0: one group of `steps`). Returns c_1..c_steps, hidden x (steps N).
  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& feature, const Eigen::Ref<const Matrix<S>>& h0,
                           Index steps, Index group_size = 0) {
    const Index n = feature.cols();
    rlhash::detail::require(feature.rows() == features() && n > 0,
                            "FeatureFirstRnn: feature batch is " + std::to_string(feature.rows()) + " x " +
                                std::to_string(n) + ", expected " + std::to_string(features()) +
                                " x N with N > 0");
    rlhash::detail::require(h0.rows() == hidden() && h0.cols() == n,
                            "FeatureFirstRnn: history is " + std::to_string(h0.rows()) + " x " +
                                std::to_string(h0.cols()) + ", expected " + std::to_string(hidden()) + " x " +
                                std::to_string(n));
    rlhash::detail::require(steps > 0, "FeatureFirstRnn: steps must be > 0, got " + std::to_string(steps));
    if (group_size == 0) group_size = steps;
    rlhash::detail::require(group_size > 0,
                            "FeatureFirstRnn: group_size must be >= 0, got " + std::to_string(group_size));
    steps_ = steps;
    group_ = group_size;
    batch_ = n;
    feature_ = feature;
    recurrent_ = input_weight_ + hidden_weight_;  // after a group's first step only the sum acts
    feature_projection_.noalias() = feature_weight_ * feature;
    feature_projection_.colwise() += bias_;
    previous_.resize(hidden(), steps * n);
    previous_.leftCols(n) = h0;
    states_.resize(hidden(), steps * n);
    for (Index s = 0; s < steps; ++s) {
      auto a = states_.middleCols(s * n, n);
      const auto prev = previous_.middleCols(s * n, n);
      if (starts_group(s)) {
        a = feature_projection_;
        a.noalias() += hidden_weight_ * prev;
      } else {
        a.noalias() = recurrent_ * prev;
        a.colwise() += bias_;
      }
      a = a.array().tanh().matrix();
      if (s + 1 < steps) previous_.middleCols((s + 1) * n, n) = a;
    }
    return states_;
  }

  /// Backpropagation through time over all groups. `d_states`: dL/dc_t for every step
  /// (hidden x (steps N)); `d_final`: an extra gradient on the last state (the history handed
  /// to a later unroll). Returns dL/dfeature (features x N); history_grad() holds dL/dh0.
  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& d_states,
                            const Eigen::Ref<const Matrix<S>>& d_final) {
    rlhash::detail::require<StateError>(steps_ > 0, "FeatureFirstRnn::backward called before forward");
    rlhash::detail::require(d_states.rows() == hidden() && d_states.cols() == states_.cols(),
                            "FeatureFirstRnn::backward: state gradients are " +
                                std::to_string(d_states.rows()) + " x " + std::to_string(d_states.cols()) +
                                ", expected " + std::to_string(hidden()) + " x " +
                                std::to_string(states_.cols()));
    const bool has_final = d_final.size() > 0;
    rlhash::detail::require(!has_final || (d_final.rows() == hidden() && d_final.cols() == batch_),
                            "FeatureFirstRnn::backward: final-state gradient is " +
                                std::to_string(d_final.rows()) + " x " + std::to_string(d_final.cols()) +
                                ", expected " + std::to_string(hidden()) + " x " + std::to_string(batch_));
    const Index n = batch_;
    d_pre_.resize(hidden(), states_.cols());
    Matrix<S> carry = d_states.rightCols(n);
    if (has_final) carry += d_final;
    Matrix<S> back(hidden(), n);
    for (Index s = steps_ - 1; s >= 0; --s) {
      auto da = d_pre_.middleCols(s * n, n);
      da = (carry.array() * (S(1) - states_.middleCols(s * n, n).array().square())).matrix();
      if (starts_group(s))
        back.noalias() = hidden_weight_.transpose() * da;
      else
        back.noalias() = recurrent_.transpose() * da;
      if (s > 0) carry = d_states.middleCols((s - 1) * n, n) + back;
    }
    history_grad_ = back;
    // Steps that do not start a group feed both W_x and W_h; group starts feed W_h and W_f.
    Matrix<S> d_inner = d_pre_;
    Matrix<S> d_start = Matrix<S>::Zero(hidden(), n);
    for (Index s = 0; s < steps_; s += group_) {
      d_start += d_pre_.middleCols(s * n, n);
      hidden_weight_grad_.noalias() +=
          d_pre_.middleCols(s * n, n) * previous_.middleCols(s * n, n).transpose();
      d_inner.middleCols(s * n, n).setZero();
    }
    Matrix<S> inner_grad(hidden(), hidden());
    inner_grad.noalias() = d_inner * previous_.transpose();
    input_weight_grad_ += inner_grad;
    hidden_weight_grad_ += inner_grad;
    feature_weight_grad_.noalias() += d_start * feature_.transpose();
    bias_grad_ += d_pre_.rowwise().sum();
    feature_grad_.noalias() = feature_weight_.transpose() * d_start;
    return feature_grad_;
  }

  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& d_states) {
    return backward(d_states, Matrix<S>());
  }

  /// dL/dh0 from the last backward.
  const Matrix<S>& history_grad() const { return history_grad_; }

  /// Names: "feature_weight" (W_f), "input_weight" (W_x = W_xi), "hidden_weight" (W_h = W_hi), "bias".
  ParameterList<S> parameters() {
    return {make_param(feature_weight_, feature_weight_grad_, "feature_weight"),
            make_param(input_weight_, input_weight_grad_, "input_weight"),
            make_param(hidden_weight_, hidden_weight_grad_, "hidden_weight"),
            make_param(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    feature_weight_grad_.setZero();
    input_weight_grad_.setZero();
    hidden_weight_grad_.setZero();
    bias_grad_.setZero();
  }
  void set_training(bool) {}

  Matrix<S>& feature_weight() { return feature_weight_; }
  Matrix<S>& input_weight() { return input_weight_; }
  Matrix<S>& hidden_weight() { return hidden_weight_; }
  Vector<S>& bias() { return bias_; }

 private:
  bool starts_group(Index s) const { return s % group_ == 0; }

  Matrix<S> feature_weight_, input_weight_, hidden_weight_;
  Matrix<S> feature_weight_grad_, input_weight_grad_, hidden_weight_grad_;
  Vector<S> bias_, bias_grad_;
  Matrix<S> feature_, recurrent_, feature_projection_, previous_, states_, d_pre_, feature_grad_,
      history_grad_;
  Index steps_ = 0, group_ = 0, batch_ = 0;
};

}  // namespace rlhash::nn
