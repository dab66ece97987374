#pragma once
/// \file
/// The shape of the images a convolutional layer reads: one image per column of a batch, its
/// pixels row by row and each pixel's channels together ("channels last", the layout of
/// data/image_augmentation.hpp): value (y, x, c) at row (y * width + x) * channels + c.
#include <cmath>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::nn {

struct ImageShape {
  Index height = 0;
  Index width = 0;
  Index channels = 1;

  Index size() const { return height * width * channels; }
  Index pixels() const { return height * width; }
  std::string text() const {
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
  /// Throws InvalidArgument naming `layer` unless a batch of `rows` rows holds images of this
  /// shape. The message is built only on failure: layers check every forward pass.
  void require_rows(Index rows, const char* layer) const {
    if (rows == size()) return;
    throw InvalidArgument(std::string(layer) + ": input has " + std::to_string(rows) +
                          " rows, the layer reads images of " + text() + " = " + std::to_string(size()) +
                          " values");
  }
};

inline bool operator==(const ImageShape& a, const ImageShape& b) {
  return a.height == b.height && a.width == b.width && a.channels == b.channels;
}

/// The shape of `inputs` values read as images of `channels` channels and `width` columns;
/// width 0: square images. Throws InvalidArgument naming `what` when the sizes do not divide.
inline ImageShape image_shape_of(Index inputs, Index width, Index channels, const std::string& what) {
  rlhash::detail::require(channels > 0 && width >= 0,
                          what + ": image channels must be > 0 and width >= 0, got " +
                              std::to_string(channels) + " and " + std::to_string(width));
  const std::string values = std::to_string(inputs) + " input values";
  rlhash::detail::require(inputs > 0 && inputs % channels == 0, what + ": " + values + " are not images of " +
                                                                    std::to_string(channels) + " channels");
  const Index pixels = inputs / channels;
  if (width == 0) {
    width = static_cast<Index>(std::lround(std::sqrt(static_cast<double>(pixels))));
    rlhash::detail::require(width * width == pixels, what + ": " + values + " are not square images of " +
                                                         std::to_string(channels) +
                                                         " channels; set the image width");
  }
  rlhash::detail::require(pixels % width == 0, what + ": " + values + " are not images " +
                                                   std::to_string(width) + " pixels wide with " +
                                                   std::to_string(channels) + " channels");
  return {pixels / width, width, channels};
}

}  // namespace rlhash::nn
