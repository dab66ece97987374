#pragma once
/// \file
/// Binary primitive narrow-sense BCH codes of length n = 2^m - 1 (Bose, Chaudhuri,
/// Hocquenghem), with fast systematic encoding and Berlekamp-Massey/Chien decoding. The length
/// adaptations DRLH needs are bch/adapted_bch_code.hpp.
///
/// Conventions (those of Lin & Costello, MATLAB bchenc and galois):
///  - a word is bit-packed in uint64 words, bit i = coefficient of x^i;
///  - g(x) = LCM(M_1, M_3, ..., M_{2t-1}), M_j the minimal polynomial of alpha^j;
///  - systematic encoding c(x) = x^{n-k} m(x) + (x^{n-k} m(x) mod g(x)): bits 0..n-k-1 hold the
///    parity, bits n-k..n-1 hold the message (message bit j = coefficient m_j at bit n-k+j).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/gf2_poly.hpp"
#include "rlhash/bch/gf2m.hpp"
#include "rlhash/core/error.hpp"

namespace rlhash {

namespace detail {
/// `count` (1..64) bits of `src` starting at bit `pos`, in the low bits of the result.
inline std::uint64_t read_bits(const std::uint64_t* src, std::size_t pos, int count) {
  const std::size_t w = pos >> 6;
  const int b = static_cast<int>(pos & 63);
  std::uint64_t v = src[w] >> b;
  if (b + count > 64) v |= src[w + 1] << (64 - b);
  return count == 64 ? v : v & ((std::uint64_t{1} << count) - 1);
}
/// Overwrites `count` (1..64) bits of `dst` at bit `pos` with the low bits of `value`.
inline void write_bits(std::uint64_t* dst, std::size_t pos, int count, std::uint64_t value) {
  const std::size_t w = pos >> 6;
  const int b = static_cast<int>(pos & 63);
  const std::uint64_t mask = count == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << count) - 1;
  value &= mask;
  dst[w] = (dst[w] & ~(mask << b)) | (value << b);
  if (b + count > 64) {
    const int spill = b + count - 64;
    const std::uint64_t high = (std::uint64_t{1} << spill) - 1;
    dst[w + 1] = (dst[w + 1] & ~high) | (value >> (64 - b));
  }
}
/// Copies bits [src_pos, src_pos + count) of `src` to [dst_pos, dst_pos + count) of `dst`.
inline void copy_bits(std::uint64_t* dst, std::size_t dst_pos, const std::uint64_t* src, std::size_t src_pos,
                      std::size_t count) {
  for (std::size_t off = 0; off < count; off += 64) {
    const int c = static_cast<int>(std::min<std::size_t>(64, count - off));
    write_bits(dst, dst_pos + off, c, read_bits(src, src_pos + off, c));
  }
}
inline std::size_t words_for_bits(std::size_t bits) { return (bits + 63) / 64; }
}  // namespace detail

/// A binary primitive narrow-sense BCH code of length n = 2^m - 1 that corrects t errors.
class BchCode {
 public:
  using Element = GaloisField::Element;
  static constexpr int decode_failure = -1;

  /// Scratch memory for decode(); reuse one per thread to avoid allocations.
  struct Workspace {
    std::vector<std::uint64_t> remainder;
    std::vector<Element> syndromes, lambda, previous, saved;
    std::vector<std::uint32_t> lambda_log;
    /// After a successful decode: the flipped bit positions (ascending order not guaranteed).
    std::vector<int> error_positions;
  };

