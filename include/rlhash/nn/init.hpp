#pragma once
/// \file
/// Weight initialisation. Draws go through core/random.hpp, so a seed gives the same weights
/// with every standard library. A weight matrix is fan_out x fan_in (outputs x inputs).
#include <cmath>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::nn {

enum class Init {
  xavier_uniform,  ///< U(-a, a), a = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)
  xavier_normal,   ///< N(0, 2 / (fan_in + fan_out))
  he_uniform,      ///< U(-a, a), a = sqrt(6 / fan_in)  (He et al. 2015, for ReLU)
  he_normal,       ///< N(0, 2 / fan_in)
  uniform,         ///< U(-range, range)
  zeros,
};

/// Parses "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "uniform", "zeros".
inline Init parse_init(const std::string& name) {
  if (name == "xavier_uniform") return Init::xavier_uniform;
  if (name == "xavier_normal") return Init::xavier_normal;
  if (name == "he_uniform") return Init::he_uniform;
  if (name == "he_normal") return Init::he_normal;
  if (name == "uniform") return Init::uniform;
  if (name == "zeros") return Init::zeros;
  throw InvalidArgument("init: unknown scheme '" + name +
                        "'; expected xavier_uniform, xavier_normal, he_uniform, he_normal, uniform or zeros");
}

/// Fills `weight` (fan_out x fan_in) in column-major order.
template <class S>
void initialize(Matrix<S>& weight, Init init, Rng& rng, double range = 0.05) {
  const double fan_in = static_cast<double>(weight.cols());
  const double fan_out = static_cast<double>(weight.rows());
  double bound = 0, stddev = 0;
  switch (init) {
    case Init::xavier_uniform:
      bound = std::sqrt(6.0 / (fan_in + fan_out));
      break;
    case Init::xavier_normal:
      stddev = std::sqrt(2.0 / (fan_in + fan_out));
      break;
    case Init::he_uniform:
      bound = std::sqrt(6.0 / fan_in);
      break;
    case Init::he_normal:
      stddev = std::sqrt(2.0 / fan_in);
      break;
    case Init::uniform:
      rlhash::detail::require(range > 0,
                              "initialize: uniform range must be > 0, got " + std::to_string(range));
      bound = range;
      break;
    case Init::zeros:
      weight.setZero();
      return;
  }
  S* data = weight.data();
  for (Index i = 0; i < weight.size(); ++i)
    data[i] =
        static_cast<S>(stddev > 0 ? stddev * standard_normal(rng) : bound * (2.0 * uniform_unit(rng) - 1.0));
}

}  // namespace rlhash::nn
