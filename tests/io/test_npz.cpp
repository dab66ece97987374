#include <catch.hpp>
#include <test_util.hpp>

#include <cstring>

#include "rlhash/core/serialize.hpp"
#include "rlhash/io/npz.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_npz {
using test::require_error;

namespace {
// np.savez(x=np.arange(3, dtype='<i4'), y=np.array([True, False])) and
// np.savez_compressed(a=np.arange(6, dtype='<f4').reshape(3, 2)), as numpy 1.24 writes them
// (zip64 extra fields in the local headers, as np.savez always forces).
// npz_stored (504 bytes)
const std::string npz_stored(
    "PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x02\xec\xbd\xa9\x8c\x00\x00\x00\x8c\x00\x00\x00\x05\x00"
    "\x14\x00x.npy\x01\x00\x10\x00\x8c\x00\x00\x00\x00\x00\x00\x00\x8c\x00\x00\x00\x00\x00\x00\x00\x93NUMP"
    "Y\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }                              "
    "                              \x0a\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00PK\x03\x04\x14\x00\x00"
    "\x00\x00\x00\x00\x00!\x00\xee\x19\xbb]\x82\x00\x00\x00\x82\x00\x00\x00\x05\x00\x14\x00y.npy\x01\x00\x10"
    "\x00\x82\x00\x00\x00\x00\x00\x00\x00\x82\x00\x00\x00\x00\x00\x00\x00\x93NUMPY\x01\x00v\x00{'descr': '"
    "|b1', 'fortran_order': False, 'shape': (2,), }                                                       "
    "     \x0a\x01\x00PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\x02\xec\xbd\xa9\x8c\x00\x00\x00"
    "\x8c\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\x00\x00\x00\x00x.npyPK\x01\x02"
    "\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00!\x00\xee\x19\xbb]\x82\x00\x00\x00\x82\x00\x00\x00\x05\x00\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x01\xc3\x00\x00\x00y.npyPK\x05\x06\x00\x00\x00\x00\x02\x00\x02"
    "\x00"
    "f\x00\x00\x00|\x01\x00\x00\x00\x00",
    504);
// npz_deflate (213 bytes)
const std::string npz_deflate(
    "PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00\xcc\xca\x9c\xbdU\x00\x00\x00\x98\x00\x00\x00\x05\x00\x14"
    "\x00"
    "a.npy\x01\x00\x10\x00\x98\x00\x00\x00\x00\x00\x00\x00U\x00\x00\x00\x00\x00\x00\x00\x9b\xec\x17"
    "\xea\x1b\x10\xc9\xc8P\xc6P\xad\x9e\x92Z\x9c\x5c\xa4n\xa5\xa0n\x93"
    "f\xa2\xae\xa3\xa0\x9e\x96_TR\x94\x98"
    "\x17\x9f_\x94\x92\x0a\x12wK\xcc)N\x05\x8a\x17g$\x16\xa4\x02\xf9\x1a\xc6:\x0a"
    "F\x9a:\x0a\xb5\x0a"
    "d"
    "\x03.\x06"
    "0h\xb0\x07\x12\x0e@\x04\xc4\x0d@\xbc\xc0\x01\x00PK\x01\x02\x14\x03\x14\x00\x00\x00\x08\x00"
    "\x00\x00!\x00\xcc\xca\x9c\xbdU\x00\x00\x00\x98\x00\x00\x00\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00\x80\x01\x00\x00\x00\x00"
    "a.npyPK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00"
    "3\x00\x00\x00\x8c\x00"
    "\x00\x00\x00\x00",
    213);

template <class T>
std::vector<T> values_of(const NdArray& array) {
  const T* data = array.data<T>();
  return std::vector<T>(data, data + array.size());
}

/// `bytes` with the little-endian `value` written over `size` bytes at `offset`.
std::string poke(std::string bytes, std::size_t offset, std::uint64_t value, std::size_t size) {
  REQUIRE(offset + size <= bytes.size());
  for (std::size_t b = 0; b < size; ++b) bytes[offset + b] = static_cast<char>((value >> (8 * b)) & 0xFF);
  return bytes;
}

std::size_t central_entry(const std::string& zip, int k) {
  std::size_t at = 0;
  for (int i = 0; i <= k; ++i) {
    at = zip.find("PK\x01\x02", i == 0 ? 0 : at + 4);
    REQUIRE(at != std::string::npos);
  }
  return at;
}

void require_npz_error(const std::string& bytes, const std::string& name,
                       std::initializer_list<std::string> parts) {
  require_error(
      [&] {
        const NpzArchive archive(std::vector<char>(bytes.begin(), bytes.end()), "mem.npz");
        archive.read(name);
      },
      parts);
}

/// A one-entry zip whose sizes and offset live only in zip64 extra fields and whose end record
/// points to a zip64 end record, built field by field from APPNOTE 6.3.
/// `method` and `declared` (the uncompressed size; 0: the real one) let tests make it lie.
std::string zip64_archive(const std::vector<char>& npy, std::uint16_t method = 0,
                          std::uint64_t declared = 0) {
  if (declared == 0) declared = npy.size();
  const std::string name = "z.npy";
  const std::uint32_t crc = crc32(npy.data(), npy.size());
  ByteWriter out;
  out.put<std::uint32_t>(0x04034b50);
  for (std::uint16_t v : {45, 0, 0, 0, 0x21}) out.put<std::uint16_t>(v);
  out.put<std::uint32_t>(crc);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint16_t>(static_cast<std::uint16_t>(name.size()));
  out.put<std::uint16_t>(20);
  out.append(name.data(), name.size());
  out.put<std::uint16_t>(1);
  out.put<std::uint16_t>(16);
  out.put<std::uint64_t>(npy.size());
  out.put<std::uint64_t>(npy.size());
  out.append(npy.data(), npy.size());
  const std::uint64_t directory_offset = out.bytes().size();
  out.put<std::uint32_t>(0x02014b50);
  for (std::uint16_t v : {45, 45, 0}) out.put<std::uint16_t>(v);
  out.put<std::uint16_t>(method);
  for (std::uint16_t v : {0, 0x21}) out.put<std::uint16_t>(v);
  out.put<std::uint32_t>(crc);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint16_t>(static_cast<std::uint16_t>(name.size()));
  out.put<std::uint16_t>(4 + 5 + 4 + 24);  // an extended-timestamp field, then zip64
  for (std::uint16_t v : {0, 0, 0}) out.put<std::uint16_t>(v);
  out.put<std::uint32_t>(0);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.append(name.data(), name.size());
  out.put<std::uint16_t>(0x5455);
  out.put<std::uint16_t>(5);
  out.append("\x01\x00\x00\x00\x00", 5);
  out.put<std::uint16_t>(1);
  out.put<std::uint16_t>(24);
  out.put<std::uint64_t>(declared);
  out.put<std::uint64_t>(npy.size());
  out.put<std::uint64_t>(0);
  const std::uint64_t directory_size = out.bytes().size() - directory_offset;
  const std::uint64_t end64_offset = out.bytes().size();
  out.put<std::uint32_t>(0x06064b50);
  out.put<std::uint64_t>(44);
  out.put<std::uint16_t>(45);
  out.put<std::uint16_t>(45);
  out.put<std::uint32_t>(0);
  out.put<std::uint32_t>(0);
  out.put<std::uint64_t>(1);
  out.put<std::uint64_t>(1);
  out.put<std::uint64_t>(directory_size);
  out.put<std::uint64_t>(directory_offset);
  out.put<std::uint32_t>(0x07064b50);
  out.put<std::uint32_t>(0);
  out.put<std::uint64_t>(end64_offset);
  out.put<std::uint32_t>(1);
  out.put<std::uint32_t>(0x06054b50);
  for (std::uint16_t v : {0, 0, 0xFFFF, 0xFFFF}) out.put<std::uint16_t>(v);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint32_t>(0xFFFFFFFFU);
  out.put<std::uint16_t>(0);
  return std::string(out.bytes().begin(), out.bytes().end());
}
}  // namespace