  /// The code of length 2^m - 1 with designed distance 2t + 1 over `primitive` (0 = default).
  /// Throws InvalidArgument for m outside 2..16, a non-primitive polynomial, or t outside
  /// 1..2^(m-1) - 1 (larger t leave no message bits: k = 0).
  BchCode(int m, int t, std::uint32_t primitive = 0) : field_(m, primitive), t_(t) {
    n_ = static_cast<int>(field_.order());
    const int t_max = (n_ - 1) / 2;
    if (t < 1 || t > t_max)
      throw InvalidArgument("BCH code (m = " + std::to_string(m) + "): t = " + std::to_string(t) +
                            ", expected 1.." + std::to_string(t_max) + " (larger t give g(x) = x^" +
                            std::to_string(n_) + " - 1 and k = 0)");
    std::vector<char> is_root(static_cast<std::size_t>(n_), 0);
    generator_ = Gf2Poly(1);
    for (int j = 1; j <= 2 * t - 1; j += 2) {
      if (is_root[static_cast<std::size_t>(j)]) continue;
      for (std::uint32_t e : cyclotomic_coset(static_cast<std::uint32_t>(j), field_.order())) is_root[e] = 1;
      generator_ = generator_ * Gf2Poly(minimal_polynomial(field_, static_cast<std::uint32_t>(j)));
    }
    r_ = generator_.degree();
    k_ = n_ - r_;
    // The BCH bound holds for the longest run alpha^1..alpha^{2t'} of consecutive roots.
    int first_missing = 1;
    while (first_missing < n_ && is_root[static_cast<std::size_t>(first_missing)]) ++first_missing;
    t_effective_ = (first_missing - 1) / 2;
    build_tables();
  }

  /// k of the code BchCode(m, t) without building it (coset sizes do not depend on the
  /// primitive polynomial); 0 when t leaves no message bits. Cheap: used to search for t.
  static int dimension_for(int m, int t) {
    if (m < gf2m_min_degree || m > gf2m_max_degree)
      throw InvalidArgument("BCH code: m = " + std::to_string(m) + ", expected " +
                            std::to_string(gf2m_min_degree) + ".." + std::to_string(gf2m_max_degree));
    const int n = (1 << m) - 1;
    if (t < 1) throw InvalidArgument("BCH code: t = " + std::to_string(t) + ", expected >= 1");
    if (t > (n - 1) / 2) return 0;
    std::vector<char> is_root(static_cast<std::size_t>(n), 0);
    int degree = 0;
    for (int j = 1; j <= 2 * t - 1; j += 2) {
      if (is_root[static_cast<std::size_t>(j)]) continue;
      for (std::uint32_t e : cyclotomic_coset(static_cast<std::uint32_t>(j), static_cast<std::uint32_t>(n))) {
        is_root[e] = 1;
        ++degree;
      }
    }
    return n - degree;
  }

  int m() const { return field_.m(); }
  int n() const { return n_; }
  int k() const { return k_; }
  /// The requested correcting capability; decode() corrects up to t() errors.
  int t() const { return t_; }
  /// The largest t giving the same generator (the t in published tables); a code built with
  /// t = t_effective() is the same code and decodes up to t_effective() errors.
  int t_effective() const { return t_effective_; }
  /// 2t + 1 for the requested t.
  int designed_distance() const { return 2 * t_ + 1; }
  /// n - k = deg g.
  int parity_bits() const { return r_; }
  const GaloisField& field() const { return field_; }
  std::uint32_t primitive_polynomial() const { return field_.primitive_polynomial(); }
  const Gf2Poly& generator() const { return generator_; }
  int message_words() const { return static_cast<int>(detail::words_for_bits(static_cast<std::size_t>(k_))); }
  int codeword_words() const {
    return static_cast<int>(detail::words_for_bits(static_cast<std::size_t>(n_)));
  }

