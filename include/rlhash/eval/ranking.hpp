#pragma once
/// \file
/// One query's Hamming ranking summarised in a single O(N + bits) pass, without sorting the N
/// database items: the distance histogram split into relevant and total counts per distance, and
/// the positions of the relevant items in the *stable* order (ascending distance, ties broken by
/// ascending database index). Every retrieval metric in metrics.hpp is read off this summary.
///
/// Why this is enough: an item at distance d with database index j sits at position
/// (items closer than d) + (items at distance d with index < j). Counting, during one pass in
/// index order, how many items of bucket d were already seen gives the second term; the first is a
/// prefix sum of the histogram. Relevant items of one bucket arrive in index order, so placing them
/// bucket by bucket yields their positions already sorted.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/byte_blocks.hpp"

namespace rlhash {

/// Counts per Hamming distance d = 0..bits of one query's database: `total[d]` items at distance
/// d, `relevant[d]` of them relevant to the query.
struct DistanceHistogram {
  std::vector<Index> relevant;
  std::vector<Index> total;

  /// The code length the histogram covers (its size is bits + 1).
  int bits() const { return static_cast<int>(total.size()) - 1; }
};

/// One query's database in the layout of the byte ranking (QueryRanking::build(const
/// ByteRankingInput&, ...)): distances as bytes, relevance as bits, both padded to whole blocks of
/// 64 items. A distance of 255 (`left_out`) leaves the item out of the ranking. Keep one per
/// thread: resize() allocates only when the database grows.
class ByteRankingInput {
 public:
  static constexpr std::uint8_t left_out = 255;

  /// Room for `n` items; every distance reads left_out and every item irrelevant until written.
  void resize(Index n) {
    detail::require(n >= 0, "byte ranking: negative database size " + std::to_string(n));
    const Index blocks = (n + 63) / 64;
    // One spare block: the ranking may read a byte past the last block (never counted).
    distances_.assign(static_cast<std::size_t>((blocks + 1) * 64), left_out);
    relevant_.assign(static_cast<std::size_t>(blocks), 0);
    size_ = n;
  }
  Index size() const { return size_; }
  Index blocks() const { return static_cast<Index>(relevant_.size()); }
  /// distances()[j] in 0..bits, or left_out.
  std::uint8_t* distances() { return distances_.data(); }
  const std::uint8_t* distances() const { return distances_.data(); }
  /// Bit j % 64 of word j / 64 says whether item j is relevant (bits past size() are ignored).
  std::uint64_t* relevant_words() { return relevant_.data(); }
  const std::uint64_t* relevant_words() const { return relevant_.data(); }
  /// Leaves item j out of the ranking (e.g. the query itself when the queries are database items).
  void leave_out(Index j) {
    detail::require(j >= 0 && j < size_, "byte ranking: left-out index " + std::to_string(j) +
                                             " outside [0, " + std::to_string(size_) + ")");
    distances_[static_cast<std::size_t>(j)] = left_out;
  }

