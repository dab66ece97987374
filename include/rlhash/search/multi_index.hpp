#pragma once
/// \file
/// Exact kNN and range search in Hamming space by multi-index hashing (Norouzi, Punjani & Fleet,
/// "Fast Exact Search in Hamming Space with Multi-Index Hashing", TPAMI 2014).
///
/// Each b-bit code is cut into m disjoint substrings of about b/m bits, and substring s of every
/// database code is the key of a direct-addressed table: bucket `key` holds the database codes
/// whose substring s equals `key`. A query is searched with a growing substring radius r: in
/// round r every table probes the C(len, r) buckets whose keys differ from the query's
/// substring in exactly r bits. Pigeonhole (the paper's Proposition 1): a code not yet found
/// after tables 0..s were probed at radius r, and tables s+1..m-1 at radius r-1, differs from the
/// query in at least r+1 bits on substrings 0..s and r bits on the others, so its distance is at
/// least m r + s + 1. Every code within R = m r + s of the query has therefore been seen, and
/// the search stops as soon as the k-th best candidate lies within R (kNN) or R reaches the
/// radius (range search).
///
/// Buckets store the full codes next to their database indices, in index order, so verifying
/// a bucket reads memory sequentially (the cost that dominates when buckets are large). A
/// candidate is verified once: when table s at radius r finds it, it is skipped if an earlier
/// probe (table e < s at radius <= r, or e > s at radius <= r - 1) must already have found it.
///
/// Results equal the linear scan's (knn_search / range_search) exactly: the same indices,
/// distances and order (distance, then index), for every k (slots past the database size hold
/// -1) and every radius.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/hash_lookup.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/parallel.hpp"
#include "rlhash/search/range.hpp"

namespace rlhash {

/// Work done by multi-index searches: buckets probed and candidate codes compared. The cost
/// model of search_plan.hpp prices these.
struct MultiIndexWork {
  std::int64_t probes = 0;
  std::int64_t candidates = 0;
  /// Candidates within the sink's limit (the k-th best distance so far, or the range radius):
  /// they pay the duplicate test over the other tables and the top-k update. Their number
  /// grows with k at the same probes and candidates.
  std::int64_t accepted = 0;

  MultiIndexWork& operator+=(const MultiIndexWork& other) {
    probes += other.probes;
    candidates += other.candidates;
    accepted += other.accepted;
    return *this;
  }
  MultiIndexWork since(const MultiIndexWork& before) const {
    return {probes - before.probes, candidates - before.candidates, accepted - before.accepted};
  }
};

/// What a search costs on one thread, in nanoseconds: a probed bucket (a random access to the
/// offsets and a cache miss into the bucket), a verified candidate (a sequential read of its
/// words and the threshold test), an accepted candidate (the duplicate test over the other
/// tables and the top-k update: what makes k = 100 dearer than k = 10 at the same probes) and a
/// scanned code word. Fitted to bench_multi_index's work counters and CPU times of the tables
/// alone (RLHASH_BENCH_MIH_FALLBACK=inf) at N = 10^6 and 10^7, 64 and 128 bits, on a shared Zen 4
/// core, weighting the 64-bit random rows where the two methods come close (docs/performance.md).
/// A probe's first access goes to the bucket offsets: while every table's offsets fit the last
/// level cache it costs probe_ns (the bucket's codes are prefetched group by group); beyond it,
/// the fraction of the offsets outside the cache adds a memory access (10^7 codes of 128 bits:
/// 48 MiB of offsets, ~55 ns a probe against ~35 ns for 24 MiB). Only the ratios matter, and
/// they carry over to other x86 cores within a factor of about two; cache_bytes is the L3 of one
/// Zen 4 core complex.
struct MihCostModel {
  double probe_ns = 35.0;
  double probe_miss_ns = 60.0;
  double cache_bytes = 32.0 * (1 << 20);
  double candidate_ns = 2.0;
  double candidate_ns_per_word = 1.5;
  double accepted_ns = 40.0;
  double scan_ns_per_word = 0.27;
  double build_ns_per_entry = 30.0;

