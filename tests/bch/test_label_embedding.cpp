#include <catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "rlhash/bch/code_families.hpp"
#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/core/random.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_label_embedding {

namespace {
int brute_distance(const BinaryCodes& a, Index i, const BinaryCodes& b, Index j) {
  int d = 0;
  for (int bit = 0; bit < a.bits(); ++bit) d += a.get(i, bit) != b.get(j, bit) ? 1 : 0;
  return d;
}
}  // namespace

TEST_CASE("default rule reproduces DRLH Table 1 radii for 10 classes", "[bch]") {
  const LabelEmbedding e16(10, 16, 1);
  CHECK(e16.m() == 4);
  CHECK(e16.t() == 3);
  CHECK(e16.code().base().k() == 5);
  CHECK(e16.padding() == 1);
  CHECK(e16.construction() == LabelEmbedding::Construction::padded);
  CHECK(e16.min_distance() >= 7);
  CHECK(e16.radius() == 3);
  CHECK(e16.description() == "BCH(15, 5) t = 3, + 1 random padding bit");

  const LabelEmbedding e32(10, 32, 1);
  CHECK(e32.m() == 5);
  CHECK(e32.t() == 7);
  CHECK(e32.code().base().k() == 6);
  CHECK(e32.padding() == 1);
  CHECK(e32.radius() == 7);
}

TEST_CASE("codewords are the BCH encodings of the class ids plus one shared padding", "[bch]") {
  for (int bits : {12, 16, 24, 31, 48, 64, 100}) {
    for (int classes : {2, 10, 21, 38, 81}) {
      INFO("C = " << classes << ", b = " << bits);
      const LabelEmbedding e(classes, bits, 7);
      const BinaryCodes& cw = e.codewords();
      REQUIRE(cw.size() == classes);
      REQUIRE(cw.bits() == bits);
      const AdaptedBchCode& code = e.code();
      CHECK(code.length() == bits);
      std::vector<std::uint64_t> word(static_cast<std::size_t>(code.words()));
      std::vector<std::uint64_t> message(static_cast<std::size_t>((code.dimension() + 63) / 64));
      for (int c = 0; c < classes; ++c) {
        code.encode_value(static_cast<std::uint64_t>(c), word.data());
        CHECK(std::equal(word.begin(), word.end(), cw.row(c)));
        code.extract_message(cw.row(c), message.data());
        CHECK(message[0] == static_cast<std::uint64_t>(c));
      }
      // Padding bits are identical across classes.
      for (int bit = code.code_length(); bit < bits; ++bit)
        for (int c = 1; c < classes; ++c) CHECK(cw.get(c, bit) == cw.get(0, bit));
      // Measured distance statistics.
      int min_d = bits;
      double sum = 0;
      for (int i = 0; i < classes; ++i)
        for (int j = i + 1; j < classes; ++j) {
          const int d = brute_distance(cw, i, cw, j);
          min_d = std::min(min_d, d);
          sum += d;
        }
      CHECK(e.min_distance() == min_d);
      CHECK(e.mean_distance() == Approx(sum / (0.5 * classes * (classes - 1))));
      CHECK(e.radius() == (min_d - 1) / 2);
      CHECK(e.min_distance() >= code.distance_bound());
      // The padded rule keeps m maximal; a cut-down code is used only when it must be.
      if (e.construction() == LabelEmbedding::Construction::padded) {
        CHECK((1 << e.m()) - 1 <= bits);
        CHECK((2 << e.m()) - 1 > bits);
        CHECK((std::int64_t{1} << code.dimension()) >= classes);
        // t is the largest that still labels every class.
        CHECK(BchCode::dimension_for(e.m(), e.t() + 1) < 64);
        CHECK((std::int64_t{1} << BchCode::dimension_for(e.m(), e.t() + 1)) < classes);
      }
    }
  }
}

TEST_CASE("seeds change only the padding", "[bch]") {
  const LabelEmbedding a(10, 20, 1), b(10, 20, 2), c(10, 20, 1);
  CHECK(a.codewords() == c.codewords());
  CHECK(a.codewords() != b.codewords());
  for (int cls = 0; cls < 10; ++cls)
    for (int bit = 0; bit < a.code().code_length(); ++bit)
      CHECK(a.codewords().get(cls, bit) == b.codewords().get(cls, bit));
}

