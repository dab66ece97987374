#pragma once
/// \file
/// Per-query retrieval metrics of a Hamming ranking, read off a QueryRanking (ranking.hpp) in
/// O(R) or O(bits) after its O(N + bits) build: no sort of the database.
///
/// "Stable order" below means ascending Hamming distance with ties broken by ascending database
/// index; positions are 1-based in the formulas. R is the number of relevant items in the
/// ranking. Every metric is 0 for a query with no relevant item.
///
/// The pointer overloads (`distances`, `relevant` flags, `n`, `bits`) let a listwise reward
/// score one ranking without building Labels; each builds a QueryRanking, so a caller scoring
/// many rankings should keep one QueryRanking and use the overloads that take it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/ranking.hpp"
#include "rlhash/search/cpu_features.hpp"

#if defined(RLHASH_SEARCH_X86)
#include <immintrin.h>
#endif

namespace rlhash {

namespace detail {

inline void require_cutoff(Index k, const char* metric) {
  require(k >= 1, std::string(metric) + ": cutoff k = " + std::to_string(k) + ", expected >= 1");
}

/// H(b) - H(a) = sum_{t=a+1}^{b} 1/t for 0 <= a <= b, to about double precision for any size:
/// a direct sum over short or small-index ranges, otherwise the asymptotic expansion
/// H(m) = ln m + gamma + 1/(2m) - 1/(12m^2) + 1/(120m^4) - 1/(252m^6) + O(m^-8), whose
/// truncation error at m >= 64 is below 2e-17, with ln(b/a) taken as log1p((b-a)/a).
inline double harmonic_difference(Index a, Index b) {
  constexpr Index direct_span = 64;
  constexpr Index asymptotic_from = 64;
  double sum = 0.0;
  if (b - a <= direct_span) {
    for (Index t = b; t > a; --t) sum += 1.0 / static_cast<double>(t);  // small terms first
    return sum;
  }
  if (a < asymptotic_from) {
    for (Index t = asymptotic_from; t > a; --t) sum += 1.0 / static_cast<double>(t);
    a = asymptotic_from;
  }
  const double x = static_cast<double>(a);
  const double y = static_cast<double>(b);
  auto tail = [](double m) {
    const double m2 = 1.0 / (m * m);
    return 1.0 / (2.0 * m) - m2 * (1.0 / 12.0 - m2 * (1.0 / 120.0 - m2 / 252.0));
  };
  return sum + std::log1p((y - x) / x) + (tail(y) - tail(x));
}

/// sum + (m + 1) / (positions[m] + 1) for m = from .. to - 1, added in that order (the terms of
/// AP and AP@k). Not inlined, so that the running sum stays in a register.
__attribute__((noinline)) inline double add_precision_terms_scalar(double sum, const Index* positions,
                                                                   std::size_t from, std::size_t to) {
  for (std::size_t m = from; m < to; ++m)
    sum += static_cast<double>(m + 1) / static_cast<double>(positions[m] + 1);
  return sum;
}

#if defined(RLHASH_SEARCH_X86)
/// The same sum with four divisions per instruction: integers below 2^52 convert exactly (their
/// bits under the exponent of 2^52, less 2^52) and IEEE division rounds the same in every lane,
/// so each term, and the sum taken in the same order, is bit-for-bit the scalar one.
__attribute__((noinline, target("avx2"))) inline double add_precision_terms_avx2(double sum,
                                                                                 const Index* positions,
                                                                                 std::size_t from,
                                                                                 std::size_t to) {
  const __m256d two52 = _mm256_set1_pd(4503599627370496.0);
  const __m256i two52_bits = _mm256_castpd_si256(two52);
  const __m256i one = _mm256_set1_epi64x(1);
  const __m256i lane = _mm256_setr_epi64x(1, 2, 3, 4);
  std::size_t m = from;
  alignas(32) double terms[4];
  for (; m + 4 <= to; m += 4) {
    const __m256i position =
        _mm256_add_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(positions + m)), one);
    const __m256i rank = _mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(m)), lane);
    const __m256d p = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(position, two52_bits)), two52);
    const __m256d r = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(rank, two52_bits)), two52);
    _mm256_store_pd(terms, _mm256_div_pd(r, p));
    sum += terms[0];
    sum += terms[1];
    sum += terms[2];
    sum += terms[3];
  }
  return add_precision_terms_scalar(sum, positions, m, to);
}
#endif

