#include <catch.hpp>

#include <cmath>
#include <vector>

#include "gradient_check.hpp"
#include "rlhash/nn/hashing_losses.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_hashing_losses {
using test::check_gradient;
using test::random_matrix;
using test::require_close;

namespace {
Eigen::MatrixXd random_similarity(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Eigen::MatrixXd s(rows, cols);
  for (Eigen::Index i = 0; i < s.size(); ++i) s.data()[i] = uniform_unit(rng) < 0.4 ? 1.0 : 0.0;
  return s;
}
double sgn(double x) { return static_cast<double>((x > 0) - (x < 0)); }
}  // namespace

TEST_CASE("DSH loss: the definition pair by pair, and its gradient", "[nn][loss][gradcheck][dsh]") {
  Rng rng(7);
  const Eigen::Index bits = 5, batch = 4, items = 7;
  Eigen::MatrixXd u = 1.3 * random_matrix(bits, batch, rng);
  const Eigen::MatrixXd memory = 1.3 * random_matrix(bits, items, rng);
  const Eigen::MatrixXd similar = random_similarity(batch, items, rng);
  std::vector<bool> seen(items, true);
  seen[3] = false;
  const double margin = 2.0 * bits / 2, alpha = 0.1;
  Eigen::MatrixXd du;
  const double loss = dsh_loss(u, memory, seen, similar, margin, alpha, &du);
  double expected = 0;
  int hinged = 0, free = 0;
  for (Eigen::Index i = 0; i < batch; ++i)
    for (Eigen::Index j = 0; j < items; ++j) {
      if (!seen[static_cast<std::size_t>(j)]) continue;
      const double d = (u.col(i) - memory.col(j)).squaredNorm();
      if (similar(i, j) > 0) {
        expected += d / 2;
      } else {
        REQUIRE(std::abs(d - margin) > 1e-3);  // off the hinge's kink
        expected += std::max(0.0, margin - d) / 2;
        (d < margin ? hinged : free)++;
      }
    }
  expected /= static_cast<double>(batch * items);
  expected += alpha * (1 - u.array().abs()).abs().mean();
  CHECK(hinged > 0);
  CHECK(free > 0);
  CHECK(loss == Approx(expected).epsilon(1e-12));
  auto f = [&] { return dsh_loss<double>(u, memory, seen, similar, margin, alpha, nullptr); };
  require_close(check_gradient(f, u, du, "u"));
}

TEST_CASE("DPSH loss: hand value and gradient", "[nn][loss][gradcheck][dpsh]") {
  // One bit, one batch item u = 2 against memory {1, -4}: theta = {1, -4}, s = {1, 0};
  // (softplus(1) - 1 + softplus(-4)) / 2 + alpha (2 - 1)^2.
  Eigen::MatrixXd u1(1, 1), m1(1, 2), s1(1, 2);
  u1 << 2;
  m1 << 1, -4;
  s1 << 1, 0;
  const double hand = (std::log1p(std::exp(1.0)) - 1 + std::log1p(std::exp(-4.0))) / 2 + 0.1 * 1;
  CHECK(dpsh_loss<double>(u1, m1, s1, 0.1, nullptr) == Approx(hand).epsilon(1e-12));

  Rng rng(8);
  Eigen::MatrixXd u = 2 * random_matrix(6, 5, rng);
  const Eigen::MatrixXd memory = 2 * random_matrix(6, 9, rng);
  const Eigen::MatrixXd similar = random_similarity(5, 9, rng);
  Eigen::MatrixXd du;
  dpsh_loss(u, memory, similar, 0.1, &du);
  auto f = [&] { return dpsh_loss<double>(u, memory, similar, 0.1, nullptr); };
  require_close(check_gradient(f, u, du, "u"));
}

TEST_CASE("HashNet loss: balanced weights by hand and the gradient at several scales",
          "[nn][loss][gradcheck][hashnet]") {
  // Two items, one bit, u = {1, -1}, scale 1, alpha 1: v = tanh(+-1) = +-t; pairs (0,0), (1,1)
  // similar with theta = t^2, (0,1), (1,0) dissimilar with theta = -t^2; P = 4, P1 = P0 = 2: each
  // weight 2, loss = (2 * 2 (softplus(t^2) - t^2) + 2 * 2 softplus(-t^2)) / 4.
  Eigen::MatrixXd u1(1, 2), s1(2, 2);
  u1 << 1, -1;
  s1 << 1, 0, 0, 1;
  const double t2 = std::pow(std::tanh(1.0), 2);
  const double hand = (4 * (std::log1p(std::exp(t2)) - t2) + 4 * std::log1p(std::exp(-t2))) / 4;
  CHECK(hashnet_loss<double>(u1, s1, 1.0, 1.0, nullptr) == Approx(hand).epsilon(1e-12));

  Rng rng(9);
  Eigen::MatrixXd u = 1.5 * random_matrix(8, 6, rng);
  Eigen::MatrixXd similar = random_similarity(6, 6, rng);
  similar = ((similar + similar.transpose()).array() > 0).cast<double>().matrix();
  similar.diagonal().setOnes();
  for (double scale : {1.0, std::sqrt(3.0)}) {
    Eigen::MatrixXd du;
    hashnet_loss(u, similar, 0.1, scale, &du);
    auto f = [&] { return hashnet_loss<double>(u, similar, 0.1, scale, nullptr); };
    require_close(check_gradient(f, u, du, "u"));
  }
}

