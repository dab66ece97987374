#pragma once
/// \file
/// CSQ — Central Similarity Quantization (Yuan et al., CVPR 2020): every class has a hash
/// centre, a vertex of the cube far from the others' (section 3.2): rows of a Hadamard matrix
/// and their negations when bits is a power of two (2 bits centres), otherwise — and for the
/// classes beyond 2 bits — random vertices with bits/2 ones, redrawn up to 20 times until the
/// minimum pairwise distance exceeds bits/4 and the mean reaches bits/2. `centres = bch` takes
/// the codewords of DRLH's BCH label embedding instead (bch/label_embedding.hpp), a code with a
/// guaranteed minimum distance, with the classes placed by `label_code` (`spread` by default, as
/// DRLH: the paper's fill leaves bits with one value for every class, which the codes copy). A multi-label
/// item's centre is the sign of the sum of its classes' centres, ties broken by a fixed random vertex (eq.
/// 5). The loss is the binary cross-entropy of (tanh u + 1)/2 to the centre plus lambda times the
/// quantisation term (nn/hashing_losses.hpp: csq_loss). Code = sign(u).
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/hashing_losses.hpp"

namespace rlhash {

namespace detail {
inline bool is_power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

/// Minimum and mean Hamming distance between the columns (+-1) of `centres`.
inline std::pair<int, double> centre_distances(const MatrixF& centres) {
  int min_distance = static_cast<int>(centres.rows());
  double total = 0, pairs = 0;
  for (Index a = 0; a < centres.cols(); ++a)
    for (Index b = a + 1; b < centres.cols(); ++b) {
      const int d = static_cast<int>((centres.col(a).array() != centres.col(b).array()).count());
      min_distance = std::min(min_distance, d);
      total += d;
      pairs += 1;
    }
  return {min_distance, pairs > 0 ? total / pairs : 0.0};
}

/// A vertex with exactly bits/2 coordinates -1 (a random half of them).
inline VectorF half_negative_vertex(int bits, Rng& rng) {
  VectorF v = VectorF::Ones(bits);
  for (const auto k : sample_without_replacement(bits, bits / 2, rng)) v(static_cast<Index>(k)) = -1;
  return v;
}
}  // namespace detail

/// The hash centres of `classes` classes in `bits` bits (bits x classes of +-1) by `kind`:
/// "auto" (Hadamard rows when bits is a power of two, random vertices beyond them), "hadamard"
/// (only: needs bits a power of two and classes <= 2 bits), "random" or "bch" (the label
/// embedding's codewords with the classes placed by `fill`). InvalidArgument naming the field
/// when the classes cannot all get distinct centres.
inline MatrixF csq_hash_centres(int classes, int bits, const std::string& kind, std::uint64_t seed,
                                LabelCodeFill fill = LabelCodeFill::spread) {
  detail::require(kind == "auto" || kind == "hadamard" || kind == "random" || kind == "bch",
                  "csq: centres must be 'auto', 'hadamard', 'random' or 'bch', got '" + kind + "'");
  if (kind == "bch") {
    try {
      const LabelEmbedding embedding(classes, bits, seed, fill);
      MatrixF centres(bits, classes);
      for (int c = 0; c < classes; ++c)
        for (int k = 0; k < bits; ++k) centres(k, c) = embedding.codewords().get(c, k) ? 1.0f : -1.0f;
      return centres;
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("csq: centres = bch: no BCH label embedding of ") +
                            std::to_string(classes) + " classes in bits = " + std::to_string(bits) + " (" +
                            e.what() + ")");
    }
  }
  const bool hadamard = kind != "random" && detail::is_power_of_two(bits);
  const int hadamard_rows = hadamard ? 2 * bits : 0;
  detail::require(
      kind != "hadamard" || (detail::is_power_of_two(bits) && classes <= 2 * bits),
      "csq: centres = hadamard needs bits a power of two and at most 2 * bits classes, got bits = " +
          std::to_string(bits) + " and " + std::to_string(classes) + " classes");
  MatrixF centres(bits, classes);
  for (int c = 0; c < std::min(classes, hadamard_rows); ++c)
    for (int k = 0; k < bits; ++k) {
      // Sylvester's construction: H(i, k) = (-1)^popcount(i & k); rows bits.. are -H.
      const int row = c % bits;
      const int parity = __builtin_popcount(static_cast<unsigned>(row & k)) & 1;
      centres(k, c) = static_cast<float>((parity != 0 ? -1 : 1) * (c < bits ? 1 : -1));
    }
  if (classes <= hadamard_rows) return centres;
  Rng rng(seed ^ 0xC50ULL);
  MatrixF best = centres;
  int best_min = -1;
  for (int attempt = 0; attempt < 20; ++attempt) {
    for (int c = hadamard_rows; c < classes; ++c) centres.col(c) = detail::half_negative_vertex(bits, rng);
    const auto [min_distance, mean_distance] = detail::centre_distances(centres);
    if (min_distance > best_min) {
      best = centres;
      best_min = min_distance;
    }
    if (min_distance > bits / 4.0 && mean_distance >= bits / 2.0) break;
  }
  detail::require(best_min > 0, "csq: " + std::to_string(classes) +
                                    " classes need distinct hash centres, bits = " + std::to_string(bits) +
                                    " did not give them (more classes than centres)");
  return best;
}

