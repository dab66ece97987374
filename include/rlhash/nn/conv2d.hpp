#pragma once
/// \file
/// 2-D convolution over a batch of images (one image per column, channels last:
/// nn/image_shape.hpp), stride 1, zero padding that keeps the height and width ("same"), an odd
/// square kernel. Written as one GEMM over the whole batch (im2col): the patches of every pixel
/// of every image are the columns of P (kernel^2 in_channels x pixels batch), and
///   forward   Y = W P + b          (out_channels x pixels batch, which in memory IS the
///                                   channels-last output, out_channels x pixels per image)
///   backward  dW += dY P^T,  db += dY 1,  dP = W^T dY, scattered back onto the pixels (col2im).
/// The weights are out_channels x (kernel^2 in_channels), column (ky kernel + kx) in_channels + c.
/// Host only (CpuBackend).
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S>
class Conv2d {
 public:
  using Scalar = S;
  using Backend = CpuBackend;
  using Matrix = rlhash::Matrix<S>;
  using Vector = rlhash::Vector<S>;
  using ConstRef = Eigen::Ref<const Matrix>;

  /// He-uniform weights over the fan-in kernel^2 in_channels (the layer feeds a ReLU), zero biases.
  Conv2d(ImageShape input, Index out_channels, Index kernel, Rng& rng, Init init = Init::he_uniform)
      : input_shape_(input), kernel_(kernel) {
    rlhash::detail::require(
        input.height > 0 && input.width > 0 && input.channels > 0,
        "Conv2d: the input image must have > 0 rows, columns and channels, got " + input.text());
    rlhash::detail::require(out_channels > 0,
                            "Conv2d: out_channels must be > 0, got " + std::to_string(out_channels));
    rlhash::detail::require(
        kernel > 0 && kernel % 2 == 1,
        "Conv2d: the kernel must be odd and > 0 (same padding), got " + std::to_string(kernel));
    weight_.resize(out_channels, kernel * kernel * input.channels);
    initialize(weight_, init, rng);
    bias_ = Vector::Zero(out_channels);
    weight_grad_ = Matrix::Zero(weight_.rows(), weight_.cols());
    bias_grad_ = Vector::Zero(out_channels);
  }

  ImageShape input_shape() const { return input_shape_; }
  ImageShape output_shape() const { return {input_shape_.height, input_shape_.width, weight_.rows()}; }
  Index inputs() const { return input_shape_.size(); }
  Index outputs() const { return output_shape().size(); }

  const Matrix& forward(const ConstRef& x) {
    input_shape_.require_rows(x.rows(), "Conv2d");
    batch_ = x.cols();
    im2col(x, patches_);
    output_.resize(outputs(), batch_);
    convolve(patches_, output_);
    return output_;
  }

  /// Evaluation: no caches touched; the batch is processed in slices, so the patch matrix stays
  /// small whatever the number of items.
  Matrix infer(const ConstRef& x) const {
    input_shape_.require_rows(x.rows(), "Conv2d");
    Matrix y(outputs(), x.cols());
    Matrix patches;
    for (Index start = 0; start < x.cols(); start += infer_slice) {
      const Index count = std::min<Index>(infer_slice, x.cols() - start);
      im2col(x.middleCols(start, count), patches);
      auto slice = y.middleCols(start, count);
      convolve(patches, slice);
    }
    return y;
  }

  const Matrix& backward(const ConstRef& dy) {
    rlhash::detail::require<StateError>(batch_ > 0, "Conv2d::backward called before forward");
    rlhash::detail::require_shape("Conv2d::backward", "dY", dy.rows(), dy.cols(), outputs(), batch_);
    output_grad_ = dy;  // contiguous, so it can be viewed as out_channels x (pixels batch)
    const Eigen::Map<const Matrix> dy_map(output_grad_.data(), weight_.rows(),
                                          input_shape_.pixels() * batch_);
    weight_grad_.noalias() += dy_map * patches_.transpose();
    bias_grad_ += dy_map.rowwise().sum();
    if (!input_gradient_) {
      input_grad_.resize(0, 0);
      return input_grad_;
    }
    patch_grad_.noalias() = weight_.transpose() * dy_map;
    col2im(patch_grad_, input_grad_);
    return input_grad_;
  }

  /// false: backward() computes the parameters' gradients only (a first layer reads data).
  void set_input_gradient(bool on) { input_gradient_ = on; }
  bool input_gradient() const { return input_gradient_; }

  ParameterList<S, CpuBackend> parameters() {
    return {make_param<CpuBackend>(weight_, weight_grad_, "weight"),
            make_param<CpuBackend>(bias_, bias_grad_, "bias")};
  }
  void zero_grad() {
    weight_grad_.setZero();
    bias_grad_.setZero();
  }
  void set_training(bool) {}

  Matrix& weight() { return weight_; }
  Vector& bias() { return bias_; }

 private:
  static constexpr Index infer_slice = 256;

  // P(:, image * pixels + y * width + x) = the kernel x kernel patch around (y, x), zero outside.
  template <class In>
  void im2col(const In& x, Matrix& patches) const {
    const Index h = input_shape_.height, w = input_shape_.width, c = input_shape_.channels;
    const Index pad = kernel_ / 2;
    patches.resize(kernel_ * kernel_ * c, h * w * x.cols());
    for (Index image = 0; image < x.cols(); ++image)
      for (Index y = 0; y < h; ++y)
        for (Index xx = 0; xx < w; ++xx) {
          S* column = patches.col((image * h + y) * w + xx).data();
          for (Index ky = 0; ky < kernel_; ++ky)
            for (Index kx = 0; kx < kernel_; ++kx, column += c) {
              const Index sy = y + ky - pad, sx = xx + kx - pad;
              if (sy < 0 || sy >= h || sx < 0 || sx >= w)
                std::fill(column, column + c, S(0));
              else
                std::copy_n(x.col(image).data() + ((sy * w) + sx) * c, c, column);
            }
        }
  }

  // The transpose of im2col: every patch entry's gradient added back onto its pixel.
  void col2im(const Matrix& patch_grad, Matrix& dx) const {
    const Index h = input_shape_.height, w = input_shape_.width, c = input_shape_.channels;
    const Index pad = kernel_ / 2;
    dx = Matrix::Zero(inputs(), batch_);
    for (Index image = 0; image < batch_; ++image)
      for (Index y = 0; y < h; ++y)
        for (Index xx = 0; xx < w; ++xx) {
          const S* column = patch_grad.col((image * h + y) * w + xx).data();
          for (Index ky = 0; ky < kernel_; ++ky)
            for (Index kx = 0; kx < kernel_; ++kx, column += c) {
              const Index sy = y + ky - pad, sx = xx + kx - pad;
              if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
              S* target = &dx(((sy * w) + sx) * c, image);
              for (Index k = 0; k < c; ++k) target[k] += column[k];
            }
        }
  }

  template <class Out>
  void convolve(const Matrix& patches, Out& y) const {
    Eigen::Map<Matrix> out(y.data(), weight_.rows(), patches.cols());
    out.noalias() = weight_ * patches;
    out.colwise() += bias_;
  }

  ImageShape input_shape_;
  Index kernel_;
  Matrix weight_, weight_grad_;
  Vector bias_, bias_grad_;
  Matrix patches_, output_, output_grad_, patch_grad_, input_grad_;
  Index batch_ = 0;
  bool input_gradient_ = true;
};

}  // namespace rlhash::nn