/// add_precision_terms_* on `path` (AVX2 for the avx2 and avx512 paths).
inline double add_precision_terms(double sum, const std::vector<Index>& positions, std::size_t from,
                                  std::size_t to, SimdPath path = active_simd_path()) {
#if defined(RLHASH_SEARCH_X86)
  // Exact conversion needs values below 2^52 (positions are below the database size).
  if ((path == SimdPath::avx2 || path == SimdPath::avx512) && simd_path_supported(SimdPath::avx2) &&
      positions.size() < (std::size_t{1} << 52))
    return add_precision_terms_avx2(sum, positions.data(), from, to);
#endif
  (void)path;
  return add_precision_terms_scalar(sum, positions.data(), from, to);
}

}  // namespace detail

/// Average precision over the whole ranking in stable order (DRLIH eq. (11), reading its
/// `k/R_k` as the intended `R_k/k`): AP = (1/R) sum_k P(k) rel(k), P(k) = (relevant in top k)/k.
inline double average_precision(const QueryRanking& ranking) {
  const auto& positions = ranking.relevant_positions();
  if (positions.empty()) return 0.0;
  return detail::add_precision_terms(0.0, positions, 0, positions.size()) /
         static_cast<double>(positions.size());
}

/// AP@k with the literature's normalisation by the relevant items retrieved in the top k:
/// AP@k = (1/R_k) sum_{i<=k} P(i) rel(i), R_k = relevant among the top k (0 when none).
/// A k beyond the ranking's size means the whole ranking.
inline double average_precision_at_k(const QueryRanking& ranking, Index k) {
  detail::require_cutoff(k, "AP@k");
  const auto& positions = ranking.relevant_positions();
  const auto m =
      static_cast<std::size_t>(std::lower_bound(positions.begin(), positions.end(), k) - positions.begin());
  return m == 0 ? 0.0 : detail::add_precision_terms(0.0, positions, 0, m) / static_cast<double>(m);
}

/// AP (the return value) and AP@k for every k of `cutoffs` (added to `at_k[i]` for cutoffs[i]) in
/// one pass over the relevant items: AP@k's sum is a prefix of AP's, taken in the same order, so
/// each value is bit-for-bit that of average_precision / average_precision_at_k. `ascending` lists
/// the indices of `cutoffs` by ascending value. `Ranking` is a QueryRanking, or a TopRanking
/// (top_ranking.hpp) of at least the largest cutoff, whose AP@k are the same and whose return
/// value is the AP of its top items only.
template <class Ranking>
double average_precision_with_cutoffs(const Ranking& ranking, const std::vector<int>& cutoffs,
                                      const std::vector<std::size_t>& ascending, double* at_k) {
  const auto& positions = ranking.relevant_positions();
  double sum = 0.0;
  std::size_t m = 0;
  for (std::size_t index : ascending) {
    const Index k = cutoffs[index];
    detail::require_cutoff(k, "AP@k");
    const auto end = static_cast<std::size_t>(
        std::lower_bound(positions.begin() + static_cast<std::ptrdiff_t>(m), positions.end(), k) -
        positions.begin());
    sum = detail::add_precision_terms(sum, positions, m, end);
    m = end;
    at_k[index] += m == 0 ? 0.0 : sum / static_cast<double>(m);
  }
  sum = detail::add_precision_terms(sum, positions, m, positions.size());
  return positions.empty() ? 0.0 : sum / static_cast<double>(positions.size());
}

/// Relevant items among the top k of the stable order, divided by k (also when the ranking has
/// fewer than k items). `Ranking`: a QueryRanking, or a TopRanking of at least k items.
template <class Ranking>
double precision_at_k(const Ranking& ranking, Index k) {
  detail::require_cutoff(k, "precision@k");
  const auto& positions = ranking.relevant_positions();
  const auto hits = std::lower_bound(positions.begin(), positions.end(), k) - positions.begin();
  return static_cast<double>(hits) / static_cast<double>(k);
}

