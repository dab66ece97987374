#pragma once
/// \file
/// The scalar reference Hamming distance between two packed codes, which every SIMD kernel of
/// hamming_kernels.hpp and hamming_kernels_xsimd.hpp must reproduce bit for bit.
#include <cstdint>

namespace rlhash {
namespace detail {

/// Distance between two codes of `words` words; the last word is masked with `tail`.
inline int scalar_distance(const std::uint64_t* a, const std::uint64_t* b, int words, std::uint64_t tail) {
  int d = 0;
  for (int w = 0; w + 1 < words; ++w) d += __builtin_popcountll(a[w] ^ b[w]);
  return d + __builtin_popcountll((a[words - 1] ^ b[words - 1]) & tail);
}

}  // namespace detail
}  // namespace rlhash