TEST_CASE("npz: reads the stored archives np.savez writes", "[io][npz]") {
  const NpzArchive archive(std::vector<char>(npz_stored.begin(), npz_stored.end()), "saved.npz");
  CHECK(archive.names() == std::vector<std::string>{"x", "y"});
  CHECK(archive.contains("x"));
  CHECK(archive.contains("y.npy"));
  CHECK_FALSE(archive.contains("z"));
  const NdArray x = archive.read("x");
  CHECK(x.dtype() == "<i4");
  CHECK(x.shape() == std::vector<Index>{3});
  CHECK(values_of<std::int32_t>(x) == std::vector<std::int32_t>{0, 1, 2});
  CHECK(values_of<bool>(archive.read("y.npy")) == std::vector<bool>{true, false});
  const auto entries = parse_zip_directory(npz_stored.data(), npz_stored.size(), "saved.npz");
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].method == 0);
  CHECK(entries[1].local_offset > 0);
}

TEST_CASE("npz: reads the deflate archives np.savez_compressed writes", "[io][npz]") {
  const NpzArchive archive(std::vector<char>(npz_deflate.begin(), npz_deflate.end()), "small.npz");
  CHECK(archive.names() == std::vector<std::string>{"a"});
  CHECK(parse_zip_directory(npz_deflate.data(), npz_deflate.size(), "small.npz")[0].method == 8);
#ifdef RLHASH_HAS_ZLIB
  const NdArray a = archive.read("a");
  CHECK(a.shape() == std::vector<Index>{3, 2});
  CHECK(values_of<float>(a) == std::vector<float>{0, 1, 2, 3, 4, 5});
#else
  require_error([&] { archive.read("a"); }, {"small.npz", "zlib"});
#endif
}

