#pragma once
/// \file
/// Evaluation of a query set against a database of binary codes: mAP (stable and tie-aware),
/// mAP@k, precision@k, NDCG@k, precision within a Hamming radius and the precision-recall curve
/// over all radii, each the mean over queries (metrics.hpp defines them per query).
///
/// Each query costs one distance pass and one O(N + bits) ranking pass (ranking.hpp), never a
/// sort of the database. Queries are split into fixed blocks whose sums are added in block order,
/// so the report is bit-for-bit the same for any number of threads.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/metrics.hpp"
#include "rlhash/eval/ranking.hpp"
#include "rlhash/eval/top_ranking.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/hamming_bytes.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash {

struct EvalOptions {
  std::vector<int> map_at{1000};  ///< cutoffs k of mAP@k
  std::vector<int> precision_at{100, 500, 1000};
  std::vector<int> ndcg_at{100};
  int radius = 2;             ///< Hamming radius of the precision-within-radius metric
  int threads = 1;            ///< worker threads over queries; 0 = all hardware threads
  bool exclude_self = false;  ///< query i is database item i: leave it out of its ranking
  /// false: only the metrics of the top items (map_at, precision_at, ndcg_at, and the queries
  /// without relevant items), bit for bit the same; map, map_tie_aware, precision_radius,
  /// empty_radius and pr stay 0. For codes of up to 254 bits a query then costs a few counting
  /// passes and about its largest k items (top_ranking.hpp) instead of ranking the whole database.
  bool whole_ranking = true;
};

/// Means over queries; a query with no relevant item counts with 0 in every mean.
struct EvalReport {
  double map = 0.0;                    ///< mean AP over the whole ranking, stable tie order
  double map_tie_aware = 0.0;          ///< mean expected AP over random orders within ties
  std::map<int, double> map_at;        ///< k -> mAP@k (normalised by relevant items in the top k)
  std::map<int, double> precision_at;  ///< k -> mean precision@k
  std::map<int, double> ndcg_at;       ///< k -> mean NDCG@k
  int radius = 2;
  double precision_radius = 0.0;         ///< mean precision within `radius` (empty ball counts as 0)
  Index empty_radius = 0;                ///< queries whose ball of `radius` was empty
  std::vector<PrecisionRecallPoint> pr;  ///< radius 0..bits, precision and recall macro-averaged
  Index queries = 0;
  Index queries_without_relevant = 0;
};

namespace detail {

/// The default distance kernel: the run-time dispatched SIMD scan of search/hamming.hpp.
struct SimdHammingDistances {
  void operator()(const std::uint64_t* query, const BinaryCodes& database, std::int32_t* out) const {
    hamming_distances(query, database, out);
  }
};

inline void check_cutoffs(const std::vector<int>& cutoffs, const char* option) {
  for (int k : cutoffs)
    require(k >= 1, std::string("evaluate: option ") + option + " holds k = " + std::to_string(k) +
                        ", expected >= 1");
}

}  // namespace detail

namespace detail {

/// The database's class ids as bytes, padded with 255 to whole blocks of 64, when both label sets
/// are single-label with at most 255 classes (relevance is then one byte compare); else empty.
inline std::vector<std::uint8_t> single_label_bytes(const Labels& query_labels,
                                                    const Labels& database_labels) {
  if (!query_labels.is_single_label() || !database_labels.is_single_label() ||
      database_labels.num_classes() > 255 || database_labels.size() == 0)
    return {};
  const Index n = database_labels.size();
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>((n + 63) / 64 * 64), 255);
  for (Index j = 0; j < n; ++j)
    bytes[static_cast<std::size_t>(j)] = static_cast<std::uint8_t>(database_labels.first_label(j));
  return bytes;
}

/// Relevance bits of a single-label query of class `query_class` (see single_label_bytes).
inline void single_label_relevance(int query_class, const std::vector<std::uint8_t>& class_bytes,
                                   ByteRankingInput& input) {
  if (query_class >= 0 && query_class < 255) {
    equal_byte_bits(class_bytes.data(), input.blocks(), static_cast<std::uint8_t>(query_class),
                    input.relevant_words());
  } else {
    std::fill(input.relevant_words(), input.relevant_words() + input.blocks(), std::uint64_t{0});
  }
}