  double scan_ns(Index codes, int words) const {
    return static_cast<double>(codes) * scan_ns_per_word * words;
  }
  double build_ns(Index codes, int substrings, int words) const {
    return static_cast<double>(codes) * substrings * build_ns_per_entry * (1 + 0.25 * (words - 1));
  }
  /// The price of one probe into tables whose bucket offsets take `offsets_bytes`.
  double probe_price(std::size_t offsets_bytes) const {
    const double outside = 1.0 - cache_bytes / std::max(static_cast<double>(offsets_bytes), cache_bytes);
    return probe_ns + probe_miss_ns * outside;
  }
  double mih_ns(const MultiIndexWork& work, int words, std::size_t offsets_bytes) const {
    return static_cast<double>(work.probes) * probe_price(offsets_bytes) +
           static_cast<double>(work.candidates) * (candidate_ns + candidate_ns_per_word * words) +
           static_cast<double>(work.accepted) * accepted_ns;
  }
};

namespace detail {

/// One substring's table: buckets in key order, each in database index order.
struct SubstringBuckets {
  int start = 0;
  int length = 0;
  std::vector<std::uint32_t> offsets;    // bucket key holds entries [offsets[key], offsets[key + 1])
  std::vector<std::uint32_t> positions;  // database index of each entry
  std::vector<std::uint64_t> codes;      // the full code of each entry (words per code)
};

/// The top-k state of one multi-index query. Candidates arrive in any index order, so the
/// buffer keeps every candidate at distance <= T, T the smallest distance with at least k
/// candidates at or below it (bits + 1 while there are fewer), and sorts at the end.
class MihTopK {
 public:
  MihTopK(Index k, int bits)
      : k_(k), threshold_(bits + 1), histogram_(static_cast<std::size_t>(bits) + 2, 0) {}
  /// Candidates at a larger distance cannot enter the top k.
  std::int32_t limit() const { return threshold_; }
  void push(std::int32_t distance, Index index) {
    if (distance > threshold_) return;
    hits_.emplace_back(distance, index);
    ++histogram_[static_cast<std::size_t>(distance)];
    ++at_most_threshold_;
    while (threshold_ > 0 && at_most_threshold_ - histogram_[static_cast<std::size_t>(threshold_)] >= k_)
      at_most_threshold_ -= histogram_[static_cast<std::size_t>(threshold_--)];
    if (hits_.size() > 2 * static_cast<std::size_t>(at_most_threshold_) + 64) drop_beyond_threshold();
  }
  /// Whether every code within `reached` of the query has been seen and the top k are known.
  bool done(int reached) const { return threshold_ <= reached; }
  void finish(Index* indices, std::int32_t* distances) {
    drop_beyond_threshold();
    std::sort(hits_.begin(), hits_.end());
    const std::size_t kept = std::min(hits_.size(), static_cast<std::size_t>(k_));
    for (std::size_t j = 0; j < kept; ++j) {
      distances[j] = hits_[j].first;
      indices[j] = hits_[j].second;
    }
    std::fill(indices + kept, indices + k_, Index{-1});
    std::fill(distances + kept, distances + k_, std::int32_t{-1});
  }

 private:
  void drop_beyond_threshold() {
    const std::int32_t t = threshold_;
    hits_.erase(std::remove_if(hits_.begin(), hits_.end(), [t](const auto& h) { return h.first > t; }),
                hits_.end());
  }
  Index k_;
  std::int32_t threshold_;
  Index at_most_threshold_ = 0;
  std::vector<Index> histogram_;
  std::vector<std::pair<std::int32_t, Index>> hits_;
};

/// Every candidate within a fixed radius; the RangeResult assembly interface of range.hpp.
class MihRange {
 public:
  explicit MihRange(int radius) : radius_(radius) {}
  /// The (already sorted) results of query q of a scan.
  MihRange(int radius, const RangeResult& scanned, Index q) : radius_(radius) {
    for (auto j = scanned.lims[static_cast<std::size_t>(q)];
         j < scanned.lims[static_cast<std::size_t>(q) + 1]; ++j)
      hits_.emplace_back(scanned.distances[static_cast<std::size_t>(j)],
                         scanned.indices[static_cast<std::size_t>(j)]);
  }
  std::int32_t limit() const { return radius_; }
  void push(std::int32_t distance, Index index) { hits_.emplace_back(distance, index); }
  bool done(int reached) const { return radius_ <= reached; }
  void sort() { std::sort(hits_.begin(), hits_.end()); }
  std::size_t size() const { return hits_.size(); }
  void finish(Index* indices, std::int32_t* distances) const {
    for (std::size_t j = 0; j < hits_.size(); ++j) {
      distances[j] = hits_[j].first;
      indices[j] = hits_[j].second;
    }
  }

