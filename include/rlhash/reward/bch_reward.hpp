#pragma once
/// \file
/// DRLH's rewards over the BCH label embedding (Wang et al., section 3.3).
///
/// Actions on a b-bit code: a = 0..b-1 flips bit a, a = b terminates. With d_pos the distance
/// of the code to the (nearest, for multi-label items) codeword of the item's classes and
/// d_neg its mean distance to the other classes' codewords,
///   eq. (1)  flip:      R = (d_pos^t - d_neg^t) - (d_pos^t' - d_neg^t'),
///            positive when the flip moves the code towards its class and away from the others;
///   eq. (2)  terminate: R = +sigma if d_pos^t <= eta, else -sigma.
/// The "expert" of guided exploration (apprenticeship learning, section 4.2) proposes the
/// actions that improve the state: flipping a bit that disagrees with the target codeword
/// (the nearest codeword among the item's classes), and terminating once d_pos <= eta.
///
/// An episode keeps its distances to all C codewords (EpisodeDistances); a flip updates them
/// by +-1 in O(C), so rewards never rescan the code.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/data/labels.hpp"

namespace rlhash {

class BchReward {
 public:
  /// eta < 0 selects the default ceil(R_BCH / 2) (the paper's best region, Table 1);
  /// sigma is the termination reward (5 in the paper).
  BchReward(LabelEmbedding embedding, double sigma = 5.0, int eta = -1)
      : embedding_(std::move(embedding)), sigma_(sigma) {
    rlhash::detail::require(sigma >= 0, "BchReward: sigma must be >= 0, got " + std::to_string(sigma));
    eta_ = eta < 0 ? default_eta(embedding_.radius()) : eta;
    rlhash::detail::require(eta_ <= embedding_.bits(), "BchReward: eta = " + std::to_string(eta_) +
                                                           " exceeds the code length " +
                                                           std::to_string(embedding_.bits()));
  }

  static int default_eta(int radius) { return (std::max(radius, 0) + 1) / 2; }

  const LabelEmbedding& embedding() const { return embedding_; }
  int bits() const { return embedding_.bits(); }
  int num_classes() const { return embedding_.num_classes(); }
  int terminate_action() const { return bits(); }
  int eta() const { return eta_; }
  double sigma() const { return sigma_; }

  /// Distances of `code` to every class codeword into d[0..C).
  void distances(const std::uint64_t* code, int* d) const { embedding_.distances_to_classes(code, d); }

  /// d_pos and d_neg from the class distances d of item `item` of `labels` (nearest label
  /// codeword for multi-label items; d_neg over the classes the item does not have, 0 if none).
  void pos_neg(const int* d, const Labels& labels, Index item, int& pos, double& neg) const {
    check_item(labels, item);
    const int classes = num_classes();
    long total = 0;
    for (int c = 0; c < classes; ++c) total += d[c];
    if (labels.is_single_label()) {
      const int id = labels.first_label(item);
      pos = d[id];
      neg = static_cast<double>(total - d[id]) / (classes - 1);
      return;
    }
    pos = std::numeric_limits<int>::max();
    long own = 0;
    int count = 0;
    for (int c = 0; c < classes; ++c)
      if (labels.has(item, c)) {
        pos = std::min(pos, d[c]);
        own += d[c];
        ++count;
      }
    if (count == 0) throw InvalidArgument("BchReward: item " + std::to_string(item) + " has no label");
    neg = count == classes ? 0.0 : static_cast<double>(total - own) / (classes - count);
  }

  /// The target class: the item's class whose codeword is nearest (smallest id on ties).
  int target_class(const int* d, const Labels& labels, Index item) const {
    check_item(labels, item);
    if (labels.is_single_label()) return labels.first_label(item);
    int best = -1;
    for (int c = 0; c < num_classes(); ++c)
      if (labels.has(item, c) && (best < 0 || d[c] < d[best])) best = c;
    if (best < 0) throw InvalidArgument("BchReward: item " + std::to_string(item) + " has no label");
    return best;
  }

  /// Eq. (1) for flipping `bit` of `code` (distances d), without changing anything.
  double flip_reward(const std::uint64_t* code, const int* d, const Labels& labels, Index item,
                     int bit) const {
    check_bit(bit);
    std::vector<int> next(d, d + num_classes());
    flip_distances(code, next.data(), bit);
    int pos0, pos1;
    double neg0, neg1;
    pos_neg(d, labels, item, pos0, neg0);
    pos_neg(next.data(), labels, item, pos1, neg1);
    return (pos0 - neg0) - (pos1 - neg1);
  }

  /// Eq. (2) for terminating at a code whose d_pos is `d_pos`.
  double terminate_reward(int d_pos) const { return d_pos <= eta_ ? sigma_ : -sigma_; }

  /// Reward of `action` (0..b) at `code` (distances d); a flip's reward is eq. (1), terminate's eq. (2).
  double reward(const std::uint64_t* code, const int* d, const Labels& labels, Index item, int action) const {
    if (action == terminate_action()) {
      int pos;
      double neg;
      pos_neg(d, labels, item, pos, neg);
      return terminate_reward(pos);
    }
    return flip_reward(code, d, labels, item, action);
  }

  /// Updates the class distances d for flipping `bit` of `code` (the code itself unchanged).
  void flip_distances(const std::uint64_t* code, int* d, int bit) const {
    const int word = bit / 64;
    const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
    const bool set = (code[word] & mask) != 0;
    const auto& cw = embedding_.codewords();
    for (int c = 0; c < num_classes(); ++c) {
      const bool target = (cw.row(c)[word] & mask) != 0;
      d[c] += set == target ? 1 : -1;  // agreeing bit becomes a disagreement, and vice versa
    }
  }

  /// Flips `bit` of `code` and updates its class distances d.
  void apply_flip(std::uint64_t* code, int* d, int bit) const {
    check_bit(bit);
    flip_distances(code, d, bit);
    code[bit / 64] ^= std::uint64_t{1} << (bit % 64);
  }

  /// The expert's improving actions at `code` (distances d) into `out`: every bit that
  /// disagrees with the target codeword, and terminate when d_pos <= eta. Never empty (d_pos = 0
  /// allows terminating).
  void expert_actions(const std::uint64_t* code, const int* d, const Labels& labels, Index item,
                      std::vector<int>& out) const {
    out.clear();
    const int target = target_class(d, labels, item);
    const std::uint64_t* cw = embedding_.codewords().row(target);
    const int words = embedding_.codewords().words();
    for (int w = 0; w < words; ++w)
      for (std::uint64_t diff = code[w] ^ cw[w]; diff != 0; diff &= diff - 1)
        out.push_back(64 * w + __builtin_ctzll(diff));
    if (d[target] <= eta_) out.push_back(terminate_action());
  }

 private:
  void check_bit(int bit) const {
    if (bit < 0 || bit >= bits())
      throw InvalidArgument("BchReward: bit " + std::to_string(bit) + " outside [0, " +
                            std::to_string(bits()) + ")");
  }
  void check_item(const Labels& labels, Index item) const {
    if (labels.num_classes() > num_classes())
      throw InvalidArgument("BchReward: labels have " + std::to_string(labels.num_classes()) +
                            " classes, the embedding " + std::to_string(num_classes()));
    if (item < 0 || item >= labels.size())
      throw InvalidArgument("BchReward: item " + std::to_string(item) + " outside [0, " +
                            std::to_string(labels.size()) + ")");
  }

  LabelEmbedding embedding_;
  double sigma_;
  int eta_ = 0;
};

}  // namespace rlhash