TEST_CASE("fallback to a shortened/punctured longer code when padding cannot fit the classes", "[bch]") {
  // b = 7: m = 3 gives k <= 4 < 5 bits for 21 classes -> BCH(15, .) cut to 7 bits.
  const LabelEmbedding e(21, 7, 0);
  CHECK(e.construction() == LabelEmbedding::Construction::shortened_punctured);
  CHECK(e.m() == 4);
  CHECK(e.code().length() == 7);
  CHECK(e.padding() == 0);
  CHECK(e.code().shortened() + e.code().punctured() == 8);
  CHECK(e.min_distance() >= 1);
  CHECK(e.description().find("shortened") != std::string::npos);
  // b = 12, 81 classes: 7 message bits; BCH(15, 11) shortened by 3 keeps d = 3.
  const LabelEmbedding f(81, 12, 0);
  CHECK(f.m() == 4);
  CHECK(f.t() == 1);
  CHECK(f.code().shortened() == 3);
  CHECK(f.code().punctured() == 0);
  CHECK(f.min_distance() >= 3);
  CHECK_THROWS_AS(LabelEmbedding(9, 3, 0), InvalidArgument);  // 9 classes need 4 bits
  CHECK_THROWS_AS(LabelEmbedding(1, 16, 0), InvalidArgument);
}

TEST_CASE("explicit layouts", "[bch]") {
  LabelEmbeddingLayout layout;
  layout.m = 5;
  layout.t = 5;  // BCH(31, 11), d = 11
  layout.shortened = 3;
  const LabelEmbedding e(100, 32, 3, layout);
  CHECK(e.code().code_length() == 28);
  CHECK(e.code().length() == 32);
  CHECK(e.padding() == 4);
  CHECK(e.min_distance() >= 11);
  layout.shortened = 6;  // 5 message bits < 7 needed for 100 classes
  CHECK_THROWS_AS(LabelEmbedding(100, 32, 3, layout), InvalidArgument);
  layout.shortened = 0;
  CHECK_THROWS_AS(LabelEmbedding(10, 30, 3, layout), InvalidArgument);  // 31 bits do not fit 30
}

