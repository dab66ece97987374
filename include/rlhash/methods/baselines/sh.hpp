#pragma once
/// \file
/// Spectral hashing, SH (Weiss, Torralba & Fergus, NIPS 2008), following the authors' reference
/// MATLAB code (trainSH.m / compressSH.m):
///   1. PCA to p = min(bits, D) directions;
///   2. along each direction, a uniform distribution on [min - eps, max + eps] of the training
///      projections;
///   3. the 1-D Laplacian eigenfunctions on [a, b], Phi_k(x) = sin(pi/2 + k pi (x - a) / (b - a)),
///      with eigenvalue proportional to (k pi / (b - a))^2; all modes k >= 1 of all directions
///      are ranked by eigenvalue and the `bits` smallest are kept (the constant mode k = 0 is
///      skipped), ties kept in enumeration order (MATLAB's stable sort);
///   4. bit = [Phi(x) > 0].
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "rlhash/methods/baselines/itq.hpp"

namespace rlhash {

class Sh {
 public:
  static constexpr const char* method_name = "sh";
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;  ///< unused: spectral hashing is deterministic
    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
    }
  };

  Sh() : Sh(Config()) {}
  explicit Sh(Config config) : config_(config) { detail::require_bits(config.bits, method_name); }
  const Config& config() const { return config_; }

  // A template (any Eigen matrix of floats, items as columns) so that its solver code is
  // compiled only in the programs that train this method, not in every file that includes it.
  template <class Derived>
  void fit(const Eigen::MatrixBase<Derived>& items, const Labels& /*labels*/ = {},
           const FitOptions& /*options*/ = {}) {
    const Eigen::Ref<const MatrixF> features(items.derived());
    if (features.cols() < 2)
      throw InvalidArgument("sh: fit needs at least 2 training items, found " +
                            std::to_string(features.cols()));
    const Index bits = config_.bits;
    const Index p = std::min<Index>(bits, features.rows());
    const auto pca = detail::principal_components(features, p);
    // trainSH projects without removing the mean (the box [mn, mx] absorbs it).
    const MatrixD projected = pca.directions.transpose() * features.cast<double>();  // p x N
    constexpr double eps = std::numeric_limits<double>::epsilon();
    Vector<double> low = projected.rowwise().minCoeff().array() - eps;
    Vector<double> high = projected.rowwise().maxCoeff().array() + eps;
    Vector<double> range = high - low;
    // A direction of (numerically) zero spread carries no information; a tiny positive range
    // keeps its frequency finite and its mode count at 1 (only the constant mode).
    const double max_range = std::max(range.maxCoeff(), std::numeric_limits<double>::min());
    for (Index d = 0; d < p; ++d) range(d) = std::max(range(d), max_range * 1e-12);

    // Enumerate modes: direction d gets k = 1 .. maxMode(d) - 1 with
    // maxMode = ceil((bits + 1) * range / max(range)), after one shared all-zero mode.
    struct Mode {
      Index direction;
      int k;
      double eigenvalue;  // sum of squared frequencies, (k pi / range)^2
    };
    std::vector<Mode> modes;
    for (Index d = 0; d < p; ++d) {
      const auto max_mode = static_cast<int>(std::ceil(static_cast<double>(bits + 1) * range(d) / max_range));
      for (int k = 1; k < max_mode; ++k) {
        const double omega = k * pi / range(d);
        modes.push_back({d, k, omega * omega});
      }
    }
    // The direction of largest range alone contributes `bits` modes, so there are enough.
    std::stable_sort(modes.begin(), modes.end(),
                     [](const Mode& a, const Mode& b) { return a.eigenvalue < b.eigenvalue; });
    directions_ = pca.directions.transpose().cast<float>();
    low_ = low.cast<float>();
    direction_of_bit_.resize(bits);
    frequency_.resize(bits);
    for (Index j = 0; j < bits; ++j) {
      direction_of_bit_[j] = modes[j].direction;
      frequency_[j] = modes[j].k * pi / range(modes[j].direction);
    }
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(directions_.size() > 0, method_name);
    detail::require_dims(features.rows(), directions_.cols(), method_name);
    const MatrixF projected = directions_ * features;  // p x N
    const Index bits = config_.bits;
    MatrixD values(bits, features.cols());
    // Each mode is a single-direction eigenfunction (the others contribute sin(pi/2) = 1 to
    // compressSH's product), so a bit is the sign of one sinusoid.
    for (Index i = 0; i < features.cols(); ++i)
      for (Index j = 0; j < bits; ++j) {
        const Index d = direction_of_bit_[j];
        const double x = static_cast<double>(projected(d, i)) - static_cast<double>(low_(d));
        values(j, i) = std::sin(pi / 2 + frequency_(j) * x);
      }
    return BinaryCodes::from_signs(values);
  }

  /// The PCA direction and the frequency k pi / (b - a) of each bit (for inspection and tests).
  const std::vector<Index>& bit_directions() const { return direction_of_bit_; }
  const Vector<double>& bit_frequencies() const { return frequency_; }

  void save(ByteWriter& out) const {
    out.put_matrix(directions_);
    out.put_matrix(low_);
    out.put_vector(direction_of_bit_);
    out.put_matrix(frequency_);
  }
  void load(ByteReader& in) {
    MatrixF directions = in.get_matrix<float>();
    const MatrixF low = in.get_matrix<float>();
    std::vector<Index> direction_of_bit = in.get_vector<Index>();
    const MatrixD frequency = in.get_matrix<double>();
    const Index bits = config_.bits;
    bool ok = directions.rows() >= 1 && directions.rows() <= bits && low.rows() == directions.rows() &&
              low.cols() == 1 && static_cast<Index>(direction_of_bit.size()) == bits &&
              frequency.rows() == bits && frequency.cols() == 1;
    for (Index j = 0; ok && j < bits; ++j)
      ok = direction_of_bit[j] >= 0 && direction_of_bit[j] < directions.rows() &&
           std::isfinite(frequency(j, 0));
    if (!ok) in.fail("SH parameters of " + std::to_string(bits) + " bits");
    directions_ = std::move(directions);
    low_ = low.col(0);
    direction_of_bit_ = std::move(direction_of_bit);
    frequency_ = frequency.col(0);
  }

 private:
  static constexpr double pi = 3.141592653589793238462643383279502884;
  Config config_;
  MatrixF directions_;  // p x D, PCA directions as rows
  VectorF low_;         // p, the lower end of each direction's box
  std::vector<Index> direction_of_bit_;
  Vector<double> frequency_;  // bits
};

}  // namespace rlhash
