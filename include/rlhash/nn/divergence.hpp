#pragma once
/// \file
/// Divergence checks shared by every training loop (nn::Trainer, DRLH's own loop): a run whose
/// loss, parameters or network outputs stop being finite is stopped with a TrainingDiverged
/// naming the epoch and the loss and suggesting the remedy, so a model of NaNs is never
/// returned, checkpointed or saved.
#include <cmath>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

/// "parameter '<name>' is not finite" for the first parameter holding a NaN or an infinity;
/// empty when every value is finite.
template <class Params>
std::string non_finite_parameter(const Params& params) {
  for (const auto& p : params)
    if (!host_value(p).allFinite()) return "parameter '" + p.name + "' is not finite";
  return {};
}

/// Throws TrainingDiverged unless `mean_loss` is finite and `non_finite` (what else was found
/// not finite, e.g. non_finite_parameter's answer) is empty. `epoch` is 1-based.
inline void require_converging(int epoch, double mean_loss, const std::string& non_finite) {
  if (std::isfinite(mean_loss) && non_finite.empty()) return;
  throw TrainingDiverged(message("training diverged in epoch ", epoch, ": mean loss ", mean_loss,
                                 non_finite.empty() ? std::string() : ", " + non_finite,
                                 "; lower the learning rate or set max_grad_norm (gradient clipping)"));
}

}  // namespace rlhash::nn
