#include <catch.hpp>

#include <algorithm>
#include <set>

#include "rlhash/bch/adapted_bch_code.hpp"
#include "rlhash/bch/bch_code.hpp"
#include "rlhash/core/random.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_bch_code {

namespace {

using Words = std::vector<std::uint64_t>;

Words random_message(Rng& rng, int bits) {
  Words w((static_cast<std::size_t>(bits) + 63) / 64);
  for (auto& x : w) x = rng();
  if (bits % 64 != 0) w.back() &= (std::uint64_t{1} << (bits % 64)) - 1;
  return w;
}

int distance(const Words& a, const Words& b) {
  int d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d += __builtin_popcountll(a[i] ^ b[i]);
  return d;
}

// Flips `count` distinct random positions of [lo, hi).
void add_errors(Words& word, int count, int lo, int hi, Rng& rng) {
  for (std::int64_t p : sample_without_replacement(hi - lo, count, rng)) {
    const auto pos = static_cast<std::size_t>(lo + p);
    word[pos / 64] ^= std::uint64_t{1} << (pos % 64);
  }
}

// Reference encoder by polynomial division: x^r m(x) + (x^r m(x) mod g(x)).
Words reference_encode(const BchCode& code, const Words& message) {
  const Gf2Poly shifted = Gf2Poly::from_words(message).shifted(code.parity_bits());
  Words out = (shifted + shifted % code.generator()).words();
  out.resize(static_cast<std::size_t>(code.codeword_words()), 0);
  return out;
}

// Minimum weight of the nonzero codewords by Gray-code enumeration of all 2^k messages.
int enumerate_min_distance(const BchCode& code) {
  const int k = code.k();
  std::vector<Words> rows;
  for (int j = 0; j < k; ++j) {
    Words unit(static_cast<std::size_t>(code.message_words()), 0);
    unit[static_cast<std::size_t>(j / 64)] |= std::uint64_t{1} << (j % 64);
    rows.push_back(code.encode(unit));
  }
  Words current(static_cast<std::size_t>(code.codeword_words()), 0);
  int best = code.n();
  for (std::uint64_t i = 1; i < (std::uint64_t{1} << k); ++i) {
    const Words& row = rows[static_cast<std::size_t>(__builtin_ctzll(i))];
    int weight = 0;
    for (std::size_t w = 0; w < current.size(); ++w) {
      current[w] ^= row[w];
      weight += __builtin_popcountll(current[w]);
    }
    best = std::min(best, weight);
  }
  return best;
}

std::vector<int> trial_ts(int m) {
  const int t_max = ((1 << m) - 2) / 2;
  std::set<int> ts{1, 2, 3, 4, 5, 8, t_max / 4, t_max / 2, t_max - 1, t_max};
  if (m <= 6)
    for (int t = 1; t <= t_max; ++t) ts.insert(t);
  std::vector<int> out;
  for (int t : ts)
    if (t >= 1 && t <= t_max) out.push_back(t);
  return out;
}

}  // namespace

TEST_CASE("BCH generators have their defining properties for larger m", "[bch]") {
  const std::vector<std::pair<int, int>> cases = {{6, 1},  {6, 4},  {7, 3},   {8, 2},  {8, 9},   {8, 20},
                                                  {9, 7},  {10, 1}, {10, 25}, {11, 5}, {12, 30}, {13, 3},
                                                  {14, 2}, {15, 2}, {16, 1},  {16, 4}};
  for (auto [m, t] : cases) {
    INFO("m = " << m << ", t = " << t);
    const BchCode code(m, t);
    const int n = code.n();
    CHECK(n == (1 << m) - 1);
    CHECK(code.generator().degree() == n - code.k());
    CHECK(code.k() == BchCode::dimension_for(m, t));
    CHECK(code.k() > 0);
    // g divides x^n - 1.
    CHECK((Gf2Poly::monomial(n) + Gf2Poly(1)) % code.generator() == Gf2Poly());
    // Roots alpha^1..alpha^{2 t_effective}; alpha^{2 t_effective + 1} is not a root.
    REQUIRE(code.t_effective() >= t);
    for (int j = 1; j <= 2 * code.t_effective(); ++j)
      CHECK(code.generator().evaluate(code.field(), code.field().alpha_power(j)) == 0);
    if (2 * code.t_effective() + 1 < n)
      CHECK(code.generator().evaluate(code.field(), code.field().alpha_power(2 * code.t_effective() + 1)) !=
            0);
    // deg g <= m t (each odd j adds at most one minimal polynomial of degree <= m).
    CHECK(n - code.k() <= m * t);
  }
}