  /// Systematic encoding of the k message bits at `message` (message_words() words; bits at
  /// k and above must be zero) into `codeword` (codeword_words() words, tail bits cleared).
  void encode(const std::uint64_t* message, std::uint64_t* codeword) const {
    const int mw = message_words();
    const int used = k_ - (mw - 1) * 64;
    if (used < 64 && (message[mw - 1] >> used) != 0)
      throw InvalidArgument("BCH(" + std::to_string(n_) + ", " + std::to_string(k_) +
                            ") encode: message has bits set at or above k = " + std::to_string(k_));
    std::uint64_t reg[max_register_words];
    std::vector<std::uint64_t> heap;
    std::uint64_t* parity = register_storage(reg, heap);
    remainder_register(message, 0, k_, parity);
    right_justify(parity);
    std::fill(codeword, codeword + codeword_words(), 0);
    detail::copy_bits(codeword, static_cast<std::size_t>(r_), message, 0, static_cast<std::size_t>(k_));
    detail::copy_bits(codeword, 0, parity, 0, static_cast<std::size_t>(r_));
  }
  std::vector<std::uint64_t> encode(const std::vector<std::uint64_t>& message) const {
    if (message.size() != static_cast<std::size_t>(message_words()))
      throw InvalidArgument("BCH(" + std::to_string(n_) + ", " + std::to_string(k_) +
                            ") encode: message of " + std::to_string(message.size()) + " words, expected " +
                            std::to_string(message_words()));
    std::vector<std::uint64_t> codeword(static_cast<std::size_t>(codeword_words()));
    encode(message.data(), codeword.data());
    return codeword;
  }

  /// True when `word` (n bits) is a codeword, i.e. g(x) divides it.
  bool is_codeword(const std::uint64_t* word) const {
    Workspace ws;
    return !remainder_nonzero(word, ws);
  }

  /// S_j = r(alpha^j) for j = 1..2t (element j-1 of the result), evaluated directly from the
  /// word's bits (the reference the fast decoder path is tested against).
  std::vector<Element> syndromes(const std::uint64_t* word) const {
    std::vector<Element> s(static_cast<std::size_t>(2 * t_), 0);
    for (int i = 0; i < n_; ++i)
      if ((word[i >> 6] >> (i & 63)) & 1U)
        for (int j = 1; j <= 2 * t_; ++j)
          s[static_cast<std::size_t>(j - 1)] ^= field_.alpha_power(static_cast<std::int64_t>(i) * j);
    return s;
  }

  /// Corrects `word` (n bits, in place) when it lies within t() of a codeword. Returns the
  /// number of bits flipped (0 when it already was a codeword), or decode_failure when the
  /// decoder can tell that more than t errors occurred (the error locator's degree exceeds t or
  /// differs from the number of its roots); on failure the word is left unchanged.
  /// Any success returns a codeword within t() of the input (a locator of degree L <= t with L
  /// distinct roots makes all 2t syndromes of the corrected word vanish).
  int decode(std::uint64_t* word, Workspace& ws) const {
    ws.error_positions.clear();
    if (!remainder_nonzero(word, ws)) return 0;
    compute_syndromes(ws);
    const int degree = berlekamp_massey(ws);
    if (degree < 0) return decode_failure;
    if (!chien_search(degree, ws)) return decode_failure;
    for (int pos : ws.error_positions) word[pos >> 6] ^= std::uint64_t{1} << (pos & 63);
    return degree;
  }
  int decode(std::uint64_t* word) const {
    Workspace ws;
    return decode(word, ws);
  }

 private:
  static constexpr int max_register_words = 8;  // stack register up to 512 parity bits
  static constexpr int max_sliced_words = 4;    // slicing-by-8 up to 256 parity bits

  std::uint64_t* register_storage(std::uint64_t* stack, std::vector<std::uint64_t>& heap) const {
    if (words_ <= max_register_words) return stack;
    heap.assign(static_cast<std::size_t>(words_), 0);
    return heap.data();
  }

