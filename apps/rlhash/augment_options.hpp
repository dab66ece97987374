#pragma once
// Image augmentation on the command line (--augment-shift, --augment-flip, --image-shape), shared
// by `eval` and `train`: the training images are shifted and mirrored afresh at every step
// (rlhash/data/image_augmentation.hpp).
#include <CLI/CLI.hpp>
#include <string>

#include "data_options.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/data/image_augmentation.hpp"
#include "rlhash/data/preprocess.hpp"

namespace rlhash::cli {

struct AugmentOptions {
  int shift = 0;
  bool flip = false;
  std::string image_shape;  // HxW or HxWxC; empty: the dataset's own (28x28 for fashion-mnist)
};

inline void add_augment_options(CLI::App& app, AugmentOptions& o) {
  app.add_option("--augment-shift", o.shift,
                 "Shift each training image by up to this many pixels on each axis, afresh every step "
                 "(0: off)")
      ->default_val(0)
      ->check(CLI::Range(0, 1 << 20));
  app.add_flag("--augment-flip", o.flip, "Mirror each training image left to right with probability 1/2");
  app.add_option("--image-shape", o.image_shape,
                 "The features' image shape for augmentation, HxW or HxWxC (channels last); "
                 "--dataset fashion-mnist: 28x28");
}

/// "HxW" or "HxWxC" into `a`; InvalidArgument naming --image-shape otherwise.
inline void parse_image_shape(const std::string& text, ImageAugmentation& a) {
  const auto bad = [&] {
    return InvalidArgument("--image-shape '" + text + "': expected HxW or HxWxC with positive integers");
  };
  long long parts[3] = {0, 0, 1};
  int count = 0;
  std::size_t begin = 0;
  while (begin <= text.size()) {
    const auto end = std::min(text.find('x', begin), text.size());
    const std::string part = text.substr(begin, end - begin);
    if (count == 3 || part.empty() || part.size() > 9 ||
        part.find_first_not_of("0123456789") != std::string::npos)
      throw bad();
    parts[count++] = std::stoll(part);
    begin = end + 1;
  }
  if (count < 2 || parts[0] == 0 || parts[1] == 0 || parts[2] == 0) throw bad();
  a.height = parts[0];
  a.width = parts[1];
  a.channels = parts[2];
}

/// The augmentation the options ask for (off unless --augment-shift or --augment-flip), its
/// shape from --image-shape or the dataset. Refused with --center or --pca: those turn the
/// pixels into values that a shift would move without their offsets.
inline ImageAugmentation augmentation_of(const AugmentOptions& o, const DataOptions& data,
                                         const PreprocessConfig& preprocess) {
  ImageAugmentation a;
  a.max_shift = o.shift;
  a.horizontal_flip = o.flip;
  if (!a.enabled()) {
    if (!o.image_shape.empty())
      throw InvalidArgument("--image-shape: only used with --augment-shift or --augment-flip");
    return a;
  }
  if (preprocess.center || preprocess.pca_dims > 0)
    throw InvalidArgument(
        "--augment-shift/--augment-flip: the features must be images, not centred or projected; drop "
        "--center and --pca");
  if (!o.image_shape.empty()) {
    parse_image_shape(o.image_shape, a);
  } else if (data.dataset == "fashion-mnist") {
    a.height = 28;
    a.width = 28;
  } else {
    throw InvalidArgument(
        "--augment-shift/--augment-flip: give the features' image shape with --image-shape HxW");
  }
  return a;
}

/// "off", or e.g. "shift 2, flip, 28x28x1" (reports and model files).
inline std::string augmentation_text(const ImageAugmentation& a) {
  if (!a.enabled()) return "off";
  std::string text = "shift " + std::to_string(a.max_shift);
  if (a.horizontal_flip) text += ", flip";
  return text + ", " + a.shape_text();
}

}  // namespace rlhash::cli
