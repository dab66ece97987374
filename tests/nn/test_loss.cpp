#include <catch.hpp>
#include <test_util.hpp>

#include "gradient_check.hpp"
#include "rlhash/nn/loss.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_loss {
using test::check_gradient;
using test::random_matrix;
using test::require_close;

namespace {
Eigen::MatrixXd uniform01(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  return ((random_matrix(rows, cols, rng).array() + 1) / 2).matrix();
}
}  // namespace

TEST_CASE("triplet loss follows eq. (3) and its corrected sub-gradients", "[nn][loss][gradcheck]") {
  Rng rng(41);
  const Eigen::Index bits = 6, n = 7;
  Eigen::MatrixXd codes = uniform01(bits, n, rng);  // relaxed codes (probabilities)
  // Columns are reused across triplets, so gradients must accumulate.
  const std::vector<Triplet> triplets{{0, 1, 2}, {0, 3, 4}, {5, 6, 1}, {2, 0, 6}, {4, 5, 3}, {1, 2, 0}};
  const double margin = 0.1;
  Eigen::MatrixXd grad;
  Eigen::VectorXd per;
  const double loss = triplet_margin_loss(codes, triplets, margin, &grad, &per);
  double expected = 0;
  int active = 0, inactive = 0;
  for (std::size_t i = 0; i < triplets.size(); ++i) {
    const auto& t = triplets[i];
    const double v = margin + (codes.col(t.anchor) - codes.col(t.positive)).squaredNorm() -
                     (codes.col(t.anchor) - codes.col(t.negative)).squaredNorm();
    CHECK(per(static_cast<Eigen::Index>(i)) == Approx(std::max(v, 0.0)));
    expected += std::max(v, 0.0);
    REQUIRE(std::abs(v) > 1e-3);  // stay off the hinge's kink for finite differences
    (v > 0 ? active : inactive)++;
  }
  CHECK(loss == Approx(expected / 6));
  REQUIRE(active > 0);
  REQUIRE(inactive > 0);  // both branches of the indicator are exercised

  auto f = [&] { return triplet_margin_loss(codes, triplets, margin); };
  require_close(check_gradient(f, codes, grad, "codes"));

  SECTION("eq. (9) as printed fails the same check") {
    Eigen::MatrixXd printed = Eigen::MatrixXd::Zero(bits, n);
    for (const auto& t : triplets) {
      const auto a = codes.col(t.anchor), p = codes.col(t.positive), q = codes.col(t.negative);
      if (margin + (a - p).squaredNorm() - (a - q).squaredNorm() <= 0) continue;
      printed.col(t.negative) += 2 * (q - p) / 6;
      printed.col(t.positive) += 2 * (p - a) / 6;
      printed.col(t.anchor) += 2 * (a - q) / 6;
    }
    CHECK(check_gradient(f, codes, printed).relative_error > 0.1);
  }
  SECTION("bad triplets") {
    CHECK_THROWS_AS(triplet_margin_loss(codes, {{0, 1, 7}}, margin), InvalidArgument);
    CHECK_THROWS_AS(triplet_margin_loss(codes, {}, margin), InvalidArgument);
  }
}

TEST_CASE("MSE and Huber", "[nn][loss][gradcheck]") {
  Rng rng(42);
  Eigen::MatrixXd y = 3 * random_matrix(3, 5, rng);
  const Eigen::MatrixXd t = random_matrix(3, 5, rng);
  Eigen::MatrixXd grad;
  CHECK(mse_loss(y, t, &grad) == Approx((y - t).squaredNorm() / 15));
  require_close(check_gradient([&] { return mse_loss(y, t); }, y, grad, "mse"));

  const double delta = 1.0;
  const double h = huber_loss(y, t, delta, &grad);
  double expected = 0;
  int quadratic = 0, linear = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    const double r = std::abs(y(i) - t(i));
    REQUIRE(std::abs(r - delta) > 1e-3);
    expected += r <= delta ? 0.5 * r * r : delta * (r - 0.5 * delta);
    (r <= delta ? quadratic : linear)++;
  }
  REQUIRE(quadratic > 0);
  REQUIRE(linear > 0);
  CHECK(h == Approx(expected / 15));
  require_close(check_gradient([&] { return huber_loss(y, t, delta); }, y, grad, "huber"));
  CHECK_THROWS_AS(mse_loss(y, t.leftCols(4)), InvalidArgument);
}

