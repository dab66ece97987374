#pragma once
/// \file
/// The first k items of one query's stable ranking (ascending distance, ties by ascending database
/// index), from its byte distances and relevance bits (ByteRankingInput, ranking.hpp), without
/// ranking the whole database. The metrics of the top k (mAP@k, precision@k, NDCG@k) need only
/// the positions of the relevant items among those k and how many relevant items there are in all.
///
/// Instead of counting every item into per-distance tables: the threshold distance t, the smallest
/// with at least k items at distance <= t (guessed from a sample of the database, then settled by
/// exact counts of the bytes <= t, 32 per compare on the SIMD path, usually two); the items at
/// distance < t and the first of those at distance t, in index order, exactly k of them; and a
/// counting sort of those by distance, which keeps ties in index order. Each pass over the
/// database is a compare per 32 items; only about k items are written and sorted.
/// The positions are exactly those of QueryRanking's below k, so every top-k metric read off
/// either is bit for bit the same.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/byte_blocks.hpp"
#include "rlhash/eval/ranking.hpp"
#include "rlhash/search/cpu_features.hpp"

#if defined(RLHASH_SEARCH_X86)
#include <immintrin.h>
#endif

namespace rlhash {
namespace detail {

/// Bit i: bytes[i] <= t, for the 64 bytes at `bytes` (portable form).
inline std::uint64_t at_most_mask_scalar(const std::uint8_t* bytes, std::uint8_t t) {
  std::uint64_t mask = 0;
  for (int i = 0; i < 64; ++i) mask |= static_cast<std::uint64_t>(bytes[i] <= t ? 1 : 0) << i;
  return mask;
}

/// Items at distance < t, at distance <= t, and ranked (at distance <= top).
struct ThresholdCounts {
  Index below = 0;
  Index within = 0;
  Index ranked = 0;
};

/// The ThresholdCounts of `blocks` blocks of 64 bytes (portable form).
inline ThresholdCounts count_threshold_scalar(const std::uint8_t* bytes, Index blocks, std::uint8_t t,
                                              std::uint8_t top) {
  ThresholdCounts counts;
  for (Index i = 0; i < blocks * 64; ++i) {
    counts.below += bytes[i] < t ? 1 : 0;
    counts.within += bytes[i] <= t ? 1 : 0;
    counts.ranked += bytes[i] <= top ? 1 : 0;
  }
  return counts;
}

#if defined(RLHASH_SEARCH_X86)
__attribute__((target("avx2"))) inline std::uint64_t at_most_mask_avx2(const std::uint8_t* bytes,
                                                                       std::uint8_t t) {
  const __m256i limit = _mm256_set1_epi8(static_cast<char>(t));
  const __m256i low = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
  const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 32));
  // x <= t (unsigned) exactly when min(x, t) == x.
  const auto low_bits =
      static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(low, limit), low)));
  const auto high_bits =
      static_cast<std::uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(high, limit), high)));
  return std::uint64_t{low_bits} | (std::uint64_t{high_bits} << 32);
}