 private:
  int radius_;
  std::vector<std::pair<std::int32_t, Index>> hits_;
};

/// Calls visit(mask) for every `length`-bit mask with exactly `ones` bits set (Gosper's hack)
/// while visit returns true; returns whether every mask was visited.
template <class Visit>
bool for_each_mask(int length, int ones, Visit&& visit) {
  if (ones == 0) return visit(std::uint64_t{0});
  const std::uint64_t end = std::uint64_t{1} << length;
  for (std::uint64_t mask = (std::uint64_t{1} << ones) - 1; mask < end;) {
    if (!visit(mask)) return false;
    const std::uint64_t low = mask & (~mask + 1);
    const std::uint64_t ripple = mask + low;
    mask = (((ripple ^ mask) >> 2) / low) | ripple;
  }
  return true;
}

}  // namespace detail

/// Substring tables over a fixed database of codes; the database itself is passed to each
/// search (the tables hold copies of the codes, but the scan fallbacks read the original).
class MultiIndex {
 public:
  /// The longest substring a table may index: 2^26 buckets, 256 MiB of offsets.
  static constexpr int max_substring_bits = 26;

  /// The paper's choice of m = b / log2(N) substrings (Sec. 4.2: substrings of about log2 N bits,
  /// so a bucket holds about one code), rounded up so that no substring is longer than
  /// log2 N and none longer than max_substring_bits; substrings are never shorter than 4 bits.
  static int default_substrings(Index count, int bits) {
    const double log2n = count > 1 ? std::log2(static_cast<double>(count)) : 1.0;
    const int length = static_cast<int>(std::clamp(std::floor(log2n), 4.0, double{max_substring_bits}));
    return std::clamp((bits + length - 1) / length, 1, bits);
  }

  MultiIndex() = default;

  /// Builds the tables of `database` (at most 2^32 - 1 codes). `substrings` 0 picks
  /// default_substrings(); an explicit value must give substrings of 1..max_substring_bits
  /// bits (lengths differ by at most one, the longer ones first). `threads` 0 = all.
  explicit MultiIndex(const CodesView& database, int substrings = 0, int threads = 0) {
    detail::require_codes(database, "multi-index: database");
    layout(database, substrings == 0 ? default_substrings(database.size, database.bits) : substrings,
           "multi-index");
    substrings = this->substrings();
    const int workers = std::clamp(detail::resolve_threads(threads), 1, substrings);
    detail::run_parallel(workers, [&](int t) {
      for (int s = t; s < substrings; s += workers)
        fill_table(database, tables_[static_cast<std::size_t>(s)]);
    });
  }

  int bits() const { return bits_; }
  Index size() const { return size_; }
  int substrings() const { return static_cast<int>(tables_.size()); }
  bool empty() const { return tables_.empty(); }
  /// Bits of substring s (the longer substrings come first).
  int substring_bits(int s) const { return tables_.at(static_cast<std::size_t>(s)).length; }
  /// The database index of each entry of table s, in table order (for saving the tables).
  const std::vector<std::uint32_t>& table_positions(int s) const {
    return tables_.at(static_cast<std::size_t>(s)).positions;
  }
  /// Bytes held by the tables (offsets, positions and code copies).
  /// Bytes of the bucket offsets of every table: what a probe reads first (MihCostModel).
  std::size_t offsets_bytes() const {
    std::size_t bytes = 0;
    for (const auto& t : tables_) bytes += sizeof(std::uint32_t) * t.offsets.size();
    return bytes;
  }
  std::size_t memory_bytes() const {
    std::size_t bytes = 0;
    for (const auto& t : tables_) bytes += 4 * (t.offsets.size() + t.positions.size()) + 8 * t.codes.size();
    return bytes;
  }