 private:
  std::vector<std::uint8_t> distances_;
  std::vector<std::uint64_t> relevant_;
  Index size_ = 0;
};

namespace detail {

/// Reports the first item of `input` whose distance is neither in 0..bits nor left_out.
[[noreturn]] inline void throw_byte_distance_out_of_range(const ByteRankingInput& input, int bits) {
  Index j = 0;
  while (j + 1 < input.size() &&
         (input.distances()[j] <= bits || input.distances()[j] == ByteRankingInput::left_out))
    ++j;
  throw InvalidArgument("ranking: distance of database item " + std::to_string(j) + " is " +
                        std::to_string(input.distances()[j]) + ", expected 0.." + std::to_string(bits));
}

}  // namespace detail

/// A query's ranking summary: histogram plus the stable-order positions of its relevant items.
/// Keep one per thread and call build() for every query: the buffers are reused, so a build
/// allocates nothing once they have grown to the largest query.
class QueryRanking {
 public:
  /// Summarises the ranking of `n` database items. `distances[j]` is item j's Hamming distance in
  /// 0..bits; `relevant(j)` (any callable Index -> bool) says whether item j is relevant.
  /// `excluded` (-1: none) is a database index left out of the ranking altogether, e.g. the query
  /// itself when the queries are database items.
  template <class Relevance>
  void build(const std::int32_t* distances, Index n, int bits, Relevance&& relevant, Index excluded = -1) {
    detail::require(bits >= 1, "ranking: bits = " + std::to_string(bits) + ", expected >= 1");
    detail::require(n >= 0, "ranking: negative database size " + std::to_string(n));
    detail::require(n == 0 || distances != nullptr,
                    "ranking: distances is null for " + std::to_string(n) + " items");
    detail::require(excluded >= -1 && excluded < n, "ranking: excluded index " + std::to_string(excluded) +
                                                        " outside [-1, " + std::to_string(n) + ")");
    const auto buckets = static_cast<std::size_t>(bits) + 1;
    histogram_.relevant.assign(buckets, 0);
    histogram_.total.assign(buckets, 0);
    pending_.clear();
    items_ = excluded >= 0 ? n - 1 : n;

    counts_.assign(buckets + 1, 0);
    // Two index ranges around the excluded item keep the hot loop free of that test.
    if (excluded >= 0) {
      scan(distances, 0, excluded, bits, relevant);
      scan(distances, excluded + 1, n, bits, relevant);
    } else {
      scan(distances, 0, n, bits, relevant);
    }

    start_buckets();
    positions_.resize(pending_.size());
    for (const Pending& item : pending_) {
      const auto d = static_cast<std::size_t>(item.distance);
      positions_[static_cast<std::size_t>(relevant_start_[d]++)] = bucket_start_[d] + item.rank_in_bucket;
    }
  }

  /// Same, with relevance as a 0/1 flag per database item (any nonzero byte is relevant).
  void build(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
             Index excluded = -1) {
    detail::require(n == 0 || relevant != nullptr,
                    "ranking: relevance flags are null for " + std::to_string(n) + " items");
    build(
        distances, n, bits, [relevant](Index j) { return relevant[j] != 0; }, excluded);
  }

  /// Same, from one query's byte distances and relevance bits (codes of up to 254 bits, fewer
  /// than 2^32 items): the fast form used by evaluate(). It never stages every item: one pass
  /// over blocks of 64 items keeps two interleaved count tables per distance (so consecutive
  /// items of one distance do not wait on each other's counter), and each relevant item's rank in
  /// its bucket is the table count at its block's start plus the items of its distance before it
  /// in the block (a 64-bit equality mask, one compare per 32 bytes on the SIMD path).
  /// Bit-for-bit the result of the other forms for the same distances and relevance.
  void build(const ByteRankingInput& input, int bits, SimdPath path = active_simd_path()) {
    detail::require(bits >= 1 && bits < ByteRankingInput::left_out,
                    "ranking: bits = " + std::to_string(bits) + ", expected 1.." +
                        std::to_string(ByteRankingInput::left_out - 1) + " for byte distances");
    detail::require(
        input.size() < (Index{1} << 32),
        "ranking: " + std::to_string(input.size()) + " items, expected fewer than 2^32 for byte distances");
    require_simd_path(path);
    const std::size_t buckets = static_cast<std::size_t>(bits) + 1;
    // Room for every item: the scan writes relevant items only, so the untouched rest costs nothing.
    if (byte_pending_.size() < static_cast<std::size_t>(input.size()) + detail::byte_rank_unroll)
      byte_pending_.resize(static_cast<std::size_t>(input.size()) + detail::byte_rank_unroll);
    const std::size_t found = detail::rank_byte_blocks(
        input.distances(), input.relevant_words(), input.size(), byte_pending_.data(), byte_tables_, path);

    histogram_.total.assign(buckets, 0);
    histogram_.relevant.assign(buckets, 0);
    Index counted = 0;
    for (std::size_t d = 0; d < 256; ++d) {
      const Index total = detail::item_count(byte_tables_, d);
      if (d < buckets) {
        histogram_.total[d] = total;
        histogram_.relevant[d] = byte_tables_.relevant[d];
      } else if (d != ByteRankingInput::left_out && total > 0) {
        detail::throw_byte_distance_out_of_range(input, bits);
      }
      counted += d < buckets ? total : 0;
    }
    items_ = counted;

    positions_.resize(static_cast<std::size_t>(start_buckets()));
    // Each relevant item knows its rank among all and among the relevant items of its bucket, so
    // the positions are written in place, without a running cursor per bucket.
    for (std::size_t s = 0; s < found; ++s) {
      const detail::RankedItem& item = byte_pending_[s];
      if (item.distance == ByteRankingInput::left_out) continue;
      positions_[static_cast<std::size_t>(relevant_start_[item.distance] + item.relevant_rank)] =
          bucket_start_[item.distance] + item.rank;
    }
  }

