#include <catch.hpp>
#include <test_util.hpp>

#include "rlhash/io/array_spec.hpp"
#include "test_io_helpers.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_array_spec {
using test::require_error;

TEST_CASE("array specs pick the reader by content and name", "[io][spec]") {
  test::TempDir dir;
  const MatrixF features = MatrixF::Random(4, 3);
  const std::vector<std::int32_t> labels = {2, 0, 1};
  write_npy_matrix(dir.file("f.npy"), features);
  write_npz(dir.file("both.npz"), {{"x", NdArray::from_data(features.data(), {3, 4})},
                                   {"y", NdArray::from_data(labels.data(), {3})}});
  write_npz(dir.file("one.npz"), {{"only", NdArray::from_data(labels.data(), {3})}});
  write_fvecs(dir.file("f.fvecs"), features);
  write_vecs(dir.file("l.ivecs"), Matrix<std::int32_t>::Map(labels.data(), 1, 3));
  write_vecs(dir.file("b.bvecs"), Matrix<std::uint8_t>::Constant(2, 5, 7));
  const std::string idx = std::string("\x00\x00\x08\x02\x00\x00\x00\x02\x00\x00\x00\x02\x01\x02\x03\x04", 16);
  test::write_bytes(dir.file("images-idx2-ubyte"), idx);

  CHECK(read_matrix_spec<float>(dir.file("f.npy")) == features);
  CHECK(read_matrix_spec<float>(dir.file("both.npz") + ":x") == features);
  CHECK(read_array_spec(dir.file("both.npz") + ":y").to_vector<std::int32_t>() == labels);
  CHECK(read_array_spec(dir.file("one.npz")).to_vector<std::int32_t>() == labels);
  CHECK(read_matrix_spec<float>(dir.file("f.fvecs")) == features);
  CHECK(read_array_spec(dir.file("l.ivecs")).to_vector<std::int32_t>() == labels);
  CHECK(read_array_spec(dir.file("b.bvecs")).shape() == std::vector<Index>{5, 2});
  const NdArray images = read_array_spec(dir.file("images-idx2-ubyte"));
  CHECK(images.shape() == std::vector<Index>{2, 2});
  CHECK(images.to_vector<int>() == std::vector<int>{1, 2, 3, 4});
  // The format comes from the bytes, not the name.
  test::write_bytes(dir.file("renamed.dat"), test::read_bytes(dir.file("f.npy")));
  CHECK(read_matrix_spec<float>(dir.file("renamed.dat")) == features);

  require_error<InvalidArgument>([&] { read_array_spec(dir.file("both.npz")); },
                                 {"both.npz", "2 arrays", "x, y", ":<name>"});
  require_error([&] { read_array_spec(dir.file("both.npz") + ":z"); }, {"both.npz", "no array 'z'"});
  test::write_bytes(dir.file("notes.txt"), "hello");
  require_error([&] { read_array_spec(dir.file("notes.txt")); }, {"notes.txt", "cannot tell its format"});
  require_error<IoError>([&] { read_array_spec(dir.file("absent.npy")); }, {"absent.npy"});
}

}  // namespace rlhash::test_array_spec
