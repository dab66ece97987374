#pragma once
/// \file
/// Fully connected layer y = W x + b over a batch (one sample per column): one GEMM forward,
/// two GEMMs backward (dW = dY X^T, dX = W^T dY).
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S>
class Dense {
 public:
  using Scalar = S;

  /// `inputs` -> `outputs`; weights drawn from `rng` by `init` (range: for Init::uniform),
  /// biases zero.
  Dense(Index inputs, Index outputs, Rng& rng, Init init = Init::xavier_uniform, double range = 0.05) {
    rlhash::detail::require(inputs > 0 && outputs > 0, "Dense: inputs and outputs must be > 0, got " +
                                                           std::to_string(inputs) + " and " +
                                                           std::to_string(outputs));
    weight_.resize(outputs, inputs);
    initialize(weight_, init, rng, range);
    bias_ = Vector<S>::Zero(outputs);
    weight_grad_ = Matrix<S>::Zero(outputs, inputs);
    bias_grad_ = Vector<S>::Zero(outputs);
  }

  Index inputs() const { return weight_.cols(); }
  Index outputs() const { return weight_.rows(); }

  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& x) {
    check_input(x.rows());
    has_input_ = true;
    input_ = x;  // backward's dW = dY X^T needs the input after the caller's buffer has moved on
    output_.noalias() = weight_ * x;
    output_.colwise() += bias_;
    return output_;
  }

  Matrix<S> infer(const Eigen::Ref<const Matrix<S>>& x) const {
    check_input(x.rows());
    Matrix<S> y(outputs(), x.cols());
    y.noalias() = weight_ * x;
    y.colwise() += bias_;
    return y;
  }

  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& dy) {
    rlhash::detail::require<StateError>(has_input_, "Dense::backward called before forward");
    rlhash::detail::require(dy.rows() == outputs() && dy.cols() == input_.cols(),
                            "Dense::backward: dY is " + std::to_string(dy.rows()) + " x " +
                                std::to_string(dy.cols()) + ", expected " + std::to_string(outputs()) +
                                " x " + std::to_string(input_.cols()));
    weight_grad_.noalias() += dy * input_.transpose();
    bias_grad_ += dy.rowwise().sum();
    input_grad_.noalias() = weight_.transpose() * dy;
    return input_grad_;
  }

  ParameterList<S> parameters() {
    return {make_param(weight_, weight_grad_, "weight"), make_param(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    weight_grad_.setZero();
    bias_grad_.setZero();
  }
  void set_training(bool) {}

  Matrix<S>& weight() { return weight_; }
  const Matrix<S>& weight() const { return weight_; }
  Vector<S>& bias() { return bias_; }
  const Vector<S>& bias() const { return bias_; }
  const Matrix<S>& weight_grad() const { return weight_grad_; }
  const Vector<S>& bias_grad() const { return bias_grad_; }

 private:
  void check_input(Index rows) const {
    rlhash::detail::require(rows == inputs(), "Dense: input has " + std::to_string(rows) +
                                                  " rows (features), the layer expects " +
                                                  std::to_string(inputs()));
  }

  Matrix<S> weight_, weight_grad_;
  Vector<S> bias_, bias_grad_;
  Matrix<S> input_, output_, input_grad_;
  bool has_input_ = false;
};

}  // namespace rlhash::nn
