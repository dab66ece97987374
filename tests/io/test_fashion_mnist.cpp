#include <catch.hpp>
#include <test_util.hpp>

#include <cstdlib>
#include <filesystem>

#include "rlhash/data/fashion_mnist.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_fashion_mnist {
using test::require_error;

namespace {
std::string big_endian(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}
/// A tiny Fashion-MNIST look-alike: `n` images whose pixels are all `i`, labels i % 10.
void write_fake_split(const test::TempDir& dir, const std::string& prefix, std::uint32_t n,
                      int bad_label = -1) {
  std::string images = std::string("\x00\x00\x08\x03", 4) + big_endian(n) + big_endian(28) + big_endian(28);
  std::string labels = std::string("\x00\x00\x08\x01", 4) + big_endian(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    images += std::string(784, static_cast<char>(i));
    labels += static_cast<char>(static_cast<int>(i) == bad_label ? 10 : i % 10);
  }
  test::write_bytes(dir.file(prefix + "-images-idx3-ubyte"), images);
  test::write_bytes(dir.file(prefix + "-labels-idx1-ubyte"), labels);
}
/// Sets an environment variable for one scope.
struct ScopedEnv {
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }
  const char* name_;
  std::string old_;
  bool had_ = false;
};
}  // namespace

TEST_CASE("fashion-mnist: the installed dataset loads with its known sizes", "[io][fashion]") {
  const std::string installed = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(installed)) {
    WARN("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist): nothing to check");
    return;
  }
  const ScopedEnv no_override("RLHASH_FASHION_MNIST_DIR", "");
  const FashionMnist data = load_fashion_mnist();
  CHECK(data.dir == "/usr/share/datasets/fashion-mnist");
  CHECK(data.train_images.rows() == 784);
  CHECK(data.train_images.cols() == 60000);
  CHECK(data.test_images.rows() == 784);
  CHECK(data.test_images.cols() == 10000);
  CHECK(data.train_labels.size() == 60000);
  CHECK(data.test_labels.size() == 10000);
  CHECK(data.train_labels.num_classes() == 10);
  CHECK(data.test_labels.is_single_label());
  CHECK(data.train_images.minCoeff() == 0.0F);
  CHECK(data.train_images.maxCoeff() == 1.0F);
  // The dataset is balanced: 6000 training and 1000 test images per class.
  std::vector<int> train_counts(10), test_counts(10);
  for (Index i = 0; i < 60000; ++i)
    ++train_counts[static_cast<std::size_t>(data.train_labels.first_label(i))];
  for (Index i = 0; i < 10000; ++i) ++test_counts[static_cast<std::size_t>(data.test_labels.first_label(i))];
  CHECK(train_counts == std::vector<int>(10, 6000));
  CHECK(test_counts == std::vector<int>(10, 1000));
  // The first training image is an ankle boot (class 9) in the published files.
  CHECK(data.train_labels.first_label(0) == 9);
  CHECK(std::string(fashion_mnist_class_names()[9]) == "Ankle boot");
}

TEST_CASE("fashion-mnist: raw pixels, an explicit folder and the environment variable", "[io][fashion]") {
  test::TempDir dir;
  write_fake_split(dir, "train", 12);
  write_fake_split(dir, "t10k", 3);
  const FashionMnistRaw raw = load_fashion_mnist_raw(dir.path().string());
  CHECK(raw.train_images.rows() == 784);
  CHECK(raw.train_images.cols() == 12);
  CHECK(raw.train_images(100, 11) == 11);
  CHECK(raw.train_labels.first_label(11) == 1);
  CHECK(raw.test_images.cols() == 3);

  const ScopedEnv env("RLHASH_FASHION_MNIST_DIR", dir.path().string());
  const FashionMnist scaled = load_fashion_mnist();
  CHECK(scaled.dir == dir.path().string());
  CHECK(scaled.train_images(0, 5) == 5.0F / 255.0F);
  CHECK(scaled.test_labels.first_label(2) == 2);
}

TEST_CASE("fashion-mnist: a missing or damaged dataset explains itself", "[io][fashion]") {
  test::TempDir dir;
  require_error<IoError>([&] { load_fashion_mnist(dir.path().string()); },
                         {"apt-get install dataset-fashion-mnist", dir.path().string(),
                          "train-images-idx3-ubyte", "RLHASH_FASHION_MNIST_DIR"});
  {
    const ScopedEnv env("RLHASH_FASHION_MNIST_DIR", dir.file("nowhere"));
    require_error<IoError>([] { load_fashion_mnist(); },
                           {"nowhere", "apt-get install dataset-fashion-mnist"});
  }
  write_fake_split(dir, "train", 4, 2);
  write_fake_split(dir, "t10k", 1);
  require_error([&] { load_fashion_mnist(dir.path().string()); },
                {"train-labels-idx1-ubyte", "label 2 is 10"});
  write_fake_split(dir, "train", 4);
  test::write_bytes(dir.file("t10k-labels-idx1-ubyte"),
                    std::string("\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02", 10));
  require_error([&] { load_fashion_mnist(dir.path().string()); },
                {"t10k-labels-idx1-ubyte", "expected 1 ubyte labels", "[2]"});
}

}  // namespace rlhash::test_fashion_mnist