  /// Rebuilds tables from saved positions (table_positions of each substring) instead of
  /// sorting; every position list is checked to be a permutation in table order, so a damaged
  /// list is an InvalidArgument (`source` names where it came from), never a wrong answer.
  static MultiIndex from_positions(const CodesView& database, int substrings,
                                   std::vector<std::vector<std::uint32_t>> positions,
                                   const std::string& source) {
    MultiIndex index;
    index.layout(database, substrings, source);
    if (positions.size() != index.tables_.size())
      throw InvalidArgument(source + ": " + std::to_string(positions.size()) + " tables, expected " +
                            std::to_string(index.tables_.size()));
    for (std::size_t s = 0; s < positions.size(); ++s)
      index.adopt_positions(database, index.tables_[s], std::move(positions[s]), source);
    return index;
  }

  /// Exact kNN of every query against `database` (the codes the tables were built from), as
  /// knn_search returns it. Threads over queries (0 = all). A query whose multi-index work
  /// exceeds `fallback_scans` times the modelled cost of scanning the database (large k, or a
  /// query far from every code) is answered by the scan instead, so no query costs much more
  /// than a scan; infinity disables the fallback. `work`, when given, accumulates the probes and
  /// candidates of the search.
  /// `fell_back`, when given, receives 1 for each query the scan answered. `stop_mid_radius`
  /// checks the budget after every group of probes instead of after each table's radius: what a
  /// pilot wants (an overrunning query costs no more than its budget, where one radius of one
  /// table can cost half a scan on long random codes), but not a plain search, where a query
  /// near its budget is usually close to done (the cost model prices probes conservatively) and
  /// finishing the radius is cheaper than scanning.
  KnnResult knn(const CodesView& queries, const CodesView& database, Index k, int threads = 0,
                MultiIndexWork* work = nullptr, double fallback_scans = 1.0,
                const MihCostModel& costs = MihCostModel(), std::vector<char>* fell_back_out = nullptr,
                bool stop_mid_radius = false) const {
    require_searchable(queries, database, "multi-index knn");
    detail::require_k(k);
    KnnResult result;
    result.queries = queries.size;
    result.k = k;
    result.indices.assign(static_cast<std::size_t>(queries.size * k), Index{-1});
    result.distances.assign(static_cast<std::size_t>(queries.size * k), std::int32_t{-1});
    if (queries.size == 0 || k == 0 || size_ == 0) return result;
    const double budget = fallback_scans * costs.scan_ns(size_, words_);
    std::vector<char> fell_back(static_cast<std::size_t>(queries.size), 0);
    for_each_query_parallel(queries.size, threads, work, [&](Index q, MultiIndexWork& w) {
      detail::MihTopK top(k, bits_);
      if (search_one(queries.row(q), top, w, costs, budget, stop_mid_radius))
        top.finish(result.indices.data() + q * k, result.distances.data() + q * k);
      else
        fell_back[static_cast<std::size_t>(q)] = 1;
    });
    scan_fallbacks(queries, database, k, threads, fell_back, result);
    if (fell_back_out != nullptr) *fell_back_out = std::move(fell_back);
    return result;
  }

  /// Every database code within `radius` of each query, as range_search returns it; a query
  /// whose work exceeds `fallback_scans` scans is answered by the scan, as in knn().
  RangeResult range(const CodesView& queries, const CodesView& database, int radius, int threads = 0,
                    MultiIndexWork* work = nullptr, double fallback_scans = 1.0,
                    const MihCostModel& costs = MihCostModel()) const {
    require_searchable(queries, database, "multi-index range");
    if (radius < 0)
      throw InvalidArgument("multi-index range: radius = " + std::to_string(radius) + ", expected >= 0");
    radius = std::min(radius, bits_);
    std::vector<detail::MihRange> hits(static_cast<std::size_t>(queries.size), detail::MihRange(radius));
    const double budget = fallback_scans * costs.scan_ns(size_, words_);
    std::vector<char> fell_back(static_cast<std::size_t>(queries.size), 0);
    if (size_ > 0)
      for_each_query_parallel(queries.size, threads, work, [&](Index q, MultiIndexWork& w) {
        auto& sink = hits[static_cast<std::size_t>(q)];
        if (search_one(queries.row(q), sink, w, costs, budget))
          sink.sort();
        else
          fell_back[static_cast<std::size_t>(q)] = 1;
      });
    const std::vector<Index> rows = marked(fell_back);
    if (!rows.empty()) {
      const RangeResult scanned = range_search(gather(queries, rows), database, radius, threads);
      for (std::size_t j = 0; j < rows.size(); ++j)
        hits[static_cast<std::size_t>(rows[j])] = detail::MihRange(radius, scanned, static_cast<Index>(j));
    }
    return detail::assemble_range(hits);
  }

