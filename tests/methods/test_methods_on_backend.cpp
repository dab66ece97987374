// The methods on a backend other than the host's — DRLIH's network, training step, fit and
// resume; FC-triplet's, deep policy hashing's and DRLH's fits: the emulated device backend
// (tests/support/emulated_backend.hpp) has CUDA's matrix types but computes on the host, so
// these checks run everywhere and pin down the backend-generic code path the GPU takes
// (tests/cuda/test_cuda_methods.cpp repeats the comparison on a real device).
#include <catch.hpp>
#include <emulated_backend.hpp>
#include <test_util.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "hasher_test_util.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/methods/via_backend.hpp"
#include "rlhash/nn/parameters.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_methods_on_backend {
using testing::EmulatedBackend;

namespace {

using HostDrlih = DrlihHasher<MlpRepresentation<double>>;
using DeviceDrlih = DrlihHasher<MlpRepresentation<double, EmulatedBackend>>;
using HostFc = FcTripletHasher<MlpRepresentation<double>>;
using DeviceFc = FcTripletHasher<MlpRepresentation<double, EmulatedBackend>>;

HostDrlih::Config small_config(nn::HeadSharing sharing) {
  HostDrlih::Config c;
  c.bits = 10;
  c.group_size = 4;
  c.rnn_hidden = 12;
  c.per_step_heads = sharing == nn::HeadSharing::per_step;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 12;
  c.repr.repr_dropout = 0.2;  // the masks must be the same on both backends
  c.batch_size = 12;
  c.epochs = 5;
  c.patience = 100;
  c.learning_rate = 5e-3;
  c.group_weight = 1.0;  // the policy-gradient term and its sampled actions
  c.baseline = "greedy";
  c.seed = 3;
  return c;
}

double max_relative_difference(const Matrix<double>& a, const Matrix<double>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return (a - b).cwiseAbs().maxCoeff() / std::max(1.0, a.cwiseAbs().maxCoeff());
}

}  // namespace

TEST_CASE("a DRLIH training step on a device-shaped backend equals the host step",
          "[methods][drlih][backend]") {
  const auto sharing = GENERATE(nn::HeadSharing::shared, nn::HeadSharing::per_step);
  const auto host_config = small_config(sharing);
  const auto device_config = test::same_settings<DeviceDrlih::Config>(host_config);
  auto host_net = HostDrlih(host_config).make_network(12);
  auto device_net = DeviceDrlih(device_config).make_network(12);
  REQUIRE(nn::describe_shapes(host_net.parameters()) == nn::describe_shapes(device_net.parameters()));

  const auto data = test::four_blobs(6, 21);
  const Matrix<double> x = data.x.cast<double>();
  const auto triplets = test::every_triplet(data.labels, 5);
  const auto groups = action_groups(host_config.bits, host_config.group_size);
  GroupRewardOptions reward;
  reward.baseline = RewardBaseline::greedy;
  const bool to_representation = GENERATE(false, true);

  // Two steps: the second one reads the dropout generator and the actions after the first.
  Rng host_rng(9), device_rng(9);
  for (int step = 0; step < 2; ++step) {
    host_net.zero_grad();
    device_net.zero_grad();
    const double host_loss =
        HostDrlih::training_step(host_net, x, triplets, groups, reward, 1.0, host_rng, to_representation);
    const double device_loss = DeviceDrlih::training_step(device_net, EmulatedBackend::from_host(x), triplets,
                                                          groups, reward, 1.0, device_rng, to_representation);
    CHECK(device_loss == Approx(host_loss).epsilon(1e-12));
    CHECK(EmulatedBackend::to_host(device_net.logits()) == host_net.logits());
    const auto host = test::downloaded_grads(host_net.parameters());
    const auto device = test::downloaded_grads(device_net.parameters());
    const auto params = host_net.parameters();
    for (std::size_t i = 0; i < host.size(); ++i) {
      INFO(params[i].name);
      CHECK(host[i].norm() > 0);
      CHECK(max_relative_difference(host[i], device[i]) < 1e-12);
    }
  }
  // Inference (the step-at-a-time recurrence) agrees with the training forward on both.
  const Matrix<double> host_p = host_net.infer(x);
  CHECK(max_relative_difference(EmulatedBackend::to_host(device_net.infer(EmulatedBackend::from_host(x))),
                                host_p) < 1e-12);
}

