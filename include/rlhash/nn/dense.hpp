#pragma once
/// \file
/// Fully connected layer y = W x + b over a batch (one sample per column): one GEMM forward,
/// two GEMMs backward (dW = dY X^T, dX = W^T dY; the second is skipped for a first layer whose
/// input is data, see set_input_gradient). `B` is the backend (backend.hpp): the host
/// by default, CUDA's cuBLAS with rlhash/cuda/backend.hpp.
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S, class B = CpuBackend>
class Dense {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using Vector = typename B::template Vector<S>;
  using ConstRef = typename B::template ConstRef<S>;

  /// `inputs` -> `outputs`; weights drawn from `rng` by `init` (range: for Init::uniform),
  /// biases zero. The draws happen on the host, so every backend starts from the same weights.
  Dense(Index inputs, Index outputs, Rng& rng, Init init = Init::xavier_uniform, double range = 0.05) {
    rlhash::detail::require(inputs > 0 && outputs > 0, "Dense: inputs and outputs must be > 0, got " +
                                                           std::to_string(inputs) + " and " +
                                                           std::to_string(outputs));
    rlhash::Matrix<S> weight(outputs, inputs);
    initialize(weight, init, rng, range);
    weight_ = B::from_host(std::move(weight));
    bias_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(outputs)));
    weight_grad_ = B::template zeros<S>(outputs, inputs);
    bias_grad_ = B::from_host(rlhash::Vector<S>(rlhash::Vector<S>::Zero(outputs)));
  }

  Index inputs() const { return weight_.cols(); }
  Index outputs() const { return weight_.rows(); }

  const Matrix& forward(const ConstRef& x) {
    check_input(x.rows());
    has_input_ = true;
    B::copy(input_, x);  // backward's dW = dY X^T needs the input after the caller's buffer has moved on
    B::product(output_, weight_, x);
    B::add_bias(output_, bias_);
    return output_;
  }

  Matrix infer(const ConstRef& x) const {
    check_input(x.rows());
    Matrix y;
    B::resize(y, outputs(), x.cols());
    B::product(y, weight_, x);
    B::add_bias(y, bias_);
    return y;
  }

  const Matrix& backward(const ConstRef& dy) {
    rlhash::detail::require<StateError>(has_input_, "Dense::backward called before forward");
    rlhash::detail::require_shape("Dense::backward", "dY", dy.rows(), dy.cols(), outputs(), input_.cols());
    B::add_product(weight_grad_, dy, B::transpose(input_));
    B::add_row_sums(bias_grad_, dy);
    if (input_gradient_) B::product(input_grad_, B::transpose(weight_), dy);
    return input_grad_;
  }

  /// false: backward() computes the parameters' gradients only and returns an empty dX. For a
  /// network's first layer, whose input is data, this saves a third of the layer's arithmetic.
  void set_input_gradient(bool on) {
    input_gradient_ = on;
    if (!on) B::resize(input_grad_, 0, 0);
  }
  bool input_gradient() const { return input_gradient_; }

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
  const Matrix& weight_grad() const { return weight_grad_; }
  const Vector& bias_grad() const { return bias_grad_; }

 private:
  void check_input(Index rows) const {
    if (rows == inputs()) return;  // checked every pass: the message only on failure
    throw InvalidArgument("Dense: input has " + std::to_string(rows) +
                          " rows (features), the layer expects " + std::to_string(inputs()));
  }

  Matrix weight_, weight_grad_;
  Vector bias_, bias_grad_;
  Matrix input_, output_, input_grad_;
  bool has_input_ = false;
  bool input_gradient_ = true;
};

}  // namespace rlhash::nn