/// Relevance bits from a predicate Index -> bool, one 64-item word at a time.
template <class Relevance>
void relevance_bits(ByteRankingInput& input, const Relevance& is_relevant) {
  const Index n = input.size();
  for (Index b = 0; b < input.blocks(); ++b) {
    std::uint64_t word = 0;
    const Index end = std::min(n, (b + 1) * 64);
    for (Index j = b * 64; j < end; ++j)
      word |= static_cast<std::uint64_t>(is_relevant(j) ? 1 : 0) << (j - b * 64);
    input.relevant_words()[b] = word;
  }
}

/// int32 distances (of a user's distance function) as bytes, each checked to lie in 0..bits.
inline void narrow_distances(const std::int32_t* distances, Index n, int bits, std::uint8_t* out) {
  const auto limit = static_cast<std::uint32_t>(bits);
  for (Index j = 0; j < n; ++j) {
    if (static_cast<std::uint32_t>(distances[j]) > limit)
      throw InvalidArgument("ranking: distance of database item " + std::to_string(j) + " is " +
                            std::to_string(distances[j]) + ", expected 0.." + std::to_string(bits));
    out[j] = static_cast<std::uint8_t>(distances[j]);
  }
}

/// Adds the precision and recall of the Hamming ball of every radius 0..bits (as
/// precision_recall_points) to precision[d] and recall[d].
inline void add_precision_recall(const DistanceHistogram& histogram, double* precision, double* recall) {
  RadiusRetrieval ball;
  for (Index count : histogram.relevant) ball.relevant += count;
  for (std::size_t d = 0; d < histogram.total.size(); ++d) {
    ball.retrieved += histogram.total[d];
    ball.relevant_retrieved += histogram.relevant[d];
    precision[d] += ball.precision();
    recall[d] += ball.recall();
  }
}

/// The largest cutoff of any top-k metric of `options` (0 when there is none).
inline Index largest_cutoff(const EvalOptions& options) {
  int k = 0;
  for (const std::vector<int>* cutoffs : {&options.map_at, &options.precision_at, &options.ndcg_at})
    for (int cutoff : *cutoffs) k = std::max(k, cutoff);
  return k;
}

/// The indices of `cutoffs` in ascending order of their values.
inline std::vector<std::size_t> ascending_order(const std::vector<int>& cutoffs) {
  std::vector<std::size_t> order(cutoffs.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return cutoffs[a] < cutoffs[b]; });
  return order;
}

}  // namespace detail