TEST_CASE("d_pos and d_neg match brute force for single- and multi-label items", "[bch]") {
  const int classes = 21, bits = 48;
  const LabelEmbedding e(classes, bits, 5);
  Rng rng(8);
  Rng code_rng(9);
  const BinaryCodes codes = random_codes(200, bits, code_rng);
  std::vector<std::int32_t> ids(200);
  for (auto& id : ids) id = static_cast<std::int32_t>(uniform_below(rng, classes));
  const Labels single = Labels::from_class_ids(ids, classes);
  std::vector<std::uint8_t> hot(200 * classes, 0);
  for (int i = 0; i < 200; ++i) {
    hot[static_cast<std::size_t>(i * classes) + static_cast<std::size_t>(ids[static_cast<std::size_t>(i)])] =
        1;
    if (i % 3 == 0) hot[static_cast<std::size_t>(i * classes) + uniform_below(rng, classes)] = 1;
  }
  const Labels multi = Labels::from_multi_hot(hot.data(), 200, classes);

  const RewardDistances rs = e.reward_distances(codes, single);
  const RewardDistances rm = e.reward_distances(codes, multi);
  for (Index i = 0; i < 200; ++i) {
    std::vector<int> d(classes);
    for (int c = 0; c < classes; ++c)
      d[static_cast<std::size_t>(c)] = brute_distance(codes, i, e.codewords(), c);
    const int id = ids[static_cast<std::size_t>(i)];
    double neg = 0;
    for (int c = 0; c < classes; ++c)
      if (c != id) neg += d[static_cast<std::size_t>(c)];
    neg /= classes - 1;
    CHECK(rs.d_pos[static_cast<std::size_t>(i)] == d[static_cast<std::size_t>(id)]);
    CHECK(rs.d_neg[static_cast<std::size_t>(i)] == Approx(neg));
    CHECK(e.d_pos(codes.row(i), id) == d[static_cast<std::size_t>(id)]);
    CHECK(e.d_neg(codes.row(i), id) == Approx(neg));
    CHECK(e.d_pos(codes.row(i), single, i) == d[static_cast<std::size_t>(id)]);

    int pos = bits;
    double other = 0;
    int others = 0;
    for (int c = 0; c < classes; ++c) {
      if (multi.has(i, c))
        pos = std::min(pos, d[static_cast<std::size_t>(c)]);
      else {
        other += d[static_cast<std::size_t>(c)];
        ++others;
      }
    }
    CHECK(rm.d_pos[static_cast<std::size_t>(i)] == pos);
    CHECK(rm.d_neg[static_cast<std::size_t>(i)] == Approx(other / others));
    CHECK(e.d_neg(codes.row(i), multi, i) == Approx(other / others));
  }
  // Subset form: code row i belongs to item items[i].
  const std::vector<Index> items = {5, 0, 199};
  const RewardDistances sub = e.reward_distances(codes.rows({5, 0, 199}), single, items);
  CHECK(sub.d_pos == std::vector<int>{rs.d_pos[5], rs.d_pos[0], rs.d_pos[199]});
  CHECK_THROWS_AS(e.reward_distances(codes.rows({1, 2}), single, items), InvalidArgument);
  CHECK_THROWS_AS(e.reward_distances(random_codes(200, 32, code_rng), single), InvalidArgument);
  CHECK_THROWS_AS(e.d_pos(codes.row(0), classes), InvalidArgument);
  // A codeword is at distance 0 of its own class and decodes to it.
  for (int c = 0; c < classes; ++c) {
    CHECK(e.d_pos(e.codewords().row(c), c) == 0);
    CHECK(e.nearest_class(e.codewords().row(c)) == c);
  }
}

TEST_CASE("multi-word codes (b > 64) and an item without labels", "[bch]") {
  const LabelEmbedding e(38, 130, 4);
  REQUIRE(e.codewords().words() == 3);
  Rng rng(1);
  const BinaryCodes codes = random_codes(10, 130, rng);
  for (Index i = 0; i < 10; ++i)
    for (int c = 0; c < 38; ++c)
      CHECK(e.distance_to_class(codes.row(i), c) == brute_distance(codes, i, e.codewords(), c));
  std::vector<std::uint8_t> hot(2 * 38, 0);
  hot[3] = 1;
  const Labels labels = Labels::from_multi_hot(hot.data(), 2, 38);
  CHECK_NOTHROW(e.d_pos(codes.row(0), labels, 0));
  CHECK_THROWS_WITH(e.d_pos(codes.row(1), labels, 1), Catch::Contains("no label"));
}

TEST_CASE("label embedding serialization round-trips and detects corruption", "[bch]") {
  for (auto [classes, bits] : std::vector<std::pair<int, int>>{{10, 16}, {21, 7}, {81, 64}, {38, 130}}) {
    const LabelEmbedding e(classes, bits, 42);
    ByteWriter out;
    out.put<std::uint32_t>(7);  // something before, as in a model file
    e.save(out);
    out.put<std::uint32_t>(9);  // and after
    ByteReader in(out.bytes().data(), out.bytes().size(), "model.rlh");
    CHECK(in.get<std::uint32_t>() == 7);
    const LabelEmbedding back = LabelEmbedding::load(in);
    CHECK(in.get<std::uint32_t>() == 9);
    CHECK(back.codewords() == e.codewords());
    CHECK(back.min_distance() == e.min_distance());
    CHECK(back.description() == e.description());
    CHECK(back.seed() == 42);

    // Flip a bit inside the stored codewords (the last bytes of the record).
    std::vector<char> bytes = out.bytes();
    bytes[bytes.size() - 4 - 3] ^= 1;
    ByteReader bad(bytes.data() + 4, bytes.size() - 4, "model.rlh");
    CHECK_THROWS_WITH(LabelEmbedding::load(bad),
                      Catch::Contains("model.rlh") && Catch::Contains("codewords"));
    // Truncation.
    ByteReader cut(out.bytes().data() + 4, 30, "model.rlh");
    CHECK_THROWS_AS(LabelEmbedding::load(cut), FormatError);
  }
  // A lying header: an invalid t becomes a FormatError, not a crash.
  ByteWriter out;
  LabelEmbedding(10, 16, 0).save(out);
  std::vector<char> bytes = out.bytes();
  const std::int32_t huge_t = 1000;
  std::memcpy(bytes.data() + 4 + 4 + 4 + 4 + 8 + 4, &huge_t, 4);
  ByteReader in(bytes.data(), bytes.size(), "x.rlh");
  CHECK_THROWS_AS(LabelEmbedding::load(in), FormatError);
}

