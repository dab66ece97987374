#pragma once
/// \file
/// RBF features on anchor points, the nonlinear input of the kernel baselines:
/// phi(x) = [exp(-||x - a_j||^2 / (2 sigma^2))]_{j=1..m} - mu, with m anchors a_j drawn at random
/// from the training items (SDH, Shen et al. CVPR 2015 Sec. 3; KSH, Liu et al. CVPR 2012
/// Sec. 3.1) and mu the training mean of the features when centring is asked for (KSH's
/// zero-centred kernel; SDH uses raw features plus a bias instead).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

/// How the kernel width comes from the training data.
enum class KernelWidth : std::uint8_t {
  /// sigma = mean Euclidean distance from the training items to the anchors (SDH's demo).
  mean_distance = 0,
  /// sigma^2 = mean squared distance from the training items to the anchors (KSH's code).
  mean_squared_distance = 1,
};

class RbfAnchorFeatures {
 public:
  /// Draws min(anchors, N) training items as anchors, sets the width, and (when `centre`) the
  /// training mean of the features. Returns the m x N features of the training items (what
  /// `transform(features)` would give), computed once.
  MatrixF fit(const Eigen::Ref<const MatrixF>& features, Index anchors, Rng& rng, KernelWidth width,
              bool centre) {
    const Index n = features.cols();
    if (n == 0) throw InvalidArgument("kernel features: cannot fit on an empty training set");
    if (anchors < 1)
      throw InvalidArgument("kernel features: anchors = " + std::to_string(anchors) + ", expected >= 1");
    const Index m = std::min(anchors, n);
    const auto picked = sample_without_replacement(n, m, rng);
    anchors_.resize(features.rows(), m);
    for (Index j = 0; j < m; ++j) anchors_.col(j) = features.col(picked[static_cast<std::size_t>(j)]);
    anchor_norms_ = anchors_.colwise().squaredNorm().transpose();

    MatrixF phi = squared_distances(features);  // m x N
    const double sum = width == KernelWidth::mean_distance ? phi.cast<double>().array().sqrt().sum()
                                                           : phi.cast<double>().sum();
    const double mean = sum / (static_cast<double>(n) * static_cast<double>(m));
    const double sigma2 = width == KernelWidth::mean_distance ? mean * mean : mean;
    if (!(sigma2 > 0.0) || !std::isfinite(sigma2))
      throw InvalidArgument(
          "kernel features: the training items are all identical or not finite (kernel width " +
          std::to_string(sigma2) + ")");
    two_sigma2_ = 2.0 * sigma2;
    phi = (phi * static_cast<float>(-1.0 / two_sigma2_)).array().exp().matrix();
    mean_ = VectorF::Zero(m);
    if (centre) mean_ = phi.cast<double>().rowwise().mean().cast<float>();
    phi.colwise() -= mean_;
    return phi;
  }

  bool fitted() const { return anchors_.size() > 0; }
  /// Input dimension D.
  Index input_dims() const { return anchors_.rows(); }
  /// Number of anchors m (the feature dimension).
  Index size() const { return anchors_.cols(); }
  /// 2 sigma^2, the kernel's denominator.
  double two_sigma_squared() const { return two_sigma2_; }
  const MatrixF& anchors() const { return anchors_; }

  /// The m x N features of `features` (D x N); the caller blocks large N.
  MatrixF transform(const Eigen::Ref<const MatrixF>& features) const {
    MatrixF phi = raw(features);
    phi.colwise() -= mean_;
    return phi;
  }

  void save(ByteWriter& out) const {
    out.put_matrix(anchors_);
    out.put(two_sigma2_);
    out.put_matrix(mean_);
  }
  void load(ByteReader& in) {
    MatrixF anchors = in.get_matrix<float>();
    const auto two_sigma2 = in.get<double>();
    const MatrixF mean = in.get_matrix<float>();
    if (anchors.size() == 0 || mean.rows() != anchors.cols() || mean.cols() != 1 || !(two_sigma2 > 0.0) ||
        !std::isfinite(two_sigma2))
      in.fail("RBF anchor features (anchors, a positive width, a mean per anchor)");
    anchors_ = std::move(anchors);
    anchor_norms_ = anchors_.colwise().squaredNorm().transpose();
    two_sigma2_ = two_sigma2;
    mean_ = mean.col(0);
  }

 private:
  // ||x||^2 + ||a||^2 - 2 a.x, clamped at 0 against rounding; m x N.
  MatrixF squared_distances(const Eigen::Ref<const MatrixF>& features) const {
    MatrixF d2(anchors_.cols(), features.cols());
    d2.noalias() = -2.0f * anchors_.transpose() * features;
    d2.colwise() += anchor_norms_;
    d2.rowwise() += features.colwise().squaredNorm();
    return d2.cwiseMax(0.0f);
  }
  MatrixF raw(const Eigen::Ref<const MatrixF>& features) const {
    const float scale = static_cast<float>(-1.0 / two_sigma2_);
    return (squared_distances(features) * scale).array().exp().matrix();
  }

  MatrixF anchors_;       // D x m
  VectorF anchor_norms_;  // m
  double two_sigma2_ = 0.0;
  VectorF mean_;  // m (zero when not centred)
};

}  // namespace rlhash
