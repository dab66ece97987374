#pragma once
/// \file
/// Supervised discrete hashing, SDH (Shen, Shen, Liu & Shen, CVPR 2015). With phi(x) the RBF
/// anchor features plus a constant 1 (kernel_features.hpp), Y the n x c one-hot (single-label)
/// or multi-hot (multi-label) label matrix and B in {-1, +1}^{n x L}, SDH minimises (eq. (4)-(5))
///
///     ||Y - B W||^2 + lambda ||W||^2 + nu (||B - Phi P||^2 + lambda_P ||P||^2)
///
/// by alternating exact steps: W and P by ridge regression (the F-step's regulariser lambda_P
/// is written into the objective, so that step is an exact minimisation too), and B by discrete
/// cyclic coordinate descent (paper Sec. 2.2, eq. (13)-(14)): each bit column in turn is set to
/// sign(q_k - B_k' W_k' w_k), its exact minimiser given the other columns. Every step so lowers
/// the objective (recorded per outer iteration). Codes of new items are sign(P^T phi(x)).
#include <Eigen/Cholesky>
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/baselines/kernel_features.hpp"
#include "rlhash/methods/hasher.hpp"

namespace rlhash {

namespace detail {
/// The n x c 0/1 label matrix (one-hot rows for single-label data, multi-hot otherwise).
inline MatrixD label_matrix(const Labels& labels) {
  MatrixD y = MatrixD::Zero(labels.size(), labels.num_classes());
  for (Index i = 0; i < labels.size(); ++i)
    for (int c = 0; c < labels.num_classes(); ++c)
      if (labels.has(i, c)) y(i, c) = 1.0;
  return y;
}
inline void require_labels(const Labels& labels, Index items, const char* method) {
  if (labels.size() != items)
    throw InvalidArgument(std::string(method) +
                          ": a supervised method needs one label entry per training item; found " +
                          std::to_string(labels.size()) + " for " + std::to_string(items) + " items");
}
inline void require_positive(double value, const char* method, const char* field) {
  if (!(value > 0.0))
    throw InvalidArgument(std::string(method) + ": " + field + " = " + std::to_string(value) +
                          ", expected > 0");
}
}  // namespace detail

class Sdh {
 public:
  static constexpr const char* method_name = "sdh";
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    int anchors = 1000;               ///< RBF anchors m (the paper's 1000)
    int iterations = 5;               ///< outer (B, W, P) rounds (the authors' maxItr)
    int dcc_iterations = 10;          ///< sweeps over the bits per B-step (the authors' solver)
    double lambda = 1.0;              ///< ridge weight of the classifier W
    double nu = 1e-5;                 ///< weight of the hash-function fit ||B - Phi P||^2
    double projection_lambda = 1e-2;  ///< ridge weight of the projection P (the F-step)
    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("anchors", anchors);
      field("iterations", iterations);
      field("dcc_iterations", dcc_iterations);
      field("lambda", lambda);
      field("nu", nu);
      field("projection_lambda", projection_lambda);
    }
  };

  Sdh() : Sdh(Config()) {}
  explicit Sdh(Config config) : config_(config) {
    detail::require_bits(config.bits, method_name);
    if (config.anchors < 1)
      throw InvalidArgument("sdh: anchors = " + std::to_string(config.anchors) + ", expected >= 1");
    if (config.iterations < 0 || config.dcc_iterations < 1)
      throw InvalidArgument("sdh: iterations = " + std::to_string(config.iterations) + ", dcc_iterations = " +
                            std::to_string(config.dcc_iterations) + ", expected >= 0 and >= 1");
    detail::require_positive(config.lambda, method_name, "lambda");
    detail::require_positive(config.nu, method_name, "nu");
    detail::require_positive(config.projection_lambda, method_name, "projection_lambda");
  }
  const Config& config() const { return config_; }

  // A template (any Eigen matrix of floats, items as columns) so that its solver code is
  // compiled only in the programs that train this method, not in every file that includes it.
  template <class Derived>
  void fit(const Eigen::MatrixBase<Derived>& items, const Labels& labels, const FitOptions& options = {}) {
    const Eigen::Ref<const MatrixF> features(items.derived());
    const Index n = features.cols();
    if (n == 0) throw InvalidArgument("sdh: cannot fit on an empty training set");
    detail::require_labels(labels, n, method_name);
    const Index bits = config_.bits;
    Rng rng(config_.seed);
    // Rows are items from here on, as in the authors' code: X = [phi(x)^T, 1], n x (m + 1).
    MatrixD x(n, 0);
    {
      const MatrixF phi = kernel_.fit(features, config_.anchors, rng, KernelWidth::mean_distance, false);
      x.resize(n, phi.rows() + 1);
      x.leftCols(phi.rows()) = phi.transpose().cast<double>();
      x.col(phi.rows()).setOnes();
    }
    const MatrixD y = detail::label_matrix(labels);
    MatrixD b(n, bits);
    for (Index j = 0; j < bits; ++j)
      for (Index i = 0; i < n; ++i) b(i, j) = standard_normal(rng) >= 0.0 ? 1.0 : -1.0;

    // The P-step's normal matrix does not change: factor it once.
    MatrixD gram = MatrixD::Zero(x.cols(), x.cols());
    gram.selfadjointView<Eigen::Lower>().rankUpdate(x.transpose());
    gram.diagonal().array() += config_.projection_lambda;
    const Eigen::LDLT<MatrixD> projection_solver(gram.selfadjointView<Eigen::Lower>());
    if (projection_solver.info() != Eigen::Success)
      throw Error("sdh: the projection normal equations are singular");

    MatrixD w = classifier(b, y);
    MatrixD p = projection_solver.solve(x.transpose() * b);
    MatrixD fitted = x * p;  // Phi P
    objective_.assign(1, compute_objective(y, b, w, p, fitted));
    for (int t = 0; t < config_.iterations; ++t) {
      if (!report(options.progress,
                  {"sdh", t, config_.iterations, "objective=" + std::to_string(objective_.back())}))
        break;
      discrete_step(y, w, fitted, b);
      w = classifier(b, y);
      p = projection_solver.solve(x.transpose() * b);
      fitted.noalias() = x * p;
      objective_.push_back(compute_objective(y, b, w, p, fitted));
    }
    const Index m = kernel_.size();
    projection_ = p.topRows(m).transpose().cast<float>();
    bias_ = p.row(m).transpose().cast<float>();
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(projection_.size() > 0, method_name);
    detail::require_dims(features.rows(), kernel_.input_dims(), method_name);
    MatrixF values(config_.bits, features.cols());
    constexpr Index block = 2048;  // bounds the m x block feature matrix
    for (Index start = 0; start < features.cols(); start += block) {
      const Index count = std::min(block, features.cols() - start);
      auto out = values.middleCols(start, count);
      out.noalias() = projection_ * kernel_.transform(features.middleCols(start, count));
      out.colwise() += bias_;
    }
    return BinaryCodes::from_signs(values);
  }

  /// The objective after the initial W and P fit and after each outer iteration (non-increasing).
  /// Empty after `load`.
  const std::vector<double>& objective() const { return objective_; }

  void save(ByteWriter& out) const {
    kernel_.save(out);
    out.put_matrix(projection_);
    out.put_matrix(bias_);
  }
  void load(ByteReader& in) {
    RbfAnchorFeatures kernel;
    kernel.load(in);
    MatrixF projection = in.get_matrix<float>();
    const MatrixF bias = in.get_matrix<float>();
    if (projection.rows() != config_.bits || projection.cols() != kernel.size() ||
        bias.rows() != config_.bits || bias.cols() != 1)
      in.fail("SDH parameters of " + std::to_string(config_.bits) + " bits on " +
              std::to_string(kernel.size()) + " anchors");
    kernel_ = std::move(kernel);
    projection_ = std::move(projection);
    bias_ = bias.col(0);
    objective_.clear();
  }

 private:
  // W = (B^T B + lambda I)^-1 B^T Y, the G-step.
  template <class Matrix>
  Matrix classifier(const Matrix& b, const Matrix& y) const {
    Matrix normal = b.transpose() * b;
    normal.diagonal().array() += config_.lambda;
    return normal.ldlt().solve(b.transpose() * y);
  }

  double compute_objective(const MatrixD& y, const MatrixD& b, const MatrixD& w, const MatrixD& p,
                           const MatrixD& fitted) const {
    return (y - b * w).squaredNorm() + config_.lambda * w.squaredNorm() +
           config_.nu * ((b - fitted).squaredNorm() + config_.projection_lambda * p.squaredNorm());
  }

  // min_B ||Y - B W||^2 + nu ||B - F||^2 over B in {-1,1}^{n x L}: since ||b_k||^2 = n is fixed,
  // column k's exact minimiser is sign(q_k - B W W^T e_k + b_k (W W^T)_kk), Q = Y W^T + nu F.
  // A zero argument keeps the old bit (both values are minimisers).
  void discrete_step(const MatrixD& y, const MatrixD& w, const MatrixD& fitted, MatrixD& b) const {
    const MatrixD q = y * w.transpose() + config_.nu * fitted;
    const MatrixD ww = w * w.transpose();
    const Index n = b.rows();
    Vector<double> column(n);
    for (int sweep = 0; sweep < config_.dcc_iterations; ++sweep) {
      Index changed = 0;
      for (Index k = 0; k < b.cols(); ++k) {
        // B (W W^T) e_k as a sum of columns (an explicit GEMV here trips g++ 12's
        // -Wuse-after-free false positive inside Eigen).
        column.setZero();
        for (Index j = 0; j < b.cols(); ++j) column += ww(j, k) * b.col(j);
        for (Index i = 0; i < n; ++i) {
          const double v = q(i, k) - column(i) + b(i, k) * ww(k, k);
          const double sign = v > 0.0 ? 1.0 : (v < 0.0 ? -1.0 : b(i, k));
          if (sign != b(i, k)) {
            b(i, k) = sign;
            ++changed;
          }
        }
      }
      if (changed == 0) break;
    }
  }

  Config config_;
  RbfAnchorFeatures kernel_;
  MatrixF projection_;  // bits x m
  VectorF bias_;        // bits
  std::vector<double> objective_;
};

}  // namespace rlhash
