#pragma once
/// \file
/// The element-wise kernels of the CUDA backend (backend.hpp) and the launchers it declares.
/// nvcc only, and included by EXACTLY ONE .cu file of a program (the launchers are ordinary,
/// non-inline functions: a second inclusion is a duplicate-symbol link error, a missing one an
/// undefined reference to rlhash::cuda::kernels::...):
///
///     // rlhash_cuda.cu
///     #include <rlhash/cuda/backend_kernels.cuh>
///
/// Each kernel evaluates, per element, the same formula in the same order as the host backend's
/// Eigen expression (nn/activation.hpp, nn/optimizer.hpp); the results differ from the host's
/// only by the device's rounding of tanh/exp/sqrt.
#include <cuda_runtime.h>

#include <cstddef>

#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/error.hpp"

namespace rlhash::cuda::kernels {

namespace device {

constexpr unsigned threads = 256;

/// Blocks for a grid-stride loop over `count` elements (the loop covers what the grid does not).
inline unsigned blocks_for(std::size_t count) {
  const std::size_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

__device__ inline float tanh_of(float x) { return tanhf(x); }
__device__ inline double tanh_of(double x) { return tanh(x); }
__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }
__device__ inline float sqrt_of(float x) { return sqrtf(x); }
__device__ inline double sqrt_of(double x) { return sqrt(x); }

template <class S>
__global__ void activation_forward_kernel(nn::ActivationKind kind, const S* x, S* y, std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const S v = x[i];
    switch (kind) {
      case nn::ActivationKind::tanh:
        y[i] = tanh_of(v);
        break;
      case nn::ActivationKind::sigmoid:
        y[i] = S(1) / (S(1) + exp_of(-v));  // exp overflow -> inf -> 0, as on the host
        break;
      case nn::ActivationKind::relu:
        y[i] = v > S(0) ? v : S(0);
        break;
    }
  }
}

/// dx from the activation's OUTPUT y, as the host policies do.
template <class S>
__global__ void activation_backward_kernel(nn::ActivationKind kind, const S* y, const S* dy, S* dx,
                                           std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const S out = y[i];
    switch (kind) {
      case nn::ActivationKind::tanh:
        dx[i] = dy[i] * (S(1) - out * out);
        break;
      case nn::ActivationKind::sigmoid:
        dx[i] = dy[i] * out * (S(1) - out);
        break;
      case nn::ActivationKind::relu:
        dx[i] = out > S(0) ? dy[i] : S(0);
        break;
    }
  }
}

template <class S>
__global__ void add_bias_kernel(S* m, const S* bias, std::size_t rows, std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x)
    m[i] += bias[i % rows];
}

/// One thread per row, summing its columns in order: neighbouring threads read neighbouring
/// addresses of each column (coalesced), and the sum is deterministic (no atomics).
template <class S>
__global__ void add_row_sums_kernel(S* v, const S* m, std::size_t rows, std::size_t cols) {
  for (std::size_t r = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; r < rows;
       r += std::size_t{gridDim.x} * blockDim.x) {
    S sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += m[c * rows + r];
    v[r] += sum;
  }
}

/// nn::Sgd: g = grad + wd w;  v = mu v + g;  w -= lr (nesterov ? g + mu v : v)  (or lr g).
template <class S>
__global__ void sgd_kernel(S* w, const S* grad, S* velocity, std::size_t count, S lr, S mu, S wd,
                           bool nesterov) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const S g = wd > S(0) ? grad[i] + wd * w[i] : grad[i];
    if (velocity != nullptr) {
      const S v = mu * velocity[i] + g;
      velocity[i] = v;
      w[i] -= nesterov ? lr * (g + mu * v) : lr * v;
    } else {
      w[i] -= lr * g;
    }
  }
}

