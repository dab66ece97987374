#pragma once
/// \file
/// A frozen representation: the representation network a triplet hasher (FC-triplet or DRLIH)
/// learned on the training set, kept fixed and used as another method's features.
///
/// DRLH feeds its Q-network frozen, pre-extracted CNN features (DRLH paper, section 5.2.1). On
/// data that comes as raw pixels there are no such features; the closest equivalent the
/// library can learn from the same training set is the MLP a triplet method trained, with its
/// hashing head dropped. Methods choose the source by a config field `representation`:
/// "input" (the features as given), "fc-triplet" or "drlih". docs/methods/drlh.md measures both.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash {

/// Where a method's features come from.
enum class FeatureSource { input, fc_triplet, drlih };

/// "input", "fc-triplet" or "drlih"; anything else is an InvalidArgument naming `method`.
inline FeatureSource parse_feature_source(const std::string& name, const char* method) {
  if (name == "input") return FeatureSource::input;
  if (name == "fc-triplet") return FeatureSource::fc_triplet;
  if (name == "drlih") return FeatureSource::drlih;
  throw InvalidArgument(std::string(method) + ": representation must be input, fc-triplet or drlih, got '" +
                        name + "'");
}

/// The representation network of a triplet hasher, frozen (evaluation mode, no gradients), or
/// nothing: then apply() hands the features through. `B`: the backend it is trained and
/// applied on (that of the method using it); saved and loaded as host copies, as every model.
template <class S, class B = nn::CpuBackend>
class FrozenRepresentation {
 public:
  using Widths = MlpRepresentationConfig;
  using Repr = MlpRepresentation<S, B>;
  using Net = typename Repr::Net;

  /// The identity: the features as given.
  FrozenRepresentation() = default;

  /// Trains `source`'s hasher with its default settings (and the given `bits`, `seed` and
  /// representation `widths`) on the training data, then keeps its representation network.
  /// `options`' validation set picks the hasher's best epoch as usual; progress is reported
  /// under the stage "representation: ...". Checkpoints are not written: the pre-training is
  /// deterministic for a seed, so a resumed fit repeats it.
  static FrozenRepresentation train(FeatureSource source, const Widths& widths, int bits, std::uint64_t seed,
                                    const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                                    const FitOptions& options) {
    FitOptions pretraining;
    pretraining.validation_features = options.validation_features;
    pretraining.validation_labels = options.validation_labels;
    pretraining.threads = options.threads;
    if (options.progress)
      pretraining.progress = [&options](const Progress& p) {
        return options.progress(Progress{"representation: " + p.stage, p.done, p.total, p.metrics});
      };
    switch (source) {
      case FeatureSource::input:
        return FrozenRepresentation();
      case FeatureSource::fc_triplet:
        return from_hasher<FcTripletHasher<Repr>>(widths, bits, seed, features, labels, pretraining);
      case FeatureSource::drlih:
        return from_hasher<DrlihHasher<Repr>>(widths, bits, seed, features, labels, pretraining);
    }
    throw InvalidArgument("FrozenRepresentation: unknown feature source");
  }

  bool empty() const { return !net_.has_value(); }
  /// Dimensions in and out (both 0 for the identity, which takes any dimension).
  Index inputs() const { return inputs_; }
  Index outputs() const { return outputs_; }
  /// The features' dimension a method behind this representation sees, for `inputs` given.
  Index outputs_for(Index inputs) const { return empty() ? inputs : outputs(); }

  /// f for every column of `features` (inputs() x N), computed in chunks of `chunk` items; the
  /// features themselves for the identity.
  MatrixF apply(const Eigen::Ref<const MatrixF>& features, Index chunk, const char* method) const {
    if (empty()) return features;
    detail::require_dims(features.rows(), inputs_, method);
    return detail::infer_in_chunks(*net_, features, chunk, outputs());
  }

  /// Input dimension, then the parameters (nothing for the identity).
  void save(ByteWriter& out) const {
    if (empty()) return;
    out.put<std::int64_t>(inputs_);
    nn::write_parameters(out, const_cast<Net&>(*net_).parameters());  // read only
  }
  /// Reads what save() wrote for a representation of `widths` from `source` (nothing for
  /// "input") in front of a network with `outputs` inputs; a FormatError names what did not
  /// match.
  static FrozenRepresentation load(ByteReader& in, FeatureSource source, const Widths& widths,
                                   Index outputs) {
    if (source == FeatureSource::input) return FrozenRepresentation();
    const auto inputs = in.get<std::int64_t>();
    if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
      in.fail("the input dimension of a frozen representation, found " + std::to_string(inputs));
    Rng unused(0);
    Net net = Repr::make(static_cast<Index>(inputs), widths, unused);
    nn::read_parameters(in, net.parameters());
    const Index found = Repr::outputs(static_cast<Index>(inputs), widths);
    if (found != outputs)
      in.fail("a frozen representation with " + std::to_string(outputs) + " outputs, found " +
              std::to_string(found));
    return FrozenRepresentation(std::move(net), static_cast<Index>(inputs), found);
  }

 private:
  FrozenRepresentation(Net net, Index inputs, Index outputs)
      : net_(std::move(net)), inputs_(inputs), outputs_(outputs) {
    net_->set_training(false);
  }

  template <class Hasher>
  static FrozenRepresentation from_hasher(const Widths& widths, int bits, std::uint64_t seed,
                                          const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                                          const FitOptions& options) {
    typename Hasher::Config config;
    config.bits = bits;
    config.seed = seed;
    config.repr = widths;
    Hasher hasher(config);
    hasher.fit(features, labels, options);
    // A fresh network given the trained values (device networks are move-only, not copyable).
    Rng unused(0);
    Net net = Repr::make(features.rows(), widths, unused);
    auto& trained = const_cast<Net&>(hasher.network().representation());  // read only
    nn::assign_values(net.parameters(), nn::copy_values(trained.parameters()));
    return FrozenRepresentation(std::move(net), features.rows(), Repr::outputs(features.rows(), widths));
  }

  std::optional<Net> net_;
  Index inputs_ = 0, outputs_ = 0;
};

}  // namespace rlhash