  const DistanceHistogram& histogram() const { return histogram_; }
  /// 0-based positions of the relevant items in the stable order, ascending.
  const std::vector<Index>& relevant_positions() const { return positions_; }
  /// Items ranked (the database size less the excluded item).
  Index size() const { return items_; }
  /// Relevant items in the ranking.
  Index relevant_count() const { return static_cast<Index>(positions_.size()); }
  int bits() const { return histogram_.bits(); }

 private:
  /// Items per staging block of scan() (8 bytes each, on the stack).
  static constexpr Index staging_block = 512;
  /// Items per segment of scan(): the most that 32-bit counters hold.
  static constexpr Index segment_items = Index{0xFFFFFFFF};

  /// Counts the items [begin, end) into the histogram and records the relevant ones in pending_.
  /// The predicate is taken by value: a local copy's captures stay in registers, where a
  /// reference's would be reloaded after every counter store (which may alias them).
  /// The loop is branch-free, because relevance is data-dependent and would mispredict often:
  /// one 64-bit counter per distance holds the items of the current segment (low half) and the
  /// relevant ones (high half), so each item costs one counter update, and every item is staged
  /// as (distance, count before it) in a block whose cursor advances only for relevant items.
  /// A distance outside 0..bits lands in the spare counter bits + 1 and is reported after its block.
  template <class Relevance>
  void scan(const std::int32_t* distances, Index begin, Index end, int bits, const Relevance is_relevant) {
    const auto limit = static_cast<std::uint32_t>(bits);
    std::uint64_t* counts = counts_.data();
    std::uint64_t staged[staging_block];
    for (Index segment = begin; segment < end; segment += segment_items) {
      const Index segment_end = std::min(end, segment + segment_items);
      for (Index block = segment; block < segment_end; block += staging_block) {
        const Index block_end = std::min(segment_end, block + staging_block);
        std::size_t count = 0;
        bool out_of_range = false;
        for (Index j = block; j < block_end; ++j) {
          const auto raw = static_cast<std::uint32_t>(distances[j]);
          out_of_range |= raw > limit;
          const std::uint32_t d = std::min(raw, limit + 1);
          const std::uint64_t hit = is_relevant(j) ? 1 : 0;
          const std::uint64_t before = counts[d];
          staged[count] = (std::uint64_t{d} << 32) | (before & 0xFFFFFFFFU);
          count += hit;
          counts[d] = before + 1 + (hit << 32);
        }
        if (out_of_range) throw_distance_out_of_range(distances, block, block_end, bits);
        const std::size_t first = pending_.size();
        pending_.resize(first + count);
        Pending* out = pending_.data() + first;
        const Index* earlier = histogram_.total.data();  // items of the earlier segments
        for (std::size_t s = 0; s < count; ++s) {
          const auto d = static_cast<std::size_t>(staged[s] >> 32);
          out[s] = {earlier[d] + static_cast<Index>(staged[s] & 0xFFFFFFFFU), static_cast<std::int32_t>(d)};
        }
      }
      for (std::size_t d = 0; d < histogram_.total.size(); ++d) {
        histogram_.total[d] += static_cast<Index>(counts[d] & 0xFFFFFFFFU);
        histogram_.relevant[d] += static_cast<Index>(counts[d] >> 32);
        counts[d] = 0;
      }
    }
  }