/// Byte counters (each compare gives -1 per hit, subtracted) of the items <= t, == t and <= top,
/// summed into 64-bit lanes every 127 blocks of 64 bytes, before a counter can wrap.
__attribute__((target("avx2"))) inline ThresholdCounts count_threshold_avx2(const std::uint8_t* bytes,
                                                                            Index blocks, std::uint8_t t,
                                                                            std::uint8_t top) {
  const __m256i limit = _mm256_set1_epi8(static_cast<char>(t));
  const __m256i top_limit = _mm256_set1_epi8(static_cast<char>(top));
  const __m256i zero = _mm256_setzero_si256();
  __m256i within_total = zero, at_total = zero, ranked_total = zero;
  auto lane_sums = [&zero](__m256i a, __m256i b) __attribute__((target("avx2"))) {
    return _mm256_add_epi64(_mm256_sad_epu8(a, zero), _mm256_sad_epu8(b, zero));
  };
  for (Index begin = 0; begin < blocks; begin += 127) {
    const Index end = std::min(blocks, begin + 127);
    __m256i within0 = zero, within1 = zero, at0 = zero, at1 = zero, ranked0 = zero, ranked1 = zero;
    for (Index b = begin; b < end; ++b) {
      const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 64 * b));
      const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes + 64 * b + 32));
      within0 = _mm256_sub_epi8(within0, _mm256_cmpeq_epi8(_mm256_min_epu8(x0, limit), x0));
      within1 = _mm256_sub_epi8(within1, _mm256_cmpeq_epi8(_mm256_min_epu8(x1, limit), x1));
      at0 = _mm256_sub_epi8(at0, _mm256_cmpeq_epi8(x0, limit));
      at1 = _mm256_sub_epi8(at1, _mm256_cmpeq_epi8(x1, limit));
      ranked0 = _mm256_sub_epi8(ranked0, _mm256_cmpeq_epi8(_mm256_min_epu8(x0, top_limit), x0));
      ranked1 = _mm256_sub_epi8(ranked1, _mm256_cmpeq_epi8(_mm256_min_epu8(x1, top_limit), x1));
    }
    within_total = _mm256_add_epi64(within_total, lane_sums(within0, within1));
    at_total = _mm256_add_epi64(at_total, lane_sums(at0, at1));
    ranked_total = _mm256_add_epi64(ranked_total, lane_sums(ranked0, ranked1));
  }
  alignas(32) std::uint64_t lanes[3][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[0]), within_total);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[1]), at_total);
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[2]), ranked_total);
  Index sums[3];
  for (int c = 0; c < 3; ++c)
    sums[c] = static_cast<Index>(lanes[c][0] + lanes[c][1] + lanes[c][2] + lanes[c][3]);
  return {sums[0] - sums[1], sums[0], sums[2]};
}
#endif

struct ScalarAtMostMask {
  std::uint64_t operator()(const std::uint8_t* bytes, std::uint8_t t) const {
    return at_most_mask_scalar(bytes, t);
  }
};

/// Items ranked (at distance <= top), the relevant ones among them, and whether any item is
/// neither ranked nor left out (a distance past `top` other than ByteRankingInput::left_out).
struct RankedCounts {
  Index items = 0;
  Index relevant = 0;
  bool out_of_range = false;
};

template <class AtMostMask>
__attribute__((always_inline)) inline RankedCounts count_ranked_with(const std::uint8_t* bytes,
                                                                     const std::uint64_t* relevant_words,
                                                                     Index blocks, std::uint8_t top,
                                                                     AtMostMask at_most) {
  RankedCounts counts;
  std::uint64_t out_of_range = 0;
  for (Index b = 0; b < blocks; ++b) {
    const std::uint64_t ranked = at_most(bytes + 64 * b, top);
    out_of_range |= at_most(bytes + 64 * b, ByteRankingInput::left_out - 1) & ~ranked;
    counts.items += __builtin_popcountll(ranked);
    counts.relevant += __builtin_popcountll(ranked & relevant_words[b]);
  }
  counts.out_of_range = out_of_range != 0;
  return counts;
}

/// m without all but its `keep` lowest set bits.
inline std::uint64_t lowest_set_bits(std::uint64_t m, Index keep) {
  std::uint64_t kept = 0;
  for (; keep > 0 && m != 0; --keep, m &= m - 1) kept |= m & (~m + 1);
  return kept;
}

/// Slots per block of collect_with, written whether taken or not.
constexpr std::size_t collect_slots = 2;

/// Writes to `out`, in index order, the indices of the first `limit` items whose byte matches
/// `value` (mask(bytes of a block, value): a bit per matching item); returns their number. `out`
/// has room for that number plus collect_slots.
template <class Mask>
__attribute__((always_inline)) inline std::size_t collect_with(const std::uint8_t* bytes, Index blocks,
                                                               std::uint8_t value, std::size_t limit,
                                                               std::uint32_t* out, Mask mask) {
  std::size_t count = 0;
  for (Index b = 0; b < blocks && count < limit; ++b) {
    std::uint64_t m = mask(bytes + 64 * b, value);
    auto hits = static_cast<std::size_t>(__builtin_popcountll(m));
    if (hits > limit - count) {
      hits = limit - count;
      m = lowest_set_bits(m, static_cast<Index>(hits));
    }
    // A fixed number of slots written whether taken or not keeps the loop free of a
    // data-dependent exit in the common case of a few items per block.
    for (std::size_t s = 0; s < collect_slots; ++s, m &= m - 1)
      out[count + s] = static_cast<std::uint32_t>(64 * b + __builtin_ctzll(m | (std::uint64_t{1} << 63)));
    for (std::size_t s = collect_slots; s < hits; ++s, m &= m - 1)
      out[count + s] = static_cast<std::uint32_t>(64 * b + __builtin_ctzll(m));
    count += hits;
  }
  return count;
}

