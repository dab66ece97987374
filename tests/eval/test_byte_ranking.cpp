// The byte form of QueryRanking (byte distances, relevance bits) against the int32 form, on every
// SIMD path, and the fused AP / AP@k pass against the separate metrics: bit for bit.
#include <catch.hpp>

#include <cstdint>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/eval/byte_blocks.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/eval/metrics.hpp"
#include "rlhash/eval/ranking.hpp"
#include "rlhash/eval/top_ranking.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_byte_ranking {

namespace {

const SimdPath kPaths[] = {SimdPath::scalar, SimdPath::avx2, SimdPath::avx512, SimdPath::xsimd};

struct Instance {
  std::vector<std::int32_t> distances;
  std::vector<std::uint8_t> relevant;
};

// Distances concentrated on a few values (many ties, long runs of one distance in a block) and
// relevance of the given density.
Instance random_instance(Rng& rng, Index n, int bits, std::uint64_t relevant_per_mille) {
  Instance instance;
  for (Index j = 0; j < n; ++j) {
    const int spread = static_cast<int>(uniform_below(rng, 4)) == 0 ? bits + 1 : std::min(bits + 1, 4);
    instance.distances.push_back(
        static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(spread))));
    instance.relevant.push_back(uniform_below(rng, 1000) < relevant_per_mille ? 1 : 0);
  }
  return instance;
}

ByteRankingInput byte_input(const Instance& instance, Index excluded) {
  ByteRankingInput input;
  const auto n = static_cast<Index>(instance.distances.size());
  input.resize(n);
  for (Index j = 0; j < n; ++j) {
    input.distances()[j] = static_cast<std::uint8_t>(instance.distances[static_cast<std::size_t>(j)]);
    if (instance.relevant[static_cast<std::size_t>(j)] != 0)
      input.relevant_words()[j / 64] |= std::uint64_t{1} << (j % 64);
  }
  // Bits past the end must be ignored.
  if (n % 64 != 0) input.relevant_words()[n / 64] |= ~std::uint64_t{0} << (n % 64);
  if (excluded >= 0) input.leave_out(excluded);
  return input;
}

void check_same_ranking(const QueryRanking& actual, const QueryRanking& expected) {
  REQUIRE(actual.size() == expected.size());
  REQUIRE(actual.histogram().total == expected.histogram().total);
  REQUIRE(actual.histogram().relevant == expected.histogram().relevant);
  REQUIRE(actual.relevant_positions() == expected.relevant_positions());
}

}  // namespace

TEST_CASE("the byte ranking equals the int32 ranking on every path", "[eval][simd]") {
  Rng rng(77);
  const Index sizes[] = {0, 1, 7, 63, 64, 65, 200, 640, 1000, 5000};
  const int bit_choices[] = {1, 3, 16, 32, 64, 254};
  const std::uint64_t densities[] = {0, 50, 300, 950, 1000};  // per mille; >= 300 puts > 8 relevant in blocks
  for (Index n : sizes) {
    for (int bits : bit_choices) {
      for (std::uint64_t density : densities) {
        const Instance instance = random_instance(rng, n, bits, density);
        for (Index excluded : {Index{-1}, n / 2}) {
          if (n == 0 && excluded >= 0) continue;
          QueryRanking expected;
          expected.build(instance.distances.data(), instance.relevant.data(), n, bits, excluded);
          const ByteRankingInput input = byte_input(instance, excluded);
          for (const SimdPath path : kPaths) {
            if (!simd_path_supported(path)) continue;
            INFO("n " << n << " bits " << bits << " density " << density << " excluded " << excluded
                      << " path " << to_string(path));
            QueryRanking actual;
            actual.build(input, bits, path);
            check_same_ranking(actual, expected);
            actual.build(input, bits, path);  // reused buffers give the same result
            check_same_ranking(actual, expected);
          }
        }
      }
    }
  }
}

