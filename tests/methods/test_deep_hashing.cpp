// The deep supervised hashing baselines (DSH, HashNet, CSQ, GreedyHash, DPSH): each solves a toy
// set, round-trips through save/load and a model file, resumes from a checkpoint, runs on a
// device-shaped backend as on the host, and refuses bad configs and data naming the field.
#include <catch.hpp>
#include <emulated_backend.hpp>
#include <test_util.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "hasher_test_util.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/csq.hpp"
#include "rlhash/methods/dpsh.hpp"
#include "rlhash/methods/dsh.hpp"
#include "rlhash/methods/greedy_hash.hpp"
#include "rlhash/methods/hashnet.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/methods/representation.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_deep_hashing {

namespace {

template <class H>
typename H::Config toy_config() {
  typename H::Config c;
  c.bits = 8;
  c.seed = 5;
  c.repr.repr_hidden = 16;
  c.batch_size = 16;
  c.epochs = 12;
  c.learning_rate = 1e-2;
  return c;
}

template <class H>
std::vector<char> saved_bytes(const H& h) {
  ByteWriter out;
  h.save(out);
  return out.bytes();
}

Labels multi_hot(const std::vector<std::vector<int>>& rows, int classes) {
  std::vector<std::uint8_t> data;
  for (const auto& row : rows)
    for (int c = 0; c < classes; ++c)
      data.push_back(std::find(row.begin(), row.end(), c) != row.end() ? 1 : 0);
  return Labels::from_multi_hot(data.data(), static_cast<Index>(rows.size()), classes);
}

}  // namespace

TEMPLATE_TEST_CASE("deep hashing baselines solve separable clusters and round-trip", "[methods][deephash]",
                   Dsh, HashNet, Csq, GreedyHash, Dpsh) {
  const auto train = test::four_blobs(20, 1), held_out = test::four_blobs(10, 2);
  TestType h(toy_config<TestType>());
  h.fit(train.x, train.labels);
  const double map = leave_one_out_map(h.encode(held_out.x), held_out.labels);
  INFO(TestType::method_name << " held-out mAP " << map);
  CHECK(map > 0.95);
  // The codes are the signs of the outputs, and deterministic.
  CHECK(h.encode(held_out.x) == BinaryCodes::from_signs(h.outputs(held_out.x)));

  const TestType back = test::round_trip(h);
  CHECK(back.encode(held_out.x) == h.encode(held_out.x));
  test::check_damaged_parameters_rejected(h);

  SECTION("a model file of the registered method") {
    test::TempDir dir;
    Model model;
    model.hasher = make_hasher(TestType::method_name, 8);
    model.preprocessor.fit(train.x);  // the identity: the codes are the hasher's
    for (const auto& [key, value] : field_values(h.config())) model.hasher.set(key, value);
    model.hasher.fit(train.x, train.labels, {});
    model.save(dir.file("m.rlh"));
    const Model loaded = Model::load(dir.file("m.rlh"));
    CHECK(loaded.hasher.method() == std::string(TestType::method_name));
    CHECK(loaded.encode(held_out.x) == h.encode(held_out.x));
  }
}

TEMPLATE_TEST_CASE("deep hashing baselines: validation keeps the best epoch, checkpoints resume",
                   "[methods][deephash][resume]", Dsh, GreedyHash) {
  const auto train = test::four_blobs(12, 3), validation = test::four_blobs(6, 4);
  auto config = toy_config<TestType>();
  config.epochs = 5;
  config.patience = 50;
  TestType reference(config);
  reference.fit(train.x, train.labels, test::validating_on(validation));
  CHECK(reference.last_result().has_best);

  test::TempDir dir;
  FitOptions options = test::validating_on(validation);
  options.checkpoint_path = dir.file("ckpt");
  options.checkpoint_every = 1;
  options.progress = [](const Progress& p) { return p.done < 3; };  // stop after epoch 3's report
  TestType stopped(config);
  stopped.fit(train.x, train.labels, options);
  REQUIRE(stopped.last_result().stop_requested);

  options.progress = nullptr;
  options.resume = true;
  TestType resumed(config);
  resumed.fit(train.x, train.labels, options);
  CHECK(resumed.last_result().resumed_from_epoch > 0);
  CHECK(resumed.last_result().epochs_done == 5);
  CHECK(resumed.last_result().best_metric == reference.last_result().best_metric);
  CHECK(saved_bytes(resumed) == saved_bytes(reference));
}

