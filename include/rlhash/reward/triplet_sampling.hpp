#pragma once
/// \file
/// Triplets (x_i, x_i^+, x_i^-) drawn from a mini-batch by its labels (DRLIH section III-B.3):
/// x_i^+ shares a label with the anchor x_i, x_i^- shares none. Relevance is
/// Labels::relevant, so single- and multi-label data are handled alike.
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/nn/loss.hpp"

namespace rlhash {

/// Triplets over the batch `items` (indices into `labels`); the returned Triplet fields are
/// COLUMN positions in the batch (0..items.size()-1), as nn::triplet_margin_loss expects.
///
/// Every item with at least one positive and one negative in the batch is an anchor. With
/// `per_anchor` = 0 an anchor takes every (positive, negative) pair of the batch; otherwise
/// `per_anchor` pairs drawn uniformly with replacement from `rng`. Anchors without a positive
/// or a negative are skipped, so a batch may yield no triplet at all.
inline std::vector<nn::Triplet> sample_triplets(const Labels& labels, const std::vector<Index>& items,
                                                Index per_anchor, Rng& rng) {
  detail::require(per_anchor >= 0,
                  "sample_triplets: per_anchor must be >= 0, got " + std::to_string(per_anchor));
  const Index n = static_cast<Index>(items.size());
  for (Index i = 0; i < n; ++i)
    detail::require(
        items[static_cast<std::size_t>(i)] >= 0 && items[static_cast<std::size_t>(i)] < labels.size(),
        "sample_triplets: batch item " + std::to_string(i) + " is " +
            std::to_string(items[static_cast<std::size_t>(i)]) + ", expected an index below " +
            std::to_string(labels.size()) + " (the number of labels)");
  // Relevance of every pair of the batch, computed once (n is a mini-batch: n^2 is small).
  std::vector<char> relevant(static_cast<std::size_t>(n * n), 0);
  for (Index a = 0; a < n; ++a)
    for (Index b = 0; b < n; ++b)
      relevant[static_cast<std::size_t>(a * n + b)] =
          labels.relevant(items[static_cast<std::size_t>(a)], labels, items[static_cast<std::size_t>(b)]) ? 1
                                                                                                          : 0;
  std::vector<nn::Triplet> triplets;
  std::vector<Index> positives, negatives;
  for (Index a = 0; a < n; ++a) {
    positives.clear();
    negatives.clear();
    for (Index b = 0; b < n; ++b) {
      if (b == a) continue;
      (relevant[static_cast<std::size_t>(a * n + b)] ? positives : negatives).push_back(b);
    }
    if (positives.empty() || negatives.empty()) continue;
    if (per_anchor == 0) {
      for (Index p : positives)
        for (Index q : negatives) triplets.push_back({a, p, q});
    } else {
      for (Index s = 0; s < per_anchor; ++s) {
        const Index p = positives[static_cast<std::size_t>(uniform_below(rng, positives.size()))];
        const Index q = negatives[static_cast<std::size_t>(uniform_below(rng, negatives.size()))];
        triplets.push_back({a, p, q});
      }
    }
  }
  return triplets;
}

}  // namespace rlhash
