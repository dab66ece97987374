#include <catch.hpp>
#include <test_util.hpp>

#include <string>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/lsh.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/methods/registry.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_lsh_model {

namespace {
MatrixF random_features(Index dims, Index n, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF x(dims, n);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(standard_normal(rng) + 3.0);
  return x;
}
}  // namespace

TEST_CASE("LSH codes are signs of centred projections and fixed by the seed", "[methods][lsh]") {
  const MatrixF x = random_features(20, 300, 1);
  Lsh lsh({16, 5});
  lsh.fit(x);
  const BinaryCodes codes = lsh.encode(x);
  CHECK(codes.size() == 300);
  CHECK(codes.bits() == 16);
  // Centred data gives each bit roughly half ones.
  const MatrixF bits = codes.unpack();
  for (Index j = 0; j < 16; ++j) {
    const double ones = bits.row(j).sum();
    CHECK(ones > 90);
    CHECK(ones < 210);
  }
  Lsh again({16, 5});
  again.fit(x);
  CHECK(again.encode(x) == codes);
  Lsh other({16, 6});
  other.fit(x);
  CHECK(other.encode(x) != codes);
  CHECK_THROWS_AS(lsh.encode(MatrixF::Zero(19, 3)), InvalidArgument);
  CHECK_THROWS_AS(Lsh({0, 1}), InvalidArgument);
  CHECK_THROWS_AS(Lsh({16, 1}).encode(x), StateError);
}

TEST_CASE("a model file round-trips and rejects damage", "[methods][model]") {
  test::TempDir dir;
  const MatrixF x = random_features(12, 200, 2);
  Model model;
  model.preprocessor = Preprocessor({0.5, true, 6, true});
  model.preprocessor.fit(x);
  model.hasher = make_hasher("lsh", 24, 9);
  model.hasher.fit(model.preprocessor.apply(x), Labels{});
  const auto path = dir.file("m.rlh");
  model.save(path);
  const Model back = Model::load(path);
  CHECK(back.hasher.method() == "lsh");
  CHECK(back.hasher.bits() == 24);
  CHECK(back.encode(x) == model.encode(x));

  auto bytes = read_file_bytes(path);
  SECTION("flipped byte") {
    bytes[bytes.size() / 2] ^= 0x01;
    write_file_atomic(path, bytes);
    CHECK_THROWS_AS(Model::load(path), FormatError);
  }
  SECTION("truncated") {
    bytes.resize(bytes.size() - 10);
    write_file_atomic(path, bytes);
    CHECK_THROWS_AS(Model::load(path), FormatError);
  }
  SECTION("foreign file") {
    write_file_atomic(path, std::vector<char>(100, 'x'));
    CHECK_THROWS_WITH(Model::load(path), Catch::Contains("m.rlh"));
  }
  SECTION("missing file") { CHECK_THROWS_AS(Model::load(dir.file("none.rlh")), IoError); }
  SECTION("overrides") {
    CHECK(Model::method_of(path) == "lsh");
    CHECK(Model::load(path, {{"seed", "9"}}).encode(x) == model.encode(x));  // parameters come from the file
    CHECK_THROWS_AS(Model::load(path, {{"bits", "16"}}), InvalidArgument);
    CHECK_THROWS_AS(Model::load(path, {{"no_such_field", "1"}}), InvalidArgument);
  }
}

TEST_CASE("the registry names methods and --set reaches config fields", "[methods]") {
  auto hasher = make_hasher("lsh", 32, 1);
  hasher.set("seed", "7");
  CHECK(hasher.config()[1].second == "7");
  CHECK_THROWS_WITH(hasher.set("sed", "7"), Catch::Contains("bits, seed"));
  CHECK_THROWS_WITH(make_hasher("nope", 32), Catch::Contains("lsh"));
}

