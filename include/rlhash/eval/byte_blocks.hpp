#pragma once
/// \file
/// The kernels of the byte ranking (QueryRanking::build from a ByteRankingInput, ranking.hpp) and
/// of byte relevance (equal_byte_bits): bytes read in blocks of 64 items, with a scalar path
/// (SWAR: eight bytes per 64-bit word) and an AVX2 path (32 bytes per compare) chosen at run
/// time like the Hamming kernels. Both paths give bit-for-bit the same tables and ranks.
#include <cstdint>
#include <cstring>

#include "rlhash/core/types.hpp"
#include "rlhash/search/cpu_features.hpp"

#if defined(RLHASH_SEARCH_X86)
#include <immintrin.h>
#endif

namespace rlhash {
namespace detail {

/// A relevant item as the block scan leaves it: its rank among all items and among the relevant
/// items of its distance bucket (both counting only items of smaller index) and its distance.
struct RankedItem {
  std::uint32_t rank;
  std::uint32_t relevant_rank;
  std::uint32_t distance;
};

/// Counts per byte value: of all items in two interleaved tables (item i into table i % 2, so
/// that neighbours of one distance do not wait on each other's counter), of the relevant ones in
/// one (they are few).
struct ByteCountTables {
  std::uint32_t items[2][256];
  std::uint32_t relevant[256];
};

inline Index item_count(const ByteCountTables& tables, std::size_t value) {
  return Index{tables.items[0][value]} + tables.items[1][value];
}

/// Relevant items of a block taken per round of the scan whether present or not (a fixed count
/// keeps the loop free of a data-dependent exit; blocks with more relevant items loop on).
constexpr std::size_t byte_rank_unroll = 8;

/// Bit i of the result: p[i] == value, for the 64 bytes at p (portable form).
inline std::uint64_t equal_byte_mask_scalar(const std::uint8_t* p, std::uint8_t value) {
  constexpr std::uint64_t low7 = 0x7F7F7F7F7F7F7F7FULL;
  const std::uint64_t pattern = value * 0x0101010101010101ULL;
  std::uint64_t mask = 0;
  for (int k = 0; k < 8; ++k) {
    std::uint64_t word;
    std::memcpy(&word, p + 8 * k, 8);
    const std::uint64_t x = word ^ pattern;                            // zero bytes where equal
    const std::uint64_t zero = ~(((x & low7) + low7) | x | low7);      // high bit of each zero byte
    mask |= (((zero >> 7) * 0x0102040810204080ULL) >> 56) << (8 * k);  // byte i -> bit i
  }
  return mask;
}

struct ScalarByteMask {
  std::uint64_t operator()(const std::uint8_t* p, std::uint8_t value) const {
    return equal_byte_mask_scalar(p, value);
  }
};

#if defined(RLHASH_SEARCH_X86)
struct Avx2ByteMask {
  __attribute__((target("avx2"))) std::uint64_t operator()(const std::uint8_t* p, std::uint8_t value) const {
    const __m256i v = _mm256_set1_epi8(static_cast<char>(value));
    const auto low = static_cast<std::uint32_t>(
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), v)));
    const auto high = static_cast<std::uint32_t>(_mm256_movemask_epi8(
        _mm256_cmpeq_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32)), v)));
    return std::uint64_t{low} | (std::uint64_t{high} << 32);
  }
};
#endif