TEST_CASE("npz: write_npz round-trips and is a valid stored zip", "[io][npz]") {
  test::TempDir dir;
  const MatrixF features = MatrixF::Random(3, 5);
  const std::vector<std::int64_t> labels = {4, 0, 4, 1, 9};
  const auto path = dir.file("data.npz");
  write_npz(path, {{"features", NdArray::from_data(features.data(), {5, 3})},
                   {"labels", NdArray::from_data(labels.data(), {5})},
                   {"empty", NdArray("<f8", {0})}});
  const NpzArchive archive(path);
  CHECK(archive.names() == std::vector<std::string>{"features", "labels", "empty"});
  CHECK(archive.read("features").to_matrix<float>() == features);
  CHECK(archive.read("labels").to_vector<std::int64_t>() == labels);
  CHECK(archive.read("empty").size() == 0);
  CHECK(read_npz(path, "labels").dtype() == "<i8");

  // Entries are stored with correct CRCs and sizes, names carry .npy like numpy's.
  const std::string bytes = test::read_bytes(path);
  const auto entries = parse_zip_directory(bytes.data(), bytes.size(), path);
  REQUIRE(entries.size() == 3);
  for (const auto& entry : entries) {
    CHECK(entry.method == 0);
    CHECK(entry.size == entry.compressed_size);
    CHECK(entry.name.size() > 4);
    CHECK(entry.name.substr(entry.name.size() - 4) == ".npy");
    const std::vector<char> npy = read_zip_entry(bytes.data(), bytes.size(), entry, path);
    CHECK(crc32(npy.data(), npy.size()) == entry.crc);
  }
  // Deterministic output: the same arrays give the same bytes.
  CHECK(npz_bytes({{"labels", NdArray::from_data(labels.data(), {5})}}) ==
        npz_bytes({{"labels", NdArray::from_data(labels.data(), {5})}}));

  require_error<InvalidArgument>(
      [&] {
        write_npz(path, {{"a", NdArray("<f4", {1})}, {"a", NdArray("<f4", {1})}});
      },
      {"'a'", "twice"});
  require_error<InvalidArgument>([&] { write_npz(path, {{"", NdArray("<f4", {1})}}); }, {"empty name"});
  require_error<InvalidArgument>(
      [&] {
        write_npz(path, {{"cube", NdArray("<f4", {1, 1, 1})}});
      },
      {"1-D or 2-D"});
  CHECK(NpzArchive(path).names().size() == 3);  // the failed writes left the file alone
}

TEST_CASE("npz: reads zip64 fields in the central directory and end records", "[io][npz]") {
  const double values[] = {2.5, -1.0};
  const std::string zip = zip64_archive(npy_bytes("<f8", {2}, values));
  const NpzArchive archive(std::vector<char>(zip.begin(), zip.end()), "zip64.npz");
  CHECK(archive.names() == std::vector<std::string>{"z"});
  CHECK(values_of<double>(archive.read("z")) == std::vector<double>{2.5, -1.0});
}

