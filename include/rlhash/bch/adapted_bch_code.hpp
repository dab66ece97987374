#pragma once
/// \file
/// A BCH code fitted to a code length (DRLH, section 3.3: "dropping the redundant bits or
/// padding some random bits"): shortening, puncturing and padding of a BchCode
/// (bch/bch_code.hpp), with encoding and decoding through the adapted layout.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/bch_code.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"

namespace rlhash {

/// How a BCH code is fitted to a length: shortening fixes the top `shortened` message bits to
/// zero and drops them (k and n fall by that much, the distance stays), puncturing drops the
/// `punctured` lowest parity bits (the distance falls by at most that much), padding appends
/// `padding` fixed bits (bit i of `padding_bits`) that carry no information.
struct BchAdaptation {
  int shortened = 0;
  int punctured = 0;
  int padding = 0;
  std::vector<std::uint64_t> padding_bits;  // ceil(padding / 64) words, or empty for zeros

  /// `bits` padding bits drawn from `rng` (one draw per bit, top bit), packed.
  static std::vector<std::uint64_t> random_padding(int bits, Rng& rng) {
    std::vector<std::uint64_t> out(detail::words_for_bits(static_cast<std::size_t>(std::max(bits, 0))), 0);
    for (int i = 0; i < bits; ++i)
      if (rng() >> 63) out[static_cast<std::size_t>(i >> 6)] |= std::uint64_t{1} << (i & 63);
    return out;
  }
};

/// A BCH code after shortening, puncturing and padding. A word of length() bits is laid out as
/// bits [0, n - s - p) = full codeword bits [p, n - s) (kept parity, then message), followed by
/// the padding bits. Its message is dimension() = k - s bits.
class AdaptedBchCode {
 public:
  AdaptedBchCode(BchCode base, BchAdaptation adaptation) : base_(std::move(base)), a_(std::move(adaptation)) {
    const std::string name = "BCH(" + std::to_string(base_.n()) + ", " + std::to_string(base_.k()) + ")";
    detail::require(a_.shortened >= 0 && a_.shortened < base_.k(),
                    name + ": shortening by " + std::to_string(a_.shortened) + ", expected 0.." +
                        std::to_string(base_.k() - 1) + " (at least one message bit must remain)");
    detail::require(a_.punctured >= 0 && a_.punctured <= base_.parity_bits(),
                    name + ": puncturing " + std::to_string(a_.punctured) + " bits, expected 0.." +
                        std::to_string(base_.parity_bits()) + " (only parity bits are dropped)");
    detail::require(a_.padding >= 0, name + ": negative padding " + std::to_string(a_.padding));
    const auto pad_words = detail::words_for_bits(static_cast<std::size_t>(a_.padding));
    if (a_.padding_bits.empty()) a_.padding_bits.assign(pad_words, 0);
    detail::require(a_.padding_bits.size() == pad_words,
                    name + ": padding pattern of " + std::to_string(a_.padding_bits.size()) + " words for " +
                        std::to_string(a_.padding) + " bits, expected " + std::to_string(pad_words));
    if (a_.padding % 64 != 0 && pad_words > 0)
      a_.padding_bits.back() &= (std::uint64_t{1} << (a_.padding % 64)) - 1;
  }

  const BchCode& base() const { return base_; }
  const BchAdaptation& adaptation() const { return a_; }
  int shortened() const { return a_.shortened; }
  int punctured() const { return a_.punctured; }
  int padding() const { return a_.padding; }
  /// Bits that come from the code: n - s - p.
  int code_length() const { return base_.n() - a_.shortened - a_.punctured; }
  /// Total length: n - s - p + padding.
  int length() const { return code_length() + a_.padding; }
  /// Message bits: k - s.
  int dimension() const { return base_.k() - a_.shortened; }
  /// A lower bound on the minimum distance: 2 t_effective + 1 - p (at least 1).
  int distance_bound() const { return std::max(1, 2 * base_.t_effective() + 1 - a_.punctured); }
  /// Errors decode() corrects: floor((2t - p) / 2) for the base code's t; -1 when p > 2t.
  int correctable_errors() const {
    const int slack = 2 * base_.t() - a_.punctured;
    return slack < 0 ? -1 : slack / 2;
  }
  int words() const { return static_cast<int>(detail::words_for_bits(static_cast<std::size_t>(length()))); }

