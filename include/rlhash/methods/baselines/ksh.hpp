#pragma once
/// \file
/// Kernel-based supervised hashing, KSH (Liu, Wang, Ji, Jiang & Chang, CVPR 2012). Hash
/// functions h_k(x) = sgn(a_k^T kbar(x)) on zero-centred RBF anchor features kbar (Sec. 3.1).
/// On a labelled subset of l items with S = r (2 S0 - 1) (S0_ij = 1 when items i and j share a
/// label, r = bits), the code inner products should fit S: min ||B B^T - S||_F^2 (eq. (4)). The
/// bits are learned greedily (Sec. 3.3): with R_{k-1} = S - sum_{t<k} y_t y_t^T the residue,
/// bit k maximises y^T R_{k-1} y for y = sgn(Kbar a), by
///   1. the spectral relaxation: a = the top generalised eigenvector of
///      (Kbar^T R Kbar, Kbar^T Kbar), scaled so that a^T Kbar^T Kbar a = l (eq. (8));
///   2. gradient descent from there on the smooth surrogate -phi(Kbar a)^T R phi(Kbar a) with
///      phi(x) = 2 / (1 + exp(-x)) - 1 (eq. (9)-(10));
/// keeping whichever of the two gives the larger discrete y^T R y, as the authors' code does.
#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/baselines/kernel_features.hpp"
#include "rlhash/methods/baselines/sdh.hpp"
#include "rlhash/methods/hasher.hpp"

namespace rlhash {

namespace detail {

/// The residue R = r (2 S0 - 1) - Y Y^T of KSH as an operator. For single-label data S0 = L L^T
/// (L one-hot), so R v costs O(l (c + bits)); multi-label data keeps r (2 S0 - 1) dense.
/// (A template so that only programs that train KSH compile its products.)
template <class Scalar>
class PairwiseResidue {
 public:
  PairwiseResidue(const Labels& labels, Scalar scale) : scale_(scale), single_(labels.is_single_label()) {
    const Index l = labels.size();
    if (single_) {
      onehot_ = label_matrix(labels).template cast<Scalar>();
    } else {
      dense_.resize(l, l);
      for (Index j = 0; j < l; ++j)
        for (Index i = 0; i < l; ++i) dense_(i, j) = labels.relevant(i, labels, j) ? scale : -scale;
    }
    used_.resize(l, 0);
  }

  /// R M for an l x k matrix M.
  Matrix<Scalar> apply(const Matrix<Scalar>& m) const {
    Matrix<Scalar> out;
    if (single_) {
      out.noalias() = (Scalar(2) * scale_) * (onehot_ * (onehot_.transpose() * m));
      out.rowwise() -= scale_ * m.colwise().sum();
    } else {
      out.noalias() = dense_ * m;
    }
    if (used_.cols() > 0) out.noalias() -= used_ * (used_.transpose() * m);
    return out;
  }
  Vector<Scalar> apply(const Vector<Scalar>& v) const {
    const Matrix<Scalar> m = v;
    return apply(m).col(0);
  }
  /// R <- R - y y^T.
  void subtract(const Vector<Scalar>& y) {
    used_.conservativeResize(Eigen::NoChange, used_.cols() + 1);
    used_.col(used_.cols() - 1) = y;
  }

