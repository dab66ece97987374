#pragma once
/// \file
/// Hash-table lookup within a small Hamming radius (r <= 2), the protocol behind the hashing
/// papers' "precision within Hamming radius 2 using hash lookup" (e.g. Lai et al. 2015; Zhang
/// et al., DRLIH): instead of scanning, probe every code within r of the query.
///
/// The code is split into m substrings of at most 64 bits, each indexed by its own hash table
/// (multi-index hashing, Norouzi et al. 2012). By the pigeonhole principle a code within distance
/// r of the query is within floor(r / m) of it on at least one substring, so probing each table
/// within that radius finds every answer; candidates are verified on the full code. With m = 1
/// (codes of <= 64 bits) this is plain probing of all 1 + b + b(b-1)/2 codes of radius 2; for
/// longer codes the default m >= r + 1 makes every probe an exact lookup. A candidate found in
/// table s is skipped when an earlier table would have found it too, so each is verified once.
///
/// Results are exactly those of range_search: sorted by (distance, index).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/hamming_kernels.hpp"
#include "rlhash/search/parallel.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash {

namespace detail {

/// Bits [start, start + length) of a code (length 1..64) as an integer.
inline std::uint64_t extract_bits(const std::uint64_t* code, int start, int length) {
  const int word = start >> 6, offset = start & 63;
  std::uint64_t value = code[word] >> offset;
  if (offset + length > 64) value |= code[word + 1] << (64 - offset);
  return length == 64 ? value : value & ((std::uint64_t{1} << length) - 1);
}

/// Open-addressing table from a substring value to the database indices holding it (in
/// increasing index order).
class SubstringTable {
 public:
  void build(const std::vector<std::uint64_t>& keys) {
    std::vector<std::pair<std::uint64_t, Index>> sorted(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) sorted[i] = {keys[i], static_cast<Index>(i)};
    std::sort(sorted.begin(), sorted.end());
    std::size_t distinct = 0;
    for (std::size_t i = 0; i < sorted.size(); ++i)
      distinct += (i == 0 || sorted[i].first != sorted[i - 1].first);
    int log2_slots = 4;
    while ((std::size_t{1} << log2_slots) < 2 * distinct) ++log2_slots;
    shift_ = 64 - log2_slots;
    slot_keys_.assign(std::size_t{1} << log2_slots, 0);
    slot_begin_.assign(std::size_t{1} << log2_slots, 0);
    slot_end_.assign(std::size_t{1} << log2_slots, 0);  // begin == end: empty slot
    indices_.resize(sorted.size());
    for (std::size_t i = 0; i < sorted.size(); ++i) indices_[i] = sorted[i].second;
    for (std::size_t i = 0; i < sorted.size();) {
      std::size_t j = i;
      while (j < sorted.size() && sorted[j].first == sorted[i].first) ++j;
      std::size_t slot = hash(sorted[i].first);
      while (slot_begin_[slot] != slot_end_[slot]) slot = (slot + 1) & (slot_keys_.size() - 1);
      slot_keys_[slot] = sorted[i].first;
      slot_begin_[slot] = static_cast<Index>(i);
      slot_end_[slot] = static_cast<Index>(j);
      i = j;
    }
  }

  /// The database indices whose substring equals `key` (empty range when none).
  std::pair<const Index*, const Index*> find(std::uint64_t key) const {
    for (std::size_t slot = hash(key);; slot = (slot + 1) & (slot_keys_.size() - 1)) {
      if (slot_begin_[slot] == slot_end_[slot]) return {nullptr, nullptr};
      if (slot_keys_[slot] == key)
        return {indices_.data() + slot_begin_[slot], indices_.data() + slot_end_[slot]};
    }
  }

 private:
  std::size_t hash(std::uint64_t key) const {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  int shift_ = 60;
  std::vector<std::uint64_t> slot_keys_;
  std::vector<Index> slot_begin_, slot_end_;
  std::vector<Index> indices_;
};

/// One query's hits, sorted by (distance, index) when finished; the RangeResult assembly
/// interface of range.hpp.
struct LookupHits {
  std::vector<std::pair<std::int32_t, Index>> hits;
  std::size_t size() const { return hits.size(); }
  void finish(Index* indices_out, std::int32_t* distances_out) const {
    for (std::size_t j = 0; j < hits.size(); ++j) {
      distances_out[j] = hits[j].first;
      indices_out[j] = hits[j].second;
    }
  }
};

}  // namespace detail

/// Hash lookup over a fixed set of codes for radii 0..max_radius (<= 2).
class HashLookupIndex {
 public:
  static constexpr int max_supported_radius = 2;

