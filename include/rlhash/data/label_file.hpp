#pragma once
/// \file
/// Labels from an array file: class ids [N] (int32/int64, checked to fit and to stay below
/// Labels::max_classes) or multi-hot [N, C] (uint8/bool). Every refusal names the file.
#include <cstdint>
#include <string>

#include "rlhash/core/message.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/io/array_spec.hpp"

namespace rlhash {

/// Labels from an array already read; errors name `source`.
inline Labels labels_from_array(const NdArray& array, const std::string& source) {
  if (array.rank() == 1) {
    check<FormatError>(array.dtype() != "<f4" && array.dtype() != "<f8", "'", source,
                       "': class ids must be integers, found dtype ", array.dtype());
    return Labels::from_class_ids(array.to_vector<std::int32_t>(source));
  }
  if (array.rank() == 2 && (array.dtype() == "|u1" || array.dtype() == "|b1")) {
    check(array.shape()[1] >= 1 && array.shape()[1] <= Labels::max_classes, "'", source,
          "': ", array.shape()[1], " class columns, expected 1 .. ", Labels::max_classes);
    return Labels::from_multi_hot(reinterpret_cast<const std::uint8_t*>(array.bytes()), array.shape()[0],
                                  static_cast<int>(array.shape()[1]));
  }
  throw FormatError(message("'", source, "': expected class ids [N] (int32/int64) or multi-hot [N, C] ",
                            "(uint8/bool), found ", array.dtype(), " of rank ", array.rank()));
}

/// Labels from the array file `spec` names (see read_array_spec).
inline Labels read_labels_file(const std::string& spec) {
  return labels_from_array(read_array_spec(spec), spec);
}

}  // namespace rlhash
