#include <catch.hpp>
#include <test_util.hpp>

#include <cmath>

#include "gradient_check.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/nn/trainer.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_optim {
using test::random_matrix;

namespace {
// One 2 x 3 parameter with a hand-set gradient, to check the update rules by hand.
struct Toy {
  Eigen::MatrixXd value = Eigen::MatrixXd::Constant(2, 3, 1.0);
  Eigen::MatrixXd grad = Eigen::MatrixXd::Constant(2, 3, 0.5);
  ParameterList<double> params() { return {make_param(value, grad, "w")}; }
};
}  // namespace

TEST_CASE("SGD, momentum, Nesterov and weight decay updates", "[nn][optim]") {
  Toy toy;
  Sgd<double> plain(SgdConfig{0.1, 0.0, 0.01, false});
  plain.step(toy.params());
  CHECK(toy.value(0, 0) == Approx(1 - 0.1 * (0.5 + 0.01 * 1)));

  Toy m;
  Sgd<double> momentum(SgdConfig{0.1, 0.9, 0.0, false});
  momentum.step(m.params());  // v = 0.5
  momentum.step(m.params());  // v = 0.9 * 0.5 + 0.5 = 0.95
  CHECK(m.value(1, 2) == Approx(1 - 0.1 * 0.5 - 0.1 * 0.95));
  REQUIRE(momentum.state().size() == 1);
  CHECK(momentum.state()[0].velocity(0, 0) == Approx(0.95));

  Toy n;
  Sgd<double> nesterov(SgdConfig{0.1, 0.9, 0.0, true});
  nesterov.step(n.params());  // v = 0.5, update g + mu v = 0.95
  CHECK(n.value(0, 1) == Approx(1 - 0.1 * 0.95));
  CHECK_THROWS_AS(Sgd<double>(SgdConfig{0.1, 1.0, 0, false}), InvalidArgument);
}

TEST_CASE("Adam update with bias correction, coupled and decoupled decay", "[nn][optim]") {
  Toy toy;
  Adam<double> adam(AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.0, false});
  adam.step(toy.params());
  // After one step m^ = g, v^ = g^2: the update is lr * g / (|g| + eps) = lr.
  CHECK(toy.value(0, 0) == Approx(1 - 0.01).epsilon(1e-9));
  toy.grad.setConstant(-0.25);
  adam.step(toy.params());
  const double m = 0.9 * 0.1 * 0.5 + 0.1 * -0.25, v = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625;
  const double mh = m / (1 - 0.81), vh = v / (1 - 0.999 * 0.999);
  const double after_first = 1 - 0.01 * 0.5 / (0.5 + 1e-8);
  CHECK(toy.value(1, 1) == Approx(after_first - 0.01 * mh / (std::sqrt(vh) + 1e-8)).epsilon(1e-12));
  CHECK(adam.steps() == 2);

  Toy coupled, decoupled;
  Adam<double> a1(AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.1, false}),
      a2(AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.1, true});
  a1.step(coupled.params());
  a2.step(decoupled.params());
  CHECK(coupled.value(0, 0) == Approx(1 - 0.01).epsilon(1e-9));  // g + wd w, normalised away
  CHECK(decoupled.value(0, 0) == Approx(1 * (1 - 0.001) - 0.01).epsilon(1e-9));
}

TEST_CASE("optimizer state round-trips and rejects mismatches", "[nn][optim]") {
  Toy toy;
  Adam<double> adam;
  adam.step(toy.params());
  adam.step(toy.params());
  ByteWriter out;
  adam.save_state(out);
  Adam<double> restored;
  ByteReader in(out.bytes().data(), out.bytes().size(), "adam");
  restored.load_state(in, toy.params());
  in.expect_end();
  REQUIRE(restored.state().size() == 1);
  CHECK(restored.state()[0].m == adam.state()[0].m);
  CHECK(restored.state()[0].v == adam.state()[0].v);
  CHECK(restored.steps() == 2);

  Eigen::MatrixXd other_value = Eigen::MatrixXd::Zero(3, 3), other_grad = other_value;
  const ParameterList<double> other{make_param(other_value, other_grad, "w")};
  ByteReader again(out.bytes().data(), out.bytes().size(), "adam");
  Adam<double> fresh;
  CHECK_THROWS_AS(fresh.load_state(again, other), FormatError);
  CHECK(fresh.state().empty());
  ByteReader as_sgd(out.bytes().data(), out.bytes().size(), "adam");
  Sgd<double> sgd;
  CHECK_THROWS_WITH(sgd.load_state(as_sgd, toy.params()), Catch::Contains("optimizer 'sgd'"));
  CHECK_THROWS_AS(adam.step(other), StateError);  // state is per parameter, by position and shape
}

