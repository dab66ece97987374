#pragma once
/// \file
/// DRLH's label embedding (Wang et al., "Deep Reinforcement Learning with Label Embedding
/// Reward for Supervised Image Hashing", section 3.3): the C classes become C codewords of b bits
/// taken from a BCH code, so that the codewords are far apart; the reward (eq. 1) is built from
/// d_pos, the distance of an item's code to its class codeword, and d_neg, its mean distance to
/// the other classes' codewords. The termination reward (eq. 2) compares d_pos with eta <= R_BCH.
///
/// Default rule (reproduces the paper's Table 1 radii, R_BCH = 3 at 16 bits and 7 at 32 bits
/// for 10 classes): m = the largest with 2^m - 1 <= b; t = the largest with 2^k >= C; class c is
/// the codeword of message c (bit j of c = m_j); b - n seeded random bits are appended, the same
/// to every codeword. When no t at that m gives 2^k >= C, the next m is used with its top message
/// bits shortened away (keeps the distance) and, for the rest, parity bits punctured (lowers it).
///
/// That rule leaves bits that are the same for every class: the b - n padding bits, and the code
/// bits that only depend on message bits no class uses (class c < 2^k' leaves the top k - k'
/// message bits zero). A hasher trained toward such codewords has dead bits. The `spread` fill
/// (LabelCodeFill) keeps the code and makes every bit vary between classes: the messages include
/// 0 and every unit vector, so no code bit is constant (a constant bit would be a message
/// functional vanishing on a basis), and the padding bits repeat the code part (bit n + i =
/// bit i mod n), which also adds their distance to the code's.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rlhash/bch/adapted_bch_code.hpp"
#include "rlhash/bch/bch_code.hpp"
#include "rlhash/bch/code_families.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/data/labels.hpp"

namespace rlhash {

/// How the classes are placed on the code (see the file comment).
enum class LabelCodeFill : std::uint8_t {
  paper = 0,   ///< class c = message c; b - n seeded random padding bits, the same for every class
  spread = 1,  ///< messages 0 and the unit vectors first; padding repeats the code part's bits
};

/// "paper" or "spread" for `fill`.
inline const char* label_code_fill_name(LabelCodeFill fill) {
  return fill == LabelCodeFill::spread ? "spread" : "paper";
}
/// The fill named "paper" or "spread"; InvalidArgument naming `what` otherwise.
inline LabelCodeFill parse_label_code_fill(const std::string& name, const std::string& what) {
  if (name == "paper") return LabelCodeFill::paper;
  if (name == "spread") return LabelCodeFill::spread;
  throw InvalidArgument(what + " must be paper or spread, got '" + name + "'");
}

/// Which BCH code an embedding uses, how it was fitted to b bits and how the classes fill it.
struct LabelEmbeddingLayout {
  int m = 0;
  int t = 0;
  std::uint32_t primitive = 0;  // 0 = the default of GF(2^m)
  int shortened = 0;
  int punctured = 0;
  LabelCodeFill fill = LabelCodeFill::paper;
};

/// d_pos and d_neg of a batch of codes (DRLH eq. 1).
struct RewardDistances {
  std::vector<int> d_pos;
  std::vector<double> d_neg;
};

class LabelEmbedding {
 public:
  /// How the code was fitted to b bits: `padded` (a full-length BCH code plus b - n padding
  /// bits, the paper's rule) or `shortened_punctured` (a longer code cut down to b bits).
  enum class Construction : std::uint8_t { padded = 0, shortened_punctured = 1 };

  /// The embedding of `num_classes` (>= 2) classes in `bits` bits by the default rule; `seed`
  /// draws the padding bits.
  LabelEmbedding(int num_classes, int bits, std::uint64_t seed = 0)
      : LabelEmbedding(num_classes, bits, seed, default_layout(num_classes, bits)) {}
  /// The default rule's code, filled as `fill` says.
  LabelEmbedding(int num_classes, int bits, std::uint64_t seed, LabelCodeFill fill)
      : LabelEmbedding(num_classes, bits, seed, with_fill(default_layout(num_classes, bits), fill)) {}

