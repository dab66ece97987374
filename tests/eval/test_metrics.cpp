// Retrieval metrics: hand-computed cases, a plain sort-based reference on random data, tie-aware
// AP against exhaustive enumeration and Monte Carlo, and evaluate() end to end.
#include <catch.hpp>
#include <test_util.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/eval/metrics.hpp"
#include "rlhash/eval/ranking.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_metrics {
#if defined(RLHASH_CATCH3)
using Catch::Approx;  // v2 declares Approx at global scope
#endif

namespace {

using Flags = std::vector<std::uint8_t>;
using Distances = std::vector<std::int32_t>;

// ---- reference: sort the database by (distance, index) and apply the definitions literally ----

struct Reference {
  std::vector<int> rel;   // relevance in ranked order
  std::vector<int> dist;  // distance in ranked order
  int relevant = 0;
};

Reference reference_ranking(const Distances& d, const Flags& r, Index excluded = -1) {
  std::vector<Index> order;
  for (Index j = 0; j < static_cast<Index>(d.size()); ++j)
    if (j != excluded) order.push_back(j);
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return d[a] < d[b]; });
  Reference ref;
  for (Index j : order) {
    ref.rel.push_back(r[j] ? 1 : 0);
    ref.dist.push_back(d[j]);
    ref.relevant += r[j] ? 1 : 0;
  }
  return ref;
}

double ref_precision_at(const Reference& ref, Index k) {
  int hits = 0;
  for (Index i = 0; i < k && i < static_cast<Index>(ref.rel.size()); ++i) hits += ref.rel[i];
  return static_cast<double>(hits) / static_cast<double>(k);
}

double ref_ap(const std::vector<int>& rel, Index k, bool normalise_by_all) {
  double sum = 0;
  int hits = 0;
  int total = 0;
  for (int x : rel) total += x;
  for (Index i = 0; i < static_cast<Index>(rel.size()) && i < k; ++i) {
    if (!rel[i]) continue;
    ++hits;
    sum += static_cast<double>(hits) / static_cast<double>(i + 1);
  }
  const int denominator = normalise_by_all ? total : hits;
  return denominator == 0 ? 0.0 : sum / denominator;
}

double ref_ndcg(const Reference& ref, Index k) {
  double dcg = 0, ideal = 0;
  for (Index i = 0; i < k && i < static_cast<Index>(ref.rel.size()); ++i)
    if (ref.rel[i]) dcg += 1.0 / std::log2(static_cast<double>(i) + 2);
  for (Index i = 0; i < k && i < ref.relevant; ++i) ideal += 1.0 / std::log2(static_cast<double>(i) + 2);
  return ideal == 0 ? 0.0 : dcg / ideal;
}

// (precision, recall) of the ball d <= radius
std::pair<double, double> ref_ball(const Reference& ref, int radius) {
  int retrieved = 0, hits = 0;
  for (std::size_t i = 0; i < ref.rel.size(); ++i)
    if (ref.dist[i] <= radius) {
      ++retrieved;
      hits += ref.rel[i];
    }
  return {retrieved == 0 ? 0.0 : static_cast<double>(hits) / retrieved,
          ref.relevant == 0 ? 0.0 : static_cast<double>(hits) / ref.relevant};
}

// Expected AP over every ordering of the ties, by enumerating all n! permutations of the items
// as tie-break keys (each within-bucket order then occurs equally often).
double brute_force_tie_aware_ap(const Distances& d, const Flags& r) {
  const std::size_t n = d.size();
  std::vector<int> key(n);
  std::iota(key.begin(), key.end(), 0);
  double sum = 0;
  long count = 0;
  do {
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return d[a] != d[b] ? d[a] < d[b] : key[a] < key[b]; });
    std::vector<int> rel;
    for (std::size_t j : order) rel.push_back(r[j]);
    sum += ref_ap(rel, static_cast<Index>(n), true);
    ++count;
  } while (std::next_permutation(key.begin(), key.end()));
  return sum / static_cast<double>(count);
}

void random_instance(Rng& rng, Index n, int bits, double density, Distances& d, Flags& r) {
  d.resize(static_cast<std::size_t>(n));
  r.resize(static_cast<std::size_t>(n));
  // Distances concentrated on a few values so ties are common.
  const int spread = 1 + static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(bits) + 1));
  const int offset = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(bits - spread + 2)));
  for (Index j = 0; j < n; ++j) {
    d[j] = std::min(bits, offset + static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(spread))));
    r[j] = uniform_unit(rng) < density ? 1 : 0;
  }
}

}  // namespace