/// The scan behind QueryRanking's byte form: for every block of 64 items, first the rank of each
/// relevant item from the counts before the block plus its equals earlier in the block, then the
/// block's items into the tables. Writes the relevant items in index
/// order to `out` (room for their number plus byte_rank_unroll) and returns their number.
/// `distances` holds one spare block past the last (read, never counted).
template <class EqualMask>
__attribute__((always_inline)) inline std::size_t rank_byte_blocks_with(const std::uint8_t* distances,
                                                                        const std::uint64_t* relevant,
                                                                        Index n, RankedItem* out,
                                                                        ByteCountTables& tables,
                                                                        EqualMask equal_mask) {
  std::memset(&tables, 0, sizeof(tables));
  const Index blocks = (n + 63) / 64;
  const std::uint64_t last_block_bits = n % 64 == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << (n % 64)) - 1;
  std::size_t count = 0;
  for (Index b = 0; b < blocks; ++b) {
    const std::uint8_t* p = distances + b * 64;
    const std::uint64_t block_relevant = b + 1 == blocks ? relevant[b] & last_block_bits : relevant[b];
    std::uint64_t rest = block_relevant;
    const auto found = static_cast<std::size_t>(__builtin_popcountll(block_relevant));
    auto rank_one = [&](std::size_t s) __attribute__((always_inline)) {
      // Past the last relevant item j reads 63: the spare slot's values are never used.
      const auto j = static_cast<unsigned>(__builtin_ctzll(rest | (std::uint64_t{1} << 63)));
      rest &= rest - 1;
      const std::uint8_t d = p[j];
      const std::uint64_t equal = equal_mask(p, d) & ((std::uint64_t{1} << j) - 1);
      out[count + s] = {
          static_cast<std::uint32_t>(item_count(tables, d)) +
              static_cast<std::uint32_t>(__builtin_popcountll(equal)),
          tables.relevant[d] + static_cast<std::uint32_t>(__builtin_popcountll(equal & block_relevant)), d};
    };
    for (std::size_t s = 0; s < byte_rank_unroll; ++s) rank_one(s);
    for (std::size_t s = byte_rank_unroll; s < found; ++s) rank_one(s);
    const std::size_t rounds = found > byte_rank_unroll ? found : byte_rank_unroll;
    for (std::size_t s = 0; s < rounds; ++s) tables.relevant[out[count + s].distance] += s < found ? 1U : 0U;
    count += found;
    for (int k = 0; k < 64; k += 8) {
      std::uint64_t word;
      std::memcpy(&word, p + k, 8);
      ++tables.items[0][word & 0xFF];
      ++tables.items[1][(word >> 8) & 0xFF];
      ++tables.items[0][(word >> 16) & 0xFF];
      ++tables.items[1][(word >> 24) & 0xFF];
      ++tables.items[0][(word >> 32) & 0xFF];
      ++tables.items[1][(word >> 40) & 0xFF];
      ++tables.items[0][(word >> 48) & 0xFF];
      ++tables.items[1][word >> 56];
    }
  }
  return count;
}

inline std::size_t rank_byte_blocks_scalar(const std::uint8_t* distances, const std::uint64_t* relevant,
                                           Index n, RankedItem* out, ByteCountTables& tables) {
  return rank_byte_blocks_with(distances, relevant, n, out, tables, ScalarByteMask{});
}

#if defined(RLHASH_SEARCH_X86)
__attribute__((target("avx2,popcnt,bmi"))) inline std::size_t rank_byte_blocks_avx2(
    const std::uint8_t* distances, const std::uint64_t* relevant, Index n, RankedItem* out,
    ByteCountTables& tables) {
  return rank_byte_blocks_with(distances, relevant, n, out, tables, Avx2ByteMask{});
}
#endif

/// The scan on `path` (AVX2 for the avx2 and avx512 paths, else the scalar form).
inline std::size_t rank_byte_blocks(const std::uint8_t* distances, const std::uint64_t* relevant, Index n,
                                    RankedItem* out, ByteCountTables& tables, SimdPath path) {
#if defined(RLHASH_SEARCH_X86)
  if ((path == SimdPath::avx2 || path == SimdPath::avx512) && simd_path_supported(SimdPath::avx2))
    return rank_byte_blocks_avx2(distances, relevant, n, out, tables);
#endif
  (void)path;
  return rank_byte_blocks_scalar(distances, relevant, n, out, tables);
}

template <class EqualMask>
__attribute__((always_inline)) inline void equal_byte_bits_with(const std::uint8_t* bytes, Index blocks,
                                                                std::uint8_t value, std::uint64_t* out,
                                                                EqualMask equal_mask) {
  for (Index b = 0; b < blocks; ++b) out[b] = equal_mask(bytes + 64 * b, value);
}

inline void equal_byte_bits_scalar(const std::uint8_t* bytes, Index blocks, std::uint8_t value,
                                   std::uint64_t* out) {
  equal_byte_bits_with(bytes, blocks, value, out, ScalarByteMask{});
}

#if defined(RLHASH_SEARCH_X86)
__attribute__((target("avx2"))) inline void equal_byte_bits_avx2(const std::uint8_t* bytes, Index blocks,
                                                                 std::uint8_t value, std::uint64_t* out) {
  equal_byte_bits_with(bytes, blocks, value, out, Avx2ByteMask{});
}
#endif

}  // namespace detail

/// out[b] bit i = (bytes[64 b + i] == value), for `blocks` blocks of 64 bytes: e.g. the relevance
/// bits of a single-label query from the database's class ids as bytes.
inline void equal_byte_bits(const std::uint8_t* bytes, Index blocks, std::uint8_t value, std::uint64_t* out,
                            SimdPath path = active_simd_path()) {
#if defined(RLHASH_SEARCH_X86)
  if ((path == SimdPath::avx2 || path == SimdPath::avx512) && simd_path_supported(SimdPath::avx2))
    return detail::equal_byte_bits_avx2(bytes, blocks, value, out);
#endif
  (void)path;
  detail::equal_byte_bits_scalar(bytes, blocks, value, out);
}

}  // namespace rlhash
