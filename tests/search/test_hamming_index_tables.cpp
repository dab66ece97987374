#include <catch.hpp>
#include <test_util.hpp>

#include <cstring>
#include <fstream>
#include <vector>

#include "rlhash/search/hamming_index.hpp"
#include "search_test_util.hpp"

using namespace rlhash;

namespace {

std::vector<std::int64_t> ids_from(Index count, std::int64_t first) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  for (Index i = 0; i < count; ++i) ids[static_cast<std::size_t>(i)] = first + 3 * i;
  return ids;
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// Every method and the range search through the tables agree with the scan of the index.
void check_methods(const HammingIndex& index, const BinaryCodes& queries) {
  for (const Index k : {Index{1}, Index{9}, index.size() + 3}) {
    const KnnResult scan = index.knn(queries, k, 1, SimdPath::scalar);
    for (const SearchMethod method : {SearchMethod::scan, SearchMethod::mih, SearchMethod::automatic}) {
      const KnnResult got = index.knn(queries, k, method, 2);
      REQUIRE(got.indices == scan.indices);
      REQUIRE(got.distances == scan.distances);
    }
  }
  for (const int radius : {0, 5, index.bits() / 3}) {
    const RangeResult scan = index.range(queries, radius, 1, SimdPath::scalar);
    const RangeResult got = index.range(queries, radius, SearchMethod::mih, 2);
    REQUIRE(got.lims == scan.lims);
    REQUIRE(got.indices == scan.indices);
    REQUIRE(got.distances == scan.distances);
  }
}

}  // namespace

TEST_CASE("hamming index tables: follow add and remove, every method equals the scan", "[search][index][mih]") {
  Rng rng(2221);
  const BinaryCodes centres = test::random_codes(20, 72, rng);
  const BinaryCodes first = test::clustered_codes(700, centres, 3, rng);
  const BinaryCodes second = test::random_codes(300, 72, rng);
  const BinaryCodes queries = test::clustered_codes(9, centres, 3, rng);
  HammingIndex index(72);
  REQUIRE_THROWS_AS(index.knn(queries, 3, SearchMethod::mih), StateError);
  index.add(first, ids_from(700, 10));
  index.build_tables();
  REQUIRE(index.has_tables());
  REQUIRE(index.tables().size() == 700);
  check_methods(index, queries);
  index.add(second, ids_from(300, 5000));
  REQUIRE(index.tables().size() == 1000);
  check_methods(index, queries);
  REQUIRE(index.remove(ids_from(100, 10)) == 100);
  REQUIRE(index.tables().size() == 900);
  check_methods(index, queries);
  index.build_tables(6);
  REQUIRE(index.tables().substrings() == 6);
  check_methods(index, queries);
  const BinaryCodes other_bits = test::random_codes(2, 64, rng);
  REQUIRE_THROWS_AS(index.knn(other_bits, 3, SearchMethod::mih), InvalidArgument);
  REQUIRE_THROWS_AS(index.knn(other_bits, 3, SearchMethod::automatic), InvalidArgument);
  index.drop_tables();
  REQUIRE_FALSE(index.has_tables());
  REQUIRE_THROWS_AS(index.knn(queries, 3, SearchMethod::mih), StateError);
  REQUIRE_THROWS_AS(index.range(queries, 3, SearchMethod::mih), StateError);
  REQUIRE(index.knn(queries, 3, SearchMethod::automatic).indices == index.knn(queries, 3).indices);
}

TEST_CASE("hamming index tables: saved, loaded and mapped with the index; damage is refused", "[search][index][mih]") {
  test::TempDir dir;
  Rng rng(2222);
  HammingIndex index(40);
  index.add(test::random_codes(400, 40, rng), ids_from(400, 0));
  const BinaryCodes queries = test::random_codes(6, 40, rng);
  const std::string plain = dir.file("plain.rlhi");
  index.save(plain);
  index.build_tables(4);
  const std::string with_tables = dir.file("tables.rlhi");
  index.save(with_tables);
  const std::vector<char> bytes = read_file_bytes(with_tables);
  REQUIRE(read_file_bytes(plain)[8] == 1);  // version 1: readable by older builds
  REQUIRE(bytes[8] == 2);
  // 128 + 400*8 = 3328 (aligned), ids to 6528 (aligned), 4 tables of 400 u32.
  REQUIRE(bytes.size() == 6528 + 4 * 400 * 4);

  for (const HammingIndex& reread : {HammingIndex::load(with_tables), HammingIndex::open_mmap(with_tables)}) {
    REQUIRE(reread.has_tables());
    REQUIRE(reread.tables().substrings() == 4);
    check_methods(reread, queries);
  }
  REQUIRE_FALSE(HammingIndex::load(plain).has_tables());

  const std::string bad = dir.file("bad.rlhi");
  // A flipped byte in the tables: the checksum names the file.
  std::vector<char> flipped = bytes;
  flipped[6528 + 777] ^= 0x04;
  write_bytes(bad, flipped);
  CHECK_THROWS_WITH(HammingIndex::load(bad), Catch::Contains("bad.rlhi") && Catch::Contains("table"));
  CHECK_THROWS_AS(HammingIndex::open_mmap(bad), FormatError);
  // Truncated inside the tables.
  write_bytes(bad, std::vector<char>(bytes.begin(), bytes.end() - 4));
  CHECK_THROWS_AS(HammingIndex::load(bad), FormatError);
  CHECK_THROWS_AS(HammingIndex::open_mmap(bad), FormatError);
  // Positions swapped with consistent checksums: the rebuilt buckets are checked, not trusted.
  std::vector<char> swapped = bytes;
  std::uint32_t a = 0, b = 0;
  std::memcpy(&a, swapped.data() + 6528, 4);
  std::memcpy(&b, swapped.data() + 6528 + 399 * 4, 4);
  std::memcpy(swapped.data() + 6528, &b, 4);
  std::memcpy(swapped.data() + 6528 + 399 * 4, &a, 4);
  detail::IndexHeader h = detail::decode_index_header(bytes.data(), bytes.size(), "x");
  h.tables_crc = crc32(swapped.data() + 6528, 4 * 400 * 4);
  detail::encode_index_header(h, swapped.data());
  write_bytes(bad, swapped);
  CHECK_THROWS_WITH(HammingIndex::load(bad), Catch::Contains("bad.rlhi") && Catch::Contains("order"));
  // A header that claims more tables than the file holds.
  h = detail::decode_index_header(bytes.data(), bytes.size(), "x");
  h.substrings = 5;
  std::vector<char> lying = bytes;
  detail::encode_index_header(h, lying.data());
  write_bytes(bad, lying);
  CHECK_THROWS_WITH(HammingIndex::open_mmap(bad), Catch::Contains("bad.rlhi"));
}