TEST_CASE("hand-computed metrics of a small ranking", "[eval]") {
  // distances {0,1,1,2}, relevance {1,0,1,1}, 3 bits. Stable order: items 0,1,2,3 (the tie at
  // d = 1 keeps index order), relevance 1,0,1,1.
  const Distances d{0, 1, 1, 2};
  const Flags r{1, 0, 1, 1};
  QueryRanking ranking;
  ranking.build(d.data(), r.data(), 4, 3);
  CHECK(ranking.relevant_positions() == std::vector<Index>{0, 2, 3});
  CHECK(ranking.histogram().total == std::vector<Index>{1, 2, 1, 0});
  CHECK(ranking.histogram().relevant == std::vector<Index>{1, 1, 1, 0});

  // AP = (1/1 + 2/3 + 3/4) / 3
  CHECK(average_precision(ranking) == Approx((1.0 + 2.0 / 3 + 3.0 / 4) / 3));
  CHECK(average_precision(d.data(), r.data(), 4, 3) == Approx((1.0 + 2.0 / 3 + 3.0 / 4) / 3));
  // Tie-aware: d=0 bucket gives 1/1; d=1 bucket {irrelevant, relevant} in either order gives the
  // relevant one precision 2/3 or 2/2, mean 5/6; d=2 gives 3/4. AP = (1 + 5/6 + 3/4)/3 = 31/36.
  CHECK(tie_aware_average_precision(ranking) == Approx(31.0 / 36));
  CHECK(tie_aware_average_precision(d.data(), r.data(), 4, 3) == Approx(31.0 / 36));
  // P@1 = 1, P@2 = 1/2, P@3 = 2/3, P@4 = 3/4, P@10 = 3/10 (divided by k beyond N).
  CHECK(precision_at_k(ranking, 1) == Approx(1.0));
  CHECK(precision_at_k(ranking, 2) == Approx(0.5));
  CHECK(precision_at_k(ranking, 3) == Approx(2.0 / 3));
  CHECK(precision_at_k(ranking, 4) == Approx(0.75));
  CHECK(precision_at_k(d.data(), r.data(), 4, 3, 10) == Approx(0.3));
  // AP@k normalised by relevant items in the top k: AP@2 = 1/1 / 1 = 1, AP@3 = (1 + 2/3)/2,
  // AP@10 = AP (all 3 relevant are in the top 10).
  CHECK(average_precision_at_k(ranking, 1) == Approx(1.0));
  CHECK(average_precision_at_k(ranking, 2) == Approx(1.0));
  CHECK(average_precision_at_k(ranking, 3) == Approx(5.0 / 6));
  CHECK(average_precision_at_k(d.data(), r.data(), 4, 3, 10) == Approx(average_precision(ranking)));
  // NDCG@3 = (1/log2 2 + 1/log2 4) / (1/log2 2 + 1/log2 3 + 1/log2 4) = 1.5 / (1.5 + 1/log2 3)
  CHECK(ndcg_at_k(ranking, 3) == Approx(1.5 / (1.5 + 1.0 / std::log2(3.0))));
  // NDCG@10: DCG adds 1/log2 5 for position 4; the ideal has all 3 relevant on top.
  CHECK(ndcg_at_k(d.data(), r.data(), 4, 3, 10) ==
        Approx((1.5 + 1.0 / std::log2(5.0)) / (1.5 + 1.0 / std::log2(3.0))));
  // Radius 0: 1 retrieved, 1 relevant; radius 1: 3 retrieved, 2 relevant; radius 9 > bits: all.
  CHECK(precision_within_radius(ranking.histogram(), 0) == Approx(1.0));
  CHECK(precision_within_radius(d.data(), r.data(), 4, 3, 1) == Approx(2.0 / 3));
  CHECK(precision_within_radius(ranking.histogram(), 9) == Approx(0.75));
  // PR points (precision, recall): r0 (1, 1/3), r1 (2/3, 2/3), r2 (3/4, 1), r3 (3/4, 1).
  const auto pr = precision_recall_points(ranking.histogram());
  REQUIRE(pr.size() == 4);
  const double expected[4][2] = {{1.0, 1.0 / 3}, {2.0 / 3, 2.0 / 3}, {0.75, 1.0}, {0.75, 1.0}};
  for (int i = 0; i < 4; ++i) {
    CHECK(pr[i].radius == i);
    CHECK(pr[i].precision == Approx(expected[i][0]));
    CHECK(pr[i].recall == Approx(expected[i][1]));
  }
}

TEST_CASE("ties break by database index in the stable order", "[eval]") {
  // distances {1,1,0}, relevance {0,1,0}: stable order 2, 0, 1 -> the relevant item is 3rd.
  const Distances d{1, 1, 0};
  const Flags r{0, 1, 0};
  CHECK(average_precision(d.data(), r.data(), 3, 2) == Approx(1.0 / 3));
  CHECK(precision_at_k(d.data(), r.data(), 3, 2, 2) == Approx(0.0));
  // Swapping which tied item is relevant moves it to 2nd place.
  const Flags r2{1, 0, 0};
  CHECK(average_precision(d.data(), r2.data(), 3, 2) == Approx(1.0 / 2));
  CHECK(precision_at_k(d.data(), r2.data(), 3, 2, 2) == Approx(0.5));
  // Tie-aware AP is the same for both: rank 2 or 3 with equal odds -> (1/2 + 1/3)/2 = 5/12.
  CHECK(tie_aware_average_precision(d.data(), r.data(), 3, 2) == Approx(5.0 / 12));
  CHECK(tie_aware_average_precision(d.data(), r2.data(), 3, 2) == Approx(5.0 / 12));
  // All items tied, 2 of 4 relevant: expected AP over the 6 arrangements of {1,1,0,0}:
  // 1100:1, 1010:(1+2/3)/2, 1001:(1+1/2)/2, 0110:(1/2+2/3)/2, 0101:(1/2+1/2)/2, 0011:(1/3+1/2)/2
  const Distances all_tied{3, 3, 3, 3};
  const Flags half{0, 1, 1, 0};
  const double arrangements =
      1.0 + (1 + 2.0 / 3) / 2 + (1 + 0.5) / 2 + (0.5 + 2.0 / 3) / 2 + 0.5 + (1.0 / 3 + 0.5) / 2;
  CHECK(tie_aware_average_precision(all_tied.data(), half.data(), 4, 3) == Approx(arrangements / 6));
}

