#pragma once
/// \file
/// Locality-sensitive hashing by random projections (Charikar 2002; the papers' reference [2]):
/// bit j = sign(w_j . (x - mean)) with w_j drawn from a standard Gaussian.
#include <cstdint>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/centered_projection.hpp"
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

  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& /*labels*/ = {},
           const FitOptions& /*options*/ = {}) {
    if (features.cols() == 0) throw InvalidArgument("lsh: cannot fit on an empty training set");
    encoder_.mean = features.rowwise().mean();
    Rng rng(config_.seed);
    MatrixF& projection = encoder_.projection;
    projection.resize(config_.bits, features.rows());
    for (Index i = 0; i < projection.size(); ++i)
      projection.data()[i] = static_cast<float>(standard_normal(rng));
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    return encoder_.encode(features, method_name);
  }

  void save(ByteWriter& out) const { encoder_.save(out); }
  void load(ByteReader& in) { encoder_.load(in, config_.bits, method_name); }

 private:
  Config config_;
  detail::CenteredProjection encoder_;
};

}  // namespace rlhash
