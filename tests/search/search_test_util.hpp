#pragma once
// Shared helpers of the search tests: random and clustered codes, an independent bit-by-bit
// reference distance, and the SIMD paths this CPU can run.
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/search/cpu_features.hpp"

namespace rlhash::test {

inline BinaryCodes random_codes(Index count, int bits, Rng& rng) {
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    for (int w = 0; w < codes.words(); ++w) codes.row(i)[w] = rng();
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

/// Codes near the given centres, each bit flipped with probability 2^-flip_log2 (>= 1): many ties
/// and many candidates passing the kNN filter, which exercises compaction. Draw queries and
/// database from the same centres so that queries have close neighbours.
inline BinaryCodes clustered_codes(Index count, const BinaryCodes& centres, int flip_log2, Rng& rng) {
  BinaryCodes codes(count, centres.bits());
  for (Index i = 0; i < count; ++i) {
    const Index c = static_cast<Index>(uniform_below(rng, static_cast<std::uint64_t>(centres.size())));
    for (int w = 0; w < codes.words(); ++w) {
      std::uint64_t noise = ~std::uint64_t{0};
      for (int p = 0; p < flip_log2; ++p) noise &= rng();
      codes.row(i)[w] = centres.row(c)[w] ^ noise;
    }
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

/// Bit-by-bit reference, independent of the library's popcount code.
inline int reference_distance(const BinaryCodes& a, Index i, const BinaryCodes& b, Index j) {
  int d = 0;
  for (int bit = 0; bit < a.bits(); ++bit) d += a.get(i, bit) != b.get(j, bit);
  return d;
}

/// All N reference distances of query q.
inline std::vector<int> reference_distances(const BinaryCodes& queries, Index q,
                                            const BinaryCodes& database) {
  std::vector<int> d(static_cast<std::size_t>(database.size()));
  for (Index i = 0; i < database.size(); ++i)
    d[static_cast<std::size_t>(i)] = reference_distance(queries, q, database, i);
  return d;
}

/// Database indices sorted by distance with a stable sort (ties by index).
inline std::vector<Index> stable_order(const std::vector<int>& distances) {
  std::vector<Index> order(distances.size());
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
    return distances[static_cast<std::size_t>(a)] < distances[static_cast<std::size_t>(b)];
  });
  return order;
}

inline std::vector<SimdPath> all_simd_paths() {
  return {SimdPath::scalar, SimdPath::avx2, SimdPath::avx512, SimdPath::xsimd};
}

}  // namespace rlhash::test
