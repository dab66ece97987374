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
///
/// A hasher that trains data-parallel over `FitOptions::replicas` (nn/replicas.hpp) says so with
/// `static constexpr bool data_parallel = true`; one that refuses to gives its reason as
/// `static constexpr const char* single_process_because`. AnyHasher refuses replicas for every
/// hasher without `data_parallel`. A hasher that applies `FitOptions::augmentation` says so with
/// `static constexpr bool augments_images = true`; AnyHasher refuses augmentation for the others.
#include <string>
#include <type_traits>

#include "rlhash/core/progress.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/image_augmentation.hpp"
#include "rlhash/data/labels.hpp"

namespace rlhash {

namespace nn {
struct Replicas;
}

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
  /// Data-parallel replicas of this fit (nn/replicas.hpp; e.g. dist::Replicas over MPI ranks),
  /// or null: one process. Every replica calls fit with the same data and options (a progress
  /// callback must answer alike everywhere) and ends with the same parameters. Only hashers with
  /// `data_parallel` use them.
  const nn::Replicas* replicas = nullptr;
  /// Random shifts and mirror images of the training images, drawn afresh for every step
  /// (data/image_augmentation.hpp); off by default. Hashers whose network trains on the images
  /// themselves use it (`augments_images`); AnyHasher refuses it for the others.
  ImageAugmentation augmentation;
};

/// True when hasher `H` trains data-parallel (`H::data_parallel`).
template <class H, class = void>
struct is_data_parallel : std::false_type {};
template <class H>
struct is_data_parallel<H, std::void_t<decltype(H::data_parallel)>> : std::bool_constant<H::data_parallel> {};
template <class H>
inline constexpr bool is_data_parallel_v = is_data_parallel<H>::value;

/// True when hasher `H` applies FitOptions::augmentation (`H::augments_images`).
template <class H, class = void>
struct augments_images : std::false_type {};
template <class H>
struct augments_images<H, std::void_t<decltype(H::augments_images)>>
    : std::bool_constant<H::augments_images> {};
template <class H>
inline constexpr bool augments_images_v = augments_images<H>::value;

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
