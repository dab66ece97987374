// The layers on the CUDA backend against the same layers on the host backend: forward,
// backward, parameter gradients (accumulated over several batches), the optimizers' updates,
// one whole training step, and the exact host <-> device round trip of parameters. Runs only
// with a CUDA device (gpu_main.cpp returns the skip code otherwise).
#include <catch.hpp>

#include <cstdint>
#include <vector>

#include "device_compare.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/elman_rnn.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/sequential.hpp"

using namespace rlhash;
using rlhash::cuda::CudaBackend;
using rlhash::cuda::DeviceMatrix;
using rlhash::test::random_matrix;
using rlhash::test::require_close;

namespace {

template <class S>
DeviceMatrix<S> to_device(const Matrix<S>& m) {
  return DeviceMatrix<S>(m);
}

/// Every parameter value and gradient of the device module equals the host module's within
/// float rounding.
template <class S, class Host, class Device>
void require_same_parameters(Host& host, Device& device) {
  const auto h = host.parameters();
  const auto d = device.parameters();
  REQUIRE(h.size() == d.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    INFO("parameter " << h[i].name);
    REQUIRE(d[i].name == h[i].name);
    Matrix<S> value(d[i].rows, d[i].cols), grad(d[i].rows, d[i].cols);
    CudaBackend::download(value.data(), d[i].value_data, static_cast<std::size_t>(d[i].size()));
    CudaBackend::download(grad.data(), d[i].grad_data, static_cast<std::size_t>(d[i].size()));
    require_close<S>(value, h[i].value());
    require_close<S>(grad, h[i].grad());
  }
}

}  // namespace

TEMPLATE_TEST_CASE("Dense on the device matches the host layer", "[cuda][backend]", float, double) {
  using S = TestType;
  Rng init_host(17), init_device(17), rng(3);
  nn::Dense<S> host(37, 19, init_host);
  nn::Dense<S, CudaBackend> device(37, 19, init_device);  // the same host draws
  CHECK(device.weight().download() == host.weight());
  host.bias() = random_matrix<S>(rng, 19, 1);
  device.bias().upload(host.bias());
  for (Index batch : {Index{1}, Index{64}, Index{33}}) {  // gradients accumulate over the batches
    const Matrix<S> x = random_matrix<S>(rng, 37, batch), dy = random_matrix<S>(rng, 19, batch);
    require_close<S>(device.forward(to_device(x)).download(), host.forward(x));
    require_close<S>(device.backward(to_device(dy)).download(), host.backward(dy));
    require_close<S>(device.infer(to_device(x)).download(), host.infer(x));
  }
  require_same_parameters<S>(host, device);
  device.zero_grad();
  CHECK(device.weight_grad().download().cwiseAbs().maxCoeff() == S(0));
  CHECK(device.bias_grad().download().cwiseAbs().maxCoeff() == S(0));
  CHECK_THROWS_AS(device.forward(DeviceMatrix<S>(36, 2)), InvalidArgument);
  CHECK_THROWS_AS(device.backward(DeviceMatrix<S>(19, 5)), InvalidArgument);
}

TEMPLATE_TEST_CASE("activations on the device match the host", "[cuda][backend]", float, double) {
  using S = TestType;
  Rng rng(8);
  // Large inputs reach sigmoid's and tanh's saturation; exact zeros hit ReLU's kink.
  Matrix<S> x = S(6) * random_matrix<S>(rng, 13, 21);
  x(0, 0) = S(0);
  x(1, 0) = S(-200);
  const Matrix<S> dy = random_matrix<S>(rng, 13, 21);
  auto check = [&](auto host, auto device) {
    require_close<S>(device.forward(to_device(x)).download(), host.forward(x));
    require_close<S>(device.backward(to_device(dy)).download(), host.backward(dy));
    require_close<S>(device.infer(to_device(x)).download(), host.infer(x));
    CHECK_THROWS_AS(device.backward(DeviceMatrix<S>(13, 20)), InvalidArgument);
  };
  check(nn::Tanh<S>(), nn::Tanh<S, CudaBackend>());
  check(nn::Sigmoid<S>(), nn::Sigmoid<S, CudaBackend>());
  check(nn::ReLU<S>(), nn::ReLU<S, CudaBackend>());
}

TEMPLATE_TEST_CASE("ElmanRnn on the device matches the host layer", "[cuda][backend]", float, double) {
  using S = TestType;
  const Index inputs = 11, hidden = 24, n = 5, steps = 6;
  Rng init_host(4), init_device(4), rng(5);
  nn::ElmanRnn<S> host(inputs, hidden, init_host);
  nn::ElmanRnn<S, CudaBackend> device(inputs, hidden, init_device);
  host.bias() = random_matrix<S>(rng, hidden, 1);
  device.bias().upload(host.bias());
  for (bool with_final : {true, false}) {
    const Matrix<S> x = random_matrix<S>(rng, inputs, steps * n), c0 = random_matrix<S>(rng, hidden, n),
                    d_states = random_matrix<S>(rng, hidden, steps * n),
                    d_final = with_final ? random_matrix<S>(rng, hidden, n) : Matrix<S>();
    require_close<S>(device.forward(to_device(x), to_device(c0)).download(), host.forward(x, c0));
    require_close<S>(device.backward(to_device(d_states), to_device(d_final)).download(),
                     host.backward(d_states, d_final));
    require_close<S>(device.initial_state_grad().download(), host.initial_state_grad());
  }
  require_same_parameters<S>(host, device);
}