/// NDCG@k with binary gains: DCG = sum_{i<=k} rel(i) / log2(i + 1) in stable order, divided by
/// the ideal DCG of min(R, k) relevant items at the top. `Ranking`: a QueryRanking, or a
/// TopRanking of at least k items.
template <class Ranking>
double ndcg_at_k(const Ranking& ranking, Index k) {
  detail::require_cutoff(k, "NDCG@k");
  const auto& positions = ranking.relevant_positions();
  if (ranking.relevant_count() == 0) return 0.0;
  double dcg = 0.0;
  for (std::size_t m = 0; m < positions.size() && positions[m] < k; ++m)
    dcg += 1.0 / std::log2(static_cast<double>(positions[m]) + 2.0);
  const Index ideal_hits = std::min<Index>(ranking.relevant_count(), k);
  double ideal = 0.0;
  for (Index i = 0; i < ideal_hits; ++i) ideal += 1.0 / std::log2(static_cast<double>(i) + 2.0);
  return dcg / ideal;
}

/// Expected AP when the items within each distance bucket come in uniformly random order
/// (McSherry & Najork, ECIR 2008; He et al., "Hashing as tie-aware learning to rank", CVPR 2018).
///
/// Closed form: take a bucket of n items, r of them relevant, preceded by N items of which Q are
/// relevant. Position i (1..n) of the bucket holds a relevant item with probability r/n; given
/// that, the other r-1 relevant items are spread uniformly over the other n-1 places, so on
/// average (i-1)(r-1)/(n-1) of them precede it. Its precision term (Q + 1 + those)/(N + i) is
/// linear in that count, so by linearity of expectation the bucket adds
///   (r/n) sum_{i=1}^{n} [Q + 1 + (i-1)(r-1)/(n-1)] / (N + i)
///   = (r/n) [ (Q+1) A + (r-1)/(n-1) B ],  A = sum_i 1/(N+i) = H(N+n) - H(N),  B = sum_i (i-1)/(N+i)
/// (the second term vanishes for r = 1, which covers n = 1), and AP_tie = (1/R) sum over buckets.
/// O(bits) per query given the histogram.
inline double tie_aware_average_precision(const DistanceHistogram& histogram) {
  Index items_before = 0;
  Index relevant_before = 0;
  double sum = 0.0;
  for (std::size_t d = 0; d < histogram.total.size(); ++d) {
    const Index n = histogram.total[d];
    const Index r = histogram.relevant[d];
    if (r > 0) {
      // B = sum_i (i-1)/(N+i) = n - (N+1) A: summed directly for small buckets, where that
      // difference would cancel badly.
      double a = 0.0;
      double b = 0.0;
      if (n <= 64) {
        for (Index i = n; i >= 1; --i) {
          const double inverse = 1.0 / static_cast<double>(items_before + i);
          a += inverse;
          b += static_cast<double>(i - 1) * inverse;
        }
      } else {
        a = detail::harmonic_difference(items_before, items_before + n);
        b = static_cast<double>(n) - static_cast<double>(items_before + 1) * a;
      }
      double bucket = static_cast<double>(relevant_before + 1) * a;
      if (r > 1) bucket += static_cast<double>(r - 1) / static_cast<double>(n - 1) * b;
      sum += static_cast<double>(r) / static_cast<double>(n) * bucket;
    }
    items_before += n;
    relevant_before += r;
  }
  return relevant_before == 0 ? 0.0 : sum / static_cast<double>(relevant_before);
}

inline double tie_aware_average_precision(const QueryRanking& ranking) {
  return tie_aware_average_precision(ranking.histogram());
}

/// Retrieval within a Hamming ball: every item with distance <= radius (inclusive) is retrieved.
struct RadiusRetrieval {
  Index retrieved = 0;
  Index relevant_retrieved = 0;
  Index relevant = 0;  ///< relevant items in the whole ranking
  /// relevant_retrieved / retrieved; 0 for an empty ball.
  double precision() const {
    return retrieved == 0 ? 0.0 : static_cast<double>(relevant_retrieved) / static_cast<double>(retrieved);
  }
  /// relevant_retrieved / relevant; 0 when the query has no relevant item.
  double recall() const {
    return relevant == 0 ? 0.0 : static_cast<double>(relevant_retrieved) / static_cast<double>(relevant);
  }
  bool empty() const { return retrieved == 0; }
};

