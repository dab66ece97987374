// DRLH end to end on a tiny separable data set, plus determinism, save/load, checkpoint resume
// and the batched greedy rollout.
#include <catch.hpp>
#include <test_util.hpp>
#include "hasher_test_util.hpp"

#include <string>
#include <vector>

#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/model.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_drlh {

namespace {

using Toy = test::FourBlobs;
Toy make_toy(Index per_class, std::uint64_t seed) { return test::four_blobs(per_class, seed); }

Drlh::Config toy_config() {
  Drlh::Config c;
  c.bits = 8;
  c.seed = 3;
  c.representation = "input";  // the Q-network on the features as given (frozen f: its own test)
  c.hidden1 = 48;
  c.trunk.hidden2 = 48;
  c.trunk.dropout = 0.0;
  c.episodes = 16;
  c.batch_size = 32;
  c.updates_per_step = 2;
  c.learning_starts = 64;
  c.target_period = 50;
  c.replay_size = 5000;
  c.learning_rate = 2e-3;
  c.epochs = 12;
  c.encode_batch = 20;  // several chunks in the tests
  return c;
}

using test::words_of;

/// The representation network's outputs on `x` of a `Triplet` hasher trained on its own with
/// DRLH's bits, seed and widths (chunks of 20 items, as DRLH's encode_batch in these tests:
/// Eigen's GEMM rounds differently for other batch widths).
template <class Triplet>
MatrixF triplet_representation(const Drlh::Config& c, const Toy& train, const MatrixF& x) {
  typename Triplet::Config t;
  t.bits = c.bits;
  t.seed = c.seed;
  t.repr = c.repr;
  Triplet triplet(t);
  triplet.fit(train.x, train.labels);
  return detail::infer_in_chunks(triplet.network().representation(), x, 20, c.repr.repr_hidden2);
}

}  // namespace

TEST_CASE("drlh learns to move each item into its class codeword's ball", "[drlh][methods]") {
  // The paper's actions on both label codes, and its 2-bit action set on the paper's codewords
  // (with the spread codewords the 2-bit set reaches only 15 of the 40 balls in these 12 epochs).
  const auto [action_bits, label_code] =
      GENERATE(table<int, const char*>({{1, "spread"}, {1, "paper"}, {2, "paper"}}));
  INFO("action_bits = " << action_bits << ", label_code = " << label_code);
  const Toy train = make_toy(20, 1), test = make_toy(10, 2);
  auto config = toy_config();
  config.action_bits = action_bits;
  config.label_code = label_code;
  Drlh hasher(config);
  hasher.fit(train.x, train.labels);
  const auto& result = hasher.last_result();
  REQUIRE(result.epochs_run == 12);
  CHECK(result.updates > 500);
  const BinaryCodes codes = hasher.encode(test.x);
  const BchReward& reward = hasher.reward();
  int inside = 0;
  for (Index i = 0; i < codes.size(); ++i)
    inside += reward.embedding().d_pos(codes.row(i), test.labels.first_label(i)) <= reward.eta();
  INFO("items within eta = " << reward.eta() << " of their codeword: " << inside << " of " << codes.size()
                             << "; last epoch return " << result.mean_return.back() << ", terminate rate "
                             << result.terminate_rate.back());
  CHECK(inside >= 36);  // >= 90 %; the initial code is ~4 bits from every codeword
  // Without any step every item keeps the initial code, which sits outside the balls.
  const BinaryCodes none = hasher.encode_with_steps(test.x, 0);
  for (Index i = 0; i < none.size(); ++i) CHECK(none.row(i)[0] == hasher.initial_code()[0]);
}