TEST_CASE("the spread fill: no bit the same for every class, padding repeats the code", "[bch]") {
  // 10 classes: the paper's fill leaves the padding and the unused top message bits constant.
  for (int bits : {12, 24, 32, 48, 100}) {
    INFO("b = " << bits);
    const LabelEmbedding paper(10, bits, 3);
    const LabelEmbedding spread(10, bits, 3, LabelCodeFill::spread);
    CHECK(spread.fill() == LabelCodeFill::spread);
    CHECK(paper.fill() == LabelCodeFill::paper);
    CHECK(spread.layout().m == paper.layout().m);  // the same code
    CHECK(spread.layout().t == paper.layout().t);
    CHECK(spread.min_distance() >= paper.min_distance());
    const BinaryCodes& cw = spread.codewords();
    const int code_bits = spread.code().code_length();
    for (int bit = 0; bit < bits; ++bit) {
      bool varies = false;
      for (int c = 1; c < 10; ++c) varies = varies || cw.get(c, bit) != cw.get(0, bit);
      CHECK(varies);
    }
    // Padding bit code_bits + i repeats code bit i mod code_bits.
    for (int c = 0; c < 10; ++c)
      for (int bit = code_bits; bit < bits; ++bit)
        CHECK(cw.get(c, bit) == cw.get(c, (bit - code_bits) % code_bits));
    // Messages: 0, the unit vectors, then the smallest unused values (k = dimension).
    std::vector<std::uint64_t> expected{0};
    for (int j = 0; j < spread.code().dimension() && expected.size() < 10; ++j)
      expected.push_back(std::uint64_t{1} << j);
    for (std::uint64_t v = 3; expected.size() < 10; ++v)
      if (std::find(expected.begin(), expected.end(), v) == expected.end()) expected.push_back(v);
    std::vector<std::uint64_t> message(static_cast<std::size_t>((spread.code().dimension() + 63) / 64));
    for (int c = 0; c < 10; ++c) {
      spread.code().extract_message(cw.row(c), message.data());
      CHECK(message[0] == expected[static_cast<std::size_t>(c)]);
    }
  }
  // Other class counts: distinct codewords, and no constant bit once C > the message bits.
  for (int bits : {12, 24, 48, 100}) {
    for (int classes : {2, 21, 38, 81}) {
      INFO("C = " << classes << ", b = " << bits);
      const LabelEmbedding e(classes, bits, 7, LabelCodeFill::spread);
      const BinaryCodes& cw = e.codewords();
      CHECK(e.min_distance() >= 1);
      if (classes <= e.code().dimension()) continue;
      for (int bit = 0; bit < bits; ++bit) {
        bool varies = false;
        for (int c = 1; c < classes; ++c) varies = varies || cw.get(c, bit) != cw.get(0, bit);
        CHECK(varies);
      }
    }
  }
  // Hand-checked at 12 bits: BCH(7, 4) + 5 repeated bits; the distance grows from 3 to 4.
  CHECK(LabelEmbedding(10, 12, 0).min_distance() == 3);
  CHECK(LabelEmbedding(10, 12, 0, LabelCodeFill::spread).min_distance() == 4);
  CHECK(LabelEmbedding(10, 48, 0, LabelCodeFill::spread).min_distance() == 21);
  CHECK(LabelEmbedding(10, 12, 0, LabelCodeFill::spread).description() ==
        "BCH(7, 4) t = 1, + 5 padding bits repeating the code, spread messages");
  // The seed draws the paper's padding only: spread codewords do not depend on it.
  CHECK(LabelEmbedding(10, 48, 1, LabelCodeFill::spread).codewords() ==
        LabelEmbedding(10, 48, 2, LabelCodeFill::spread).codewords());
}