TEMPLATE_TEST_CASE("FeatureFirstRnn on the device matches the host layer", "[cuda][backend]", float, double) {
  using S = TestType;
  const Index features = 9, hidden = 32, n = 7;
  Rng init_host(6), init_device(6), rng(7);
  nn::FeatureFirstRnn<S> host(features, hidden, init_host);
  nn::FeatureFirstRnn<S, CudaBackend> device(features, hidden, init_device);
  host.bias() = random_matrix<S>(rng, hidden, 1);
  device.bias().upload(host.bias());
  // Groups of 3 over 8 steps (a short last group), one group, and groups of one step.
  for (Index group : {Index{3}, Index{0}, Index{1}}) {
    const Index steps = 8;
    const Matrix<S> feature = random_matrix<S>(rng, features, n), h0 = random_matrix<S>(rng, hidden, n),
                    d_states = random_matrix<S>(rng, hidden, steps * n),
                    d_final = random_matrix<S>(rng, hidden, n);
    require_close<S>(device.forward(to_device(feature), to_device(h0), steps, group).download(),
                     host.forward(feature, h0, steps, group));
    require_close<S>(device.backward(to_device(d_states), to_device(d_final)).download(),
                     host.backward(d_states, d_final));
    require_close<S>(device.history_grad().download(), host.history_grad());
  }
  require_same_parameters<S>(host, device);
}

TEST_CASE("a Sequential of device layers matches the host chain", "[cuda][backend]") {
  Rng init_host(41), init_device(41), rng(42);
  using Host = nn::Sequential<nn::Dense<float>, nn::ReLU<float>, nn::Dense<float>, nn::Sigmoid<float>>;
  using Device = nn::Sequential<nn::Dense<float, CudaBackend>, nn::ReLU<float, CudaBackend>,
                                nn::Dense<float, CudaBackend>, nn::Sigmoid<float, CudaBackend>>;
  Host host(nn::Dense<float>(20, 16, init_host), nn::ReLU<float>(), nn::Dense<float>(16, 8, init_host),
            nn::Sigmoid<float>());
  Device device(nn::Dense<float, CudaBackend>(20, 16, init_device), nn::ReLU<float, CudaBackend>(),
                nn::Dense<float, CudaBackend>(16, 8, init_device), nn::Sigmoid<float, CudaBackend>());
  const Matrix<float> x = random_matrix<float>(rng, 20, 9), dy = random_matrix<float>(rng, 8, 9);
  require_close<float>(device.forward(to_device(x)).download(), host.forward(x));
  require_close<float>(device.backward(to_device(dy)).download(), host.backward(dy));
  require_close<float>(device.infer(to_device(x)).download(), host.infer(x));
  require_same_parameters<float>(host, device);
}

TEST_CASE("parameters round-trip host -> device -> host exactly, and through a checkpoint",
          "[cuda][backend]") {
  Rng rng(4), other(99);
  nn::FeatureFirstRnn<float> host(8, 16, rng);
  nn::FeatureFirstRnn<float, CudaBackend> device(8, 16, other);  // other weights, then overwritten
  auto host_params = host.parameters();
  for (auto& p : host_params) p.grad() = random_matrix<float>(rng, p.rows, p.cols);
  nn::copy_module(host, device);
  nn::FeatureFirstRnn<float> back(8, 16, other);
  nn::copy_module(device, back);
  const auto back_params = back.parameters();
  for (std::size_t i = 0; i < host_params.size(); ++i) {
    CHECK(back_params[i].value() == host_params[i].value());
    CHECK(back_params[i].grad() == host_params[i].grad());
  }
  // A checkpoint of the device model is the host model's file.
  ByteWriter out;
  nn::save_module(out, back);
  nn::FeatureFirstRnn<float> restored(8, 16, other);
  ByteReader in(out.bytes().data(), out.bytes().size(), "checkpoint");
  nn::load_module(in, restored);
  CHECK(restored.hidden_weight() == host.hidden_weight());
  nn::FeatureFirstRnn<float> wrong(8, 17, other);
  CHECK_THROWS_AS(nn::copy_module(device, wrong), InvalidArgument);
}