/// Relevance bits of the items 0..n-1 that are set (the words past them ignored).
__attribute__((always_inline)) inline Index count_relevant_bits_with(const std::uint64_t* words, Index n) {
  Index count = 0;
  for (Index b = 0; b < n / 64; ++b) count += __builtin_popcountll(words[b]);
  if (n % 64 != 0) count += __builtin_popcountll(words[n / 64] & ((std::uint64_t{1} << (n % 64)) - 1));
  return count;
}

/// collect_with for the items at distance <= value (equal: == value).
template <class AtMostMask, class EqualMask>
__attribute__((always_inline)) inline std::size_t collect_either_with(const std::uint8_t* bytes, Index blocks,
                                                                      std::uint8_t value, bool equal,
                                                                      std::size_t limit, std::uint32_t* out) {
  return equal ? collect_with(bytes, blocks, value, limit, out, EqualMask{})
               : collect_with(bytes, blocks, value, limit, out, AtMostMask{});
}

inline Index count_relevant_bits_scalar(const std::uint64_t* words, Index n) {
  return count_relevant_bits_with(words, n);
}

inline RankedCounts count_ranked_scalar(const std::uint8_t* bytes, const std::uint64_t* relevant_words,
                                        Index blocks, std::uint8_t top) {
  return count_ranked_with(bytes, relevant_words, blocks, top, ScalarAtMostMask{});
}
inline std::size_t collect_scalar(const std::uint8_t* bytes, Index blocks, std::uint8_t value, bool equal,
                                  std::size_t limit, std::uint32_t* out) {
  return collect_either_with<ScalarAtMostMask, ScalarByteMask>(bytes, blocks, value, equal, limit, out);
}

#if defined(RLHASH_SEARCH_X86)
struct Avx2AtMostMask {
  __attribute__((target("avx2"))) std::uint64_t operator()(const std::uint8_t* bytes, std::uint8_t t) const {
    return at_most_mask_avx2(bytes, t);
  }
};
__attribute__((target("popcnt"))) inline Index count_relevant_bits_popcnt(const std::uint64_t* words,
                                                                          Index n) {
  return count_relevant_bits_with(words, n);
}
__attribute__((target("avx2,popcnt,bmi"))) inline RankedCounts count_ranked_avx2(
    const std::uint8_t* bytes, const std::uint64_t* relevant_words, Index blocks, std::uint8_t top) {
  return count_ranked_with(bytes, relevant_words, blocks, top, Avx2AtMostMask{});
}
__attribute__((target("avx2,popcnt,bmi"))) inline std::size_t collect_avx2(const std::uint8_t* bytes,
                                                                           Index blocks, std::uint8_t value,
                                                                           bool equal, std::size_t limit,
                                                                           std::uint32_t* out) {
  return collect_either_with<Avx2AtMostMask, Avx2ByteMask>(bytes, blocks, value, equal, limit, out);
}
#endif

/// The kernels above on one path: AVX2 for the avx2 and avx512 paths, else the portable forms.
struct AtMostKernels {
  bool avx2 = false;

