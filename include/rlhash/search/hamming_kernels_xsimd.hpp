#pragma once
/// \file
/// Portable Hamming kernels written with xsimd batches of 64-bit words (namespace detail): the
/// `xsimd` SimdPath. They serve the CPUs the x86 kernels of hamming_kernels.hpp do not: NEON on
/// 64-bit ARM (with its byte popcount, `cnt`), and whatever instruction set the program is
/// compiled for elsewhere (SSE2 on plain x86-64), where the population count of each 64-bit
/// lane is the classic bit-twiddling one (Hacker's Delight, figure 5-2).
///
/// Available where RLHASH_HAS_XSIMD is defined (the CMake package and the Conan and vcpkg
/// packages define it) and the target has SSE2 or NEON (cpu_features.hpp); the distances equal
/// scalar_distance() bit for bit, tail bits masked.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/scalar_distance.hpp"

#if defined(RLHASH_SEARCH_XSIMD)
#include <xsimd/xsimd.hpp>

namespace rlhash {
namespace detail {

/// 64-bit words in the widest registers the compile target has (2 for NEON and SSE2).
using WordBatch = xsimd::batch<std::uint64_t>;
constexpr int word_lanes = static_cast<int>(WordBatch::size);
static_assert(BinaryCodes::max_bits / 64 <= 16 && 16 % word_lanes == 0,
              "query patterns hold at most 16 words, a whole number of batches");

#if defined(__aarch64__)
constexpr bool neon_words = std::is_same_v<WordBatch::arch_type, xsimd::neon64>;
#else
constexpr bool neon_words = false;
#endif

/// Each byte of the result holds the number of set bits in that byte of `x`.
inline WordBatch byte_popcounts(const WordBatch& x) {
#if defined(__aarch64__)
  if constexpr (neon_words) {
    return WordBatch(vreinterpretq_u64_u8(vcntq_u8(vreinterpretq_u8_u64(x))));
  } else
#endif
  {
    const WordBatch ones(0x5555555555555555ULL), pairs(0x3333333333333333ULL), nibbles(0x0F0F0F0F0F0F0F0FULL);
    const WordBatch v = x - ((x >> 1) & ones);
    const WordBatch w = (v & pairs) + ((v >> 2) & pairs);
    return (w + (w >> 4)) & nibbles;
  }
}

/// Each 64-bit lane of the result holds the sum of the bytes of that lane of `bytes`.
inline WordBatch lane_sums(const WordBatch& bytes) {
#if defined(__aarch64__)
  if constexpr (neon_words) {
    return WordBatch(vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(vreinterpretq_u8_u64(bytes)))));
  } else
#endif
  {
    const WordBatch b8(0x00FF00FF00FF00FFULL), b16(0x0000FFFF0000FFFFULL), b32(0x00000000FFFFFFFFULL);
    const WordBatch v = (bytes & b8) + ((bytes >> 8) & b8);
    const WordBatch w = (v & b16) + ((v >> 16) & b16);
    return (w & b32) + (w >> 32);
  }
}

/// The sum of all bytes of `bytes` (`scratch`: word_lanes aligned words).
inline std::int32_t sum_lanes(const WordBatch& bytes, std::uint64_t* scratch) {
#if defined(__aarch64__)
  if constexpr (neon_words) return static_cast<std::int32_t>(vaddlvq_u8(vreinterpretq_u8_u64(bytes)));
#endif
  lane_sums(bytes).store_aligned(scratch);
  std::uint64_t d = 0;
  for (int l = 0; l < word_lanes; ++l) d += scratch[l];
  return static_cast<std::int32_t>(d);
}

/// Query and mask words for `count` lanes. With `repeat`, the code's words repeat across the
/// lanes (a batch then holds word_lanes / words codes); without, a code spans count / word_lanes
/// batches and the lanes past it are zero. The mask keeps `tail` of each code's last word.
inline void lane_pattern(const std::uint64_t* query, int words, std::uint64_t tail, int count, bool repeat,
                         std::uint64_t* q, std::uint64_t* m) {
  for (int j = 0; j < count; ++j) {
    const int w = repeat ? j % words : j;
    q[j] = w < words ? query[w] : 0;
    m[j] = w < words - 1 ? ~std::uint64_t{0} : (w == words - 1 ? tail : 0);
  }
}

