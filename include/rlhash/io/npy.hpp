#pragma once
/// \file
/// numpy's `.npy` format (numpy/lib/format.py, NEP 1): the magic "\x93NUMPY", a version byte
/// pair, a little-endian header length (u16 in 1.0, u32 in 2.0/3.0), then a Python dict literal
/// {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded with spaces to a 64-byte
/// boundary and ended by '\n', then the raw C-order data.
///
/// Reads versions 1.0, 2.0 and 3.0, 1-D and 2-D, dtypes <f4 <f8 |u1 |i1 <i2 <i4 <i8 |b1; writes
/// 1.0 (2.0 when the header outgrows a u16) byte for byte as numpy 1.24 does. An [N, D] array is
/// the memory of a column-major D x N matrix, rlhash's samples-as-columns layout, so matrix reads
/// and writes are straight copies.
#include <Eigen/Core>
#include <cstdint>
#include <cstdio>
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

using NpyArray = NdArray;

/// What a .npy header declares; `data_offset` is where the array data starts.
struct NpyHeader {
  std::string dtype;
  std::vector<Index> shape;
  bool fortran_order = false;
  int major_version = 1;
  std::size_t data_offset = 0;
};

namespace detail {

/// Printable excerpt of untrusted bytes for error messages.
inline std::string excerpt(const char* data, std::size_t size, std::size_t max = 100) {
  std::string out;
  for (std::size_t i = 0; i < size && i < max; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return size > max ? out + "..." : out;
}

/// Reads the header's dict literal, the subset of Python numpy writes: string keys, a string
/// descr, True/False, a tuple of integers (Python 2's "3L" accepted).
class NpyDictParser {
 public:
  NpyDictParser(const char* text, std::size_t size, const std::string& source)
      : text_(text), size_(size), source_(source) {}

  NpyHeader parse() {
    NpyHeader header;
    bool has_descr = false, has_order = false, has_shape = false;
    expect('{');
    while (!consume('}')) {
      const std::string key = string_literal("a quoted key");
      expect(':');
      if (key == "descr" && !has_descr) {
        skip_space();
        if (pos_ < size_ && text_[pos_] == '[')
          fail("a dtype string for 'descr' (structured dtypes are not supported)");
        header.dtype = string_literal("a dtype string for 'descr'");
        has_descr = true;
      } else if (key == "fortran_order" && !has_order) {
        header.fortran_order = boolean();
        has_order = true;
      } else if (key == "shape" && !has_shape) {
        header.shape = tuple();
        has_shape = true;
      } else {
        fail("each of the keys 'descr', 'fortran_order', 'shape' once, not '" + key + "'");
      }
      if (!consume(',')) {
        expect('}');
        break;
      }
    }
    if (!has_descr || !has_order || !has_shape) fail("the keys 'descr', 'fortran_order' and 'shape'");
    skip_space();
    if (pos_ != size_) fail("only padding after the dict");
    return header;
  }

 private:
  [[noreturn]] void fail(const std::string& expected) const {
    throw FormatError("'" + source_ + "': malformed .npy header: expected " + expected + " at character " +
                      std::to_string(pos_) + " of \"" + excerpt(text_, size_) + "\"");
  }
  void skip_space() {
    while (pos_ < size_ &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool consume(char c) {
    skip_space();
    if (pos_ < size_ && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!consume(c)) fail(std::string("'") + c + "'");
  }
  std::string string_literal(const char* what) {
    skip_space();
    if (pos_ >= size_ || (text_[pos_] != '\'' && text_[pos_] != '"')) fail(what);
    const char quote = text_[pos_];
    const std::size_t start = ++pos_;
    while (pos_ < size_ && text_[pos_] != quote) {
      if (text_[pos_] == '\\') fail("a string without escapes");
      ++pos_;
    }
    if (pos_ >= size_) fail("a closing quote");
    return std::string(text_ + start, text_ + pos_++);
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair<const char*, bool>{"True", true}, {"False", false}}) {
      const std::size_t n = std::strlen(word);
      if (size_ - pos_ >= n && std::memcmp(text_ + pos_, word, n) == 0) {
        pos_ += n;
        return value;
      }
    }
    fail("True or False for 'fortran_order'");
  }
  std::vector<Index> tuple() {
    std::vector<Index> shape;
    expect('(');
    while (!consume(')')) {
      shape.push_back(integer());
      if (pos_ < size_ && (text_[pos_] == 'L' || text_[pos_] == 'l')) ++pos_;
      if (!consume(',')) {
        expect(')');
        break;
      }
    }
    return shape;
  }
  Index integer() {
    skip_space();
    if (pos_ >= size_ || text_[pos_] < '0' || text_[pos_] > '9') fail("a non-negative integer in 'shape'");
    std::uint64_t value = 0;
    while (pos_ < size_ && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + static_cast<std::uint64_t>(text_[pos_++] - '0');
      if (value > static_cast<std::uint64_t>(std::numeric_limits<Index>::max()))
        fail("a dimension that fits 63 bits");
    }
    return static_cast<Index>(value);
  }

  const char* text_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& source_;
};

inline std::uint32_t load_le32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace detail

/// Parses and validates a .npy header at `data` (the whole file, `size` bytes): magic, version,
/// dict, dtype, C order, 1-D or 2-D, and shape x itemsize == the bytes after the header. Every
/// violation is a FormatError naming `source`. When `data` holds only the first `size` bytes of
/// a file of `file_size` bytes (a compressed archive entry checked before it is inflated), the
/// header must lie within those `size` bytes and the payload is checked against `file_size`.
inline NpyHeader parse_npy_header(const char* data, std::size_t size, const std::string& source,
                                  std::size_t file_size = static_cast<std::size_t>(-1)) {
  const std::string where = "'" + source + "': ";
  if (size < 10)
    throw FormatError(where + "expected a .npy file of at least 10 bytes, found " + std::to_string(size) +
                      " (truncated?)");
  if (std::memcmp(data, "\x93NUMPY", 6) != 0)
    throw FormatError(where + "not a .npy file (expected the magic \\x93NUMPY, found \"" +
                      detail::excerpt(data, 6) + "\")");
  NpyHeader header;
  header.major_version = static_cast<unsigned char>(data[6]);
  const int minor = static_cast<unsigned char>(data[7]);
  std::size_t header_length = 0;
  if (header.major_version == 1 && minor == 0) {
    header_length = static_cast<unsigned char>(data[8]) |
                    (static_cast<std::size_t>(static_cast<unsigned char>(data[9])) << 8);
    header.data_offset = 10;
  } else if ((header.major_version == 2 || header.major_version == 3) && minor == 0 && size >= 12) {
    header_length = detail::load_le32(data + 8);
    header.data_offset = 12;
  } else {
    throw FormatError(where + "expected .npy format version 1.0, 2.0 or 3.0, found " +
                      std::to_string(header.major_version) + "." + std::to_string(minor) +
                      (size < 12 ? " (or a truncated header)" : ""));
  }
  if (header_length > size - header.data_offset)
    throw FormatError(where + "header of " + std::to_string(header_length) + " bytes declared, but only " +
                      std::to_string(size - header.data_offset) + " bytes follow (truncated file)");
  const NpyHeader dict = detail::NpyDictParser(data + header.data_offset, header_length, source).parse();
  header.shape = dict.shape;
  header.fortran_order = dict.fortran_order;
  header.data_offset += header_length;

  std::string dtype = dict.dtype;
  if (dtype.size() == 3 && dtype[2] == '1' && (dtype[0] == '<' || dtype[0] == '>'))
    dtype[0] = '|';  // no byte order
  if (!is_supported_dtype(dtype)) {
    if (!dtype.empty() && dtype[0] == '>')
      throw FormatError(where + "big-endian dtype '" + dtype +
                        "' is not supported (expected little-endian '<" + dtype.substr(1) +
                        "'; convert with arr.astype('<" + dtype.substr(1) + "'))");
    throw FormatError(where + "unsupported dtype '" + detail::excerpt(dtype.data(), dtype.size()) +
                      "' (expected one of " + supported_dtypes() + ")");
  }
  header.dtype = dtype;
  if (header.fortran_order)
    throw FormatError(where +
                      "Fortran-order arrays are not supported (expected fortran_order False; save "
                      "np.ascontiguousarray(arr))");
  if (header.shape.empty() || header.shape.size() > 2)
    throw FormatError(where + "expected a 1-D or 2-D array, found " + std::to_string(header.shape.size()) +
                      "-D shape " + detail::shape_text(header.shape));
  const std::size_t total = file_size == static_cast<std::size_t>(-1) ? size : file_size;
  detail::check_payload(header.shape, header.dtype, total - header.data_offset, source);
  return header;
}

/// Parses a whole .npy file held in memory; errors name `source`.
inline NdArray parse_npy(const char* data, std::size_t size, const std::string& source) {
  const NpyHeader header = parse_npy_header(data, size, source);
  NdArray array = NdArray::uninitialized(header.dtype, header.shape);
  if (array.nbytes() > 0) std::memcpy(array.bytes(), data + header.data_offset, array.nbytes());
  if (header.dtype == "|b1") detail::check_bool_payload(array.bytes(), array.nbytes(), source);
  return array;
}

namespace detail {

/// The header of the .npy file open as `fd` (a regular file of `file_size` bytes, read from
/// offset 0; the offset is left somewhere after the header), checked against that size.
inline NpyHeader read_npy_header(int fd, std::size_t file_size, const std::string& path) {
  std::vector<char> head(std::min(file_size, std::size_t{1} << 16));
  const std::size_t got = read_up_to(fd, head.data(), head.size(), path);
  return parse_npy_header(head.data(), got, path, file_size);
}

}  // namespace detail

/// The header of the .npy file at `path`, read and checked (against the file's size) without
/// reading the data: what a large file declares, known before it is loaded.
inline NpyHeader read_npy_header(const std::string& path) {
  const detail::FileHandle file(path, O_RDONLY);
  if (!file.is_open()) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
  struct stat info {};
  if (::fstat(file.fd(), &info) != 0 || !S_ISREG(info.st_mode))
    throw IoError("cannot read the .npy header of '" + path + "': not a regular file");
  return detail::read_npy_header(file.fd(), static_cast<std::size_t>(info.st_size), path);
}

inline NdArray read_npy(const std::string& path) {
  const MappedFile file(path);
  return parse_npy(file.data(), file.size(), path);
}

/// A .npy file memory-mapped read-only: the header is validated on opening, the data stays on
/// disk until touched (with `populate`, the file is read into memory instead: see MappedFile on
/// why a mapping must not be truncated under it). The data pointer is typed only when its offset suits the
/// type's alignment (numpy aligns data to 64 bytes).
class NpyMap {
 public:
  explicit NpyMap(const std::string& path, bool populate = false)
      : file_(path, populate ? FileAccess::read : FileAccess::map),
        header_(parse_npy_header(file_.data(), file_.size(), path)) {
    if (header_.dtype == "|b1") detail::check_bool_payload(bytes(), nbytes(), path);
  }

  const std::string& dtype() const { return header_.dtype; }
  const std::vector<Index>& shape() const { return header_.shape; }
  const std::string& path() const { return file_.path(); }
  /// N of an [N, D] or [N] array.
  Index items() const { return header_.shape[0]; }
  /// D of an [N, D] array, 1 for [N].
  Index dims() const { return header_.shape.size() == 2 ? header_.shape[1] : 1; }
  const char* bytes() const { return file_.data() + header_.data_offset; }
  std::size_t nbytes() const { return file_.size() - header_.data_offset; }

  template <class T>
  const T* data() const {
    if (header_.dtype != dtype_of<T>())
      throw InvalidArgument("'" + path() + "' holds " + header_.dtype + ", accessed as " + dtype_of<T>());
    if (reinterpret_cast<std::uintptr_t>(bytes()) % alignof(T) != 0)
      throw FormatError("'" + path() + "': data at offset " + std::to_string(header_.data_offset) +
                        " is not aligned for " + dtype_of<T>() + " (use read_npy)");
    return reinterpret_cast<const T*>(bytes());
  }
  /// The array as a D x N matrix view without copying; `T` must be the file's dtype.
  template <class T>
  Eigen::Map<const Matrix<T>> matrix() const {
    return Eigen::Map<const Matrix<T>>(data<T>(), dims(), items());
  }
  /// A D x N copy converted from the file's dtype (integer targets checked like NdArray's).
  template <class T>
  Matrix<T> to_matrix() const {
    Matrix<T> out(dims(), items());
    detail::convert_elements(bytes(), header_.dtype, static_cast<std::size_t>(out.size()), out.data(),
                             path());
    return out;
  }

 private:
  MappedFile file_;
  NpyHeader header_;
};

/// A D x N matrix from an [N, D] (or [N] -> 1 x N) .npy of any supported dtype.
template <class T>
Matrix<T> read_npy_matrix(const std::string& path) {
  return NpyMap(path, /*populate=*/true).to_matrix<T>();
}

/// The values of a 1-D .npy, converted to `T`.
template <class T>
std::vector<T> read_npy_vector(const std::string& path) {
  const NpyMap map(path, /*populate=*/true);
  if (map.shape().size() != 1)
    throw FormatError("'" + path + "': expected a 1-D array, found shape " + detail::shape_text(map.shape()));
  std::vector<T> out(static_cast<std::size_t>(map.items()));
  detail::convert_elements(map.bytes(), map.dtype(), out.size(), out.data(), path);
  return out;
}

/// The .npy header numpy 1.24 writes for `dtype` and `shape`, padding included.
inline std::string npy_header(const std::string& dtype, const std::vector<Index>& shape) {
  std::string dict = "{'descr': '" + dtype + "', 'fortran_order': False, 'shape': (";
  for (std::size_t k = 0; k < shape.size(); ++k) dict += (k ? ", " : "") + std::to_string(shape[k]);
  dict += shape.size() == 1 ? ",), }" : "), }";
  // numpy leaves room to grow the first axis in place (GROWTH_AXIS_MAX_DIGITS = 21), then pads
  // with 1..64 spaces so the data starts on a 64-byte boundary.
  if (!shape.empty()) dict.append(21 - std::to_string(shape[0]).size(), ' ');
  for (const int version : {1, 2}) {
    const std::size_t prefix = version == 1 ? 10 : 12;
    const std::size_t pad = 64 - (prefix + dict.size() + 1) % 64;
    const std::size_t length = dict.size() + pad + 1;
    if (version == 1 && length > 0xFFFF) continue;
    std::string header = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
    for (std::size_t b = 0; b < prefix - 8; ++b) header += static_cast<char>((length >> (8 * b)) & 0xFF);
    return header + dict + std::string(pad, ' ') + '\n';
  }
  throw InvalidArgument("npy header of " + std::to_string(dict.size()) + " bytes is too long");
}

/// The bytes of a .npy file holding `data` (C order) of `dtype` and a 1-D or 2-D `shape`.
inline std::vector<char> npy_bytes(const std::string& dtype, const std::vector<Index>& shape,
                                   const void* data) {
  if (shape.empty() || shape.size() > 2)
    throw InvalidArgument("write_npy: expected a 1-D or 2-D shape, found " + detail::shape_text(shape));
  for (const Index dim : shape)
    if (dim < 0) throw InvalidArgument("write_npy: negative dimension in shape " + detail::shape_text(shape));
  const std::size_t payload = detail::array_bytes(shape, dtype_itemsize(dtype), "write_npy");
  const std::string header = npy_header(dtype, shape);
  std::vector<char> bytes(header.size() + payload);
  std::memcpy(bytes.data(), header.data(), header.size());
  if (payload > 0) std::memcpy(bytes.data() + header.size(), data, payload);
  return bytes;
}

/// Writes `data` (C order, `shape` 1-D or 2-D) as a .npy atomically.
template <class T>
void write_npy(const std::string& path, const T* data, const std::vector<Index>& shape) {
  write_file_atomic(path, npy_bytes(dtype_of<T>(), shape, data));
}

inline void write_npy(const std::string& path, const NdArray& array) {
  write_file_atomic(path, npy_bytes(array.dtype(), array.shape(), array.bytes()));
}

/// Writes a D x N matrix as an [N, D] .npy (the same memory, so no transpose).
template <class Derived>
void write_npy_matrix(const std::string& path, const Eigen::MatrixBase<Derived>& matrix) {
  using Scalar = std::remove_const_t<typename Derived::Scalar>;
  const std::vector<Index> shape = {static_cast<Index>(matrix.cols()), static_cast<Index>(matrix.rows())};
  if constexpr (std::is_base_of_v<Eigen::PlainObjectBase<Derived>, Derived> && !Derived::IsRowMajor) {
    write_npy(path, matrix.derived().data(), shape);
  } else {
    const Matrix<Scalar> dense = matrix;
    write_npy(path, dense.data(), shape);
  }
}

template <class T>
void write_npy_vector(const std::string& path, const std::vector<T>& values) {
  write_npy(path, values.data(), {static_cast<Index>(values.size())});
}

}  // namespace rlhash
