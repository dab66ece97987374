#include <catch.hpp>
#include <test_util.hpp>

#include "rlhash/io/vecs.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_vecs {
using test::require_error;

namespace {
std::string le32(std::int32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string f32(float v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

template <class T>
void require_vecs_error(const std::string& bytes, std::initializer_list<std::string> parts) {
  require_error([&] { parse_vecs<T>(bytes.data(), bytes.size(), "mem.vecs"); }, parts);
  require_error([&] { parse_vecs<T>(bytes.data(), bytes.size(), "mem.vecs"); }, {"'mem.vecs'"});
}
}  // namespace

TEST_CASE("vecs: reads hand-made .fvecs, .ivecs and .bvecs records", "[io][vecs]") {
  const std::string fvecs =
      le32(3) + f32(1.0F) + f32(-2.0F) + f32(0.5F) + le32(3) + f32(4.0F) + f32(5.0F) + f32(6.0F);
  const MatrixF f = parse_vecs<float>(fvecs.data(), fvecs.size(), "f");
  REQUIRE(f.rows() == 3);
  REQUIRE(f.cols() == 2);
  CHECK(f(1, 0) == -2.0F);
  CHECK(f(2, 1) == 6.0F);

  const std::string ivecs = le32(2) + le32(7) + le32(-1);
  const Matrix<std::int32_t> i = parse_vecs<std::int32_t>(ivecs.data(), ivecs.size(), "i");
  CHECK(i.rows() == 2);
  CHECK(i(1, 0) == -1);

  const std::string bvecs = le32(2) + "\x01\xff" + le32(2) + "\x02\x03" + le32(2) + "\x04\x05";
  const Matrix<std::uint8_t> b = parse_vecs<std::uint8_t>(bvecs.data(), bvecs.size(), "b");
  CHECK(b.cols() == 3);
  CHECK(b(1, 0) == 255);
  CHECK(b(0, 2) == 4);
  // max_items keeps the first vectors only.
  CHECK(parse_vecs<std::uint8_t>(bvecs.data(), bvecs.size(), "b", 2).cols() == 2);
  CHECK(parse_vecs<std::uint8_t>(bvecs.data(), bvecs.size(), "b", 0).cols() == 0);
  // An empty file holds no vectors.
  CHECK(parse_vecs<float>("", 0, "empty").size() == 0);
}

TEST_CASE("vecs: files round-trip through the writer", "[io][vecs]") {
  test::TempDir dir;
  const MatrixF features = MatrixF::Random(16, 9);
  write_fvecs(dir.file("base.fvecs"), features);
  CHECK(read_fvecs(dir.file("base.fvecs")) == features);
  CHECK(read_fvecs(dir.file("base.fvecs"), 4) == features.leftCols(4));
  CHECK(test::read_bytes(dir.file("base.fvecs")).size() == 9 * (4 + 16 * 4));
  // Expressions are evaluated column by column.
  write_fvecs(dir.file("twice.fvecs"), features.transpose().transpose() * 2.0F);
  CHECK(read_fvecs(dir.file("twice.fvecs")) == features * 2.0F);

  Matrix<std::int32_t> truth(3, 2);
  truth << 5, 1, 0, 2, 9, 3;
  write_vecs(dir.file("gt.ivecs"), truth);
  CHECK(read_ivecs(dir.file("gt.ivecs")) == truth);
  Matrix<std::uint8_t> bytes(2, 2);
  bytes << 0, 255, 128, 7;
  write_vecs(dir.file("b.bvecs"), bytes);
  CHECK(read_bvecs(dir.file("b.bvecs")) == bytes);

  write_fvecs(dir.file("none.fvecs"), MatrixF(4, 0));
  CHECK(read_fvecs(dir.file("none.fvecs")).size() == 0);
  require_error<InvalidArgument>([&] { write_fvecs(dir.file("bad.fvecs"), MatrixF(0, 3)); },
                                 {"bad.fvecs", "rows"});
  require_error<IoError>([&] { read_fvecs(dir.file("missing.fvecs")); }, {"missing.fvecs"});
}

TEST_CASE("vecs: malformed files are FormatErrors naming the file and record", "[io][vecs]") {
  require_vecs_error<float>(std::string("\x01\x00", 2), {".fvecs", "4-byte dimension", "truncated"});
  require_vecs_error<float>(le32(0) + f32(1.0F), {"positive dimension", "found 0"});
  require_vecs_error<float>(le32(-4), {"positive dimension", "found -4"});
  require_vecs_error<float>(le32(2) + f32(1) + f32(2) + le32(3) + f32(1) + f32(2),
                            {"record 1", "dimension 3", "expected 2"});
  require_vecs_error<float>(le32(2) + f32(1) + f32(2) + le32(3) + f32(1) + f32(2) + f32(3),
                            {"record 1", "dimension 3"});
  require_vecs_error<float>(le32(2) + f32(1) + f32(2) + le32(2) + f32(1),
                            {"last record is truncated", "12-byte"});
  require_vecs_error<std::int32_t>(le32(1) + le32(5) + "\x01\x00", {".ivecs", "truncated"});
  require_vecs_error<std::uint8_t>(le32(1) + "x" + le32(2) + "yy",
                                   {".bvecs", "record 1", "dimension 2", "expected 1"});
}

}  // namespace rlhash::test_vecs
