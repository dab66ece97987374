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
/// feature_first_rnn.hpp. `B` is the backend (backend.hpp): the host by default, CUDA with
/// rlhash/cuda/backend.hpp.
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S, class B = CpuBackend>
class ElmanRnn {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using Vector = typename B::template Vector<S>;
  using ConstRef = typename B::template ConstRef<S>;

  ElmanRnn(Index inputs, Index hidden, Rng& rng, Init init = Init::xavier_uniform, double range = 0.05) {
    rlhash::detail::require(inputs > 0 && hidden > 0, "ElmanRnn: inputs and hidden must be > 0, got " +
                                                          std::to_string(inputs) + " and " +
                                                          std::to_string(hidden));
    rlhash::Matrix<S> input_weight(hidden, inputs), hidden_weight(hidden, hidden);
    initialize(input_weight, init, rng, range);
    initialize(hidden_weight, init, rng, range);
    input_weight_ = B::from_host(std::move(input_weight));
    hidden_weight_ = B::from_host(std::move(hidden_weight));
    bias_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(hidden)));
    input_weight_grad_ = B::template zeros<S>(hidden, inputs);
    hidden_weight_grad_ = B::template zeros<S>(hidden, hidden);
    bias_grad_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(hidden)));
  }

  Index inputs() const { return input_weight_.cols(); }
  Index hidden() const { return hidden_weight_.rows(); }
  /// Steps of the last forward.
  Index steps() const { return steps_; }

  /// `x`: inputs x (T N), step-major; `c0`: hidden x N, the initial state. Returns all hidden
  /// states c_1..c_T as hidden x (T N), step-major.
  const Matrix& forward(const ConstRef& x, const ConstRef& c0) {
    const Index n = c0.cols();
    if (!(c0.rows() == hidden() && n > 0))
      throw InvalidArgument("ElmanRnn: initial state is " + std::to_string(c0.rows()) + " x " +
                            std::to_string(n) + ", expected " + std::to_string(hidden()) + " x N with N > 0");
    if (!(x.rows() == inputs() && x.cols() % n == 0 && x.cols() > 0))
      throw InvalidArgument("ElmanRnn: inputs are " + std::to_string(x.rows()) + " x " +
                            std::to_string(x.cols()) + ", expected " + std::to_string(inputs()) + " x (T * " +
                            std::to_string(n) + ") with T >= 1");
    steps_ = x.cols() / n;
    batch_ = n;
    B::copy(input_, x);
    // previous_ holds c_{t-1} for every step: [c0, c_1, ..., c_{T-1}] (backward's dW_h GEMM).
    B::resize(previous_, hidden(), x.cols());
    B::copy(B::cols(previous_, 0, n), c0);
    B::resize(states_, hidden(), x.cols());
    B::product(states_, input_weight_, x);
    B::add_bias(states_, bias_);
    for (Index t = 0; t < steps_; ++t) {
      auto a = B::cols(states_, t * n, n);
      B::add_product(a, hidden_weight_, B::cols(previous_, t * n, n));
      B::template activation_forward<TanhFunction>(a, a);
      if (t + 1 < steps_) B::copy(B::cols(previous_, (t + 1) * n, n), a);
    }
    return states_;
  }

  /// Backpropagation through time. `d_states`: dL/dc_t for every step (hidden x (T N));
  /// `d_final`: an extra gradient on c_T (e.g. from whatever consumes the final state).
  /// Returns dL/dx (inputs x (T N)); initial_state_grad() holds dL/dc0. Parameter gradients are
  /// added to the gradient buffers.
  const Matrix& backward(const ConstRef& d_states, const ConstRef& d_final) {
    rlhash::detail::require<StateError>(steps_ > 0, "ElmanRnn::backward called before forward");
    if (!(d_states.rows() == hidden() && d_states.cols() == states_.cols()))
      throw InvalidArgument("ElmanRnn::backward: state gradients are " + std::to_string(d_states.rows()) +
                            " x " + std::to_string(d_states.cols()) + ", expected " +
                            std::to_string(hidden()) + " x " + std::to_string(states_.cols()));
    const bool has_final = d_final.size() > 0;
    if (!(!has_final || (d_final.rows() == hidden() && d_final.cols() == batch_)))
      throw InvalidArgument("ElmanRnn::backward: final-state gradient is " + std::to_string(d_final.rows()) +
                            " x " + std::to_string(d_final.cols()) + ", expected " +
                            std::to_string(hidden()) + " x " + std::to_string(batch_));
    const Index n = batch_;
    B::resize(d_pre_, hidden(), states_.cols());
    Matrix carry;  // dL/dc_t, total
    B::copy(carry, B::cols(d_states, (steps_ - 1) * n, n));
    if (has_final) B::add(carry, d_final);
    for (Index t = steps_ - 1; t >= 0; --t) {
      auto da = B::cols(d_pre_, t * n, n);
      B::template activation_backward<TanhFunction>(B::cols(states_, t * n, n), carry, da);
      if (t > 0) {
        B::copy(carry, B::cols(d_states, (t - 1) * n, n));
        B::add_product(carry, B::transpose(hidden_weight_), da);
      }
    }
    B::product(initial_grad_, B::transpose(hidden_weight_), B::cols(d_pre_, 0, n));
    B::add_product(hidden_weight_grad_, d_pre_, B::transpose(previous_));
    B::add_product(input_weight_grad_, d_pre_, B::transpose(input_));
    B::add_row_sums(bias_grad_, d_pre_);
    B::product(input_grad_, B::transpose(input_weight_), d_pre_);
    return input_grad_;
  }

  const Matrix& backward(const ConstRef& d_states) { return backward(d_states, Matrix()); }

  /// dL/dc0 from the last backward.
  const Matrix& initial_state_grad() const { return initial_grad_; }

  /// Names: "input_weight" (W_x, the paper's W_xi), "hidden_weight" (W_h, W_hi), "bias".
  ParameterList<S, B> parameters() {
    return {make_param<B>(input_weight_, input_weight_grad_, "input_weight"),
            make_param<B>(hidden_weight_, hidden_weight_grad_, "hidden_weight"),
            make_param<B>(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    B::set_zero(input_weight_grad_);
    B::set_zero(hidden_weight_grad_);
    B::set_zero(bias_grad_);
  }
  void set_training(bool) {}

  Matrix& input_weight() { return input_weight_; }
  Matrix& hidden_weight() { return hidden_weight_; }
  Vector& bias() { return bias_; }

 private:
  Matrix input_weight_, hidden_weight_, input_weight_grad_, hidden_weight_grad_;
  Vector bias_, bias_grad_;
  Matrix input_, previous_, states_, d_pre_, input_grad_, initial_grad_;
  Index steps_ = 0, batch_ = 0;
};

}  // namespace rlhash::nn
