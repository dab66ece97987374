#pragma once
/// \file
/// Polynomials over GF(2) of any degree, bit-packed (bit i of word i/64 = coefficient of x^i),
/// plus the cyclotomic cosets and minimal polynomials that BCH generators are built from.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/bch/gf2m.hpp"
#include "rlhash/core/error.hpp"

namespace rlhash {

/// A polynomial over GF(2). Value type; the word vector never has leading zero words, so two
/// equal polynomials compare equal.
class Gf2Poly {
 public:
  Gf2Poly() = default;
  /// From an integer: bit i = coefficient of x^i.
  explicit Gf2Poly(std::uint64_t bits) {
    if (bits != 0) words_.push_back(bits);
  }
  /// From packed words (bit i of word i/64 = coefficient of x^i).
  static Gf2Poly from_words(std::vector<std::uint64_t> words) {
    Gf2Poly p;
    p.words_ = std::move(words);
    p.trim();
    return p;
  }
  /// x^degree.
  static Gf2Poly monomial(int degree) {
    detail::require(degree >= 0, "GF(2) polynomial: monomial of negative degree " + std::to_string(degree));
    Gf2Poly p;
    p.set_coefficient(degree, true);
    return p;
  }
  /// From a hex string as gf2_hex / hex() write it ("0x13"; the "0x" is optional).
  static Gf2Poly from_hex(const std::string& text) {
    std::size_t start = (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) ? 2 : 0;
    if (start == text.size()) throw InvalidArgument("GF(2) polynomial: empty hex string '" + text + "'");
    Gf2Poly p;
    const std::size_t digits = text.size() - start;
    p.words_.assign((digits + 15) / 16, 0);
    for (std::size_t d = 0; d < digits; ++d) {
      const char c = text[text.size() - 1 - d];
      int value;
      if (c >= '0' && c <= '9')
        value = c - '0';
      else if (c >= 'a' && c <= 'f')
        value = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        value = c - 'A' + 10;
      else
        throw InvalidArgument("GF(2) polynomial: '" + text + "' is not a hex string (bad digit '" +
                              std::string(1, c) + "')");
      p.words_[d / 16] |= static_cast<std::uint64_t>(value) << (4 * (d % 16));
    }
    p.trim();
    return p;
  }

  /// Degree; -1 for the zero polynomial.
  int degree() const {
    if (words_.empty()) return -1;
    return static_cast<int>(words_.size() - 1) * 64 + 63 - __builtin_clzll(words_.back());
  }
  bool is_zero() const { return words_.empty(); }
  bool coefficient(int i) const {
    if (i < 0 || static_cast<std::size_t>(i >> 6) >= words_.size()) return false;
    return (words_[static_cast<std::size_t>(i >> 6)] >> (i & 63)) & 1U;
  }
  void set_coefficient(int i, bool value) {
    detail::require(i >= 0, "GF(2) polynomial: negative exponent " + std::to_string(i));
    const auto w = static_cast<std::size_t>(i >> 6);
    if (w >= words_.size()) {
      if (!value) return;
      words_.resize(w + 1, 0);
    }
    const std::uint64_t mask = std::uint64_t{1} << (i & 63);
    if (value)
      words_[w] |= mask;
    else
      words_[w] &= ~mask;
    trim();
  }
  /// Number of nonzero coefficients.
  int weight() const {
    int total = 0;
    for (std::uint64_t w : words_) total += __builtin_popcountll(w);
    return total;
  }
  const std::vector<std::uint64_t>& words() const { return words_; }
  /// The polynomial as an integer; throws when the degree is 64 or more.
  std::uint64_t to_uint64() const {
    detail::require(words_.size() <= 1, "GF(2) polynomial: degree " + std::to_string(degree()) +
                                            " does not fit a 64-bit integer");
    return words_.empty() ? 0 : words_[0];
  }
  /// Lowercase hex ("0x13"; "0x0" for zero).
  std::string hex() const {
    if (words_.empty()) return "0x0";
    static const char digits[] = "0123456789abcdef";
    std::string out = "0x";
    bool leading = true;
    for (std::size_t w = words_.size(); w-- > 0;)
      for (int d = 15; d >= 0; --d) {
        const int v = static_cast<int>((words_[w] >> (4 * d)) & 15U);
        if (leading && v == 0) continue;
        leading = false;
        out += digits[v];
      }
    return out;
  }
  /// p(x) at x = a in GF(2^m), by Horner's rule.
  GaloisField::Element evaluate(const GaloisField& field, GaloisField::Element a) const {
    GaloisField::Element value = 0;
    for (int i = degree(); i >= 0; --i) value = field.multiply(value, a) ^ (coefficient(i) ? 1U : 0U);
    return value;
  }

