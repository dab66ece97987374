#pragma once
/// \file
/// The finite field GF(2^m), 2 <= m <= 16, by exp/log tables over a primitive polynomial.
///
/// Elements are integers in the polynomial basis: bit i is the coefficient of alpha^i, where
/// alpha is the class of x in GF(2)[x]/p(x). Polynomials over GF(2) are integers too: bit i is
/// the coefficient of x^i (x^4 + x + 1 = 0x13).
///
/// The default primitive polynomials are the conventional table of Lin & Costello (Appendix B)
/// and MATLAB `gfprimdf`, so generator polynomials match the published BCH tables. That table
/// differs from the "fewest terms, then smallest" choice (Linux lib/bch.c) at m = 7, 14 and 16
/// (m = 7: x^7 + x^3 + 1 = 0x89 here, not x^7 + x + 1).
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"

namespace rlhash {

/// Smallest and largest field degree GaloisField supports.
inline constexpr int gf2m_min_degree = 2;
inline constexpr int gf2m_max_degree = 16;

/// Formats a GF(2) polynomial held as an integer as a lowercase hex string ("0x13").
inline std::string gf2_hex(std::uint64_t polynomial) {
  std::ostringstream out;
  out << "0x" << std::hex << polynomial;
  return out.str();
}

/// The conventional default primitive polynomial of degree m (Lin & Costello / MATLAB gfprimdf).
inline std::uint32_t default_primitive_polynomial(int m) {
  static constexpr std::uint32_t table[] = {0,      0,      0x7,    0xb,    0x13,   0x25,
                                            0x43,   0x89,   0x11d,  0x211,  0x409,  0x805,
                                            0x1053, 0x201b, 0x4443, 0x8003, 0x1100b};
  if (m < gf2m_min_degree || m > gf2m_max_degree)
    throw InvalidArgument("GF(2^m): m = " + std::to_string(m) + ", expected " +
                          std::to_string(gf2m_min_degree) + ".." + std::to_string(gf2m_max_degree));
  return table[m];
}

namespace detail {
/// Degree of a nonzero GF(2) polynomial held in an integer (-1 for zero).
inline int gf2_small_degree(std::uint64_t p) { return p == 0 ? -1 : 63 - __builtin_clzll(p); }

/// a mod b over GF(2), b nonzero.
inline std::uint64_t gf2_small_mod(std::uint64_t a, std::uint64_t b) {
  const int db = gf2_small_degree(b);
  for (int da = gf2_small_degree(a); da >= db; da = gf2_small_degree(a)) a ^= b << (da - db);
  return a;
}
}  // namespace detail

/// Why `polynomial` is not a primitive polynomial of degree m; empty when it is one.
/// Distinguishes a wrong degree, a reducible polynomial (naming a factor) and an irreducible
/// polynomial whose root has an order below 2^m - 1.
inline std::string primitive_polynomial_problem(std::uint32_t polynomial, int m) {
  if (m < gf2m_min_degree || m > gf2m_max_degree)
    return "m = " + std::to_string(m) + " is outside " + std::to_string(gf2m_min_degree) + ".." +
           std::to_string(gf2m_max_degree);
  const int degree = detail::gf2_small_degree(polynomial);
  if (degree != m)
    return gf2_hex(polynomial) + " has degree " + std::to_string(degree) + ", expected degree " +
           std::to_string(m);
  // Any factor of degree <= m/2 shows reducibility; trial division is cheap for m <= 16.
  for (std::uint64_t factor = 2; detail::gf2_small_degree(factor) <= m / 2; ++factor)
    if (detail::gf2_small_mod(polynomial, factor) == 0)
      return gf2_hex(polynomial) + " is reducible (divisible by " + gf2_hex(factor) + ")";
  // Irreducible: primitive iff x has multiplicative order exactly 2^m - 1.
  const std::uint32_t n = (std::uint32_t{1} << m) - 1;
  std::uint32_t power = 1;
  for (std::uint32_t order = 1; order <= n; ++order) {
    power <<= 1;
    if (power >> m) power ^= polynomial;
    if (power == 1) {
      if (order == n) return {};
      return gf2_hex(polynomial) + " is irreducible but not primitive (x has order " + std::to_string(order) +
             ", expected " + std::to_string(n) + ")";
    }
  }
  return gf2_hex(polynomial) + " is not primitive";  // unreachable for an irreducible polynomial
}

inline bool is_primitive_polynomial(std::uint32_t polynomial, int m) {
  return primitive_polynomial_problem(polynomial, m).empty();
}

/// GF(2^m) with exp/log tables. Copyable; the tables take 3 * 2^m * 4 bytes (768 KiB at m = 16).
class GaloisField {
 public:
  using Element = std::uint32_t;