TEST_CASE("a model file keeps what it was trained on; version 1 files still load", "[methods][model]") {
  test::TempDir dir;
  const MatrixF x = random_features(12, 100, 3);
  Model model;
  model.hasher = make_hasher("lsh", 16, 4);
  model.preprocessor.fit(x);
  model.hasher.fit(x, Labels{});
  model.training = {{"data", "blobs"}, {"train_items", "100"}};
  const auto path = dir.file("m2.rlh");
  model.save(path);
  const Model back = Model::load(path);
  CHECK(back.format_version == 2);
  CHECK(back.training == model.training);
  CHECK(back.encode(x) == model.encode(x));

  // The version 1 layout: the same fields without the training record.
  ByteWriter v1;
  v1.put_string(model.hasher.method());
  v1.put<std::int32_t>(model.hasher.bits());
  model.hasher.save_config(v1);
  model.preprocessor.save(v1);
  model.hasher.save(v1);
  const auto old_path = dir.file("m1.rlh");
  write_enveloped(old_path, {model_magic, 1}, v1.bytes());
  const Model old = Model::load(old_path);
  CHECK(old.format_version == 1);
  CHECK(old.training.empty());
  CHECK(old.encode(x) == model.encode(x));
}

TEST_CASE("image augmentation: the network methods apply it, the others refuse it",
          "[methods][augmentation]") {
  // 40 items of 4 x 4 images in 2 classes: a bright left or right half.
  MatrixF x = MatrixF::Zero(16, 40);
  std::vector<std::int32_t> ids(40);
  for (Index i = 0; i < 40; ++i) {
    ids[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 2);
    for (Index r = 0; r < 4; ++r)
      for (Index c = 0; c < 2; ++c) x(r * 4 + c + 2 * (i % 2), i) = 1.0f + 0.01f * static_cast<float>(i);
  }
  const Labels labels = Labels::from_class_ids(ids, 2);
  FitOptions augmented;
  augmented.augmentation.height = 4;
  augmented.augmentation.width = 4;
  augmented.augmentation.max_shift = 1;
  augmented.augmentation.horizontal_flip = true;

  const auto fitted_bytes = [&](const std::string& method, const FitOptions& options) {
    AnyHasher hasher = make_hasher(method, 8, 2);
    hasher.set("epochs", "2");
    // Small networks: the test is about the images the network sees, not about its size.
    for (const auto& [field, value] : hasher.config())
      if (field == "hidden1" || field == "hidden2" || field == "repr_hidden1" || field == "repr_hidden2" ||
          field == "repr_hidden" || field == "rnn_hidden")
        hasher.set(field, "8");
    hasher.fit(x, labels, options);
    ByteWriter out;
    hasher.save(out);
    return out.bytes();
  };
  for (const std::string method : {"dph", "fc-triplet", "drlih", "dsh"}) {
    INFO(method);
    // The same seed, other training images: other parameters; the same again: the same ones.
    CHECK(fitted_bytes(method, augmented) != fitted_bytes(method, {}));
    CHECK(fitted_bytes(method, augmented) == fitted_bytes(method, augmented));
  }
  for (const std::string method : {"lsh", "sdh", "drlh", "bch-classifier"}) {
    AnyHasher hasher = make_hasher(method, 8, 2);
    CHECK_THROWS_WITH(hasher.fit(x, labels, augmented),
                      Catch::Contains(method + " does not augment its training images"));
  }
  // Called directly (not through AnyHasher), the hashers with a representation trained inside
  // fit refuse too, before any training.
  CHECK_THROWS_WITH(Drlh(Drlh::Config{}).fit(x, labels, augmented),
                    Catch::Contains("drlh does not augment its training images"));
  CHECK_THROWS_WITH(BchClassifier(BchClassifier::Config{}).fit(x, labels, augmented),
                    Catch::Contains("bch-classifier does not augment its training images"));
  AnyHasher dph = make_hasher("dph", 8, 2);
  augmented.augmentation.width = 5;  // 4 x 5 images are 20 values, not 16
  CHECK_THROWS_WITH(dph.fit(x, labels, augmented),
                    Catch::Contains("dph: augmentation: an image of 4x5x1 has 20 values"));
}

}  // namespace rlhash::test_lsh_model
