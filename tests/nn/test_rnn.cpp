#include <catch.hpp>
#include <test_util.hpp>

#include "gradient_check.hpp"
#include "rlhash/nn/elman_rnn.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_rnn {
using test::check_gradient;
using test::random_matrix;
using test::require_close;

namespace {
// Per-sample, per-step reference of eq. (5) written from the formula, not from the layer.
Eigen::MatrixXd reference_elman(const Eigen::MatrixXd& wx, const Eigen::MatrixXd& wh,
                                const Eigen::VectorXd& b, const Eigen::MatrixXd& x,
                                const Eigen::MatrixXd& c0) {
  const Eigen::Index n = c0.cols(), steps = x.cols() / n;
  Eigen::MatrixXd out(wh.rows(), x.cols());
  for (Eigen::Index j = 0; j < n; ++j) {
    Eigen::VectorXd c = c0.col(j);
    for (Eigen::Index t = 0; t < steps; ++t) {
      c = (wx * x.col(t * n + j) + wh * c + b).array().tanh().matrix();
      out.col(t * n + j) = c;
    }
  }
  return out;
}

Eigen::MatrixXd reference_feature_first(FeatureFirstRnn<double>& rnn, const Eigen::MatrixXd& f,
                                        const Eigen::MatrixXd& h0, Eigen::Index steps, Eigen::Index group) {
  const Eigen::Index n = f.cols();
  Eigen::MatrixXd out(rnn.hidden(), steps * n);
  for (Eigen::Index j = 0; j < n; ++j) {
    Eigen::VectorXd c = h0.col(j);
    for (Eigen::Index s = 0; s < steps; ++s) {
      Eigen::VectorXd a;
      if (s % group == 0)
        a = rnn.feature_weight() * f.col(j) + rnn.hidden_weight() * c + rnn.bias();
      else
        a = rnn.input_weight() * c + rnn.hidden_weight() * c + rnn.bias();
      c = a.array().tanh().matrix();
      out.col(s * n + j) = c;
    }
  }
  return out;
}
}  // namespace

TEST_CASE("general Elman RNN matches eq. (5) and passes BPTT gradient checks", "[nn][rnn][gradcheck]") {
  Rng rng(21);
  const Eigen::Index inputs = 5, hidden = 3, n = 2, steps = 4;
  ElmanRnn<double> rnn(inputs, hidden, rng);
  rnn.bias() = random_matrix(hidden, 1, rng);
  rnn.hidden_weight() *= 1.5;  // keep the recurrence in play
  Eigen::MatrixXd x = random_matrix(inputs, steps * n, rng);
  Eigen::MatrixXd c0 = random_matrix(hidden, n, rng);  // non-zero initial state

  const Eigen::MatrixXd c = rnn.forward(x, c0);
  REQUIRE(rnn.steps() == steps);
  CHECK(c.isApprox(reference_elman(rnn.input_weight(), rnn.hidden_weight(), rnn.bias(), x, c0)));

  // L = sum(G .* C) + sum(F .* c_T): gradients on every state plus one on the final state.
  const Eigen::MatrixXd g = random_matrix(hidden, steps * n, rng);
  const Eigen::MatrixXd g_final = random_matrix(hidden, n, rng);
  rnn.zero_grad();
  const Eigen::MatrixXd dx = rnn.backward(g, g_final);
  const Eigen::MatrixXd dc0 = rnn.initial_state_grad();
  auto loss = [&] {
    const Eigen::MatrixXd& states = rnn.forward(x, c0);
    return (states.array() * g.array()).sum() + (states.rightCols(n).array() * g_final.array()).sum();
  };
  require_close(check_gradient(loss, x, dx, "inputs"));
  require_close(check_gradient(loss, c0, dc0, "initial state"));
  const auto params = rnn.parameters();
  std::vector<Eigen::MatrixXd> grads;
  for (const auto& p : params) grads.emplace_back(p.grad());
  for (std::size_t i = 0; i < params.size(); ++i)
    require_close(check_gradient(loss, params[i].value(), grads[i], params[i].name));

  SECTION("gradients accumulate across backward calls") {
    rnn.forward(x, c0);
    rnn.backward(g, g_final);
    CHECK(Eigen::MatrixXd(params[1].grad()).isApprox(2 * grads[1]));
  }
  SECTION("shape errors") {
    CHECK_THROWS_AS(rnn.forward(random_matrix(inputs, 5, rng), c0), InvalidArgument);
    CHECK_THROWS_AS(rnn.forward(random_matrix(inputs + 1, 4, rng), c0), InvalidArgument);
    CHECK_THROWS_AS(rnn.backward(random_matrix(hidden, 3, rng)), InvalidArgument);
    ElmanRnn<double> fresh(inputs, hidden, rng);
    CHECK_THROWS_AS(fresh.backward(g), StateError);
  }
}

