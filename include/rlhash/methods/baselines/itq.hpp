#pragma once
/// \file
/// Iterative quantization, ITQ (Gong & Lazebnik, CVPR 2011; Gong et al., TPAMI 2013): PCA to
/// `bits` dimensions, then a rotation R that minimises the quantization loss
/// Q(B, R) = ||B - R V||_F^2 (V: the PCA-projected, centred training data, B in {-1, +1}) by
/// alternating B = sign(R V) and the orthogonal Procrustes solution for R (paper Sec. 2.2).
/// Codes of new items are sign(R W^T (x - mean)).
#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/centered_projection.hpp"
#include "rlhash/methods/hasher.hpp"

namespace rlhash {

namespace detail {

/// The principal directions of `features` (D x N, items as columns): the mean (D) and the
/// D x k matrix of the top-k eigenvectors of the sample covariance, by decreasing eigenvalue.
/// Computed in double; the eigensolver is deterministic, so equal inputs give equal outputs.
struct PrincipalComponents {
  Vector<double> mean;
  MatrixD directions;        // D x k
  Vector<double> variances;  // k, decreasing
};

template <class Derived>
PrincipalComponents principal_components(const Eigen::MatrixBase<Derived>& items, Index k) {
  const Eigen::Ref<const MatrixF> features(items.derived());
  const Index dims = features.rows();
  const Index n = features.cols();
  PrincipalComponents pca;
  pca.mean = features.cast<double>().rowwise().mean();
  MatrixD centred = features.cast<double>();
  centred.colwise() -= pca.mean;
  MatrixD covariance = MatrixD::Zero(dims, dims);
  covariance.selfadjointView<Eigen::Lower>().rankUpdate(centred,
                                                        1.0 / static_cast<double>(std::max<Index>(n - 1, 1)));
  covariance.triangularView<Eigen::StrictlyUpper>() = covariance.transpose();
  const Eigen::SelfAdjointEigenSolver<MatrixD> solver(covariance);
  if (solver.info() != Eigen::Success) throw Error("PCA: the covariance eigensolver did not converge");
  // Eigen sorts eigenvalues increasingly; the principal directions are the last k columns.
  pca.directions.resize(dims, k);
  pca.variances.resize(k);
  for (Index j = 0; j < k; ++j) {
    pca.directions.col(j) = solver.eigenvectors().col(dims - 1 - j);
    pca.variances(j) = solver.eigenvalues()(dims - 1 - j);
  }
  return pca;
}

/// A k x k orthogonal matrix: the Q factor of a QR decomposition of a standard Gaussian matrix.
template <class Generator>
MatrixD random_rotation(Index k, Generator& rng) {
  MatrixD gaussian(k, k);
  for (Index i = 0; i < gaussian.size(); ++i) gaussian.data()[i] = standard_normal(rng);
  const Eigen::HouseholderQR<MatrixD> qr(gaussian);
  return qr.householderQ() * MatrixD::Identity(k, k);
}

}  // namespace detail

class Itq {
 public:
  static constexpr const char* method_name = "itq";
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    int iterations = 50;  ///< alternating (B, R) updates; the paper uses 50
    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("iterations", iterations);
    }
  };

  Itq() : Itq(Config()) {}
  explicit Itq(Config config) : config_(config) {
    detail::require_bits(config.bits, method_name);
    if (config.iterations < 0)
      throw InvalidArgument("itq: iterations = " + std::to_string(config.iterations) + ", expected >= 0");
  }
  const Config& config() const { return config_; }

  // A template (any Eigen matrix of floats, items as columns) so that its solver code is
  // compiled only in the programs that train this method, not in every file that includes it.
  template <class Derived>
  void fit(const Eigen::MatrixBase<Derived>& items, const Labels& /*labels*/ = {}, const FitOptions& options = {}) {
    const Eigen::Ref<const MatrixF> features(items.derived());
    const Index bits = config_.bits;
    if (features.cols() < 2)
      throw InvalidArgument("itq: fit needs at least 2 training items, found " +
                            std::to_string(features.cols()));
    if (features.rows() < bits)
      throw InvalidArgument("itq: " + std::to_string(bits) + " bits need features of at least " +
                            std::to_string(bits) + " dimensions (one PCA direction per bit), found " +
                            std::to_string(features.rows()));
    const auto pca = detail::principal_components(features, bits);
    MatrixD projected = pca.directions.transpose() * features.cast<double>();  // V, bits x N
    projected.colwise() -= pca.directions.transpose() * pca.mean;

    Rng rng(config_.seed);
    MatrixD rotation = detail::random_rotation(bits, rng);
    loss_.clear();
    MatrixD rotated(bits, projected.cols());
    MatrixD signs(bits, projected.cols());
    for (int t = 0;; ++t) {
      rotated.noalias() = rotation * projected;
      signs = rotated.unaryExpr([](double v) { return v >= 0.0 ? 1.0 : -1.0; });
      loss_.push_back((signs - rotated).squaredNorm());
      if (t == config_.iterations) break;
      if (!report(options.progress,
                  {"itq", t, config_.iterations, "quantization_loss=" + std::to_string(loss_.back())}))
        break;
      // Orthogonal Procrustes: max tr(B^T R V) over orthogonal R; with V B^T = U S W^T, R = W U^T.
      const MatrixD cross = projected * signs.transpose();
      const Eigen::JacobiSVD<MatrixD> svd(cross, Eigen::ComputeFullU | Eigen::ComputeFullV);
      rotation.noalias() = svd.matrixV() * svd.matrixU().transpose();
    }
    encoder_.projection = (rotation * pca.directions.transpose()).cast<float>();
    encoder_.mean = pca.mean.cast<float>();
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    return encoder_.encode(features, method_name);
  }

  /// The quantization loss ||B - R V||_F^2 before the first rotation update and after each one
  /// (non-increasing: both alternating steps are exact minimisations). Empty after `load`.
  const std::vector<double>& quantization_loss() const { return loss_; }

  void save(ByteWriter& out) const { encoder_.save(out); }
  void load(ByteReader& in) {
    encoder_.load(in, config_.bits, method_name);
    loss_.clear();
  }

 private:
  Config config_;
  detail::CenteredProjection encoder_;  // projection R W^T
  std::vector<double> loss_;
};

}  // namespace rlhash
