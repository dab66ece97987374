// SDH and KSH on well-separated Gaussian classes: items of one class must get closer codes than
// items of different classes, on the training set and on unseen items.
#include <catch.hpp>
#include <test_util.hpp>

#include "hasher_test_util.hpp"

#include <bitset>

#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/methods/baselines/kernel_features.hpp"
#include "rlhash/methods/baselines/ksh.hpp"
#include "rlhash/methods/baselines/sdh.hpp"
#include "rlhash/methods/lsh.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_baselines_supervised {
using test::check_damaged_parameters_rejected;
using test::round_trip;

namespace {

struct Classes {
  MatrixF train, test;
  std::vector<std::int32_t> train_ids, test_ids;
  Labels train_labels, test_labels;
};

// `classes` Gaussian blobs (sd 1) in `dims` dimensions with centres drawn at sd 3, so classes
// are well apart; the same centres for the training and the unseen items.
Classes gaussian_classes(int classes, Index dims, Index train_per_class, Index test_per_class,
                         std::uint64_t seed) {
  Rng rng(seed);
  MatrixF centres(dims, classes);
  for (Index i = 0; i < centres.size(); ++i)
    centres.data()[i] = static_cast<float>(3.0 * standard_normal(rng));
  Classes out;
  auto draw = [&](Index per_class, MatrixF& x, std::vector<std::int32_t>& ids) {
    x.resize(dims, per_class * classes);
    for (Index i = 0; i < x.cols(); ++i) {
      const auto c = static_cast<std::int32_t>(i % classes);
      for (Index d = 0; d < dims; ++d) x(d, i) = centres(d, c) + static_cast<float>(standard_normal(rng));
      ids.push_back(c);
    }
  };
  draw(train_per_class, out.train, out.train_ids);
  draw(test_per_class, out.test, out.test_ids);
  out.train_labels = Labels::from_class_ids(out.train_ids, classes);
  out.test_labels = Labels::from_class_ids(out.test_ids, classes);
  return out;
}

int hamming(const BinaryCodes& a, Index i, const BinaryCodes& b, Index j) {
  int d = 0;
  for (int w = 0; w < a.words(); ++w)
    d += static_cast<int>(std::bitset<64>(a.row(i)[w] ^ b.row(j)[w]).count());
  return d;
}

struct Separation {
  double same = 0, different = 0;  // mean Hamming distance
  double nearest_accuracy = 0;     // queries whose nearest item (first on ties) shares the label
};

// Mean distances from each query to the items that share / do not share its label.
Separation separation(const BinaryCodes& queries, const Labels& query_labels, const BinaryCodes& items,
                      const Labels& item_labels) {
  double same = 0, different = 0;
  Index n_same = 0, n_different = 0, correct = 0;
  for (Index q = 0; q < queries.size(); ++q) {
    int best = 1 << 30;
    bool best_relevant = false;
    for (Index i = 0; i < items.size(); ++i) {
      const int d = hamming(queries, q, items, i);
      const bool relevant = query_labels.relevant(q, item_labels, i);
      (relevant ? same : different) += d;
      ++(relevant ? n_same : n_different);
      if (d < best) best = d, best_relevant = relevant;
    }
    correct += best_relevant;
  }
  return {same / static_cast<double>(n_same), different / static_cast<double>(n_different),
          static_cast<double>(correct) / static_cast<double>(queries.size())};
}

template <class H>
void check_bad_input(const H& fitted, const typename H::Config& config, const Classes& data) {
  CHECK_THROWS_AS(fitted.encode(MatrixF::Zero(data.train.rows() + 1, 2)), InvalidArgument);
  CHECK_THROWS_AS(H(config).encode(data.train), StateError);
  H unfitted(config);
  CHECK_THROWS_AS(unfitted.fit(data.train, Labels{}), InvalidArgument);  // supervised: labels required
  CHECK_THROWS_AS(unfitted.fit(data.train, data.test_labels), InvalidArgument);  // wrong count
  auto zero_bits = config;
  zero_bits.bits = 0;
  CHECK_THROWS_AS(H(zero_bits), InvalidArgument);
}

}  // namespace