/// nn::Adam with bias correction (c1 = 1 - b1^t, c2 = 1 - b2^t), coupled or decoupled decay.
template <class S>
__global__ void adam_kernel(S* w, const S* grad, S* m, S* v, std::size_t count, S lr, S b1, S b2, S c1, S c2,
                            S eps, S wd, bool decoupled) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x) {
    const bool coupled = wd > S(0) && !decoupled;
    const S g = coupled ? grad[i] + wd * w[i] : grad[i];
    const S mi = b1 * m[i] + (S(1) - b1) * g;
    const S vi = b2 * v[i] + (S(1) - b2) * (g * g);
    m[i] = mi;
    v[i] = vi;
    S wi = w[i];
    if (wd > S(0) && decoupled) wi *= S(1) - lr * wd;
    w[i] = wi - lr * (mi / c1) / (sqrt_of(vi / c2) + eps);
  }
}

}  // namespace device

#define RLHASH_CUDA_DEFINE_BACKEND_KERNELS(S)                                                                \
  void activation_forward(nn::ActivationKind kind, const S* x, S* y, std::size_t count,                      \
                          cudaStream_t stream) {                                                             \
    device::activation_forward_kernel<<<device::blocks_for(count), device::threads, 0, stream>>>(kind, x, y, \
                                                                                                 count);     \
    RLHASH_CUDA_CHECK_LAUNCH("activation_forward_kernel");                                                   \
  }                                                                                                          \
  void activation_backward(nn::ActivationKind kind, const S* y, const S* dy, S* dx, std::size_t count,       \
                           cudaStream_t stream) {                                                            \
    device::activation_backward_kernel<<<device::blocks_for(count), device::threads, 0, stream>>>(           \
        kind, y, dy, dx, count);                                                                             \
    RLHASH_CUDA_CHECK_LAUNCH("activation_backward_kernel");                                                  \
  }                                                                                                          \
  void add_bias(S* m, const S* bias, Index rows, Index cols, cudaStream_t stream) {                          \
    const auto count = static_cast<std::size_t>(rows * cols);                                                \
    device::add_bias_kernel<<<device::blocks_for(count), device::threads, 0, stream>>>(                      \
        m, bias, static_cast<std::size_t>(rows), count);                                                     \
    RLHASH_CUDA_CHECK_LAUNCH("add_bias_kernel");                                                             \
  }                                                                                                          \
  void add_row_sums(S* v, const S* m, Index rows, Index cols, cudaStream_t stream) {                         \
    device::add_row_sums_kernel<<<device::blocks_for(static_cast<std::size_t>(rows)), device::threads, 0,    \
                                  stream>>>(v, m, static_cast<std::size_t>(rows),                            \
                                            static_cast<std::size_t>(cols));                                 \
    RLHASH_CUDA_CHECK_LAUNCH("add_row_sums_kernel");                                                         \
  }                                                                                                          \
  void sgd_update(S* w, const S* g, S* velocity, std::size_t count, S lr, S momentum, S weight_decay,        \
                  bool nesterov, cudaStream_t stream) {                                                      \
    device::sgd_kernel<<<device::blocks_for(count), device::threads, 0, stream>>>(                           \
        w, g, velocity, count, lr, momentum, weight_decay, nesterov);                                        \
    RLHASH_CUDA_CHECK_LAUNCH("sgd_kernel");                                                                  \
  }                                                                                                          \
  void adam_update(S* w, const S* g, S* m, S* v, std::size_t count, S lr, S beta1, S beta2, S correction1,   \
                   S correction2, S epsilon, S weight_decay, bool decoupled, cudaStream_t stream) {          \
    device::adam_kernel<<<device::blocks_for(count), device::threads, 0, stream>>>(                          \
        w, g, m, v, count, lr, beta1, beta2, correction1, correction2, epsilon, weight_decay, decoupled);    \
    RLHASH_CUDA_CHECK_LAUNCH("adam_kernel");                                                                 \
  }

RLHASH_CUDA_DEFINE_BACKEND_KERNELS(float)
RLHASH_CUDA_DEFINE_BACKEND_KERNELS(double)
#undef RLHASH_CUDA_DEFINE_BACKEND_KERNELS

}  // namespace rlhash::cuda::kernels
