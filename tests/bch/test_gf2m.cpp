#include <catch.hpp>

#include "rlhash/bch/gf2_poly.hpp"
#include "rlhash/bch/gf2m.hpp"
#include "rlhash/core/random.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_gf2m {

namespace {
// Carry-less multiplication modulo p: the reference the table arithmetic must agree with.
std::uint32_t slow_multiply(std::uint32_t a, std::uint32_t b, std::uint32_t p, int m) {
  std::uint32_t out = 0;
  for (int i = 0; i < m; ++i) {
    if ((b >> i) & 1U) out ^= a;
    a <<= 1;
    if (a >> m) a ^= p;
  }
  return out;
}
}  // namespace

TEST_CASE("GF(2^m) table arithmetic agrees with carry-less multiplication", "[bch]") {
  for (int m = 2; m <= 16; ++m) {
    INFO("m = " << m);
    const GaloisField f(m);
    const std::uint32_t size = f.size();
    REQUIRE(f.order() == size - 1);
    Rng rng(static_cast<std::uint64_t>(m));
    for (int trial = 0; trial < 2000; ++trial) {
      const auto a = static_cast<std::uint32_t>(uniform_below(rng, size));
      const auto b = static_cast<std::uint32_t>(uniform_below(rng, size));
      const auto c = static_cast<std::uint32_t>(uniform_below(rng, size));
      CHECK(f.multiply(a, b) == slow_multiply(a, b, f.primitive_polynomial(), m));
      CHECK(f.multiply(a, f.add(b, c)) == f.add(f.multiply(a, b), f.multiply(a, c)));
      if (a != 0) {
        CHECK(f.multiply(a, f.inverse(a)) == 1);
        CHECK(f.divide(f.multiply(a, b), a) == b);
        CHECK(f.alpha_power(f.log(a)) == a);
        CHECK(f.power(a, -1) == f.inverse(a));
        CHECK(f.power(a, f.order()) == 1);
        CHECK(f.power(a, 5 * static_cast<std::int64_t>(f.order()) + 3) == f.power(a, 3));
      }
      const auto e = static_cast<std::int64_t>(uniform_below(rng, 81)) - 40;
      std::uint32_t expected = 1;
      if (a != 0 || e >= 0) {
        const std::uint32_t base = e >= 0 ? a : f.inverse(a);
        for (std::int64_t i = 0; i < (e >= 0 ? e : -e); ++i)
          expected = slow_multiply(expected, base, f.primitive_polynomial(), m);
        CHECK(f.power(a, e) == expected);
      }
    }
  }
}

TEST_CASE("alpha generates the whole multiplicative group", "[bch]") {
  for (int m = 2; m <= 12; ++m) {
    const GaloisField f(m);
    std::vector<char> seen(f.size(), 0);
    for (std::uint32_t i = 0; i < f.order(); ++i) {
      const auto v = f.alpha_power(i);
      REQUIRE(v != 0);
      REQUIRE(v < f.size());
      CHECK_FALSE(seen[v]);
      seen[v] = 1;
    }
    CHECK(f.alpha_power(f.order()) == 1);
    CHECK(f.alpha_power(-1) == f.inverse(f.alpha_power(1)));
  }
}

