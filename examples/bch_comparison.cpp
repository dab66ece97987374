// Prints the docs/bch.md comparison of class codebooks: DRLH's BCH label embedding (default
// rule), the best shortened/punctured BCH layout found by search, random codes and Hadamard
// codes, as min/mean pairwise Hamming distance for C classes in b bits.
//
//   g++ -std=c++17 -O2 -I include -I /usr/include/eigen3 examples/bch_comparison.cpp -o bch_comparison
//   ./bch_comparison > table.md
#include <cstdio>
#include <string>
#include <vector>

#include "rlhash/bch/code_families.hpp"
#include "rlhash/bch/label_embedding.hpp"

using namespace rlhash;

namespace {

// Every BCH(m, t) code cut to exactly b bits (shortened as far as the classes allow, the rest
// punctured) or padded, for m up to one above the default; the layout with the largest
// measured minimum distance (ties: larger mean).
LabelEmbedding best_layout(int classes, int bits) {
  LabelEmbedding best(classes, bits, 0);
  int need = 0;
  while ((1LL << need) < classes) ++need;
  const int m_default = best.m();
  for (int m = 2; m <= std::min(m_default + 1, gf2m_max_degree); ++m) {
    const int n = (1 << m) - 1;
    for (int t = 1; t <= (n - 1) / 2; ++t) {
      const int k = BchCode::dimension_for(m, t);
      if (k < need) break;
      if (t < (n - 1) / 2 && BchCode::dimension_for(m, t + 1) == k) continue;  // same code; use t_effective
      for (int shortened = 0; shortened <= k - need; ++shortened) {
        const int punctured = std::max(0, n - shortened - bits);
        if (punctured > n - k) continue;
        LabelEmbeddingLayout layout{m, t, 0, shortened, punctured};
        const LabelEmbedding candidate(classes, bits, 0, layout);
        if (candidate.min_distance() > best.min_distance() ||
            (candidate.min_distance() == best.min_distance() &&
             candidate.mean_distance() > best.mean_distance() + 1e-9))
          best = candidate;
        if (punctured == 0 && n - shortened <= bits) break;  // further shortening only adds padding
      }
    }
  }
  return best;
}

}  // namespace

int main() {
  const int class_counts[] = {10, 21, 38, 81};
  const int bit_counts[] = {12, 16, 24, 32, 48, 64};
  constexpr int random_draws = 20;
  std::printf(
      "| C | b | BCH, default rule | min / mean | R_BCH | best BCH layout | min / mean | "
      "random: min (mean, worst of %d) / mean | Hadamard min / mean |\n",
      random_draws);
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  for (int classes : class_counts)
    for (int bits : bit_counts) {
      const LabelEmbedding e(classes, bits, 0);
      const LabelEmbedding b = best_layout(classes, bits);
      double random_min = 0, random_mean = 0;
      int random_worst = bits;
      for (int seed = 0; seed < random_draws; ++seed) {
        Rng rng(static_cast<std::uint64_t>(seed));
        const DistanceStats s = pairwise_distance_stats(random_codes(classes, bits, rng));
        random_min += s.min;
        random_mean += s.mean;
        random_worst = std::min(random_worst, s.min);
      }
      std::string hadamard = "n/a";
      if (has_hadamard_code(classes, bits)) {
        const DistanceStats s = pairwise_distance_stats(hadamard_codes(classes, bits));
        char text[64];
        std::snprintf(text, sizeof text, "%d / %.2f", s.min, s.mean);
        hadamard = text;
      }
      std::printf("| %d | %d | %s | %d / %.2f | %d | %s | %d / %.2f | %.1f (%d) / %.2f | %s |\n", classes,
                  bits, e.description().c_str(), e.min_distance(), e.mean_distance(), e.radius(),
                  b.description().c_str(), b.min_distance(), b.mean_distance(), random_min / random_draws,
                  random_worst, random_mean / random_draws, hadamard.c_str());
    }
  return 0;
}
