#include <catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hamming {

namespace {

const std::vector<int> kWidths = {1,   2,   63,  64,  65,  100, 127, 128, 129, 191,  192,  200,
                                  255, 256, 257, 320, 448, 511, 512, 513, 600, 1000, 1023, 1024};
const std::vector<Index> kCounts = {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100};

void check_all_paths(const BinaryCodes& queries, const CodesView& database, const BinaryCodes& reference_db) {
  for (const SimdPath path : test::all_simd_paths()) {
    if (!simd_path_supported(path)) {
      WARN("SIMD path " << to_string(path) << " not supported by this CPU; skipped");
      continue;
    }
    for (Index q = 0; q < queries.size(); ++q) {
      std::vector<std::int32_t> out(static_cast<std::size_t>(database.size) + 1, -7);
      hamming_distances(queries.row(q), database, out.data(), path);
      const std::vector<int> expected = test::reference_distances(queries, q, reference_db);
      INFO("path " << to_string(path) << " bits " << database.bits << " N " << database.size << " query "
                   << q);
      for (Index i = 0; i < database.size; ++i)
        REQUIRE(out[static_cast<std::size_t>(i)] == expected[static_cast<std::size_t>(i)]);
      REQUIRE(out.back() == -7);  // nothing written past N
    }
  }
}

}  // namespace

TEST_CASE("cpu features: names, parsing and the RLHASH_SIMD override", "[search][cpu]") {
  CHECK(std::string(to_string(SimdPath::scalar)) == "scalar");
  CHECK(std::string(to_string(SimdPath::avx2)) == "avx2");
  CHECK(std::string(to_string(SimdPath::avx512)) == "avx512");
  CHECK(std::string(to_string(SimdPath::xsimd)) == "xsimd");
  CHECK(parse_simd_path("avx2") == SimdPath::avx2);
  CHECK(parse_simd_path("xsimd") == SimdPath::xsimd);
#if defined(RLHASH_HAS_XSIMD) && (defined(__x86_64__) || defined(__aarch64__))
  // The portable kernels are compiled in wherever the build links xsimd (SSE2 or NEON).
  CHECK(simd_path_supported(SimdPath::xsimd));
#endif
  CHECK_THROWS_AS(parse_simd_path("sse9"), InvalidArgument);
  CHECK(simd_path_supported(SimdPath::scalar));
  CHECK(simd_path_supported(best_simd_path()));
  // AVX-512 implies AVX2 on every CPU that has VPOPCNTDQ.
  if (simd_path_supported(SimdPath::avx512)) CHECK(simd_path_supported(SimdPath::avx2));
  WARN("best SIMD path on this machine: " << to_string(best_simd_path()));

  const char* saved = std::getenv("RLHASH_SIMD");
  const std::string saved_value = saved ? saved : "";
  ::setenv("RLHASH_SIMD", "scalar", 1);
  CHECK(simd_path_from_environment() == SimdPath::scalar);
  ::setenv("RLHASH_SIMD", "fastest", 1);
  CHECK_THROWS_WITH(simd_path_from_environment(), Catch::Contains("RLHASH_SIMD"));
  CHECK_THROWS_AS(simd_path_from_environment(), InvalidArgument);
  for (const SimdPath path : test::all_simd_paths())
    if (!simd_path_supported(path)) {
      ::setenv("RLHASH_SIMD", to_string(path), 1);
      CHECK_THROWS_WITH(simd_path_from_environment(), Catch::Contains("RLHASH_SIMD"));
    }
  ::unsetenv("RLHASH_SIMD");
  CHECK(simd_path_from_environment() == best_simd_path());
  if (saved) ::setenv("RLHASH_SIMD", saved_value.c_str(), 1);
}

TEST_CASE("hamming: scalar reference distance", "[search][hamming]") {
  BinaryCodes codes(2, 130);
  CHECK(hamming_distance(codes.row(0), codes.row(1), 130) == 0);
  codes.set(1, 0, true);
  codes.set(1, 64, true);
  codes.set(1, 129, true);
  CHECK(hamming_distance(codes.row(0), codes.row(1), 130) == 3);
  CHECK(hamming_distance(codes, 0, codes, 1) == 3);
  // Bits past `bits` are ignored.
  CHECK(hamming_distance(codes.row(0), codes.row(1), 129) == 2);
  CHECK_THROWS_AS(hamming_distance(codes.row(0), codes.row(1), 0), InvalidArgument);
  CHECK_THROWS_AS(hamming_distance(codes, 0, codes, 2), InvalidArgument);
}

