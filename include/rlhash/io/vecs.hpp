#pragma once
/// \file
/// The .fvecs / .bvecs / .ivecs files of the ANN benchmarks (INRIA TEXMEX: SIFT1M, GIST1M):
/// one record per vector, a little-endian int32 dimension d followed by d float32 / uint8 /
/// int32 values. Every record must have the same d. Vectors come back as the columns of a
/// d x N matrix.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/io/mapped_file.hpp"
#include "rlhash/io/ndarray.hpp"

namespace rlhash {

namespace detail {
template <class T>
constexpr const char* vecs_kind() {
  if constexpr (std::is_same_v<T, float>)
    return ".fvecs";
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return ".bvecs";
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return ".ivecs";
  else
    static_assert(always_false<T>,
                  "vecs files hold float (.fvecs), std::uint8_t (.bvecs) or std::int32_t (.ivecs)");
}
}  // namespace detail

/// Parses .fvecs (T = float), .bvecs (std::uint8_t) or .ivecs (std::int32_t) bytes into a d x N
/// matrix, keeping the first `max_items` vectors when it is >= 0. An empty input gives 0 x 0.
template <class T>
Matrix<T> parse_vecs(const char* data, std::size_t size, const std::string& source, Index max_items = -1) {
  const std::string where = "'" + source + "' (" + detail::vecs_kind<T>() + "): ";
  if (size == 0) return Matrix<T>(0, 0);
  auto dim_at = [&](std::size_t offset) {
    std::int32_t dim;
    std::memcpy(&dim, data + offset, 4);
    return dim;
  };
  if (size < 4)
    throw FormatError(where + "expected a 4-byte dimension, found " + std::to_string(size) +
                      " bytes (truncated)");
  const std::int32_t dim = dim_at(0);
  if (dim <= 0)
    throw FormatError(where + "expected a positive dimension in record 0, found " + std::to_string(dim));
  const std::size_t record = 4 + static_cast<std::size_t>(dim) * sizeof(T);
  const std::size_t total = size / record;
  const std::size_t count = max_items >= 0 ? std::min(total, static_cast<std::size_t>(max_items)) : total;
  auto check = [&](std::size_t k) {
    const std::int32_t d = dim_at(k * record);
    if (d != dim)
      throw FormatError(where + "record " + std::to_string(k) + " has dimension " + std::to_string(d) +
                        ", expected " + std::to_string(dim) + " like record 0");
  };
  Matrix<T> out(dim, static_cast<Index>(count));
  for (std::size_t k = 0; k < count; ++k) {
    check(k);
    std::memcpy(out.col(static_cast<Index>(k)).data(), data + k * record + 4, record - 4);
  }
  if (size % record != 0) {
    if (size - total * record >= 4) check(total);
    throw FormatError(where + "the last record is truncated (" + std::to_string(size) +
                      " bytes is not a whole number of " + std::to_string(record) +
                      "-byte records of dimension " + std::to_string(dim) + ")");
  }
  return out;
}

inline MatrixF read_fvecs(const std::string& path, Index max_items = -1) {
  const MappedFile file(path);
  return parse_vecs<float>(file.data(), file.size(), path, max_items);
}
inline Matrix<std::uint8_t> read_bvecs(const std::string& path, Index max_items = -1) {
  const MappedFile file(path);
  return parse_vecs<std::uint8_t>(file.data(), file.size(), path, max_items);
}
inline Matrix<std::int32_t> read_ivecs(const std::string& path, Index max_items = -1) {
  const MappedFile file(path);
  return parse_vecs<std::int32_t>(file.data(), file.size(), path, max_items);
}

/// Writes the columns of a d x N matrix of float / std::uint8_t / std::int32_t as .fvecs /
/// .bvecs / .ivecs records, atomically.
template <class Derived>
void write_vecs(const std::string& path, const Eigen::MatrixBase<Derived>& vectors) {
  using T = std::remove_const_t<typename Derived::Scalar>;
  (void)detail::vecs_kind<T>();
  if (vectors.cols() > 0 &&
      (vectors.rows() <= 0 || vectors.rows() > std::numeric_limits<std::int32_t>::max()))
    throw InvalidArgument("write_vecs: '" + path + "': expected 1 to 2^31-1 rows per vector, found " +
                          std::to_string(vectors.rows()));
  const auto dim = static_cast<std::int32_t>(vectors.rows());
  const std::size_t record = 4 + static_cast<std::size_t>(dim) * sizeof(T);
  std::vector<char> bytes(record * static_cast<std::size_t>(vectors.cols()));
  for (Index k = 0; k < vectors.cols(); ++k) {
    char* at = bytes.data() + static_cast<std::size_t>(k) * record;
    std::memcpy(at, &dim, 4);
    const Vector<T> column = vectors.col(k);
    std::memcpy(at + 4, column.data(), record - 4);
  }
  write_file_atomic(path, bytes);
}

template <class Derived>
void write_fvecs(const std::string& path, const Eigen::MatrixBase<Derived>& vectors) {
  static_assert(std::is_same_v<std::remove_const_t<typename Derived::Scalar>, float>,
                "write_fvecs takes a float matrix");
  write_vecs(path, vectors);
}

}  // namespace rlhash
