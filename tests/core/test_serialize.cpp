#include <catch.hpp>
#include <test_util.hpp>

#include "rlhash/core/config.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_serialize {

namespace {
struct ToyConfig {
  int hidden = 16;
  double learning_rate = 1e-3;
  bool shared_head = true;
  std::string name = "toy";
  template <class V>
  void visit(V&& field) {
    field("hidden", hidden);
    field("learning_rate", learning_rate);
    field("shared_head", shared_head);
    field("name", name);
  }
};
}  // namespace

TEST_CASE("crc32 matches the IEEE check value", "[core]") {
  const char text[] = "123456789";
  CHECK(crc32(text, 9) == 0xCBF43926U);
  CHECK(crc32(text + 4, 5, crc32(text, 4)) == 0xCBF43926U);
}

TEST_CASE("envelope round-trips and rejects corruption", "[core]") {
  test::TempDir dir;
  const auto path = dir.file("x.bin");
  ByteWriter payload;
  payload.put<std::int32_t>(42);
  payload.put_string("hello");
  Eigen::MatrixXd m = Eigen::MatrixXd::Random(3, 4);
  payload.put_matrix(m);
  write_enveloped(path, {"RLHTEST0", 2}, payload.bytes());

  auto bytes = read_file_bytes(path);
  const auto view = open_envelope(bytes, path, "RLHTEST0", 2);
  CHECK(view.version == 2);
  ByteReader in(bytes.data() + view.payload_offset, view.payload_size, path);
  CHECK(in.get<std::int32_t>() == 42);
  CHECK(in.get_string() == "hello");
  CHECK(in.get_matrix<double>() == m);
  in.expect_end();

  SECTION("newer version") { CHECK_THROWS_AS(open_envelope(bytes, path, "RLHTEST0", 1), FormatError); }
  SECTION("foreign magic") { CHECK_THROWS_AS(open_envelope(bytes, path, "RLHOTHER", 2), FormatError); }
  SECTION("flipped byte") {
    bytes[30] ^= 0x10;
    CHECK_THROWS_AS(open_envelope(bytes, path, "RLHTEST0", 2), FormatError);
  }
  SECTION("truncated") {
    bytes.resize(bytes.size() - 3);
    CHECK_THROWS_AS(open_envelope(bytes, path, "RLHTEST0", 2), FormatError);
  }
  SECTION("reader never reads past the end") {
    ByteReader short_reader(bytes.data() + view.payload_offset, 6, path);
    short_reader.get<std::int32_t>();
    CHECK_THROWS_AS(short_reader.get_string(), FormatError);
  }
}

TEST_CASE("config fields parse, list and round-trip", "[core]") {
  ToyConfig config;
  set_field(config, "hidden", "64");
  set_field(config, "learning_rate", "0.5");
  set_field(config, "shared_head", "false");
  CHECK(config.hidden == 64);
  CHECK(config.learning_rate == 0.5);
  CHECK_FALSE(config.shared_head);
  CHECK_THROWS_WITH(set_field(config, "hiden", "3"),
                    Catch::Contains("hidden, learning_rate, shared_head, name"));
  CHECK_THROWS_AS(set_field(config, "hidden", "3.5"), InvalidArgument);
  CHECK_THROWS_AS(set_field(config, "shared_head", "maybe"), InvalidArgument);

  ByteWriter out;
  save_config(out, config);
  ByteReader in(out.bytes().data(), out.bytes().size(), "mem");
  const auto back = load_config<ToyConfig>(in);
  CHECK(back.hidden == 64);
  CHECK(back.learning_rate == 0.5);
  CHECK_FALSE(back.shared_head);
}

TEST_CASE("random draws are fixed for a seed", "[core]") {
  Rng rng(7);
  std::vector<int> items{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  shuffle(items, rng);
  Rng again(7);
  std::vector<int> same{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  shuffle(same, again);
  CHECK(items == same);
  Rng bounded(1);
  for (int i = 0; i < 1000; ++i) CHECK(uniform_below(bounded, 13) < 13);
  Rng unit(2);
  for (int i = 0; i < 1000; ++i) {
    const double u = uniform_unit(unit);
    CHECK((u >= 0.0 && u < 1.0));
  }
}

}  // namespace rlhash::test_serialize
