#include <catch.hpp>
#include <test_util.hpp>

#include "rlhash/codes/code_file.hpp"
#include "rlhash/core/random.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_code_file {
using test::require_error;

namespace {
// np.packbits(bits, axis=1, bitorder='little') of three 12-bit codes, saved by np.save:
// bits = [[1,1,0,1,0,1,1,0,1,0,0,0], [1,0,0,0,0,0,0,1,0,1,1,0], [0,0,0,1,0,1,1,1,0,0,1,0]]
// packed = [[107, 1], [129, 6], [232, 4]]
const std::string packed_3x12(
    "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (3, 2), }                    "
    "                                      \x0ak\x01\x81\x06\xe8\x04",
    134);
const int numpy_bits[3][12] = {{1, 1, 0, 1, 0, 1, 1, 0, 1, 0, 0, 0},
                               {1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 0},
                               {0, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0}};

BinaryCodes random_codes(Index n, int bits, std::uint64_t seed) {
  Rng rng(seed);
  BinaryCodes codes(n, bits);
  for (Index i = 0; i < n; ++i)
    for (int j = 0; j < bits; ++j) codes.set(i, j, uniform_below(rng, 2) == 1);
  return codes;
}
}  // namespace

TEST_CASE("code files: numpy's little-endian packbits is the packed layout", "[io][codes]") {
  const NdArray array = parse_npy(packed_3x12.data(), packed_3x12.size(), "packed.npy");
  const BinaryCodes codes = codes_from_array(array, 12, CodeFormat::packed, "packed.npy");
  REQUIRE(codes.size() == 3);
  for (Index i = 0; i < 3; ++i)
    for (int j = 0; j < 12; ++j) CHECK(codes.get(i, j) == (numpy_bits[i][j] == 1));
  // And back: the same bytes numpy wrote.
  const NdArray again = codes_to_array(codes, CodeFormat::packed);
  CHECK(npy_bytes(again.dtype(), again.shape(), again.bytes()) ==
        std::vector<char>(packed_3x12.begin(), packed_3x12.end()));
  // Bit j lives in byte j/8 at bit j%8.
  BinaryCodes one(1, 64);
  one.set(0, 0, true);
  one.set(0, 9, true);
  one.set(0, 63, true);
  const NdArray bytes = codes_to_array(one, CodeFormat::packed);
  CHECK(bytes.shape() == std::vector<Index>{1, 8});
  CHECK(bytes.to_vector<int>() == std::vector<int>{0x01, 0x02, 0, 0, 0, 0, 0, 0x80});
}

TEST_CASE("code files: every format round-trips for any bit count", "[io][codes]") {
  test::TempDir dir;
  for (const int bits : {1, 7, 8, 13, 32, 64, 65, 130, 1024}) {
    const BinaryCodes codes = random_codes(37, bits, static_cast<std::uint64_t>(bits));
    for (const CodeFormat format : {CodeFormat::packed, CodeFormat::bits01, CodeFormat::sign}) {
      INFO("bits " << bits << ", format " << to_string(format));
      const auto path = dir.file("codes.npy");
      write_codes(path, codes, format);
      const NdArray array = read_npy(path);
      CHECK(array.shape()[1] == (format == CodeFormat::packed ? (bits + 7) / 8 : bits));
      CHECK(array.dtype() == (format == CodeFormat::sign ? "<f4" : "|u1"));
      CHECK(read_codes(path, bits, format) == codes);
      CHECK(read_codes(path, 0, format).bits() == (format == CodeFormat::packed ? (bits + 7) / 8 * 8 : bits));
    }
  }
  const BinaryCodes none(0, 16);
  write_codes(dir.file("none.npy"), none, CodeFormat::packed);
  CHECK(read_codes(dir.file("none.npy"), 16, CodeFormat::packed) == none);
}

TEST_CASE("code files: packed codes stream from the file in blocks, checked row by row", "[io][codes]") {
  test::TempDir dir;
  const auto path = dir.file("many.npy");
  // 20,000 rows of 8 bytes: three 64 KiB reads, the last one partial.
  const BinaryCodes codes = random_codes(20000, 64, 5);
  write_codes(path, codes, CodeFormat::packed);
  CHECK(read_codes(path, 64, CodeFormat::packed) == codes);
  CHECK(read_codes(path, 0, CodeFormat::packed) == codes);
  // A tail bit in the third block is reported with its row.
  BinaryCodes narrow(20000, 60);
  write_codes(path, narrow, CodeFormat::packed);
  NdArray bytes = read_npy(path);
  bytes.data<std::uint8_t>()[19999 * 8 + 7] = 0x80;
  write_npy(path, bytes);
  require_error([&] { read_codes(path, 60, CodeFormat::packed); },
                {"many.npy", "row 19999", "beyond bit 60"});
  // A payload shorter than the header declares is refused before anything is read.
  const std::vector<char> whole = npy_bytes("|u1", {20000, 8}, bytes.bytes());
  write_file_atomic(path, std::vector<char>(whole.begin(), whole.end() - 8));
  require_error([&] { read_codes(path, 64, CodeFormat::packed); }, {"many.npy"});
  // Packed codes must be uint8.
  const float floats[] = {1, 2};
  write_npy(path, floats, {1, 2});
  require_error([&] { read_codes(path, 16, CodeFormat::packed); }, {"many.npy", "|u1", "<f4"});
}