TEST_CASE("a hand-computed byte ranking and top k: ties, a left-out item, relevant items in one bucket",
          "[eval]") {
  // Items:     0  1  2  3  4  5
  // distance:  2  0  2  1  0  2
  // relevant:  1  0  1  0  1  1   ; item 5 left out
  // Stable order: 1(0) 4(0,r) 3(1) 0(2,r) 2(2,r) -> relevant positions 1, 3, 4.
  ByteRankingInput input;
  input.resize(6);
  const std::uint8_t d[] = {2, 0, 2, 1, 0, 2};
  for (int j = 0; j < 6; ++j) input.distances()[j] = d[j];
  input.relevant_words()[0] = 0b110101;
  input.leave_out(5);
  QueryRanking ranking;
  ranking.build(input, 2);
  CHECK(ranking.size() == 5);
  CHECK(ranking.relevant_positions() == std::vector<Index>{1, 3, 4});
  CHECK(ranking.histogram().total == std::vector<Index>{2, 1, 2});
  CHECK(ranking.histogram().relevant == std::vector<Index>{1, 0, 2});
  // AP = (1/2 + 2/4 + 3/5) / 3; AP@4 (cutoff inside the tied bucket) = (1/2 + 2/4) / 2.
  CHECK(average_precision(ranking) == Approx((0.5 + 0.5 + 0.6) / 3.0));
  CHECK(average_precision_at_k(ranking, 4) == Approx(0.5));
  CHECK(average_precision_at_k(ranking, 100) == average_precision(ranking));  // k beyond N
  // The top 4 alone (top_ranking.hpp): the cutoff inside the tied bucket keeps index order.
  TopRanking top;
  top.build(input, 2, 4);
  CHECK(top.size() == 5);
  CHECK(top.relevant_count() == 3);
  CHECK(top.relevant_positions() == std::vector<Index>{1, 3});
  CHECK(precision_at_k(top, 4) == 0.5);
  double at_4 = 0.0;
  average_precision_with_cutoffs(top, std::vector<int>{4}, {0}, &at_4);
  CHECK(at_4 == Approx(0.5));  // (1/2 + 2/4) / 2
  input.distances()[3] = 3;
  CHECK_THROWS_WITH(top.build(input, 2, 4), Catch::Contains("item 3 is 3, expected 0..2"));
  CHECK_THROWS_AS(top.build(input, 2, -1), InvalidArgument);
}

TEST_CASE("the byte ranking rejects distances beyond the code length", "[eval]") {
  ByteRankingInput input;
  input.resize(70);
  for (int j = 0; j < 70; ++j) input.distances()[j] = 1;
  input.distances()[66] = 9;
  QueryRanking ranking;
  CHECK_THROWS_WITH(ranking.build(input, 8), Catch::Contains("item 66 is 9, expected 0..8"));
  CHECK_THROWS_AS(ranking.build(input, 255), InvalidArgument);
  CHECK_THROWS_AS(input.leave_out(70), InvalidArgument);
}

TEST_CASE("byte equality bits match a plain compare on every path", "[eval][simd]") {
  Rng rng(5);
  std::vector<std::uint8_t> bytes(64 * 5);
  for (auto& b : bytes)
    b = static_cast<std::uint8_t>(uniform_below(rng, 3) == 0 ? 255 : uniform_below(rng, 4));
  for (int value : {0, 1, 3, 128, 255}) {
    for (const SimdPath path : kPaths) {
      if (!simd_path_supported(path)) continue;
      std::vector<std::uint64_t> bits(5, 0xDEAD);
      equal_byte_bits(bytes.data(), 5, static_cast<std::uint8_t>(value), bits.data(), path);
      for (std::size_t i = 0; i < bytes.size(); ++i)
        REQUIRE(((bits[i / 64] >> (i % 64)) & 1U) == (bytes[i] == value ? 1U : 0U));
    }
  }
}

TEST_CASE("AP and AP@k in one pass equal the separate metrics bit for bit", "[eval]") {
  Rng rng(11);
  for (int trial = 0; trial < 40; ++trial) {
    const Index n = 1 + static_cast<Index>(uniform_below(rng, 3000));
    const std::uint64_t density = trial % 5 == 0 ? 0 : 10 + uniform_below(rng, 900);
    const Instance instance = random_instance(rng, n, 16, density);
    QueryRanking ranking;
    ranking.build(instance.distances.data(), instance.relevant.data(), n, 16);
    const std::vector<int> cutoffs = {1000, 1, 5, static_cast<int>(n), static_cast<int>(n) + 7, 1000, 50};
    const std::vector<std::size_t> order = detail::ascending_order(cutoffs);
    std::vector<double> at_k(cutoffs.size(), 0.0);
    const double ap = average_precision_with_cutoffs(ranking, cutoffs, order, at_k.data());
    CHECK(ap == average_precision(ranking));
    for (std::size_t i = 0; i < cutoffs.size(); ++i)
      CHECK(at_k[i] == average_precision_at_k(ranking, cutoffs[i]));
  }
}