TEST_CASE("npz: malformed archives are FormatErrors naming the file", "[io][npz]") {
  require_npz_error("", "x", {"mem.npz", "not a zip"});
  require_npz_error(std::string(100, 'x'), "x", {"mem.npz", "not a zip"});
  require_npz_error(npz_stored, "z", {"mem.npz", "no array 'z'", "x, y"});

  // The x entry's data 0, 1, 2 with the 1 turned into 3: the CRC no longer matches.
  const std::string data_x("\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00", 12);
  const std::string bad_x("\x00\x00\x00\x00\x03\x00\x00\x00\x02\x00\x00\x00", 12);
  require_npz_error(test::patched(npz_stored, data_x, bad_x), "x", {"mem.npz", "x.npy", "CRC-32"});

  const std::size_t end = npz_stored.size() - 22;
  require_npz_error(poke(npz_stored, end + 16, 0xFF01, 4), "x", {"mem.npz", "central directory", "outside"});
  require_npz_error(poke(npz_stored, end + 4, 1, 2), "x", {"multi-disk"});
  require_npz_error(poke(npz_stored, end + 10, 3, 2), "x", {"central directory entry 2 of 3"});
  const std::size_t entry_x = central_entry(npz_stored, 0);
  require_npz_error(poke(npz_stored, entry_x + 10, 12, 2), "x", {"x.npy", "compression method 12"});
  require_npz_error(poke(npz_stored, entry_x + 8, 1, 2), "x", {"x.npy", "encrypted"});
  // Regression (fuzz_npz): an unsupported method with a huge declared size was allocated before
  // the method was checked.
  const std::vector<char> small_npy = npy_bytes("|u1", {1}, "\x05");
  require_npz_error(zip64_archive(small_npy, 252, std::uint64_t{1} << 62), "z",
                    {"z.npy", "compression method 252"});
  require_npz_error(zip64_archive(small_npy, 8, std::uint64_t{1} << 62), "z", {"z.npy", "does not fit"});
  require_npz_error(zip64_archive(small_npy, 0, std::uint64_t{1} << 62), "z", {"z.npy", "does not fit"});
  require_npz_error(poke(npz_stored, entry_x + 20, 0x7FFFFFFF, 4), "x", {"x.npy", "declared", "truncated"});
  require_npz_error(poke(npz_stored, entry_x + 24, 0x8d, 4), "x", {"x.npy", "declared size 141"});
  require_npz_error(poke(npz_stored, entry_x + 42, 5, 4), "x", {"x.npy", "local file header"});
  require_npz_error(poke(npz_stored, entry_x + 42, 0xFFFFFF, 4), "x", {"x.npy", "past the end"});
  // A zip whose member is not a valid .npy.
  const std::vector<char> zip_bytes = npz_bytes({{"t", NdArray("|u1", {4})}});
  const std::string zip_of_text(zip_bytes.begin(), zip_bytes.end());
  std::string not_npy = test::patched(zip_of_text, "NUMPY", "NUMPZ");
  const std::uint32_t crc = crc32(not_npy.data() + 35, not_npy.find("PK\x01\x02") - 35);
  not_npy = poke(poke(not_npy, 14, crc, 4), central_entry(not_npy, 0) + 16, crc, 4);
  require_npz_error(not_npy, "t", {"mem.npz:t.npy", "not a .npy file"});

  const std::size_t entry_a = central_entry(npz_deflate, 0);
  require_npz_error(poke(npz_deflate, entry_a + 24, 1u << 30, 4), "a", {"a.npy", "does not fit"});
#ifdef RLHASH_HAS_ZLIB
  // Damage inside the deflate stream: a zlib error, a wrong length or a CRC mismatch, never a crash.
  for (std::size_t at = 55; at < 55 + 0x55; at += 6) {  // the 0x55 stream bytes after the local header
    std::string damaged = npz_deflate;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    require_npz_error(damaged, "a", {"mem.npz"});
  }
  require_npz_error(poke(npz_deflate, entry_a + 24, 0x97, 4), "a",
                    {"a.npy", "more than the declared 151 bytes"});
  require_npz_error(poke(npz_deflate, entry_a + 24, 0x99, 4), "a", {"a.npy", "expected 153"});
#endif
}

}  // namespace rlhash::test_npz