TEST_CASE("code files: packed codes from a named pipe, opened once", "[io][codes]") {
  test::TempDir dir;
  const BinaryCodes codes = random_codes(300, 24, 9);
  write_codes(dir.file("codes.npy"), codes, CodeFormat::packed);
  const auto fifo = dir.file("codes.fifo");
  const BinaryCodes read = test::read_through_pipe(fifo, test::read_bytes(dir.file("codes.npy")),
                                                   [&] { return read_codes(fifo, 24, CodeFormat::packed); });
  CHECK(read == codes);
}

TEST_CASE("code files: the layouts hold the values they promise", "[io][codes]") {
  BinaryCodes codes(2, 3);
  codes.set(0, 1, true);
  codes.set(1, 0, true);
  codes.set(1, 2, true);
  CHECK(codes_to_array(codes, CodeFormat::bits01).to_vector<int>() == std::vector<int>{0, 1, 0, 1, 0, 1});
  CHECK(codes_to_array(codes, CodeFormat::sign).to_vector<float>() ==
        std::vector<float>{-1, 1, -1, 1, -1, 1});
  // Other dtypes holding the same values are accepted: bools for bits01, doubles and ints for sign.
  const bool flags[] = {false, true, false, true, false, true};
  CHECK(codes_from_array(NdArray::from_data(flags, {2, 3}), 3, CodeFormat::bits01) == codes);
  const double signs[] = {-1, 1, -1, 1, -1, 1};
  CHECK(codes_from_array(NdArray::from_data(signs, {2, 3}), 3, CodeFormat::sign) == codes);
  const std::int8_t small[] = {-1, 1, -1, 1, -1, 1};
  CHECK(codes_from_array(NdArray::from_data(small, {2, 3}), 0, CodeFormat::sign) == codes);
  CHECK(parse_code_format("bits01") == CodeFormat::bits01);
  require_error<InvalidArgument>([] { parse_code_format("hex"); }, {"'hex'", "packed, bits01 or sign"});
}

TEST_CASE("code files: wrong widths, tail bits and values are FormatErrors", "[io][codes]") {
  test::TempDir dir;
  const auto path = dir.file("codes.npy");
  write_codes(path, random_codes(5, 12, 1), CodeFormat::packed);
  require_error([&] { read_codes(path, 24, CodeFormat::packed); },
                {"codes.npy", "[N, 3]", "24-bit", "[5, 2]"});
  require_error([&] { read_codes(path, 8, CodeFormat::packed); }, {"[N, 1]", "[5, 2]"});
  require_error([&] { read_codes(path, 12, CodeFormat::bits01); }, {"bits01", "[N, 12]", "[5, 2]"});

  // 12-bit codes may not use the top 4 bits of their second byte.
  const std::uint8_t tail[] = {0x00, 0x01, 0xFF, 0x10};
  write_npy(path, tail, {2, 2});
  CHECK(read_codes(path, 16, CodeFormat::packed).get(1, 12));
  require_error([&] { read_codes(path, 12, CodeFormat::packed); },
                {"codes.npy", "row 1", "beyond bit 12", "16"});

  // An empty array may declare any width: an inferred code length is checked without overflow.
  const NdArray empty_wide = NdArray::uninitialized("|u1", {0, Index{5555555555555555554}});
  require_error([&] { codes_from_array(empty_wide, 0, CodeFormat::packed, "wide.npy"); },
                {"wide.npy", "5555555555555555554", "1..1024"});
  require_error([&] { codes_from_array(empty_wide, 0, CodeFormat::bits01, "wide.npy"); }, {"wide.npy"});
  CHECK(codes_from_array(NdArray::uninitialized("|u1", {0, 128}), 0, CodeFormat::packed).bits() == 1024);
}

TEST_CASE("code files: values other than 0/1 or ±1 and wrong dtypes are FormatErrors", "[io][codes]") {
  const std::uint8_t two[] = {0, 1, 2, 0};
  require_error(
      [&] {
        codes_from_array(NdArray::from_data(two, {2, 2}), 2, CodeFormat::bits01, "b.npy");
      },
      {"b.npy", "value 2", "row 1, column 0", "0 or 1"});
  const float half[] = {1, -1, 0.5F, 1};
  require_error(
      [&] {
        codes_from_array(NdArray::from_data(half, {2, 2}), 2, CodeFormat::sign, "s.npy");
      },
      {"s.npy", "value 0.5", "row 1, column 0", "-1 or +1"});
  const float zero[] = {1, 0};
  require_error(
      [&] {
        codes_from_array(NdArray::from_data(zero, {1, 2}), 2, CodeFormat::sign, "s.npy");
      },
      {"value 0"});
  const std::uint8_t ones[] = {1, 1};
  require_error(
      [&] {
        codes_from_array(NdArray::from_data(ones, {1, 2}), 2, CodeFormat::sign, "u.npy");
      },
      {"u.npy", "signed dtype", "|u1"});
  const float packed_floats[] = {1, 2};
  require_error(
      [&] {
        codes_from_array(NdArray::from_data(packed_floats, {1, 2}), 16, CodeFormat::packed, "p.npy");
      },
      {"p.npy", "|u1", "<f4"});
  require_error([&] { codes_from_array(NdArray::from_data(ones, {2}), 1, CodeFormat::packed, "r.npy"); },
                {"r.npy", "2-D", "[2]"});
  const NdArray wide("|u1", {1, 129});
  require_error([&] { codes_from_array(wide, 0, CodeFormat::packed, "w.npy"); },
                {"w.npy", "1032 bits", "1..1024"});
}

}  // namespace rlhash::test_code_file
