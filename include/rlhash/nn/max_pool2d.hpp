#pragma once
/// \file
/// 2 x 2 max pooling with stride 2 over a batch of images (one image per column, channels last:
/// nn/image_shape.hpp); an odd last row or column is dropped (floor), as in PyTorch's default.
/// Backward sends each output's gradient to the input that won the max (the first of equals).
/// No parameters. Host only (CpuBackend).
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class S>
class MaxPool2d {
 public:
  using Scalar = S;
  using Backend = CpuBackend;
  using Matrix = rlhash::Matrix<S>;
  using ConstRef = Eigen::Ref<const Matrix>;

  explicit MaxPool2d(ImageShape input) : input_shape_(input) {
    rlhash::detail::require(
        input.height >= 2 && input.width >= 2 && input.channels > 0,
        "MaxPool2d: the input image must be at least 2x2 with > 0 channels, got " + input.text());
  }

  ImageShape input_shape() const { return input_shape_; }
  ImageShape output_shape() const {
    return {input_shape_.height / 2, input_shape_.width / 2, input_shape_.channels};
  }
  Index inputs() const { return input_shape_.size(); }
  Index outputs() const { return output_shape().size(); }

  const Matrix& forward(const ConstRef& x) {
    input_shape_.require_rows(x.rows(), "MaxPool2d");
    output_.resize(outputs(), x.cols());
    winners_.resize(static_cast<std::size_t>(output_.size()));
    pool(x, output_, winners_.data());
    return output_;
  }

  Matrix infer(const ConstRef& x) const {
    input_shape_.require_rows(x.rows(), "MaxPool2d");
    Matrix y(outputs(), x.cols());
    pool(x, y, nullptr);
    return y;
  }

  const Matrix& backward(const ConstRef& dy) {
    rlhash::detail::require<StateError>(!winners_.empty(), "MaxPool2d::backward called before forward");
    rlhash::detail::require_shape("MaxPool2d::backward", "dY", dy.rows(), dy.cols(), output_.rows(),
                                  output_.cols());
    input_grad_ = Matrix::Zero(inputs(), dy.cols());
    for (Index image = 0; image < dy.cols(); ++image)
      for (Index i = 0; i < dy.rows(); ++i)
        input_grad_(winners_[static_cast<std::size_t>(image * dy.rows() + i)], image) += dy(i, image);
    return input_grad_;
  }

  ParameterList<S, CpuBackend> parameters() { return {}; }
  void zero_grad() {}
  void set_training(bool) {}

 private:
  // winners (when given): for every output value, the row of the input value that won.
  void pool(const ConstRef& x, Matrix& y, Index* winners) const {
    const Index w = input_shape_.width, c = input_shape_.channels;
    const ImageShape out = output_shape();
    for (Index image = 0; image < x.cols(); ++image)
      for (Index oy = 0; oy < out.height; ++oy)
        for (Index ox = 0; ox < out.width; ++ox)
          for (Index k = 0; k < c; ++k) {
            Index best = ((2 * oy) * w + 2 * ox) * c + k;
            for (Index dy = 0; dy < 2; ++dy)
              for (Index dx = 0; dx < 2; ++dx) {
                const Index row = ((2 * oy + dy) * w + 2 * ox + dx) * c + k;
                if (x(row, image) > x(best, image)) best = row;
              }
            const Index o = (oy * out.width + ox) * c + k;
            y(o, image) = x(best, image);
            if (winners) winners[image * y.rows() + o] = best;
          }
  }

  ImageShape input_shape_;
  Matrix output_, input_grad_;
  std::vector<Index> winners_;
};

}  // namespace rlhash::nn
