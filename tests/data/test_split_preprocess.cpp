#include <catch.hpp>

#include <algorithm>
#include <set>

#include "rlhash/data/preprocess.hpp"
#include "rlhash/data/split.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_split_preprocess {

namespace {
Labels cycling_labels(Index n, int classes) {
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) ids[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % classes);
  return Labels::from_class_ids(ids, classes);
}
void check_disjoint(const std::vector<Index>& a, const std::vector<Index>& b) {
  std::vector<Index> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  CHECK(both.empty());
}
}  // namespace

TEST_CASE("per-class split: sizes, disjointness, determinism", "[data][split]") {
  const Labels labels = cycling_labels(1000, 10);
  SplitConfig config;
  config.queries_per_class = 5;
  config.train_per_class = 20;
  config.val_per_class = 4;
  config.seed = 3;
  const Split split = split_dataset(labels, config);
  CHECK(split.queries.size() == 50);
  CHECK(split.database.size() == 950);
  CHECK(split.train.size() == 160);
  CHECK(split.validation.size() == 40);
  check_disjoint(split.queries, split.database);
  check_disjoint(split.train, split.validation);
  check_disjoint(split.queries, split.train);
  for (int c = 0; c < 10; ++c) {
    CHECK(std::count_if(split.queries.begin(), split.queries.end(),
                        [&](Index i) { return labels.has(i, c); }) == 5);
    CHECK(std::count_if(split.train.begin(), split.train.end(), [&](Index i) { return labels.has(i, c); }) ==
          16);
  }
  CHECK(std::is_sorted(split.train.begin(), split.train.end()));
  const Split again = split_dataset(labels, config);
  CHECK(again.queries == split.queries);
  CHECK(again.train == split.train);
  config.seed = 4;
  CHECK(split_dataset(labels, config).queries != split.queries);
}

TEST_CASE("the split for a fixed seed is fixed (a change in it must be noticed)", "[data][split]") {
  const Labels labels = cycling_labels(40, 2);
  SplitConfig config;
  config.queries_per_class = 2;
  config.train_per_class = 3;
  config.val_per_class = 1;
  config.seed = 0;
  const Split split = split_dataset(labels, config);
  // Recorded from this implementation (mt19937_64, Lemire bounded draws, partial Fisher-Yates).
  CHECK(split.queries == std::vector<Index>{1, 6, 25, 38});
  CHECK(split.train == std::vector<Index>{2, 26, 35, 37});
  CHECK(split.validation == std::vector<Index>{17, 20});
}

TEST_CASE("separate query pool and random protocol", "[data][split]") {
  const Labels test_pool = cycling_labels(100, 10);
  const Labels train_pool = cycling_labels(600, 10);
  SplitConfig config;
  config.queries_per_class = 3;
  config.train_per_class = 10;
  config.val_per_class = 2;
  const Split split = split_dataset(test_pool, train_pool, config);
  CHECK(split.queries.size() == 30);
  CHECK(split.database.size() == 600);
  CHECK(split.train.size() == 80);
  CHECK(split.validation.size() == 20);
  check_disjoint(split.train, split.validation);

  config.per_class = false;
  config.random_queries = 17;
  config.random_train = 50;
  config.random_val = 5;
  const Split random = split_dataset(train_pool, config);
  CHECK(random.queries.size() == 17);
  CHECK(random.database.size() == 583);
  CHECK(random.train.size() == 45);
  CHECK(random.validation.size() == 5);
  check_disjoint(random.queries, random.train);
  config.random_queries = 1000;
  CHECK_THROWS_AS(split_dataset(train_pool, config), InvalidArgument);
}

TEST_CASE("multi-label split: an item goes to the first class that draws it", "[data][split]") {
  std::vector<std::uint8_t> hot;
  for (int i = 0; i < 60; ++i) {
    hot.push_back(1);                                 // every item has class 0
    hot.push_back(static_cast<std::uint8_t>(i % 2));  // half also class 1
  }
  const Labels labels = Labels::from_multi_hot(hot.data(), 60, 2);
  SplitConfig config;
  config.queries_per_class = 4;
  config.train_per_class = 6;
  config.val_per_class = 1;
  const Split split = split_dataset(labels, config);
  CHECK(split.queries.size() == 8);
  CHECK(std::set<Index>(split.queries.begin(), split.queries.end()).size() == 8);
  CHECK(split.train.size() + split.validation.size() == 12);
}

TEST_CASE("preprocessing: centering, PCA, L2 and errors", "[data][preprocess]") {
  Rng rng(5);
  MatrixF x(6, 500);
  for (Index i = 0; i < x.cols(); ++i) {
    const double a = standard_normal(rng) * 5, b = standard_normal(rng);
    for (Index d = 0; d < 6; ++d) x(d, i) = static_cast<float>(a * (d + 1) + b * (d % 2 ? 1 : -1) + 10);
  }
  Preprocessor pca({1.0, true, 2, false});
  pca.fit(x);
  const MatrixF y = pca.apply(x);
  CHECK(y.rows() == 2);
  CHECK(y.rowwise().mean().norm() < 1e-3);
  // The first component carries most of the variance, the components are uncorrelated.
  const double v0 = y.row(0).squaredNorm(), v1 = y.row(1).squaredNorm();
  CHECK(v0 > 10 * v1);
  CHECK(std::abs(y.row(0).dot(y.row(1))) < 1e-2 * std::sqrt(v0 * v1));

  Preprocessor l2({2.0, false, 0, true});
  l2.fit(x);
  const MatrixF z = l2.apply(x);
  for (Index i = 0; i < 10; ++i) CHECK(z.col(i).norm() == Approx(1.0f).epsilon(1e-5));

  CHECK_THROWS_AS(pca.apply(MatrixF::Zero(5, 2)), InvalidArgument);
  CHECK_THROWS_AS(Preprocessor({1.0, false, 7, false}).fit(x), InvalidArgument);
  CHECK_THROWS_AS(Preprocessor().apply(x), StateError);
}

}  // namespace rlhash::test_split_preprocess
