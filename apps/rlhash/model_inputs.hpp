#pragma once
// A trained model is read and checked before the data it is applied to: a damaged model file, or
// a .npy feature file of another dimension than the model was trained on, fails at once with both
// names, before any large file is loaded.
#include <string>
#include <vector>

#include "output_paths.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/io/npy.hpp"
#include "rlhash/methods/model.hpp"

namespace rlhash::cli {

/// InvalidArgument when a .npy among `features` (option, spec) declares a feature dimension other
/// than the model's; read from the header alone. Other formats are checked once loaded (the
/// model's preprocessing refuses another dimension).
inline void require_model_dims(const Model& model, const std::string& model_path,
                               const std::vector<NamedPath>& features) {
  const Index expected = model.preprocessor.input_dims();
  for (const auto& [option, spec] : features) {
    if (spec.size() < 4 || spec.compare(spec.size() - 4, 4, ".npy") != 0) continue;
    const auto shape = read_npy_header(spec).shape;  // [N] or [N, D]
    const Index dims = shape.size() == 2 ? shape[1] : 1;
    check(dims == expected, option, " '", spec, "' holds features of ", dims, " dimensions; --model '",
          model_path, "' was trained on ", expected);
  }
}

}  // namespace rlhash::cli