 private:
  Scalar scale_;
  bool single_;
  Matrix<Scalar> onehot_;  // l x c
  Matrix<Scalar> dense_;   // l x l, r (2 S0 - 1)
  Matrix<Scalar> used_;    // l x (bits so far)
};

inline Vector<double> sign_vector(const Vector<double>& z) {
  return z.unaryExpr([](double v) { return v > 0.0 ? 1.0 : -1.0; });
}

}  // namespace detail

class Ksh {
 public:
  static constexpr const char* method_name = "ksh";
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    int anchors = 300;           ///< RBF anchors m (the paper's 300)
    int labelled = 1000;         ///< size l of the labelled subset defining S (the paper: 1000-2000)
    int gd_iterations = 500;     ///< cap on gradient steps per bit (the authors' 500)
    double gd_tolerance = 1e-5;  ///< stop when a step lowers the surrogate by less than this fraction
    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("anchors", anchors);
      field("labelled", labelled);
      field("gd_iterations", gd_iterations);
      field("gd_tolerance", gd_tolerance);
    }
  };

  Ksh() : Ksh(Config()) {}
  explicit Ksh(Config config) : config_(config) {
    detail::require_bits(config.bits, method_name);
    if (config.anchors < 1 || config.labelled < 2 || config.gd_iterations < 0)
      throw InvalidArgument("ksh: anchors = " + std::to_string(config.anchors) +
                            ", labelled = " + std::to_string(config.labelled) + ", gd_iterations = " +
                            std::to_string(config.gd_iterations) + "; expected >= 1, >= 2, >= 0");
    if (!(config.gd_tolerance >= 0.0))
      throw InvalidArgument("ksh: gd_tolerance = " + std::to_string(config.gd_tolerance) + ", expected >= 0");
  }
  const Config& config() const { return config_; }

  // A template (any Eigen matrix of floats, items as columns) so that its solver code is
  // compiled only in the programs that train this method, not in every file that includes it.
  template <class Derived>
  void fit(const Eigen::MatrixBase<Derived>& items, const Labels& labels, const FitOptions& options = {}) {
    const Eigen::Ref<const MatrixF> features(items.derived());
    const Index n = features.cols();
    if (n < 2) throw InvalidArgument("ksh: fit needs at least 2 training items, found " + std::to_string(n));
    detail::require_labels(labels, n, method_name);
    const Index bits = config_.bits;
    Rng rng(config_.seed);
    const MatrixF phi = kernel_.fit(features, config_.anchors, rng, KernelWidth::mean_squared_distance, true);
    const Index m = phi.rows();
    const Index l = std::min<Index>(config_.labelled, n);
    std::vector<Index> subset = sample_without_replacement(n, l, rng);
    MatrixD kk(l, m);  // labelled items as rows
    for (Index i = 0; i < l; ++i)
      kk.row(i) = phi.col(subset[static_cast<std::size_t>(i)]).transpose().cast<double>();
    const Labels subset_labels = labels.subset(subset);

    detail::PairwiseResidue<double> residue(subset_labels, static_cast<double>(bits));
    MatrixD rm = kk.transpose() * kk;
    // A relative ridge keeps the generalised eigenproblem's right-hand matrix positive definite
    // when anchors (nearly) coincide; it is far below the spectrum of distinct anchors.
    rm.diagonal().array() += 1e-8 * std::max(rm.trace() / static_cast<double>(m), 1e-300);
    MatrixD lm = kk.transpose() * residue.apply(kk);

    MatrixD a_all(m, bits);
    scores_.clear();
    gd_kept_ = 0;
    bool refine = true;
    for (Index k = 0; k < bits; ++k) {
      // A stop request cannot leave bits unlearned; the remaining bits skip the refinement.
      if (refine && !report(options.progress, {"ksh", k, bits, ""})) refine = false;
      const MatrixD lm_sym = 0.5 * (lm + lm.transpose());
      const Eigen::GeneralizedSelfAdjointEigenSolver<MatrixD> solver(lm_sym, rm);
      if (solver.info() != Eigen::Success)
        throw Error("ksh: the generalised eigensolver did not converge at bit " + std::to_string(k));
      Vector<double> a = solver.eigenvectors().col(m - 1);
      a *= std::sqrt(static_cast<double>(l) / a.dot(rm * a));
      Vector<double> y = detail::sign_vector(kk * a);
      double score = y.dot(residue.apply(y));
      if (refine) {
        Vector<double> refined = gradient_descent(kk, residue, a);
        const Vector<double> y_refined = detail::sign_vector(kk * refined);
        const double refined_score = y_refined.dot(residue.apply(y_refined));
        if (refined_score > score) {
          a = std::move(refined);
          y = y_refined;
          score = refined_score;
          ++gd_kept_;
        }
      }
      a_all.col(k) = a;
      residue.subtract(y);
      const Vector<double> ky = kk.transpose() * y;
      lm.noalias() -= ky * ky.transpose();
      scores_.push_back(score);
    }
    projection_ = a_all.transpose().cast<float>();
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(projection_.size() > 0, method_name);
    detail::require_dims(features.rows(), kernel_.input_dims(), method_name);
    MatrixF values(config_.bits, features.cols());
    constexpr Index block = 2048;  // bounds the m x block feature matrix
    for (Index start = 0; start < features.cols(); start += block) {
      const Index count = std::min(block, features.cols() - start);
      values.middleCols(start, count).noalias() =
          projection_ * kernel_.transform(features.middleCols(start, count));
    }
    return BinaryCodes::from_signs(values);
  }

  /// y_k^T R_{k-1} y_k of each learned bit (how much of the residue the bit explains); empty after
  /// `load`.
  const std::vector<double>& bit_scores() const { return scores_; }
  /// How many bits kept the gradient-descent refinement over the spectral solution.
  int refined_bits() const { return gd_kept_; }

  void save(ByteWriter& out) const {
    kernel_.save(out);
    out.put_matrix(projection_);
  }
  void load(ByteReader& in) {
    RbfAnchorFeatures kernel;
    kernel.load(in);
    MatrixF projection = in.get_matrix<float>();
    if (projection.rows() != config_.bits || projection.cols() != kernel.size())
      in.fail("KSH parameters of " + std::to_string(config_.bits) + " bits on " +
              std::to_string(kernel.size()) + " anchors");
    kernel_ = std::move(kernel);
    projection_ = std::move(projection);
    scores_.clear();
    gd_kept_ = 0;
  }

 private:
  // Minimises f(a) = -phi(K a)^T R phi(K a) from `a` by gradient descent with Armijo
  // backtracking and a step that grows after each accepted move.
  template <class Scalar>
  Vector<Scalar> gradient_descent(const Matrix<Scalar>& kk, const detail::PairwiseResidue<Scalar>& residue,
                                  Vector<Scalar> a) const {
    Vector<Scalar> y(kk.rows()), ry(kk.rows());
    auto evaluate = [&](const Vector<Scalar>& at) {
      const Vector<Scalar> z = kk * at;
      y = z.unaryExpr([](double v) { return 2.0 / (1.0 + std::exp(-v)) - 1.0; });
      ry = residue.apply(y);
      return -y.dot(ry);
    };
    double f = evaluate(a);
    double step = 0.0;
    for (int it = 0; it < config_.gd_iterations; ++it) {
      // d f / d z = -2 (R y) .* phi'(z), phi'(z) = (1 - y^2) / 2.
      const Vector<Scalar> gradient = -(kk.transpose() * (ry.array() * (1.0 - y.array().square())).matrix());
      const double g2 = gradient.squaredNorm();
      if (!(g2 > 0.0)) break;
      if (step == 0.0) step = 0.1 * a.norm() / std::sqrt(g2);
      bool accepted = false;
      double f_new = f;
      Vector<Scalar> candidate;
      for (int tries = 0; tries < 40; ++tries) {
        candidate = a - step * gradient;
        f_new = evaluate(candidate);
        if (f_new <= f - 1e-4 * step * g2) {
          accepted = true;
          break;
        }
        step *= 0.5;
      }
      if (!accepted) break;
      const double gain = f - f_new;
      a = std::move(candidate);
      f = f_new;
      step *= 2.0;
      if (gain < config_.gd_tolerance * std::abs(f)) break;
    }
    return a;
  }

  Config config_;
  RbfAnchorFeatures kernel_;
  MatrixF projection_;  // bits x m: a_k^T as rows
  std::vector<double> scores_;
  int gd_kept_ = 0;
};

}  // namespace rlhash
