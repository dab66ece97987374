#pragma once
/// \file
/// What the methods trained by nn::Trainer share: the trainer settings derived from a method's
/// config and fit's options, the owner record at the head of a checkpoint's method section, the
/// step-decay period and a network's outputs for a feature matrix, computed in chunks.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/replicas.hpp"
#include "rlhash/nn/trainer.hpp"

namespace rlhash::detail {

/// The default items per forward pass when encoding with a network or representation policy
/// `P`: its `encode_batch` when it has one (CnnRepresentation: its activations are large), else
/// 1,024.
template <class P, class = void>
struct default_encode_batch {
  static constexpr int value = 1024;
};
template <class P>
struct default_encode_batch<P, std::void_t<decltype(P::encode_batch)>> {
  static constexpr int value = P::encode_batch;
};

/// True when `options` carries a validation set of more than one item (one item has no
/// neighbour to rank); then its dimension must be `dims` and it needs one label per item.
inline bool validation_requested(const FitOptions& options, Index dims, const char* method) {
  if (options.validation_features == nullptr || options.validation_labels == nullptr ||
      options.validation_features->cols() <= 1)
    return false;
  require_dims(options.validation_features->rows(), dims, method);
  require(options.validation_labels->size() == options.validation_features->cols(),
          std::string(method) + ": " + std::to_string(options.validation_labels->size()) +
              " validation labels for " + std::to_string(options.validation_features->cols()) +
              " validation items");
  return true;
}

/// A supervised method's training data: at least one item with > 0 dimensions, one label each
/// from >= 2 classes, finite features.
inline void check_labelled_training_data(const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                                         const char* method) {
  const std::string m = method;
  require(features.cols() >= 1 && features.rows() > 0,
          m + ": needs at least 1 training item with > 0 dimensions, got " + std::to_string(features.cols()) +
              " x " + std::to_string(features.rows()));
  require(labels.size() == features.cols(), m + ": " + std::to_string(labels.size()) + " labels for " +
                                                std::to_string(features.cols()) + " training items");
  require(labels.num_classes() >= 2,
          m + ": needs labels of >= 2 classes, got " + std::to_string(labels.num_classes()));
  require(features.allFinite(), m + ": training features contain NaN or infinity");
}

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
  tc.data_fingerprint = options.data_fingerprint;
  tc.settings_fingerprint = options.settings_fingerprint;
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
    in.fail(std::string("a checkpoint of ") + method + " with " + std::to_string(bits) + " bits, found " +
            found + " with " + std::to_string(found_bits) + " bits");
}

template <class H, class = void>
struct has_single_process_reason : std::false_type {};
template <class H>
struct has_single_process_reason<H, std::void_t<decltype(H::single_process_because)>> : std::true_type {};

/// Why hasher `H` trains in one process only.
template <class H>
std::string single_process_reason() {
  if constexpr (has_single_process_reason<H>::value)
    return H::single_process_because;
  else
    return "data-parallel training is provided for the network methods trained by mini-batch gradients "
           "(drlih, drlih-ng, fc-triplet, dph, dsh, hashnet, csq, greedyhash, dpsh)";
}
/// InvalidArgument naming hasher `H` and why, when `options` asks for more than one replica.
template <class H>
void refuse_replicas(const FitOptions& options) {
  if (nn::data_parallel(options.replicas))
    throw InvalidArgument(std::string(H::method_name) + " does not train data-parallel: " +
                          single_process_reason<H>() + "; train it in one process");
}

/// InvalidArgument naming hasher `H` when `options.augmentation` is on and `H` cannot apply it,
/// or when its image shape does not fit features of `dims` dimensions.
template <class H>
void check_augmentation(const FitOptions& options, Index dims) {
  if (!options.augmentation.enabled()) return;
  if constexpr (!augments_images_v<H>)
    throw InvalidArgument(std::string(H::method_name) +
                          " does not augment its training images; train it without augmentation");
  options.augmentation.validate(dims, std::string(H::method_name) + ": augmentation");
}

