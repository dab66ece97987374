#pragma once
/// \file
/// Listwise rewards for deep policy hashing (methods/policy_hashing.hpp): the retrieval
/// quality of ONE ranking of the whole database by Hamming distance from one sampled query
/// code. Every reward is a metric of the evaluation layer (eval/metrics.hpp) read off the
/// O(N + bits) ranking summary of eval/ranking.hpp — nothing here re-implements a metric, so
/// the reward the policy maximises is by construction the number `evaluate` reports.
///
/// A reward policy `R` provides
///   - `static constexpr const char* name`;
///   - `double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n,
///      int bits, Index excluded, ListwiseRewardWorkspace& workspace) const`:
///     distances[j] in 0..bits and relevance flags of database item j < n; `excluded` (-1: none)
///     is left out of the ranking (the query itself when queries are database items);
///     `workspace` holds reusable buffers, one per thread.
///
/// Policies: TieAwareApReward (the default: expected AP over random orders within distance
/// ties, O(N + bits) from the distance histogram), AveragePrecisionReward (stable tie order),
/// ApAtKReward, NdcgAtKReward, PrecisionAtKReward; MetricReward picks one of them by name at
/// run time ("tie_ap", "ap", "ap@K", "ndcg@K", "precision@K") for config files and the CLI.
///
/// Why tie-aware AP is the default: a Hamming ranking has only bits + 1 distinct distances, so
/// ties are massive (4,500 items over 33 distances); the stable order breaks them by database
/// index, which carries no information, and rewarding it adds noise that the policy cannot
/// influence. The tie-aware expectation (He et al., CVPR 2018) is what a ranking by distance
/// alone guarantees, and it needs only the histogram.
#include <cstdint>
#include <string>
#include <variant>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/metrics.hpp"
#include "rlhash/eval/ranking.hpp"

namespace rlhash {

/// Buffers a reward reuses between calls; keep one per thread.
struct ListwiseRewardWorkspace {
  QueryRanking ranking;
};

namespace detail {
inline void require_reward_cutoff(Index k, const char* reward) {
  require(k >= 1, std::string(reward) + " reward: cutoff k = " + std::to_string(k) + ", expected >= 1");
}
}  // namespace detail

/// Tie-aware AP (eval::tie_aware_average_precision), from the distance histogram alone.
struct TieAwareApReward {
  static constexpr const char* name = "tie_ap";
  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& /*workspace*/) const {
    return tie_aware_average_precision(distances, relevant, n, bits, excluded);
  }
};

/// AP over the whole ranking in stable order (ties by ascending database index).
struct AveragePrecisionReward {
  static constexpr const char* name = "ap";
  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& workspace) const {
    workspace.ranking.build(distances, relevant, n, bits, excluded);
    return average_precision(workspace.ranking);
  }
};

/// AP@k (normalised by the relevant items in the top k), stable order.
struct ApAtKReward {
  static constexpr const char* name = "ap@k";
  Index k = 100;
  ApAtKReward() = default;
  explicit ApAtKReward(Index cutoff) : k(cutoff) { detail::require_reward_cutoff(cutoff, name); }
  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& workspace) const {
    workspace.ranking.build(distances, relevant, n, bits, excluded);
    return average_precision_at_k(workspace.ranking, k);
  }
};

/// NDCG@k with binary gains, stable order.
struct NdcgAtKReward {
  static constexpr const char* name = "ndcg@k";
  Index k = 100;
  NdcgAtKReward() = default;
  explicit NdcgAtKReward(Index cutoff) : k(cutoff) { detail::require_reward_cutoff(cutoff, name); }
  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& workspace) const {
    workspace.ranking.build(distances, relevant, n, bits, excluded);
    return ndcg_at_k(workspace.ranking, k);
  }
};

/// Precision@k, stable order.
struct PrecisionAtKReward {
  static constexpr const char* name = "precision@k";
  Index k = 100;
  PrecisionAtKReward() = default;
  explicit PrecisionAtKReward(Index cutoff) : k(cutoff) { detail::require_reward_cutoff(cutoff, name); }
  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& workspace) const {
    workspace.ranking.build(distances, relevant, n, bits, excluded);
    return precision_at_k(workspace.ranking, k);
  }
};

/// One of the policies above, chosen by name at run time: "tie_ap", "ap", "ap@K", "ndcg@K",
/// "precision@K" (K a positive integer, e.g. "ndcg@100").
class MetricReward {
 public:
  static constexpr const char* name = "metric";

  MetricReward() = default;
  explicit MetricReward(const std::string& spec) : spec_(spec), policy_(parse(spec)) {}

  const std::string& spec() const { return spec_; }

  double operator()(const std::int32_t* distances, const std::uint8_t* relevant, Index n, int bits,
                    Index excluded, ListwiseRewardWorkspace& workspace) const {
    return std::visit([&](const auto& r) { return r(distances, relevant, n, bits, excluded, workspace); },
                      policy_);
  }

 private:
  using Policy =
      std::variant<TieAwareApReward, AveragePrecisionReward, ApAtKReward, NdcgAtKReward, PrecisionAtKReward>;

  static Policy parse(const std::string& spec) {
    if (spec == "tie_ap") return TieAwareApReward{};
    if (spec == "ap") return AveragePrecisionReward{};
    const auto at = spec.find('@');
    if (at != std::string::npos) {
      const std::string metric = spec.substr(0, at);
      const std::string cutoff = spec.substr(at + 1);
      const bool digits = !cutoff.empty() && cutoff.size() <= 12 &&
                          cutoff.find_first_not_of("0123456789") == std::string::npos;
      const Index k = digits ? static_cast<Index>(std::stoll(cutoff)) : 0;
      if (digits && k >= 1) {
        if (metric == "ap") return ApAtKReward(k);
        if (metric == "ndcg") return NdcgAtKReward(k);
        if (metric == "precision") return PrecisionAtKReward(k);
      }
    }
    throw InvalidArgument("listwise reward: unknown reward '" + spec +
                          "'; expected tie_ap, ap, ap@K, ndcg@K or precision@K with K a positive integer");
  }

  std::string spec_ = "tie_ap";
  Policy policy_ = TieAwareApReward{};
};

}  // namespace rlhash
