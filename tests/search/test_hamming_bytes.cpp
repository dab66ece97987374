// Byte distances (hamming_bytes.hpp): every path bit for bit against the bit-by-bit reference.
#include <catch.hpp>
#include <vector>

#include "rlhash/search/hamming_bytes.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hamming_bytes {

TEST_CASE("byte distances of packed 32-bit codes match the reference on every path", "[search][simd]") {
  Rng rng(31);
  for (int bits : {1, 5, 17, 31, 32}) {
    for (Index n : {Index{0}, Index{1}, Index{31}, Index{32}, Index{33}, Index{100}, Index{1000}}) {
      const BinaryCodes db = test::random_codes(n, bits, rng);
      BinaryCodes queries = test::random_codes(3, bits, rng);
      // Garbage in the unused high bits of the 64-bit word must not count.
      const PackedCodes32 packed = PackedCodes32::from(db);
      for (const SimdPath path : test::all_simd_paths()) {
        if (!simd_path_supported(path)) continue;
        for (Index q = 0; q < queries.size(); ++q) {
          std::vector<std::uint8_t> out(static_cast<std::size_t>(n) + 1, 200);
          const auto query_word =
              static_cast<std::uint32_t>(queries.row(q)[0]) | ~detail::low_bits_mask32(bits);
          hamming_distances_u8(query_word, packed, out.data(), path);
          const std::vector<int> expected = test::reference_distances(queries, q, db);
          INFO("path " << to_string(path) << " bits " << bits << " N " << n);
          for (Index i = 0; i < n; ++i)
            REQUIRE(int{out[static_cast<std::size_t>(i)]} == expected[static_cast<std::size_t>(i)]);
          REQUIRE(out.back() == 200);  // nothing written past N
        }
      }
    }
  }
}

TEST_CASE("byte distances of wider codes match the reference on every path", "[search][simd]") {
  Rng rng(32);
  for (int bits : {33, 64, 65, 128, 200, 254}) {
    const Index n = 1100;  // more than one 1024-code block
    const BinaryCodes db = test::random_codes(n, bits, rng);
    const BinaryCodes queries = test::random_codes(2, bits, rng);
    for (const SimdPath path : test::all_simd_paths()) {
      if (!simd_path_supported(path)) continue;
      for (Index q = 0; q < queries.size(); ++q) {
        std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
        hamming_distances_u8(queries.row(q), db, out.data(), path);
        const std::vector<int> expected = test::reference_distances(queries, q, db);
        INFO("path " << to_string(path) << " bits " << bits);
        for (Index i = 0; i < n; ++i)
          REQUIRE(int{out[static_cast<std::size_t>(i)]} == expected[static_cast<std::size_t>(i)]);
      }
    }
  }
}

TEST_CASE("byte distances refuse codes too wide for a byte", "[search]") {
  const BinaryCodes db(4, 255), q(1, 255);
  std::vector<std::uint8_t> out(4);
  CHECK_THROWS_WITH(hamming_distances_u8(q.row(0), db, out.data()), Catch::Contains("at most 254"));
  CHECK_THROWS_WITH(PackedCodes32::from(BinaryCodes(2, 33)), Catch::Contains("expected 1..32"));
}

}  // namespace rlhash::test_hamming_bytes