namespace detail {

/// Queries per block of the evaluation: the per-query metrics are summed per block, and the block
/// sums are added in block order, so the report does not depend on how blocks are shared out
/// (threads here, MPI ranks in rlhash::dist).
constexpr Index eval_block_size = 64;

/// Doubles per block sum: map, map_tie, precision_radius, empty_radius, no_relevant, map_at...,
/// precision_at..., ndcg_at..., pr precision[bits + 1], pr recall[bits + 1].
inline std::size_t eval_sum_stride(const EvalOptions& options, int bits) {
  return 5 + options.map_at.size() + options.precision_at.size() + options.ndcg_at.size() +
         2 * (static_cast<std::size_t>(bits) + 1);
}

/// The block sums of queries [first_query, last_query) (first_query a multiple of
/// eval_block_size), one stride of doubles per block, in block order. See
/// evaluate_with_exclusions for the arguments.
template <class DistanceFn>
std::vector<double> evaluation_block_sums(const BinaryCodes& queries, const BinaryCodes& database,
                                          const Labels& query_labels, const Labels& database_labels,
                                          const std::vector<Index>& excluded, const EvalOptions& options,
                                          DistanceFn distance, Index first_query, Index last_query) {
  const Index num_queries = queries.size();
  const Index n = database.size();
  detail::require(queries.bits() == database.bits(),
                  "evaluate: query codes have " + std::to_string(queries.bits()) + " bits, database codes " +
                      std::to_string(database.bits()));
  detail::require(query_labels.size() == num_queries, "evaluate: " + std::to_string(query_labels.size()) +
                                                          " query labels for " + std::to_string(num_queries) +
                                                          " query codes");
  detail::require(database_labels.size() == n, "evaluate: " + std::to_string(database_labels.size()) +
                                                   " database labels for " + std::to_string(n) +
                                                   " database codes");
  detail::require(excluded.empty() || static_cast<Index>(excluded.size()) == num_queries,
                  "evaluate: " + std::to_string(excluded.size()) + " excluded indices for " +
                      std::to_string(num_queries) + " queries, expected one per query or none");
  for (std::size_t q = 0; q < excluded.size(); ++q)
    detail::require(excluded[q] >= -1 && excluded[q] < n,
                    "evaluate: excluded index of query " + std::to_string(q) + " is " +
                        std::to_string(excluded[q]) + ", expected -1 or a database index below " +
                        std::to_string(n));
  detail::check_cutoffs(options.map_at, "map_at");
  detail::check_cutoffs(options.precision_at, "precision_at");
  detail::check_cutoffs(options.ndcg_at, "ndcg_at");
  detail::require(options.radius >= 0,
                  "evaluate: option radius = " + std::to_string(options.radius) + ", expected >= 0");
  detail::require(options.threads >= 0, "evaluate: option threads = " + std::to_string(options.threads) +
                                            ", expected >= 0 (0 = all hardware threads)");

  const int bits = database.bits();
  const std::size_t buckets = static_cast<std::size_t>(bits) + 1;
  // Per-block sums, laid out as: map, map_tie, precision_radius, empty_radius, no_relevant,
  // map_at..., precision_at..., ndcg_at..., pr precision[buckets], pr recall[buckets].
  const std::size_t fixed = 5;
  const std::size_t stride = eval_sum_stride(options, bits);
  constexpr Index block_size = eval_block_size;
  detail::require(first_query >= 0 && first_query % block_size == 0 && first_query <= last_query &&
                      last_query <= num_queries,
                  "evaluate: query range " + std::to_string(first_query) + ".." + std::to_string(last_query) +
                      " is not a block-aligned range of the " + std::to_string(num_queries) + " queries");
  const Index first_block = first_query / block_size;
  const Index blocks = (last_query - first_query + block_size - 1) / block_size;
  std::vector<double> block_sums(static_cast<std::size_t>(blocks) * stride, 0.0);

  std::atomic<Index> next_block{0};
  std::atomic<bool> failed{false};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  const int database_words = database_labels.words_per_item();
  const bool one_label_word = query_labels.words_per_item() == 1 && database_words == 1;
  const std::vector<std::size_t> map_cutoffs = ascending_order(options.map_at);

  // Codes of up to 254 bits are ranked from byte distances (ranking.hpp's byte form); wider ones
  // keep the int32 form. Both give the same rankings, so the report does not depend on the form.
  const bool byte_form = bits <= max_byte_distance_bits && n < (Index{1} << 32);
  constexpr bool default_distances = std::is_same<DistanceFn, SimdHammingDistances>::value;
  PackedCodes32 packed;
  if (byte_form && default_distances && bits <= 32) packed = PackedCodes32::from(database);
  const std::vector<std::uint8_t> class_bytes =
      byte_form ? single_label_bytes(query_labels, database_labels) : std::vector<std::uint8_t>{};

  auto worker = [&]() {
    try {
      std::vector<std::int32_t> distances(static_cast<std::size_t>(n));
      ByteRankingInput input;
      if (byte_form) input.resize(n);
      QueryRanking ranking;
      TopRanking top;
      const Index top_k = largest_cutoff(options);
      // The top k alone is the faster way to the top-k metrics while k is well below the
      // database size; past that, ranking every item costs less than sorting the top k.
      const bool top_only = !options.whole_ranking && 8 * top_k <= n;
      // Adds the top-k metrics of one query's ranking (a QueryRanking or a TopRanking) to the
      // block's sums and returns its AP (of the whole ranking for a QueryRanking).
      auto add_top_metrics = [&options, &map_cutoffs](const auto& ranked, double* sums) {
        double* slot = sums + fixed;
        const double ap = average_precision_with_cutoffs(ranked, options.map_at, map_cutoffs, slot);
        sums[4] += ranked.relevant_count() == 0 ? 1.0 : 0.0;
        slot += options.map_at.size();
        for (int k : options.precision_at) *slot++ += precision_at_k(ranked, k);
        for (int k : options.ndcg_at) *slot++ += ndcg_at_k(ranked, k);
        return ap;
      };
      while (!failed.load(std::memory_order_relaxed)) {
        const Index block = next_block.fetch_add(1);
        if (block >= blocks) break;
        double* sums = block_sums.data() + static_cast<std::size_t>(block) * stride;
        const Index begin = (first_block + block) * block_size;
        const Index end = std::min(last_query, begin + block_size);
        for (Index q = begin; q < end; ++q) {
          const Index skip = excluded.empty() ? -1 : excluded[static_cast<std::size_t>(q)];
          if (byte_form) {
            if (!packed.words.empty()) {
              hamming_distances_u8(static_cast<std::uint32_t>(queries.row(q)[0]), packed, input.distances());
            } else if (default_distances) {
              hamming_distances_u8(queries.row(q), database, input.distances());
            } else {
              distance(queries.row(q), database, distances.data());
              narrow_distances(distances.data(), n, bits, input.distances());
            }
            if (!class_bytes.empty()) {
              single_label_relevance(query_labels.first_label(q), class_bytes, input);
            } else if (one_label_word) {
              const std::uint64_t query_word = query_labels.row(q)[0];
              const std::uint64_t* db_words = database_labels.row(0);
              relevance_bits(input,
                             [query_word, db_words](Index j) { return (query_word & db_words[j]) != 0; });
            } else {
              relevance_bits(input, [&](Index j) { return query_labels.relevant(q, database_labels, j); });
            }
            if (skip >= 0) input.leave_out(skip);
            if (top_only) {
              top.build(input, bits, top_k);
              add_top_metrics(top, sums);
              continue;
            }
            ranking.build(input, bits);
          } else {
            distance(queries.row(q), database, distances.data());
            if (one_label_word) {
              // Up to 64 classes: relevance is one AND of label words.
              const std::uint64_t query_word = query_labels.row(q)[0];
              const std::uint64_t* db_words = database_labels.row(0);
              ranking.build(
                  distances.data(), n, bits,
                  [query_word, db_words](Index j) { return (query_word & db_words[j]) != 0; }, skip);
            } else {
              ranking.build(
                  distances.data(), n, bits,
                  [&](Index j) { return query_labels.relevant(q, database_labels, j); }, skip);
            }
          }
          const double ap = add_top_metrics(ranking, sums);
          if (!options.whole_ranking) continue;
          const DistanceHistogram& histogram = ranking.histogram();
          sums[0] += ap;
          sums[1] += tie_aware_average_precision(histogram);
          const RadiusRetrieval ball = retrieve_within_radius(histogram, options.radius);
          sums[2] += ball.precision();
          sums[3] += ball.empty() ? 1.0 : 0.0;
          double* pr =
              sums + fixed + options.map_at.size() + options.precision_at.size() + options.ndcg_at.size();
          add_precision_recall(histogram, pr, pr + buckets);
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(failure_mutex);
      if (!failure) failure = std::current_exception();
      failed = true;
    }
  };

  Index threads = options.threads == 0 ? static_cast<Index>(std::max(1U, std::thread::hardware_concurrency()))
                                       : options.threads;
  threads = std::max<Index>(1, std::min(threads, blocks));
  detail::run_parallel(static_cast<int>(threads), [&worker](int) { worker(); });
  if (failure) std::rethrow_exception(failure);
  return block_sums;
}

/// The report of `num_queries` queries from the block sums of all their blocks, in block order.
inline EvalReport evaluation_report(const std::vector<double>& block_sums, Index num_queries,
                                    const EvalOptions& options, int bits) {
  const std::size_t buckets = static_cast<std::size_t>(bits) + 1;
  const std::size_t fixed = 5;
  const std::size_t stride = eval_sum_stride(options, bits);
  const std::size_t blocks = block_sums.size() / stride;
  std::vector<double> total(stride, 0.0);
  for (std::size_t block = 0; block < blocks; ++block)
    for (std::size_t i = 0; i < stride; ++i) total[i] += block_sums[block * stride + i];
  const double scale = num_queries == 0 ? 0.0 : 1.0 / static_cast<double>(num_queries);

  EvalReport report;
  report.queries = num_queries;
  report.radius = options.radius;
  report.map = total[0] * scale;
  report.map_tie_aware = total[1] * scale;
  report.precision_radius = total[2] * scale;
  report.empty_radius = static_cast<Index>(total[3]);
  report.queries_without_relevant = static_cast<Index>(total[4]);
  std::size_t slot = fixed;
  for (int k : options.map_at) report.map_at[k] = total[slot++] * scale;
  for (int k : options.precision_at) report.precision_at[k] = total[slot++] * scale;
  for (int k : options.ndcg_at) report.ndcg_at[k] = total[slot++] * scale;
  report.pr.resize(buckets);
  for (std::size_t d = 0; d < buckets; ++d)
    report.pr[d] = {static_cast<int>(d), total[slot + d] * scale, total[slot + buckets + d] * scale};
  return report;
}

/// The excluded indices options.exclude_self stands for: query i is database item i (none when off).
inline std::vector<Index> self_exclusions(const BinaryCodes& queries, const BinaryCodes& database,
                                          const EvalOptions& options) {
  std::vector<Index> excluded;
  if (!options.exclude_self) return excluded;
  require(queries.size() <= database.size(),
          "evaluate: exclude_self needs query i to be database item i, but there are " +
              std::to_string(queries.size()) + " queries and " + std::to_string(database.size()) +
              " database items");
  excluded.resize(static_cast<std::size_t>(queries.size()));
  for (std::size_t q = 0; q < excluded.size(); ++q) excluded[q] = static_cast<Index>(q);
  return excluded;
}

}  // namespace detail

/// Evaluates every query code against the database. `distance(query_row, database, out)` writes
/// the Hamming distances from one query (a pointer to its packed words) to every database code
/// into `out[0..database.size())`; it is called concurrently from the worker threads.
/// `excluded` (empty, or one entry per query; -1 = none) names a database index to leave out of
/// each query's ranking; options.exclude_self is the special case excluded[i] = i.
template <class DistanceFn = detail::SimdHammingDistances>
EvalReport evaluate_with_exclusions(const BinaryCodes& queries, const BinaryCodes& database,
                                    const Labels& query_labels, const Labels& database_labels,
                                    const std::vector<Index>& excluded, const EvalOptions& options = {},
                                    DistanceFn distance = {}) {
  const std::vector<double> block_sums =
      detail::evaluation_block_sums(queries, database, query_labels, database_labels, excluded, options,
                                    std::move(distance), 0, queries.size());
  return detail::evaluation_report(block_sums, queries.size(), options, database.bits());
}

/// Evaluates every query code against the database (see evaluate_with_exclusions); with
/// options.exclude_self, query i is database item i and is left out of its own ranking.
template <class DistanceFn = detail::SimdHammingDistances>
EvalReport evaluate(const BinaryCodes& queries, const BinaryCodes& database, const Labels& query_labels,
                    const Labels& database_labels, const EvalOptions& options = {},
                    DistanceFn distance = {}) {
  return evaluate_with_exclusions(queries, database, query_labels, database_labels,
                                  detail::self_exclusions(queries, database, options), options,
                                  std::move(distance));
}

/// mAP (stable ties) of `codes` against themselves, each item left out of its own ranking: the
/// validation metric of the learned hashers (codes of unseen items on both sides, as in the
/// retrieval protocol, where almost the whole database is unseen). One thread.
inline double leave_one_out_map(const BinaryCodes& codes, const Labels& labels) {
  EvalOptions options;
  options.map_at.clear();
  options.precision_at.clear();
  options.ndcg_at.clear();
  options.exclude_self = true;
  options.threads = 1;
  return evaluate(codes, codes, labels, labels, options).map;
}

}  // namespace rlhash