TEST_CASE("DRLIH feature-first unroll matches the paper and passes BPTT gradient checks",
          "[nn][rnn][gradcheck]") {
  Rng rng(22);
  const Eigen::Index features = 6, hidden = 3, n = 2;
  FeatureFirstRnn<double> rnn(features, hidden, rng);  // feature size != hidden size
  rnn.bias() = random_matrix(hidden, 1, rng);
  Eigen::MatrixXd f = random_matrix(features, n, rng);
  Eigen::MatrixXd h0 = random_matrix(hidden, n, rng);  // non-zero history

  // (steps, group): one group of 4; two groups of 3 chained through the last state.
  const auto shape =
      GENERATE(std::pair<Eigen::Index, Eigen::Index>{4, 4}, std::pair<Eigen::Index, Eigen::Index>{6, 3});
  const Eigen::Index steps = shape.first, group = shape.second;
  INFO("steps " << steps << ", group " << group);
  const Eigen::MatrixXd c = rnn.forward(f, h0, steps, group);
  CHECK(c.isApprox(reference_feature_first(rnn, f, h0, steps, group)));

  const Eigen::MatrixXd g = random_matrix(hidden, steps * n, rng);
  const Eigen::MatrixXd g_final = random_matrix(hidden, n, rng);
  rnn.zero_grad();
  const Eigen::MatrixXd df = rnn.backward(g, g_final);
  const Eigen::MatrixXd dh0 = rnn.history_grad();
  auto loss = [&] {
    const Eigen::MatrixXd& states = rnn.forward(f, h0, steps, group);
    return (states.array() * g.array()).sum() + (states.rightCols(n).array() * g_final.array()).sum();
  };
  require_close(check_gradient(loss, f, df, "feature"));
  require_close(check_gradient(loss, h0, dh0, "history"));
  const auto params = rnn.parameters();
  REQUIRE(params.size() == 4);
  for (const auto& p : params) {
    const Eigen::MatrixXd analytic = p.grad();
    require_close(check_gradient(loss, p.value(), analytic, p.name));
  }
}

TEST_CASE("one unroll over groups equals chained unrolls", "[nn][rnn]") {
  // Group j starts from the last state of group j - 1: running two groups of k in one call is
  // the same as two calls of k steps, the second starting from the first's final state.
  Rng rng(23);
  FeatureFirstRnn<double> rnn(7, 4, rng);
  const Eigen::MatrixXd f = random_matrix(7, 3, rng);
  const Eigen::MatrixXd h0 = Eigen::MatrixXd::Zero(4, 3);
  const Eigen::MatrixXd both = rnn.forward(f, h0, 6, 3);
  const Eigen::MatrixXd first = rnn.forward(f, h0, 3);
  const Eigen::MatrixXd second = rnn.forward(f, first.rightCols(3), 3);
  CHECK(both.leftCols(9).isApprox(first));
  CHECK(both.rightCols(9).isApprox(second));
}

TEST_CASE("RNNs run in float", "[nn][rnn]") {
  Rng rng(24);
  ElmanRnn<float> rnn(8, 5, rng);
  FeatureFirstRnn<float> ff(8, 5, rng);
  const Eigen::MatrixXf x = random_matrix(8, 12, rng).cast<float>();
  const Eigen::MatrixXf c0 = Eigen::MatrixXf::Zero(5, 4);
  CHECK(rnn.forward(x, c0).cols() == 12);
  CHECK(rnn.backward(Eigen::MatrixXf::Ones(5, 12)).rows() == 8);
  CHECK(ff.forward(x.leftCols(4), c0, 3).cols() == 12);
  CHECK(ff.backward(Eigen::MatrixXf::Ones(5, 12)).rows() == 8);
  CHECK(ff.history_grad().cols() == 4);
}

}  // namespace rlhash::nn::test_rnn
