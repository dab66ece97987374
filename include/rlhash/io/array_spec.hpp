#pragma once
/// \file
/// One entry point for the arrays a command line names (`--features file.npz:x`): a .npy, an
/// .npz entry ("file.npz:name", or "file.npz" when it holds one array), an IDX file (plain or
/// gzip) or .fvecs/.bvecs/.ivecs. The format is told by the file's magic bytes, by the
/// extension for the vecs files (which have none).
#include <cstring>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/io/idx.hpp"
#include "rlhash/io/mapped_file.hpp"
#include "rlhash/io/ndarray.hpp"
#include "rlhash/io/npy.hpp"
#include "rlhash/io/npz.hpp"
#include "rlhash/io/vecs.hpp"

namespace rlhash {

namespace detail {
inline bool ends_with(const std::string& text, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return text.size() >= n && text.compare(text.size() - n, n, suffix) == 0;
}
template <class T>
NdArray vecs_array(const MappedFile& file) {
  const Matrix<T> vectors = parse_vecs<T>(file.data(), file.size(), file.path());
  return NdArray::from_data(vectors.data(),
                            {static_cast<Index>(vectors.cols()), static_cast<Index>(vectors.rows())});
}
}  // namespace detail

/// Reads the array named by `spec` (see the file comment). Errors name the file; an .npz
/// without a name that holds several arrays is an InvalidArgument listing them.
inline NdArray read_array_spec(const std::string& spec) {
  std::string path = spec, name;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && detail::ends_with(spec.substr(0, colon), ".npz")) {
    path = spec.substr(0, colon);
    name = spec.substr(colon + 1);
  }
  MappedFile file(path);
  const char* data = file.data();
  const std::size_t size = file.size();
  if ((size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) || detail::ends_with(path, ".npz")) {
    const NpzArchive archive(std::move(file));
    if (name.empty()) {
      const auto names = archive.names();
      if (names.size() != 1) {
        std::string known;
        for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
        throw InvalidArgument("'" + path + "' holds " + std::to_string(names.size()) + " arrays (" + known +
                              "); name one as '" + path + ":<name>'");
      }
      name = names[0];
    }
    return archive.read(name);
  }
  if (size >= 6 && std::memcmp(data, "\x93NUMPY", 6) == 0) return parse_npy(data, size, path);
  if (detail::ends_with(path, ".fvecs")) return detail::vecs_array<float>(file);
  if (detail::ends_with(path, ".bvecs")) return detail::vecs_array<std::uint8_t>(file);
  if (detail::ends_with(path, ".ivecs")) return detail::vecs_array<std::int32_t>(file);
  if (detail::is_gzip(data, size) || (size >= 4 && data[0] == 0 && data[1] == 0 &&
                                      detail::idx_dtype(static_cast<unsigned char>(data[2])) != nullptr))
    return parse_idx(data, size, path);
  throw FormatError("'" + path + "': cannot tell its format (expected a .npy, an .npz[:name], an IDX file, " +
                    "plain or gzip, or .fvecs/.bvecs/.ivecs)");
}

/// read_array_spec as a D x N matrix of `T` ([N, ...] arrays, other axes flattened).
template <class T>
Matrix<T> read_matrix_spec(const std::string& spec) {
  return read_array_spec(spec).to_matrix<T>(spec);
}

}  // namespace rlhash
