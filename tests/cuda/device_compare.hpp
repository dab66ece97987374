// Helpers of the GPU layer tests: random host data and the float-rounding comparison of a
// device result with the host backend's.
#pragma once
#include <catch.hpp>

#include <algorithm>
#include <type_traits>

#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::test {

template <class S>
Matrix<S> random_matrix(Rng& rng, Index rows, Index cols) {
  Matrix<S> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<S>(standard_normal(rng));
  return m;
}

/// Device and host sum in different orders (cuBLAS's blocking, the row-sum kernel) and round
/// tanh/exp differently, so they agree to a few ulps of the operands' magnitude, not bit for
/// bit: the tolerance is relative to the largest entry of the host result.
template <class S, class A, class B>
void require_close(const A& device, const B& host) {
  REQUIRE(device.rows() == host.rows());
  REQUIRE(device.cols() == host.cols());
  if (host.size() == 0) return;
  const S scale = std::max(S(1), host.cwiseAbs().maxCoeff());
  const S tolerance = std::is_same_v<S, float> ? S(1e-4) : S(1e-11);
  INFO("max |device - host| = " << (device - host).cwiseAbs().maxCoeff() << ", scale " << scale);
  REQUIRE((device - host).cwiseAbs().maxCoeff() <= tolerance * scale);
}

}  // namespace rlhash::test
