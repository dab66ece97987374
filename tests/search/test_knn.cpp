#include <catch.hpp>
#include <vector>

#include "rlhash/search/knn.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_knn {

namespace {

/// The brute-force answer: per query, the reference distances and their stable-sort order.
struct BruteForce {
  std::vector<std::vector<int>> distances;
  std::vector<std::vector<Index>> order;
  BruteForce(const BinaryCodes& queries, const BinaryCodes& database) {
    for (Index q = 0; q < queries.size(); ++q) {
      distances.push_back(test::reference_distances(queries, q, database));
      order.push_back(test::stable_order(distances.back()));
    }
  }
};

/// kNN must equal the first k of the stable sort, padded with -1.
void check_against_brute_force(const KnnResult& result, const BruteForce& truth, Index k) {
  const auto nq = static_cast<Index>(truth.order.size());
  REQUIRE(result.queries == nq);
  REQUIRE(result.k == k);
  REQUIRE(result.indices.size() == static_cast<std::size_t>(nq * k));
  REQUIRE(result.distances.size() == result.indices.size());
  for (Index q = 0; q < nq; ++q) {
    const auto& order = truth.order[static_cast<std::size_t>(q)];
    const auto& d = truth.distances[static_cast<std::size_t>(q)];
    std::vector<Index> indices(static_cast<std::size_t>(k), -1);
    std::vector<std::int32_t> distances(static_cast<std::size_t>(k), -1);
    for (std::size_t j = 0; j < indices.size() && j < order.size(); ++j) {
      indices[j] = order[j];
      distances[j] = d[static_cast<std::size_t>(order[j])];
    }
    INFO("query " << q << " k " << k << " N " << order.size());
    REQUIRE(std::equal(indices.begin(), indices.end(), result.indices.begin() + q * k));
    REQUIRE(std::equal(distances.begin(), distances.end(), result.distances.begin() + q * k));
  }
}

void check_against_brute_force(const KnnResult& result, const BinaryCodes& queries,
                               const BinaryCodes& database, Index k) {
  check_against_brute_force(result, BruteForce(queries, database), k);
}

}  // namespace

TEST_CASE("knn: batch search equals a brute-force stable sort, every path, ties included", "[search][knn]") {
  Rng rng(21);
  struct Case {
    int bits;
    Index n;
  };
  // Few bits -> massive ties; clustered data -> many candidates pass the filter (compaction).
  for (const Case c : {Case{1, 50}, Case{4, 300}, Case{8, 2000}, Case{63, 700}, Case{64, 3000}, Case{65, 500},
                       Case{128, 2500}, Case{200, 400}, Case{256, 900}, Case{1024, 150}}) {
    for (const bool clustered : {false, true}) {
      const BinaryCodes centres = test::random_codes(3, c.bits, rng);
      const BinaryCodes database =
          clustered ? test::clustered_codes(c.n, centres, 4, rng) : test::random_codes(c.n, c.bits, rng);
      const BinaryCodes queries =
          clustered ? test::clustered_codes(9, centres, 4, rng) : test::random_codes(9, c.bits, rng);
      const BruteForce truth(queries, database);
      for (const SimdPath path : test::all_simd_paths()) {
        if (!simd_path_supported(path)) {
          WARN("SIMD path " << to_string(path) << " not supported by this CPU; skipped");
          continue;
        }
        for (const Index k : {Index{1}, Index{2}, Index{10}, Index{100}, c.n - 1, c.n, c.n + 7})
          for (const int threads : {1, 3}) {
            INFO("path " << to_string(path) << " threads " << threads << " clustered " << clustered);
            check_against_brute_force(knn_search(queries, database, k, threads, path), truth, k);
          }
      }
    }
  }
}

TEST_CASE("knn: batches past one chunk of queries per thread equal the brute force", "[search][knn]") {
  Rng rng(23);
  const BinaryCodes database = test::random_codes(1500, 40, rng);
  // 2 * 256 + 89 queries: one thread scans three chunks, the last one partial; three threads one each.
  const BinaryCodes queries = test::random_codes(2 * detail::knn_query_chunk + 89, 40, rng);
  const BruteForce truth(queries, database);
  for (const Index k : {Index{1}, Index{30}, Index{1501}})
    for (const int threads : {1, 3}) {
      INFO("k " << k << " threads " << threads);
      check_against_brute_force(knn_search(queries, database, k, threads), truth, k);
    }
}

TEST_CASE("knn: k = 0, empty database, empty queries, one code", "[search][knn]") {
  Rng rng(2);
  const BinaryCodes database = test::random_codes(10, 64, rng);
  const BinaryCodes queries = test::random_codes(3, 64, rng);
  const KnnResult none = knn_search(queries, database, 0);
  CHECK(none.indices.empty());
  CHECK(none.k == 0);
  const BinaryCodes empty(0, 64);
  check_against_brute_force(knn_search(queries, empty, 5), queries, empty, 5);
  CHECK(knn_search(empty, database, 5).indices.empty());
  const BinaryCodes one = database.rows({4});
  check_against_brute_force(knn_search(queries, one, 3), queries, one, 3);
  CHECK(knn_search_one(queries.row(0), empty, 4).indices == std::vector<Index>(4, -1));
}

TEST_CASE("knn: invalid arguments are library errors", "[search][knn]") {
  const BinaryCodes a(3, 64), b(3, 32);
  CHECK_THROWS_AS(knn_search(a, b, 1), InvalidArgument);
  CHECK_THROWS_AS(knn_search(a, a, -1), InvalidArgument);
  CHECK_THROWS_AS(knn_search(a, a, 1, -2), InvalidArgument);
  CHECK_THROWS_AS(knn_search_one(nullptr, a, 1), InvalidArgument);
}

TEST_CASE("knn: single-query threaded search equals the batch search", "[search][knn]") {
  Rng rng(8);
  // Big enough for several 64K-code shares; 12-bit codes make ties cross the share borders.
  for (const int bits : {12, 64, 128}) {
    const BinaryCodes centres = test::random_codes(4, bits, rng);
    const BinaryCodes database =
        bits == 12 ? test::random_codes(300000, bits, rng) : test::clustered_codes(140000, centres, 3, rng);
    const BinaryCodes queries = test::clustered_codes(3, centres, 3, rng);
    for (const Index k : {Index{1}, Index{100}, Index{5000}}) {
      const KnnResult batch = knn_search(queries, database, k, 1);
      for (Index q = 0; q < queries.size(); ++q)
        for (const int threads : {1, 2, 3, 4}) {
          const KnnResult one = knn_search_one(queries.row(q), database, k, threads);
          INFO("bits " << bits << " k " << k << " threads " << threads);
          REQUIRE(std::equal(one.indices.begin(), one.indices.end(), batch.indices.begin() + q * k));
          REQUIRE(std::equal(one.distances.begin(), one.distances.end(), batch.distances.begin() + q * k));
        }
    }
    // Spot-check the batch itself against brute force on the first query.
    check_against_brute_force(knn_search(queries.rows({0}), database, 50, 2), queries.rows({0}), database,
                              50);
  }
}

}  // namespace rlhash::test_knn