  [[noreturn]] static void throw_distance_out_of_range(const std::int32_t* distances, Index begin, Index end,
                                                       int bits) {
    Index j = begin;
    while (j + 1 < end && distances[j] >= 0 && distances[j] <= bits) ++j;
    throw InvalidArgument("ranking: distance of database item " + std::to_string(j) + " is " +
                          std::to_string(distances[j]) + ", expected 0.." + std::to_string(bits));
  }

  /// Prefix sums of the histogram: where each bucket starts among all items and among the
  /// relevant ones. Returns the number of relevant items.
  Index start_buckets() {
    const std::size_t buckets = histogram_.total.size();
    bucket_start_.resize(buckets);
    relevant_start_.resize(buckets);
    Index items_before = 0;
    Index relevant_before = 0;
    for (std::size_t d = 0; d < buckets; ++d) {
      bucket_start_[d] = items_before;
      relevant_start_[d] = relevant_before;
      items_before += histogram_.total[d];
      relevant_before += histogram_.relevant[d];
    }
    return relevant_before;
  }

  struct Pending {
    Index rank_in_bucket;  ///< items of the same distance with a smaller database index
    std::int32_t distance;
  };
  DistanceHistogram histogram_;
  std::vector<Index> positions_;
  std::vector<Pending> pending_;
  std::vector<std::uint64_t> counts_;  // scan()'s per-distance counters
  std::vector<Index> bucket_start_;
  std::vector<Index> relevant_start_;
  std::vector<detail::RankedItem> byte_pending_;  // the byte form's relevant items, index order
  detail::ByteCountTables byte_tables_;
  Index items_ = 0;
};

/// Only the histogram of one query (enough for tie-aware AP and radius metrics): O(N + bits).
inline DistanceHistogram distance_histogram(const std::int32_t* distances, const std::uint8_t* relevant,
                                            Index n, int bits, Index excluded = -1) {
  detail::require(bits >= 1, "distance histogram: bits = " + std::to_string(bits) + ", expected >= 1");
  detail::require(n >= 0, "distance histogram: negative database size " + std::to_string(n));
  detail::require(n == 0 || (distances != nullptr && relevant != nullptr),
                  "distance histogram: null distances or relevance for " + std::to_string(n) + " items");
  detail::require(excluded >= -1 && excluded < n, "distance histogram: excluded index " +
                                                      std::to_string(excluded) + " outside [-1, " +
                                                      std::to_string(n) + ")");
  DistanceHistogram histogram;
  histogram.relevant.assign(static_cast<std::size_t>(bits) + 1, 0);
  histogram.total.assign(static_cast<std::size_t>(bits) + 1, 0);
  const auto limit = static_cast<std::uint32_t>(bits);
  for (Index j = 0; j < n; ++j) {
    if (j == excluded) continue;
    const std::int32_t d = distances[j];
    if (static_cast<std::uint32_t>(d) > limit)
      throw InvalidArgument("distance histogram: distance of database item " + std::to_string(j) + " is " +
                            std::to_string(d) + ", expected 0.." + std::to_string(bits));
    ++histogram.total[static_cast<std::size_t>(d)];
    if (relevant[j] != 0) ++histogram.relevant[static_cast<std::size_t>(d)];
  }
  return histogram;
}

}  // namespace rlhash