TEST_CASE("drlh is reproducible, and save/load keeps the codes", "[drlh][methods]") {
  const Toy train = make_toy(6, 4), test = make_toy(5, 5);
  auto c = toy_config();
  c.epochs = 2;
  c.trunk.dropout = 0.2;
  Drlh a(c), b(c);
  a.fit(train.x, train.labels);
  b.fit(train.x, train.labels);
  const auto codes = words_of(a.encode(test.x));
  CHECK(codes == words_of(b.encode(test.x)));
  ByteWriter out;
  a.save(out);
  Drlh loaded(c);
  ByteReader in(out.bytes().data(), out.bytes().size(), "model");
  loaded.load(in);
  in.expect_end();
  CHECK(codes == words_of(loaded.encode(test.x)));
  // Truncated parameters are a FormatError.
  ByteReader cut(out.bytes().data(), out.bytes().size() - 9, "model");
  Drlh broken(c);
  CHECK_THROWS_AS(broken.load(cut), FormatError);
  CHECK_THROWS_AS(broken.encode(test.x), StateError);
  CHECK_THROWS_AS(a.encode(MatrixF::Zero(5, 3)), InvalidArgument);
}

TEST_CASE("drlh on a frozen representation uses the triplet model's network and saves it",
          "[drlh][methods]") {
  const std::string source = GENERATE(std::string("fc-triplet"), std::string("drlih"));
  INFO("representation = " << source);
  const Toy train = make_toy(6, 12), test = make_toy(5, 13);
  auto c = toy_config();
  c.epochs = 2;
  c.representation = source;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 10;
  Drlh a(c);
  a.fit(train.x, train.labels);
  REQUIRE_FALSE(a.representation().empty());
  CHECK(a.input_dim() == 12);
  CHECK(a.network().feature_dim() == 10);  // the Q-network sees f = the representation's output

  // The same hasher trained on its own (its defaults, DRLH's bits, seed and widths) has the
  // very same representation network.
  const MatrixF expected = source == "fc-triplet" ? triplet_representation<FcTriplet>(c, train, test.x)
                                                  : triplet_representation<Drlih>(c, train, test.x);
  const MatrixF f = a.representation().apply(test.x, 20, "test");
  CHECK(f.rows() == 10);
  CHECK(f == expected);

  const Drlh loaded = test::round_trip(a);
  CHECK(loaded.representation().apply(test.x, 20, "test") == f);
  CHECK(words_of(loaded.encode(test.x)) == words_of(a.encode(test.x)));
  CHECK_THROWS_AS(a.encode(MatrixF::Zero(10, 3)), InvalidArgument);  // f itself is not the input
  // A file without the representation (saved by a model on the raw input) is refused.
  auto raw_config = toy_config();
  raw_config.epochs = 1;
  Drlh raw(raw_config);
  raw.fit(train.x, train.labels);
  ByteWriter raw_out;
  raw.save(raw_out);
  ByteReader raw_in(raw_out.bytes().data(), raw_out.bytes().size(), "model");
  CHECK_THROWS_AS(Drlh(c).load(raw_in), FormatError);
}

TEST_CASE("a drlh model file takes an encoding-time max_steps, and refuses shape changes",
          "[drlh][methods]") {
  test::TempDir dir;
  const Toy train = make_toy(5, 14), test = make_toy(3, 15);
  auto c = toy_config();
  c.epochs = 1;
  Drlh trained(c);
  trained.fit(train.x, train.labels);
  Model model;
  model.preprocessor.fit(train.x);  // the identity (no centring, PCA or scaling), fitted
  model.hasher = AnyHasher(trained);
  const auto path = dir.file("drlh.rlh");
  model.save(path);
  CHECK(Model::load(path, {{"max_steps", "3"}}).encode(test.x) == trained.encode_with_steps(test.x, 3));
  CHECK(Model::load(path, {{"max_steps", "1"}}).encode(test.x) == trained.encode_with_steps(test.x, 1));
  CHECK(Model::load(path, {{"max_steps", "0"}}).encode(test.x) == trained.encode(test.x));  // 0: b
  CHECK_THROWS_AS(Model::load(path, {{"history", "3"}}), FormatError);  // the Q-network's input shape
  CHECK_THROWS_AS(Model::load(path, {{"representation", "fc-triplet"}}), FormatError);
}