  /// Checks that these tables were built for `database` (same bits and count).
  void require_built_for(const CodesView& database, const std::string& what) const {
    if (tables_.empty()) throw StateError(what + ": the multi-index has no tables (default-constructed)");
    detail::require_codes(database, (what + ": database").c_str());
    if (database.bits != bits_ || database.size != size_)
      throw InvalidArgument(what + ": the tables were built for " + std::to_string(size_) + " codes of " +
                            std::to_string(bits_) + " bits, the database has " +
                            std::to_string(database.size) + " codes of " + std::to_string(database.bits) +
                            " bits");
  }

 private:
  static std::vector<Index> marked(const std::vector<char>& flags) {
    std::vector<Index> rows;
    for (std::size_t q = 0; q < flags.size(); ++q)
      if (flags[q] != 0) rows.push_back(static_cast<Index>(q));
    return rows;
  }

  static BinaryCodes gather(const CodesView& queries, const std::vector<Index>& rows) {
    BinaryCodes gathered(static_cast<Index>(rows.size()), queries.bits);
    for (std::size_t j = 0; j < rows.size(); ++j)
      std::copy(queries.row(rows[j]), queries.row(rows[j]) + queries.words,
                gathered.row(static_cast<Index>(j)));
    return gathered;
  }

  /// Answers the queries marked in `fell_back` with the scan, in place in `result`.
  static void scan_fallbacks(const CodesView& queries, const CodesView& database, Index k, int threads,
                             const std::vector<char>& fell_back, KnnResult& result) {
    const std::vector<Index> rows = marked(fell_back);
    if (rows.empty()) return;
    const KnnResult scanned = knn_search(gather(queries, rows), database, k, threads);
    for (std::size_t j = 0; j < rows.size(); ++j) {
      std::copy_n(scanned.indices.begin() + static_cast<std::ptrdiff_t>(j) * k, k,
                  result.indices.begin() + rows[j] * k);
      std::copy_n(scanned.distances.begin() + static_cast<std::ptrdiff_t>(j) * k, k,
                  result.distances.begin() + rows[j] * k);
    }
  }

  void require_searchable(const CodesView& queries, const CodesView& database,
                          const std::string& what) const {
    require_built_for(database, what);
    detail::require_query_database(queries, database, what);
  }

  template <class PerQuery>
  static void for_each_query_parallel(Index queries, int threads, MultiIndexWork* work,
                                      PerQuery&& per_query) {
    const int workers = static_cast<int>(std::clamp<Index>(queries, 1, detail::resolve_threads(threads)));
    std::vector<MultiIndexWork> per_thread(static_cast<std::size_t>(workers));
    detail::run_parallel(workers, [&](int t) {
      for (Index q = detail::share_begin(queries, workers, t);
           q < detail::share_begin(queries, workers, t + 1); ++q)
        per_query(q, per_thread[static_cast<std::size_t>(t)]);
    });
    if (work == nullptr) return;
    for (const auto& w : per_thread) *work += w;
  }

  /// Sets bits, words, size and the substring layout, checking `substrings`.
  void layout(const CodesView& database, int substrings, const std::string& what) {
    detail::require_codes(database, (what + ": database").c_str());
    if (substrings < 1 || substrings > database.bits ||
        (database.bits + substrings - 1) / substrings > max_substring_bits)
      throw InvalidArgument(what + ": substrings = " + std::to_string(substrings) + " for " +
                            std::to_string(database.bits) + "-bit codes, expected " +
                            std::to_string((database.bits + max_substring_bits - 1) / max_substring_bits) +
                            ".." + std::to_string(database.bits));
    if (database.size > static_cast<Index>(std::numeric_limits<std::uint32_t>::max()))
      throw InvalidArgument(what + ": " + std::to_string(database.size) +
                            " codes, expected at most 2^32 - 1");
    bits_ = database.bits;
    words_ = database.words;
    size_ = database.size;
    tables_.assign(static_cast<std::size_t>(substrings), {});
    int start = 0;
    for (int s = 0; s < substrings; ++s) {
      auto& table = tables_[static_cast<std::size_t>(s)];
      table.start = start;
      table.length = bits_ / substrings + (s < bits_ % substrings ? 1 : 0);
      start += table.length;
    }
  }

