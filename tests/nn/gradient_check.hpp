#pragma once
// One finite-difference gradient checker for every nn test (double precision).
//
// check_gradient perturbs each entry of `x` in place by +-eps, evaluates `loss()` (which must
// read x where it lives: a parameter's value, an input matrix), restores the entry, and compares
// the central differences with the analytic gradient. The reported relative error is norm-wise,
// |a - n| / max(|a|, |n|), which is not dominated by round-off on entries that are near zero.
#include <catch.hpp>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::test {

struct GradientCheck {
  std::string what;
  double relative_error = 0;
  double max_abs_error = 0;
  double analytic_norm = 0;
  double numeric_norm = 0;
};

template <class Loss>
GradientCheck check_gradient(Loss&& loss, Eigen::Ref<Eigen::MatrixXd> x, const Eigen::MatrixXd& analytic,
                             std::string what = "x", double eps = 1e-6) {
  REQUIRE(analytic.rows() == x.rows());
  REQUIRE(analytic.cols() == x.cols());
  Eigen::MatrixXd numeric(x.rows(), x.cols());
  for (Eigen::Index j = 0; j < x.cols(); ++j)
    for (Eigen::Index i = 0; i < x.rows(); ++i) {
      const double saved = x(i, j);
      x(i, j) = saved + eps;
      const double up = loss();
      x(i, j) = saved - eps;
      const double down = loss();
      x(i, j) = saved;
      numeric(i, j) = (up - down) / (2 * eps);
    }
  GradientCheck r;
  r.what = std::move(what);
  r.analytic_norm = analytic.norm();
  r.numeric_norm = numeric.norm();
  const double diff = (analytic - numeric).norm();
  const double scale = std::max(r.analytic_norm, r.numeric_norm);
  r.relative_error = scale > 1e-12 ? diff / scale : diff;
  r.max_abs_error = x.size() > 0 ? (analytic - numeric).cwiseAbs().maxCoeff() : 0.0;
  return r;
}

/// Catch assertion with the numbers in the message.
inline void require_close(const GradientCheck& r, double tolerance = 1e-6) {
  INFO(r.what << ": relative error " << r.relative_error << ", max abs error " << r.max_abs_error
              << ", |analytic| " << r.analytic_norm << ", |numeric| " << r.numeric_norm);
  CHECK(r.relative_error < tolerance);
  // A check over an all-zero gradient proves nothing; callers pick inputs with live gradients.
  CHECK(r.numeric_norm > 1e-8);
}

/// A fixed random matrix with entries in [-1, 1) (test data, seeded).
inline Eigen::MatrixXd random_matrix(Eigen::Index rows, Eigen::Index cols, Rng& rng) {
  Eigen::MatrixXd m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = 2 * uniform_unit(rng) - 1;
  return m;
}

/// Checks a module's input gradient and every parameter gradient for the scalar loss
/// L = sum(G .* forward(x)) with a fixed random G, so backward(G) must return dL/dx.
template <class Module>
void check_module_gradients(Module& module, const Eigen::MatrixXd& input, Rng& rng, double tolerance = 1e-6) {
  Eigen::MatrixXd x = input;
  const Eigen::MatrixXd y = module.forward(x);
  const Eigen::MatrixXd g = random_matrix(y.rows(), y.cols(), rng);
  module.zero_grad();
  const Eigen::MatrixXd dx = module.backward(g);
  const auto params = module.parameters();
  std::vector<Eigen::MatrixXd> grads;
  for (const auto& p : params) grads.emplace_back(p.grad());
  auto loss = [&] { return (module.forward(x).array() * g.array()).sum(); };
  require_close(check_gradient(loss, x, dx, "input"), tolerance);
  for (std::size_t i = 0; i < params.size(); ++i)
    require_close(check_gradient(loss, params[i].value(), grads[i], params[i].name), tolerance);
}

}  // namespace rlhash::test