TEST_CASE("the fast encoder equals polynomial division, and codewords have zero syndromes", "[bch]") {
  const std::vector<std::pair<int, int>> cases = {{2, 1},   {3, 1},  {3, 3},  {4, 2},  {5, 3},  {6, 5},
                                                  {7, 9},   {8, 4},  {8, 8},  {8, 16}, {8, 30}, {9, 20},
                                                  {10, 60}, {11, 2}, {12, 7}, {16, 2}};
  Rng rng(11);
  for (auto [m, t] : cases) {
    INFO("m = " << m << ", t = " << t);
    const BchCode code(m, t);
    for (int trial = 0; trial < 5; ++trial) {
      const Words message = random_message(rng, code.k());
      const Words codeword = code.encode(message);
      CHECK(codeword == reference_encode(code, message));
      CHECK(code.is_codeword(codeword.data()));
      const auto s = code.syndromes(codeword.data());
      CHECK(std::all_of(s.begin(), s.end(), [](auto v) { return v == 0; }));
      // Systematic: the message sits in bits r..n-1.
      Words back((message.size()), 0);
      detail::copy_bits(back.data(), 0, codeword.data(), static_cast<std::size_t>(code.parity_bits()),
                        static_cast<std::size_t>(code.k()));
      CHECK(back == message);
    }
  }
}

TEST_CASE("syndromes of a single error are powers of alpha", "[bch]") {
  const BchCode code(6, 3);
  Words word(static_cast<std::size_t>(code.codeword_words()), 0);
  word[0] = std::uint64_t{1} << 37;
  const auto s = code.syndromes(word.data());
  REQUIRE(s.size() == 6);
  for (int j = 1; j <= 6; ++j) CHECK(s[static_cast<std::size_t>(j - 1)] == code.field().alpha_power(37 * j));
  CHECK_FALSE(code.is_codeword(word.data()));
}

TEST_CASE("minimum distance by enumeration meets the BCH bound (and equals it for m <= 6)", "[bch]") {
  for (int m = 3; m <= 8; ++m) {
    const int t_max = ((1 << m) - 2) / 2;
    for (int t = 1; t <= t_max;) {
      const BchCode code(m, t);
      if (code.k() <= 16) {
        const int d = enumerate_min_distance(code);
        INFO("BCH(" << code.n() << ", " << code.k() << "), t_effective = " << code.t_effective()
                    << ", d = " << d);
        CHECK(d >= 2 * code.t_effective() + 1);
        if (m <= 6) CHECK(d == 2 * code.t_effective() + 1);
      }
      t = code.t_effective() + 1;
    }
  }
}

TEST_CASE("decoding corrects up to t random errors for every m <= 10", "[bch]") {
  Rng rng(2024);
  BchCode::Workspace ws;
  for (int m = 2; m <= 10; ++m)
    for (int t : trial_ts(m)) {
      const BchCode code(m, t);
      INFO("BCH(" << code.n() << ", " << code.k() << ") t = " << t);
      const int trials = t > 60 ? 20 : 300;
      int failures = 0;
      for (int trial = 0; trial < trials; ++trial) {
        const Words codeword = code.encode(random_message(rng, code.k()));
        const int errors =
            trial == 0 ? t : static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(t) + 1));
        Words received = codeword;
        add_errors(received, errors, 0, code.n(), rng);
        const int result = code.decode(received.data(), ws);
        if (result != errors || received != codeword) ++failures;
      }
      CHECK(failures == 0);
    }
}

TEST_CASE("beyond t errors the decoder fails or returns a codeword within t", "[bch]") {
  Rng rng(77);
  BchCode::Workspace ws;
  int detected = 0, total = 0;
  for (int m = 3; m <= 10; ++m)
    for (int t : trial_ts(m)) {
      const BchCode code(m, t);
      INFO("BCH(" << code.n() << ", " << code.k() << ") t = " << t);
      const int trials = t > 60 ? 12 : 160;
      for (int trial = 0; trial < trials; ++trial) {
        Words received;
        if (trial % 4 == 3) {
          received = random_message(rng, code.n());  // pure noise
        } else {
          received = code.encode(random_message(rng, code.k()));
          const int extra = 1 + static_cast<int>(uniform_below(rng, 3));
          add_errors(received, std::min(t + extra, code.n()), 0, code.n(), rng);
        }
        Words decoded = received;
        const int result = code.decode(decoded.data(), ws);
        ++total;
        if (result == BchCode::decode_failure) {
          ++detected;
          CHECK(decoded == received);  // untouched on failure
        } else {
          CHECK(code.is_codeword(decoded.data()));
          CHECK(distance(decoded, received) == result);
          CHECK(result <= t);
        }
      }
    }
  // Most overloaded words are detected (the fraction within t of another codeword is small).
  INFO(detected << " of " << total << " detected");
  CHECK(detected > total / 2);
}

TEST_CASE("decoder with t below t_effective corrects exactly t", "[bch]") {
  // BCH(31, 11) has t = 4 requested but t_effective = 5; a t = 4 decoder must refuse 5 errors
  // (or land on a codeword within 4), a t = 5 decoder corrects them.
  Rng rng(3);
  const BchCode four(5, 4), five(5, 5);
  REQUIRE(four.generator() == five.generator());
  for (int trial = 0; trial < 50; ++trial) {
    const Words codeword = four.encode(random_message(rng, four.k()));
    Words received = codeword;
    add_errors(received, 5, 0, 31, rng);
    Words a = received, b = received;
    const int ra = four.decode(a.data());
    if (ra != BchCode::decode_failure) CHECK(distance(a, received) <= 4);
    CHECK(five.decode(b.data()) == 5);
    CHECK(b == codeword);
  }
}