TEST_CASE("RBF anchor features: width, centring, and a save/load round trip", "[methods][kernel]") {
  const Classes data = gaussian_classes(3, 5, 40, 5, 1);
  Rng rng(2);
  RbfAnchorFeatures kernel;
  const MatrixF train = kernel.fit(data.train, 30, rng, KernelWidth::mean_squared_distance, true);
  CHECK(kernel.size() == 30);
  CHECK(train.rows() == 30);
  CHECK(train.cols() == 120);
  CHECK(train.rowwise().mean().cwiseAbs().maxCoeff() < 1e-5);  // zero-centred on training data
  CHECK(kernel.transform(data.train).isApprox(train, 1e-5f));
  // An anchor's own feature is exp(0) = 1 minus the mean: the largest value in its row.
  const MatrixF at_anchors = kernel.transform(kernel.anchors());
  for (Index j = 0; j < 30; ++j) CHECK(at_anchors(j, j) >= at_anchors.row(j).maxCoeff() - 1e-6f);
  ByteWriter out;
  kernel.save(out);
  RbfAnchorFeatures back;
  ByteReader in(out.bytes().data(), out.bytes().size(), "kernel");
  back.load(in);
  CHECK(back.transform(data.test) == kernel.transform(data.test));
  CHECK(back.two_sigma_squared() == kernel.two_sigma_squared());
  Rng other(2);
  RbfAnchorFeatures fewer;
  fewer.fit(data.train.leftCols(10), 30, other, KernelWidth::mean_distance, false);
  CHECK(fewer.size() == 10);  // no more anchors than training items
}

TEST_CASE("SDH's objective never increases and its codes separate classes", "[methods][sdh]") {
  const Classes data = gaussian_classes(5, 20, 80, 20, 7);
  Sdh::Config config;
  config.bits = 16;
  config.seed = 3;
  config.anchors = 150;
  Sdh sdh(config);
  sdh.fit(data.train, data.train_labels);
  const auto& objective = sdh.objective();
  REQUIRE(objective.size() == 6);
  for (std::size_t t = 1; t < objective.size(); ++t) CHECK(objective[t] <= objective[t - 1] * (1 + 1e-10));
  CHECK(objective.back() < 0.5 * objective.front());  // from random codes to label-fitting ones

  const BinaryCodes train_codes = sdh.encode(data.train);
  const BinaryCodes test_codes = sdh.encode(data.test);
  const Separation on_train = separation(train_codes, data.train_labels, train_codes, data.train_labels);
  const Separation unseen = separation(test_codes, data.test_labels, train_codes, data.train_labels);
  CHECK(on_train.same < 0.3 * on_train.different);
  CHECK(unseen.same < 0.3 * unseen.different);
  CHECK(unseen.nearest_accuracy > 0.95);

  Sdh again(config);
  again.fit(data.train, data.train_labels);
  CHECK(again.encode(data.test) == test_codes);
  const Sdh back = round_trip(sdh);
  CHECK(back.encode(data.test) == test_codes);
  check_damaged_parameters_rejected(sdh);
  check_bad_input(sdh, config, data);
}

TEST_CASE("SDH learns from multi-hot labels", "[methods][sdh]") {
  // Items of four blobs; blob c carries labels {c, c + 1 mod 4}, so blobs 0 and 2 share none.
  const Classes blobs = gaussian_classes(4, 12, 60, 15, 9);
  auto multi_hot = [](const std::vector<std::int32_t>& ids) {
    std::vector<std::uint8_t> hot(ids.size() * 4, 0);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      hot[i * 4 + static_cast<std::size_t>(ids[i])] = 1;
      hot[i * 4 + static_cast<std::size_t>((ids[i] + 1) % 4)] = 1;
    }
    return Labels::from_multi_hot(hot.data(), static_cast<Index>(ids.size()), 4);
  };
  const Labels train_labels = multi_hot(blobs.train_ids);
  const Labels test_labels = multi_hot(blobs.test_ids);
  Sdh::Config config;
  config.bits = 16;
  config.anchors = 100;
  Sdh sdh(config);
  sdh.fit(blobs.train, train_labels);
  for (std::size_t t = 1; t < sdh.objective().size(); ++t)
    CHECK(sdh.objective()[t] <= sdh.objective()[t - 1] * (1 + 1e-10));
  const Separation unseen =
      separation(sdh.encode(blobs.test), test_labels, sdh.encode(blobs.train), train_labels);
  CHECK(unseen.same < 0.6 * unseen.different);
}