TEST_CASE("schedules", "[nn][optim]") {
  const StepDecaySchedule drlih{1e-3, 0.1, 10000};
  CHECK(drlih(0) == Approx(1e-3));
  CHECK(drlih(9999) == Approx(1e-3));
  CHECK(drlih(10000) == Approx(1e-4));
  CHECK(drlih(25000) == Approx(1e-5));
  const LinearSchedule linear{1.0, 0.1, 100};
  CHECK(linear(0) == 1.0);
  CHECK(linear(50) == Approx(0.55));
  CHECK(linear(100) == Approx(0.1));
  CHECK(linear(1000) == Approx(0.1));
  CHECK(ConstantSchedule{0.5}(123) == 0.5);
}

TEST_CASE("global gradient-norm clipping", "[nn][optim]") {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(1, 2), ga(1, 2), b = Eigen::MatrixXd::Zero(1, 1), gb(1, 1);
  ga << 3, 0;
  gb << 4;
  const ParameterList<double> params{make_param(a, ga, "a"), make_param(b, gb, "b")};
  CHECK(clip_grad_norm(params, 10.0) == Approx(5));
  CHECK(ga(0, 0) == 3);  // under the limit: untouched
  CHECK(clip_grad_norm(params, 1.0) == Approx(5));
  CHECK(grad_norm(params) == Approx(1));
  CHECK(gb(0, 0) == Approx(0.8));
}

namespace {
using RegressionNet = Sequential<Dense<float>, Tanh<float>, Dense<float>>;

struct Regression {
  Eigen::MatrixXf x, y;
  explicit Regression(Rng& rng, Index n = 256) : x(2, n), y(1, n) {
    x = random_matrix(2, n, rng).cast<float>();
    for (Index j = 0; j < n; ++j) y(0, j) = std::sin(3.0f * x(0, j)) * 0.5f + x(1, j) * x(1, j);
  }
};

template <class Optimizer, class Schedule>
std::pair<double, std::vector<Eigen::MatrixXf>> fit_regression(Optimizer optimizer, Schedule schedule,
                                                               int epochs) {
  Rng data_rng(100), init_rng(101);
  const Regression data(data_rng);
  RegressionNet net(Dense<float>(2, 32, init_rng), Tanh<float>(), Dense<float>(32, 1, init_rng));
  TrainerConfig config;
  config.epochs = epochs;
  config.batch_size = 32;
  config.seed = 7;
  Trainer trainer(net, optimizer, schedule, config);
  Eigen::MatrixXf xb, yb, grad;
  trainer.run(data.x.cols(), [&](const std::vector<Index>& batch, StepContext&) {
    xb.resize(2, static_cast<Index>(batch.size()));
    yb.resize(1, static_cast<Index>(batch.size()));
    for (std::size_t i = 0; i < batch.size(); ++i) {
      xb.col(static_cast<Index>(i)) = data.x.col(batch[i]);
      yb.col(static_cast<Index>(i)) = data.y.col(batch[i]);
    }
    const double loss = mse_loss(net.forward(xb), yb, &grad);
    net.backward(grad);
    return loss;
  });
  const double final_loss = mse_loss(net.infer(data.x), data.y);
  return {final_loss, copy_values(net.parameters())};
}

using Classifier = Sequential<Dense<float>, ReLU<float>, Dense<float>, ReLU<float>, Dense<float>>;

// Three interleaved spiral arms: not linearly separable.
struct Spirals {
  Eigen::MatrixXf x;
  std::vector<Index> labels;
  explicit Spirals(Rng& rng, Index per_class = 100) : x(2, 3 * per_class) {
    for (Index c = 0; c < 3; ++c)
      for (Index i = 0; i < per_class; ++i) {
        const double r = static_cast<double>(i) / static_cast<double>(per_class);
        const double angle = 4.0 * r + 2.094 * static_cast<double>(c) + 0.1 * standard_normal(rng);
        x(0, c * per_class + i) = static_cast<float>(r * std::cos(angle));
        x(1, c * per_class + i) = static_cast<float>(r * std::sin(angle));
        labels.push_back(c);
      }
  }
};

template <class Optimizer>
std::pair<double, double> fit_spirals(Optimizer optimizer, int epochs) {
  Rng data_rng(200), init_rng(201);
  const Spirals data(data_rng);
  Classifier net(Dense<float>(2, 64, init_rng, Init::he_uniform), ReLU<float>(),
                 Dense<float>(64, 64, init_rng, Init::he_uniform), ReLU<float>(),
                 Dense<float>(64, 3, init_rng));
  TrainerConfig config;
  config.epochs = epochs;
  config.batch_size = 30;
  config.seed = 9;
  Trainer trainer(net, optimizer, ConstantSchedule{optimizer.learning_rate()}, config);
  Eigen::MatrixXf xb, grad;
  std::vector<Index> yb;
  trainer.run(data.x.cols(), [&](const std::vector<Index>& batch, StepContext&) {
    xb.resize(2, static_cast<Index>(batch.size()));
    yb.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      xb.col(static_cast<Index>(i)) = data.x.col(batch[i]);
      yb.push_back(data.labels[static_cast<std::size_t>(batch[i])]);
    }
    const double loss = softmax_cross_entropy(net.forward(xb), yb, &grad);
    net.backward(grad);
    return loss;
  });
  const Eigen::MatrixXf logits = net.infer(data.x);
  Index correct = 0;
  for (Index j = 0; j < logits.cols(); ++j) {
    Index best = 0;
    logits.col(j).maxCoeff(&best);
    correct += best == data.labels[static_cast<std::size_t>(j)];
  }
  return {softmax_cross_entropy(logits, data.labels),
          static_cast<double>(correct) / static_cast<double>(logits.cols())};
}
}  // namespace

