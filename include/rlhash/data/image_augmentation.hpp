#pragma once
/// \file
/// Random shifts and mirror images of training images, drawn afresh for every training step.
///
/// A feature column is an image of `height` x `width` pixels with `channels` values each, stored
/// row by row with the channels of a pixel together (pixel (r, c) channel k at index
/// (r * width + c) * channels + k: how IDX files and Fashion-MNIST lay out their images). Each
/// item of a batch is translated by a uniform (dy, dx) in [-max_shift, max_shift]^2, the pixels
/// shifted in from outside the image being 0 (the background of raw pixels scaled to [0, 1]),
/// and mirrored left to right with probability 1/2 when `horizontal_flip` is on.
///
/// The draw of an item depends only on (key, item): the same on every data-parallel replica,
/// whichever part of the batch a replica holds, and the same again when training resumes from a
/// checkpoint, so augmented training stays reproducible and shardable bit for bit.
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

struct ImageAugmentation {
  Index height = 0;
  Index width = 0;
  Index channels = 1;
  int max_shift = 0;             ///< pixels on each axis; 0: no shift
  bool horizontal_flip = false;  ///< mirror left to right with probability 1/2

  bool enabled() const { return max_shift != 0 || horizontal_flip; }

  /// Throws InvalidArgument (naming `what`) unless the settings are usable on features of
  /// `dims` dimensions. Off (nothing enabled) is always valid.
  void validate(Index dims, const std::string& what) const {
    if (!enabled()) return;
    if (max_shift < 0)
      throw InvalidArgument(what + ": the shift must be >= 0, got " + std::to_string(max_shift));
    if (height <= 0 || width <= 0 || channels <= 0)
      throw InvalidArgument(what + ": needs the image shape (height, width, channels > 0), got " +
                            shape_text());
    if (height * width * channels != dims)
      throw InvalidArgument(what + ": an image of " + shape_text() + " has " +
                            std::to_string(height * width * channels) + " values, the features have " +
                            std::to_string(dims) + " dimensions");
    if (max_shift >= height || max_shift >= width)
      throw InvalidArgument(what + ": a shift of " + std::to_string(max_shift) +
                            " pixels leaves nothing of a " + shape_text() + " image");
  }

  std::string shape_text() const {
    return std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  }
};

namespace detail {
/// SplitMix64's finaliser (Steele, Lea & Flood 2014): a well-mixed 64-bit value per input.
inline std::uint64_t mix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace detail

/// One item's draw: its shift on each axis and whether it is mirrored.
struct ImageTransform {
  int dy = 0;
  int dx = 0;
  bool flip = false;
};

/// The transform of `item` under `key` (e.g. a training seed mixed with the step number).
inline ImageTransform draw_image_transform(const ImageAugmentation& a, std::uint64_t key, Index item) {
  const std::uint64_t bits = detail::mix64(key ^ detail::mix64(static_cast<std::uint64_t>(item)));
  const auto span = static_cast<std::uint64_t>(2 * a.max_shift + 1);
  ImageTransform t;
  // Three independent fields of one 64-bit draw: 24 bits each for the shifts (a bias below 2^-16
  // for any usable shift), one bit for the mirror.
  t.dy = static_cast<int>((bits & 0xFFFFFF) % span) - a.max_shift;
  t.dx = static_cast<int>(((bits >> 24) & 0xFFFFFF) % span) - a.max_shift;
  t.flip = a.horizontal_flip && ((bits >> 63) != 0);
  return t;
}

/// `image` (one column) mirrored (when `t.flip`), then shifted by (dy, dx): output pixel (r, c)
/// reads input pixel (r - dy, c - dx), or (r - dy, width - 1 - (c - dx)) when mirrored, and is 0
/// where that falls outside the image.
template <class S>
Vector<S> transform_image(const ImageAugmentation& a, const ImageTransform& t,
                          const Eigen::Ref<const Vector<S>>& image) {
  Vector<S> out = Vector<S>::Zero(image.size());
  for (Index r = 0; r < a.height; ++r) {
    const Index source_row = r - t.dy;
    if (source_row < 0 || source_row >= a.height) continue;
    for (Index c = 0; c < a.width; ++c) {
      const Index shifted = c - t.dx;
      const Index source_col = t.flip ? a.width - 1 - shifted : shifted;
      if (source_col < 0 || source_col >= a.width) continue;
      out.segment((r * a.width + c) * a.channels, a.channels) =
          image.segment((source_row * a.width + source_col) * a.channels, a.channels);
    }
  }
  return out;
}

/// Transforms every column j of `batch` (item `items[j]`) in place by its draw under `key`.
template <class S>
void augment_images(const ImageAugmentation& a, std::uint64_t key, const std::vector<Index>& items,
                    Matrix<S>& batch) {
  if (!a.enabled()) return;
  for (Index j = 0; j < batch.cols(); ++j) {
    const Vector<S> image = batch.col(j);
    batch.col(j) =
        transform_image<S>(a, draw_image_transform(a, key, items[static_cast<std::size_t>(j)]), image);
  }
}

}  // namespace rlhash