TEST_CASE("KSH fits the label similarities and separates classes", "[methods][ksh]") {
  const Classes data = gaussian_classes(5, 20, 80, 20, 17);
  Ksh::Config config;
  config.bits = 12;
  config.seed = 4;
  config.anchors = 100;
  config.labelled = 300;
  Ksh ksh(config);
  ksh.fit(data.train, data.train_labels);
  REQUIRE(ksh.bit_scores().size() == 12);
  // The first bit explains much of r (2 S0 - 1): a split of the classes scores far above 0.
  CHECK(ksh.bit_scores()[0] > 0.0);

  const BinaryCodes train_codes = ksh.encode(data.train);
  const BinaryCodes test_codes = ksh.encode(data.test);
  // Eq. (4) on the training set, ||B B^T - r S||^2 / n^2, against LSH codes of the same length.
  auto code_fit = [&](const BinaryCodes& codes) {
    const MatrixF b = codes.unpack(true);
    double sum = 0;
    for (Index i = 0; i < codes.size(); ++i)
      for (Index j = 0; j < codes.size(); ++j) {
        const double s = data.train_labels.relevant(i, data.train_labels, j) ? 1.0 : -1.0;
        sum += std::pow(b.col(i).dot(b.col(j)) - 12.0 * s, 2);
      }
    return sum / static_cast<double>(codes.size() * codes.size());
  };
  // The best any 12-bit codes can do here: a different-class pair at distance d costs
  // (12 - 2d + 12)^2 = 4 (12 - d)^2. Per bit, the fraction of different-class pairs split is
  // multilinear in the classes' fractions of ones, so at most its vertex value w (5 - w) / 10
  // <= 6/10: the mean different-class distance is <= 7.2, and by convexity (Jensen) the error is
  // >= (4/5) 4 (12 - 7.2)^2 = 73.73 (4/5 of the n^2 pairs differ in class). KSH must come within
  // 10% of that bound, and beat LSH clearly.
  Lsh lsh({12, 4});
  lsh.fit(data.train);
  const double bound = 0.8 * 4.0 * (12.0 - 7.2) * (12.0 - 7.2);
  const double ksh_fit = code_fit(train_codes);
  CHECK(ksh_fit >= bound - 1e-9);
  CHECK(ksh_fit < 1.1 * bound);
  CHECK(ksh_fit < 0.85 * code_fit(lsh.encode(data.train)));

  const Separation unseen = separation(test_codes, data.test_labels, train_codes, data.train_labels);
  CHECK(unseen.same < 0.3 * unseen.different);
  CHECK(unseen.nearest_accuracy > 0.95);

  Ksh again(config);
  again.fit(data.train, data.train_labels);
  CHECK(again.encode(data.test) == test_codes);
  const Ksh back = round_trip(ksh);
  CHECK(back.encode(data.test) == test_codes);
  check_damaged_parameters_rejected(ksh);
  check_bad_input(ksh, config, data);
}

TEST_CASE("SDH and KSH config fields reach the hashers through AnyHasher", "[methods][sdh][ksh]") {
  AnyHasher sdh{Sdh()};
  sdh.set("anchors", "20");
  sdh.set("nu", "0.001");
  CHECK(sdh.target<Sdh>()->config().anchors == 20);
  CHECK(sdh.target<Sdh>()->config().nu == 0.001);
  CHECK_THROWS_AS(sdh.set("nu", "-1"), InvalidArgument);
  AnyHasher ksh{Ksh()};
  ksh.set("labelled", "50");
  ksh.set("gd_iterations", "0");  // spectral relaxation only
  ksh.set("bits", "8");
  const Classes data = gaussian_classes(3, 6, 30, 5, 2);
  ksh.fit(data.train, data.train_labels);
  CHECK(ksh.target<Ksh>()->refined_bits() == 0);
  CHECK(ksh.encode(data.test).bits() == 8);
}

}  // namespace rlhash::test_baselines_supervised
