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
/// The element-wise kernels apply the formulas of elementwise.hpp (the host backend's Eigen
/// expressions for one element, checked on the host by test_cuda_host); the results differ from
/// the host's only by the device's rounding of tanh/exp/sqrt.
#include <cuda_runtime.h>

#include <cstddef>

#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/elementwise.hpp"
#include "rlhash/cuda/error.hpp"

namespace rlhash::cuda::kernels {

namespace device {

constexpr unsigned threads = 256;

/// Blocks for a grid-stride loop over `count` elements (the loop covers what the grid does not).
inline unsigned blocks_for(std::size_t count) {
  const std::size_t blocks = (count + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

template <class S>
__global__ void activation_forward_kernel(nn::ActivationKind kind, const S* x, S* y, std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x)
    y[i] = elementwise::activation(kind, x[i]);
}

template <class S>
__global__ void activation_backward_kernel(nn::ActivationKind kind, const S* y, const S* dy, S* dx,
                                           std::size_t count) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x)
    dx[i] = elementwise::activation_grad(kind, y[i], dy[i]);
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

template <class S>
__global__ void sgd_kernel(S* w, const S* grad, S* velocity, std::size_t count, S lr, S mu, S wd,
                           bool nesterov) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x)
    elementwise::sgd(w[i], grad[i], velocity != nullptr ? velocity + i : nullptr, lr, mu, wd, nesterov);
}

template <class S>
__global__ void adam_kernel(S* w, const S* grad, S* m, S* v, std::size_t count, S lr, S b1, S b2, S c1, S c2,
                            S eps, S wd, bool decoupled) {
  for (std::size_t i = blockIdx.x * std::size_t{blockDim.x} + threadIdx.x; i < count;
       i += std::size_t{gridDim.x} * blockDim.x)
    elementwise::adam(w[i], grad[i], m[i], v[i], lr, b1, b2, c1, c2, eps, wd, decoupled);
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