  /// Counting sort of the database by the table's substring (stable: index order in buckets).
  void fill_table(const CodesView& database, detail::SubstringBuckets& table) const {
    const std::size_t buckets = std::size_t{1} << table.length;
    table.offsets.assign(buckets + 1, 0);
    for (Index i = 0; i < size_; ++i) ++table.offsets[substring_key(database.row(i), table) + 1];
    for (std::size_t b = 1; b <= buckets; ++b) table.offsets[b] += table.offsets[b - 1];
    std::vector<std::uint32_t> next(table.offsets.begin(), table.offsets.end() - 1);
    table.positions.resize(static_cast<std::size_t>(size_));
    for (Index i = 0; i < size_; ++i)
      table.positions[next[substring_key(database.row(i), table)]++] = static_cast<std::uint32_t>(i);
    gather_codes(database, table);
  }

  /// Takes saved positions, checking that they are a permutation sorted by (key, index).
  void adopt_positions(const CodesView& database, detail::SubstringBuckets& table,
                       std::vector<std::uint32_t> positions, const std::string& source) const {
    if (static_cast<Index>(positions.size()) != size_)
      throw InvalidArgument(source + ": a table lists " + std::to_string(positions.size()) +
                            " codes, expected " + std::to_string(size_));
    std::vector<bool> seen(static_cast<std::size_t>(size_), false);
    const std::size_t buckets = std::size_t{1} << table.length;
    table.offsets.assign(buckets + 1, 0);
    std::uint64_t previous_key = 0;
    for (std::size_t j = 0; j < positions.size(); ++j) {
      const std::uint32_t p = positions[j];
      if (p >= static_cast<std::uint64_t>(size_) || seen[p])
        throw InvalidArgument(source + ": table entry " + std::to_string(j) +
                              " is not a permutation of the codes");
      seen[p] = true;
      const std::uint64_t key = substring_key(database.row(p), table);
      if (j > 0 && (key < previous_key || (key == previous_key && p < positions[j - 1])))
        throw InvalidArgument(source + ": table entry " + std::to_string(j) +
                              " is out of (key, index) order");
      previous_key = key;
      ++table.offsets[key + 1];
    }
    for (std::size_t b = 1; b <= buckets; ++b) table.offsets[b] += table.offsets[b - 1];
    table.positions = std::move(positions);
    gather_codes(database, table);
  }

  void gather_codes(const CodesView& database, detail::SubstringBuckets& table) const {
    const auto w = static_cast<std::size_t>(words_);
    table.codes.resize(table.positions.size() * w);
    const std::uint64_t tail = database.tail_mask();
    for (std::size_t j = 0; j < table.positions.size(); ++j) {
      const std::uint64_t* row = database.row(table.positions[j]);
      std::copy(row, row + w, table.codes.data() + j * w);
      table.codes[j * w + w - 1] &= tail;
    }
  }

  static std::uint64_t substring_key(const std::uint64_t* code, const detail::SubstringBuckets& table) {
    return detail::extract_bits(code, table.start, table.length);
  }

