#pragma once
/// \file
/// What every hasher provides, and the options `fit` takes.
///
/// A hasher `H` is a class with
///   - `struct H::Config` with fields `int bits` and `std::uint64_t seed`, listed by `visit`
///     (core/config.hpp), so the CLI's `--set method.field=value` and model files reach them;
///   - `static constexpr const char* method_name` (the CLI name, e.g. "lsh");
///   - `explicit H(Config)`, `const Config& config() const`;
///   - `void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions&)`
///     with one training item per column;
///   - `BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const`, deterministic;
///   - `void save(ByteWriter&) const` and `void load(ByteReader&)` for the learned parameters
///     (the config is stored by the model file).
/// Unsupervised hashers ignore the labels.
#include <string>

#include "rlhash/core/progress.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"

namespace rlhash {

struct FitOptions {
  ProgressCallback progress;                     ///< reports epochs/steps; return false to stop early
  const MatrixF* validation_features = nullptr;  ///< for early stopping and model selection
  const Labels* validation_labels = nullptr;
  std::string checkpoint_path;  ///< empty: no checkpoints
  int checkpoint_every = 0;     ///< epochs between checkpoints (0: none)
  bool resume = false;          ///< continue from checkpoint_path when it exists
  int threads = 0;              ///< 0: all cores
  /// Recorded in checkpoints; resuming with other data or settings is refused (nn::TrainerConfig).
  std::uint64_t data_fingerprint = 0;
  std::uint64_t settings_fingerprint = 0;
};

namespace detail {
inline void require_bits(int bits, const char* method) {
  if (bits < 1 || bits > 1024)
    throw InvalidArgument(std::string(method) + ": bits = " + std::to_string(bits) + ", expected 1..1024");
}
inline void require_fitted(bool fitted, const char* method) {
  if (!fitted) throw StateError(std::string(method) + ": encode() called before fit() or load()");
}
inline void require_dims(Index got, Index expected, const char* method) {
  if (got != expected)
    throw InvalidArgument(std::string(method) + ": features have " + std::to_string(got) +
                          " dimensions, the model expects " + std::to_string(expected));
}
}  // namespace detail

}  // namespace rlhash