  HashLookupIndex() = default;
  /// Indexes a copy of `codes`. `substrings` 0 picks 1 for codes of <= 64 bits and
  /// max(max_radius + 1, ceil(bits / 64)) otherwise; an explicit value must keep every substring
  /// within 64 bits.
  explicit HashLookupIndex(const BinaryCodes& codes, int max_radius = 2, int substrings = 0)
      : codes_(codes), max_radius_(max_radius) {
    if (codes.bits() < 1) throw InvalidArgument("hash lookup: the codes are empty (bits = 0)");
    if (max_radius < 0 || max_radius > max_supported_radius)
      throw InvalidArgument("hash lookup: max_radius = " + std::to_string(max_radius) + ", expected 0.." +
                            std::to_string(max_supported_radius));
    const int bits = codes.bits();
    if (substrings == 0) substrings = bits <= 64 ? 1 : std::max(max_radius + 1, (bits + 63) / 64);
    if (substrings < 1 || substrings > bits || (bits + substrings - 1) / substrings > 64)
      throw InvalidArgument("hash lookup: substrings = " + std::to_string(substrings) + " for " +
                            std::to_string(bits) + "-bit codes, expected 1.." + std::to_string(bits) +
                            " with at most 64 bits each");
    // Balanced lengths: the first bits % m substrings get one extra bit.
    int start = 0;
    for (int s = 0; s < substrings; ++s) {
      const int length = bits / substrings + (s < bits % substrings ? 1 : 0);
      starts_.push_back(start);
      lengths_.push_back(length);
      start += length;
    }
    tables_.resize(static_cast<std::size_t>(substrings));
    std::vector<std::uint64_t> keys(static_cast<std::size_t>(codes.size()));
    for (int s = 0; s < substrings; ++s) {
      for (Index i = 0; i < codes.size(); ++i) keys[static_cast<std::size_t>(i)] = substring(codes.row(i), s);
      tables_[static_cast<std::size_t>(s)].build(keys);
    }
  }

  Index size() const { return codes_.size(); }
  int bits() const { return codes_.bits(); }
  int max_radius() const { return max_radius_; }
  int substrings() const { return static_cast<int>(tables_.size()); }

  /// Every indexed code within `radius` (0..max_radius) of each query, sorted by
  /// (distance, index); threads over queries (0 = hardware concurrency).
  RangeResult search(const CodesView& queries, int radius, int threads = 0) const {
    detail::require_codes(queries, "hash lookup: queries");
    if (tables_.empty()) throw StateError("hash lookup: search on an empty (default-constructed) index");
    detail::require_same_bits(queries, codes_);
    if (radius < 0 || radius > max_radius_)
      throw InvalidArgument("hash lookup: radius = " + std::to_string(radius) + ", expected 0.." +
                            std::to_string(max_radius_) + " (the index's max_radius)");
    std::vector<detail::LookupHits> hits(static_cast<std::size_t>(queries.size));
    const int workers =
        static_cast<int>(std::clamp<Index>(queries.size, 1, detail::resolve_threads(threads)));
    detail::run_parallel(workers, [&](int t) {
      for (Index q = detail::share_begin(queries.size, workers, t);
           q < detail::share_begin(queries.size, workers, t + 1); ++q)
        lookup(queries.row(q), radius, hits[static_cast<std::size_t>(q)]);
    });
    return detail::assemble_range(hits);
  }

 private:
  std::uint64_t substring(const std::uint64_t* code, int s) const {
    return detail::extract_bits(code, starts_[static_cast<std::size_t>(s)],
                                lengths_[static_cast<std::size_t>(s)]);
  }

  void lookup(const std::uint64_t* query, int radius, detail::LookupHits& out) const {
    const int m = substrings();
    const int probe_radius = radius / m;  // pigeonhole
    const std::uint64_t tail = CodesView(codes_).tail_mask();
    std::uint64_t query_keys[BinaryCodes::max_bits];
    for (int s = 0; s < m; ++s) query_keys[s] = substring(query, s);
    for (int s = 0; s < m; ++s) {
      const auto visit = [&](std::uint64_t key) {
        const auto [first, last] = tables_[static_cast<std::size_t>(s)].find(key);
        for (const Index* it = first; it != last; ++it) {
          const std::uint64_t* code = codes_.row(*it);
          bool seen = false;  // an earlier table found (or will have found) it
          for (int e = 0; e < s && !seen; ++e)
            seen = __builtin_popcountll(substring(code, e) ^ query_keys[e]) <= probe_radius;
          if (seen) continue;
          const int d = detail::scalar_distance(code, query, codes_.words(), tail);
          if (d <= radius) out.hits.emplace_back(d, *it);
        }
      };
      const std::uint64_t key = query_keys[s];
      const int length = lengths_[static_cast<std::size_t>(s)];
      visit(key);
      if (probe_radius >= 1)
        for (int a = 0; a < length; ++a) {
          const std::uint64_t one = key ^ (std::uint64_t{1} << a);
          visit(one);
          if (probe_radius >= 2)
            for (int b = a + 1; b < length; ++b) visit(one ^ (std::uint64_t{1} << b));
        }
    }
    std::sort(out.hits.begin(), out.hits.end());
  }

  BinaryCodes codes_;
  int max_radius_ = 0;
  std::vector<int> starts_, lengths_;
  std::vector<detail::SubstringTable> tables_;
};

}  // namespace rlhash