TEST_CASE("DRLIH fits on a device-shaped backend as on the host; the model files are interchangeable",
          "[methods][drlih][backend]") {
  const auto data = test::four_blobs(15, 4);
  const auto validation = test::four_blobs(6, 5);
  const FitOptions options = test::validating_on(validation);

  HostDrlih host(small_config(nn::HeadSharing::shared));
  host.fit(data.x, data.labels, options);
  DeviceDrlih device(test::same_settings<DeviceDrlih::Config>(host.config()));
  device.fit(data.x, data.labels, options);

  REQUIRE(device.last_result().has_best);
  CHECK(device.last_result().best_epoch == host.last_result().best_epoch);
  CHECK(device.last_result().best_metric == Approx(host.last_result().best_metric).epsilon(1e-9));
  CHECK(device.last_result().last_loss == Approx(host.last_result().last_loss).epsilon(1e-9));
  const MatrixF host_p = host.probabilities(validation.x), device_p = device.probabilities(validation.x);
  CHECK((host_p - device_p).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK(device.encode(validation.x) == host.encode(validation.x));

  // A model trained on the device backend loads into the host hasher and encodes the same.
  const auto loaded = test::reloaded_as<HostDrlih>(device, host.config());
  CHECK(loaded.probabilities(validation.x) == device_p);
  // And back: a host model on the device backend.
  const DeviceDrlih round = test::round_trip(device);
  CHECK(round.probabilities(validation.x) == device_p);
}

TEST_CASE("DRLIH on a device-shaped backend resumes from a checkpoint bit for bit",
          "[methods][drlih][backend]") {
  const auto data = test::four_blobs(10, 8);
  const test::TempDir dir;
  const std::string path = dir.file("drlih.ckpt");
  auto config = test::same_settings<DeviceDrlih::Config>(small_config(nn::HeadSharing::shared));
  config.epochs = 4;
  DeviceDrlih uninterrupted(config);
  uninterrupted.fit(data.x, data.labels);

  FitOptions first;
  first.checkpoint_path = path;
  first.checkpoint_every = 1;
  auto half = config;
  half.epochs = 2;
  DeviceDrlih(half).fit(data.x, data.labels, first);
  FitOptions resume = first;
  resume.resume = true;
  DeviceDrlih resumed(config);
  resumed.fit(data.x, data.labels, resume);
  CHECK(resumed.last_result().resumed_from_epoch == 2);
  CHECK(test::words_of(resumed.encode(data.x)) == test::words_of(uninterrupted.encode(data.x)));
  CHECK(resumed.probabilities(data.x) == uninterrupted.probabilities(data.x));
}

TEST_CASE("fit_via / trained_as move a run-time-chosen hasher to another backend, with its overrides",
          "[methods][drlih][backend]") {
  const auto data = test::four_blobs(15, 4);
  auto config = small_config(nn::HeadSharing::shared);
  config.epochs = 3;
  HostDrlih direct(config);
  direct.fit(data.x, data.labels);

  // The AnyHasher starts from five epochs; the override must reach the training hasher.
  AnyHasher any(HostDrlih(small_config(nn::HeadSharing::shared)));
  any.set("epochs", "3");
  fit_via<DeviceDrlih>(any, data.x, data.labels);
  const HostDrlih* trained = any.target<HostDrlih>();
  REQUIRE(trained != nullptr);
  CHECK((trained->probabilities(data.x) - direct.probabilities(data.x)).cwiseAbs().maxCoeff() < 1e-6f);
  CHECK(any.encode(data.x) == direct.encode(data.x));

  // Another method's training hasher is refused, and the hasher keeps what it had.
  CHECK_THROWS_WITH(fit_via<DeviceFc>(any, data.x, data.labels),
                    Catch::Contains("fit_via: the hasher is a drlih hasher, the target a fc-triplet one"));
  CHECK(any.encode(data.x) == direct.encode(data.x));

  // And back to the other backend, to encode there: the same codes and probabilities.
  CHECK(encode_via<DeviceDrlih>(any, data.x) == any.encode(data.x));
  const DeviceDrlih on_device = trained_as<DeviceDrlih>(any);
  CHECK(on_device.config().epochs == 3);
  CHECK(on_device.probabilities(data.x) == trained->probabilities(data.x));
  CHECK_THROWS_AS(trained_as<DeviceDrlih>(AnyHasher(HostDrlih(config))), StateError);  // nothing trained
  CHECK_THROWS_AS(encode_via<DeviceFc>(any, data.x), InvalidArgument);
}

TEST_CASE("FC-triplet fits on a device-shaped backend as on the host", "[methods][drlih][backend]") {
  const auto data = test::four_blobs(15, 4);
  HostFc::Config config;
  config.bits = 8;
  config.repr.repr_hidden1 = 16;
  config.repr.repr_hidden2 = 12;
  config.repr.repr_dropout = 0.2;
  config.batch_size = 12;
  config.epochs = 4;
  config.seed = 6;
  HostFc host(config);
  host.fit(data.x, data.labels);
  DeviceFc device(test::same_settings<DeviceFc::Config>(config));
  device.fit(data.x, data.labels);
  CHECK(device.last_result().last_loss == Approx(host.last_result().last_loss).epsilon(1e-9));
  CHECK((device.probabilities(data.x) - host.probabilities(data.x)).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK(device.encode(data.x) == host.encode(data.x));
}

TEST_CASE("deep policy hashing fits on a device-shaped backend as on the host", "[methods][dph][backend]") {
  using HostDph = PolicyHashingHasher<MlpPolicyNetwork<double>, MetricReward>;
  using DeviceDph = PolicyHashingHasher<MlpPolicyNetwork<double, EmulatedBackend>, MetricReward>;
  const auto data = test::four_blobs(12, 9), validation = test::four_blobs(5, 10);
  const FitOptions options = test::validating_on(validation);
  const std::string update = GENERATE("copy", "polyak");
  HostDph::Config config;
  config.bits = 8;
  config.seed = 4;
  config.network.hidden1 = 16;
  config.network.hidden2 = 12;
  config.samples = 4;
  config.batch_size = 10;
  config.epochs = 4;
  config.learning_rate = 3e-3;
  config.database_update = update;
  config.database_update_every = 4;
  config.aux_weight = 0.5;  // the asymmetric term reads the database codes too
  config.encode_batch = 7;  // several chunks
  HostDph host(config);
  host.fit(data.x, data.labels, options);
  DeviceDph device(test::same_settings<DeviceDph::Config>(config));
  device.fit(data.x, data.labels, options);

  CHECK(device.database_updates() == host.database_updates());
  CHECK(device.last_result().best_epoch == host.last_result().best_epoch);
  CHECK(device.last_result().last_loss == Approx(host.last_result().last_loss).epsilon(1e-9));
  const MatrixF device_p = device.probabilities(validation.x);
  CHECK((device_p - host.probabilities(validation.x)).cwiseAbs().maxCoeff() < 1e-5f);
  CHECK(device.encode(validation.x) == host.encode(validation.x));
  const auto loaded = test::reloaded_as<HostDph>(device, config);
  CHECK(loaded.probabilities(validation.x) == device_p);
}

TEST_CASE("DRLH fits on a device-shaped backend as on the host", "[methods][drlh][backend]") {
  using HostDrlh = DrlhHasher<MlpQTrunk<double>>;
  using DeviceDrlh = DrlhHasher<MlpQTrunk<double, EmulatedBackend>>;
  const auto data = test::four_blobs(12, 3), validation = test::four_blobs(5, 4);
  const FitOptions options = test::validating_on(validation);
  HostDrlh::Config config;
  config.bits = 8;
  config.seed = 3;
  config.representation = "input";
  config.hidden1 = 24;
  config.trunk.hidden2 = 16;
  config.trunk.dropout = 0.1;  // the masks must be the same on both backends
  config.history = 2;
  config.double_dqn = GENERATE(false, true);
  config.episodes = 8;
  config.batch_size = 16;
  config.updates_per_step = 2;
  config.learning_starts = 32;
  config.target_period = 20;
  config.replay_size = 500;
  config.learning_rate = 2e-3;
  config.max_grad_norm = 1.0;
  config.epochs = 3;
  config.encode_batch = 7;  // several chunks
  HostDrlh host(config);
  host.fit(data.x, data.labels, options);
  DeviceDrlh device(test::same_settings<DeviceDrlh::Config>(config));
  device.fit(data.x, data.labels, options);

  // The device backend evaluates the greedy policy from full states (one product), the host
  // incrementally: the Q-values agree to rounding, the actions taken must be the same.
  const auto& a = host.last_result();
  const auto& b = device.last_result();
  CHECK(b.transitions == a.transitions);
  CHECK(b.updates == a.updates);
  CHECK(b.best_epoch == a.best_epoch);
  CHECK(b.validation_map == a.validation_map);
  CHECK(b.terminate_rate == a.terminate_rate);
  REQUIRE(b.mean_loss.size() == a.mean_loss.size());
  for (std::size_t e = 0; e < a.mean_loss.size(); ++e)
    CHECK(b.mean_loss[e] == Approx(a.mean_loss[e]).epsilon(1e-9));
  CHECK(device.encode(validation.x) == host.encode(validation.x));
  const auto loaded = test::reloaded_as<HostDrlh>(device, config);
  CHECK(loaded.encode(data.x) == device.encode(data.x));
}

TEST_CASE("DRLH over a frozen representation fits on a device-shaped backend as on the host",
          "[methods][drlh][backend]") {
  using HostDrlh = DrlhHasher<MlpQTrunk<double>>;
  using DeviceDrlh = DrlhHasher<MlpQTrunk<double, EmulatedBackend>>;
  const auto data = test::four_blobs(10, 13);
  HostDrlh::Config config;
  config.bits = 8;
  config.seed = 5;
  config.representation = "drlih";  // DRLIH pre-trained on the same backend, then frozen
  config.repr.repr_hidden1 = 12;
  config.repr.repr_hidden2 = 10;
  config.hidden1 = 16;
  config.trunk.hidden2 = 12;
  config.history = 2;
  config.episodes = 8;
  config.batch_size = 16;
  config.learning_starts = 32;
  config.replay_size = 300;
  config.epochs = 2;
  HostDrlh host(config);
  host.fit(data.x, data.labels);
  DeviceDrlh device(test::same_settings<DeviceDrlh::Config>(config));
  device.fit(data.x, data.labels);

  REQUIRE_FALSE(device.representation().empty());
  CHECK((device.representation().apply(data.x, 7, "test") - host.representation().apply(data.x, 7, "test"))
            .cwiseAbs()
            .maxCoeff() < 1e-5f);
  CHECK(device.last_result().updates == host.last_result().updates);
  CHECK(device.encode(data.x) == host.encode(data.x));
  const auto loaded = test::reloaded_as<HostDrlh>(device, config);
  CHECK(loaded.encode(data.x) == device.encode(data.x));
}

TEST_CASE("the BCH classifier baseline fits on a device-shaped backend as on the host",
          "[methods][bch][backend]") {
  using HostClassifier = BchClassifierHasher<double>;
  using DeviceClassifier = BchClassifierHasher<double, EmulatedBackend>;
  const auto data = test::four_blobs(12, 21), validation = test::four_blobs(5, 22);
  const FitOptions options = test::validating_on(validation);
  HostClassifier::Config config;
  config.bits = 15;
  config.seed = 8;
  config.representation = GENERATE("input", "fc-triplet");
  config.repr.repr_hidden1 = 12;
  config.repr.repr_hidden2 = 10;
  config.hidden = 16;
  config.dropout = 0.3;  // the masks must be the same on both backends
  config.batch_size = 10;
  config.epochs = 6;
  config.encode_batch = 7;  // several chunks
  HostClassifier host(config);
  host.fit(data.x, data.labels, options);
  DeviceClassifier device(test::same_settings<DeviceClassifier::Config>(config));
  device.fit(data.x, data.labels, options);

  CHECK(device.last_result().best_epoch == host.last_result().best_epoch);
  CHECK(device.last_result().best_metric == host.last_result().best_metric);
  CHECK(device.last_result().last_loss == Approx(host.last_result().last_loss).epsilon(1e-9));
  CHECK(device.classify(validation.x) == host.classify(validation.x));
  CHECK(device.encode(validation.x) == host.encode(validation.x));
  const auto loaded = test::reloaded_as<HostClassifier>(device, config);
  CHECK(loaded.classify(data.x) == device.classify(data.x));
}

}  // namespace rlhash::test_methods_on_backend
