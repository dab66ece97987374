#pragma once
/// \file
/// The first piece of the cuBLAS training backend: a fully connected layer y = W x + b whose
/// parameters, gradients and activations live on the device, mirroring nn::Dense<float>
/// (rlhash/nn/dense.hpp) operation for operation:
///   forward   Y  = W X (sgemm) + b 1^T (sger)
///   backward  dW += dY X^T (sgemm, beta = 1), db += dY 1 (sgemv, beta = 1), dX = W^T dY (sgemm)
/// Parameters move between host and device explicitly (upload / download), so checkpoints use
/// the CPU layer and the library's one file format: download into an nn::Dense<float>, then
/// nn::save_module. Plain C++ over cuBLAS (no kernels): any translation unit may include it.
///
/// Results equal the CPU layer up to float rounding (cuBLAS sums in another order), not bit
/// for bit. TF32 tensor-core math is never enabled (CUBLAS_DEFAULT_MATH, no override), so the
/// products keep full float precision.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/cuda/error.hpp"
#include "rlhash/cuda/memory.hpp"
#include "rlhash/nn/dense.hpp"

namespace rlhash::cuda {

/// An owned cuBLAS handle bound to a stream (the legacy default stream unless given).
class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream = nullptr) {
    RLHASH_CUDA_CHECK(cublasCreate(&handle_));
    try {
      RLHASH_CUDA_CHECK(cublasSetMathMode(handle_, CUBLAS_DEFAULT_MATH));
      RLHASH_CUDA_CHECK(cublasSetStream(handle_, stream));
    } catch (...) {
      (void)cublasDestroy(handle_);
      throw;
    }
    stream_ = stream;
  }
  ~CublasHandle() {
    if (handle_ != nullptr) (void)cublasDestroy(handle_);
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  cublasHandle_t get() const { return handle_; }
  cudaStream_t stream() const { return stream_; }
  void synchronize() const { RLHASH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cublasHandle_t handle_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

/// A rows x cols column-major matrix in device memory (the layout of `Matrix<S>`).
template <class S>
class DeviceMatrix {
 public:
  DeviceMatrix() = default;
  DeviceMatrix(Index rows, Index cols) { resize(rows, cols); }
  explicit DeviceMatrix(const Matrix<S>& host) { upload(host); }

  void resize(Index rows, Index cols) {
    rlhash::detail::require(rows >= 0 && cols >= 0, "DeviceMatrix: negative shape " + std::to_string(rows) +
                                                        " x " + std::to_string(cols));
    buffer_.resize(static_cast<std::size_t>(rows * cols));
    rows_ = rows;
    cols_ = cols;
  }
  void upload(const Matrix<S>& host) {
    resize(host.rows(), host.cols());
    buffer_.copy_from_host(host.data(), buffer_.size());
  }
  /// Device -> host; synchronise the stream that produced the data first (Dense::download does).
  Matrix<S> download() const {
    Matrix<S> host(rows_, cols_);
    buffer_.copy_to_host(host.data(), buffer_.size());
    return host;
  }
  /// Sets every element to zero (asynchronously on `stream`).
  void set_zero(cudaStream_t stream = nullptr) {
    if (!buffer_.empty()) RLHASH_CUDA_CHECK(cudaMemsetAsync(buffer_.data(), 0, buffer_.bytes(), stream));
  }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  S* data() { return buffer_.data(); }
  const S* data() const { return buffer_.data(); }

 private:
  DeviceBuffer<S> buffer_;
  Index rows_ = 0;
  Index cols_ = 0;
};

template <class S>
class Dense;

/// Device twin of nn::Dense<float>. Holds a reference to a CublasHandle that must outlive it;
/// all work is queued on the handle's stream.
template <>
class Dense<float> {
 public:
  using Scalar = float;

  /// A device copy of `layer`'s weights, biases and gradients.
  Dense(const nn::Dense<float>& layer, CublasHandle& handle) : handle_(&handle) { upload(layer); }

  Index inputs() const { return weight_.cols(); }
  Index outputs() const { return weight_.rows(); }

  /// Host -> device: weights, biases and accumulated gradients of `layer` (shapes may change).
  void upload(const nn::Dense<float>& layer) {
    weight_.upload(layer.weight());
    bias_.upload(layer.bias());
    weight_grad_.upload(layer.weight_grad());
    bias_grad_.upload(layer.bias_grad());
    has_input_ = false;
  }
  /// Device -> host into `layer` (same shapes required): parameters and gradients, e.g. before
  /// nn::save_module writes a checkpoint.
  void download(nn::Dense<float>& layer) const {
    rlhash::detail::require(layer.inputs() == inputs() && layer.outputs() == outputs(),
                            "cuda::Dense::download: host layer is " + std::to_string(layer.outputs()) +
                                " x " + std::to_string(layer.inputs()) + ", the device layer " +
                                std::to_string(outputs()) + " x " + std::to_string(inputs()));
    handle_->synchronize();
    layer.weight() = weight_.download();
    layer.bias() = bias_.download();
    // The CPU layer exposes its gradients through parameters() only.
    auto params = layer.parameters();
    params[0].grad() = weight_grad_.download();
    params[1].grad() = bias_grad_.download();
  }

  /// Y = W X + b for X of inputs() x batch on the device; keeps a copy of X for backward.
  const DeviceMatrix<float>& forward(const DeviceMatrix<float>& x) {
    check_input(x.rows());
    const Index batch = x.cols();
    input_.resize(x.rows(), batch);
    if (batch > 0)
      RLHASH_CUDA_CHECK(cudaMemcpyAsync(input_.data(), x.data(),
                                        sizeof(float) * static_cast<std::size_t>(x.rows() * batch),
                                        cudaMemcpyDeviceToDevice, handle_->stream()));
    has_input_ = true;
    output_.resize(outputs(), batch);
    if (batch == 0) return output_;
    ensure_ones(batch);
    const float one = 1.0f, zero = 0.0f;
    RLHASH_CUDA_CHECK(cublasSgemm(handle_->get(), CUBLAS_OP_N, CUBLAS_OP_N, as_int(outputs()), as_int(batch),
                                  as_int(inputs()), &one, weight_.data(), as_int(outputs()), input_.data(),
                                  as_int(inputs()), &zero, output_.data(), as_int(outputs())));
    RLHASH_CUDA_CHECK(cublasSger(handle_->get(), as_int(outputs()), as_int(batch), &one, bias_.data(), 1,
                                 ones_.data(), 1, output_.data(), as_int(outputs())));
    return output_;
  }

  /// dX = W^T dY for the last forward; adds dW = dY X^T and db = dY 1 to the gradients.
  const DeviceMatrix<float>& backward(const DeviceMatrix<float>& dy) {
    rlhash::detail::require<StateError>(has_input_, "cuda::Dense::backward called before forward");
    rlhash::detail::require(dy.rows() == outputs() && dy.cols() == input_.cols(),
                            "cuda::Dense::backward: dY is " + std::to_string(dy.rows()) + " x " +
                                std::to_string(dy.cols()) + ", expected " + std::to_string(outputs()) +
                                " x " + std::to_string(input_.cols()));
    const Index batch = dy.cols();
    input_grad_.resize(inputs(), batch);
    if (batch == 0) return input_grad_;
    ensure_ones(batch);
    const float one = 1.0f, zero = 0.0f;
    RLHASH_CUDA_CHECK(cublasSgemm(handle_->get(), CUBLAS_OP_N, CUBLAS_OP_T, as_int(outputs()),
                                  as_int(inputs()), as_int(batch), &one, dy.data(), as_int(outputs()),
                                  input_.data(), as_int(inputs()), &one, weight_grad_.data(),
                                  as_int(outputs())));
    RLHASH_CUDA_CHECK(cublasSgemv(handle_->get(), CUBLAS_OP_N, as_int(outputs()), as_int(batch), &one,
                                  dy.data(), as_int(outputs()), ones_.data(), 1, &one, bias_grad_.data(), 1));
    RLHASH_CUDA_CHECK(cublasSgemm(handle_->get(), CUBLAS_OP_T, CUBLAS_OP_N, as_int(inputs()), as_int(batch),
                                  as_int(outputs()), &one, weight_.data(), as_int(outputs()), dy.data(),
                                  as_int(outputs()), &zero, input_grad_.data(), as_int(inputs())));
    return input_grad_;
  }

  void zero_grad() {
    weight_grad_.set_zero(handle_->stream());
    bias_grad_.set_zero(handle_->stream());
  }

  const DeviceMatrix<float>& weight() const { return weight_; }
  const DeviceMatrix<float>& bias() const { return bias_; }
  const DeviceMatrix<float>& weight_grad() const { return weight_grad_; }
  const DeviceMatrix<float>& bias_grad() const { return bias_grad_; }

 private:
  static int as_int(Index v) {
    if (v > 2147483647)
      throw InvalidArgument("cuda::Dense: dimension " + std::to_string(v) + " exceeds cuBLAS's int");
    return static_cast<int>(v);
  }
  void check_input(Index rows) const {
    rlhash::detail::require(rows == inputs(), "cuda::Dense: input has " + std::to_string(rows) +
                                                  " rows (features), the layer expects " +
                                                  std::to_string(inputs()));
  }
  void ensure_ones(Index batch) {
    if (ones_.rows() >= batch) return;
    ones_.upload(Matrix<float>::Ones(batch, 1));
  }

  CublasHandle* handle_;
  DeviceMatrix<float> weight_, bias_, weight_grad_, bias_grad_;
  DeviceMatrix<float> input_, output_, input_grad_, ones_;
  bool has_input_ = false;
};

}  // namespace rlhash::cuda
