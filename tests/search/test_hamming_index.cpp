#include <algorithm>
#include <catch.hpp>
#include <test_util.hpp>

#include <cstring>
#include <fstream>
#include <numeric>
#include <vector>

#include "rlhash/search/hamming_index.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hamming_index {

namespace {

std::vector<std::int64_t> make_ids(Index count, std::int64_t first, std::int64_t step) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(count));
  for (Index i = 0; i < count; ++i) ids[static_cast<std::size_t>(i)] = first + step * i;
  return ids;
}

void flip_byte(const std::string& path, std::size_t offset) {
  std::vector<char> bytes = read_file_bytes(path);
  bytes.at(offset) = static_cast<char>(bytes.at(offset) ^ 0x10);
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

/// The same answers as searching `codes` directly, with positions mapped through `ids`.
void check_search(const HammingIndex& index, const BinaryCodes& codes, const std::vector<std::int64_t>& ids,
                  const BinaryCodes& queries) {
  REQUIRE(index.size() == codes.size());
  for (const Index k : {Index{1}, Index{7}, codes.size() + 2}) {
    const KnnResult expected = knn_search(queries, codes, k, 1, SimdPath::scalar);
    const KnnResult got = index.knn(queries, k, 2);
    REQUIRE(got.distances == expected.distances);
    for (std::size_t j = 0; j < got.indices.size(); ++j)
      REQUIRE(got.indices[j] ==
              (expected.indices[j] < 0 ? -1 : ids[static_cast<std::size_t>(expected.indices[j])]));
  }
  const RangeResult expected = range_search(queries, codes, codes.bits() / 3, 1, SimdPath::scalar);
  const RangeResult got = index.range(queries, codes.bits() / 3, 2);
  REQUIRE(got.lims == expected.lims);
  REQUIRE(got.distances == expected.distances);
  for (std::size_t j = 0; j < got.indices.size(); ++j)
    REQUIRE(got.indices[j] == ids[static_cast<std::size_t>(expected.indices[j])]);
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

TEST_CASE("hamming index: add, search by id, remove", "[search][index]") {
  Rng rng(51);
  const BinaryCodes first = test::random_codes(300, 96, rng);
  const BinaryCodes second = test::random_codes(200, 96, rng);
  const BinaryCodes queries = test::random_codes(5, 96, rng);
  HammingIndex index(96);
  index.add(first, make_ids(300, 1000, 3));
  index.add(second, make_ids(200, -5, -1));
  CHECK(index.contains(1003));
  CHECK(index.contains(-5));
  CHECK_FALSE(index.contains(1001));

  BinaryCodes all(500, 96);
  std::memcpy(all.data(), first.data(), 300 * 2 * 8);
  std::memcpy(all.data() + 600, second.data(), 200 * 2 * 8);
  std::vector<std::int64_t> ids = make_ids(300, 1000, 3);
  const std::vector<std::int64_t> more = make_ids(200, -5, -1);
  ids.insert(ids.end(), more.begin(), more.end());
  check_search(index, all, ids, queries);

  // Remove every third code and one unknown id; the rest keep their order.
  std::vector<std::int64_t> doomed;
  std::vector<Index> kept;
  for (Index i = 0; i < 500; ++i) {
    if (i % 3 == 0)
      doomed.push_back(ids[static_cast<std::size_t>(i)]);
    else
      kept.push_back(i);
  }
  doomed.push_back(123456789);
  CHECK(index.remove(doomed) == 167);
  CHECK_FALSE(index.contains(ids[0]));
  std::vector<std::int64_t> kept_ids;
  for (const Index i : kept) kept_ids.push_back(ids[static_cast<std::size_t>(i)]);
  check_search(index, all.rows(kept), kept_ids, queries);
  // A removed id can be added again; duplicates and mismatches are rejected without change.
  index.add(first.rows({0}), {ids[0]});
  CHECK(index.contains(ids[0]));
  CHECK_THROWS_AS(index.add(first.rows({1, 2}), {77, 77}), InvalidArgument);
  CHECK_THROWS_AS(index.add(first.rows({1}), {ids[0]}), InvalidArgument);
  CHECK_THROWS_AS(index.add(first.rows({1}), {}), InvalidArgument);
  CHECK_THROWS_AS(index.add(BinaryCodes(1, 64), {5}), InvalidArgument);
  CHECK(index.size() == 334);
  CHECK_THROWS_AS(HammingIndex().knn(queries, 1), StateError);
  CHECK_THROWS_AS(HammingIndex(0), InvalidArgument);
}

TEST_CASE("hamming index: save / load / mmap round trip", "[search][index]") {
  test::TempDir dir;
  Rng rng(61);
  for (const int bits : {1, 64, 65, 128, 1024}) {
    const BinaryCodes codes = test::random_codes(257, bits, rng);
    const BinaryCodes queries = test::random_codes(4, bits, rng);
    const std::vector<std::int64_t> ids = make_ids(257, 1LL << 40, 7);
    HammingIndex index(bits);
    index.add(codes, ids);
    const std::string path = dir.file("index-" + std::to_string(bits) + ".rlhi");
    index.save(path);

    const HammingIndex loaded = HammingIndex::load(path);
    CHECK_FALSE(loaded.is_mapped());
    CHECK(loaded.bits() == bits);
    check_search(loaded, codes, ids, queries);

    HammingIndex mapped = HammingIndex::open_mmap(path);
    CHECK(mapped.is_mapped());
    CHECK(reinterpret_cast<std::uintptr_t>(mapped.codes().data) % 64 == 0);
    mapped.verify();
    check_search(mapped, codes, ids, queries);
    CHECK(mapped.contains(ids[100]));
    // Modifying a mapped index copies it into memory; the file stays as it was.
    CHECK(mapped.remove({ids[0], ids[1]}) == 2);
    CHECK_FALSE(mapped.is_mapped());
    check_search(mapped, codes.rows([] {
      std::vector<Index> rest(255);
      std::iota(rest.begin(), rest.end(), Index{2});
      return rest;
    }()),
                 std::vector<std::int64_t>(ids.begin() + 2, ids.end()), queries);
    check_search(HammingIndex::open_mmap(path), codes, ids, queries);
  }
  // An empty index round-trips too.
  HammingIndex empty(32);
  empty.save(dir.file("empty.rlhi"));
  CHECK(HammingIndex::load(dir.file("empty.rlhi")).size() == 0);
  CHECK(HammingIndex::open_mmap(dir.file("empty.rlhi")).knn(BinaryCodes(1, 32), 2).indices ==
        std::vector<Index>{-1, -1});
}

TEST_CASE("hamming index: corrupted, foreign and truncated files are format errors", "[search][index]") {
  test::TempDir dir;
  Rng rng(71);
  HammingIndex index(100);
  index.add(test::random_codes(50, 100, rng), make_ids(50, 0, 1));
  const std::string good = dir.file("good.rlhi");
  index.save(good);
  const std::vector<char> bytes = read_file_bytes(good);
  // 128-byte header + 800 bytes of codes = 928, ids start at the next multiple of 64 (960).
  REQUIRE(bytes.size() == 960 + 50 * 8);

  const std::string bad = dir.file("bad.rlhi");
  // Header corruption: caught by open_mmap and load.
  for (const std::size_t offset :
       {std::size_t{0}, std::size_t{9}, std::size_t{17}, std::size_t{30}, std::size_t{100}}) {
    write_bytes(bad, bytes);
    flip_byte(bad, offset);
    CHECK_THROWS_AS(HammingIndex::load(bad), FormatError);
    CHECK_THROWS_AS(HammingIndex::open_mmap(bad), FormatError);
  }
  // Block corruption: load rejects; open_mmap maps it (header only) and verify() rejects.
  for (const std::size_t offset : {std::size_t{128}, std::size_t{128 + 50 * 16 - 1}, bytes.size() - 1}) {
    write_bytes(bad, bytes);
    flip_byte(bad, offset);
    CHECK_THROWS_WITH(HammingIndex::load(bad), Catch::Contains("bad.rlhi") && Catch::Contains("checksum"));
    const HammingIndex mapped = HammingIndex::open_mmap(bad);
    CHECK_THROWS_AS(mapped.verify(), FormatError);
  }
  // Truncated and padded files.
  for (const std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{64}, std::size_t{127},
                                 std::size_t{128}, bytes.size() - 8, bytes.size() - 1}) {
    write_bytes(bad, std::vector<char>(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size)));
    CHECK_THROWS_AS(HammingIndex::load(bad), FormatError);
    CHECK_THROWS_AS(HammingIndex::open_mmap(bad), FormatError);
  }
  std::vector<char> padded = bytes;
  padded.push_back(0);
  write_bytes(bad, padded);
  CHECK_THROWS_AS(HammingIndex::open_mmap(bad), FormatError);
  // A foreign file.
  std::vector<char> foreign(4096, 'x');
  write_bytes(bad, foreign);
  CHECK_THROWS_WITH(HammingIndex::open_mmap(bad), Catch::Contains("not an rlhash"));
  CHECK_THROWS_AS(HammingIndex::load(bad), FormatError);
  CHECK_THROWS_AS(HammingIndex::load(dir.file("missing.rlhi")), IoError);
  CHECK_THROWS_AS(HammingIndex::open_mmap(dir.file("missing.rlhi")), IoError);
}