/// True when representation (or network) policy `R` reads its items as images: it has
/// `R::image_shape(inputs, config)` (CnnRepresentation).
template <class R, class = void>
struct reads_images : std::false_type {};
template <class R>
struct reads_images<R,
                    std::void_t<decltype(R::image_shape(Index{}, std::declval<const typename R::Config&>()))>>
    : std::true_type {};

/// check_augmentation<H>, and when `R` reads images, that the augmentation transforms images of
/// the shape the network reads (both are set independently: --image-shape and the repr_image_*
/// fields); InvalidArgument naming both shapes otherwise.
template <class H, class R>
void check_augmentation(const FitOptions& options, Index dims, const typename R::Config& config) {
  check_augmentation<H>(options, dims);
  if constexpr (reads_images<R>::value) {
    const ImageAugmentation& a = options.augmentation;
    if (!a.enabled()) return;
    const nn::ImageShape image = R::image_shape(dims, config);
    if (image == nn::ImageShape{a.height, a.width, a.channels}) return;
    throw InvalidArgument(std::string(H::method_name) + ": the augmentation transforms images of " +
                          a.shape_text() + ", the network reads " + image.text() +
                          " (repr_image_width, repr_image_channels)");
  }
}

/// The batch's features as a dense matrix of the network's scalar.
template <class S>
Matrix<S> gather_columns(const Eigen::Ref<const MatrixF>& features, const std::vector<Index>& items) {
  Matrix<S> x(features.rows(), static_cast<Index>(items.size()));
  for (std::size_t j = 0; j < items.size(); ++j)
    x.col(static_cast<Index>(j)) = features.col(items[j]).template cast<S>();
  return x;
}

/// The batch's features, each image transformed by its draw for this step when
/// `options.augmentation` is on (data/image_augmentation.hpp). The draws depend on the seed, the
/// step and the item only, so every replica and a resumed run see the same images.
template <class S>
Matrix<S> gather_training_batch(const Eigen::Ref<const MatrixF>& features, const std::vector<Index>& items,
                                const FitOptions& options, std::uint64_t seed, long long step) {
  Matrix<S> x = gather_columns<S>(features, items);
  augment_images<S>(options.augmentation, seed ^ mix64(static_cast<std::uint64_t>(step)), items, x);
  return x;
}

/// `net.infer` (`outputs` rows) of every column of `features`, in chunks of `chunk` columns
/// (each chunk moved to the network's backend and the result back).
template <class Net>
MatrixF infer_in_chunks(const Net& net, const Eigen::Ref<const MatrixF>& features, Index chunk,
                        Index outputs) {
  using S = typename Net::Scalar;
  using B = nn::backend_of_t<Net>;
  MatrixF out(outputs, features.cols());
  for (Index begin = 0; begin < features.cols(); begin += chunk) {
    const Index size = std::min(chunk, features.cols() - begin);
    Matrix<S> x = features.middleCols(begin, size).template cast<S>();
    out.middleCols(begin, size) = B::to_host(net.infer(B::from_host(std::move(x)))).template cast<float>();
  }
  return out;
}
/// The probabilities (net.bits() rows) of every column of `features`.
template <class Net>
MatrixF infer_in_chunks(const Net& net, const Eigen::Ref<const MatrixF>& features, Index chunk) {
  return infer_in_chunks(net, features, chunk, net.bits());
}

/// Steps between learning-rate decays: `epochs` epochs of ceil(items / batch) steps when
/// epochs > 0, else `steps`.
inline long long decay_steps(double epochs, long long steps, Index items, Index batch) {
  if (epochs <= 0) return steps;
  const auto per_epoch = static_cast<double>((items + batch - 1) / batch);
  return std::max<long long>(1, std::llround(epochs * per_epoch));
}

}  // namespace rlhash::detail