  /// LFSR tables, left-justified in words_ words (coefficient x^{r-1} at bit 63 of the top
  /// word) so the feedback is simply the register's top bits, as in Linux lib/bch.c. Slice s
  /// holds T_s[f] = f(x) x^{8s} x^r mod g(x) for the 256 polynomials f of degree < 8: slice 0
  /// drives the byte-wise LFSR, all 8 slices take 64 input bits per step ("slicing-by-8", as
  /// for CRCs) when the register has at most max_sliced_words words (the tables then take
  /// 16 KiB per register word).
  void build_tables() {
    words_ = static_cast<int>(detail::words_for_bits(static_cast<std::size_t>(r_)));
    shift_ = words_ * 64 - r_;
    slices_ = words_ <= max_sliced_words ? 8 : 1;
    const auto w = static_cast<std::size_t>(words_);
    table_.assign(static_cast<std::size_t>(slices_) * 256 * w, 0);
    for (int slice = 0; slice < slices_; ++slice)
      for (int b = 0; b < 8; ++b) {
        const Gf2Poly rem = Gf2Poly::monomial(r_ + 8 * slice + b) % generator_;
        const Gf2Poly justified = rem.shifted(shift_);
        std::uint64_t* base = table_.data() + static_cast<std::size_t>(slice) * 256 * w;
        for (int f = 0; f < 256; ++f)
          if ((f >> b) & 1)
            for (std::size_t i = 0; i < justified.words().size() && i < w; ++i)
              base[static_cast<std::size_t>(f) * w + i] ^= justified.words()[i];
      }
  }

  /// The register after feeding `count` input bits from bit `offset` of `bits`, highest
  /// coefficient first, CHUNK bits per step (8 or 64). With R = R_hi x^{r-CHUNK} + R_lo,
  /// (x^CHUNK R + x^r W) mod g = x^CHUNK R_lo + ((R_hi + W) x^r mod g), the second term read
  /// from the tables (one slice per byte of W). The register starts at zero, so a first
  /// partial chunk of count % CHUNK bits goes through the same step zero-extended.
  template <int L, int CHUNK>
  void feed(const std::uint64_t* bits, int offset, int count, std::uint64_t* reg) const {
    std::uint64_t v[L] = {};
    const std::uint64_t* t = table_.data();
    constexpr std::size_t stride = 256 * static_cast<std::size_t>(L);
    int j = offset + count;
    int step = count % CHUNK;
    if (step == 0) step = CHUNK;
    while (j > offset) {
      j -= step;
      const std::uint64_t in = detail::read_bits(bits, static_cast<std::size_t>(j), step);
      const std::uint64_t top = (CHUNK == 64 ? v[L - 1] : v[L - 1] >> 56) ^ in;
      if (CHUNK == 64) {
        for (int i = L - 1; i > 0; --i) v[i] = v[i - 1];
        v[0] = 0;
      } else {
        for (int i = L - 1; i > 0; --i) v[i] = (v[i] << 8) | (v[i - 1] >> 56);
        v[0] <<= 8;
      }
      for (int s = 0; s < CHUNK / 8; ++s) {
        const std::uint64_t* row = t + static_cast<std::size_t>(s) * stride + ((top >> (8 * s)) & 0xffU) * L;
        for (int i = 0; i < L; ++i) v[i] ^= row[i];
      }
      step = CHUNK;
    }
    std::copy(v, v + L, reg);
  }

  /// reg <- x^r * b(x) mod g(x), left-justified, where b(x) = sum of bits[offset + i] x^i for
  /// i < count: 64 bits per step (slicing-by-8) for registers of up to max_sliced_words
  /// words, bytes otherwise.
  void remainder_register(const std::uint64_t* bits, int offset, int count, std::uint64_t* reg) const {
    switch (slices_ == 8 ? words_ : 0) {
      case 1:
        feed<1, 64>(bits, offset, count, reg);
        return;
      case 2:
        feed<2, 64>(bits, offset, count, reg);
        return;
      case 3:
        feed<3, 64>(bits, offset, count, reg);
        return;
      case 4:
        feed<4, 64>(bits, offset, count, reg);
        return;
      default:
        break;
    }
    // Byte-wise with a runtime register length (long registers: m >= 9 with large t).
    std::fill(reg, reg + words_, 0);
    int j = offset + count;
    int step = count % 8;
    if (step == 0) step = 8;
    while (j > offset) {
      j -= step;
      const std::uint64_t in = detail::read_bits(bits, static_cast<std::size_t>(j), step);
      const auto f = static_cast<unsigned>(((reg[words_ - 1] >> 56) ^ in) & 0xffU);
      for (int i = words_ - 1; i > 0; --i) reg[i] = (reg[i] << 8) | (reg[i - 1] >> 56);
      reg[0] <<= 8;
      const std::uint64_t* row =
          table_.data() + static_cast<std::size_t>(f) * static_cast<std::size_t>(words_);
      for (int i = 0; i < words_; ++i) reg[i] ^= row[i];
      step = 8;
    }
  }
  /// Moves the left-justified register to bits 0..r-1.
  void right_justify(std::uint64_t* reg) const {
    if (shift_ == 0) return;
    for (int i = 0; i < words_; ++i) {
      reg[i] >>= shift_;
      if (i + 1 < words_) reg[i] |= reg[i + 1] << (64 - shift_);
    }
  }

