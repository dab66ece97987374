// DRLIH's own definitions on the CUDA backend against the host backend: the backend operations
// the policy layer and dropout are written in, the policy layer (shared and per step), dropout,
// one whole DRLIH training step (DrlihHasher::training_step: representation, agent, policy
// layer, triplet loss and group policy gradient), and short DRLIH, deep policy hashing and
// DRLH fits, and the BCH classifier baseline over a frozen representation. Runs only with a CUDA device
// (gpu_main.cpp returns the skip code otherwise); tests/methods/test_methods_on_backend.cpp runs the
// same comparisons on the host-emulated device backend everywhere.
#include <catch.hpp>

#include <cstdint>
#include <vector>

#include "../methods/hasher_test_util.hpp"
#include "device_compare.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/methods/bch_classifier.hpp"
#include "rlhash/methods/drlh.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/policy_head.hpp"

using namespace rlhash;
using rlhash::cuda::CudaBackend;
using rlhash::cuda::DeviceMatrix;
using rlhash::test::random_matrix;
using rlhash::test::require_close;

namespace {

template <class S, class Host, class Device>
void require_same_grads(Host& host, Device& device) {
  const auto h = host.parameters();
  const auto d = test::downloaded_grads(device.parameters());
  REQUIRE(h.size() == d.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    INFO("parameter " << h[i].name);
    require_close<S>(d[i], h[i].grad());
  }
}

}  // namespace

TEMPLATE_TEST_CASE("the backend's product, transposition, scaling and norm match the host", "[cuda][backend]",
                   float, double) {
  using S = TestType;
  Rng rng(31);
  const Matrix<S> a = random_matrix<S>(rng, 7, 5), b = random_matrix<S>(rng, 7, 5);
  DeviceMatrix<S> d, t;
  CudaBackend::multiply(d, DeviceMatrix<S>(a), DeviceMatrix<S>(b));
  require_close<S>(d.download(), Matrix<S>(a.cwiseProduct(b)));
  CudaBackend::transpose_into(t, d);
  require_close<S>(t.download(), Matrix<S>(a.cwiseProduct(b).transpose()));
  CudaBackend::scale(t, S(-0.5));
  require_close<S>(t.download(), Matrix<S>(S(-0.5) * a.cwiseProduct(b).transpose()));
  const double norm = CudaBackend::squared_norm(DeviceMatrix<S>(a));
  CHECK(norm == Approx(static_cast<double>(a.squaredNorm())).epsilon(1e-5));
  // In place: d = d .* b, and d = b .* d.
  CudaBackend::multiply(d, d, DeviceMatrix<S>(b));
  require_close<S>(d.download(), Matrix<S>(a.cwiseProduct(b).cwiseProduct(b)));
  CudaBackend::multiply(d, DeviceMatrix<S>(a), d);
  require_close<S>(d.download(), Matrix<S>(a.cwiseProduct(a).cwiseProduct(b).cwiseProduct(b)));
}

TEST_CASE("a moved-from device matrix is empty and takes a new shape", "[cuda][backend]") {
  Rng rng(35);
  const Matrix<float> a = random_matrix<float>(rng, 4, 3);
  DeviceMatrix<float> from(a);
  const DeviceMatrix<float> to(std::move(from));
  CHECK(from.rows() == 0);  // NOLINT(bugprone-use-after-move): the moved-from state is the point
  CHECK(from.size() == 0);
  // The same shape again must allocate, not write through the moved-out buffer.
  CudaBackend::copy(from, to);
  require_close<float>(from.download(), a);
  DeviceMatrix<float> assigned;
  assigned = std::move(from);
  CHECK(from.cols() == 0);  // NOLINT(bugprone-use-after-move)
  require_close<float>(assigned.download(), a);
}

TEMPLATE_TEST_CASE("the policy layer on the device matches the host, shared and per step", "[cuda][backend]",
                   float, double) {
  using S = TestType;
  const auto sharing = GENERATE(nn::HeadSharing::shared, nn::HeadSharing::per_step);
  const Index hidden = 9, steps = 5, n = 7;
  Rng init_host(4), init_device(4), rng(5);
  nn::PolicyHead<S> host(hidden, steps, init_host, sharing);
  nn::PolicyHead<S, CudaBackend> device(hidden, steps, init_device, sharing);
  for (int batch = 0; batch < 2; ++batch) {  // gradients accumulate over two batches
    const Matrix<S> states = random_matrix<S>(rng, hidden, steps * n);
    const Matrix<S> d_prob = random_matrix<S>(rng, steps, n);
    require_close<S>(device.forward(DeviceMatrix<S>(states)).download(), host.forward(states));
    require_close<S>(device.infer(DeviceMatrix<S>(states)).download(), host.infer(states));
    require_close<S>(device.backward(DeviceMatrix<S>(d_prob)).download(), host.backward(d_prob));
  }
  require_same_grads<S>(host, device);
}

