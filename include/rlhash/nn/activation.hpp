#pragma once
/// \file
/// Element-wise activations as stateless policies plugged into one layer template. Each
/// policy's derivative is written in terms of its OUTPUT, so the layer caches only y.
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

/// tanh; dy/dx = 1 - y^2. The RNN of DRLIH eq. (5) uses it.
struct TanhFunction {
  static constexpr const char* name = "tanh";
  template <class S, class D>
  static void forward(const Eigen::MatrixBase<D>& x, Matrix<S>& y) {
    y = x.array().tanh().matrix();
  }
  template <class S, class D>
  static void backward(const Matrix<S>& y, const Eigen::MatrixBase<D>& dy, Matrix<S>& dx) {
    dx = (dy.array() * (S(1) - y.array().square())).matrix();
  }
};

/// Logistic sigmoid 1 / (1 + e^-x); dy/dx = y (1 - y). For x -> -inf, e^-x overflows to inf
/// and y becomes 0, never NaN.
struct SigmoidFunction {
  static constexpr const char* name = "sigmoid";
  template <class S, class D>
  static void forward(const Eigen::MatrixBase<D>& x, Matrix<S>& y) {
    y = (S(1) / (S(1) + (-x.array()).exp())).matrix();
  }
  template <class S, class D>
  static void backward(const Matrix<S>& y, const Eigen::MatrixBase<D>& dy, Matrix<S>& dx) {
    dx = (dy.array() * y.array() * (S(1) - y.array())).matrix();
  }
};

/// max(0, x); the derivative at 0 is taken as 0.
struct ReluFunction {
  static constexpr const char* name = "relu";
  template <class S, class D>
  static void forward(const Eigen::MatrixBase<D>& x, Matrix<S>& y) {
    y = x.array().max(S(0)).matrix();
  }
  template <class S, class D>
  static void backward(const Matrix<S>& y, const Eigen::MatrixBase<D>& dy, Matrix<S>& dx) {
    dx = (y.array() > S(0)).select(dy.array(), S(0)).matrix();
  }
};

/// A parameter-free layer applying `Function` element-wise.
template <class S, class Function>
class Activation {
 public:
  using Scalar = S;

  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& x) {
    Function::template forward<S>(x, output_);
    return output_;
  }
  Matrix<S> infer(const Eigen::Ref<const Matrix<S>>& x) const {
    Matrix<S> y;
    Function::template forward<S>(x, y);
    return y;
  }
  const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& dy) {
    rlhash::detail::require(dy.rows() == output_.rows() && dy.cols() == output_.cols(),
                            std::string(Function::name) + " backward: dY is " + std::to_string(dy.rows()) +
                                " x " + std::to_string(dy.cols()) + ", the last forward gave " +
                                std::to_string(output_.rows()) + " x " + std::to_string(output_.cols()));
    Function::template backward<S>(output_, dy, input_grad_);
    return input_grad_;
  }
  ParameterList<S> parameters() { return {}; }
  void zero_grad() {}
  void set_training(bool) {}

 private:
  Matrix<S> output_, input_grad_;
};

template <class S>
using Tanh = Activation<S, TanhFunction>;
template <class S>
using Sigmoid = Activation<S, SigmoidFunction>;
template <class S>
using ReLU = Activation<S, ReluFunction>;

}  // namespace rlhash::nn