TEST_CASE("CSQ loss: BCE of (tanh u + 1)/2 by hand and the gradient", "[nn][loss][gradcheck][csq]") {
  Eigen::MatrixXd u1(2, 1), c1(2, 1);
  u1 << 0.5, -2;
  c1 << 1, 1;
  const double p0 = (std::tanh(0.5) + 1) / 2, p1 = (std::tanh(-2.0) + 1) / 2;
  const double q = std::pow(std::tanh(0.5) - 1, 2) + std::pow(std::tanh(2.0) - 1, 2);
  const double hand = (-std::log(p0) - std::log(p1)) / 2 + 0.01 * q / 2;
  CHECK(csq_loss<double>(u1, c1, 0.01, nullptr) == Approx(hand).epsilon(1e-10));

  Rng rng(10);
  Eigen::MatrixXd u = 2 * random_matrix(8, 5, rng);
  Eigen::MatrixXd centres(8, 5);
  for (Eigen::Index i = 0; i < centres.size(); ++i) centres.data()[i] = uniform_unit(rng) < 0.5 ? -1 : 1;
  Eigen::MatrixXd du;
  csq_loss(u, centres, 0.5, &du);  // a large lambda so that the quantisation term is checked too
  auto f = [&] { return csq_loss<double>(u, centres, 0.5, nullptr); };
  require_close(check_gradient(f, u, du, "u"));
}

TEST_CASE("GreedyHash loss: straight-through gradient and classifier gradient",
          "[nn][loss][gradcheck][greedy]") {
  Rng rng(11);
  const Eigen::Index bits = 6, batch = 5, classes = 3;
  Eigen::MatrixXd u = 1.8 * random_matrix(bits, batch, rng);
  Eigen::MatrixXd weights = random_matrix(classes, bits, rng);
  const std::vector<int> y{0, 2, 1, 1, 0};
  SECTION("value with sign codes") {
    const Eigen::MatrixXd codes = u.unaryExpr([](double x) { return sgn(x); });
    const Eigen::MatrixXd logits = weights * codes;
    double ce = 0, cube = 0;
    for (Eigen::Index i = 0; i < batch; ++i)
      ce += std::log(logits.col(i).array().exp().sum()) - logits(y[static_cast<std::size_t>(i)], i);
    for (Eigen::Index i = 0; i < u.size(); ++i) cube += std::pow(std::abs(std::abs(u.data()[i]) - 1), 3);
    CHECK(greedy_hash_loss<double>(u, codes, weights, y, 0.1, nullptr, nullptr) ==
          Approx(ce / batch + 0.1 * cube / static_cast<double>(u.size())).epsilon(1e-12));
  }
  SECTION("the straight-through gradient is the gradient with codes = u") {
    Eigen::MatrixXd du, dw;
    greedy_hash_loss<double>(u, u, weights, y, 0.1, &du, &dw);
    auto f = [&] { return greedy_hash_loss<double>(u, u, weights, y, 0.1, nullptr, nullptr); };
    require_close(check_gradient(f, u, du, "u"));
    require_close(check_gradient(f, weights, dw, "weights"));
  }
  SECTION("with sign codes the classifier gradient is exact and du is dL/db plus the penalty's") {
    const Eigen::MatrixXd codes = u.unaryExpr([](double x) { return sgn(x); });
    Eigen::MatrixXd du, dw, db;
    greedy_hash_loss<double>(u, codes, weights, y, 0.0, &du, &dw);
    Eigen::MatrixXd b = codes;
    greedy_hash_loss<double>(b, b, weights, y, 0.0, &db, nullptr);
    CHECK((du - db).norm() < 1e-12);
    auto f = [&] { return greedy_hash_loss<double>(u, codes, weights, y, 0.1, nullptr, nullptr); };
    require_close(check_gradient(f, weights, dw, "weights"));
  }
}

}  // namespace rlhash::nn::test_hashing_losses
