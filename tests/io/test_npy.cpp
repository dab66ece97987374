#include <catch.hpp>
#include <test_util.hpp>

#include <cstring>
#include <filesystem>

#include "rlhash/core/random.hpp"
#include "rlhash/io/npy.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_npy {
using test::make_npy;
using test::patched;
using test::require_error;

namespace {
// The exact bytes numpy 1.24 writes (np.save), generated once with /usr/bin/python3 and
// embedded so the tests need no Python.
// f4_2x3 (152 bytes)
const std::string f4_2x3(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }                    "
    "                                      \x0a\x00\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x00@\x00\x00@@\x00"
    "\x00\x80@\x00\x00\xa0@",
    152);
// f8_3 (152 bytes)
const std::string f8_3(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }                      "
    "                                      \x0a\x00\x00\x00\x00\x00\x00\xe0\x3f\x00\x00\x00\x00\x00\x00\xf4"
    "\xbf;%_\xb8\x83n\xcbT",
    152);
// u1_2x2 (132 bytes)
const std::string u1_2x2(
    "\x93NUMPY\x01\x00v\x00{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }                    "
    "                                      \x0a\x01\x02\xfa\xff",
    132);
// b1_4 (132 bytes)
const std::string b1_4(
    "\x93NUMPY\x01\x00v\x00{'descr': '|b1', 'fortran_order': False, 'shape': (4,), }                      "
    "                                      \x0a\x01\x00\x00\x01",
    132);
// i4_3 (140 bytes)
const std::string i4_3(
    "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }                      "
    "                                      \x0a\xff\xff\xff\xff\x00\x00\x00\x00\xff\xff\xff\x7f",
    140);
// i8_2x1 (144 bytes)
const std::string i8_2x1(
    "\x93NUMPY\x01\x00v\x00{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }                    "
    "                                      \x0a\xfb\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x01\x00"
    "\x00",
    144);
// f4_0x3 (128 bytes)
const std::string f4_0x3(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }                    "
    "                                      \x0a",
    128);
// f4_fortran (152 bytes)
const std::string f4_fortran(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }                     "
    "                                      \x0a\x00\x00\x00\x00\x00\x00@@\x00\x00\x80\x3f\x00\x00\x80@\x00"
    "\x00\x00@\x00\x00\xa0@",
    152);
// f4_bigendian (140 bytes)
const std::string f4_bigendian(
    "\x93NUMPY\x01\x00v\x00{'descr': '>f4', 'fortran_order': False, 'shape': (3,), }                      "
    "                                      \x0a\x00\x00\x00\x00\x3f\x80\x00\x00@\x00\x00\x00",
    140);
// f4_3d (144 bytes)
const std::string f4_3d(
    "\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 2), }                 "
    "                                      \x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00",
    144);
// c8 (144 bytes)
const std::string c8(
    "\x93NUMPY\x01\x00v\x00{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }                      "
    "                                      \x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    "\x00",
    144);
// u2 (132 bytes)
const std::string u2(
    "\x93NUMPY\x01\x00v\x00{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }                      "
    "                                      \x0a\x00\x00\x00\x00",
    132);
// i8_v2 (152 bytes)
const std::string i8_v2(
    "\x93NUMPY\x02\x00t\x00\x00\x00{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }              "
    "                                            \x0a\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00"
    "\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00",
    152);
// i8_v3 (152 bytes)
const std::string i8_v3(
    "\x93NUMPY\x03\x00t\x00\x00\x00{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }              "
    "                                            \x0a\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00"
    "\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00",
    152);
// object (285 bytes)
const std::string object(
    "\x93NUMPY\x01\x00v\x00{'descr': '|O', 'fortran_order': False, 'shape': (2,), }                       "
    "                                      \x0a\x80\x03"
    "cnumpy.core.multiarray\x0a_reconstruct\x0aq\x00"
    "c"
    "numpy\x0andarray\x0aq\x01K\x00\x85q\x02"
    "C\x01"
    "bq\x03\x87q\x04Rq\x05(K\x01K\x02\x85q\x06"
    "cnumpy\x0a"
    "dtype\x0aq\x07X\x02\x00\x00\x00O8q\x08\x89\x88\x87q\x09Rq\x0a(K\x03X\x01\x00\x00\x00|q\x0bNNNJ\xff\xff"
    "\xff\xffJ\xff\xff\xff\xffK\x3ftq\x0c"
    "b\x89]q\x0d(K\x01Netq\x0e"
    "b.",
    285);