TEST_CASE("non-primitive polynomials are rejected with the reason", "[bch]") {
  // x^4 + x^3 + x^2 + x + 1 is irreducible but x has order 5.
  CHECK_THROWS_AS(GaloisField(4, 0x1f), InvalidArgument);
  CHECK_THROWS_WITH(GaloisField(4, 0x1f),
                    Catch::Contains("irreducible but not primitive") && Catch::Contains("order 5"));
  // x^4 + 1 = (x + 1)^4.
  CHECK_THROWS_WITH(GaloisField(4, 0x11), Catch::Contains("reducible") && Catch::Contains("0x3"));
  // x^7 + x^2 + 1 ... wrong degree for m = 8.
  CHECK_THROWS_WITH(GaloisField(8, 0x85), Catch::Contains("degree 7"));
  CHECK_THROWS_AS(GaloisField(1), InvalidArgument);
  CHECK_THROWS_AS(GaloisField(17), InvalidArgument);
  // x^6 + x^4 + x^2 + x + 1 (0x57) is irreducible; x^6 + x^3 + 1 (0x49) is irreducible, order 9.
  CHECK(primitive_polynomial_problem(0x49, 6).find("order 9") != std::string::npos);
  CHECK(is_primitive_polynomial(0x89, 7));
  CHECK(is_primitive_polynomial(0x83, 7));
  CHECK_THROWS_AS(GaloisField(4).inverse(0), InvalidArgument);
  CHECK_THROWS_AS(GaloisField(4).log(0), InvalidArgument);
  CHECK_THROWS_AS(GaloisField(4).log(16), InvalidArgument);
}

TEST_CASE("count of primitive polynomials matches phi(2^m - 1) / m", "[bch]") {
  // Euler phi of 2^m - 1 over m: 1, 2, 2, 6, 6, 18, 16, 48 for m = 2..9.
  const int expected[] = {0, 0, 1, 2, 2, 6, 6, 18, 16, 48};
  for (int m = 2; m <= 9; ++m) {
    int count = 0;
    for (std::uint32_t p = (1U << m); p < (2U << m); ++p) count += is_primitive_polynomial(p, m) ? 1 : 0;
    CHECK(count == expected[m]);
  }
}

TEST_CASE("GF(2) polynomials: arithmetic, hex and minimal polynomials", "[bch]") {
  const Gf2Poly a = Gf2Poly::from_hex("0x1d1");
  CHECK(a.degree() == 8);
  CHECK(a.hex() == "0x1d1");
  CHECK(Gf2Poly().hex() == "0x0");
  CHECK(Gf2Poly::from_hex("1D1") == a);
  CHECK_THROWS_AS(Gf2Poly::from_hex("0x1g"), InvalidArgument);
  // (x^4 + x + 1)(x^4 + x^3 + x^2 + x + 1) = 0x1d1 (the BCH(15, 7) generator).
  CHECK(Gf2Poly(0x13) * Gf2Poly(0x1f) == a);
  CHECK(a % Gf2Poly(0x13) == Gf2Poly());
  CHECK(a / Gf2Poly(0x13) == Gf2Poly(0x1f));
  CHECK(gcd(a, Gf2Poly(0x13) * Gf2Poly(0x7)) == Gf2Poly(0x13));
  CHECK_THROWS_AS(a % Gf2Poly(), InvalidArgument);
  // Multi-word values survive hex round trips and division identities.
  Rng rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<std::uint64_t> wa(1 + uniform_below(rng, 4)), wb(1 + uniform_below(rng, 3));
    for (auto& w : wa) w = rng();
    for (auto& w : wb) w = rng();
    const Gf2Poly x = Gf2Poly::from_words(wa), y = Gf2Poly::from_words(wb);
    CHECK(Gf2Poly::from_hex(x.hex()) == x);
    Gf2Poly q, r;
    Gf2Poly::divide(x, y, q, r);
    CHECK(r.degree() < y.degree());
    CHECK(q * y + r == x);
    CHECK(x.shifted(77) == x * Gf2Poly::monomial(77));
  }
  // Minimal polynomials over GF(16), default x^4 + x + 1 (Lin & Costello table).
  const GaloisField f(4);
  CHECK(minimal_polynomial(f, 1) == 0x13);
  CHECK(minimal_polynomial(f, 3) == 0x1f);
  CHECK(minimal_polynomial(f, 5) == 0x7);
  CHECK(minimal_polynomial(f, 7) == 0x19);
  CHECK(minimal_polynomial(f, 0) == 0x3);
  CHECK(cyclotomic_coset(3, 15) == std::vector<std::uint32_t>{3, 6, 12, 9});
}

}  // namespace rlhash::test_gf2m
