// Labels and features from hostile files: huge class ids, non-finite and zero-width features.
#include <catch.hpp>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "rlhash/data/finite.hpp"
#include "rlhash/data/labels.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hostile_labels {

namespace {
std::string invalid_argument_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  FAIL("no InvalidArgument thrown");
  return {};
}
}  // namespace

TEST_CASE("labels: class ids beyond the class limit are refused, never overflow", "[data][labels]") {
  const int max = std::numeric_limits<std::int32_t>::max();
  CHECK(invalid_argument_of([&] {
          Labels::from_class_ids({0, 1, max});
        }) ==
        "labels: class id of item 2 is 2147483647, expected < 65536 (class ids must be dense: 0 .. classes - "
        "1)");
  CHECK_THAT(invalid_argument_of([&] {
               Labels::from_class_ids({0, max - 1});
             }),
             Catch::Contains("2147483646"));
  CHECK_THAT(invalid_argument_of([&] { Labels::from_class_ids({100000000}); }), Catch::Contains("100000000"));
  CHECK_THAT(invalid_argument_of([&] { Labels::from_class_ids({0}, 70000); }),
             Catch::Contains("at most 65536"));
  CHECK_THAT(invalid_argument_of([&] {
               Labels::from_class_ids({0, 3}, 2);
             }),
             Catch::Contains("expected < 2"));
  const Labels largest = Labels::from_class_ids({0, Labels::max_classes - 1});
  CHECK(largest.num_classes() == Labels::max_classes);
  CHECK(largest.first_label(1) == Labels::max_classes - 1);
  const std::uint8_t hot[2] = {1, 0};
  CHECK_THAT(invalid_argument_of([&] { Labels::from_multi_hot(hot, 1, Labels::max_classes + 1); }),
             Catch::Contains("class columns"));
}

TEST_CASE("features: the first non-finite value is named by row and column", "[data]") {
  MatrixF x = MatrixF::Ones(3, 5);  // 5 items of 3 dimensions
  CHECK_NOTHROW(require_finite(x, "x.npy"));
  x(2, 1) = std::numeric_limits<float>::quiet_NaN();
  x(0, 4) = std::numeric_limits<float>::infinity();
  CHECK(invalid_argument_of([&] { require_finite(x, "x.npy"); }) ==
        "'x.npy': row 1, column 2 is nan, expected finite features (NaN and infinity are refused)");
  x(2, 1) = 0;
  CHECK_THAT(invalid_argument_of([&] { require_finite(x, "x.npy"); }),
             Catch::Contains("row 4, column 0 is inf"));
  CHECK(invalid_argument_of([] { require_dimensions(MatrixF(0, 200), "z.npy"); }) ==
        "'z.npy': 200 items of 0 dimensions, expected at least 1 feature column");
  CHECK_NOTHROW(require_dimensions(MatrixF(0, 0), "empty.npy"));
}

}  // namespace rlhash::test_hostile_labels