  explicit AtMostKernels(SimdPath path) {
#if defined(RLHASH_SEARCH_X86)
    avx2 = (path == SimdPath::avx2 || path == SimdPath::avx512) && simd_path_supported(SimdPath::avx2);
#else
    (void)path;
#endif
  }
  ThresholdCounts count_threshold(const std::uint8_t* bytes, Index blocks, std::uint8_t t,
                                  std::uint8_t top) const {
#if defined(RLHASH_SEARCH_X86)
    if (avx2) return count_threshold_avx2(bytes, blocks, t, top);
#endif
    return count_threshold_scalar(bytes, blocks, t, top);
  }
  Index count_relevant_bits(const std::uint64_t* words, Index n) const {
#if defined(RLHASH_SEARCH_X86)
    if (avx2) return count_relevant_bits_popcnt(words, n);
#endif
    return count_relevant_bits_scalar(words, n);
  }
  RankedCounts count_ranked(const std::uint8_t* bytes, const std::uint64_t* relevant_words, Index blocks,
                            std::uint8_t top) const {
#if defined(RLHASH_SEARCH_X86)
    if (avx2) return count_ranked_avx2(bytes, relevant_words, blocks, top);
#endif
    return count_ranked_scalar(bytes, relevant_words, blocks, top);
  }
  std::size_t collect(const std::uint8_t* bytes, Index blocks, std::uint8_t value, bool equal,
                      std::size_t limit, std::uint32_t* out) const {
#if defined(RLHASH_SEARCH_X86)
    if (avx2) return collect_avx2(bytes, blocks, value, equal, limit, out);
#endif
    return collect_scalar(bytes, blocks, value, equal, limit, out);
  }
};

}  // namespace detail

/// The stable top k of one query's ranking: the positions (0-based, ascending) of the relevant
/// items among the first k, the number of relevant items in the whole ranking and the number of
/// items ranked. Keep one per thread and call build() for every query: the buffers are reused.
class TopRanking {
 public:
  /// The top `k` (>= 0; beyond the ranking's size: all of it) of the ranking that
  /// QueryRanking::build(input, bits, path) would give.
  void build(const ByteRankingInput& input, int bits, Index k, SimdPath path = active_simd_path()) {
    detail::require(bits >= 1 && bits < ByteRankingInput::left_out,
                    "top ranking: bits = " + std::to_string(bits) + ", expected 1.." +
                        std::to_string(ByteRankingInput::left_out - 1) + " for byte distances");
    detail::require(k >= 0, "top ranking: k = " + std::to_string(k) + ", expected >= 0");
    detail::require(input.size() < (Index{1} << 32),
                    "top ranking: " + std::to_string(input.size()) +
                        " items, expected fewer than 2^32 for byte distances");
    require_simd_path(path);
    const detail::AtMostKernels kernels(path);
    const Index blocks = input.blocks();
    const std::uint8_t* distances = input.distances();
    const std::uint64_t* relevant = input.relevant_words();

    // The threshold t (fewer than k items closer than t, at least k within t): a guess, then exact
    // counts. The first count also says whether every item is ranked, as usual; then the
    // relevant ones are all the relevance bits, else a pass over blocks tells which are left out
    // (the padding reads left_out too) and finds distances out of range.
    const auto top = static_cast<std::uint8_t>(bits);
    std::uint8_t threshold = guess_threshold(distances, blocks, top, k);
    detail::ThresholdCounts counts = kernels.count_threshold(distances, blocks, threshold, top);
    if (counts.ranked == input.size()) {
      items_ = input.size();
      relevant_count_ = kernels.count_relevant_bits(relevant, input.size());
    } else {
      const detail::RankedCounts ranked = kernels.count_ranked(distances, relevant, blocks, top);
      if (ranked.out_of_range) detail::throw_byte_distance_out_of_range(input, bits);
      items_ = ranked.items;
      relevant_count_ = ranked.relevant;
    }
    positions_.clear();
    const Index wanted = std::min(k, items_);
    if (wanted == 0) return;
    while (counts.within < wanted) counts = kernels.count_threshold(distances, blocks, ++threshold, top);
    while (counts.below >= wanted) counts = kernels.count_threshold(distances, blocks, --threshold, top);

    // The items closer than t, counting-sorted by distance (stable), then the first items at t.
    const auto closer = static_cast<std::size_t>(counts.below);
    const auto tied = static_cast<std::size_t>(wanted - counts.below);
    const std::size_t room = closer + tied + detail::collect_slots;
    if (within_.size() < room) within_.resize(room);
    if (order_.size() < room) order_.resize(room);
    if (threshold > 0)
      kernels.collect(distances, blocks, static_cast<std::uint8_t>(threshold - 1), false, closer,
                      within_.data());
    sort_by_distance(distances, closer, threshold);
    kernels.collect(distances, blocks, threshold, true, tied, order_.data() + closer);

    // Relevance is data-dependent: each position is written, the cursor advances on relevant ones.
    positions_.resize(static_cast<std::size_t>(wanted));
    std::size_t hits = 0;
    for (Index p = 0; p < wanted; ++p) {
      const std::uint32_t j = order_[static_cast<std::size_t>(p)];
      positions_[hits] = p;
      hits += (relevant[j / 64] >> (j % 64)) & 1U;
    }
    positions_.resize(hits);
  }