TEST_CASE("dropout on the device drops the host's elements", "[cuda][backend]") {
  Rng rng(6);
  nn::Dropout<float> host(0.4, 77);
  nn::Dropout<float, CudaBackend> device(0.4, 77);
  for (int batch = 0; batch < 2; ++batch) {
    const Matrix<float> x = random_matrix<float>(rng, 8, 6), dy = random_matrix<float>(rng, 8, 6);
    CHECK(device.forward(DeviceMatrix<float>(x)).download() == host.forward(x));
    CHECK(device.backward(DeviceMatrix<float>(dy)).download() == host.backward(dy));
    CHECK(device.mask() == host.mask());
  }
}

TEST_CASE("a DRLIH training step on the device matches the host step", "[cuda][backend][drlih]") {
  using HostDrlih = DrlihHasher<MlpRepresentation<double>>;
  using DeviceDrlih = DrlihHasher<MlpRepresentation<double, CudaBackend>>;
  HostDrlih::Config config;
  config.bits = 10;
  config.group_size = 4;
  config.rnn_hidden = 24;
  config.per_step_heads = GENERATE(false, true);
  config.repr.repr_hidden1 = 20;
  config.repr.repr_hidden2 = 16;
  config.repr.repr_dropout = 0.2;
  config.seed = 8;
  const auto device_config = test::same_settings<DeviceDrlih::Config>(config);
  auto host_net = HostDrlih(config).make_network(12);
  auto device_net = DeviceDrlih(device_config).make_network(12);

  const auto data = test::four_blobs(8, 2);
  const Matrix<double> x = data.x.cast<double>();
  const auto triplets = test::every_triplet(data.labels, 3);
  const auto groups = action_groups(config.bits, config.group_size);
  GroupRewardOptions reward;
  Rng host_rng(12), device_rng(12);
  for (int step = 0; step < 2; ++step) {
    host_net.zero_grad();
    device_net.zero_grad();
    const double host_loss = HostDrlih::training_step(host_net, x, triplets, groups, reward, 1.0, host_rng);
    const double device_loss = DeviceDrlih::training_step(device_net, DeviceMatrix<double>(x), triplets,
                                                          groups, reward, 1.0, device_rng);
    CHECK(device_loss == Approx(host_loss).epsilon(1e-9));
    require_same_grads<double>(host_net, device_net);
  }
  require_close<double>(device_net.infer(DeviceMatrix<double>(x)).download(), host_net.infer(x));
}

TEST_CASE("DRLIH fits on the device as on the host; the model files are interchangeable", "[cuda][drlih]") {
  using DeviceDrlih = DrlihOn<CudaBackend>;
  Drlih::Config config;
  config.bits = 12;
  config.group_size = 4;
  config.rnn_hidden = 32;
  config.repr.repr_hidden1 = 32;
  config.repr.repr_hidden2 = 24;
  config.batch_size = 16;
  config.epochs = 6;
  config.learning_rate = 5e-3;
  config.seed = 2;
  const auto device_config = test::same_settings<DeviceDrlih::Config>(config);
  const auto data = test::four_blobs(20, 6), validation = test::four_blobs(8, 7);
  const FitOptions options = test::validating_on(validation);

  Drlih host(config);
  host.fit(data.x, data.labels, options);
  DeviceDrlih device(device_config);
  device.fit(data.x, data.labels, options);
  // Float rounding differs between cuBLAS and Eigen, and training amplifies it a little; the
  // trained models must still agree on what they learnt.
  REQUIRE(device.last_result().has_best);
  CHECK(device.last_result().best_metric == Approx(host.last_result().best_metric).margin(0.02));
  const MatrixF p_host = host.probabilities(validation.x), p_device = device.probabilities(validation.x);
  CHECK((p_host - p_device).cwiseAbs().mean() < 0.02f);

  const auto loaded = test::reloaded_as<Drlih>(device, config);
  require_close<float>(loaded.probabilities(validation.x), p_device);
}