template <class T>
std::vector<T> values_of(const NdArray& array) {
  const T* data = array.data<T>();
  return std::vector<T>(data, data + array.size());
}

void require_npy_error(const std::string& bytes, std::initializer_list<std::string> parts) {
  require_error([&] { parse_npy(bytes.data(), bytes.size(), "mem.npy"); }, parts);
  require_error([&] { parse_npy(bytes.data(), bytes.size(), "mem.npy"); }, {"'mem.npy'"});
}
}  // namespace

TEST_CASE("npy: reads the bytes numpy writes, every dtype", "[io][npy]") {
  const NdArray f4 = parse_npy(f4_2x3.data(), f4_2x3.size(), "f4");
  CHECK(f4.dtype() == "<f4");
  CHECK(f4.shape() == std::vector<Index>{2, 3});
  CHECK(values_of<float>(f4) == std::vector<float>{0, 1, 2, 3, 4, 5});
  // [N, D] = [2, 3] is the memory of a 3 x 2 matrix: column i is row i of the array.
  const MatrixF m = f4.to_matrix<float>();
  REQUIRE(m.rows() == 3);
  REQUIRE(m.cols() == 2);
  CHECK(m(0, 1) == 3.0F);
  CHECK(m(2, 0) == 2.0F);

  CHECK(values_of<double>(parse_npy(f8_3.data(), f8_3.size(), "f8")) ==
        std::vector<double>{0.5, -1.25, 3e100});
  const NdArray u1 = parse_npy(u1_2x2.data(), u1_2x2.size(), "u1");
  CHECK(u1.dtype() == "|u1");
  CHECK(values_of<std::uint8_t>(u1) == std::vector<std::uint8_t>{1, 2, 250, 255});
  CHECK(values_of<bool>(parse_npy(b1_4.data(), b1_4.size(), "b1")) ==
        std::vector<bool>{true, false, false, true});
  CHECK(values_of<std::int32_t>(parse_npy(i4_3.data(), i4_3.size(), "i4")) ==
        std::vector<std::int32_t>{-1, 0, 2147483647});
  const NdArray i8 = parse_npy(i8_2x1.data(), i8_2x1.size(), "i8");
  CHECK(i8.shape() == std::vector<Index>{2, 1});
  CHECK(values_of<std::int64_t>(i8) == std::vector<std::int64_t>{-5, std::int64_t{1} << 40});
  const NdArray empty = parse_npy(f4_0x3.data(), f4_0x3.size(), "empty");
  CHECK(empty.shape() == std::vector<Index>{0, 3});
  CHECK(empty.size() == 0);
  CHECK(empty.to_matrix<float>().rows() == 3);
  CHECK(empty.to_matrix<float>().cols() == 0);
}

TEST_CASE("npy: reads version 2.0 and 3.0 headers", "[io][npy]") {
  for (const std::string* bytes : {&i8_v2, &i8_v3}) {
    const NpyHeader header = parse_npy_header(bytes->data(), bytes->size(), "v");
    CHECK(header.major_version == (bytes == &i8_v2 ? 2 : 3));
    CHECK(header.data_offset % 64 == 0);
    CHECK(values_of<std::int64_t>(parse_npy(bytes->data(), bytes->size(), "v")) ==
          std::vector<std::int64_t>{0, 1, 2});
  }
}

TEST_CASE("npy: the writer produces numpy's bytes exactly", "[io][npy]") {
  const float f4[] = {0, 1, 2, 3, 4, 5};
  CHECK(npy_bytes("<f4", {2, 3}, f4) == std::vector<char>(f4_2x3.begin(), f4_2x3.end()));
  const double f8[] = {0.5, -1.25, 3e100};
  CHECK(npy_bytes("<f8", {3}, f8) == std::vector<char>(f8_3.begin(), f8_3.end()));
  const std::uint8_t u1[] = {1, 2, 250, 255};
  CHECK(npy_bytes("|u1", {2, 2}, u1) == std::vector<char>(u1_2x2.begin(), u1_2x2.end()));
  const bool b1[] = {true, false, false, true};
  CHECK(npy_bytes("|b1", {4}, b1) == std::vector<char>(b1_4.begin(), b1_4.end()));
  const std::int64_t i8[] = {-5, std::int64_t{1} << 40};
  CHECK(npy_bytes("<i8", {2, 1}, i8) == std::vector<char>(i8_2x1.begin(), i8_2x1.end()));
  CHECK(npy_bytes("<f4", {0, 3}, nullptr) == std::vector<char>(f4_0x3.begin(), f4_0x3.end()));
  // Every header pads the data to a 64-byte boundary.
  for (const Index n : std::vector<Index>{0, 1, 9, 10, 99999, 1234567890123})
    CHECK(npy_header("<f4", {n, 7}).size() % 64 == 0);
}