TEST_CASE("hamming: every SIMD path equals the bit-by-bit reference on random codes", "[search][hamming]") {
  Rng rng(11);
  for (const int bits : kWidths)
    for (const Index n : kCounts) {
      const BinaryCodes database = test::random_codes(n, bits, rng);
      const BinaryCodes queries = test::random_codes(2, bits, rng);
      check_all_paths(queries, database, database);
    }
}

TEST_CASE("hamming: edge cases (equal codes, complements, one code)", "[search][hamming]") {
  for (const int bits : {1, 63, 64, 65, 127, 128, 200, 1024}) {
    // All-equal database, a query equal to it and its complement: distances 0 and bits.
    BinaryCodes database(37, bits);
    BinaryCodes queries(2, bits);
    for (Index i = 0; i < database.size(); ++i)
      for (int j = 0; j < bits; j += 3) database.set(i, j, true);
    for (int j = 0; j < bits; ++j) {
      queries.set(0, j, database.get(0, j));
      queries.set(1, j, !database.get(0, j));
    }
    check_all_paths(queries, database, database);
    const std::vector<int> complement = test::reference_distances(queries, 1, database);
    CHECK(complement.front() == bits);
    check_all_paths(queries, database.rows({5}), database.rows({5}));
  }
}

TEST_CASE("hamming: garbage in unused tail bits never counts", "[search][hamming]") {
  Rng rng(5);
  for (const int bits : {1, 63, 65, 127, 200, 1000}) {
    const BinaryCodes clean = test::random_codes(29, bits, rng);
    const BinaryCodes queries = test::random_codes(2, bits, rng);
    // The same codes with every unused bit set, as a foreign memory-mapped file could hold.
    std::vector<std::uint64_t> dirty(clean.data(), clean.data() + clean.size() * clean.words());
    for (Index i = 0; i < clean.size(); ++i)
      dirty[static_cast<std::size_t>((i + 1) * clean.words() - 1)] |= ~clean.tail_mask();
    std::vector<std::uint64_t> dirty_query(queries.row(0), queries.row(0) + queries.words());
    dirty_query.back() |= ~clean.tail_mask();
    check_all_paths(queries, CodesView(dirty.data(), clean.size(), bits), clean);
    for (const SimdPath path : test::all_simd_paths()) {
      if (!simd_path_supported(path)) continue;
      std::vector<std::int32_t> out(static_cast<std::size_t>(clean.size()));
      hamming_distances(dirty_query.data(), CodesView(dirty.data(), clean.size(), bits), out.data(), path);
      const std::vector<int> expected = test::reference_distances(queries, 0, clean);
      for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == expected[i]);
    }
  }
}

TEST_CASE("hamming: distance matrix equals per-query distances", "[search][hamming]") {
  Rng rng(3);
  for (const int bits : {32, 64, 128, 256, 300}) {
    const BinaryCodes database = test::random_codes(5000, bits, rng);
    const BinaryCodes queries = test::random_codes(7, bits, rng);
    for (const int threads : {1, 2, 3}) {
      std::vector<std::int32_t> matrix(static_cast<std::size_t>(queries.size() * database.size()));
      hamming_distance_matrix(queries, database, matrix.data(), threads);
      for (Index q = 0; q < queries.size(); ++q) {
        std::vector<std::int32_t> row(static_cast<std::size_t>(database.size()));
        hamming_distances(queries.row(q), database, row.data(), SimdPath::scalar);
        REQUIRE(std::equal(row.begin(), row.end(), matrix.begin() + q * database.size()));
      }
    }
  }
  const BinaryCodes a(3, 64), b(3, 65);
  std::vector<std::int32_t> out(9);
  CHECK_THROWS_AS(hamming_distance_matrix(a, b, out.data()), InvalidArgument);
  CHECK_THROWS_AS(hamming_distance_matrix(a, a, out.data(), -1), InvalidArgument);
}

}  // namespace rlhash::test_hamming
