#pragma once
/// \file
/// The Elman RNN of DRLIH eq. (5), general form, unrolled over T steps for a batch of N:
///
///     c_t = tanh(W_x x_t + W_h c_{t-1} + b),   t = 1..T,  c_0 given
///
/// (the paper's two biases b_xi + b_hi are one parameter: only their sum is identifiable).
/// Sequences are stored step-major in one matrix: step t occupies columns [t N, (t + 1) N), so
/// the input projection of all steps is ONE GEMM, and so are dW_x, dW_h and dX in backward;
/// only the recurrence W_h c_{t-1} (and W_h^T dA_t backward) runs step by step.
/// Backward is full backpropagation through time (DRLIH eq. (10)).
/// For DRLIH's "feature-first" unroll (the feature enters only at step 1) see
/// feature_first_rnn.hpp.
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S>
class ElmanRnn {
 public:
  using Scalar = S;

  ElmanRnn(Index inputs, Index hidden, Rng& rng, Init init = Init::xavier_uniform, double range = 0.05) {
    rlhash::detail::require(inputs > 0 && hidden > 0, "ElmanRnn: inputs and hidden must be > 0, got " +
                                                          std::to_string(inputs) + " and " +
                                                          std::to_string(hidden));
    input_weight_.resize(hidden, inputs);
    hidden_weight_.resize(hidden, hidden);
    initialize(input_weight_, init, rng, range);
    initialize(hidden_weight_, init, rng, range);
    bias_ = Vector<S>::Zero(hidden);
    input_weight_grad_ = Matrix<S>::Zero(hidden, inputs);
    hidden_weight_grad_ = Matrix<S>::Zero(hidden, hidden);
    bias_grad_ = Vector<S>::Zero(hidden);
  }

  Index inputs() const { return input_weight_.cols(); }
  Index hidden() const { return hidden_weight_.rows(); }
  /// Steps of the last forward.
  Index steps() const { return steps_; }

  /// `x`: inputs x (T N), step-major; `c0`: hidden x N, the initial state. Returns all hidden
  /// states c_1..c_T as hidden x (T N), step-major.
  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& x, const Eigen::Ref<const Matrix<S>>& c0) {
    const Index n = c0.cols();
    rlhash::detail::require(c0.rows() == hidden() && n > 0, "ElmanRnn: initial state is " +
                                                                std::to_string(c0.rows()) + " x " +
                                                                std::to_string(n) + ", expected " +
                                                                std::to_string(hidden()) + " x N with N > 0");
    rlhash::detail::require(x.rows() == inputs() && x.cols() % n == 0 && x.cols() > 0,
                            "ElmanRnn: inputs are " + std::to_string(x.rows()) + " x " +
                                std::to_string(x.cols()) + ", expected " + std::to_string(inputs()) +
                                " x (T * " + std::to_string(n) + ") with T >= 1");
    steps_ = x.cols() / n;
    batch_ = n;
    input_ = x;
    // previous_ holds c_{t-1} for every step: [c0, c_1, ..., c_{T-1}] (backward's dW_h GEMM).
    previous_.resize(hidden(), x.cols());
    previous_.leftCols(n) = c0;
    states_.resize(hidden(), x.cols());
    states_.noalias() = input_weight_ * x;
    states_.colwise() += bias_;
    for (Index t = 0; t < steps_; ++t) {
      auto a = states_.middleCols(t * n, n);
      a.noalias() += hidden_weight_ * previous_.middleCols(t * n, n);
      a = a.array().tanh().matrix();
      if (t + 1 < steps_) previous_.middleCols((t + 1) * n, n) = a;
    }
    return states_;
  }

  /// Backpropagation through time. `d_states`: dL/dc_t for every step (hidden x (T N));
  /// `d_final`: an extra gradient on c_T (e.g. from whatever consumes the final state).
  /// Returns dL/dx (inputs x (T N)); initial_state_grad() holds dL/dc0. Parameter gradients are
  /// added to the gradient buffers.
  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& d_states,
                            const Eigen::Ref<const Matrix<S>>& d_final) {
    rlhash::detail::require<StateError>(steps_ > 0, "ElmanRnn::backward called before forward");
    rlhash::detail::require(d_states.rows() == hidden() && d_states.cols() == states_.cols(),
                            "ElmanRnn::backward: state gradients are " + std::to_string(d_states.rows()) +
                                " x " + std::to_string(d_states.cols()) + ", expected " +
                                std::to_string(hidden()) + " x " + std::to_string(states_.cols()));
    const bool has_final = d_final.size() > 0;
    rlhash::detail::require(!has_final || (d_final.rows() == hidden() && d_final.cols() == batch_),
                            "ElmanRnn::backward: final-state gradient is " + std::to_string(d_final.rows()) +
                                " x " + std::to_string(d_final.cols()) + ", expected " +
                                std::to_string(hidden()) + " x " + std::to_string(batch_));
    const Index n = batch_;
    d_pre_.resize(hidden(), states_.cols());
    Matrix<S> carry = d_states.rightCols(n);  // dL/dc_t, total
    if (has_final) carry += d_final;
    for (Index t = steps_ - 1; t >= 0; --t) {
      auto da = d_pre_.middleCols(t * n, n);
      da = (carry.array() * (S(1) - states_.middleCols(t * n, n).array().square())).matrix();
      if (t > 0) {
        carry = d_states.middleCols((t - 1) * n, n);
        carry.noalias() += hidden_weight_.transpose() * da;
      }
    }
    initial_grad_.noalias() = hidden_weight_.transpose() * d_pre_.leftCols(n);
    hidden_weight_grad_.noalias() += d_pre_ * previous_.transpose();
    input_weight_grad_.noalias() += d_pre_ * input_.transpose();
    bias_grad_ += d_pre_.rowwise().sum();
    input_grad_.noalias() = input_weight_.transpose() * d_pre_;
    return input_grad_;
  }

  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& d_states) {
    return backward(d_states, Matrix<S>());
  }

  /// dL/dc0 from the last backward.
  const Matrix<S>& initial_state_grad() const { return initial_grad_; }

  /// Names: "input_weight" (W_x, the paper's W_xi), "hidden_weight" (W_h, W_hi), "bias".
  ParameterList<S> parameters() {
    return {make_param(input_weight_, input_weight_grad_, "input_weight"),
            make_param(hidden_weight_, hidden_weight_grad_, "hidden_weight"),
            make_param(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    input_weight_grad_.setZero();
    hidden_weight_grad_.setZero();
    bias_grad_.setZero();
  }
  void set_training(bool) {}

  Matrix<S>& input_weight() { return input_weight_; }
  Matrix<S>& hidden_weight() { return hidden_weight_; }
  Vector<S>& bias() { return bias_; }

 private:
  Matrix<S> input_weight_, hidden_weight_, input_weight_grad_, hidden_weight_grad_;
  Vector<S> bias_, bias_grad_;
  Matrix<S> input_, previous_, states_, d_pre_, input_grad_, initial_grad_;
  Index steps_ = 0, batch_ = 0;
};

}  // namespace rlhash::nn