TEST_CASE("drlh resumes from a checkpoint exactly", "[drlh][methods]") {
  const Toy train = make_toy(6, 6), test = make_toy(4, 7);
  auto c = toy_config();
  c.epochs = 4;
  c.trunk.dropout = 0.2;
  Drlh straight(c);
  straight.fit(train.x, train.labels);
  test::TempDir dir;
  FitOptions options;
  options.checkpoint_path = (dir.path() / "drlh.ckpt").string();
  options.checkpoint_every = 1;
  options.progress = [](const Progress& p) { return p.done < 2; };  // stop after epoch 2
  Drlh first(c);
  first.fit(train.x, train.labels, options);
  REQUIRE(first.last_result().epochs_run == 2);
  options.progress = nullptr;
  options.resume = true;
  Drlh resumed(c);
  resumed.fit(train.x, train.labels, options);
  CHECK(resumed.last_result().epochs_run == 4);
  CHECK(resumed.last_result().updates == straight.last_result().updates);
  CHECK(words_of(resumed.encode(test.x)) == words_of(straight.encode(test.x)));
  // A checkpoint of another code length is refused.
  auto other = c;
  other.bits = 9;
  Drlh wrong(other);
  CHECK_THROWS_AS(wrong.fit(train.x, train.labels, options), FormatError);
}

TEST_CASE("drlh validation picks an epoch and reports per-epoch figures", "[drlh][methods]") {
  const Toy train = make_toy(6, 8), val = make_toy(5, 9);
  auto c = toy_config();
  c.epochs = 3;
  const FitOptions options = test::validating_on(val);
  Drlh hasher(c);
  hasher.fit(train.x, train.labels, options);
  const auto& r = hasher.last_result();
  REQUIRE(r.validation_map.size() == 3);
  CHECK(r.best_epoch >= 0);
  CHECK(r.best_validation_map == *std::max_element(r.validation_map.begin(), r.validation_map.end()));
  CHECK(leave_one_out_map(hasher.encode(val.x), val.labels) == Approx(r.best_validation_map));
}

TEST_CASE("batched greedy rollout equals a one-item-at-a-time rollout over the full network",
          "[drlh][methods]") {
  const Toy train = make_toy(5, 10), test = make_toy(6, 11);
  auto c = toy_config();
  c.epochs = 1;
  c.action_bits = GENERATE(1, 2);
  Drlh hasher(c);
  hasher.fit(train.x, train.labels);
  const auto& net = hasher.network();
  const rl::FlipActions actions = hasher.action_set();
  REQUIRE(net.infer(test.x.col(0), Matrix<float>::Zero(hasher.state_dim(), 1)).rows() == actions.size());
  const BinaryCodes batched = hasher.encode(test.x);
  for (Index i = 0; i < test.x.cols(); ++i) {
    std::vector<std::uint64_t> code = hasher.initial_code();
    std::int16_t history[drlh::max_history];
    std::fill(history, history + drlh::max_history, std::int16_t(-1));
    Matrix<float> s(hasher.state_dim(), 1);
    for (int step = 0; step < hasher.test_steps(); ++step) {
      drlh::write_state(code.data(), history, actions, c.history, s.data());
      Index a = 0;
      net.infer(test.x.col(i), s).col(0).maxCoeff(&a);
      if (a == c.bits) break;
      drlh::apply_action(code.data(), actions, static_cast<int>(a));
      drlh::push_history(history, c.history, static_cast<int>(a));
    }
    CHECK(batched.row(i)[0] == code[0]);
  }
}

TEST_CASE("drlh with the spread label code: its reward's codewords, kept by save/load", "[drlh][methods]") {
  const Toy train = make_toy(6, 1), test = make_toy(3, 2);
  auto c = toy_config();
  c.epochs = 1;
  c.label_code = "spread";
  Drlh a(c);
  a.fit(train.x, train.labels);
  const LabelEmbedding expected(train.labels.num_classes(), c.bits, c.seed, LabelCodeFill::spread);
  CHECK(a.reward().embedding().fill() == LabelCodeFill::spread);
  CHECK(a.reward().embedding().codewords() == expected.codewords());
  const Drlh loaded = test::round_trip(a);
  CHECK(loaded.config().label_code == "spread");
  CHECK(loaded.reward().embedding().codewords() == expected.codewords());
  CHECK(words_of(loaded.encode(test.x)) == words_of(a.encode(test.x)));
}

