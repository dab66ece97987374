#pragma once
/// \file
/// Matrices in device memory for the CUDA backend (backend.hpp): `DeviceMatrix<S>`, an owning
/// rows x cols column-major matrix (the layout of `Matrix<S>`), and the non-owning views the
/// layers pass around: `DeviceView<S>` (writable), `ConstDeviceView<S>` (read-only) and
/// `Transposed<S>` (an operand of a product, read as its transpose). A view of a column range
/// of a column-major matrix is contiguous, so every view is a pointer and a shape (leading
/// dimension = rows). Plain C++ over the CUDA runtime: any translation unit may include it.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

#include <utility>
#include "rlhash/core/error.hpp"

#include "rlhash/core/types.hpp"
#include "rlhash/cuda/error.hpp"
#include "rlhash/cuda/memory.hpp"

namespace rlhash::cuda {

/// A rows x cols column-major matrix in device memory. Move-only; resizing discards the
/// contents (as Eigen's resize does) and reallocates only when growing.
template <class S>
class DeviceMatrix {
 public:
  using Scalar = S;

  DeviceMatrix() = default;
  DeviceMatrix(Index rows, Index cols) { resize(rows, cols); }
  // A moved-from matrix is 0 x 0 (as a moved-from Eigen matrix): keeping its shape over an
  // empty buffer would let a later same-shape target skip the allocation.
  DeviceMatrix(DeviceMatrix&& other) noexcept
      : buffer_(std::move(other.buffer_)),
        rows_(std::exchange(other.rows_, 0)),
        cols_(std::exchange(other.cols_, 0)) {}
  DeviceMatrix& operator=(DeviceMatrix&& other) noexcept {
    if (this != &other) {
      buffer_ = std::move(other.buffer_);
      rows_ = std::exchange(other.rows_, 0);
      cols_ = std::exchange(other.cols_, 0);
    }
    return *this;
  }
  /// A device copy of `host` (returns when the data is on the device).
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
  /// Device -> host, ordered on the legacy default stream (where the CUDA backend queues all
  /// its work), so it returns the result of everything queued before.
  Matrix<S> download() const {
    Matrix<S> host(rows_, cols_);
    buffer_.copy_to_host(host.data(), buffer_.size());
    return host;
  }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }
  S* data() { return buffer_.data(); }
  const S* data() const { return buffer_.data(); }

 private:
  DeviceBuffer<S> buffer_;
  Index rows_ = 0;
  Index cols_ = 0;
};

/// A writable rows x cols column-major view of device memory (leading dimension rows).
template <class S>
class DeviceView {
 public:
  using Scalar = S;
  DeviceView() = default;
  DeviceView(S* data, Index rows, Index cols) : data_(data), rows_(rows), cols_(cols) {}
  DeviceView(DeviceMatrix<S>& m) : DeviceView(m.data(), m.rows(), m.cols()) {}  // NOLINT: implicit by design
  S* data() const { return data_; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }

 private:
  S* data_ = nullptr;
  Index rows_ = 0, cols_ = 0;
};

/// A read-only view; what the device layers' forward and backward accept (`ConstRef`), so
/// they take a DeviceMatrix, a view or a column range alike.
template <class S>
class ConstDeviceView {
 public:
  using Scalar = S;
  ConstDeviceView() = default;
  ConstDeviceView(const S* data, Index rows, Index cols) : data_(data), rows_(rows), cols_(cols) {}
  ConstDeviceView(const DeviceMatrix<S>& m)  // NOLINT: implicit by design
      : ConstDeviceView(m.data(), m.rows(), m.cols()) {}
  ConstDeviceView(DeviceView<S> v) : ConstDeviceView(v.data(), v.rows(), v.cols()) {}  // NOLINT
  const S* data() const { return data_; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }

 private:
  const S* data_ = nullptr;
  Index rows_ = 0, cols_ = 0;
};

/// `m` read as its transpose by a product (cuBLAS's CUBLAS_OP_T).
template <class S>
struct Transposed {
  ConstDeviceView<S> matrix;
};

}  // namespace rlhash::cuda
