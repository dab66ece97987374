// The classifier baseline of DRLH: predicted class -> that class's BCH codeword.
#include <catch.hpp>
#include "hasher_test_util.hpp"

#include <limits>
#include <string>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/methods/bch_classifier.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_bch_classifier {

namespace {

using Toy = test::FourBlobs;
Toy make_toy(Index per_class, std::uint64_t seed) { return test::four_blobs(per_class, seed, 0.3); }

BchClassifier::Config toy_config() {
  BchClassifier::Config c;
  c.bits = 12;
  c.seed = 5;
  c.hidden = 16;
  c.epochs = 30;
  c.batch_size = 8;
  c.learning_rate = 1e-2;
  c.encode_batch = 7;  // several chunks
  return c;
}

using test::words_of;

}  // namespace

TEST_CASE("bch-classifier codes each item as its predicted class's DRLH codeword",
          "[bch-classifier][methods]") {
  const Toy train = make_toy(10, 1), test = make_toy(8, 2);
  BchClassifier h(toy_config());
  h.fit(train.x, train.labels);
  const std::vector<int> predicted = h.classify(test.x);
  int correct = 0;
  for (Index i = 0; i < test.x.cols(); ++i)
    correct += predicted[static_cast<std::size_t>(i)] == test.labels.first_label(i);
  CHECK(correct >= 30);  // of 32: the classes are separable

  // The codewords are DRLH's label embedding (the default spread fill) for the same classes,
  // bits and seed.
  const LabelEmbedding drlh_embedding(4, 12, 5, LabelCodeFill::spread);
  for (int c = 0; c < 4; ++c)
    CHECK(h.embedding().codewords().row(c)[0] == drlh_embedding.codewords().row(c)[0]);
  const BinaryCodes codes = h.encode(test.x);
  REQUIRE(codes.size() == test.x.cols());
  REQUIRE(codes.bits() == 12);
  for (Index i = 0; i < codes.size(); ++i)
    CHECK(codes.row(i)[0] == drlh_embedding.codewords().row(predicted[static_cast<std::size_t>(i)])[0]);
}

TEST_CASE("bch-classifier keeps the best validation epoch, is reproducible, and saves its model",
          "[bch-classifier][methods]") {
  const std::string source = GENERATE(std::string("input"), std::string("fc-triplet"));
  INFO("representation = " << source);
  const Toy train = make_toy(6, 3), val = make_toy(4, 4), test = make_toy(5, 5);
  auto c = toy_config();
  c.epochs = 6;
  c.representation = source;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 8;
  const FitOptions options = test::validating_on(val);
  BchClassifier a(c), b(c);
  a.fit(train.x, train.labels, options);
  b.fit(train.x, train.labels, options);
  REQUIRE(a.last_result().has_best);
  CHECK(a.last_result().best_metric >= 0.0);
  CHECK(a.last_result().best_metric <= 1.0);
  CHECK(a.input_dim() == 12);
  CHECK(a.representation().empty() == (source == "input"));
  const auto codes = words_of(a.encode(test.x));
  CHECK(codes == words_of(b.encode(test.x)));

  CHECK(codes == words_of(test::round_trip(a).encode(test.x)));
  test::check_damaged_parameters_rejected(a);
  CHECK_THROWS_AS(BchClassifier(c).encode(test.x), StateError);
  CHECK_THROWS_AS(a.encode(MatrixF::Zero(8, 2)), InvalidArgument);
}

TEST_CASE("bch-classifier with the paper's label code emits the paper's codewords",
          "[bch-classifier][methods]") {
  const Toy train = make_toy(6, 3), test = make_toy(2, 4);
  auto c = toy_config();
  c.epochs = 2;
  c.label_code = "paper";
  BchClassifier h(c);
  h.fit(train.x, train.labels);
  const LabelEmbedding expected(4, 12, 5);
  CHECK(h.embedding().codewords() == expected.codewords());
  CHECK_FALSE(expected.codewords() == LabelEmbedding(4, 12, 5, LabelCodeFill::spread).codewords());
  const BchClassifier loaded = test::round_trip(h);
  CHECK(loaded.config().label_code == "paper");
  CHECK(words_of(loaded.encode(test.x)) == words_of(h.encode(test.x)));
}

TEST_CASE("bch-classifier rejects bad configs and data", "[bch-classifier][methods]") {
  auto c = toy_config();
  c.label_code = "random";
  CHECK_THROWS_WITH(BchClassifier(c), Catch::Contains("bch-classifier: label_code"));
  c = toy_config();
  c.dropout = 1.0;
  CHECK_THROWS_AS(BchClassifier(c), InvalidArgument);
  c = toy_config();
  c.representation = "cnn";
  CHECK_THROWS_AS(BchClassifier(c), InvalidArgument);
  c = toy_config();
  c.hidden = 0;
  CHECK_THROWS_AS(BchClassifier(c), InvalidArgument);
  const Toy toy = make_toy(2, 1);
  BchClassifier h(toy_config());
  const std::vector<std::uint8_t> multi_hot = {1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1,
                                               1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  CHECK_THROWS_AS(h.fit(toy.x, Labels::from_multi_hot(multi_hot.data(), 8, 4)), InvalidArgument);
  CHECK_THROWS_AS(h.fit(toy.x, Labels::from_class_ids({0, 1}, 2)), InvalidArgument);
  MatrixF bad = toy.x;
  bad(0, 0) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(h.fit(bad, toy.labels), InvalidArgument);
}

}  // namespace rlhash::test_bch_classifier