  /// ws.remainder <- word(x) mod g(x) (bits 0..r-1); true when it is nonzero. Uses
  /// word mod g = (x^r * high part mod g) + low part, i.e. the encoder's LFSR.
  bool remainder_nonzero(const std::uint64_t* word, Workspace& ws) const {
    ws.remainder.assign(static_cast<std::size_t>(words_), 0);
    std::uint64_t* rem = ws.remainder.data();
    remainder_register(word, r_, k_, rem);
    right_justify(rem);
    std::uint64_t any = 0;
    for (int i = 0; i < words_; ++i) {
      const int c = std::min(64, r_ - 64 * i);
      rem[i] ^= detail::read_bits(word, static_cast<std::size_t>(64 * i), c);
      any |= rem[i];
    }
    return any != 0;
  }

  /// Syndromes of the remainder (same as the word's, since g(alpha^j) = 0): odd ones by
  /// summing alpha^{ij} over its set bits, even ones as S_2j = S_j^2 (binary code).
  void compute_syndromes(Workspace& ws) const {
    const auto size = static_cast<std::size_t>(2 * t_ + 1);
    ws.syndromes.assign(size, 0);
    Element* s = ws.syndromes.data();
    const Element* exp = field_.exp_table();
    const auto n = static_cast<std::uint32_t>(n_);
    for (int w = 0; w < words_; ++w)
      for (std::uint64_t bits = ws.remainder[static_cast<std::size_t>(w)]; bits != 0; bits &= bits - 1) {
        const auto i = static_cast<std::uint32_t>(64 * w + __builtin_ctzll(bits));  // i < r < n
        const std::uint32_t step = (2 * i) % n;
        std::uint32_t a = i;
        for (int j = 1; j < 2 * t_; j += 2) {
          s[j] ^= exp[a];
          a += step;
          if (a >= n) a -= n;
        }
      }
    for (int j = 1; j <= t_; ++j) s[2 * j] = field_.multiply(s[j], s[j]);
  }

  /// Berlekamp-Massey over S_1..S_2t; leaves the error locator in ws.lambda (lambda[0] = 1) and
  /// returns its degree, or -1 when the shortest LFSR is longer than t.
  int berlekamp_massey(Workspace& ws) const {
    const auto size = static_cast<std::size_t>(2 * t_ + 2);
    ws.lambda.assign(size, 0);
    ws.previous.assign(size, 0);
    ws.saved.assign(size, 0);
    Element* c = ws.lambda.data();
    Element* b = ws.previous.data();
    const Element* s = ws.syndromes.data();
    c[0] = b[0] = 1;
    int length = 0, gap = 1;
    Element last = 1;
    for (int step = 0; step < 2 * t_; ++step) {
      Element d = s[step + 1];
      for (int i = 1; i <= length; ++i) d ^= field_.multiply(c[i], s[step + 1 - i]);
      if (d == 0) {
        ++gap;
        continue;
      }
      const Element scale = field_.divide(d, last);
      if (2 * length <= step) {
        std::copy(c, c + size, ws.saved.data());
        for (std::size_t i = 0; i + static_cast<std::size_t>(gap) < size; ++i)
          c[i + static_cast<std::size_t>(gap)] ^= field_.multiply(scale, b[i]);
        length = step + 1 - length;
        std::copy(ws.saved.begin(), ws.saved.end(), b);
        last = d;
        gap = 1;
      } else {
        for (std::size_t i = 0; i + static_cast<std::size_t>(gap) < size; ++i)
          c[i + static_cast<std::size_t>(gap)] ^= field_.multiply(scale, b[i]);
        ++gap;
      }
    }
    if (length > t_) return -1;
    // A locator whose top coefficient vanished cannot have `length` roots.
    if (c[length] == 0) return -1;
    return length;
  }