TEST_CASE("queries without relevant items and empty balls score zero", "[eval]") {
  const Distances d{3, 4, 5};
  const Flags none{0, 0, 0};
  const Flags some{0, 1, 0};
  CHECK(average_precision(d.data(), none.data(), 3, 8) == 0.0);
  CHECK(tie_aware_average_precision(d.data(), none.data(), 3, 8) == 0.0);
  CHECK(average_precision_at_k(d.data(), none.data(), 3, 8, 2) == 0.0);
  CHECK(ndcg_at_k(d.data(), none.data(), 3, 8, 2) == 0.0);
  CHECK(precision_at_k(d.data(), none.data(), 3, 8, 2) == 0.0);
  // The only relevant item is 2nd: AP@1 has no relevant item in the top 1 -> 0.
  CHECK(average_precision_at_k(d.data(), some.data(), 3, 8, 1) == 0.0);
  CHECK(average_precision_at_k(d.data(), some.data(), 3, 8, 2) == Approx(0.5));
  // Nothing within radius 2 (nearest is at 3): empty ball, precision 0, recall 0.
  QueryRanking ranking;
  ranking.build(d.data(), some.data(), 3, 8);
  const RadiusRetrieval ball = retrieve_within_radius(ranking.histogram(), 2);
  CHECK(ball.empty());
  CHECK(ball.precision() == 0.0);
  CHECK(ball.recall() == 0.0);
  CHECK(retrieve_within_radius(ranking.histogram(), 4).recall() == Approx(1.0));
  // An empty database.
  CHECK(average_precision(d.data(), some.data(), 0, 8) == 0.0);
  CHECK(precision_at_k(d.data(), some.data(), 0, 8, 5) == 0.0);
}

TEST_CASE("an excluded item leaves the ranking", "[eval]") {
  // Excluding item 0 (the relevant item at distance 0) leaves {1:irrelevant, 2:relevant, 3:relevant}.
  const Distances d{0, 1, 1, 2};
  const Flags r{1, 0, 1, 1};
  QueryRanking ranking;
  ranking.build(d.data(), r.data(), 4, 3, 0);
  CHECK(ranking.size() == 3);
  CHECK(ranking.relevant_positions() == std::vector<Index>{1, 2});
  CHECK(average_precision(ranking) == Approx((1.0 / 2 + 2.0 / 3) / 2));
  ranking.build(d.data(), r.data(), 4, 3, 3);
  CHECK(ranking.relevant_positions() == std::vector<Index>{0, 2});
  CHECK(ranking.histogram().total == std::vector<Index>{1, 2, 0, 0});
}

TEST_CASE("bad per-query input is rejected", "[eval]") {
  const Distances d{0, 5, 1};
  const Flags r{1, 0, 1};
  CHECK_THROWS_AS(average_precision(d.data(), r.data(), 3, 4), InvalidArgument);
  CHECK_THROWS_WITH(average_precision(d.data(), r.data(), 3, 4), Catch::Contains("item 1 is 5"));
  CHECK_THROWS_AS(tie_aware_average_precision(d.data(), r.data(), 3, 4), InvalidArgument);
  const Distances negative{0, -1};
  CHECK_THROWS_AS(average_precision(negative.data(), r.data(), 2, 4), InvalidArgument);
  CHECK_THROWS_AS(precision_at_k(d.data(), r.data(), 3, 8, 0), InvalidArgument);
  CHECK_THROWS_AS(ndcg_at_k(d.data(), r.data(), 3, 8, -2), InvalidArgument);
  CHECK_THROWS_AS(average_precision(d.data(), r.data(), 3, 8, 3), InvalidArgument);
  CHECK_THROWS_AS(average_precision(d.data(), r.data(), 3, 0), InvalidArgument);
  QueryRanking ranking;
  ranking.build(d.data(), r.data(), 3, 8);
  CHECK_THROWS_AS(precision_within_radius(ranking.histogram(), -1), InvalidArgument);
}