TEST_CASE("npy: the writer switches to version 2.0 only for headers over 64 KiB", "[io][npy]") {
  CHECK(npy_header("<f4", {3, 4})[6] == 1);
  const std::vector<Index> long_shape(30000, 1);  // only reachable through npy_header itself
  const std::string header = npy_header("<f4", long_shape);
  CHECK(header[6] == 2);
  CHECK(header.size() % 64 == 0);
  std::uint32_t length = 0;
  std::memcpy(&length, header.data() + 8, 4);
  CHECK(length + 12 == header.size());
}

TEST_CASE("npy: files round-trip through the writers and readers", "[io][npy]") {
  test::TempDir dir;
  Rng rng(7);
  MatrixF features(5, 11);
  for (Index k = 0; k < features.size(); ++k) features.data()[k] = static_cast<float>(standard_normal(rng));
  const auto path = dir.file("features.npy");
  write_npy_matrix(path, features);
  const NdArray array = read_npy(path);
  CHECK(array.shape() == std::vector<Index>{11, 5});
  CHECK(read_npy_matrix<float>(path) == features);
  CHECK(read_npy_matrix<double>(path) == features.cast<double>());
  // Expressions and row-major inputs are evaluated to the same [N, D] layout.
  write_npy_matrix(path, features.transpose().transpose() * 2.0F);
  CHECK(read_npy_matrix<float>(path) == features * 2.0F);
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = features.cast<double>();
  write_npy_matrix(path, row_major);
  CHECK(read_npy_matrix<float>(path) == features);
  CHECK(read_npy(path).dtype() == "<f8");

  const std::vector<std::int32_t> labels = {3, 1, 4, 1, 5, 9, 2, 6};
  write_npy_vector(dir.file("labels.npy"), labels);
  CHECK(read_npy_vector<std::int32_t>(dir.file("labels.npy")) == labels);
  CHECK(read_npy_vector<double>(dir.file("labels.npy"))[5] == 9.0);
  CHECK(read_npy_vector<std::uint8_t>(dir.file("labels.npy"))[7] == 6);
  require_error([&] { read_npy_vector<float>(path); }, {"features.npy", "1-D", "[11, 5]"});

  // A 1-D array reads as a 1 x N matrix (N items of one dimension).
  const MatrixF row = read_npy_matrix<float>(dir.file("labels.npy"));
  CHECK(row.rows() == 1);
  CHECK(row.cols() == 8);
  CHECK(row(0, 5) == 9.0F);

  // Writes replace the file atomically and leave no temporary files behind.
  write_npy_vector(dir.file("labels.npy"), std::vector<std::int32_t>{7});
  CHECK(read_npy_vector<std::int32_t>(dir.file("labels.npy")) == std::vector<std::int32_t>{7});
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path()),
                      std::filesystem::directory_iterator()) == 2);
}

TEST_CASE("npy: conversions reject values the target type cannot hold", "[io][npy]") {
  test::TempDir dir;
  const std::vector<std::int64_t> big = {1, std::int64_t{1} << 40};
  write_npy_vector(dir.file("big.npy"), big);
  require_error([&] { read_npy_vector<std::int32_t>(dir.file("big.npy")); },
                {"big.npy", "element 1", "1099511627776", "<i4"});
  const std::vector<double> fractional = {1.0, 2.5};
  write_npy_vector(dir.file("frac.npy"), fractional);
  require_error([&] { read_npy_vector<std::int64_t>(dir.file("frac.npy")); },
                {"frac.npy", "element 1", "2.5"});
  const std::vector<std::int8_t> negative = {0, -3};
  write_npy_vector(dir.file("neg.npy"), negative);
  require_error([&] { read_npy_vector<std::uint8_t>(dir.file("neg.npy")); }, {"neg.npy", "-3", "|u1"});
  CHECK(read_npy_vector<std::int16_t>(dir.file("neg.npy")) == std::vector<std::int16_t>{0, -3});
  const std::vector<double> nan = {std::nan("")};
  write_npy_vector(dir.file("nan.npy"), nan);
  require_error([&] { read_npy_vector<std::int32_t>(dir.file("nan.npy")); }, {"nan.npy"});
  CHECK(std::isnan(read_npy_vector<float>(dir.file("nan.npy"))[0]));
  // Exactly representable edge values pass.
  const std::vector<double> edges = {-2147483648.0, 2147483647.0};
  write_npy_vector(dir.file("edges.npy"), edges);
  CHECK(read_npy_vector<std::int32_t>(dir.file("edges.npy")) ==
        std::vector<std::int32_t>{-2147483648, 2147483647});
  const std::vector<double> over = {2147483648.0};
  write_npy_vector(dir.file("over.npy"), over);
  require_error([&] { read_npy_vector<std::int32_t>(dir.file("over.npy")); }, {"over.npy"});
}

