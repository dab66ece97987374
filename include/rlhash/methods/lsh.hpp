#pragma once
/// \file
/// Locality-sensitive hashing by random projections (Charikar 2002; the papers' reference [2]):
/// bit j = sign(w_j . (x - mean)) with w_j drawn from a standard Gaussian.
#include <cstdint>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/hasher.hpp"

namespace rlhash {

class Lsh {
 public:
  static constexpr const char* method_name = "lsh";
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
    }
  };

  Lsh() : Lsh(Config()) {}
  explicit Lsh(Config config) : config_(config) { detail::require_bits(config.bits, method_name); }
  const Config& config() const { return config_; }

  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& /*labels*/ = {}, const FitOptions& /*options*/ = {}) {
    if (features.cols() == 0) throw InvalidArgument("lsh: cannot fit on an empty training set");
    mean_ = features.rowwise().mean();
    Rng rng(config_.seed);
    projection_.resize(config_.bits, features.rows());
    for (Index i = 0; i < projection_.size(); ++i) projection_.data()[i] = static_cast<float>(standard_normal(rng));
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(projection_.size() > 0, method_name);
    detail::require_dims(features.rows(), projection_.cols(), method_name);
    MatrixF projected = projection_ * features;
    projected.colwise() -= projection_ * mean_;
    return BinaryCodes::from_signs(projected);
  }

  void save(ByteWriter& out) const {
    out.put_matrix(mean_);
    out.put_matrix(projection_);
  }
  void load(ByteReader& in) {
    const MatrixF mean = in.get_matrix<float>();
    MatrixF projection = in.get_matrix<float>();
    if (mean.cols() != 1 || projection.rows() != config_.bits || projection.cols() != mean.rows())
      in.fail("LSH parameters of " + std::to_string(config_.bits) + " bits");
    mean_ = mean.col(0);
    projection_ = std::move(projection);
  }

 private:
  Config config_;
  VectorF mean_;
  MatrixF projection_;  // bits x D
};

}  // namespace rlhash