  /// The progressive radius search of the file comment for one query, into `sink` (MihTopK or
  /// MihRange). Returns false when the work exceeds `budget` (then the sink is incomplete).
  template <class Sink>
  bool search_one(const std::uint64_t* query, Sink& sink, MultiIndexWork& work,
                  const MihCostModel& costs = {}, double budget = std::numeric_limits<double>::infinity(),
                  bool stop_mid_radius = false) const {
    const int m = substrings();
    const int w = words_;
    const std::uint64_t tail = CodesView(nullptr, 0, bits_).tail_mask();
    std::uint64_t query_copy[BinaryCodes::max_bits / 64];
    std::copy(query, query + w, query_copy);
    query_copy[w - 1] &= tail;
    std::uint64_t keys[BinaryCodes::max_bits];
    int longest = 0;
    for (int s = 0; s < m; ++s) {
      keys[s] = substring_key(query_copy, tables_[static_cast<std::size_t>(s)]);
      longest = std::max(longest, tables_[static_cast<std::size_t>(s)].length);
    }
    const MultiIndexWork before = work;
    const std::size_t offsets_size = offsets_bytes();
    const auto over_budget = [&] { return costs.mih_ns(work.since(before), w, offsets_size) > budget; };
    std::uint64_t diff[BinaryCodes::max_bits / 64];
    for (int r = 0; r <= longest; ++r) {
      for (int s = 0; s < m; ++s) {
        const detail::SubstringBuckets& table = tables_[static_cast<std::size_t>(s)];
        if (r > table.length) continue;
        const std::uint32_t* offsets = table.offsets.data();
        const std::uint64_t* codes = table.codes.data();
        // Probes go in groups: prefetching every offset of the group, then every bucket's first
        // codes, hides most of the two cache misses a probe of a large table costs.
        constexpr int group = 16;
        std::uint64_t group_keys[group];
        int pending = 0;
        const auto verify_group = [&] {
          std::uint32_t begins[group], ends[group];
          for (int g = 0; g < pending; ++g) {
            begins[g] = offsets[group_keys[g]];
            ends[g] = offsets[group_keys[g] + 1];
            __builtin_prefetch(codes + static_cast<std::size_t>(begins[g]) * static_cast<std::size_t>(w));
          }
          work.probes += pending;
          for (int g = 0; g < pending; ++g) {
            work.candidates += ends[g] - begins[g];
            for (std::uint32_t j = begins[g]; j < ends[g]; ++j) {
              const std::uint64_t* code = codes + static_cast<std::size_t>(j) * static_cast<std::size_t>(w);
              int d = 0;
              for (int i = 0; i < w; ++i) {
                diff[i] = code[i] ^ query_copy[i];
                d += __builtin_popcountll(diff[i]);
              }
              if (d > sink.limit()) continue;
              ++work.accepted;
              if (!seen_before(diff, s, r)) sink.push(d, table.positions[j]);
            }
          }
          pending = 0;
        };
        const bool enumerated = detail::for_each_mask(table.length, r, [&](std::uint64_t mask) {
          group_keys[pending] = keys[s] ^ mask;
          __builtin_prefetch(offsets + group_keys[pending]);
          if (++pending < group) return true;
          verify_group();
          return !(stop_mid_radius && over_budget());
        });
        if (!enumerated) return false;
        verify_group();
        const int reached = reached_radius(r, s);
        if (reached >= bits_ || sink.done(reached)) return true;
        if (over_budget()) return false;
      }
    }
    return true;  // every table enumerated completely: every code was seen
  }

  /// Whether a candidate found in table s at radius r (diff = candidate ^ query) was found by an
  /// earlier probe: table e < s at radius <= r, or table e > s at radius <= r - 1.
  bool seen_before(const std::uint64_t* diff, int s, int r) const {
    for (int e = 0; e < substrings(); ++e) {
      if (e == s) continue;
      const auto& table = tables_[static_cast<std::size_t>(e)];
      const int de = __builtin_popcountll(substring_key(diff, table));
      if (de < r || (de == r && e < s)) return true;
    }
    return false;
  }

  /// The radius within which every code has been seen after table s was probed at radius r
  /// (see the file comment); the full code length once a table has been enumerated completely.
  int reached_radius(int r, int s) const {
    int bound = 0;
    for (int e = 0; e < substrings(); ++e) {
      const int need = e <= s ? r + 1 : r;
      if (need > tables_[static_cast<std::size_t>(e)].length) return bits_;
      bound += need;
    }
    return bound - 1;
  }

  int bits_ = 0;
  int words_ = 0;
  Index size_ = 0;
  std::vector<detail::SubstringBuckets> tables_;
};

/// Exact kNN through freshly built tables (default substrings); the same result as knn_search.
inline KnnResult mih_knn_search(const CodesView& queries, const CodesView& database, Index k,
                                int threads = 0) {
  return MultiIndex(database, 0, threads).knn(queries, database, k, threads);
}

}  // namespace rlhash
