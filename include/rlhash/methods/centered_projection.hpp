#pragma once
/// \file
/// The encoder LSH and ITQ share: bit j = sign(p_j . (x - mean)). The two methods differ only
/// in how they fit the projection P (random Gaussian rows; PCA then ITQ's rotation).
#include <string>
#include <utility>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/methods/hasher.hpp"

namespace rlhash::detail {

struct CenteredProjection {
  VectorF mean;        ///< D: subtracted before projecting
  MatrixF projection;  ///< bits x D

  bool fitted() const { return projection.size() > 0; }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features, const char* method) const {
    require_fitted(fitted(), method);
    require_dims(features.rows(), projection.cols(), method);
    MatrixF projected = projection * features;
    projected.colwise() -= projection * mean;
    return BinaryCodes::from_signs(projected);
  }

  void save(ByteWriter& out) const {
    out.put_matrix(mean);
    out.put_matrix(projection);
  }
  /// All or nothing: a projection of `bits` rows matching the mean's dimension, or an error.
  void load(ByteReader& in, int bits, const char* method) {
    const MatrixF loaded_mean = in.get_matrix<float>();
    MatrixF loaded_projection = in.get_matrix<float>();
    if (loaded_mean.cols() != 1 || loaded_projection.rows() != bits ||
        loaded_projection.cols() != loaded_mean.rows())
      in.fail(std::string(method) + " parameters of " + std::to_string(bits) + " bits");
    mean = loaded_mean.col(0);
    projection = std::move(loaded_projection);
  }
};

}  // namespace rlhash::detail
