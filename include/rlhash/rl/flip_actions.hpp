#pragma once
/// \file
/// The action set of DRLH's MDP over b-bit codes (Wang et al., section 3.1).
///
/// The paper's set flips one bit or terminates: |A| = b + 1. Its ablation (section 5.3, the
/// "2-bit action set") also flips any two bits in one step: |A| = 1 + C(b,1) + C(b,2). Actions
/// are numbered so that the one-bit set is a prefix of the two-bit one:
///   a = 0..b-1        flips bit a,
///   a = b             terminates,
///   a = b+1..         flips the pair (i, j), i < j, in lexicographic order.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"

namespace rlhash::rl {

class FlipActions {
 public:
  /// Actions over `bits`-bit codes flipping at most `max_flips` (1 or 2) bits each.
  FlipActions(int bits, int max_flips) : bits_(bits), max_flips_(max_flips) {
    rlhash::detail::require(bits >= 1, "FlipActions: bits must be >= 1, got " + std::to_string(bits));
    rlhash::detail::require(max_flips == 1 || max_flips == 2,
                            "FlipActions: an action flips 1 or 2 bits, got " + std::to_string(max_flips));
    const long long count = 1LL + bits + (max_flips == 2 ? 1LL * bits * (bits - 1) / 2 : 0LL);
    rlhash::detail::require(count <= max_actions, "FlipActions: " + std::to_string(count) + " actions over " +
                                                      std::to_string(bits) + " bits exceed the limit of " +
                                                      std::to_string(max_actions));
    if (max_flips == 2)
      for (int i = 0; i < bits; ++i)
        for (int j = i + 1; j < bits; ++j)
          pairs_.emplace_back(static_cast<std::int16_t>(i), static_cast<std::int16_t>(j));
  }

  /// Actions are stored as int16 (replay memory, histories).
  static constexpr long long max_actions = 32767;

  int bits() const { return bits_; }
  int max_flips() const { return max_flips_; }
  int size() const { return bits_ + 1 + static_cast<int>(pairs_.size()); }
  int terminate() const { return bits_; }

  /// The bits `action` flips into out[0..), and how many (0 for terminate).
  int flipped(int action, int out[2]) const {
    check(action);
    if (action < bits_) {
      out[0] = action;
      return 1;
    }
    if (action == bits_) return 0;
    const auto& p = pairs_[static_cast<std::size_t>(action - bits_ - 1)];
    out[0] = p.first;
    out[1] = p.second;
    return 2;
  }

  /// Calls f(bit) for every bit `action` flips (none for terminate).
  template <class F>
  void for_each_bit(int action, F&& f) const {
    int bits[2];
    const int count = flipped(action, bits);
    for (int k = 0; k < count; ++k) f(bits[k]);
  }

  /// The action flipping bits i and j (i != j); requires max_flips() == 2.
  int pair_action(int i, int j) const {
    rlhash::detail::require(max_flips_ == 2, "FlipActions: pair actions need max_flips = 2");
    if (i > j) std::swap(i, j);
    rlhash::detail::require(i >= 0 && j < bits_ && i != j,
                            "FlipActions: a pair of distinct bits in [0, " + std::to_string(bits_) +
                                "), got (" + std::to_string(i) + ", " + std::to_string(j) + ")");
    // pairs (i, .) start after the i rows before it: sum_{r < i} (b - 1 - r) = i (2b - i - 1) / 2
    return bits_ + 1 + i * (2 * bits_ - i - 1) / 2 + (j - i - 1);
  }

  /// The expert's improving actions (guided exploration, section 4.2) given the bits that
  /// disagree with the target codeword and whether terminating is rewarded: every such
  /// single flip, every pair of them (when the set has pairs), and terminate.
  void expert_actions(const std::vector<int>& disagreeing, bool may_terminate, std::vector<int>& out) const {
    out.assign(disagreeing.begin(), disagreeing.end());
    if (max_flips_ == 2)
      for (std::size_t a = 0; a < disagreeing.size(); ++a)
        for (std::size_t b = a + 1; b < disagreeing.size(); ++b)
          out.push_back(pair_action(disagreeing[a], disagreeing[b]));
    if (may_terminate) out.push_back(terminate());
  }

 private:
  void check(int action) const {
    if (action < 0 || action >= size())
      throw InvalidArgument("FlipActions: action " + std::to_string(action) + " outside [0, " +
                            std::to_string(size()) + ")");
  }

  int bits_;
  int max_flips_;
  std::vector<std::pair<std::int16_t, std::int16_t>> pairs_;
};

}  // namespace rlhash::rl