TEST_CASE("selected-action losses give gradient only to Q(s, a) of taken actions", "[nn][loss][gradcheck]") {
  Rng rng(43);
  Eigen::MatrixXd q = 3 * random_matrix(4, 6, rng);
  const std::vector<Index> actions{0, 3, 2, 2, 1, 0};
  Eigen::VectorXd targets(6);
  targets << 0.5, -1, 2, 0.1, 3, -2;
  for (const bool huber : {false, true}) {
    INFO((huber ? "huber" : "mse"));
    auto f = [&] {
      return huber ? selected_huber_loss(q, actions, targets, 1.0) : selected_mse_loss(q, actions, targets);
    };
    Eigen::MatrixXd grad;
    const double value = huber ? selected_huber_loss(q, actions, targets, 1.0, &grad)
                               : selected_mse_loss(q, actions, targets, &grad);
    double expected = 0;
    for (Eigen::Index j = 0; j < 6; ++j) {
      const double r = q(actions[static_cast<std::size_t>(j)], j) - targets(j);
      expected += huber ? (std::abs(r) <= 1 ? 0.5 * r * r : std::abs(r) - 0.5) : r * r;
      for (Eigen::Index a = 0; a < 4; ++a)
        if (a != actions[static_cast<std::size_t>(j)]) CHECK(grad(a, j) == 0);
    }
    CHECK(value == Approx(expected / 6));
    require_close(check_gradient(f, q, grad, "q"));
  }
  CHECK_THROWS_AS(selected_mse_loss(q, {0, 1, 4, 0, 0, 0}, targets), InvalidArgument);
  CHECK_THROWS_AS(masked_mse_loss(q, q, Eigen::MatrixXd::Zero(4, 6)), InvalidArgument);
}

TEST_CASE("binary cross-entropy from probabilities and logits", "[nn][loss][gradcheck]") {
  Rng rng(44);
  Eigen::MatrixXd z = 3 * random_matrix(3, 4, rng);
  Eigen::MatrixXd p = (1 / (1 + (-z.array()).exp())).matrix();
  const Eigen::MatrixXd t = uniform01(3, 4, rng);  // soft targets are allowed
  Eigen::MatrixXd gp, gz;
  const double from_p = binary_cross_entropy(p, t, &gp);
  const double from_z = binary_cross_entropy_with_logits(z, t, &gz);
  CHECK(from_p == Approx(from_z).epsilon(1e-10));
  CHECK(from_p == Approx(-(t.array() * p.array().log() + (1 - t.array()) * (1 - p.array()).log()).mean()));
  require_close(check_gradient([&] { return binary_cross_entropy(p, t); }, p, gp, "bce(p)"));
  require_close(check_gradient([&] { return binary_cross_entropy_with_logits(z, t); }, z, gz, "bce(z)"));
  Eigen::MatrixXf big(1, 2), target(1, 2);
  big << 1000.f, -1000.f;
  target << 0.f, 1.f;
  CHECK(binary_cross_entropy_with_logits(big, target) == Approx(1000.f));
  CHECK(std::isfinite(binary_cross_entropy(Eigen::MatrixXf::Zero(1, 2), target)));
}

TEST_CASE("softmax cross-entropy", "[nn][loss][gradcheck]") {
  Rng rng(45);
  Eigen::MatrixXd z = 4 * random_matrix(5, 6, rng);
  const std::vector<Index> labels{0, 4, 2, 2, 1, 3};
  Eigen::MatrixXd grad;
  const double loss = softmax_cross_entropy(z, labels, &grad);
  const Eigen::MatrixXd sm = softmax(z);
  CHECK(sm.colwise().sum().isApprox(Eigen::RowVectorXd::Ones(6)));
  double expected = 0;
  for (Eigen::Index j = 0; j < 6; ++j) expected -= std::log(sm(labels[static_cast<std::size_t>(j)], j));
  CHECK(loss == Approx(expected / 6));
  require_close(check_gradient([&] { return softmax_cross_entropy(z, labels); }, z, grad, "softmax ce"));
  Eigen::MatrixXf huge(2, 1);
  huge << 1e4f, 0.f;
  CHECK(softmax_cross_entropy(huge, {0}) == Approx(0.f));
  CHECK_THROWS_AS(softmax_cross_entropy(z, {0, 1}), InvalidArgument);
  CHECK_THROWS_AS(softmax_cross_entropy(z, {0, 1, 2, 3, 4, 5}), InvalidArgument);
}

