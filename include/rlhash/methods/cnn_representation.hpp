#pragma once
/// \file
/// A small convolutional representation for images given as pixels (one image per column,
/// channels last; Fashion-MNIST's 784 values are 28x28x1):
///   conv 3x3 (repr_conv1 channels) -> ReLU -> max-pool 2x2
///   -> conv 3x3 (repr_conv2 channels) -> ReLU -> max-pool 2x2 -> dense repr_hidden -> ReLU
/// (28x28x1 -> 28x28x32 -> 14x14x32 -> 14x14x64 -> 7x7x64 = 3,136 -> 512 by default). The
/// papers' methods read CNN features; an MLP on pixels cannot see that a shifted edge is the same
/// edge, and on the default protocol every method on an MLP ends at 0.76-0.77 mAP at 32 bits
/// (docs/results-dph.md). He-uniform weights (the layers feed ReLUs), zero biases; the first
/// convolution computes no input gradient (its input is data). Host only (CpuBackend).
/// A representation policy like MlpRepresentation (methods/representation.hpp).
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/conv2d.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/max_pool2d.hpp"
#include "rlhash/nn/sequential.hpp"

namespace rlhash {

/// The widths and the image shape of CnnRepresentation.
struct CnnRepresentationConfig {
  int repr_conv1 = 32;  ///< channels of the first convolution
  int repr_conv2 = 64;  ///< channels of the second convolution
  /// Width of the dense layer after the convolutions. 512 measured better than 1,024 for
  /// dph-cnn (0.8035 against 0.7981 at 32 bits, seed 0) and costs half the dense layer.
  int repr_hidden = 512;
  int repr_image_width = 0;     ///< pixels per image row; 0: square images
  int repr_image_channels = 1;  ///< values per pixel (3 for RGB), channels last
  template <class V>
  void visit(V&& field) {
    field("repr_conv1", repr_conv1);
    field("repr_conv2", repr_conv2);
    field("repr_hidden", repr_hidden);
    field("repr_image_width", repr_image_width);
    field("repr_image_channels", repr_image_channels);
  }
};

template <class S>
struct CnnRepresentation {
  using Scalar = S;
  using Backend = nn::CpuBackend;
  using Net = nn::Sequential<nn::Conv2d<S>, nn::ReLU<S>, nn::MaxPool2d<S>, nn::Conv2d<S>, nn::ReLU<S>,
                             nn::MaxPool2d<S>, nn::Dense<S>, nn::ReLU<S>>;
  using Config = CnnRepresentationConfig;
  static constexpr Index kernel = 3;
  /// Items per forward pass when encoding: a 1,024-item batch of 28x28x32 activations is 100 MB
  /// per layer, reallocated layer by layer; 128 items encode 1.5x faster.
  static constexpr int encode_batch = 128;

  static Net make(Index inputs, const Config& c, Rng& rng) {
    const nn::ImageShape image = image_shape(inputs, c);
    nn::Conv2d<S> conv1(image, c.repr_conv1, kernel, rng);
    conv1.set_input_gradient(false);  // the input is data
    nn::MaxPool2d<S> pool1(conv1.output_shape());
    nn::Conv2d<S> conv2(pool1.output_shape(), c.repr_conv2, kernel, rng);
    nn::MaxPool2d<S> pool2(conv2.output_shape());
    nn::Dense<S> hidden(pool2.outputs(), c.repr_hidden, rng, nn::Init::he_uniform);
    return Net(std::move(conv1), nn::ReLU<S>(), std::move(pool1), std::move(conv2), nn::ReLU<S>(),
               std::move(pool2), std::move(hidden), nn::ReLU<S>());
  }
  static Index outputs(Index, const Config& c) { return c.repr_hidden; }

  /// The images `inputs` values per item are read as; each pooling halves them, so they must be
  /// at least 4x4. Throws InvalidArgument naming the field at fault.
  static nn::ImageShape image_shape(Index inputs, const Config& c) {
    detail::require(c.repr_conv1 > 0 && c.repr_conv2 > 0 && c.repr_hidden > 0,
                    "representation: repr_conv1, repr_conv2 and repr_hidden must be > 0, got " +
                        std::to_string(c.repr_conv1) + ", " + std::to_string(c.repr_conv2) + " and " +
                        std::to_string(c.repr_hidden));
    const nn::ImageShape image = nn::image_shape_of(inputs, c.repr_image_width, c.repr_image_channels,
                                                    "representation (repr_image_width, "
                                                    "repr_image_channels)");
    detail::require(
        image.height >= 4 && image.width >= 4,
        "representation: the CNN pools twice and needs images of at least 4x4, got " + image.text());
    return image;
  }
};

}  // namespace rlhash