TEST_CASE("hamming index tables: follow add and remove, every method equals the scan",
          "[search][index][mih]") {
  Rng rng(2221);
  const BinaryCodes centres = test::random_codes(20, 72, rng);
  const BinaryCodes first = test::clustered_codes(700, centres, 3, rng);
  const BinaryCodes second = test::random_codes(300, 72, rng);
  const BinaryCodes queries = test::clustered_codes(9, centres, 3, rng);
  HammingIndex index(72);
  REQUIRE_THROWS_AS(index.knn(queries, 3, SearchMethod::mih), StateError);
  index.add(first, make_ids(700, 10, 3));
  index.build_tables();
  REQUIRE(index.has_tables());
  REQUIRE(index.tables().size() == 700);
  check_methods(index, queries);
  index.add(second, make_ids(300, 5000, 3));
  REQUIRE(index.tables().size() == 1000);
  check_methods(index, queries);
  REQUIRE(index.remove(make_ids(100, 10, 3)) == 100);
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

TEST_CASE("hamming index tables: saved, loaded and mapped with the index; damage is refused",
          "[search][index][mih]") {
  test::TempDir dir;
  Rng rng(2222);
  HammingIndex index(40);
  index.add(test::random_codes(400, 40, rng), make_ids(400, 0, 3));
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
  char lying_header[detail::index_header_size];
  detail::encode_index_header(h, lying_header);
  std::copy(lying_header, lying_header + sizeof lying_header, lying.begin());
  write_bytes(bad, lying);
  CHECK_THROWS_WITH(HammingIndex::open_mmap(bad), Catch::Contains("bad.rlhi"));
}

}  // namespace rlhash::test_hamming_index
