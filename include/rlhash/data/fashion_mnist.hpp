#pragma once
/// \file
/// Fashion-MNIST (Xiao, Rasul & Vollgraf 2017): 60000 training and 10000 test grey images of
/// 28 x 28 pixels in 10 clothing classes, as IDX files. Debian's `dataset-fashion-mnist`
/// installs them under /usr/share/datasets/fashion-mnist; RLHASH_FASHION_MNIST_DIR or an
/// explicit folder point elsewhere (plain or .gz files).
#include <sys/stat.h>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/io/idx.hpp"

namespace rlhash {

/// The class names in id order.
inline const std::array<const char*, 10>& fashion_mnist_class_names() {
  static const std::array<const char*, 10> names = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                    "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                    "Bag",         "Ankle boot"};
  return names;
}

/// Images are columns (784 x N, pixel k = row k / 28, column k % 28), `Pixel` = float in [0, 1]
/// or std::uint8_t raw values.
template <class Pixel>
struct FashionMnistOf {
  Matrix<Pixel> train_images;
  Labels train_labels;
  Matrix<Pixel> test_images;
  Labels test_labels;
  std::string dir;  ///< where the files were found
};
using FashionMnist = FashionMnistOf<float>;
using FashionMnistRaw = FashionMnistOf<std::uint8_t>;

namespace detail {

inline std::string fashion_mnist_dir(const std::string& dir) {
  if (!dir.empty()) return dir;
  if (const char* env = std::getenv("RLHASH_FASHION_MNIST_DIR"); env != nullptr && *env != '\0') return env;
  return "/usr/share/datasets/fashion-mnist";
}

/// `<dir>/<stem>.gz`, else `<dir>/<stem>`; IoError with the install hint when neither exists.
inline std::string fashion_mnist_file(const std::string& dir, const std::string& stem) {
  struct stat info {};
  for (const std::string& path : {dir + "/" + stem + ".gz", dir + "/" + stem})
    if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) return path;
  throw IoError(
      "Fashion-MNIST not found: no '" + stem + "[.gz]' in '" + dir +
      "'. Install it with `apt-get install dataset-fashion-mnist`, or point RLHASH_FASHION_MNIST_DIR "
      "(or the dir argument) at a folder holding the four IDX files");
}

/// Reads one split; `Pixel` float scales to [0, 1] straight from the bytes (no uint8 copy).
template <class Pixel>
void load_fashion_mnist_split(const std::string& dir, const std::string& prefix, Matrix<Pixel>& images,
                              Labels& labels) {
  const std::string image_path = fashion_mnist_file(dir, prefix + "-images-idx3-ubyte");
  const std::string label_path = fashion_mnist_file(dir, prefix + "-labels-idx1-ubyte");
  const NdArray image_array = read_idx(image_path);
  const NdArray label_array = read_idx(label_path);
  const auto& shape = image_array.shape();
  if (image_array.dtype() != "|u1" || shape.size() != 3 || shape[1] != 28 || shape[2] != 28)
    throw FormatError("'" + image_path + "': expected ubyte images of shape [N, 28, 28], found " +
                      image_array.dtype() + " " + shape_text(shape));
  if (label_array.dtype() != "|u1" || label_array.shape() != std::vector<Index>{shape[0]})
    throw FormatError("'" + label_path + "': expected " + std::to_string(shape[0]) + " ubyte labels, found " +
                      label_array.dtype() + " " + shape_text(label_array.shape()));
  images = image_array.to_matrix<Pixel>(image_path);
  if constexpr (std::is_floating_point_v<Pixel>) images /= Pixel(255);
  const std::vector<std::int32_t> ids = label_array.to_vector<std::int32_t>(label_path);
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (ids[i] > 9)
      throw FormatError("'" + label_path + "': label " + std::to_string(i) + " is " + std::to_string(ids[i]) +
                        ", expected a class id 0..9");
  labels = Labels::from_class_ids(ids, 10);
}

template <class Pixel>
FashionMnistOf<Pixel> load_fashion_mnist_as(const std::string& dir) {
  FashionMnistOf<Pixel> data;
  data.dir = fashion_mnist_dir(dir);
  load_fashion_mnist_split(data.dir, "train", data.train_images, data.train_labels);
  load_fashion_mnist_split(data.dir, "t10k", data.test_images, data.test_labels);
  return data;
}

}  // namespace detail

/// Fashion-MNIST with raw pixel values 0..255 (784 x 60000 and 784 x 10000).
inline FashionMnistRaw load_fashion_mnist_raw(const std::string& dir = "") {
  return detail::load_fashion_mnist_as<std::uint8_t>(dir);
}

/// Fashion-MNIST with pixels scaled to [0, 1] (value / 255). `dir` empty: the folder in
/// RLHASH_FASHION_MNIST_DIR, else Debian's /usr/share/datasets/fashion-mnist. A missing file is an
/// IoError that says how to install the data.
inline FashionMnist load_fashion_mnist(const std::string& dir = "") {
  return detail::load_fashion_mnist_as<float>(dir);
}

}  // namespace rlhash