  Gf2Poly& operator+=(const Gf2Poly& other) {
    if (other.words_.size() > words_.size()) words_.resize(other.words_.size(), 0);
    for (std::size_t i = 0; i < other.words_.size(); ++i) words_[i] ^= other.words_[i];
    trim();
    return *this;
  }
  friend Gf2Poly operator+(Gf2Poly a, const Gf2Poly& b) { return a += b; }
  friend Gf2Poly operator-(Gf2Poly a, const Gf2Poly& b) { return a += b; }
  /// this * x^shift.
  Gf2Poly shifted(int shift) const {
    detail::require(shift >= 0, "GF(2) polynomial: negative shift");
    if (is_zero()) return {};
    Gf2Poly out;
    const auto ws = static_cast<std::size_t>(shift >> 6);
    const int bs = shift & 63;
    out.words_.assign(words_.size() + ws + 1, 0);
    for (std::size_t i = 0; i < words_.size(); ++i) {
      out.words_[i + ws] |= words_[i] << bs;
      if (bs != 0) out.words_[i + ws + 1] |= words_[i] >> (64 - bs);
    }
    out.trim();
    return out;
  }
  friend Gf2Poly operator*(const Gf2Poly& a, const Gf2Poly& b) {
    Gf2Poly out;
    if (a.is_zero() || b.is_zero()) return out;
    out.words_.assign(a.words_.size() + b.words_.size(), 0);
    // Shift-and-add over the set bits of the sparser factor's words.
    for (std::size_t wi = 0; wi < b.words_.size(); ++wi)
      for (std::uint64_t bits = b.words_[wi]; bits != 0; bits &= bits - 1) {
        const int bit = __builtin_ctzll(bits);
        for (std::size_t i = 0; i < a.words_.size(); ++i) {
          out.words_[i + wi] ^= a.words_[i] << bit;
          if (bit != 0) out.words_[i + wi + 1] ^= a.words_[i] >> (64 - bit);
        }
      }
    out.trim();
    return out;
  }
  /// Quotient and remainder of a / b; throws InvalidArgument for b = 0.
  static void divide(const Gf2Poly& a, const Gf2Poly& b, Gf2Poly& quotient, Gf2Poly& remainder) {
    const int db = b.degree();
    detail::require(db >= 0, "GF(2) polynomial: division by the zero polynomial");
    Gf2Poly r = a;
    Gf2Poly q;
    for (int dr = r.degree(); dr >= db; dr = r.degree()) {
      q.set_coefficient(dr - db, true);
      r.xor_shifted(b, dr - db);
    }
    quotient = std::move(q);
    remainder = std::move(r);
  }
  friend Gf2Poly operator%(const Gf2Poly& a, const Gf2Poly& b) {
    Gf2Poly q, r;
    divide(a, b, q, r);
    return r;
  }
  friend Gf2Poly operator/(const Gf2Poly& a, const Gf2Poly& b) {
    Gf2Poly q, r;
    divide(a, b, q, r);
    return q;
  }
  friend bool operator==(const Gf2Poly& a, const Gf2Poly& b) { return a.words_ == b.words_; }
  friend bool operator!=(const Gf2Poly& a, const Gf2Poly& b) { return !(a == b); }

 private:
  /// this += other * x^shift, in place (other must not alias this).
  void xor_shifted(const Gf2Poly& other, int shift) {
    const auto ws = static_cast<std::size_t>(shift >> 6);
    const int bs = shift & 63;
    const std::size_t needed = other.words_.size() + ws + 1;
    if (words_.size() < needed) words_.resize(needed, 0);
    for (std::size_t i = 0; i < other.words_.size(); ++i) {
      words_[i + ws] ^= other.words_[i] << bs;
      if (bs != 0) words_[i + ws + 1] ^= other.words_[i] >> (64 - bs);
    }
    trim();
  }
  void trim() {
    while (!words_.empty() && words_.back() == 0) words_.pop_back();
  }
  std::vector<std::uint64_t> words_;
};

/// Greatest common divisor over GF(2) (monic by construction).
inline Gf2Poly gcd(Gf2Poly a, Gf2Poly b) {
  while (!b.is_zero()) {
    Gf2Poly r = a % b;
    a = std::move(b);
    b = std::move(r);
  }
  return a;
}

/// The cyclotomic coset of j modulo n = 2^m - 1: {j, 2j, 4j, ...} mod n, in generation order.
inline std::vector<std::uint32_t> cyclotomic_coset(std::uint32_t j, std::uint32_t n) {
  detail::require(n >= 1, "cyclotomic coset: modulus must be positive");
  std::vector<std::uint32_t> coset;
  std::uint32_t e = j % n;
  do {
    coset.push_back(e);
    e = static_cast<std::uint32_t>((2 * static_cast<std::uint64_t>(e)) % n);
  } while (e != j % n);
  return coset;
}

/// The minimal polynomial over GF(2) of alpha^j: the product of (x - alpha^i) over the
/// cyclotomic coset of j. Its degree divides m, so it fits an integer (bit i = x^i).
inline std::uint32_t minimal_polynomial(const GaloisField& field, std::uint32_t j) {
  const auto coset = cyclotomic_coset(j, field.order());
  // Coefficients in GF(2^m), lowest degree first; they all land in {0, 1}.
  std::vector<GaloisField::Element> product{1};
  for (std::uint32_t e : coset) {
    const GaloisField::Element root = field.alpha_power(e);
    std::vector<GaloisField::Element> next(product.size() + 1, 0);
    for (std::size_t i = 0; i < product.size(); ++i) {
      next[i + 1] ^= product[i];
      next[i] ^= field.multiply(product[i], root);
    }
    product = std::move(next);
  }
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < product.size(); ++i) {
    if (product[i] > 1) throw StateError("minimal polynomial: coefficient outside GF(2) (internal error)");
    bits |= product[i] << i;
  }
  return bits;
}

}  // namespace rlhash