TEST_CASE("a deep hashing baseline trains on a device-shaped backend as on the host",
          "[methods][deephash][backend]") {
  using Host = DshHasher<ShallowMlpRepresentation<double>>;
  using Device = DshHasher<ShallowMlpRepresentation<double, testing::EmulatedBackend>>;
  const auto data = test::four_blobs(10, 6);
  Host::Config config;
  config.bits = 8;
  config.repr.repr_hidden = 12;
  config.repr.repr_dropout = 0.2;
  config.batch_size = 10;
  config.epochs = 3;
  config.learning_rate = 3e-3;
  Host host(config);
  host.fit(data.x, data.labels);
  Device device(test::same_settings<Device::Config>(config));
  device.fit(data.x, data.labels);
  CHECK(device.last_result().last_loss == Approx(host.last_result().last_loss).epsilon(1e-9));
  CHECK(device.encode(data.x) == host.encode(data.x));

  using HostGreedy = GreedyHashHasher<ShallowMlpRepresentation<double>>;
  using DeviceGreedy = GreedyHashHasher<ShallowMlpRepresentation<double, testing::EmulatedBackend>>;
  HostGreedy::Config g;
  g.bits = 8;
  g.repr.repr_hidden = 12;
  g.batch_size = 10;
  g.epochs = 3;
  HostGreedy host_g(g);
  host_g.fit(data.x, data.labels);
  DeviceGreedy device_g(test::same_settings<DeviceGreedy::Config>(g));
  device_g.fit(data.x, data.labels);
  CHECK(device_g.last_result().last_loss == Approx(host_g.last_result().last_loss).epsilon(1e-9));
  CHECK(device_g.encode(data.x) == host_g.encode(data.x));
}

TEST_CASE("the methods on MlpRepresentation, the other deep methods' network", "[methods][deephash]") {
  using H = CsqHasher<MlpRepresentation<float>>;
  const auto train = test::four_blobs(20, 1), held_out = test::four_blobs(10, 2);
  H::Config c;
  c.bits = 8;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 12;
  c.batch_size = 16;
  c.epochs = 12;
  c.learning_rate = 1e-2;
  H h(c);
  h.fit(train.x, train.labels);
  CHECK(leave_one_out_map(h.encode(held_out.x), held_out.labels) > 0.95);
}

