#pragma once
/// \file
/// The per-element formulas of the CUDA backend's kernels (backend_kernels.cuh): the
/// activations forward and backward and the SGD and Adam updates, each the host backend's Eigen
/// expression (nn/activation.hpp, nn/optimizer.hpp) written for one element. Shared by the
/// kernels (compiled by nvcc as __host__ __device__) and the host: plain C++17 without any CUDA
/// header, so test_cuda_host checks every formula against the host layers and optimizers on
/// any machine.
#include <cmath>

#include "rlhash/cuda/host_device.hpp"
#include "rlhash/nn/activation.hpp"

namespace rlhash::cuda::elementwise {

// The device's own tanh/exp/sqrt on the GPU (tanhf/expf/sqrtf for float), the C++ library's on
// the host.
template <class S>
RLHASH_HD S tanh_of(S x) {
#if defined(__CUDA_ARCH__)
  return tanh(x);
#else
  return std::tanh(x);
#endif
}
template <class S>
RLHASH_HD S exp_of(S x) {
#if defined(__CUDA_ARCH__)
  return exp(x);
#else
  return std::exp(x);
#endif
}
template <class S>
RLHASH_HD S sqrt_of(S x) {
#if defined(__CUDA_ARCH__)
  return sqrt(x);
#else
  return std::sqrt(x);
#endif
}

/// y = f(x).
template <class S>
RLHASH_HD S activation(nn::ActivationKind kind, S x) {
  switch (kind) {
    case nn::ActivationKind::tanh:
      return tanh_of(x);
    case nn::ActivationKind::sigmoid:
      return S(1) / (S(1) + exp_of(-x));  // exp overflow -> inf -> 0, as on the host
    case nn::ActivationKind::relu:
      break;
  }
  return x < S(0) ? S(0) : x;  // NaN stays NaN, as Eigen's max(x, 0) on the host
}

/// dL/dx from the activation's OUTPUT y and dL/dy, as the host policies compute it.
template <class S>
RLHASH_HD S activation_grad(nn::ActivationKind kind, S y, S dy) {
  switch (kind) {
    case nn::ActivationKind::tanh:
      return dy * (S(1) - y * y);
    case nn::ActivationKind::sigmoid:
      return dy * y * (S(1) - y);
    case nn::ActivationKind::relu:
      break;
  }
  return y > S(0) ? dy : S(0);
}

/// nn::Sgd for one element: g = grad + wd w; v = mu v + g; w -= lr (nesterov ? g + mu v : v),
/// or w -= lr g without momentum (`velocity` null).
template <class S>
RLHASH_HD void sgd(S& w, S grad, S* velocity, S lr, S mu, S wd, bool nesterov) {
  const S g = wd > S(0) ? grad + wd * w : grad;
  if (velocity == nullptr) {
    w -= lr * g;
    return;
  }
  const S v = mu * *velocity + g;
  *velocity = v;
  w -= nesterov ? lr * (g + mu * v) : lr * v;
}

/// nn::Adam for one element, with bias corrections c1 = 1 - b1^t, c2 = 1 - b2^t; weight decay
/// added to the gradient, or (decoupled, AdamW) applied to w first.
template <class S>
RLHASH_HD void adam(S& w, S grad, S& m, S& v, S lr, S b1, S b2, S c1, S c2, S eps, S wd, bool decoupled) {
  const S g = wd > S(0) && !decoupled ? grad + wd * w : grad;
  m = b1 * m + (S(1) - b1) * g;
  v = b2 * v + (S(1) - b2) * (g * g);
  if (wd > S(0) && decoupled) w *= S(1) - lr * wd;
  w -= lr * (m / c1) / (sqrt_of(v / c2) + eps);
}

}  // namespace rlhash::cuda::elementwise
