// Image augmentation: shifts and mirror images checked pixel by pixel on hand-made images, the
// draws' range and independence from the batch, and the settings refused with a clear message.
#include <catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "rlhash/data/image_augmentation.hpp"

namespace rlhash::test_image_augmentation {

namespace {
/// A height x width image with `channels` values per pixel, value = 1 + index (never 0).
Vector<double> numbered_image(Index height, Index width, Index channels) {
  Vector<double> image(height * width * channels);
  for (Index i = 0; i < image.size(); ++i) image(i) = static_cast<double>(i + 1);
  return image;
}

ImageAugmentation shape(Index height, Index width, Index channels = 1) {
  ImageAugmentation a;
  a.height = height;
  a.width = width;
  a.channels = channels;
  return a;
}
}  // namespace

TEST_CASE("augmentation: a shift moves pixels down and right and fills with 0", "[data][augmentation]") {
  const ImageAugmentation a = shape(2, 3);
  // 1 2 3      0 0 0
  // 4 5 6  ->  0 1 2   (dy = 1, dx = 1)
  const Vector<double> out = transform_image<double>(a, {1, 1, false}, numbered_image(2, 3, 1));
  CHECK(out == (Vector<double>(6) << 0, 0, 0, 0, 1, 2).finished());
  // dy = -1, dx = -2: pixel (0, 0) reads (1, 2).
  const Vector<double> up_left = transform_image<double>(a, {-1, -2, false}, numbered_image(2, 3, 1));
  CHECK(up_left == (Vector<double>(6) << 6, 0, 0, 0, 0, 0).finished());
}

TEST_CASE("augmentation: a mirror image reverses each row, then the shift applies", "[data][augmentation]") {
  const ImageAugmentation a = shape(2, 3);
  CHECK(transform_image<double>(a, {0, 0, true}, numbered_image(2, 3, 1)) ==
        (Vector<double>(6) << 3, 2, 1, 6, 5, 4).finished());
  // Mirrored, then moved one pixel right: 0 3 2 / 0 6 5.
  CHECK(transform_image<double>(a, {0, 1, true}, numbered_image(2, 3, 1)) ==
        (Vector<double>(6) << 0, 3, 2, 0, 6, 5).finished());
}

TEST_CASE("augmentation: the channels of a pixel move together", "[data][augmentation]") {
  const ImageAugmentation a = shape(1, 2, 3);
  // Pixels (1 2 3) (4 5 6), mirrored: (4 5 6) (1 2 3).
  CHECK(transform_image<double>(a, {0, 0, true}, numbered_image(1, 2, 3)) ==
        (Vector<double>(6) << 4, 5, 6, 1, 2, 3).finished());
  CHECK(transform_image<double>(a, {0, 1, false}, numbered_image(1, 2, 3)) ==
        (Vector<double>(6) << 0, 0, 0, 1, 2, 3).finished());
}

TEST_CASE("augmentation: draws cover the range, depend on (key, item) only", "[data][augmentation]") {
  ImageAugmentation a = shape(28, 28);
  a.max_shift = 2;
  a.horizontal_flip = true;
  std::set<int> dys, dxs;
  int flips = 0;
  const int items = 2000;
  for (Index item = 0; item < items; ++item) {
    const ImageTransform t = draw_image_transform(a, 42, item);
    dys.insert(t.dy);
    dxs.insert(t.dx);
    flips += t.flip ? 1 : 0;
  }
  CHECK(dys == std::set<int>{-2, -1, 0, 1, 2});
  CHECK(dxs == std::set<int>{-2, -1, 0, 1, 2});
  CHECK(flips > items * 2 / 5);
  CHECK(flips < items * 3 / 5);

  // A batch and its second half alone (what one of two replicas holds) get the same images.
  const std::vector<Index> batch = {7, 3, 11, 5};
  Matrix<float> x(784, 4);
  for (Index j = 0; j < 4; ++j)
    x.col(j) = numbered_image(28, 28, 1).cast<float>() * static_cast<float>(j + 1);
  Matrix<float> whole = x;
  augment_images<float>(a, 42, batch, whole);
  Matrix<float> half = x.rightCols(2);
  augment_images<float>(a, 42, {11, 5}, half);
  CHECK(half == whole.rightCols(2));
  // Another key draws other transforms for the same items.
  Matrix<float> other = x;
  augment_images<float>(a, 43, batch, other);
  CHECK(other != whole);
  // Without a shift no draw shifts; off leaves the batch as it is.
  a.max_shift = 0;
  for (Index item = 0; item < 100; ++item) CHECK(draw_image_transform(a, 1, item).dy == 0);
  a.horizontal_flip = false;
  Matrix<float> untouched = x;
  augment_images<float>(a, 42, batch, untouched);
  CHECK(untouched == x);
}

TEST_CASE("augmentation: unusable settings are refused naming what is wrong", "[data][augmentation]") {
  const auto message_of = [](const ImageAugmentation& a, Index dims) -> std::string {
    try {
      a.validate(dims, "--image-shape");
    } catch (const InvalidArgument& e) {
      return e.what();
    }
    return "";
  };
  ImageAugmentation a = shape(28, 28);
  CHECK(message_of(a, 5).empty());  // off: nothing to check
  a.max_shift = 2;
  CHECK(message_of(a, 784).empty());
  CHECK(message_of(a, 785).find("28x28x1 has 784 values, the features have 785") != std::string::npos);
  a.max_shift = 28;
  CHECK(message_of(a, 784).find("leaves nothing") != std::string::npos);
  a = shape(0, 28);
  a.horizontal_flip = true;
  CHECK(message_of(a, 784).find("needs the image shape") != std::string::npos);
  a = shape(28, 28);
  a.max_shift = -1;
  CHECK(message_of(a, 784).find("must be >= 0") != std::string::npos);
}

}  // namespace rlhash::test_image_augmentation
