#pragma once
/// \file
/// What the methods trained by nn::Trainer share: the trainer settings derived from a method's
/// config and fit's options, and the owner record at the head of a checkpoint's method section.
#include <cstdint>
#include <string>

#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/nn/trainer.hpp"

namespace rlhash::detail {

/// Epochs, batch size, the trainer's generator seed (a stream of its own, not the
/// initialisation's), gradient clipping, early stopping on a higher-is-better metric (only when
/// `validate`), the best epoch kept, and the checkpoint settings of `options`.
inline nn::TrainerConfig trainer_config(int epochs, int batch_size, std::uint64_t trainer_seed,
                                        double max_grad_norm, int patience, bool validate,
                                        const FitOptions& options) {
  nn::TrainerConfig tc;
  tc.epochs = epochs;
  tc.batch_size = batch_size;
  tc.seed = trainer_seed;
  tc.max_grad_norm = max_grad_norm;
  tc.patience = validate ? patience : 0;
  tc.higher_is_better = true;
  tc.restore_best = true;
  tc.checkpoint_path = options.checkpoint_path;
  tc.checkpoint_every = options.checkpoint_path.empty() ? 0 : options.checkpoint_every;
  tc.resume = options.resume;
  return tc;
}

/// The method and code length a checkpoint belongs to, so another method's checkpoint with the
/// same parameter shapes is refused.
inline void write_checkpoint_owner(ByteWriter& out, const char* method, int bits) {
  out.put_string(method);
  out.put<std::int32_t>(bits);
}
/// Reads what write_checkpoint_owner wrote; a FormatError when it is another method's or length's.
inline void read_checkpoint_owner(ByteReader& in, const char* method, int bits) {
  const std::string found = in.get_string();
  const auto found_bits = in.get<std::int32_t>();
  if (found != method || found_bits != bits)
    in.fail(std::string("a checkpoint of ") + method + " with " + std::to_string(bits) + " bits, found " + found +
            " with " + std::to_string(found_bits) + " bits");
}

}  // namespace rlhash::detail
