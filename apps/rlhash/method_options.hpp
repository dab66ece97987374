#pragma once
// Choosing hashers on the command line: --method lists, --bits lists, --set overrides and the
// preprocessing flags, shared by `eval` and `train`.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <sstream>
#include <string>
#include <vector>

#include "command.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/data/preprocess.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/methods/registry.hpp"

namespace rlhash::cli {

struct SetOverride {
  std::string method, field, value;
};

/// Parses `method.field=value`; the method must be registered.
inline SetOverride parse_set(const std::string& text) {
  const auto dot = text.find('.');
  const auto eq = text.find('=');
  if (dot == std::string::npos || eq == std::string::npos || dot > eq)
    throw InvalidArgument("--set '" + text + "': expected method.field=value");
  SetOverride o{text.substr(0, dot), text.substr(dot + 1, eq - dot - 1), text.substr(eq + 1)};
  make_hasher(o.method, 32);  // throws, listing the known methods, for an unknown one
  return o;
}

/// "all" expands to every registered method; names are checked.
inline std::vector<std::string> parse_methods(const std::vector<std::string>& requested) {
  std::vector<std::string> methods;
  for (const auto& name : requested) {
    if (name == "all") {
      for (const auto& m : method_names()) methods.push_back(m);
      continue;
    }
    make_hasher(name, 32);
    methods.push_back(name);
  }
  if (methods.empty()) throw InvalidArgument("--method: no method given");
  return methods;
}

/// Checks the --set overrides of a training run of `methods`: each must name one of them (a
/// --set for a method that is not trained would silently do nothing), and none may set the code
/// length, which --bits gives.
inline void require_sets_apply(const std::vector<std::string>& methods,
                               const std::vector<std::string>& sets) {
  for (const auto& text : sets) {
    const SetOverride o = parse_set(text);
    if (std::find(methods.begin(), methods.end(), o.method) == methods.end()) {
      std::string trained;
      for (const auto& m : methods) trained += (trained.empty() ? "" : ", ") + m;
      throw InvalidArgument("--set '" + text + "': " + o.method + " is not being trained (--method " +
                            trained + ")");
    }
    if (o.field == "bits")
      throw InvalidArgument("--set '" + text + "': the code length is given by --bits, not --set");
  }
}

/// Early stopping watches the validation mAP: a --set of a nonzero patience in a run without a
/// validation set (--val-per-class 0) would silently train every epoch, so it is refused. The
/// value is read as the config reads it ("00" and "+0" are 0).
inline void require_validation_for_patience(const std::vector<std::string>& sets, Index validation_items) {
  if (validation_items > 1) return;  // one item has no neighbour to rank
  for (const auto& text : sets) {
    const SetOverride o = parse_set(text);
    long long patience = 0;  // a value the config refuses is reported by configured_hasher
    if (o.field == "patience" && rlhash::detail::parse_field(o.value, patience) && patience != 0)
      throw InvalidArgument(
          "--set '" + text + "': early stopping needs a validation set, and this run has " +
          std::to_string(validation_items) +
          " validation items (--val-per-class); set patience to 0 or keep a validation set");
  }
}

/// A hasher of `method` at `bits` with every --set for that method applied.
inline AnyHasher configured_hasher(const std::string& method, int bits, std::uint64_t seed,
                                   const std::vector<std::string>& sets) {
  AnyHasher hasher = make_hasher(method, bits, seed);
  for (const auto& text : sets) {
    const SetOverride o = parse_set(text);
    if (o.method == method) hasher.set(o.field, o.value);
  }
  return hasher;
}

/// The --set overrides (field, value) for a trained model of `method`; a --set naming another
/// method is an InvalidArgument (it would silently do nothing).
inline std::vector<std::pair<std::string, std::string>> model_overrides(
    const std::string& method, const std::vector<std::string>& sets) {
  std::vector<std::pair<std::string, std::string>> overrides;
  for (const auto& text : sets) {
    const SetOverride o = parse_set(text);
    if (o.method != method)
      throw InvalidArgument("--set '" + text + "': the model is a " + method + " model");
    overrides.emplace_back(o.field, o.value);
  }
  return overrides;
}

inline void add_preprocess_options(CLI::App& app, PreprocessConfig& p) {
  app.add_flag("--center", p.center, "Subtract the training mean from every feature vector");
  app.add_option("--pca", p.pca_dims,
                 "Project onto this many principal components of the training set (0: off)")
      ->default_val(0)
      ->check(CLI::Range(0, 1 << 20));
  app.add_flag("--l2", p.l2_normalize, "Scale every feature vector to unit length (after centering/PCA)");
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace rlhash::cli