TEST_CASE("per-query metrics match a sort-based reference on random data", "[eval]") {
  QueryRanking ranking;  // reused across sizes, as a reward would
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    Rng rng(seed);
    const Index n = static_cast<Index>(uniform_below(rng, 120));
    const int bits = 1 + static_cast<int>(uniform_below(rng, 40));
    const double density = uniform_unit(rng);
    Distances d;
    Flags r;
    random_instance(rng, n, bits, density, d, r);
    const Index excluded = (n > 0 && seed % 3 == 0) ? static_cast<Index>(uniform_below(rng, n)) : -1;
    INFO("seed " << seed << " n " << n << " bits " << bits << " excluded " << excluded);
    ranking.build(d.data(), r.data(), n, bits, excluded);
    const Reference ref = reference_ranking(d, r, excluded);
    REQUIRE(ranking.size() == static_cast<Index>(ref.rel.size()));
    REQUIRE(ranking.relevant_count() == ref.relevant);

    CHECK(average_precision(ranking) == Approx(ref_ap(ref.rel, n + 1, true)).margin(1e-14));
    CHECK(average_precision(d.data(), r.data(), n, bits, excluded) ==
          Approx(ref_ap(ref.rel, n + 1, true)).margin(1e-14));
    for (Index k : {Index{1}, Index{2}, Index{5}, Index{17}, n / 2 + 1, n, n + 3}) {
      if (k < 1) continue;
      INFO("k " << k);
      CHECK(precision_at_k(ranking, k) == Approx(ref_precision_at(ref, k)).margin(1e-14));
      CHECK(average_precision_at_k(ranking, k) == Approx(ref_ap(ref.rel, k, false)).margin(1e-14));
      CHECK(ndcg_at_k(ranking, k) == Approx(ref_ndcg(ref, k)).margin(1e-14));
    }
    const auto pr = precision_recall_points(ranking.histogram());
    REQUIRE(pr.size() == static_cast<std::size_t>(bits) + 1);
    for (int radius = 0; radius <= bits; ++radius) {
      const auto [precision, recall] = ref_ball(ref, radius);
      CHECK(pr[radius].precision == Approx(precision).margin(1e-15));
      CHECK(pr[radius].recall == Approx(recall).margin(1e-15));
      CHECK(precision_within_radius(ranking.histogram(), radius) == Approx(precision).margin(1e-15));
    }
    // The histogram-only pass agrees with the ranking's histogram.
    const DistanceHistogram h = distance_histogram(d.data(), r.data(), n, bits, excluded);
    CHECK(h.total == ranking.histogram().total);
    CHECK(h.relevant == ranking.histogram().relevant);
  }
}

TEST_CASE("rankings spanning many staging blocks of the scan match the sort-based reference", "[eval]") {
  QueryRanking ranking;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    Rng rng(1000 + seed);
    const Index n = 500 + static_cast<Index>(uniform_below(rng, 2500));
    const int bits = 1 + static_cast<int>(uniform_below(rng, 64));
    Distances d;
    Flags r;
    random_instance(rng, n, bits, uniform_unit(rng), d, r);
    // None, the last item of the first 512-item block, the first of the second, anywhere.
    const Index choices[] = {-1, 511, 512, static_cast<Index>(uniform_below(rng, n))};
    const Index excluded = choices[seed % 4];
    INFO("seed " << seed << " n " << n << " bits " << bits << " excluded " << excluded);
    ranking.build(d.data(), r.data(), n, bits, excluded);
    const Reference ref = reference_ranking(d, r, excluded);
    REQUIRE(ranking.relevant_count() == ref.relevant);
    std::vector<Index> positions;
    for (std::size_t i = 0; i < ref.rel.size(); ++i)
      if (ref.rel[i]) positions.push_back(static_cast<Index>(i));
    CHECK(ranking.relevant_positions() == positions);
    const DistanceHistogram h = distance_histogram(d.data(), r.data(), n, bits, excluded);
    CHECK(h.total == ranking.histogram().total);
    CHECK(h.relevant == ranking.histogram().relevant);
  }
  // An impossible distance deep in the ranking is named; the excluded item's is never read.
  Distances d(3000, 1);
  Flags r(3000, 1);
  d[2500] = 99;
  CHECK_THROWS_WITH(average_precision(d.data(), r.data(), 3000, 8), Catch::Contains("item 2500 is 99"));
  CHECK(average_precision(d.data(), r.data(), 3000, 8, 2500) == Approx(1.0));
  d[2500] = -3;
  CHECK_THROWS_WITH(average_precision(d.data(), r.data(), 3000, 8), Catch::Contains("item 2500 is -3"));
}

TEST_CASE("tie-aware AP equals the mean over all tie orders on tiny instances", "[eval]") {
  for (std::uint64_t seed = 0; seed < 150; ++seed) {
    Rng rng(1000 + seed);
    const Index n = 1 + static_cast<Index>(uniform_below(rng, 7));  // up to 7! = 5040 orders
    const int bits = 1 + static_cast<int>(uniform_below(rng, 3));
    Distances d;
    Flags r;
    random_instance(rng, n, bits, 0.2 + 0.6 * uniform_unit(rng), d, r);
    INFO("seed " << seed << " n " << n);
    CHECK(tie_aware_average_precision(d.data(), r.data(), n, bits) ==
          Approx(brute_force_tie_aware_ap(d, r)).epsilon(1e-12).margin(1e-15));
  }
}

TEST_CASE("harmonic differences are accurate on both sides of the asymptotic switch", "[eval]") {
  const std::vector<std::pair<Index, Index>> ranges{{0, 1},      {0, 64},       {0, 65},     {10, 75},
                                                    {63, 200},   {64, 129},     {100, 5000}, {5000, 5100},
                                                    {0, 100000}, {70000, 70001}};
  for (auto [a, b] : ranges) {
    long double exact = 0;
    for (Index t = b; t > a; --t) exact += 1.0L / static_cast<long double>(t);
    INFO("a " << a << " b " << b);
    CHECK(detail::harmonic_difference(a, b) == Approx(static_cast<double>(exact)).epsilon(1e-14));
  }
}