TEST_CASE("bit balance of a Bernoulli code policy", "[nn][loss][gradcheck]") {
  SECTION("hand-computed: one balanced bit, one constant bit") {
    // p = sigmoid(0) = 1/2 for both items of bit 0 (m = 0); bit 1 has p = 0.5 and sigmoid(ln 3)
    // = 0.75: m = (0 + 0.5) / 2 = 0.25, L = (0 + 0.0625) / 2.
    Eigen::MatrixXd z(2, 2);
    z << 0, 0, 0, std::log(3.0);
    Eigen::MatrixXd grad;
    CHECK(bit_balance_loss_of_logits(z, &grad) == Approx(0.03125));
    // dL/dz = 4 / (K N) m p (1 - p) = 1 * 0.25 * p (1 - p)
    CHECK(grad(0, 0) == Approx(0.0).margin(1e-15));
    CHECK(grad(1, 0) == Approx(0.25 * 0.25));
    CHECK(grad(1, 1) == Approx(0.25 * 0.75 * 0.25));
  }
  SECTION("gradient") {
    Rng rng(43);
    Eigen::MatrixXd z = 2 * random_matrix(5, 7, rng);
    Eigen::MatrixXd grad;
    bit_balance_loss_of_logits(z, &grad);
    require_close(check_gradient([&] { return bit_balance_loss_of_logits(z); }, z, grad, "balance"));
  }
  CHECK_THROWS_AS(bit_balance_loss_of_logits(Eigen::MatrixXd(3, 0)), InvalidArgument);
}

TEST_CASE("bit decorrelation of a relaxed code", "[nn][loss][gradcheck]") {
  auto sigmoid = [](const Eigen::MatrixXd& z) {
    return Eigen::MatrixXd((1 / (1 + (-z.array()).exp())).matrix());
  };
  SECTION("hand-computed: two bits that copy each other, then two independent ones") {
    // M = 2p - 1 = [[1, -1], [1, -1]] (p = 1, 0 in the limit): c_01 = (1 + 1) / 2 = 1, L = 1.
    Eigen::MatrixXd p(2, 2);
    p << 1, 0, 1, 0;
    Eigen::MatrixXd grad;
    CHECK(bit_decorrelation_loss_of_probabilities(p, &grad) == Approx(1.0));
    CHECK(grad.isZero(0));  // p (1 - p) = 0: saturated bits pass no gradient
    // M rows [1, -1, 1, -1] and [1, 1, -1, -1]: c_01 = 0.
    Eigen::MatrixXd q(2, 4);
    q << 1, 0, 1, 0, 1, 1, 0, 0;
    CHECK(bit_decorrelation_loss_of_probabilities(q) == Approx(0.0).margin(1e-15));
    // p = 0.75 everywhere (M = 0.5): c_01 = 0.25, L = 0.0625; dL/dz = 8 / (2 * 1 * N) c M p (1 - p)
    // = 8 / 4 * 0.25 * 0.5 * 0.1875 with N = 2.
    Eigen::MatrixXd r = Eigen::MatrixXd::Constant(2, 2, 0.75);
    CHECK(bit_decorrelation_loss_of_probabilities(r, &grad) == Approx(0.0625));
    CHECK(grad(0, 0) == Approx(2.0 * 0.25 * 0.5 * 0.1875));
  }
  SECTION("gradient with respect to the logits") {
    Rng rng(44);
    Eigen::MatrixXd z = 2 * random_matrix(5, 7, rng);
    Eigen::MatrixXd grad;
    bit_decorrelation_loss_of_probabilities(sigmoid(z), &grad);
    require_close(check_gradient([&] { return bit_decorrelation_loss_of_probabilities(sigmoid(z)); }, z, grad,
                                 "decorrelation"));
  }
  SECTION("one bit: nothing to decorrelate") {
    Eigen::MatrixXd grad;
    CHECK(bit_decorrelation_loss_of_probabilities(Eigen::MatrixXd::Constant(1, 3, 0.9), &grad) == 0.0);
    CHECK(grad.rows() == 1);
    CHECK(grad.cols() == 3);
    CHECK(grad.isZero(0));
  }
  CHECK_THROWS_AS(bit_decorrelation_loss_of_probabilities(Eigen::MatrixXd(3, 0)), InvalidArgument);
}

}  // namespace rlhash::nn::test_loss