TEST_CASE("the fill is saved, version-1 records load as the paper's fill, and names are checked", "[bch]") {
  const LabelEmbedding spread(10, 24, 5, LabelCodeFill::spread);
  ByteWriter out;
  spread.save(out);
  ByteReader in(out.bytes().data(), out.bytes().size(), "model.rlh");
  const LabelEmbedding back = LabelEmbedding::load(in);
  CHECK(back.fill() == LabelCodeFill::spread);
  CHECK(back.codewords() == spread.codewords());

  // A version-1 record (before the fill existed): the same fields without the fill byte.
  const LabelEmbedding paper(10, 24, 5);
  ByteWriter v1;
  v1.put<std::uint32_t>(0x424d454cU);
  v1.put<std::uint32_t>(1);
  v1.put<std::int32_t>(10);
  v1.put<std::int32_t>(24);
  v1.put<std::uint64_t>(5);
  v1.put<std::int32_t>(paper.layout().m);
  v1.put<std::int32_t>(paper.layout().t);
  v1.put<std::uint32_t>(paper.code().base().primitive_polynomial());
  v1.put<std::int32_t>(0);
  v1.put<std::int32_t>(0);
  v1.put_vector(std::vector<std::uint64_t>(paper.codewords().data(), paper.codewords().data() + 10));
  ByteReader old(v1.bytes().data(), v1.bytes().size(), "old.rlh");
  const LabelEmbedding loaded = LabelEmbedding::load(old);
  CHECK(loaded.fill() == LabelCodeFill::paper);
  CHECK(loaded.codewords() == paper.codewords());

  // An unknown fill byte is a FormatError naming the file.
  std::vector<char> bytes = out.bytes();
  const std::size_t fill_at = 4 + 4 + 4 + 4 + 8 + 4 + 4 + 4 + 4 + 4;
  REQUIRE(bytes[fill_at] == 1);
  bytes[fill_at] = 7;
  ByteReader bad(bytes.data(), bytes.size(), "model.rlh");
  CHECK_THROWS_WITH(LabelEmbedding::load(bad), Catch::Contains("model.rlh") && Catch::Contains("fill"));

  CHECK(parse_label_code_fill("spread", "x") == LabelCodeFill::spread);
  CHECK_THROWS_WITH(parse_label_code_fill("random", "drlh: label_code"),
                    Catch::Contains("drlh: label_code") && Catch::Contains("paper or spread"));
}

TEST_CASE("Hadamard matrices and codes", "[bch]") {
  for (int order : {1, 2, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 48, 56, 60, 64, 72, 80, 96, 128}) {
    INFO("order " << order);
    const Eigen::MatrixXi h = hadamard_matrix(order);
    REQUIRE(h.rows() == order);
    CHECK((h.array().abs() == 1).all());
    CHECK((h * h.transpose() - order * Eigen::MatrixXi::Identity(order, order)).cwiseAbs().maxCoeff() == 0);
  }
  CHECK(hadamard_matrix(6).size() == 0);
  CHECK(hadamard_matrix(18).size() == 0);
  CHECK_FALSE(has_hadamard_code(10, 18));
  CHECK_FALSE(has_hadamard_code(33, 16));
  CHECK(has_hadamard_code(32, 16));
  const BinaryCodes codes = hadamard_codes(24, 12);
  const DistanceStats s = pairwise_distance_stats(codes);
  CHECK(s.min == 6);
  CHECK(s.max == 12);
  const DistanceStats s10 = pairwise_distance_stats(hadamard_codes(10, 16));
  CHECK(s10.min == 8);
  CHECK(s10.max == 8);
  CHECK(s10.mean == 8.0);
  CHECK_THROWS_AS(hadamard_codes(10, 18), InvalidArgument);
}

}  // namespace rlhash::test_label_embedding
