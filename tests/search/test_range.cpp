#include <catch.hpp>
#include <vector>

#include "rlhash/search/hash_lookup.hpp"
#include "rlhash/search/range.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_range {

namespace {

/// Per query, the database indices in stable order of reference distance, and the distances.
struct Truth {
  std::vector<std::vector<int>> distances;
  std::vector<std::vector<Index>> order;
  Truth(const BinaryCodes& queries, const BinaryCodes& database) {
    for (Index q = 0; q < queries.size(); ++q) {
      distances.push_back(test::reference_distances(queries, q, database));
      order.push_back(test::stable_order(distances.back()));
    }
  }
};

void check_range(const RangeResult& result, const Truth& truth, int radius) {
  const auto nq = static_cast<Index>(truth.order.size());
  REQUIRE(result.queries == nq);
  REQUIRE(result.lims.size() == static_cast<std::size_t>(nq) + 1);
  REQUIRE(result.lims.front() == 0);
  REQUIRE(result.indices.size() == static_cast<std::size_t>(result.lims.back()));
  REQUIRE(result.distances.size() == result.indices.size());
  for (Index q = 0; q < nq; ++q) {
    const auto& d = truth.distances[static_cast<std::size_t>(q)];
    std::vector<Index> indices;
    std::vector<std::int32_t> distances;
    for (const Index i : truth.order[static_cast<std::size_t>(q)])
      if (d[static_cast<std::size_t>(i)] <= radius) {
        indices.push_back(i);
        distances.push_back(d[static_cast<std::size_t>(i)]);
      }
    INFO("query " << q << " radius " << radius);
    REQUIRE(result.count(q) == static_cast<Index>(indices.size()));
    const auto first = result.lims[static_cast<std::size_t>(q)];
    REQUIRE(std::equal(indices.begin(), indices.end(), result.indices.begin() + first));
    REQUIRE(std::equal(distances.begin(), distances.end(), result.distances.begin() + first));
  }
}

}  // namespace

TEST_CASE("range: equals brute-force range search for every path", "[search][range]") {
  Rng rng(31);
  for (const int bits : {1, 8, 63, 64, 65, 128, 200, 1024}) {
    const Index n = bits <= 8 ? 300 : 1500;
    const BinaryCodes centres = test::random_codes(4, bits, rng);
    const BinaryCodes database = test::clustered_codes(n, centres, 4, rng);
    const BinaryCodes queries = test::clustered_codes(6, centres, 4, rng);
    const Truth truth(queries, database);
    for (const SimdPath path : test::all_simd_paths()) {
      if (!simd_path_supported(path)) {
        WARN("SIMD path " << to_string(path) << " not supported by this CPU; skipped");
        continue;
      }
      for (const int radius : {0, 1, 2, bits / 8, bits / 3, bits, bits + 5})
        for (const int threads : {1, 2})
          check_range(range_search(queries, database, radius, threads, path), truth, radius);
    }
  }
  const BinaryCodes a(2, 64);
  CHECK_THROWS_AS(range_search(a, a, -1), InvalidArgument);
  const RangeResult empty = range_search(a, BinaryCodes(0, 64), 3);
  CHECK(empty.lims == std::vector<std::int64_t>{0, 0, 0});
}

TEST_CASE("hash lookup: equals brute-force range search (direct probing and multi-index)", "[search][hash]") {
  Rng rng(41);
  for (const int bits : {1, 2, 12, 32, 63, 64, 65, 128, 200, 1024}) {
    // Database codes about 1.5 bits and queries about 0.5 bits from shared centres, so radius-2
    // balls are well populated (checked below).
    int flip = 1;
    while ((bits >> flip) > 2) ++flip;
    const BinaryCodes centres = test::random_codes(5, bits, rng);
    const BinaryCodes database = test::clustered_codes(bits <= 2 ? 20 : 2000, centres, flip, rng);
    const BinaryCodes queries = test::clustered_codes(12, centres, flip + 1, rng);
    const Truth truth(queries, database);
    // 0 = automatic; then direct probing (where it fits in 64 bits) and multi-index splits.
    std::vector<int> substring_choices = {0};
    if (bits >= 12) substring_choices.insert(substring_choices.end(), {1, 2, 3, 5});
    for (const int substrings : substring_choices) {
      if (substrings != 0 && (bits + substrings - 1) / substrings > 64) continue;
      const HashLookupIndex index(database, 2, substrings);
      CHECK(index.size() == database.size());
      for (const int radius : {0, 1, 2}) {
        INFO("bits " << bits << " substrings " << index.substrings() << " radius " << radius);
        const RangeResult found = index.search(queries, radius, 2);
        check_range(found, truth, radius);
        if (radius == 2 && bits >= 12) CHECK(found.lims.back() > 10 * queries.size());  // not vacuous
      }
    }
  }
  const BinaryCodes codes(4, 64);
  CHECK_THROWS_AS(HashLookupIndex(codes, 3), InvalidArgument);
  CHECK_THROWS_AS(HashLookupIndex(BinaryCodes(4, 200), 2, 1), InvalidArgument);  // 200-bit substring
  const HashLookupIndex index(codes, 1);
  CHECK_THROWS_AS(index.search(codes, 2), InvalidArgument);
  CHECK_THROWS_AS(index.search(BinaryCodes(1, 32), 1), InvalidArgument);
  CHECK_THROWS_AS(HashLookupIndex().search(codes, 0), StateError);
}

}  // namespace rlhash::test_range
