#pragma once
/// \file
/// A run-time-chosen hasher's method on another backend.
///
/// A program that picks its method by name holds an AnyHasher of the host hasher (that is what
/// model files load into). The same method on another backend -- e.g. `DrlihOn<cuda::CudaBackend>`
/// for `Drlih` -- shares its config and its model format (parameters are saved as host copies on
/// every backend), so a hasher moves between the two through them:
///
///   fit_via<DrlihOn<cuda::CudaBackend>>(hasher, x, y);            // train on the GPU
///   auto on_gpu = trained_as<DrlihOn<cuda::CudaBackend>>(hasher);  // encode there, repeatedly
///   BinaryCodes codes = on_gpu.encode(database);
///
/// Every function checks that the target is the same method (`method_name`) and throws
/// InvalidArgument naming both otherwise.
#include <string>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/any_hasher.hpp"

namespace rlhash {

namespace detail {
template <class Hasher>
void require_same_method(const AnyHasher& hasher, const char* what) {
  const std::string method = Hasher::method_name;
  if (hasher.method() != method)
    throw InvalidArgument(std::string(what) + ": the hasher is a " + hasher.method() +
                          " hasher, the target a " + method + " one");
}

/// Loads into `to` what `from` saves (its trained parameters); the whole payload must be read.
template <class From, class To>
void load_saved(const From& from, To& to, const std::string& what) {
  ByteWriter out;
  from.save(out);
  ByteReader in(out.bytes().data(), out.bytes().size(), what);
  to.load(in);
  in.expect_end();
}
}  // namespace detail

/// `hasher`'s config (every field, overrides included) as the config of `Hasher`.
template <class Hasher>
typename Hasher::Config config_as(const AnyHasher& hasher) {
  detail::require_same_method<Hasher>(hasher, "config_as");
  ByteWriter out;
  hasher.save_config(out);
  ByteReader in(out.bytes().data(), out.bytes().size(), hasher.method() + " config");
  auto config = load_config(in, typename Hasher::Config{});
  in.expect_end();
  return config;
}

/// A `Hasher` with `hasher`'s config and trained parameters (a StateError when it is not
/// fitted): e.g. a model file's hasher on a GPU, to encode there.
template <class Hasher>
Hasher trained_as(const AnyHasher& hasher) {
  detail::require_same_method<Hasher>(hasher, "trained_as");
  Hasher target(config_as<Hasher>(hasher));
  detail::load_saved(hasher, target, "trained " + hasher.method() + " hasher");
  return target;
}

/// Fits `hasher` by training a `Hasher` with its config and loading the trained parameters
/// into it; `hasher` is unchanged when the fit throws.
template <class Hasher>
void fit_via(AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features, const Labels& labels,
             const FitOptions& options = {}) {
  detail::require_same_method<Hasher>(hasher, "fit_via");
  Hasher trainer(config_as<Hasher>(hasher));
  trainer.fit(features, labels, options);

  AnyHasher trained = hasher;  // copy on write: `hasher` changes only once the load succeeded
  detail::load_saved(trainer, trained, "trained " + hasher.method() + " hasher");
  hasher = std::move(trained);
}

/// The codes `hasher` gives `features`, computed by a `Hasher` (moved there for this call; keep
/// trained_as<Hasher>(hasher) to encode many times).
template <class Hasher>
BinaryCodes encode_via(const AnyHasher& hasher, const Eigen::Ref<const MatrixF>& features) {
  return trained_as<Hasher>(hasher).encode(features);
}

}  // namespace rlhash