TEST_CASE("tie-aware AP with large buckets matches Monte Carlo and a direct long-double sum", "[eval]") {
  // 3000 items on 6 distances: buckets of ~500, so the closed form goes through the harmonic
  // asymptotic path.
  Rng rng(77);
  const Index n = 3000;
  const int bits = 5;
  Distances d(n);
  Flags r(n);
  for (Index j = 0; j < n; ++j) {
    d[j] = static_cast<std::int32_t>(uniform_below(rng, 6));
    // Closer items are more often relevant, as in a useful hash.
    r[j] = uniform_unit(rng) < 0.6 - 0.1 * d[j] ? 1 : 0;
  }
  const double closed = tie_aware_average_precision(d.data(), r.data(), n, bits);

  // The same expectation summed term by term in long double (checks the numerics, not the algebra).
  const DistanceHistogram h = distance_histogram(d.data(), r.data(), n, bits);
  long double direct = 0;
  Index before = 0, relevant_before = 0;
  for (int b = 0; b <= bits; ++b) {
    const Index nb = h.total[b], rb = h.relevant[b];
    for (Index i = 1; i <= nb && rb > 0; ++i)
      direct +=
          (static_cast<long double>(rb) / nb) *
          (relevant_before + 1 + static_cast<long double>(i - 1) * (rb - 1) / std::max<Index>(nb - 1, 1)) /
          (before + i);
    before += nb;
    relevant_before += rb;
  }
  direct /= relevant_before;
  CHECK(closed == Approx(static_cast<double>(direct)).epsilon(1e-12));

  // Monte Carlo: shuffle within each bucket, AP of the resulting order (checks the algebra).
  std::vector<std::vector<std::uint8_t>> buckets(bits + 1);
  for (Index j = 0; j < n; ++j) buckets[d[j]].push_back(r[j]);
  const int trials = 3000;
  double sum = 0, sum_sq = 0;
  std::vector<int> order;
  for (int t = 0; t < trials; ++t) {
    order.clear();
    for (auto& bucket : buckets) {
      shuffle(bucket, rng);
      order.insert(order.end(), bucket.begin(), bucket.end());
    }
    const double ap = ref_ap(order, n, true);
    sum += ap;
    sum_sq += ap * ap;
  }
  const double mean = sum / trials;
  const double standard_error = std::sqrt((sum_sq / trials - mean * mean) / trials);
  INFO("closed form " << closed << ", Monte Carlo " << mean << " +- " << standard_error);
  CHECK(standard_error > 0);
  CHECK(std::abs(closed - mean) < 4 * standard_error);
  // And the stable order (index tie-break) is one particular draw, not the expectation.
  CHECK(average_precision(d.data(), r.data(), n, bits) != Approx(closed).epsilon(1e-9));
}

// ---- evaluate() ----

namespace {

BinaryCodes random_codes(Rng& rng, Index count, int bits, int flip_range) {
  // Codes near a few prototypes, so distances cluster and tie often.
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i)
    for (int j = 0; j < bits; ++j)
      codes.set(i, j, (j % 3 == 0) != (uniform_below(rng, static_cast<std::uint64_t>(flip_range)) == 0));
  return codes;
}

int naive_distance(const BinaryCodes& a, Index i, const BinaryCodes& b, Index j) {
  int distance = 0;
  for (int bit = 0; bit < a.bits(); ++bit) distance += a.get(i, bit) != b.get(j, bit);
  return distance;
}

// Mean metrics over queries from the sort-based reference.
EvalReport reference_report(const BinaryCodes& q, const BinaryCodes& db, const Labels& ql, const Labels& dbl,
                            const EvalOptions& options, const std::vector<Index>& excluded) {
  EvalReport report;
  const Index m = q.size();
  const Index n = db.size();
  report.queries = m;
  report.radius = options.radius;
  report.pr.resize(static_cast<std::size_t>(db.bits()) + 1);
  for (int radius = 0; radius <= db.bits(); ++radius) report.pr[radius].radius = radius;
  // Every requested cutoff appears, also with no queries.
  for (int k : options.map_at) report.map_at[k] = 0;
  for (int k : options.precision_at) report.precision_at[k] = 0;
  for (int k : options.ndcg_at) report.ndcg_at[k] = 0;
  for (Index i = 0; i < m; ++i) {
    Distances d(n);
    Flags r(n);
    for (Index j = 0; j < n; ++j) {
      d[j] = naive_distance(q, i, db, j);
      bool shared = false;
      for (int c = 0; c < ql.num_classes(); ++c)
        shared = shared || (ql.has(i, c) && c < dbl.num_classes() && dbl.has(j, c));
      r[j] = shared;
    }
    const Index skip = excluded.empty() ? -1 : excluded[i];
    const Reference ref = reference_ranking(d, r, skip);
    report.map += ref_ap(ref.rel, n + 1, true) / m;
    // Tie-aware AP per query is checked against enumeration above; here only its averaging.
    report.map_tie_aware += tie_aware_average_precision(d.data(), r.data(), n, db.bits(), skip) / m;
    for (int k : options.map_at) report.map_at[k] += ref_ap(ref.rel, k, false) / m;
    for (int k : options.precision_at) report.precision_at[k] += ref_precision_at(ref, k) / m;
    for (int k : options.ndcg_at) report.ndcg_at[k] += ref_ndcg(ref, k) / m;
    const auto ball = ref_ball(ref, options.radius);
    report.precision_radius += ball.first / m;
    int retrieved = 0;
    for (int x : ref.dist) retrieved += x <= options.radius;
    report.empty_radius += retrieved == 0;
    report.queries_without_relevant += ref.relevant == 0;
    for (int radius = 0; radius <= db.bits(); ++radius) {
      const auto point = ref_ball(ref, radius);
      report.pr[radius].precision += point.first / m;
      report.pr[radius].recall += point.second / m;
    }
  }
  return report;
}

}  // namespace