  /// Encodes dimension() message bits into a word of length() bits (words() words).
  void encode(const std::uint64_t* message, std::uint64_t* word) const {
    const int kk = dimension();
    const auto mw = detail::words_for_bits(static_cast<std::size_t>(kk));
    if (kk % 64 != 0 && (message[mw - 1] >> (kk % 64)) != 0)
      throw InvalidArgument("adapted BCH encode: message has bits set at or above k = " + std::to_string(kk));
    std::vector<std::uint64_t> full_message(static_cast<std::size_t>(base_.message_words()), 0);
    detail::copy_bits(full_message.data(), 0, message, 0, static_cast<std::size_t>(kk));
    std::vector<std::uint64_t> full(static_cast<std::size_t>(base_.codeword_words()));
    base_.encode(full_message.data(), full.data());
    std::fill(word, word + words(), 0);
    detail::copy_bits(word, 0, full.data(), static_cast<std::size_t>(a_.punctured),
                      static_cast<std::size_t>(code_length()));
    if (a_.padding > 0)
      detail::copy_bits(word, static_cast<std::size_t>(code_length()), a_.padding_bits.data(), 0,
                        static_cast<std::size_t>(a_.padding));
  }
  /// Encodes the integer `value` (< 2^dimension()) as a message: bit j of value = m_j.
  void encode_value(std::uint64_t value, std::uint64_t* word) const {
    const int kk = dimension();
    detail::require(kk >= 64 || value < (std::uint64_t{1} << kk),
                    "adapted BCH encode: value " + std::to_string(value) + " does not fit " +
                        std::to_string(kk) + " message bits");
    std::vector<std::uint64_t> message(detail::words_for_bits(static_cast<std::size_t>(kk)), 0);
    message[0] = value;
    encode(message.data(), word);
  }
  /// Copies the dimension() message bits of a word into `message`.
  void extract_message(const std::uint64_t* word, std::uint64_t* message) const {
    const auto mw = detail::words_for_bits(static_cast<std::size_t>(dimension()));
    std::fill(message, message + mw, 0);
    detail::copy_bits(message, 0, word, static_cast<std::size_t>(base_.parity_bits() - a_.punctured),
                      static_cast<std::size_t>(dimension()));
  }

  /// Corrects a word of length() bits in place when it lies within correctable_errors() of a
  /// codeword on its code bits; padding bits are ignored and restored. Returns the number of
  /// code bits flipped or BchCode::decode_failure (word unchanged). Punctured bits are erasures,
  /// resolved by decoding with them all 0 and all 1 (one of the two sees at most p/2 of them
  /// wrong); shortened positions must stay zero. Throws StateError when p > 2t.
  int decode(std::uint64_t* word) const {
    const int radius = correctable_errors();
    if (radius < 0)
      throw StateError("adapted BCH decode: " + std::to_string(a_.punctured) +
                       " punctured bits exceed 2t = " + std::to_string(2 * base_.t()) +
                       "; the code cannot be decoded");
    const int n = base_.n();
    const int p = a_.punctured;
    const int top = n - a_.shortened;
    std::vector<std::uint64_t> received(static_cast<std::size_t>(base_.codeword_words()), 0);
    detail::copy_bits(received.data(), static_cast<std::size_t>(p), word, 0,
                      static_cast<std::size_t>(code_length()));
    BchCode::Workspace ws;
    std::vector<std::uint64_t> best, candidate;
    int best_distance = -1;
    for (int fill = 0; fill < (p > 0 ? 2 : 1); ++fill) {
      candidate = received;
      for (int i = 0; i < p; ++i)
        if (fill) candidate[static_cast<std::size_t>(i >> 6)] |= std::uint64_t{1} << (i & 63);
      if (base_.decode(candidate.data(), ws) == BchCode::decode_failure) continue;
      int distance = 0;
      bool in_shortened = false;
      for (int pos : ws.error_positions) {
        if (pos >= top) in_shortened = true;
        if (pos >= p) ++distance;
      }
      if (in_shortened || distance > radius) continue;
      if (best_distance < 0 || distance < best_distance) {
        best_distance = distance;
        best = candidate;
      }
    }
    if (best_distance < 0) return BchCode::decode_failure;
    detail::copy_bits(word, 0, best.data(), static_cast<std::size_t>(p),
                      static_cast<std::size_t>(code_length()));
    if (a_.padding > 0)
      detail::copy_bits(word, static_cast<std::size_t>(code_length()), a_.padding_bits.data(), 0,
                        static_cast<std::size_t>(a_.padding));
    return best_distance;
  }

 private:
  BchCode base_;
  BchAdaptation a_;
};

}  // namespace rlhash
