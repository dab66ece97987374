#include <catch.hpp>
#include <limits>
#include <vector>

#include "rlhash/search/knn.hpp"
#include "rlhash/search/multi_index.hpp"
#include "rlhash/search/range.hpp"
#include "rlhash/search/search_plan.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_multi_index {

namespace {

void require_same(const KnnResult& mih, const KnnResult& scan) {
  REQUIRE(mih.queries == scan.queries);
  REQUIRE(mih.k == scan.k);
  REQUIRE(mih.indices == scan.indices);
  REQUIRE(mih.distances == scan.distances);
}

void require_same(const RangeResult& mih, const RangeResult& scan) {
  REQUIRE(mih.queries == scan.queries);
  REQUIRE(mih.lims == scan.lims);
  REQUIRE(mih.indices == scan.indices);
  REQUIRE(mih.distances == scan.distances);
}

struct Data {
  BinaryCodes queries;
  BinaryCodes database;
};

/// Uniform codes, or codes around a few centres (queries near the same centres): many ties and
/// huge buckets, the case learned codes resemble.
Data make_data(int bits, Index n, Index nq, bool clustered, Rng& rng, int flip_log2 = 3,
               Index centre_count = 5) {
  if (!clustered) return {test::random_codes(nq, bits, rng), test::random_codes(n, bits, rng)};
  const BinaryCodes centres = test::random_codes(centre_count, bits, rng);
  return {test::clustered_codes(nq, centres, flip_log2, rng),
          test::clustered_codes(n, centres, flip_log2, rng)};
}

constexpr double inf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("multi-index: kNN equals the scan bit for bit, every k, bits, substrings, data", "[search][mih]") {
  Rng rng(2214);
  struct Case {
    int bits;
    Index n;
  };
  for (const bool clustered : {false, true})
    for (const Case c : {Case{1, 40}, Case{7, 300}, Case{16, 900}, Case{33, 500}, Case{64, 2000},
                         Case{65, 700}, Case{100, 400}, Case{128, 1500}, Case{130, 300}}) {
      const Data data = make_data(c.bits, c.n, 12, clustered, rng);
      // The default, one substring where it fits, and counts that do not divide the length.
      std::vector<int> counts = {0, (c.bits + 19) / 20};
      for (const int m : {3, 5, 7, 11})
        if (m <= c.bits && (c.bits + m - 1) / m <= 20) counts.push_back(m);
      for (const int m : counts) {
        const MultiIndex index(data.database, m, 2);
        for (const Index k : {Index{0}, Index{1}, Index{2}, Index{10}, Index{33}, c.n - 1, c.n, c.n + 7}) {
          INFO("bits " << c.bits << " n " << c.n << " clustered " << clustered << " substrings "
                       << index.substrings() << " k " << k);
          const KnnResult scan = knn_search(data.queries, data.database, k, 1, SimdPath::scalar);
          // With the scan fallback (the default) and without it where enumerating every bucket
          // is cheap: the tables alone must find every neighbour, k beyond N included.
          require_same(index.knn(data.queries, data.database, k, 2), scan);
          if (index.substring_bits(0) <= 12)
            require_same(index.knn(data.queries, data.database, k, 2, nullptr, inf), scan);
        }
      }
    }
}

TEST_CASE("multi-index: range search equals the scan for every radius", "[search][mih]") {
  Rng rng(2215);
  for (const bool clustered : {false, true})
    for (const int bits : {5, 32, 64, 77, 128}) {
      const Data data = make_data(bits, 800, 9, clustered, rng);
      for (const int m : {0, 3}) {
        const MultiIndex index(data.database, m == 0 ? 0 : std::max(m, (bits + 11) / 12), 1);
        for (const int radius : {0, 1, 2, 3, bits / 8, bits / 4, bits / 2, bits - 1, bits, bits + 5}) {
          INFO("bits " << bits << " clustered " << clustered << " substrings " << index.substrings()
                       << " radius " << radius);
          const RangeResult scan = range_search(data.queries, data.database, radius, 1, SimdPath::scalar);
          require_same(index.range(data.queries, data.database, radius, 3), scan);
          require_same(index.range(data.queries, data.database, radius, 3, nullptr, inf), scan);
        }
      }
    }
}

TEST_CASE("multi-index: a hand-checked 8-bit example and the pigeonhole bookkeeping", "[search][mih]") {
  // Two 4-bit substrings; the query 0x00. Code 0xFF is at distance 8, the others at 1, 1, 2, 2.
  BinaryCodes database(5, 8);
  const std::uint64_t values[] = {0xFF, 0x01, 0x10, 0x11, 0x03};
  for (Index i = 0; i < 5; ++i) database.row(i)[0] = values[i];
  BinaryCodes query(1, 8);
  const MultiIndex index(database, 2, 1);
  REQUIRE(index.substrings() == 2);
  REQUIRE(index.substring_bits(0) == 4);
  MultiIndexWork work;
  const KnnResult result = index.knn(query, database, 3, 1, &work, inf);
  REQUIRE(result.indices == std::vector<Index>{1, 2, 3});
  REQUIRE(result.distances == std::vector<std::int32_t>{1, 1, 2});
  // Radius 0 in both tables (2 probes) reaches 1; radius 1 in table 0 (4 probes) reaches 2,
  // where the third neighbour (distance 2) is known: 6 probes in all.
  REQUIRE(work.probes == 6);
  REQUIRE(work.candidates == 5);
  REQUIRE(work.accepted == 5);  // the 3-NN limit (9, then 2) passes every candidate
  // k = 1: radius 0 in both tables. Table 0 finds 0x10 (distance 1: the limit drops to 1); table
  // 1 finds 0x01 (1, accepted) and 0x03 (2, beyond the limit: verified but not accepted).
  MultiIndexWork nearest_work;
  const KnnResult nearest = index.knn(query, database, 1, 1, &nearest_work, inf);
  REQUIRE(nearest.indices == std::vector<Index>{1});
  REQUIRE(nearest_work.probes == 2);
  REQUIRE(nearest_work.candidates == 3);
  REQUIRE(nearest_work.accepted == 2);
  const RangeResult range = index.range(query, database, 1, 1);
  REQUIRE(range.indices == std::vector<Index>{1, 2});
}

TEST_CASE("multi-index: the cost model prices probes by the offsets' share outside the cache",
          "[search][mih]") {
  MihCostModel costs;
  costs.probe_ns = 30;
  costs.probe_miss_ns = 60;
  costs.cache_bytes = 1000;
  costs.candidate_ns = 2;
  costs.candidate_ns_per_word = 1;
  costs.accepted_ns = 10;
  REQUIRE(costs.probe_price(800) == 30);  // inside the cache
  REQUIRE(costs.probe_price(1000) == 30);
  REQUIRE(costs.probe_price(4000) == 75);  // three quarters outside: 30 + 60 * 0.75
  MultiIndexWork work{10, 100, 5};         // 10 probes, 100 candidates, 5 accepted
  REQUIRE(costs.mih_ns(work, 2, 4000) == 10 * 75 + 100 * (2 + 2) + 5 * 10);
  // The tables know their offsets: one 4-bit table of 16 buckets, 17 offsets of 4 bytes.
  BinaryCodes database(3, 4);
  REQUIRE(MultiIndex(database, 1, 1).offsets_bytes() == 17 * 4);
}

TEST_CASE("multi-index: default substrings follow log2 N", "[search][mih]") {
  REQUIRE(MultiIndex::default_substrings(1000000, 64) == 4);    // 19-bit substrings -> ceil(64/19)
  REQUIRE(MultiIndex::default_substrings(100000000, 64) == 3);  // 26-bit -> 3
  REQUIRE(MultiIndex::default_substrings(1000000, 128) == 7);
  REQUIRE(MultiIndex::default_substrings(10, 16) == 4);  // never shorter than 4 bits
  REQUIRE(MultiIndex::default_substrings(1, 3) == 1);
}

TEST_CASE("multi-index: saved positions rebuild the same tables; damaged ones are refused", "[search][mih]") {
  Rng rng(2216);
  const Data data = make_data(48, 600, 5, true, rng);
  const MultiIndex built(data.database, 3, 1);
  std::vector<std::vector<std::uint32_t>> positions;
  for (int s = 0; s < built.substrings(); ++s) positions.push_back(built.table_positions(s));
  const MultiIndex rebuilt = MultiIndex::from_positions(data.database, 3, positions, "tables.bin");
  require_same(rebuilt.knn(data.queries, data.database, 20), built.knn(data.queries, data.database, 20));

  auto swapped = positions;
  std::swap(swapped[1][0], swapped[1][599]);
  REQUIRE_THROWS_AS(MultiIndex::from_positions(data.database, 3, swapped, "tables.bin"), InvalidArgument);
  auto repeated = positions;
  repeated[2][5] = repeated[2][6];
  REQUIRE_THROWS_AS(MultiIndex::from_positions(data.database, 3, repeated, "tables.bin"), InvalidArgument);
  auto outside = positions;
  outside[0][0] = 600;
  REQUIRE_THROWS_AS(MultiIndex::from_positions(data.database, 3, outside, "tables.bin"), InvalidArgument);
  REQUIRE_THROWS_AS(MultiIndex::from_positions(data.database, 2, positions, "tables.bin"), InvalidArgument);
}

TEST_CASE("multi-index: bad arguments are refused", "[search][mih]") {
  Rng rng(2217);
  const Data data = make_data(64, 100, 2, false, rng);
  REQUIRE_THROWS_AS(MultiIndex(data.database, 1), InvalidArgument);   // 64-bit substrings
  REQUIRE_THROWS_AS(MultiIndex(data.database, 65), InvalidArgument);  // more substrings than bits
  REQUIRE_THROWS_AS(MultiIndex(data.database, -1), InvalidArgument);
  const MultiIndex index(data.database, 4);
  REQUIRE_THROWS_AS(index.knn(data.queries, data.database, -1), InvalidArgument);
  REQUIRE_THROWS_AS(index.range(data.queries, data.database, -1), InvalidArgument);
  const BinaryCodes other = test::random_codes(101, 64, rng);
  REQUIRE_THROWS_AS(index.knn(data.queries, other, 3), InvalidArgument);  // not the indexed codes
  const BinaryCodes short_queries = test::random_codes(2, 32, rng);
  REQUIRE_THROWS_AS(index.knn(short_queries, data.database, 3), InvalidArgument);
  REQUIRE_THROWS_AS(MultiIndex().knn(data.queries, data.database, 3), StateError);
}

TEST_CASE("search plan: every method returns the scan's result; auto picks by the pilot", "[search][mih]") {
  Rng rng(2218);
  for (const bool clustered : {false, true})
    for (const int bits : {24, 64, 128}) {
      const Data data = make_data(bits, 20000, 40, clustered, rng, 6, 1000);
      const MultiIndex tables(data.database, 0, 2);
      for (const Index k : {Index{1}, Index{10}, Index{100}}) {
        const KnnResult scan = knn_search(data.queries, data.database, k, 1);
        MultiIndexWork mih_work;
        for (const SearchMethod method : {SearchMethod::scan, SearchMethod::mih, SearchMethod::automatic}) {
          SearchPlan plan;
          INFO("bits " << bits << " clustered " << clustered << " k " << k << " method "
                       << to_string(method));
          require_same(planned_knn(data.queries, data.database, &tables, k, method, 2, &plan), scan);
          if (method == SearchMethod::mih) mih_work = plan.work;
          if (method != SearchMethod::automatic) continue;
          // Two pilot queries, in halves of one: the second runs unless the first overran.
          REQUIRE((plan.pilot_queries == 1 || plan.pilot_queries == 2));
          // Choosing the tables, auto does the multi-index search's work and no more: the pilot's
          // answers are kept.
          if (plan.used == SearchMethod::mih) {
            REQUIRE(plan.work.probes == mih_work.probes);
            REQUIRE(plan.work.candidates == mih_work.candidates);
            REQUIRE(plan.work.accepted == mih_work.accepted);
          }
          // Codes within a few bits of 1000 centres: the first buckets hold the neighbours. Random
          // 128-bit codes: the k-th neighbour is ~45 bits away, the scan wins.
          if (clustered && bits >= 64 && k < 100) REQUIRE(plan.used == SearchMethod::mih);
          if (!clustered && bits == 128) {
            REQUIRE(plan.used == SearchMethod::scan);
            REQUIRE(plan.pilot_queries == 1);  // the first half overran: no second half
          }
        }
      }
      require_same(planned_knn(data.queries, data.database, nullptr, 5, SearchMethod::automatic),
                   knn_search(data.queries, data.database, 5, 1));
      REQUIRE_THROWS_AS(planned_knn(data.queries, data.database, nullptr, 5, SearchMethod::mih), StateError);
    }
  REQUIRE(parse_search_method("auto") == SearchMethod::automatic);
  REQUIRE_THROWS_AS(parse_search_method("hnsw"), InvalidArgument);
}

}  // namespace rlhash::test_multi_index