TEST_CASE("npy: NpyMap maps the file and validates its header", "[io][npy]") {
  test::TempDir dir;
  MatrixF features = MatrixF::Random(4, 6);
  write_npy_matrix(dir.file("f.npy"), features);
  const NpyMap map(dir.file("f.npy"));
  CHECK(map.dtype() == "<f4");
  CHECK(map.items() == 6);
  CHECK(map.dims() == 4);
  CHECK(map.matrix<float>() == features);
  CHECK(map.to_matrix<double>() == features.cast<double>());
  CHECK(map.data<float>()[5] == features(1, 1));
  require_error<InvalidArgument>([&] { map.data<double>(); }, {"f.npy", "<f4", "<f8"});

  // A header whose length leaves the data misaligned: typed views refuse, copies still work.
  const float values[] = {1.5F, -2.0F};
  std::string payload(reinterpret_cast<const char*>(values), sizeof values);
  const std::string odd =
      make_npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,),  }", payload, 1, false);
  REQUIRE((odd.size() - 8) % 4 != 0);
  test::write_bytes(dir.file("odd.npy"), odd);
  const NpyMap odd_map(dir.file("odd.npy"));
  require_error([&] { odd_map.data<float>(); }, {"odd.npy", "aligned"});
  CHECK(odd_map.to_matrix<float>()(0, 1) == -2.0F);
  CHECK(values_of<float>(read_npy(dir.file("odd.npy"))) == std::vector<float>{1.5F, -2.0F});

  test::write_bytes(dir.file("bad.npy"), f4_fortran);
  require_error([&] { NpyMap bad(dir.file("bad.npy")); }, {"bad.npy", "Fortran"});
  require_error<IoError>([&] { NpyMap missing(dir.file("missing.npy")); }, {"missing.npy"});
  require_error<IoError>([&] { NpyMap folder(dir.path().string()); }, {"directory"});

  // A pipe cannot be mapped: it is read, from the one open file.
  const MatrixF through_pipe =
      test::read_through_pipe(dir.file("f.fifo"), test::read_bytes(dir.file("f.npy")),
                              [&] { return NpyMap(dir.file("f.fifo")).to_matrix<float>(); });
  CHECK(through_pipe == features);
}

TEST_CASE("npy: hand-written headers in the forms Python allows", "[io][npy]") {
  const std::string payload("\x01\x00\x00\x00\x02\x00\x00\x00", 8);
  // Keys in another order, double quotes, Python 2's long suffix, no trailing comma, no padding.
  for (const std::string& dict :
       {std::string("{'shape': (2,), 'fortran_order': False, 'descr': '<i4'}"),
        std::string("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L,)}"),
        std::string("{ 'descr' : '<i4' ,'fortran_order':False,'shape':( 2 , ) , }")}) {
    const std::string bytes = make_npy(dict, payload);
    CHECK(values_of<std::int32_t>(parse_npy(bytes.data(), bytes.size(), "hand")) ==
          std::vector<std::int32_t>{1, 2});
  }
  // One-byte types may carry any byte-order mark.
  const std::string u1 = make_npy("{'descr': '<u1', 'fortran_order': False, 'shape': (1,), }", "\x07");
  CHECK(parse_npy(u1.data(), u1.size(), "u1").dtype() == "|u1");
  const std::string i2 =
      make_npy("{'descr': '<i2', 'fortran_order': False, 'shape': (1,), }", std::string("\xff\xff", 2));
  CHECK(values_of<std::int16_t>(parse_npy(i2.data(), i2.size(), "i2")) == std::vector<std::int16_t>{-1});
}