TEST_CASE("drlh rejects bad configs and data", "[drlh][methods]") {
  auto c = toy_config();
  c.label_code = "random";
  CHECK_THROWS_WITH(Drlh(c), Catch::Contains("label_code") && Catch::Contains("paper or spread"));
  c = toy_config();
  c.history = 17;
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  c = toy_config();
  c.gamma = 1.5;
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  c = toy_config();
  c.eta = 9;
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  c = toy_config();
  c.action_bits = 3;
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  c.action_bits = 2;
  c.bits = 512;  // 1 + 512 + C(512, 2) actions do not fit the int16 action ids
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  c = toy_config();
  c.representation = "pixels";
  CHECK_THROWS_AS(Drlh(c), InvalidArgument);
  const Toy toy = make_toy(2, 1);
  Drlh h(toy_config());
  CHECK_THROWS_AS(h.fit(toy.x, Labels::from_class_ids({0, 1}, 2)), InvalidArgument);
  MatrixF bad = toy.x;
  bad(0, 0) = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_AS(h.fit(bad, toy.labels), InvalidArgument);
}

TEST_CASE("drlh stops a diverged run and checkpoints nothing of it", "[drlh][methods]") {
  const Toy train = make_toy(6, 12);
  auto c = toy_config();
  c.epochs = 3;
  c.learning_rate = 1e30;  // Adam moves every weight by ~1e30 per update
  c.max_grad_norm = 0;
  test::TempDir dir;
  FitOptions options;
  options.checkpoint_path = (dir.path() / "drlh.ckpt").string();
  options.checkpoint_every = 1;
  Drlh hasher(c);
  std::string error;
  try {
    hasher.fit(train.x, train.labels, options);
  } catch (const TrainingDiverged& e) {
    error = e.what();
  }
  INFO(error);
  CHECK(error.rfind("training diverged in epoch 1: mean loss ", 0) == 0);
  CHECK_THAT(error, Catch::Contains("lower the learning rate or set max_grad_norm"));
  CHECK_FALSE(std::filesystem::exists(options.checkpoint_path));
  CHECK_THROWS_AS(hasher.encode(train.x), StateError);  // no model of NaNs was kept
}

TEST_CASE("drlh refuses to resume a checkpoint of other data or settings", "[drlh][methods]") {
  const Toy train = make_toy(6, 13);
  auto c = toy_config();
  c.epochs = 2;
  test::TempDir dir;
  FitOptions options;
  options.checkpoint_path = (dir.path() / "drlh.ckpt").string();
  options.checkpoint_every = 1;
  options.data_fingerprint = 11;
  options.settings_fingerprint = 22;
  options.progress = [](const Progress& p) { return p.done < 1; };  // stop after epoch 1
  Drlh(c).fit(train.x, train.labels, options);
  REQUIRE(std::filesystem::exists(options.checkpoint_path));
  options.progress = nullptr;
  options.resume = true;
  const auto resume_with = [&](std::uint64_t data, std::uint64_t settings) {
    FitOptions o = options;
    o.data_fingerprint = data;
    o.settings_fingerprint = settings;
    Drlh(c).fit(train.x, train.labels, o);
  };
  CHECK_THROWS_WITH(resume_with(12, 22), Catch::Contains("was written for other training data"));
  CHECK_THROWS_WITH(resume_with(11, 23), Catch::Contains("was written with other settings"));
  CHECK_THROWS_AS(resume_with(12, 22), InvalidArgument);
  Drlh resumed(c);
  FitOptions same = options;
  resumed.fit(train.x, train.labels, same);
  CHECK(resumed.last_result().epochs_run == 2);
}

}  // namespace rlhash::test_drlh
