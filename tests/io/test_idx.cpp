#include <catch.hpp>
#include <test_util.hpp>

#include <cstring>

#include "rlhash/core/random.hpp"
#include "rlhash/io/idx.hpp"
#include "test_io_helpers.hpp"

#ifdef RLHASH_HAS_ZLIB
#include <zlib.h>
#endif

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_idx {
using test::require_error;

namespace {
// An IDX ubyte [2, 2, 3] array of 0..11, gzip-compressed by Python's gzip.compress(mtime=0).
// idx_gz (42 bytes)
const std::string idx_gz(
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"
    "c`\xe0`f```\x82"
    "bf\x06"
    "F&f\x16V6v\x0eN.n\x00x\x1e#\x84"
    "\x1c\x00\x00\x00",
    42);

/// IDX bytes: magic 00 00, type, rank, big-endian dims, then `payload` (already big-endian).
std::string make_idx(unsigned char type, const std::vector<std::uint32_t>& dims, const std::string& payload) {
  std::string out = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (const std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((d >> shift) & 0xFF);
  return out + payload;
}

void require_idx_error(const std::string& bytes, std::initializer_list<std::string> parts) {
  require_error([&] { parse_idx(bytes.data(), bytes.size(), "mem.idx"); }, parts);
  require_error([&] { parse_idx(bytes.data(), bytes.size(), "mem.idx"); }, {"'mem.idx'"});
}

#ifdef RLHASH_HAS_ZLIB
std::string gzip(const std::string& plain) {
  z_stream stream{};
  REQUIRE(deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&stream, static_cast<uLong>(plain.size())), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  stream.avail_in = static_cast<uInt>(plain.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&stream, Z_FINISH) == Z_STREAM_END);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}
#endif
}  // namespace

TEST_CASE("idx: reads every element type, big-endian, any rank", "[io][idx]") {
  std::string pixels;
  for (int v = 0; v < 12; ++v) pixels += static_cast<char>(v * 20);
  const std::string ubyte = make_idx(0x08, {2, 2, 3}, pixels);
  const NdArray images = parse_idx(ubyte.data(), ubyte.size(), "images");
  CHECK(images.dtype() == "|u1");
  CHECK(images.shape() == std::vector<Index>{2, 2, 3});
  CHECK(images.data<std::uint8_t>()[11] == 220);
  // Items along the first axis, the image flattened: a 6 x 2 matrix.
  const MatrixF m = images.to_matrix<float>();
  CHECK(m.rows() == 6);
  CHECK(m.cols() == 2);
  CHECK(m(5, 1) == 220.0F);

  const std::string sbyte = make_idx(0x09, {3}, std::string("\xff\x80\x7f", 3));
  CHECK(parse_idx(sbyte.data(), sbyte.size(), "s").to_vector<int>() == std::vector<int>{-1, -128, 127});
  const std::string shorts = make_idx(0x0B, {2}, std::string("\x01\x02\xff\xfe", 4));
  const NdArray s = parse_idx(shorts.data(), shorts.size(), "short");
  CHECK(s.dtype() == "<i2");
  CHECK(s.to_vector<int>() == std::vector<int>{0x0102, -2});
  const std::string ints = make_idx(0x0C, {1, 2}, std::string("\x00\x01\x00\x00\x80\x00\x00\x00", 8));
  CHECK(parse_idx(ints.data(), ints.size(), "int").to_vector<std::int64_t>() ==
        std::vector<std::int64_t>{65536, -2147483648LL});
  const std::string floats = make_idx(0x0D, {2}, std::string("\x3f\xc0\x00\x00\xc1\x20\x00\x00", 8));
  CHECK(parse_idx(floats.data(), floats.size(), "float").to_vector<float>() ==
        std::vector<float>{1.5F, -10.0F});
  const std::string doubles = make_idx(0x0E, {1}, std::string("\x40\x09\x21\xfb\x54\x44\x2d\x18", 8));
  const NdArray d = parse_idx(doubles.data(), doubles.size(), "double");
  CHECK(d.dtype() == "<f8");
  CHECK(d.data<double>()[0] == 3.141592653589793);
  const std::string empty = make_idx(0x08, {0, 28, 28}, "");
  CHECK(parse_idx(empty.data(), empty.size(), "empty").size() == 0);
  const std::string rank5 = make_idx(0x08, {1, 1, 2, 1, 1}, "ab");
  CHECK(parse_idx(rank5.data(), rank5.size(), "rank5").shape() == std::vector<Index>{1, 1, 2, 1, 1});
}

TEST_CASE("idx: reads gzip-compressed files", "[io][idx]") {
#ifdef RLHASH_HAS_ZLIB
  const NdArray python = parse_idx(idx_gz.data(), idx_gz.size(), "python.gz");
  CHECK(python.shape() == std::vector<Index>{2, 2, 3});
  CHECK(python.to_vector<int>() == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});

  // A larger file, and the same file split into two concatenated gzip members.
  Rng rng(3);
  std::string pixels(50 * 28 * 28, '\0');
  for (char& p : pixels) p = static_cast<char>(uniform_below(rng, 256));
  const std::string plain = make_idx(0x08, {50, 28, 28}, pixels);
  const std::string packed = gzip(plain);
  const NdArray big = parse_idx(packed.data(), packed.size(), "big.gz");
  CHECK(big.shape() == std::vector<Index>{50, 28, 28});
  CHECK(std::memcmp(big.bytes(), pixels.data(), pixels.size()) == 0);
  const std::string members = gzip(plain.substr(0, 1000)) + gzip(plain.substr(1000));
  CHECK(std::memcmp(parse_idx(members.data(), members.size(), "two").bytes(), pixels.data(), pixels.size()) ==
        0);

  test::TempDir dir;
  test::write_bytes(dir.file("x-idx3-ubyte.gz"), packed);
  test::write_bytes(dir.file("x-idx3-ubyte"), plain);
  CHECK(std::memcmp(read_idx(dir.file("x-idx3-ubyte.gz")).bytes(), pixels.data(), pixels.size()) == 0);
  CHECK(std::memcmp(read_idx(dir.file("x-idx3-ubyte")).bytes(), pixels.data(), pixels.size()) == 0);

  // Damaged gzip: truncated, corrupted, trailing garbage, or fine gzip around a bad IDX.
  require_idx_error(packed.substr(0, packed.size() - 9), {"truncated"});
  require_idx_error(packed.substr(0, 12), {"truncated"});
  std::string corrupted = packed;
  for (std::size_t at = 20; at < corrupted.size() - 8; at += 97)
    corrupted[at] = static_cast<char>(~corrupted[at]);
  require_idx_error(corrupted, {"gzip"});
  std::string bad_crc = packed;
  bad_crc[bad_crc.size() - 6] = static_cast<char>(bad_crc[bad_crc.size() - 6] ^ 1);
  require_idx_error(bad_crc, {"corrupted gzip data"});
  require_idx_error(packed + "junk", {"trailing garbage"});
  require_idx_error(gzip(plain.substr(0, plain.size() - 1)), {"[50, 28, 28]", "truncated"});
#else
  require_idx_error(idx_gz, {"gzip", "zlib"});
#endif
}

TEST_CASE("idx: malformed files are FormatErrors naming the file", "[io][idx]") {
  const std::string good = make_idx(0x0C, {2, 3}, std::string(24, '\0'));
  require_idx_error("", {"at least 4 bytes", "found 0"});
  require_idx_error(std::string("\x00\x00\x08", 3), {"at least 4 bytes"});
  require_idx_error(std::string("\x01\x00\x08\x01\x00\x00\x00\x00", 8), {"not an IDX file", "01 00 08"});
  require_idx_error(make_idx(0x0A, {1}, "x"), {"not an IDX file", "00 00 0a"});
  require_idx_error(make_idx(0x08, {}, ""), {"rank of at least 1"});
  require_idx_error(good.substr(0, 9), {"2 dimensions", "truncated"});
  require_idx_error(good.substr(0, good.size() - 1), {"[2, 3]", "<i4", "24 bytes", "23", "truncated"});
  require_idx_error(good + "x", {"[2, 3]", "extra bytes"});
  require_idx_error(make_idx(0x0E, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, ""), {"too large"});
  require_error<IoError>([] { read_idx("/nonexistent/train-images-idx3-ubyte.gz"); },
                         {"train-images-idx3-ubyte.gz"});
}

}  // namespace rlhash::test_idx
