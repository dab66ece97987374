#pragma once
/// \file
/// Hamming distances stored as one byte each, for the evaluation of rankings: a quarter of the
/// memory traffic of the int32 distances of hamming.hpp, and a layout that a ranking can count
/// and compare 32 or 64 items at a time.
///
/// Codes of up to 32 bits have a dedicated kernel over a packed copy of the database with one
/// 32-bit word per code (PackedCodes32, made once per database): the AVX2 kernel takes 8 codes per
/// vector, counts bits with a nibble lookup (vpshufb) and narrows 32 distances to one store.
/// Wider codes (up to 254 bits) reuse the int32 kernels of hamming.hpp through a small block and
/// narrow it. Every path gives bit-for-bit the distances of hamming_distance().
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming.hpp"

#if defined(RLHASH_SEARCH_X86)
#include <immintrin.h>
#endif

namespace rlhash {

/// The widest code whose distances fit a byte with one value (255) to spare for "no distance".
constexpr int max_byte_distance_bits = 254;

/// A database of codes of at most 32 bits with one 32-bit word per code (bits past `bits` zero).
struct PackedCodes32 {
  std::vector<std::uint32_t> words;
  int bits = 0;

  Index size() const { return static_cast<Index>(words.size()); }

  /// The low 32 bits of each code of `codes` (which must have at most 32 bits).
  static PackedCodes32 from(const CodesView& codes) {
    detail::require(codes.bits >= 1 && codes.bits <= 32,
                    "packed 32-bit codes: bits = " + std::to_string(codes.bits) + ", expected 1..32");
    PackedCodes32 packed;
    packed.bits = codes.bits;
    packed.words.resize(static_cast<std::size_t>(codes.size));
    const auto tail = static_cast<std::uint32_t>(codes.tail_mask());
    for (Index i = 0; i < codes.size; ++i)
      packed.words[static_cast<std::size_t>(i)] = static_cast<std::uint32_t>(codes.data[i]) & tail;
    return packed;
  }
};

namespace detail {

inline std::uint32_t low_bits_mask32(int bits) {
  return bits >= 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << bits) - 1;
}

inline void byte_distances_scalar(const std::uint32_t* codes, Index n, std::uint32_t query,
                                  std::uint32_t mask, std::uint8_t* out) {
  for (Index i = 0; i < n; ++i)
    out[i] = static_cast<std::uint8_t>(__builtin_popcount((codes[i] ^ query) & mask));
}

#if defined(RLHASH_SEARCH_X86)
/// `Masked` false: 32-bit codes, whose mask has every bit set, so the loop leaves out the AND.
template <bool Masked>
__attribute__((target("avx2"), always_inline)) inline void byte_distances_avx2_with(
    const std::uint32_t* codes, Index n, std::uint32_t query, std::uint32_t mask, std::uint8_t* out) {
  const __m256i nibble_bits = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1,
                                               2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low_nibble = _mm256_set1_epi8(0x0f);
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  const __m256i q = _mm256_set1_epi32(static_cast<int>(query));
  const __m256i m = _mm256_set1_epi32(static_cast<int>(mask));
  // The two packs interleave 128-bit halves; this permutation puts the 32 bytes in code order.
  const __m256i code_order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  Index i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i sums[4];
    for (int k = 0; k < 4; ++k) {
      __m256i x =
          _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + i + 8 * k)), q);
      if constexpr (Masked) x = _mm256_and_si256(x, m);
      const __m256i per_byte = _mm256_add_epi8(
          _mm256_shuffle_epi8(nibble_bits, _mm256_and_si256(x, low_nibble)),
          _mm256_shuffle_epi8(nibble_bits, _mm256_and_si256(_mm256_srli_epi16(x, 4), low_nibble)));
      sums[k] = _mm256_madd_epi16(_mm256_maddubs_epi16(per_byte, ones8), ones16);  // 8 x int32
    }
    const __m256i bytes =
        _mm256_packus_epi16(_mm256_packs_epi32(sums[0], sums[1]), _mm256_packs_epi32(sums[2], sums[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(bytes, code_order));
  }
  byte_distances_scalar(codes + i, n - i, query, mask, out + i);
}

__attribute__((target("avx2"))) inline void byte_distances_avx2(const std::uint32_t* codes, Index n,
                                                                std::uint32_t query, std::uint32_t mask,
                                                                std::uint8_t* out) {
  if (mask == ~std::uint32_t{0}) return byte_distances_avx2_with<false>(codes, n, query, mask, out);
  byte_distances_avx2_with<true>(codes, n, query, mask, out);
}
#endif

}  // namespace detail

/// out[i] = distance from `query` (its low `codes.bits` bits count) to code i, for all i, as bytes.
inline void hamming_distances_u8(std::uint32_t query, const PackedCodes32& codes, std::uint8_t* out,
                                 SimdPath path = active_simd_path()) {
  require_simd_path(path);
  if (codes.size() == 0) return;
  if (out == nullptr) throw InvalidArgument("hamming_distances_u8: null output");
  const std::uint32_t mask = detail::low_bits_mask32(codes.bits);
#if defined(RLHASH_SEARCH_X86)
  // The AVX-512 path runs the AVX2 kernel: every AVX-512 CPU has AVX2, and a byte store of 32
  // distances is already one instruction.
  if ((path == SimdPath::avx2 || path == SimdPath::avx512) && simd_path_supported(SimdPath::avx2))
    return detail::byte_distances_avx2(codes.words.data(), codes.size(), query, mask, out);
#endif
  detail::byte_distances_scalar(codes.words.data(), codes.size(), query, mask, out);
}

/// out[i] = distance from `query` (database.words words) to database code i, as bytes, for codes
/// of up to max_byte_distance_bits bits: the int32 kernels of hamming.hpp block by block.
inline void hamming_distances_u8(const std::uint64_t* query, const CodesView& database, std::uint8_t* out,
                                 SimdPath path = active_simd_path()) {
  detail::require_codes(database, "hamming_distances_u8: database");
  detail::require(database.bits <= max_byte_distance_bits,
                  "hamming_distances_u8: database codes have " + std::to_string(database.bits) +
                      " bits, expected at most " + std::to_string(max_byte_distance_bits));
  require_simd_path(path);
  if (database.size == 0) return;
  if (query == nullptr || out == nullptr) throw InvalidArgument("hamming_distances_u8: null query or output");
  constexpr Index block = 1024;
  std::int32_t wide[block];
  for (Index begin = 0; begin < database.size; begin += block) {
    const Index end = std::min(database.size, begin + block);
    detail::distances_range(path, database, begin, end, query, wide);
    for (Index i = begin; i < end; ++i) out[i] = static_cast<std::uint8_t>(wide[i - begin]);
  }
}

}  // namespace rlhash
