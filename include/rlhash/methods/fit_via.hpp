#pragma once
/// \file
/// Training a run-time-chosen hasher on another backend.
///
/// A program that picks its method by name holds an AnyHasher of the host hasher (that is what
/// model files load into). `fit_via<TrainingHasher>` trains that hasher's method as
/// `TrainingHasher` -- the same method on another backend, e.g. `DrlihOn<cuda::CudaBackend>` --
/// and loads what it learned back into the AnyHasher. The two share the config and the model
/// format (parameters are saved as host copies on every backend), so the result is the hasher
/// the device trained, ready to encode on the host or to be saved as a model file.
#include <string>

#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/any_hasher.hpp"

namespace rlhash {

/// Fits `hasher` by training a `TrainingHasher` with its config (every field, --set overrides
/// included) and loading the trained parameters into it. `TrainingHasher` must be the same
/// method (same `method_name`); anything else is an InvalidArgument, and `hasher` is unchanged
/// when the fit throws.
template <class TrainingHasher>
void fit_via(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
             const FitOptions& options = {}) {
  const std::string method = TrainingHasher::method_name;
  if (hasher.method() != method)
    throw InvalidArgument("fit_via: the hasher is a " + hasher.method() + " hasher, the training hasher a " +
                          method + " one");
  ByteWriter config_bytes;
  hasher.save_config(config_bytes);
  ByteReader config_in(config_bytes.bytes().data(), config_bytes.bytes().size(), method + " config");
  TrainingHasher trainer(load_config(config_in, typename TrainingHasher::Config{}));
  config_in.expect_end();

  trainer.fit(features, labels, options);

  ByteWriter learned;
  trainer.save(learned);
  AnyHasher trained = hasher;  // copy on write: `hasher` changes only once the load succeeded
  ByteReader learned_in(learned.bytes().data(), learned.bytes().size(), "trained " + method + " hasher");
  trained.load(learned_in);
  learned_in.expect_end();
  hasher = std::move(trained);
}

}  // namespace rlhash