TEST_CASE("CSQ hash centres: Hadamard, random, BCH; too many classes refused", "[methods][deephash][csq]") {
  SECTION("Hadamard rows and their negations are orthogonal or opposite") {
    const MatrixF c = csq_hash_centres(10, 8, "auto", 0);
    for (Index a = 0; a < 10; ++a)
      for (Index b = a + 1; b < 10; ++b) {
        const float dot = c.col(a).dot(c.col(b));
        CHECK((dot == 0.0f || (dot == -8.0f && b == a + 8)));
      }
    CHECK_THROWS_WITH(csq_hash_centres(17, 8, "hadamard", 0), Catch::Contains("centres = hadamard"));
  }
  SECTION("beyond 2 bits classes and at other lengths: random vertices with half the bits set") {
    const MatrixF c = csq_hash_centres(20, 8, "auto", 1);
    const MatrixF r = csq_hash_centres(10, 12, "auto", 1);
    for (Index k = 16; k < 20; ++k) CHECK(c.col(k).sum() == 0.0f);
    for (Index k = 0; k < 10; ++k) CHECK(r.col(k).sum() == 0.0f);
    CHECK(detail::centre_distances(r).first > 0);
  }
  SECTION("BCH codewords of the label embedding") {
    for (const LabelCodeFill fill : {LabelCodeFill::paper, LabelCodeFill::spread}) {
      const MatrixF c = csq_hash_centres(10, 32, "bch", 0, fill);
      const LabelEmbedding embedding(10, 32, 0, fill);
      CHECK(detail::centre_distances(c).first == embedding.min_distance());
      for (int k = 0; k < 32; ++k) CHECK(c(k, 3) == (embedding.codewords().get(3, k) ? 1.0f : -1.0f));
      // The paper's fill leaves bits with one value for every class (12 at 48 bits); spread none.
      const MatrixF wide = csq_hash_centres(10, 48, "bch", 0, fill);
      const Index constant = (wide.rowwise().minCoeff().array() == wide.rowwise().maxCoeff().array()).count();
      CHECK((fill == LabelCodeFill::spread ? constant == 0 : constant > 0));
    }
    CHECK(csq_hash_centres(10, 32, "bch", 0) == csq_hash_centres(10, 32, "bch", 0, LabelCodeFill::spread));
    Csq::Config bad = toy_config<Csq>();
    bad.loss.centres = "bch";
    bad.loss.label_code = "dense";
    CHECK_THROWS_WITH(Csq{bad}, Catch::Contains("csq: label_code must be paper or spread, got 'dense'"));
  }
  SECTION("more classes than distinct centres") {
    CHECK_THROWS_WITH(csq_hash_centres(5, 2, "random", 0), Catch::Contains("bits = 2"));
    CHECK_THROWS_AS(csq_hash_centres(300, 4, "bch", 0), InvalidArgument);
    Csq::Config config = toy_config<Csq>();
    config.bits = 2;
    config.loss.centres = "random";
    const auto train = test::four_blobs(3, 1);
    std::vector<std::int32_t> ids;
    for (int i = 0; i < 12; ++i) ids.push_back(i % 6);
    Csq h(config);
    CHECK_THROWS_WITH(h.fit(train.x, Labels::from_class_ids(ids, 6)),
                      Catch::Contains("more classes than centres"));
  }
  SECTION("BCH centres train") {
    auto config = toy_config<Csq>();
    config.loss.centres = "bch";
    config.bits = 16;
    const auto train = test::four_blobs(20, 1), held_out = test::four_blobs(10, 2);
    Csq h(config);
    h.fit(train.x, train.labels);
    CHECK(leave_one_out_map(h.encode(held_out.x), held_out.labels) > 0.95);
  }
}

TEST_CASE("multi-label data: pairwise methods and CSQ accept it, GreedyHash refuses it",
          "[methods][deephash]") {
  const auto blobs = test::four_blobs(6, 3);
  std::vector<std::vector<int>> rows;
  for (Index i = 0; i < blobs.x.cols(); ++i) {
    const int c = blobs.labels.first_label(i);
    rows.push_back(i % 3 == 0 ? std::vector<int>{c, (c + 1) % 4} : std::vector<int>{c});
  }
  const Labels labels = multi_hot(rows, 4);
  auto fits = [&](auto hasher) {
    auto config = hasher.config();
    config.epochs = 2;
    decltype(hasher) h(config);
    h.fit(blobs.x, labels);
    return h.fitted();
  };
  CHECK(fits(Dsh(toy_config<Dsh>())));
  CHECK(fits(Dpsh(toy_config<Dpsh>())));
  CHECK(fits(HashNet(toy_config<HashNet>())));
  CHECK(fits(Csq(toy_config<Csq>())));
  GreedyHash g(toy_config<GreedyHash>());
  CHECK_THROWS_WITH(g.fit(blobs.x, labels), Catch::Contains("greedyhash: labels must be single-label"));

  SECTION("CSQ's multi-label centre is the sign of the sum of the classes' centres") {
    CsqLoss::State<float> state(CsqLoss::Config{}, 8, labels, 0);
    const MatrixF centres = csq_hash_centres(4, 8, "auto", 0);
    const VectorF sum = centres.col(labels.labels_of(0)[0]) + centres.col(labels.labels_of(0)[1]);
    const VectorF got = state.centre_of(0);
    for (Index k = 0; k < 8; ++k)
      if (sum(k) != 0) CHECK(got(k) == (sum(k) > 0 ? 1.0f : -1.0f));
    CHECK(state.centre_of(1) == centres.col(labels.first_label(1)));
  }
}