  /// The field of degree `m` over `primitive` (0 = the default table entry). Throws
  /// InvalidArgument when `primitive` is not a primitive polynomial of degree m.
  explicit GaloisField(int m, std::uint32_t primitive = 0) : m_(m) {
    primitive_ = primitive == 0 ? default_primitive_polynomial(m) : primitive;
    const std::string problem = primitive_polynomial_problem(primitive_, m);
    if (!problem.empty())
      throw InvalidArgument("GF(2^" + std::to_string(m) + ") primitive polynomial: " + problem);
    n_ = (Element{1} << m) - 1;
    // exp_ is doubled so that exp_[log a + log b] needs no reduction.
    exp_.assign(2 * static_cast<std::size_t>(n_) + 1, 0);
    log_.assign(static_cast<std::size_t>(n_) + 1, 0);
    Element value = 1;
    for (Element i = 0; i < n_; ++i) {
      exp_[i] = value;
      log_[value] = i;
      value <<= 1;
      if (value >> m) value ^= primitive_;
    }
    for (Element i = n_; i < exp_.size(); ++i) exp_[i] = exp_[i - n_];
    log_[0] = 0;  // never read: callers check for zero first
  }

  int m() const { return m_; }
  /// 2^m - 1, the multiplicative order of alpha (and the BCH code length).
  Element order() const { return n_; }
  /// Number of elements, 2^m.
  std::uint32_t size() const { return n_ + 1; }
  std::uint32_t primitive_polynomial() const { return primitive_; }

  static Element add(Element a, Element b) { return a ^ b; }
  Element multiply(Element a, Element b) const {
    if (a == 0 || b == 0) return 0;
    return exp_[log_[a] + log_[b]];
  }
  Element inverse(Element a) const {
    if (a == 0 || a > n_)
      throw InvalidArgument("GF(2^" + std::to_string(m_) + "): inverse of " + element_text(a));
    return exp_[n_ - log_[a]];
  }
  Element divide(Element a, Element b) const {
    if (b == 0 || b > n_)
      throw InvalidArgument("GF(2^" + std::to_string(m_) + "): division by " + element_text(b));
    if (a == 0) return 0;
    return exp_[log_[a] + n_ - log_[b]];
  }
  /// a^e for any integer e (negative e needs a nonzero a); 0^0 = 1.
  Element power(Element a, std::int64_t e) const {
    if (a == 0) {
      if (e < 0) throw InvalidArgument("GF(2^" + std::to_string(m_) + "): 0 raised to a negative power");
      return e == 0 ? 1 : 0;
    }
    const auto n = static_cast<std::int64_t>(n_);
    std::int64_t l = (static_cast<std::int64_t>(log_[a]) * (e % n)) % n;
    if (l < 0) l += n;
    return exp_[static_cast<std::size_t>(l)];
  }
  /// alpha^i for any integer i.
  Element alpha_power(std::int64_t i) const {
    const auto n = static_cast<std::int64_t>(n_);
    std::int64_t l = i % n;
    if (l < 0) l += n;
    return exp_[static_cast<std::size_t>(l)];
  }
  /// The discrete logarithm of a nonzero element, in [0, 2^m - 1).
  Element log(Element a) const {
    if (a == 0 || a > n_)
      throw InvalidArgument("GF(2^" + std::to_string(m_) + "): logarithm of " + element_text(a));
    return log_[a];
  }
  /// Raw tables for kernels: exp_table()[i] = alpha^i for 0 <= i < 2 (2^m - 1);
  /// log_table()[a] = log a for a != 0.
  const Element* exp_table() const { return exp_.data(); }
  const Element* log_table() const { return log_.data(); }

 private:
  std::string element_text(Element a) const {
    return a == 0 ? std::string("zero") : "out-of-field value " + std::to_string(a);
  }
  int m_ = 0;
  Element n_ = 0;
  std::uint32_t primitive_ = 0;
  std::vector<Element> exp_;
  std::vector<Element> log_;
};

}  // namespace rlhash