  /// 0-based positions of the relevant items among the top k in the stable order, ascending.
  const std::vector<Index>& relevant_positions() const { return positions_; }
  /// Relevant items in the whole ranking (not only in the top k).
  Index relevant_count() const { return relevant_count_; }
  /// Items ranked (the database size less the items left out).
  Index size() const { return items_; }

 private:
  static constexpr std::size_t sort_lanes = 4;

  /// order_[0..count) = within_[0..count) stably sorted by distance (all below `buckets`): a
  /// counting sort whose items are split into `lanes` runs, each with its own cursors, so that
  /// consecutive items of one distance (the usual case) do not wait on each other's cursor.
  void sort_by_distance(const std::uint8_t* distances, std::size_t count, std::size_t buckets) {
    const std::size_t lanes = sort_lanes;
    const std::size_t run = count / lanes;  // lane `lanes` takes the rest
    cursors_.assign((lanes + 1) * buckets, 0);
    Index* cursor = cursors_.data();
    // The runs interleaved, here and below: each lane's counter updates wait only on its own.
    for (std::size_t s = 0; s < run; ++s)
      for (std::size_t lane = 0; lane < lanes; ++lane)
        ++cursor[lane * buckets + distances[within_[lane * run + s]]];
    for (std::size_t s = lanes * run; s < count; ++s) ++cursor[lanes * buckets + distances[within_[s]]];
    Index start = 0;  // bucket by bucket, lane by lane: the runs keep index order
    for (std::size_t d = 0; d < buckets; ++d) {
      for (std::size_t lane = 0; lane <= lanes; ++lane) {
        const Index items = cursor[lane * buckets + d];
        cursor[lane * buckets + d] = start;
        start += items;
      }
    }
    auto place = [&](std::size_t s, std::size_t lane) {
      const std::uint32_t j = within_[s];
      order_[static_cast<std::size_t>(cursor[lane * buckets + distances[j]]++)] = j;
    };
    for (std::size_t s = 0; s < run; ++s)
      for (std::size_t lane = 0; lane < lanes; ++lane) place(lane * run + s, lane);
    for (std::size_t s = lanes * run; s < count; ++s) place(s, lanes);
  }

  /// Every `stride`-th block of 64 counted by distance (item i into table i % 4, so that items of
  /// one distance in a row do not wait on each other's counter): the smallest t whose sampled
  /// items at distance <= t, scaled up, reach `wanted`. Only a starting point: build() settles t
  /// exactly.
  std::uint8_t guess_threshold(const std::uint8_t* distances, Index blocks, std::uint8_t top, Index wanted) {
    constexpr Index stride = 32;
    const std::size_t values = top + 2U;  // the last counts left-out items
    sample_.assign(4 * values, 0);
    for (Index b = 0; b < blocks; b += stride)
      for (Index i = 64 * b; i < 64 * b + 64; ++i)
        ++sample_[static_cast<std::size_t>(i % 4) * values + std::min<std::size_t>(distances[i], top + 1U)];
    Index seen = 0;
    for (std::uint8_t t = 0; t < top; ++t) {
      seen += sample_[t] + sample_[values + t] + sample_[2 * values + t] + sample_[3 * values + t];
      if (seen * stride >= wanted) return t;
    }
    return top;
  }

  std::vector<std::uint32_t> within_;  // the top items, index order
  std::vector<std::uint32_t> order_;   // the same, stable order
  std::vector<Index> cursors_;         // sort_by_distance()'s
  std::vector<Index> sample_;          // guess_threshold()'s counts
  std::vector<Index> positions_;
  Index relevant_count_ = 0;
  Index items_ = 0;
};

}  // namespace rlhash