struct CsqLoss {
  static constexpr const char* method_name = "csq";
  static constexpr double lr_decay_epochs = 0;
  static constexpr bool classifier = false;

  struct Config {
    double lambda = 1e-4;               ///< weight of the quantisation term
    std::string centres = "auto";       ///< auto | hadamard | random | bch
    std::string label_code = "spread";  ///< centres = bch: paper | spread (bch/label_embedding.hpp)
    template <class V>
    void visit(V&& field) {
      field("lambda", lambda);
      field("centres", centres);
      field("label_code", label_code);
    }
  };
  static LabelCodeFill fill_of(const Config& c) {
    return parse_label_code_fill(c.label_code, "csq: label_code");
  }
  static void check(const Config& c, int) {
    detail::require(c.lambda >= 0, "csq: lambda must be >= 0, got " + std::to_string(c.lambda));
    detail::require(
        c.centres == "auto" || c.centres == "hadamard" || c.centres == "random" || c.centres == "bch",
        "csq: centres must be 'auto', 'hadamard', 'random' or 'bch', got '" + c.centres + "'");
    (void)fill_of(c);
  }
  static void check_labels(const Config& c, int bits, const Labels& labels) {
    (void)csq_hash_centres(labels.num_classes(), bits, c.centres, 0, fill_of(c));
  }

  template <class S>
  class State {
   public:
    State(const Config& c, int bits, const Labels& labels, std::uint64_t seed)
        : config_(c),
          labels_(labels),
          centres_(csq_hash_centres(labels.num_classes(), bits, c.centres, seed, fill_of(c))),
          tie_breaker_(bits) {
      Rng rng(seed ^ 0x71EULL);
      for (int k = 0; k < bits; ++k) tie_breaker_(k) = uniform_below(rng, 2) == 1 ? 1.0f : -1.0f;
    }
    double step(DeepHashStep<S>& s) {
      Matrix<S> targets(s.u.rows(), s.u.cols());
      for (std::size_t i = 0; i < s.batch.size(); ++i)
        targets.col(static_cast<Index>(i)) = centre_of(s.batch[i]).template cast<S>();
      return nn::csq_loss(s.u, targets, config_.lambda, &s.du);
    }
    void save(ByteWriter&) const {}
    void load(ByteReader&) {}

    /// The item's centre: its class's, or for several labels the sign of their sum (eq. 5).
    VectorF centre_of(Index item) const {
      if (labels_.is_single_label()) return centres_.col(labels_.first_label(item));
      VectorF sum = VectorF::Zero(centres_.rows());
      for (int c : labels_.labels_of(item)) sum += centres_.col(c);
      for (Index k = 0; k < sum.size(); ++k)
        sum(k) = sum(k) > 0 ? 1.0f : sum(k) < 0 ? -1.0f : tie_breaker_(k);
      return sum;
    }

   private:
    Config config_;
    const Labels& labels_;
    MatrixF centres_;
    VectorF tie_breaker_;
  };
};

template <class Repr = ShallowMlpRepresentation<float>>
using CsqHasher = DeepHashingHasher<CsqLoss, Repr>;
/// CSQ on the one-hidden-layer MLP (CLI name "csq").
using Csq = CsqHasher<>;
template <class B>
using CsqOn = CsqHasher<ShallowMlpRepresentation<float, B>>;

}  // namespace rlhash
