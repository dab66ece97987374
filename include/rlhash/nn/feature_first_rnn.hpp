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
/// `B` is the backend (backend.hpp): the host by default, CUDA with rlhash/cuda/backend.hpp.
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S, class B = CpuBackend>
class FeatureFirstRnn {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using Vector = typename B::template Vector<S>;
  using ConstRef = typename B::template ConstRef<S>;

  FeatureFirstRnn(Index features, Index hidden, Rng& rng, Init init = Init::xavier_uniform,
                  double range = 0.05) {
    rlhash::detail::require(features > 0 && hidden > 0,
                            "FeatureFirstRnn: features and hidden must be > 0, got " +
                                std::to_string(features) + " and " + std::to_string(hidden));
    rlhash::Matrix<S> feature_weight(hidden, features), input_weight(hidden, hidden),
        hidden_weight(hidden, hidden);
    initialize(feature_weight, init, rng, range);
    initialize(input_weight, init, rng, range);
    initialize(hidden_weight, init, rng, range);
    feature_weight_ = B::from_host(std::move(feature_weight));
    input_weight_ = B::from_host(std::move(input_weight));
    hidden_weight_ = B::from_host(std::move(hidden_weight));
    bias_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(hidden)));
    feature_weight_grad_ = B::template zeros<S>(hidden, features);
    input_weight_grad_ = B::template zeros<S>(hidden, hidden);
    hidden_weight_grad_ = B::template zeros<S>(hidden, hidden);
    bias_grad_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(hidden)));
  }

  Index features() const { return feature_weight_.cols(); }
  Index hidden() const { return hidden_weight_.rows(); }
  Index steps() const { return steps_; }
  Index group_size() const { return group_; }

  /// `feature`: features x N; `h0`: hidden x N, the history entering the first group (zeros
  /// for the first group of a code). Runs `steps` steps, re-injecting the feature every
  /// `group_size` steps (0: one group of `steps`). Returns c_1..c_steps, hidden x (steps N).
  const Matrix& forward(const ConstRef& feature, const ConstRef& h0, Index steps, Index group_size = 0) {
    const Index n = feature.cols();
    if (!(feature.rows() == features() && n > 0))
      throw InvalidArgument("FeatureFirstRnn: feature batch is " + std::to_string(feature.rows()) + " x " +
                            std::to_string(n) + ", expected " + std::to_string(features()) +
                            " x N with N > 0");
    if (!(h0.rows() == hidden() && h0.cols() == n))
      throw InvalidArgument("FeatureFirstRnn: history is " + std::to_string(h0.rows()) + " x " +
                            std::to_string(h0.cols()) + ", expected " + std::to_string(hidden()) + " x " +
                            std::to_string(n));
    if (!(steps > 0))
      throw InvalidArgument("FeatureFirstRnn: steps must be > 0, got " + std::to_string(steps));
    if (group_size == 0) group_size = steps;
    if (!(group_size > 0))
      throw InvalidArgument("FeatureFirstRnn: group_size must be >= 0, got " + std::to_string(group_size));
    steps_ = steps;
    group_ = group_size;
    batch_ = n;
    B::copy(feature_, feature);
    B::sum(recurrent_, input_weight_, hidden_weight_);  // after a group's first step only the sum acts
    B::product(feature_projection_, feature_weight_, feature);
    B::add_bias(feature_projection_, bias_);
    B::resize(previous_, hidden(), steps * n);
    B::copy(B::cols(previous_, 0, n), h0);
    B::resize(states_, hidden(), steps * n);
    for (Index s = 0; s < steps; ++s) {
      auto a = B::cols(states_, s * n, n);
      const auto prev = B::cols(previous_, s * n, n);
      if (starts_group(s)) {
        B::copy(a, feature_projection_);
        B::add_product(a, hidden_weight_, prev);
      } else {
        B::product(a, recurrent_, prev);
        B::add_bias(a, bias_);
      }
      B::template activation_forward<TanhFunction>(a, a);
      if (s + 1 < steps) B::copy(B::cols(previous_, (s + 1) * n, n), a);
    }
    return states_;
  }

  /// Backpropagation through time over all groups. `d_states`: dL/dc_t for every step
  /// (hidden x (steps N)); `d_final`: an extra gradient on the last state (the history handed
  /// to a later unroll). Returns dL/dfeature (features x N); history_grad() holds dL/dh0.
  const Matrix& backward(const ConstRef& d_states, const ConstRef& d_final) {
    rlhash::detail::require<StateError>(steps_ > 0, "FeatureFirstRnn::backward called before forward");
    if (!(d_states.rows() == hidden() && d_states.cols() == states_.cols()))
      throw InvalidArgument("FeatureFirstRnn::backward: state gradients are " +
                            std::to_string(d_states.rows()) + " x " + std::to_string(d_states.cols()) +
                            ", expected " + std::to_string(hidden()) + " x " +
                            std::to_string(states_.cols()));
    const bool has_final = d_final.size() > 0;
    if (!(!has_final || (d_final.rows() == hidden() && d_final.cols() == batch_)))
      throw InvalidArgument("FeatureFirstRnn::backward: final-state gradient is " +
                            std::to_string(d_final.rows()) + " x " + std::to_string(d_final.cols()) +
                            ", expected " + std::to_string(hidden()) + " x " + std::to_string(batch_));
    const Index n = batch_;
    B::resize(d_pre_, hidden(), states_.cols());
    Matrix carry, back;
    B::copy(carry, B::cols(d_states, (steps_ - 1) * n, n));
    if (has_final) B::add(carry, d_final);
    B::resize(back, hidden(), n);
    for (Index s = steps_ - 1; s >= 0; --s) {
      auto da = B::cols(d_pre_, s * n, n);
      B::template activation_backward<TanhFunction>(B::cols(states_, s * n, n), carry, da);
      if (starts_group(s))
        B::product(back, B::transpose(hidden_weight_), da);
      else
        B::product(back, B::transpose(recurrent_), da);
      if (s > 0) B::sum(carry, B::cols(d_states, (s - 1) * n, n), back);
    }
    B::copy(history_grad_, back);
    // Steps that do not start a group feed both W_x and W_h; group starts feed W_h and W_f.
    Matrix d_inner, d_start = B::template zeros<S>(hidden(), n), inner_grad;
    B::copy(d_inner, d_pre_);
    for (Index s = 0; s < steps_; s += group_) {
      B::add(d_start, B::cols(d_pre_, s * n, n));
      B::add_product(hidden_weight_grad_, B::cols(d_pre_, s * n, n),
                     B::transpose(B::cols(previous_, s * n, n)));
      B::set_zero(B::cols(d_inner, s * n, n));
    }
    B::resize(inner_grad, hidden(), hidden());
    B::product(inner_grad, d_inner, B::transpose(previous_));
    B::add(input_weight_grad_, inner_grad);
    B::add(hidden_weight_grad_, inner_grad);
    B::add_product(feature_weight_grad_, d_start, B::transpose(feature_));
    B::add_row_sums(bias_grad_, d_pre_);
    B::product(feature_grad_, B::transpose(feature_weight_), d_start);
    return feature_grad_;
  }

  const Matrix& backward(const ConstRef& d_states) { return backward(d_states, Matrix()); }

  /// dL/dh0 from the last backward.
  const Matrix& history_grad() const { return history_grad_; }

  /// Names: "feature_weight" (W_f), "input_weight" (W_x = W_xi), "hidden_weight" (W_h = W_hi), "bias".
  ParameterList<S, B> parameters() {
    return {make_param<B>(feature_weight_, feature_weight_grad_, "feature_weight"),
            make_param<B>(input_weight_, input_weight_grad_, "input_weight"),
            make_param<B>(hidden_weight_, hidden_weight_grad_, "hidden_weight"),
            make_param<B>(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    B::set_zero(feature_weight_grad_);
    B::set_zero(input_weight_grad_);
    B::set_zero(hidden_weight_grad_);
    B::set_zero(bias_grad_);
  }
  void set_training(bool) {}

  Matrix& feature_weight() { return feature_weight_; }
  const Matrix& feature_weight() const { return feature_weight_; }
  Matrix& input_weight() { return input_weight_; }
  const Matrix& input_weight() const { return input_weight_; }
  Matrix& hidden_weight() { return hidden_weight_; }
  const Matrix& hidden_weight() const { return hidden_weight_; }
  Vector& bias() { return bias_; }
  const Vector& bias() const { return bias_; }

 private:
  bool starts_group(Index s) const { return s % group_ == 0; }

  Matrix feature_weight_, input_weight_, hidden_weight_;
  Matrix feature_weight_grad_, input_weight_grad_, hidden_weight_grad_;
  Vector bias_, bias_grad_;
  Matrix feature_, recurrent_, feature_projection_, previous_, states_, d_pre_, feature_grad_, history_grad_;
  Index steps_ = 0, group_ = 0, batch_ = 0;
};

}  // namespace rlhash::nn