TEST_CASE("npy: malformed files are FormatErrors naming the file and the problem", "[io][npy]") {
  require_npy_error(f4_fortran, {"Fortran"});
  require_npy_error(f4_bigendian, {"big-endian", "'>f4'", "<f4"});
  require_npy_error(c8, {"unsupported dtype", "<c8"});
  require_npy_error(u2, {"unsupported dtype", "<u2"});
  require_npy_error(object, {"unsupported dtype", "|O"});
  require_npy_error(f4_3d, {"1-D or 2-D", "[2, 1, 2]"});
  require_npy_error(patched(i4_3, "(3,), ", "(),   "), {"1-D or 2-D", "0-D"});
  // Truncated, padded, and a header whose shape lies about the payload.
  require_npy_error(f4_2x3.substr(0, f4_2x3.size() - 1), {"[2, 3]", "24 bytes", "23", "truncated"});
  require_npy_error(f4_2x3 + "x", {"25", "extra bytes"});
  require_npy_error(patched(f4_2x3, "(2, 3)", "(2, 4)"), {"[2, 4]", "32 bytes", "24"});
  require_npy_error(patched(f4_2x3, "(2, 3)", "(9, 0)"), {"[9, 0]", "0 bytes", "24"});
  require_npy_error(f4_2x3.substr(0, 60), {"header of 118 bytes", "truncated"});
  require_npy_error(f4_2x3.substr(0, 9), {"at least 10 bytes", "found 9"});
  require_npy_error(std::string(), {"found 0"});
  // Magic and version.
  require_npy_error(patched(f4_2x3, "NUMPY", "NUMPZ"), {"not a .npy file", "\\x93NUMPZ"});
  require_npy_error("PK\x03\x04" + f4_2x3.substr(4), {"not a .npy file"});
  require_npy_error(patched(f4_2x3, std::string("\x01\x00v", 3), std::string("\x04\x00v", 3)),
                    {"version", "4.0"});
  require_npy_error(patched(f4_2x3, std::string("\x01\x00v", 3), std::string("\x01\x01v", 3)),
                    {"version", "1.1"});
  // Malformed dicts.
  const std::string payload(4, '\0');
  auto dict_error = [&](const std::string& dict, std::initializer_list<std::string> parts) {
    require_npy_error(make_npy(dict, payload), parts);
  };
  dict_error("{'descr': '<f4', 'shape': (1,), }",
             {"malformed .npy header", "'descr', 'fortran_order' and 'shape'"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", {"malformed", "'extra'"});
  dict_error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
             {"malformed", "'descr'"});
  dict_error("{'descr': '<f4, 'fortran_order': False, 'shape': (1,)}", {"malformed"});
  dict_error("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", {"True or False"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", {"non-negative integer"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,)}", {"malformed"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", {"63 bits"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}", {"too large"});
  dict_error("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", {"structured"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} junk", {"only padding"});
  dict_error("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", {"'}'"});
  dict_error("", {"'{'"});
  dict_error("{'de\\x': '<f4'}", {"escapes"});
  // Bools must be 0 or 1.
  require_npy_error(patched(b1_4, std::string("\x0a\x01\x00", 3), std::string("\x0a\x02\x00", 3)),
                    {"bool", "byte value 2"});
}

TEST_CASE("npy: the writers reject what the format cannot hold", "[io][npy]") {
  test::TempDir dir;
  const float data[8] = {};
  require_error<InvalidArgument>(
      [&] {
        write_npy(dir.file("x.npy"), data, {2, 2, 2});
      },
      {"1-D or 2-D", "[2, 2, 2]"});
  require_error<InvalidArgument>([&] { write_npy(dir.file("x.npy"), data, {}); }, {"1-D or 2-D"});
  require_error<InvalidArgument>([&] { write_npy(dir.file("x.npy"), data, {-1, 2}); }, {"negative"});
  require_error<IoError>([&] { write_npy(dir.file("no/such/dir/x.npy"), data, {8}); }, {"x.npy"});
  CHECK_FALSE(std::filesystem::exists(dir.file("x.npy")));
  require_error<InvalidArgument>([] { NdArray("<u4", {1}); }, {"unsupported dtype", "<u4"});
}

}  // namespace rlhash::test_npy