TEST_CASE("deep hashing baselines refuse bad configs naming the field", "[methods][deephash]") {
  auto check = [](auto make, const std::string& field, const std::string& value) {
    auto config = make().config();
    set_field(config, field, value);
    INFO(field << " = " << value);
    CHECK_THROWS_WITH((decltype(make())(config)), Catch::Contains(field));
  };
  auto dsh = [] { return Dsh(); };
  auto csq = [] { return Csq(); };
  auto hashnet = [] { return HashNet(); };
  auto dpsh = [] { return Dpsh(); };
  auto greedy = [] { return GreedyHash(); };
  check(dsh, "alpha", "-1");
  check(dsh, "margin_per_bit", "0");
  check(dpsh, "alpha", "-0.5");
  check(hashnet, "step_continuation", "0");
  check(hashnet, "alpha", "0");
  check(csq, "lambda", "-1");
  check(csq, "centres", "sobol");
  check(greedy, "alpha", "-2");
  check(greedy, "bits", "0");
  check(dsh, "learning_rate", "0");
  check(dsh, "lr_decay", "2");
  check(dsh, "batch_size", "1");
  check(dsh, "optimizer", "lbfgs");
  Dsh h(toy_config<Dsh>());
  auto narrow = toy_config<Dsh>();
  narrow.repr.repr_hidden = 0;
  const auto train = test::four_blobs(3, 1);
  CHECK_THROWS_WITH(Dsh(narrow).fit(train.x, train.labels), Catch::Contains("repr_hidden"));
  CHECK_THROWS_AS(h.encode(MatrixF::Zero(12, 2)), StateError);
  const auto blobs = test::four_blobs(3, 1);
  CHECK_THROWS_AS(h.fit(blobs.x, blobs.labels.subset({0, 1, 2})), InvalidArgument);
}

TEST_CASE("relevance: the one-word path equals Labels::relevant pair by pair", "[methods][deep_hashing]") {
  Rng rng(31);
  // 10 classes single-label and 64 classes multi-label take the one-word path; 70 classes the
  // general one.
  for (const int classes : {10, 64, 70}) {
    const Index items = 40;
    std::vector<std::uint8_t> hot(static_cast<std::size_t>(items * classes));
    for (auto& h : hot) h = uniform_unit(rng) < 0.08 ? 1 : 0;
    std::vector<std::int32_t> ids(static_cast<std::size_t>(items));
    for (auto& id : ids) id = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(classes));
    for (const Labels& labels :
         {Labels::from_class_ids(ids, classes), Labels::from_multi_hot(hot.data(), items, classes)}) {
      const std::vector<Index> rows = {3, 0, 17, 17, 39}, cols = detail::all_items(items);
      const MatrixF r = detail::relevance<float>(labels, rows, labels, cols);
      REQUIRE(r.rows() == 5);
      REQUIRE(r.cols() == items);
      for (Index j = 0; j < items; ++j)
        for (Index i = 0; i < 5; ++i)
          CHECK(r(i, j) == (labels.relevant(rows[static_cast<std::size_t>(i)], labels, j) ? 1.0f : 0.0f));
    }
  }
}

}  // namespace rlhash::test_deep_hashing
