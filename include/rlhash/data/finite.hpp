#pragma once
/// \file
/// The non-finite input policy, the same for training, encoding and evaluation: features holding
/// NaN or infinity are refused with the file (or set), row and column of the first bad value.
/// A NaN that reached a hasher would not fail loudly: LSH maps every item to one code, the
/// eigen-solvers of ITQ/SH report a failure that names no input.
#include <cmath>
#include <string>

#include "rlhash/core/message.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

/// InvalidArgument naming `source`, the row (item) and column (dimension) of the first
/// non-finite value of `items` (D x N, one item per column, as an [N, D] file is read).
inline void require_finite(const Eigen::Ref<const MatrixF>& items, const std::string& source) {
  if (items.allFinite()) return;
  for (Index n = 0; n < items.cols(); ++n)
    for (Index d = 0; d < items.rows(); ++d)
      check(std::isfinite(items(d, n)), "'", source, "': row ", n, ", column ", d, " is ", items(d, n),
            ", expected finite features (NaN and infinity are refused)");
}

/// InvalidArgument naming `source` when the features have no dimension (an [N, 0] array): no
/// method can learn from, or its model file describe, zero-width items.
inline void require_dimensions(const Eigen::Ref<const MatrixF>& items, const std::string& source) {
  check(items.rows() > 0 || items.cols() == 0, "'", source, "': ", items.cols(),
        " items of 0 dimensions, expected at least 1 feature column");
}

}  // namespace rlhash