TEST_CASE("each optimizer fits a small regression, deterministically", "[nn][optim][train]") {
  // The target's variance is about 0.2; the stated goal is a training MSE below 0.01.
  SECTION("SGD with momentum and step decay") {
    const auto [loss, params] =
        fit_regression(Sgd<float>(SgdConfig{0.05, 0.9, 0.0, false}), StepDecaySchedule{0.05, 0.5, 2000}, 400);
    INFO("MSE " << loss);
    CHECK(loss < 0.01);
    const auto again =
        fit_regression(Sgd<float>(SgdConfig{0.05, 0.9, 0.0, false}), StepDecaySchedule{0.05, 0.5, 2000}, 400);
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i] == again.second[i]);  // bit for bit
  }
  SECTION("Adam with a linear schedule and weight decay") {
    const auto [loss, params] = fit_regression(Adam<float>(AdamConfig{0.01, 0.9, 0.999, 1e-8, 1e-5, false}),
                                               LinearSchedule{0.01, 0.001, 3200}, 400);
    INFO("MSE " << loss);
    CHECK(loss < 0.01);
    const auto again = fit_regression(Adam<float>(AdamConfig{0.01, 0.9, 0.999, 1e-8, 1e-5, false}),
                                      LinearSchedule{0.01, 0.001, 3200}, 400);
    for (std::size_t i = 0; i < params.size(); ++i) CHECK(params[i] == again.second[i]);
  }
}

TEST_CASE("each optimizer fits a small classification problem", "[nn][optim][train]") {
  // Three spiral arms, 300 points; the stated goal: cross-entropy below 0.1, accuracy >= 97%.
  SECTION("SGD with momentum") {
    const auto [loss, accuracy] = fit_spirals(Sgd<float>(SgdConfig{0.1, 0.9, 0.0, false}), 300);
    INFO("cross-entropy " << loss << ", accuracy " << accuracy);
    CHECK(loss < 0.1);
    CHECK(accuracy >= 0.97);
  }
  SECTION("Adam") {
    const auto [loss, accuracy] = fit_spirals(Adam<float>(AdamConfig{0.01}), 300);
    INFO("cross-entropy " << loss << ", accuracy " << accuracy);
    CHECK(loss < 0.1);
    CHECK(accuracy >= 0.97);
  }
}

}  // namespace rlhash::nn::test_optim
