#pragma once
/// \file
/// How much of its code length a set of binary codes uses: the number of distinct codes, the
/// bits that are the same for every item, how balanced the bits are and how strongly two bits
/// move together. A hasher whose bits collapse (constant bits, bit pairs that copy each other,
/// a handful of distinct codes for thousands of images) shows it here at once, whatever its mAP.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

struct CodeHealth {
  Index distinct_codes = 0;    ///< different codes among the items
  int constant_bits = 0;       ///< bits with the same value for every item
  double mean_bit_balance = 0; ///< mean over bits of 1 - |2 f - 1|, f = fraction of ones: 1 balanced, 0 constant
  /// Largest |Pearson correlation| between two non-constant bits over the items (0 with fewer
  /// than two non-constant bits); 1: one bit copies (or inverts) another.
  double max_abs_correlation = 0;
};

namespace detail {
/// Items in `chunk`-column pieces, as bits x chunk 0/1 matrices, so the whole set is never
/// unpacked at once.
template <class Visit>
void for_each_unpacked_chunk(const BinaryCodes& codes, Index chunk, Visit&& visit) {
  Matrix<double> block;
  for (Index begin = 0; begin < codes.size(); begin += chunk) {
    const Index n = std::min(chunk, codes.size() - begin);
    block.resize(codes.bits(), n);
    for (Index i = 0; i < n; ++i)
      for (int j = 0; j < codes.bits(); ++j) block(j, i) = codes.get(begin + i, j) ? 1.0 : 0.0;
    visit(block);
  }
}

inline Index count_distinct_codes(const BinaryCodes& codes) {
  std::vector<Index> order(static_cast<std::size_t>(codes.size()));
  std::iota(order.begin(), order.end(), Index{0});
  const std::size_t bytes = sizeof(std::uint64_t) * static_cast<std::size_t>(codes.words());
  std::sort(order.begin(), order.end(),
            [&](Index a, Index b) { return std::memcmp(codes.row(a), codes.row(b), bytes) < 0; });
  const auto same = [&](Index a, Index b) { return std::memcmp(codes.row(a), codes.row(b), bytes) == 0; };
  return static_cast<Index>(std::unique(order.begin(), order.end(), same) - order.begin());
}
}  // namespace detail

/// The health of `codes` (empty codes: all zero).
inline CodeHealth code_health(const BinaryCodes& codes) {
  CodeHealth h;
  const Index n = codes.size();
  if (n == 0) return h;
  const int bits = codes.bits();
  Vector<double> ones = Vector<double>::Zero(bits);
  Matrix<double> both = Matrix<double>::Zero(bits, bits);  // items with bits j and k both 1
  detail::for_each_unpacked_chunk(codes, 4096, [&](const Matrix<double>& block) {
    ones += block.rowwise().sum();
    both.noalias() += block * block.transpose();
  });
  const Vector<double> f = ones / static_cast<double>(n);
  for (int j = 0; j < bits; ++j) {
    if (ones(j) == 0 || ones(j) == static_cast<double>(n)) ++h.constant_bits;
    h.mean_bit_balance += 1.0 - std::abs(2.0 * f(j) - 1.0);
  }
  h.mean_bit_balance /= bits;
  for (int j = 0; j < bits; ++j)
    for (int k = j + 1; k < bits; ++k) {
      const double variance = f(j) * (1 - f(j)) * f(k) * (1 - f(k));
      if (variance <= 0) continue;
      const double covariance = both(j, k) / static_cast<double>(n) - f(j) * f(k);
      h.max_abs_correlation = std::max(h.max_abs_correlation, std::min(1.0, std::abs(covariance) / std::sqrt(variance)));
    }
  h.distinct_codes = detail::count_distinct_codes(codes);
  return h;
}

}  // namespace rlhash
