#pragma once
/// \file
/// Matrix and index types shared by every layer. Samples are columns: a batch of N items of
/// dimension D is a column-major D x N matrix, the same memory as a C-order [N, D] array.
#include <Eigen/Core>
#include <cstdint>

namespace rlhash {

using Index = std::int64_t;

template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <class Scalar>
using RowVector = Eigen::Matrix<Scalar, 1, Eigen::Dynamic>;

using MatrixF = Matrix<float>;
using MatrixD = Matrix<double>;
using VectorF = Vector<float>;

}  // namespace rlhash
