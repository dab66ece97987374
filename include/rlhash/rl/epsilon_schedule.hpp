#pragma once
/// \file
/// The exploration rate of epsilon-greedy action selection as a function of training progress
/// (DRLH section 4.2: 1.0 -> 0.1 linearly over the first 15 of 25 epochs, then 0.1).
#include <algorithm>
#include <string>

#include "rlhash/core/error.hpp"

namespace rlhash::rl {

/// epsilon(p) = start + (end - start) * min(p / decay, 1) for progress p >= 0 measured in
/// epochs (fractional: 2.5 = half way through the third epoch); decay = 0 gives `end` at once.
struct LinearEpsilon {
  double start = 1.0;
  double end = 0.1;
  double decay = 15.0;  ///< epochs over which epsilon falls from start to end

  LinearEpsilon() = default;
  LinearEpsilon(double start_value, double end_value, double decay_epochs)
      : start(start_value), end(end_value), decay(decay_epochs) {
    validate();
  }

  void validate() const {
    rlhash::detail::require(start >= 0 && start <= 1 && end >= 0 && end <= 1,
                            "epsilon schedule: start and end must lie in [0, 1], got " +
                                std::to_string(start) + " and " + std::to_string(end));
    rlhash::detail::require(decay >= 0,
                            "epsilon schedule: decay must be >= 0 epochs, got " + std::to_string(decay));
  }

  double value(double progress) const {
    if (decay <= 0 || progress >= decay) return end;
    const double fraction = std::max(progress, 0.0) / decay;
    return start + (end - start) * fraction;
  }
};

}  // namespace rlhash::rl