  /// The embedding over an explicit code: BCH(m, t) shortened/punctured as given, padded to
  /// `bits` with seeded random bits. Throws InvalidArgument when it does not fit `bits` or
  /// has fewer than num_classes messages.
  LabelEmbedding(int num_classes, int bits, std::uint64_t seed, const LabelEmbeddingLayout& layout)
      : classes_(num_classes),
        bits_(bits),
        seed_(seed),
        layout_(layout),
        code_(make_code(num_classes, bits, seed, layout)) {
    codewords_ = BinaryCodes(classes_, bits_);
    const std::vector<std::uint64_t> messages = class_messages(classes_, code_.dimension(), layout_.fill);
    for (int c = 0; c < classes_; ++c) {
      code_.encode_value(messages[static_cast<std::size_t>(c)], codewords_.row(c));
      if (layout_.fill == LabelCodeFill::spread) repeat_code_part(codewords_.row(c));
    }
    const DistanceStats stats = pairwise_distance_stats(codewords_);
    min_distance_ = stats.min;
    mean_distance_ = stats.mean;
  }

  /// The layout the default rule picks for C classes in b bits (see the file comment).
  static LabelEmbeddingLayout default_layout(int num_classes, int bits) {
    check_sizes(num_classes, bits);
    const int need = bits_for(num_classes);
    int m0 = gf2m_min_degree;
    while (m0 + 1 <= gf2m_max_degree && (1 << (m0 + 1)) - 1 <= bits) ++m0;
    if ((1 << m0) - 1 <= bits) {
      const int t = largest_t(m0, need);
      if (t > 0) return LabelEmbeddingLayout{m0, t, 0, 0, 0};
    }
    // Fallback: a longer code cut to b bits. Shorten as far as the classes allow (keeps the
    // distance), puncture the rest; choose t by the distance bound 2 t + 1 - punctured.
    for (int m = m0 + 1; m <= gf2m_max_degree; ++m) {
      const int n = (1 << m) - 1;
      LabelEmbeddingLayout best;
      bool found = false;
      int best_bound = 0;
      for (int t = 1; t <= (n - 1) / 2; ++t) {
        const int k = BchCode::dimension_for(m, t);
        if (k < need) break;
        const int shortened = std::min(k - need, n - bits);
        const int punctured = n - bits - shortened;
        if (punctured > n - k) continue;
        const int bound = 2 * t + 1 - punctured;
        if (!found || bound > best_bound) {
          found = true;
          best_bound = bound;
          best = LabelEmbeddingLayout{m, t, 0, shortened, punctured};
        }
      }
      if (found) return best;
    }
    throw InvalidArgument("label embedding: no BCH code with m <= " + std::to_string(gf2m_max_degree) +
                          " fits " + std::to_string(num_classes) + " classes in " + std::to_string(bits) +
                          " bits");
  }

  int num_classes() const { return classes_; }
  int bits() const { return bits_; }
  std::uint64_t seed() const { return seed_; }
  const LabelEmbeddingLayout& layout() const { return layout_; }
  Construction construction() const {
    return (layout_.shortened > 0 || layout_.punctured > 0) ? Construction::shortened_punctured
                                                            : Construction::padded;
  }
  /// The code behind the codewords (base BCH code, shortening, puncturing, padding).
  const AdaptedBchCode& code() const { return code_; }
  int m() const { return layout_.m; }
  int t() const { return layout_.t; }
  int padding() const { return code_.padding(); }
  LabelCodeFill fill() const { return layout_.fill; }
  /// A one-line description, e.g. "BCH(15, 5) t = 3, + 1 random padding bit".
  std::string description() const {
    const BchCode& base = code_.base();
    std::string text = "BCH(" + std::to_string(base.n()) + ", " + std::to_string(base.k()) +
                       ") t = " + std::to_string(base.t());
    if (layout_.shortened > 0) text += ", shortened by " + std::to_string(layout_.shortened);
    if (layout_.punctured > 0) text += ", punctured by " + std::to_string(layout_.punctured);
    const bool spread = layout_.fill == LabelCodeFill::spread;
    if (padding() > 0) {
      text += ", + " + std::to_string(padding()) + (spread ? " padding bit" : " random padding bit");
      if (padding() > 1) text += "s";
      if (spread) text += " repeating the code";
    }
    if (spread) text += ", spread messages";
    return text;
  }