  /// Finds the error positions i with Lambda(alpha^{-i}) = 0; false unless exactly `degree`
  /// distinct positions in 0..n-1 are found.
  bool chien_search(int degree, Workspace& ws) const {
    const Element* c = ws.lambda.data();
    ws.error_positions.clear();
    if (degree == 1) {
      // Lambda = 1 + c1 x has the single root alpha^{-log c1}.
      ws.error_positions.push_back(static_cast<int>(field_.log(c[1])));
      return true;
    }
    // Term l of Lambda(alpha^{-i}) is alpha^{log c_l - i l}: keep its log per nonzero term and
    // evaluate four consecutive positions per pass (independent sums, offsets k (n - l) mod n
    // for k = 1..3, so indices stay below 2n where the doubled exp table needs no reduction).
    const auto n = static_cast<std::uint32_t>(n_);
    ws.lambda_log.clear();
    for (int l = 1; l <= degree; ++l) {
      if (c[l] == 0) continue;
      const std::uint32_t step = n - static_cast<std::uint32_t>(l);
      ws.lambda_log.push_back(field_.log(c[l]));
      for (std::uint32_t k = 1; k <= 4; ++k)
        ws.lambda_log.push_back(static_cast<std::uint32_t>((static_cast<std::uint64_t>(k) * step) % n));
    }
    std::uint32_t* terms = ws.lambda_log.data();
    const std::size_t count = ws.lambda_log.size();
    const Element* exp = field_.exp_table();
    const int wanted = degree;
    std::uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
      Element s0 = 1, s1 = 1, s2 = 1, s3 = 1;
      for (std::size_t q = 0; q < count; q += 5) {
        const std::uint32_t a = terms[q];
        s0 ^= exp[a];
        s1 ^= exp[a + terms[q + 1]];
        s2 ^= exp[a + terms[q + 2]];
        s3 ^= exp[a + terms[q + 3]];
        const std::uint32_t next = a + terms[q + 4];
        terms[q] = next >= n ? next - n : next;
      }
      if ((s0 == 0) | (s1 == 0) | (s2 == 0) | (s3 == 0)) {
        if (s0 == 0) ws.error_positions.push_back(static_cast<int>(i));
        if (s1 == 0) ws.error_positions.push_back(static_cast<int>(i + 1));
        if (s2 == 0) ws.error_positions.push_back(static_cast<int>(i + 2));
        if (s3 == 0) ws.error_positions.push_back(static_cast<int>(i + 3));
        if (static_cast<int>(ws.error_positions.size()) == wanted) return true;
      }
    }
    for (; i < n; ++i) {
      Element sum = 1;
      for (std::size_t q = 0; q < count; q += 5) {
        sum ^= exp[terms[q]];
        const std::uint32_t next = terms[q] + terms[q + 1];
        terms[q] = next >= n ? next - n : next;
      }
      if (sum == 0) ws.error_positions.push_back(static_cast<int>(i));
    }
    return static_cast<int>(ws.error_positions.size()) == wanted;
  }

  GaloisField field_;
  int t_ = 0;
  int n_ = 0;
  int k_ = 0;
  int r_ = 0;
  int t_effective_ = 0;
  Gf2Poly generator_;
  int words_ = 0;   // register words, ceil(r / 64)
  int shift_ = 0;   // left-justification shift, 64 * words_ - r
  int slices_ = 1;  // 8 (slicing-by-8) or 1 (byte-wise)
  std::vector<std::uint64_t> table_;
};

}  // namespace rlhash