namespace {

void check_reports_match(const EvalReport& actual, const EvalReport& expected) {
  CHECK(actual.queries == expected.queries);
  CHECK(actual.radius == expected.radius);
  CHECK(actual.map == Approx(expected.map).margin(1e-12));
  CHECK(actual.map_tie_aware == Approx(expected.map_tie_aware).margin(1e-12));
  CHECK(actual.precision_radius == Approx(expected.precision_radius).margin(1e-12));
  CHECK(actual.empty_radius == expected.empty_radius);
  CHECK(actual.queries_without_relevant == expected.queries_without_relevant);
  REQUIRE(actual.map_at.size() == expected.map_at.size());
  for (const auto& [k, value] : expected.map_at) CHECK(actual.map_at.at(k) == Approx(value).margin(1e-12));
  REQUIRE(actual.precision_at.size() == expected.precision_at.size());
  for (const auto& [k, value] : expected.precision_at)
    CHECK(actual.precision_at.at(k) == Approx(value).margin(1e-12));
  REQUIRE(actual.ndcg_at.size() == expected.ndcg_at.size());
  for (const auto& [k, value] : expected.ndcg_at) CHECK(actual.ndcg_at.at(k) == Approx(value).margin(1e-12));
  REQUIRE(actual.pr.size() == expected.pr.size());
  for (std::size_t i = 0; i < expected.pr.size(); ++i) {
    CHECK(actual.pr[i].radius == expected.pr[i].radius);
    CHECK(actual.pr[i].precision == Approx(expected.pr[i].precision).margin(1e-12));
    CHECK(actual.pr[i].recall == Approx(expected.pr[i].recall).margin(1e-12));
  }
}

bool reports_identical(const EvalReport& a, const EvalReport& b) {
  if (a.map != b.map || a.map_tie_aware != b.map_tie_aware || a.precision_radius != b.precision_radius ||
      a.empty_radius != b.empty_radius || a.map_at != b.map_at || a.precision_at != b.precision_at ||
      a.ndcg_at != b.ndcg_at || a.pr.size() != b.pr.size())
    return false;
  for (std::size_t i = 0; i < a.pr.size(); ++i)
    if (a.pr[i].precision != b.pr[i].precision || a.pr[i].recall != b.pr[i].recall) return false;
  return true;
}

// A distance kernel with the search layer's signature, passed as a function pointer.
void bitwise_distances(const std::uint64_t* query, const BinaryCodes& database, std::int32_t* out) {
  for (Index j = 0; j < database.size(); ++j) {
    int distance = 0;
    for (int bit = 0; bit < database.bits(); ++bit)
      distance += ((query[bit >> 6] >> (bit & 63)) & 1U) != static_cast<std::uint64_t>(database.get(j, bit));
    out[j] = distance;
  }
}

}  // namespace

TEST_CASE("evaluate matches the sort-based reference with single-label data", "[eval]") {
  const int bit_choices[] = {3, 12, 32, 64, 70, 300};  // 300: past the byte ranking's 254 bits
  for (std::uint64_t seed = 0; seed < 24; ++seed) {
    Rng rng(500 + seed);
    const int bits = bit_choices[seed % 6];
    const Index m = static_cast<Index>(uniform_below(rng, 70));
    const Index n = m + static_cast<Index>(uniform_below(rng, 250));
    const int classes =
        seed % 4 == 3 ? 70 : 2 + static_cast<int>(uniform_below(rng, 6));  // 70: two label words
    const int flips = 2 + static_cast<int>(uniform_below(rng, 6));
    const BinaryCodes db = random_codes(rng, n, bits, flips);
    std::vector<std::int32_t> db_ids(n);
    for (auto& id : db_ids)
      id = static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(classes)));
    EvalOptions options;
    options.map_at = {1, 5, 1000};
    options.precision_at = {1, 10, 100, 500};
    options.ndcg_at = {3, 50, 400};
    options.radius = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(bits) / 3 + 2));
    options.threads = 1 + static_cast<int>(seed % 3);
    options.exclude_self = seed % 2 == 1;
    // Queries: the first m database items when excluding self, fresh codes otherwise.
    std::vector<Index> first(m);
    std::iota(first.begin(), first.end(), Index{0});
    const BinaryCodes q = options.exclude_self ? db.rows(first) : random_codes(rng, m, bits, flips);
    std::vector<std::int32_t> q_ids(m);
    for (Index i = 0; i < m; ++i)
      q_ids[i] = options.exclude_self
                     ? db_ids[i]
                     : static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(classes)));
    const Labels ql = Labels::from_class_ids(q_ids, classes);
    const Labels dbl = Labels::from_class_ids(db_ids, classes);
    INFO("seed " << seed << " bits " << bits << " m " << m << " n " << n << " exclude_self "
                 << options.exclude_self);
    std::vector<Index> excluded;
    if (options.exclude_self) excluded = first;
    const EvalReport expected = reference_report(q, db, ql, dbl, options, excluded);
    const EvalReport actual = evaluate(q, db, ql, dbl, options);
    check_reports_match(actual, expected);
    // A plugged-in kernel (function pointer, the search layer's signature) gives the same report.
    CHECK(reports_identical(evaluate(q, db, ql, dbl, options, bitwise_distances), actual));
  }
}