  /// The C codewords of b bits (row c = class c), bit 0 first as all rlhash codes.
  const BinaryCodes& codewords() const { return codewords_; }
  /// Measured minimum pairwise distance D of the C codewords.
  int min_distance() const { return min_distance_; }
  double mean_distance() const { return mean_distance_; }
  /// R_BCH = floor((D - 1) / 2) for the measured D: balls of this radius do not overlap.
  int radius() const { return (min_distance_ - 1) / 2; }

  /// Hamming distances from `code` (bits() bits, codewords().words() words) to every class
  /// codeword, into out[0..C).
  void distances_to_classes(const std::uint64_t* code, int* out) const {
    const int words = codewords_.words();
    if (words == 1) {
      const std::uint64_t x = code[0];
      for (int c = 0; c < classes_; ++c) out[c] = __builtin_popcountll(x ^ codewords_.row(c)[0]);
      return;
    }
    for (int c = 0; c < classes_; ++c) out[c] = hamming_distance(code, codewords_.row(c), codewords_.bits());
  }
  int distance_to_class(const std::uint64_t* code, int class_id) const {
    check_class(class_id);
    return hamming_distance(code, codewords_.row(class_id), codewords_.bits());
  }
  /// d_pos: distance to the class's codeword.
  int d_pos(const std::uint64_t* code, int class_id) const { return distance_to_class(code, class_id); }
  /// d_neg: mean distance to the other C - 1 classes' codewords.
  double d_neg(const std::uint64_t* code, int class_id) const {
    check_class(class_id);
    std::vector<int> d(static_cast<std::size_t>(classes_));
    distances_to_classes(code, d.data());
    long total = 0;
    for (int v : d) total += v;
    return static_cast<double>(total - d[static_cast<std::size_t>(class_id)]) / (classes_ - 1);
  }
  /// d_pos for item `item` of `labels`: distance to the nearest codeword among its labels
  /// (multi-label data, as DRLH does for NUS-WIDE).
  int d_pos(const std::uint64_t* code, const Labels& labels, Index item) const {
    std::vector<int> d(static_cast<std::size_t>(classes_));
    distances_to_classes(code, d.data());
    int pos;
    double neg;
    from_class_distances(d.data(), labels, item, pos, neg);
    return pos;
  }
  /// d_neg for item `item` of `labels`: mean distance to the codewords of the classes it does
  /// not have (0 when it has every class).
  double d_neg(const std::uint64_t* code, const Labels& labels, Index item) const {
    std::vector<int> d(static_cast<std::size_t>(classes_));
    distances_to_classes(code, d.data());
    int pos;
    double neg;
    from_class_distances(d.data(), labels, item, pos, neg);
    return neg;
  }
  /// d_pos and d_neg for every code: row i of `codes` belongs to item i of `labels`.
  RewardDistances reward_distances(const BinaryCodes& codes, const Labels& labels) const {
    detail::require(codes.size() == labels.size(), "label embedding: " + std::to_string(codes.size()) +
                                                       " codes but " + std::to_string(labels.size()) +
                                                       " labelled items");
    std::vector<Index> items(static_cast<std::size_t>(codes.size()));
    for (Index i = 0; i < codes.size(); ++i) items[static_cast<std::size_t>(i)] = i;
    return reward_distances(codes, labels, items);
  }
  /// d_pos and d_neg for every code: row i of `codes` belongs to item items[i] of `labels`.
  RewardDistances reward_distances(const BinaryCodes& codes, const Labels& labels,
                                   const std::vector<Index>& items) const {
    check_codes(codes);
    detail::require(static_cast<Index>(items.size()) == codes.size(),
                    "label embedding: " + std::to_string(codes.size()) + " codes but " +
                        std::to_string(items.size()) + " item indices");
    RewardDistances out;
    out.d_pos.resize(items.size());
    out.d_neg.resize(items.size());
    std::vector<int> d(static_cast<std::size_t>(classes_));
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i] < 0 || items[i] >= labels.size())
        throw InvalidArgument("label embedding: item index " + std::to_string(items[i]) + " outside [0, " +
                              std::to_string(labels.size()) + ")");
      distances_to_classes(codes.row(static_cast<Index>(i)), d.data());
      from_class_distances(d.data(), labels, items[i], out.d_pos[i], out.d_neg[i]);
    }
    return out;
  }

  /// The class whose codeword is nearest to `code` (smallest id on ties).
  int nearest_class(const std::uint64_t* code) const {
    std::vector<int> d(static_cast<std::size_t>(classes_));
    distances_to_classes(code, d.data());
    return static_cast<int>(std::min_element(d.begin(), d.end()) - d.begin());
  }

  /// Appends the embedding to `out` (for model files); load() reads it back.
  void save(ByteWriter& out) const {
    out.put<std::uint32_t>(format_tag);
    out.put<std::uint32_t>(format_version);
    out.put<std::int32_t>(classes_);
    out.put<std::int32_t>(bits_);
    out.put<std::uint64_t>(seed_);
    out.put<std::int32_t>(layout_.m);
    out.put<std::int32_t>(layout_.t);
    out.put<std::uint32_t>(code_.base().primitive_polynomial());
    out.put<std::int32_t>(layout_.shortened);
    out.put<std::int32_t>(layout_.punctured);
    out.put<std::uint8_t>(static_cast<std::uint8_t>(layout_.fill));
    const std::size_t total =
        static_cast<std::size_t>(classes_) * static_cast<std::size_t>(codewords_.words());
    out.put_vector(std::vector<std::uint64_t>(codewords_.data(), codewords_.data() + total));
  }
  /// Reads an embedding written by save(); the stored codewords must equal the ones the stored
  /// parameters generate (FormatError otherwise: corrupted or foreign data).
  static LabelEmbedding load(ByteReader& in) {
    if (in.get<std::uint32_t>() != format_tag) in.fail("a label embedding (tag 'LEMB')");
    const auto version = in.get<std::uint32_t>();
    if (version < 1 || version > format_version)
      in.fail("label embedding format version 1.." + std::to_string(format_version) + ", found " +
              std::to_string(version));
    const auto classes = in.get<std::int32_t>();
    const auto bits = in.get<std::int32_t>();
    const auto seed = in.get<std::uint64_t>();
    LabelEmbeddingLayout layout;
    layout.m = in.get<std::int32_t>();
    layout.t = in.get<std::int32_t>();
    layout.primitive = in.get<std::uint32_t>();
    layout.shortened = in.get<std::int32_t>();
    layout.punctured = in.get<std::int32_t>();
    if (version >= 2) {  // version 1 predates the fill: always the paper's
      const auto fill = in.get<std::uint8_t>();
      if (fill > static_cast<std::uint8_t>(LabelCodeFill::spread))
        in.fail("a label code fill (0: paper, 1: spread), found " + std::to_string(fill));
      layout.fill = static_cast<LabelCodeFill>(fill);
    }
    const auto stored = in.get_vector<std::uint64_t>();
    // Bound the work a lying header can cause before building anything.
    if (layout.m < gf2m_min_degree || layout.m > gf2m_max_degree || bits < 1 ||
        bits > BinaryCodes::max_bits || classes < 2 || classes > max_loaded_classes ||
        stored.size() != static_cast<std::size_t>(classes) * ((static_cast<std::size_t>(bits) + 63) / 64))
      in.fail("consistent label embedding parameters (classes " + std::to_string(classes) + ", bits " +
              std::to_string(bits) + ", m " + std::to_string(layout.m) + ", " +
              std::to_string(stored.size()) + " codeword words)");
    try {
      LabelEmbedding embedding(classes, bits, seed, layout);
      if (!std::equal(stored.begin(), stored.end(), embedding.codewords_.data()))
        in.fail("codewords generated by the stored parameters (they differ: corrupted data)");
      return embedding;
    } catch (const InvalidArgument& e) {
      in.fail(std::string("valid label embedding parameters (") + e.what() + ")");
    }
  }

 private:
  static constexpr std::uint32_t format_tag = 0x424d454cU;  // "LEMB" little-endian
  static constexpr std::uint32_t format_version = 2;        // 2 added the fill
  static constexpr std::int32_t max_loaded_classes = 1 << 20;

  static void check_sizes(int num_classes, int bits) {
    detail::require(num_classes >= 2,
                    "label embedding: " + std::to_string(num_classes) + " classes, expected >= 2");
    detail::require(bits >= 1 && bits <= BinaryCodes::max_bits, "label embedding: " + std::to_string(bits) +
                                                                    " bits, expected 1.." +
                                                                    std::to_string(BinaryCodes::max_bits));
    detail::require(bits >= 31 || (std::int64_t{1} << bits) >= num_classes,
                    "label embedding: " + std::to_string(num_classes) +
                        " classes cannot have distinct codes of " + std::to_string(bits) + " bits");
  }
  static LabelEmbeddingLayout with_fill(LabelEmbeddingLayout layout, LabelCodeFill fill) {
    layout.fill = fill;
    return layout;
  }
  /// The message of each class: c itself (paper), or 0, the unit vectors 1, 2, 4, ... of the
  /// `dimension` message bits and then the smallest unused values (spread: the differences span
  /// the message space as soon as C > dimension, so no code bit is the same for every class).
  static std::vector<std::uint64_t> class_messages(int num_classes, int dimension, LabelCodeFill fill) {
    std::vector<std::uint64_t> messages;
    messages.reserve(static_cast<std::size_t>(num_classes));
    if (fill == LabelCodeFill::paper) {
      for (int c = 0; c < num_classes; ++c) messages.push_back(static_cast<std::uint64_t>(c));
      return messages;
    }
    const int units = std::min(dimension, 63);  // messages are 64-bit values
    const auto is_unit = [units](std::uint64_t v) {
      return v != 0 && (v & (v - 1)) == 0 && v < (std::uint64_t{1} << units);
    };
    messages.push_back(0);
    for (int j = 0; j < units && static_cast<int>(messages.size()) < num_classes; ++j)
      messages.push_back(std::uint64_t{1} << j);
    for (std::uint64_t v = 3; static_cast<int>(messages.size()) < num_classes; ++v)
      if (!is_unit(v)) messages.push_back(v);
    return messages;
  }
  /// Overwrites the padding bits of `row` with the code part's bits, cyclically.
  void repeat_code_part(std::uint64_t* row) const {
    const int code_bits = bits_ - code_.padding();
    if (code_bits <= 0) return;
    for (int i = code_bits; i < bits_; ++i) {
      const int source = (i - code_bits) % code_bits;
      const std::uint64_t bit = (row[source / 64] >> (source % 64)) & 1U;
      row[i / 64] = (row[i / 64] & ~(std::uint64_t{1} << (i % 64))) | (bit << (i % 64));
    }
  }
  /// Smallest k with 2^k >= C.
  static int bits_for(int num_classes) {
    int k = 0;
    while ((std::int64_t{1} << k) < num_classes) ++k;
    return k;
  }
  /// Largest t at m with k >= need, or 0 when even t = 1 has too few message bits.
  static int largest_t(int m, int need) {
    const int n = (1 << m) - 1;
    int best = 0;
    for (int t = 1; t <= (n - 1) / 2; ++t) {
      if (BchCode::dimension_for(m, t) < need) break;
      best = t;
    }
    return best;
  }
  static AdaptedBchCode make_code(int num_classes, int bits, std::uint64_t seed,
                                  const LabelEmbeddingLayout& layout) {
    check_sizes(num_classes, bits);
    BchCode base(layout.m, layout.t, layout.primitive);
    const int code_length = base.n() - layout.shortened - layout.punctured;
    detail::require(code_length <= bits, "label embedding: BCH(" + std::to_string(base.n()) + ", " +
                                             std::to_string(base.k()) + ") cut to " +
                                             std::to_string(code_length) + " bits does not fit " +
                                             std::to_string(bits) + " bits");
    const int dimension = base.k() - layout.shortened;
    detail::require(dimension >= 1 && (dimension >= 31 || (std::int64_t{1} << dimension) >= num_classes),
                    "label embedding: " + std::to_string(dimension) + " message bits cannot label " +
                        std::to_string(num_classes) + " classes");
    Rng rng(seed);
    BchAdaptation adaptation;
    adaptation.shortened = layout.shortened;
    adaptation.punctured = layout.punctured;
    adaptation.padding = bits - code_length;
    adaptation.padding_bits = BchAdaptation::random_padding(adaptation.padding, rng);
    return AdaptedBchCode(std::move(base), std::move(adaptation));
  }
  void check_class(int class_id) const {
    if (class_id < 0 || class_id >= classes_)
      throw InvalidArgument("label embedding: class " + std::to_string(class_id) + " outside [0, " +
                            std::to_string(classes_) + ")");
  }
  void check_codes(const BinaryCodes& codes) const {
    detail::require(codes.bits() == bits_, "label embedding: codes of " + std::to_string(codes.bits()) +
                                               " bits, expected " + std::to_string(bits_));
  }
  void from_class_distances(const int* d, const Labels& labels, Index item, int& pos, double& neg) const {
    // Plain ifs, not detail::require: this runs per code and must not build message strings.
    if (labels.num_classes() > classes_)
      throw InvalidArgument("label embedding: labels have " + std::to_string(labels.num_classes()) +
                            " classes, the embedding " + std::to_string(classes_));
    if (item < 0 || item >= labels.size())
      throw InvalidArgument("label embedding: item " + std::to_string(item) + " outside [0, " +
                            std::to_string(labels.size()) + ")");
    long total = 0;
    for (int c = 0; c < classes_; ++c) total += d[c];
    if (labels.is_single_label()) {
      const int id = labels.first_label(item);
      pos = d[id];
      neg = static_cast<double>(total - d[id]) / (classes_ - 1);
      return;
    }
    pos = std::numeric_limits<int>::max();
    long own = 0;
    int count = 0;
    const std::uint64_t* row = labels.row(item);
    for (int w = 0; w < labels.words_per_item(); ++w)
      for (std::uint64_t bits = row[w]; bits != 0; bits &= bits - 1) {
        const int c = 64 * w + __builtin_ctzll(bits);
        pos = std::min(pos, d[c]);
        own += d[c];
        ++count;
      }
    if (count == 0)
      throw InvalidArgument("label embedding: item " + std::to_string(item) +
                            " has no label (d_pos undefined)");
    neg = count == classes_ ? 0.0 : static_cast<double>(total - own) / (classes_ - count);
  }

  int classes_ = 0;
  int bits_ = 0;
  std::uint64_t seed_ = 0;
  LabelEmbeddingLayout layout_;
  AdaptedBchCode code_;
  BinaryCodes codewords_;
  int min_distance_ = 0;
  double mean_distance_ = 0.0;
};

}  // namespace rlhash