TEST_CASE("Sgd and Adam on device parameters match the host optimizers", "[cuda][backend]") {
  Rng init_host(12), init_device(12), rng(13);
  nn::Dense<float> host(10, 6, init_host);
  nn::Dense<float, CudaBackend> device(10, 6, init_device);
  nn::Sgd<float> sgd_host(nn::SgdConfig{0.1, 0.9, 0.01, true});
  nn::Sgd<float, CudaBackend> sgd_device(nn::SgdConfig{0.1, 0.9, 0.01, true});
  nn::Sgd<float> plain_host(nn::SgdConfig{0.05, 0.0, 0.0, false});
  nn::Sgd<float, CudaBackend> plain_device(nn::SgdConfig{0.05, 0.0, 0.0, false});
  nn::Adam<float> adam_host(nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.01, false});
  nn::Adam<float, CudaBackend> adam_device(nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.01, false});
  nn::Adam<float> adamw_host(nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.1, true});
  nn::Adam<float, CudaBackend> adamw_device(nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.1, true});
  for (int step = 0; step < 3; ++step) {
    auto set_gradients = [&] {
      const auto h = host.parameters();
      const auto d = device.parameters();
      for (std::size_t i = 0; i < h.size(); ++i) {
        h[i].grad() = random_matrix<float>(rng, h[i].rows, h[i].cols);
        CudaBackend::upload(d[i].grad_data, h[i].grad_data, static_cast<std::size_t>(h[i].size()));
      }
    };
    set_gradients();
    sgd_host.step(host.parameters());
    sgd_device.step(device.parameters());
    set_gradients();
    plain_host.step(host.parameters());
    plain_device.step(device.parameters());
    set_gradients();
    adam_host.step(host.parameters());
    adam_device.step(device.parameters());
    set_gradients();
    adamw_host.step(host.parameters());
    adamw_device.step(device.parameters());
    require_same_parameters<float>(host, device);
  }
  // The device optimizer's saved state is the host optimizer's format.
  ByteWriter out;
  adam_device.save_state(out);
  nn::Adam<float> restored;
  ByteReader in(out.bytes().data(), out.bytes().size(), "optimizer");
  restored.load_state(in, host.parameters());
  REQUIRE(restored.state().size() == adam_host.state().size());
  require_close<float>(restored.state()[0].m, adam_host.state()[0].m);
  require_close<float>(restored.state()[0].v, adam_host.state()[0].v);
}

TEST_CASE("one DRLIH-shaped training step on the device matches the host", "[cuda][backend]") {
  // The agent (feature-first RNN), a shared policy layer over all steps' states (Dense to one
  // logit + sigmoid: bit t of sample n is entry t N + n), a loss on the host, backward through
  // time, and one SGD-with-momentum update of every parameter. (Not Adam: its first update is
  // lr * sign(g), which turns a gradient that is zero up to rounding into a full step; Adam is
  // compared on random gradients above.)
  const Index features = 12, hidden = 40, n = 6, bits = 10, group = 4;
  Rng init_host(21), init_device(21), rng(22);
  nn::FeatureFirstRnn<float> rnn_host(features, hidden, init_host);
  nn::Dense<float> head_host(hidden, 1, init_host);
  nn::Sigmoid<float> sigmoid_host;
  nn::FeatureFirstRnn<float, CudaBackend> rnn_device(features, hidden, init_device);
  nn::Dense<float, CudaBackend> head_device(hidden, 1, init_device);
  nn::Sigmoid<float, CudaBackend> sigmoid_device;
  nn::Sgd<float> sgd_host(nn::SgdConfig{0.1, 0.9, 0.0, false});
  nn::Sgd<float, CudaBackend> sgd_device(nn::SgdConfig{0.1, 0.9, 0.0, false});
  auto parameters_host = [&] {
    nn::ParameterList<float> list;
    nn::append_parameters(list, rnn_host.parameters(), "rnn.");
    nn::append_parameters(list, head_host.parameters(), "head.");
    return list;
  };
  auto parameters_device = [&] {
    nn::ParameterList<float, CudaBackend> list;
    nn::append_parameters(list, rnn_device.parameters(), "rnn.");
    nn::append_parameters(list, head_device.parameters(), "head.");
    return list;
  };
  const Matrix<float> feature = random_matrix<float>(rng, features, n);
  Matrix<float> target(1, bits * n);
  for (Index i = 0; i < target.size(); ++i) target(i) = static_cast<float>(uniform_below(rng, 2));
  // L = sum (p - target)^2 / (2 N): dL/dp = (p - target) / N, computed on the host.
  auto loss_grad = [&](const Matrix<float>& p) {
    return Matrix<float>((p - target) / static_cast<float>(n));
  };
  for (int step = 0; step < 2; ++step) {
    rnn_host.zero_grad();
    head_host.zero_grad();
    const Matrix<float>& p_host = sigmoid_host.forward(
        head_host.forward(rnn_host.forward(feature, Matrix<float>::Zero(hidden, n), bits, group)));
    rnn_host.backward(head_host.backward(sigmoid_host.backward(loss_grad(p_host))));
    sgd_host.step(parameters_host());

    rnn_device.zero_grad();
    head_device.zero_grad();
    const DeviceMatrix<float> h0 = CudaBackend::zeros<float>(hidden, n);
    const Matrix<float> p_device =
        sigmoid_device.forward(head_device.forward(rnn_device.forward(to_device(feature), h0, bits, group)))
            .download();
    require_close<float>(p_device, p_host);
    rnn_device.backward(head_device.backward(sigmoid_device.backward(to_device(loss_grad(p_device)))));
    sgd_device.step(parameters_device());
    require_same_parameters<float>(rnn_host, rnn_device);
    require_same_parameters<float>(head_host, head_device);
  }
}