TEST_CASE("evaluate with multi-label relevance", "[eval]") {
  // 3 classes. Query 0 has labels {0, 2}; query 1 has {1}; query 2 has none.
  // Database (labels | 4-bit code): a {0} 0000, b {1} 0001, c {1,2} 0011, d {} 0000, e {2} 1111.
  const std::uint8_t query_hot[] = {1, 0, 1, 0, 1, 0, 0, 0, 0};
  const std::uint8_t db_hot[] = {1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1};
  const Labels ql = Labels::from_multi_hot(query_hot, 3, 3);
  const Labels dbl = Labels::from_multi_hot(db_hot, 5, 3);
  BinaryCodes db(5, 4);
  db.set(1, 0, true);
  db.set(2, 0, true);
  db.set(2, 1, true);
  for (int j = 0; j < 4; ++j) db.set(4, j, true);
  const BinaryCodes q(3, 4);  // all queries are the zero code
  // Distances from 0000: a 0, b 1, c 2, d 0, e 4. Stable order: a, d, b, c, e.
  // Query 0 ({0,2}): relevant a, c, e -> ranked 1, 4, 5: AP = (1/1 + 2/4 + 3/5)/3.
  // Query 1 ({1}):   relevant b, c    -> ranked 3, 4:    AP = (1/3 + 2/4)/2.
  // Query 2 (none):  AP 0, counted in the mean.
  EvalOptions options;
  options.map_at = {2};
  options.precision_at = {2, 8};
  options.ndcg_at = {2};
  options.radius = 1;
  const EvalReport report = evaluate(q, db, ql, dbl, options);
  const double ap0 = (1.0 + 2.0 / 4 + 3.0 / 5) / 3;
  const double ap1 = (1.0 / 3 + 2.0 / 4) / 2;
  CHECK(report.queries == 3);
  CHECK(report.queries_without_relevant == 1);
  CHECK(report.map == Approx((ap0 + ap1 + 0) / 3));
  // Tie-aware: query 0's bucket d=0 {a rel, d irr}: (1/1 + 1/2)/2 = 3/4; c at rank 4 -> 2/4; e -> 3/5.
  // Query 1: b, c alone in their buckets at ranks 3 and 4 -> same as stable AP.
  CHECK(report.map_tie_aware == Approx(((0.75 + 0.5 + 0.6) / 3 + ap1) / 3));
  // AP@2: query 0 has a in the top 2 -> 1; query 1 none -> 0.
  CHECK(report.map_at.at(2) == Approx(1.0 / 3));
  // P@2: 1/2, 0, 0; P@8 (beyond N = 5): 3/8, 2/8, 0.
  CHECK(report.precision_at.at(2) == Approx(0.5 / 3));
  CHECK(report.precision_at.at(8) == Approx((3.0 / 8 + 2.0 / 8) / 3));
  // NDCG@2: query 0 DCG 1 / IDCG (1 + 1/log2 3); query 1 0.
  CHECK(report.ndcg_at.at(2) == Approx(1.0 / (1.0 + 1.0 / std::log2(3.0)) / 3));
  // Radius 1 retrieves a, d, b: query 0 1/3, query 1 1/3, query 2 0; no empty ball.
  CHECK(report.precision_radius == Approx((1.0 / 3 + 1.0 / 3) / 3));
  CHECK(report.empty_radius == 0);
  // PR at radius 0 (a, d): precisions 1/2, 0, 0; recalls 1/3, 0, 0.
  REQUIRE(report.pr.size() == 5);
  CHECK(report.pr[0].precision == Approx(0.5 / 3));
  CHECK(report.pr[0].recall == Approx(1.0 / 9));
  // Radius 4: everything; precisions 3/5, 2/5, 0; recalls 1, 1, 0.
  CHECK(report.pr[4].precision == Approx(1.0 / 3));
  CHECK(report.pr[4].recall == Approx(2.0 / 3));

  // Against the reference as well, and with a per-query exclusion list.
  check_reports_match(report, reference_report(q, db, ql, dbl, options, {}));
  const std::vector<Index> excluded{0, -1, 4};
  check_reports_match(evaluate_with_exclusions(q, db, ql, dbl, excluded, options),
                      reference_report(q, db, ql, dbl, options, excluded));
}

TEST_CASE("evaluate counts empty Hamming balls", "[eval]") {
  // Database codes at distance >= 3 from the first query; the second query sits on item 0.
  BinaryCodes db(3, 8);
  for (int j = 0; j < 3; ++j) db.set(0, j, true);
  for (int j = 0; j < 5; ++j) db.set(1, j, true);
  for (int j = 0; j < 8; ++j) db.set(2, j, true);
  BinaryCodes q(2, 8);
  for (int j = 0; j < 3; ++j) q.set(1, j, true);
  const Labels ql = Labels::from_class_ids({0, 0}, 2);
  const Labels dbl = Labels::from_class_ids({0, 1, 0}, 2);
  EvalOptions options;
  options.radius = 2;
  const EvalReport report = evaluate(q, db, ql, dbl, options);
  // Query 0: ball empty -> precision 0. Query 1: ball {item 0 at 0, item 1 at 2} -> 1/2.
  CHECK(report.empty_radius == 1);
  CHECK(report.precision_radius == Approx(0.25));
}