TEST_CASE("BCH construction rejects bad parameters", "[bch]") {
  CHECK_THROWS_AS(BchCode(4, 0), InvalidArgument);
  CHECK_THROWS_WITH(BchCode(4, 8), Catch::Contains("k = 0"));
  CHECK_NOTHROW(BchCode(4, 7));
  CHECK_THROWS_AS(BchCode(17, 1), InvalidArgument);
  CHECK_THROWS_WITH(BchCode(4, 1, 0x1f), Catch::Contains("not primitive"));
  const BchCode code(4, 2);
  CHECK_THROWS_AS(code.encode(Words{0x80}), InvalidArgument);  // bit 7 >= k = 7
  CHECK_THROWS_AS(code.encode(Words{1, 0}), InvalidArgument);
  CHECK(BchCode::dimension_for(4, 8) == 0);
}

TEST_CASE("shortened, punctured and padded codes encode and decode within their radius", "[bch]") {
  struct Case {
    int m, t, shortened, punctured, padding;
  };
  const std::vector<Case> cases = {{4, 3, 1, 0, 2},    {5, 7, 2, 0, 1},     {5, 3, 0, 2, 0},
                                   {5, 3, 4, 3, 5},    {6, 5, 20, 4, 0},    {7, 10, 50, 5, 9},
                                   {8, 8, 100, 7, 64}, {10, 20, 500, 12, 3}};
  Rng rng(99);
  for (const Case& c : cases) {
    BchAdaptation a;
    a.shortened = c.shortened;
    a.punctured = c.punctured;
    a.padding = c.padding;
    a.padding_bits = BchAdaptation::random_padding(c.padding, rng);
    const AdaptedBchCode code(BchCode(c.m, c.t), a);
    INFO("m = " << c.m << " t = " << c.t << " s = " << c.shortened << " p = " << c.punctured
                << " pad = " << c.padding);
    REQUIRE(code.length() == (1 << c.m) - 1 - c.shortened - c.punctured + c.padding);
    REQUIRE(code.dimension() == code.base().k() - c.shortened);
    const int radius = code.correctable_errors();
    REQUIRE(radius == (2 * c.t - c.punctured) / 2);
    const int code_bits = code.code_length();
    for (int trial = 0; trial < 40; ++trial) {
      const Words message = random_message(rng, code.dimension());
      Words word(static_cast<std::size_t>(code.words()));
      code.encode(message.data(), word.data());
      Words back(message.size());
      code.extract_message(word.data(), back.data());
      CHECK(back == message);
      // Padding bits equal the pattern in every codeword.
      for (int i = 0; i < c.padding; ++i)
        CHECK(((word[static_cast<std::size_t>((code_bits + i) / 64)] >> ((code_bits + i) % 64)) & 1U) ==
              ((a.padding_bits[static_cast<std::size_t>(i / 64)] >> (i % 64)) & 1U));
      // Within the radius (plus arbitrary padding damage): recovered.
      const int errors = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(radius) + 1));
      Words received = word;
      add_errors(received, errors, 0, code_bits, rng);
      if (c.padding > 0) add_errors(received, 1, code_bits, code.length(), rng);
      CHECK(code.decode(received.data()) == errors);
      CHECK(received == word);
      // Beyond it: failure, or a codeword within the radius on the code bits.
      Words far = word;
      add_errors(far, std::min(radius + 1 + static_cast<int>(uniform_below(rng, 3)), code_bits), 0, code_bits,
                 rng);
      Words decoded = far;
      const int result = code.decode(decoded.data());
      if (result == BchCode::decode_failure) {
        CHECK(decoded == far);
      } else {
        CHECK(result <= radius);
        CHECK(distance(decoded, far) == result);
        Words m2(message.size()), re(word.size());
        code.extract_message(decoded.data(), m2.data());
        code.encode(m2.data(), re.data());
        CHECK(re == decoded);
      }
    }
  }
}

TEST_CASE("adaptation bounds are checked", "[bch]") {
  BchAdaptation a;
  a.shortened = 5;  // k = 5 for BCH(15, 5): nothing left
  CHECK_THROWS_AS(AdaptedBchCode(BchCode(4, 3), a), InvalidArgument);
  a.shortened = 0;
  a.punctured = 11;  // r = 10
  CHECK_THROWS_AS(AdaptedBchCode(BchCode(4, 3), a), InvalidArgument);
  a.punctured = 7;  // > 2t = 6: encodes, cannot decode
  const AdaptedBchCode code(BchCode(4, 3), a);
  CHECK(code.correctable_errors() == -1);
  CHECK(code.distance_bound() == 1);
  Words word(1, 0);
  CHECK_THROWS_AS(code.decode(word.data()), StateError);
}

}  // namespace rlhash::test_bch_code