TEST_CASE("evaluate: the relevance of class ids and of the same labels as multi-hot agree", "[eval]") {
  // Class ids take the byte-compare relevance; the same labels as a multi-hot matrix take the
  // label-word path. Both must give the identical report, with and without self exclusion.
  Rng rng(4);
  const Index n = 777, m = 70;
  BinaryCodes db(n, 20), q(m, 20);
  for (Index i = 0; i < n; ++i) db.row(i)[0] = rng() & 0xFFFFF & ~std::uint64_t{0x5555};
  for (Index i = 0; i < m; ++i) q.row(i)[0] = db.row(i * 3)[0];
  std::vector<std::int32_t> db_ids(static_cast<std::size_t>(n)), q_ids(static_cast<std::size_t>(m));
  for (auto& id : db_ids) id = static_cast<std::int32_t>(uniform_below(rng, 6));
  for (auto& id : q_ids) id = static_cast<std::int32_t>(uniform_below(rng, 7));  // class 6: no relevant item
  std::vector<std::uint8_t> db_hot(static_cast<std::size_t>(n) * 7, 0),
      q_hot(static_cast<std::size_t>(m) * 7, 0);
  for (Index i = 0; i < n; ++i)
    db_hot[static_cast<std::size_t>(i * 7 + db_ids[static_cast<std::size_t>(i)])] = 1;
  for (Index i = 0; i < m; ++i)
    q_hot[static_cast<std::size_t>(i * 7 + q_ids[static_cast<std::size_t>(i)])] = 1;
  const Labels ids_q = Labels::from_class_ids(q_ids, 7), ids_db = Labels::from_class_ids(db_ids, 7);
  const Labels hot_q = Labels::from_multi_hot(q_hot.data(), m, 7),
               hot_db = Labels::from_multi_hot(db_hot.data(), n, 7);
  for (bool exclude_self : {false, true}) {
    EvalOptions options;
    options.map_at = {10, 5000, 100};
    options.exclude_self = exclude_self;
    const EvalReport a = evaluate(q, db, ids_q, ids_db, options);
    const EvalReport b = evaluate(q, db, hot_q, hot_db, options);
    CHECK(a.map == b.map);
    CHECK(a.map_tie_aware == b.map_tie_aware);
    CHECK(a.map_at == b.map_at);
    CHECK(a.precision_at == b.precision_at);
    CHECK(a.ndcg_at == b.ndcg_at);
    CHECK(a.queries_without_relevant == b.queries_without_relevant);
    CHECK(a.queries_without_relevant > 0);
    for (std::size_t d = 0; d < a.pr.size(); ++d) {
      CHECK(a.pr[d].precision == b.pr[d].precision);
      CHECK(a.pr[d].recall == b.pr[d].recall);
    }
  }
}

TEST_CASE("the precision terms of AP sum bit for bit alike on every path", "[eval][simd]") {
  Rng rng(21);
  std::vector<Index> positions;
  Index next = 0;
  for (int i = 0; i < 1003; ++i) {
    next += 1 + static_cast<Index>(uniform_below(rng, 50));
    positions.push_back(next);
  }
  for (std::size_t from : {std::size_t{0}, std::size_t{3}, std::size_t{500}}) {
    for (std::size_t to : {from, from + 1, from + 7, std::size_t{1003}}) {
      const double scalar = detail::add_precision_terms(0.25, positions, from, to, SimdPath::scalar);
      for (const SimdPath path : kPaths) {
        if (!simd_path_supported(path)) continue;
        CHECK(detail::add_precision_terms(0.25, positions, from, to, path) == scalar);
      }
    }
  }
}

}  // namespace rlhash::test_byte_ranking