TEST_CASE("deep policy hashing fits on the device as on the host", "[cuda][dph]") {
  PolicyHashing::Config config;
  config.bits = 12;
  config.seed = 4;
  config.network.hidden1 = 32;
  config.network.hidden2 = 24;
  config.samples = 4;
  config.batch_size = 16;
  config.epochs = 6;
  config.learning_rate = 3e-3;
  config.database_update_every = 5;
  const auto data = test::four_blobs(20, 6), validation = test::four_blobs(8, 7);
  const FitOptions options = test::validating_on(validation);
  PolicyHashing host(config);
  host.fit(data.x, data.labels, options);
  PolicyHashingOn<CudaBackend> device(test::same_settings<PolicyHashingOn<CudaBackend>::Config>(config));
  device.fit(data.x, data.labels, options);
  // The sampled codes follow the probabilities, which differ by float rounding between cuBLAS and
  // Eigen, so a draw near p can flip and the runs drift apart; what they learn must agree.
  CHECK(device.database_updates() == host.database_updates());
  REQUIRE(device.last_result().has_best);
  CHECK(device.last_result().best_metric == Approx(host.last_result().best_metric).margin(0.05));
  const auto loaded = test::reloaded_as<PolicyHashing>(device, config);
  require_close<float>(loaded.probabilities(validation.x), device.probabilities(validation.x));
}

TEST_CASE("DRLH fits on the device as on the host", "[cuda][drlh]") {
  Drlh::Config config;
  config.bits = 8;
  config.seed = 3;
  config.representation = "input";
  config.hidden1 = 48;
  config.trunk.hidden2 = 48;
  config.episodes = 16;
  config.batch_size = 32;
  config.updates_per_step = 2;
  config.learning_starts = 64;
  config.target_period = 50;
  config.learning_rate = 2e-3;
  config.epochs = 8;
  const auto data = test::four_blobs(20, 6), validation = test::four_blobs(8, 7);
  const FitOptions options = test::validating_on(validation);
  Drlh host(config);
  host.fit(data.x, data.labels, options);
  DrlhOn<CudaBackend> device(test::same_settings<DrlhOn<CudaBackend>::Config>(config));
  device.fit(data.x, data.labels, options);
  // Float rounding differs between cuBLAS and Eigen; a near-tie of two Q-values can pick another
  // action and the runs drift apart. What they learn must agree.
  CHECK(device.last_result().best_validation_map ==
        Approx(host.last_result().best_validation_map).margin(0.05));
  const auto loaded = test::reloaded_as<Drlh>(device, config);
  // The same weights: the greedy walks differ only where two Q-values tie to float rounding.
  const auto a = test::words_of(loaded.encode(validation.x)), b = test::words_of(device.encode(validation.x));
  REQUIRE(a.size() == b.size());  // 8 bits: one word per code
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
  CHECK(static_cast<double>(same) >= 0.95 * static_cast<double>(a.size()));
}

TEST_CASE("the BCH classifier over a frozen representation fits on the device as on the host",
          "[cuda][bch]") {
  BchClassifier::Config config;
  config.bits = 15;
  config.seed = 2;
  config.representation = "fc-triplet";  // FC-triplet pre-trained on the device, then frozen
  config.repr.repr_hidden1 = 32;
  config.repr.repr_hidden2 = 16;
  config.hidden = 32;
  config.epochs = 10;
  const auto data = test::four_blobs(20, 8), validation = test::four_blobs(8, 9);
  const FitOptions options = test::validating_on(validation);
  BchClassifier host(config);
  host.fit(data.x, data.labels, options);
  BchClassifierOn<CudaBackend> device(test::same_settings<BchClassifierOn<CudaBackend>::Config>(config));
  device.fit(data.x, data.labels, options);
  // Well-separated blobs: both classify the validation set alike, whatever float rounding does.
  CHECK(device.last_result().best_metric == Approx(host.last_result().best_metric).margin(0.05));
  const auto loaded = test::reloaded_as<BchClassifier>(device, config);
  CHECK(loaded.classify(validation.x) == device.classify(validation.x));
  CHECK(device.encode(validation.x) == host.encode(validation.x));
}