#if defined(__aarch64__)
/// NEON, codes of 1, 2 or 4 words: 16 words per step, their byte counts reduced across registers
/// by pairwise adds (addp) until one byte (one 16-bit lane for 4 words, whose 256 bits overflow
/// a byte) holds one code's distance, then widened to int32. Returns the first code not done.
inline Index distances_neon_words(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                                  std::int32_t* out) {
  const int words = db.words;
  // The code repeated over 4 words: even registers of a step hold its words 0-1, odd ones 2-3.
  alignas(64) std::uint64_t qp[4], mp[4];
  lane_pattern(query, words, db.tail_mask(), 4, true, qp, mp);
  const WordBatch q_even = WordBatch::load_aligned(qp), q_odd = WordBatch::load_aligned(qp + 2);
  const WordBatch m_even = WordBatch::load_aligned(mp), m_odd = WordBatch::load_aligned(mp + 2);
  const Index step = 16 / words;
  Index i = begin;
  for (; i + step <= end; i += step) {
    const std::uint64_t* p = db.row(i);
    // Spelled out: GCC keeps an array of registers on the stack.
    const auto count = [&](int r) {
      const WordBatch x = WordBatch::load_unaligned(p + 2 * r);
      return vcntq_u8(vreinterpretq_u8_u64(r % 2 == 0 ? (x ^ q_even) & m_even : (x ^ q_odd) & m_odd));
    };
    const uint8x16_t l1a = vpaddq_u8(count(0), count(1)), l1b = vpaddq_u8(count(2), count(3));
    const uint8x16_t l1c = vpaddq_u8(count(4), count(5)), l1d = vpaddq_u8(count(6), count(7));
    const uint8x16_t per_word = vpaddq_u8(vpaddq_u8(l1a, l1b), vpaddq_u8(l1c, l1d));  // byte j: word j's count
    std::int32_t* o = out + (i - begin);
    if (words == 4) {
      const uint16x8_t d = vpaddlq_u8(vpaddq_u8(per_word, per_word));  // lanes 0-3: codes 0-3
      vst1q_s32(o, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(d))));
    } else if (words == 2) {
      const uint16x8_t d = vmovl_u8(vget_low_u8(vpaddq_u8(per_word, per_word)));
      vst1q_s32(o, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(d))));
      vst1q_s32(o + 4, vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(d))));
    } else {
      const uint16x8_t lo = vmovl_u8(vget_low_u8(per_word)), hi = vmovl_u8(vget_high_u8(per_word));
      vst1q_s32(o, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(lo))));
      vst1q_s32(o + 4, vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(lo))));
      vst1q_s32(o + 8, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(hi))));
      vst1q_s32(o + 12, vreinterpretq_s32_u32(vmovl_u16(vget_high_u16(hi))));
    }
  }
  return i;
}
#endif

/// Codes of at most word_lanes words that divide it: word_lanes / words codes per batch.
inline void distances_xsimd_packed(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                                   std::int32_t* out) {
  const int words = db.words;
  const std::uint64_t tail = db.tail_mask();
  alignas(64) std::uint64_t qp[word_lanes], mp[word_lanes], counts[word_lanes];
  lane_pattern(query, words, tail, word_lanes, true, qp, mp);
  const WordBatch q = WordBatch::load_aligned(qp), m = WordBatch::load_aligned(mp);
  const int per_batch = word_lanes / words;
  Index i = begin;
  for (; i + per_batch <= end; i += per_batch) {
    lane_sums(byte_popcounts((WordBatch::load_unaligned(db.row(i)) ^ q) & m)).store_aligned(counts);
    for (int c = 0; c < per_batch; ++c) {
      std::uint64_t d = 0;
      for (int w = 0; w < words; ++w) d += counts[c * words + w];
      out[i - begin + c] = static_cast<std::int32_t>(d);
    }
  }
  for (; i < end; ++i) out[i - begin] = scalar_distance(db.row(i), query, words, tail);
}

/// Codes of any other width: each code is `chunks` batches whose byte counts add up before one
/// lane sum (at most 8 per byte per batch, 16 batches: no overflow).
inline void distances_xsimd_chunked(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                                    std::int32_t* out) {
  const int words = db.words;
  const std::uint64_t tail = db.tail_mask();
  const int chunks = (words + word_lanes - 1) / word_lanes;
  alignas(64) std::uint64_t qp[16], mp[16], counts[word_lanes];
  lane_pattern(query, words, tail, word_lanes * chunks, false, qp, mp);
  WordBatch q[16 / word_lanes], m[16 / word_lanes];
  for (int c = 0; c < chunks; ++c) {
    q[c] = WordBatch::load_aligned(qp + c * word_lanes);
    m[c] = WordBatch::load_aligned(mp + c * word_lanes);
  }
  // A code's last batch reads past it (masked out); the last codes, whose batch would read past
  // the database, are left to the scalar reference.
  const Index overhang = (chunks * word_lanes - words + words - 1) / words;
  const Index vector_end = std::max(begin, std::min(end, db.size - overhang));
  Index i = begin;
  for (; i < vector_end; ++i) {
    const std::uint64_t* code = db.row(i);
    WordBatch bytes(std::uint64_t{0});
    for (int c = 0; c < chunks; ++c)
      bytes += byte_popcounts((WordBatch::load_unaligned(code + c * word_lanes) ^ q[c]) & m[c]);
    out[i - begin] = sum_lanes(bytes, counts);
  }
  for (; i < end; ++i) out[i - begin] = scalar_distance(db.row(i), query, words, tail);
}

inline void distances_xsimd(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                            std::int32_t* out) {
#if defined(__aarch64__)
  if (neon_words && (db.words == 1 || db.words == 2 || db.words == 4)) {
    const Index done = distances_neon_words(db, begin, end, query, out);
    out += done - begin;
    begin = done;
  }
#endif
  if (word_lanes % db.words == 0) return distances_xsimd_packed(db, begin, end, query, out);
  distances_xsimd_chunked(db, begin, end, query, out);
}

/// Filtered scan: distances of a block of codes per query, then the codes below each sink's
/// threshold, in increasing index order per query.
template <class Sink>
void scan_xsimd(const CodesView& db, Index begin, Index end, const std::uint64_t* const* queries, int group,
                Sink* const* sinks) {
  constexpr Index block = 256;
  std::int32_t distances[block];
  for (Index b = begin; b < end; b += block) {
    const Index e = std::min(end, b + block);
    for (int g = 0; g < group; ++g) {
      distances_xsimd(db, b, e, queries[g], distances);
      for (Index i = b; i < e; ++i)
        if (distances[i - b] < sinks[g]->threshold()) sinks[g]->push(i, distances[i - b]);
    }
  }
}

}  // namespace detail
}  // namespace rlhash

#endif  // RLHASH_SEARCH_XSIMD
