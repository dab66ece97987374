#pragma once
/// \file
/// Element-wise activations as stateless policies plugged into one layer template. Each
/// policy's derivative is written in terms of its OUTPUT, so the layer caches only y. `kind`
/// names the function for backends that cannot run the Eigen expression (CUDA's kernels).
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

enum class ActivationKind { tanh, sigmoid, relu };

/// tanh; dy/dx = 1 - y^2. The RNN of DRLIH eq. (5) uses it.
struct TanhFunction {
  static constexpr const char* name = "tanh";
  static constexpr ActivationKind kind = ActivationKind::tanh;
  template <class X, class Y>
  static void forward(const Eigen::MatrixBase<X>& x, Y&& y) {
    y = x.array().tanh().matrix();
  }
  template <class Y, class DY, class DX>
  static void backward(const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<DY>& dy, DX&& dx) {
    using S = typename Y::Scalar;
    dx = (dy.array() * (S(1) - y.array().square())).matrix();
  }
};

/// Logistic sigmoid 1 / (1 + e^-x); dy/dx = y (1 - y). For x -> -inf, e^-x overflows to inf
/// and y becomes 0, never NaN.
struct SigmoidFunction {
  static constexpr const char* name = "sigmoid";
  static constexpr ActivationKind kind = ActivationKind::sigmoid;
  template <class X, class Y>
  static void forward(const Eigen::MatrixBase<X>& x, Y&& y) {
    using S = typename X::Scalar;
    y = (S(1) / (S(1) + (-x.array()).exp())).matrix();
  }
  template <class Y, class DY, class DX>
  static void backward(const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<DY>& dy, DX&& dx) {
    using S = typename Y::Scalar;
    dx = (dy.array() * y.array() * (S(1) - y.array())).matrix();
  }
};

/// max(0, x); the derivative at 0 is taken as 0.
struct ReluFunction {
  static constexpr const char* name = "relu";
  static constexpr ActivationKind kind = ActivationKind::relu;
  template <class X, class Y>
  static void forward(const Eigen::MatrixBase<X>& x, Y&& y) {
    using S = typename X::Scalar;
    y = x.array().max(S(0)).matrix();
  }
  template <class Y, class DY, class DX>
  static void backward(const Eigen::MatrixBase<Y>& y, const Eigen::MatrixBase<DY>& dy, DX&& dx) {
    using S = typename Y::Scalar;
    dx = (y.array() > S(0)).select(dy.array(), S(0)).matrix();
  }
};

/// A parameter-free layer applying `Function` element-wise, on backend `B` (backend.hpp).
template <class S, class Function, class B = CpuBackend>
class Activation {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using ConstRef = typename B::template ConstRef<S>;

  const Matrix& forward(const ConstRef& x) {
    B::template activation_forward<Function>(x, output_);
    return output_;
  }
  Matrix infer(const ConstRef& x) const {
    Matrix y;
    B::template activation_forward<Function>(x, y);
    return y;
  }
  const Matrix& backward(const ConstRef& dy) {
    rlhash::detail::require_shape(Function::name, "backward dY", dy.rows(), dy.cols(), output_.rows(),
                                  output_.cols());
    B::template activation_backward<Function>(output_, dy, input_grad_);
    return input_grad_;
  }
  ParameterList<S, B> parameters() { return {}; }
  void zero_grad() {}
  void set_training(bool) {}

 private:
  Matrix output_, input_grad_;
};

template <class S, class B = CpuBackend>
using Tanh = Activation<S, TanhFunction, B>;
template <class S, class B = CpuBackend>
using Sigmoid = Activation<S, SigmoidFunction, B>;
template <class S, class B = CpuBackend>
using ReLU = Activation<S, ReluFunction, B>;

}  // namespace rlhash::nn