/// The Hamming ball of `radius` (>= 0; radii beyond the code length retrieve everything).
inline RadiusRetrieval retrieve_within_radius(const DistanceHistogram& histogram, int radius) {
  detail::require(radius >= 0,
                  "precision within radius: radius = " + std::to_string(radius) + ", expected >= 0");
  RadiusRetrieval ball;
  for (std::size_t d = 0; d < histogram.total.size(); ++d) {
    if (d <= static_cast<std::size_t>(radius)) {
      ball.retrieved += histogram.total[d];
      ball.relevant_retrieved += histogram.relevant[d];
    }
    ball.relevant += histogram.relevant[d];
  }
  return ball;
}

/// Precision within Hamming radius `radius` (d <= radius); 0 for an empty ball.
inline double precision_within_radius(const DistanceHistogram& histogram, int radius) {
  return retrieve_within_radius(histogram, radius).precision();
}

/// One point of a precision-recall curve obtained by growing the Hamming ball.
struct PrecisionRecallPoint {
  int radius = 0;
  double precision = 0.0;
  double recall = 0.0;
};

/// Precision and recall of the Hamming ball for every radius 0..bits (empty ball: precision 0;
/// no relevant item: recall 0). O(bits).
inline std::vector<PrecisionRecallPoint> precision_recall_points(const DistanceHistogram& histogram) {
  Index relevant = 0;
  for (Index count : histogram.relevant) relevant += count;
  std::vector<PrecisionRecallPoint> points(histogram.total.size());
  RadiusRetrieval ball;
  ball.relevant = relevant;
  for (std::size_t d = 0; d < histogram.total.size(); ++d) {
    ball.retrieved += histogram.total[d];
    ball.relevant_retrieved += histogram.relevant[d];
    points[d] = {static_cast<int>(d), ball.precision(), ball.recall()};
  }
  return points;
}

// ---- one-call forms over raw per-query arrays (e.g. for listwise RL rewards) ----
// `distances[j]` in 0..bits and `relevant[j]` (nonzero = relevant) for j < n; `excluded` (-1:
// none) is a database index left out of the ranking.

inline double average_precision(const std::int32_t* distances, const std::uint8_t* relevant, Index n,
                                int bits, Index excluded = -1) {
  QueryRanking ranking;
  ranking.build(distances, relevant, n, bits, excluded);
  return average_precision(ranking);
}

inline double tie_aware_average_precision(const std::int32_t* distances, const std::uint8_t* relevant,
                                          Index n, int bits, Index excluded = -1) {
  return tie_aware_average_precision(distance_histogram(distances, relevant, n, bits, excluded));
}

inline double average_precision_at_k(const std::int32_t* distances, const std::uint8_t* relevant, Index n,
                                     int bits, Index k, Index excluded = -1) {
  detail::require_cutoff(k, "AP@k");
  QueryRanking ranking;
  ranking.build(distances, relevant, n, bits, excluded);
  return average_precision_at_k(ranking, k);
}

inline double precision_at_k(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                             Index k, Index excluded = -1) {
  detail::require_cutoff(k, "precision@k");
  QueryRanking ranking;
  ranking.build(distances, relevant, n, bits, excluded);
  return precision_at_k(ranking, k);
}

inline double ndcg_at_k(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                        Index k, Index excluded = -1) {
  detail::require_cutoff(k, "NDCG@k");
  QueryRanking ranking;
  ranking.build(distances, relevant, n, bits, excluded);
  return ndcg_at_k(ranking, k);
}

inline double precision_within_radius(const std::int32_t* distances, const std::uint8_t* relevant, Index n,
                                      int bits, int radius, Index excluded = -1) {
  return precision_within_radius(distance_histogram(distances, relevant, n, bits, excluded), radius);
}

}  // namespace rlhash