TEST_CASE("evaluate is bit-identical across thread counts", "[eval]") {
  Rng rng(9);
  const BinaryCodes db = random_codes(rng, 2000, 24, 4);
  const BinaryCodes q = random_codes(rng, 300, 24, 4);
  std::vector<std::int32_t> db_ids(2000), q_ids(300);
  for (auto& id : db_ids) id = static_cast<std::int32_t>(uniform_below(rng, 10));
  for (auto& id : q_ids) id = static_cast<std::int32_t>(uniform_below(rng, 10));
  const Labels ql = Labels::from_class_ids(q_ids, 10), dbl = Labels::from_class_ids(db_ids, 10);
  EvalOptions options;
  options.threads = 1;
  const EvalReport one = evaluate(q, db, ql, dbl, options);
  for (int threads : {2, 3, 7, 0}) {
    options.threads = threads;
    CHECK(reports_identical(evaluate(q, db, ql, dbl, options), one));
  }
  CHECK(one.map > 0.0);
  CHECK(one.map < 1.0);
}

TEST_CASE("evaluate rejects inconsistent input", "[eval]") {
  const BinaryCodes db(4, 16), q(2, 16), q8(2, 8);
  const Labels dbl = Labels::from_class_ids({0, 1, 0, 1}), ql = Labels::from_class_ids({0, 1});
  const Labels three = Labels::from_class_ids({0, 1, 1});
  CHECK_THROWS_WITH(evaluate(q8, db, ql, dbl), Catch::Contains("8 bits"));
  CHECK_THROWS_WITH(evaluate(q, db, three, dbl), Catch::Contains("3 query labels for 2"));
  CHECK_THROWS_WITH(evaluate(q, db, ql, three), Catch::Contains("3 database labels for 4"));
  EvalOptions bad;
  bad.precision_at = {10, 0};
  CHECK_THROWS_WITH(evaluate(q, db, ql, dbl, bad), Catch::Contains("precision_at"));
  bad = {};
  bad.radius = -1;
  CHECK_THROWS_AS(evaluate(q, db, ql, dbl, bad), InvalidArgument);
  bad = {};
  bad.threads = -2;
  CHECK_THROWS_AS(evaluate(q, db, ql, dbl, bad), InvalidArgument);
  bad = {};
  bad.exclude_self = true;
  const BinaryCodes many(5, 16);
  CHECK_THROWS_WITH(evaluate(many, db, Labels::from_class_ids({0, 0, 0, 0, 0}), dbl, bad),
                    Catch::Contains("exclude_self"));
  CHECK_THROWS_AS(evaluate_with_exclusions(q, db, ql, dbl, {0}), InvalidArgument);
  CHECK_THROWS_AS(evaluate_with_exclusions(q, db, ql, dbl, {0, 4}), InvalidArgument);
  // A kernel returning an impossible distance is caught, also from worker threads.
  auto broken = [](const std::uint64_t*, const BinaryCodes& database, std::int32_t* out) {
    for (Index j = 0; j < database.size(); ++j) out[j] = 17;
  };
  bad = {};
  bad.threads = 2;
  CHECK_THROWS_WITH(evaluate(q, db, ql, dbl, bad, broken), Catch::Contains("expected 0..16"));
}

TEST_CASE("evaluate speed: 1000 queries x 60000 items at 32 bits", "[.][perf]") {
  Rng rng(2024);
  const Index n = 60000, m = 1000;
  const BinaryCodes db = random_codes(rng, n, 32, 5);
  const BinaryCodes q = random_codes(rng, m, 32, 5);
  std::vector<std::int32_t> db_ids(n), q_ids(m);
  for (auto& id : db_ids) id = static_cast<std::int32_t>(uniform_below(rng, 10));
  for (auto& id : q_ids) id = static_cast<std::int32_t>(uniform_below(rng, 10));
  const Labels ql = Labels::from_class_ids(q_ids, 10), dbl = Labels::from_class_ids(db_ids, 10);
  EvalOptions options;
  for (int threads : {1, 2}) {
    options.threads = threads;
    const auto start = std::chrono::steady_clock::now();
    const EvalReport report = evaluate(q, db, ql, dbl, options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WARN("threads " << threads << ": " << seconds << " s, mAP " << report.map << ", tie-aware "
                    << report.map_tie_aware);
    CHECK(report.queries == m);
    CHECK(report.map > 0.0);
  }
}

TEST_CASE("leave-one-out mAP: codes against themselves, each item out of its own ranking", "[eval]") {
  // 2-bit codes: items 0 (00) and 1 (10 in bit order 0) of class A, 2 (11) and 3 (01) of class B.
  BinaryCodes codes(4, 2);
  codes.set(1, 0, true);
  codes.set(2, 0, true);
  codes.set(2, 1, true);
  codes.set(3, 1, true);
  const Labels labels = Labels::from_class_ids({0, 0, 1, 1}, 2);
  // Item 0: 1 (d 1, relevant), 3 (d 1), 2 (d 2): AP 1. Item 1: 0 (d 1, relevant) first: AP 1.
  // Item 2: 1 (d 1), 3 (d 1, relevant): AP 1/2. Item 3: 0 (d 1), 2 (d 1, relevant): AP 1/2.
  CHECK(leave_one_out_map(codes, labels) == Approx(0.75));
}

}  // namespace rlhash::test_metrics
