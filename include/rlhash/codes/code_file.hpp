#pragma once
/// \file
/// Binary codes as .npy files, in the three layouts other tools use:
/// - packed: uint8 [N, ceil(bits/8)], bit j of a code in byte j/8 at bit j%8 (LSB first) -- faiss
///   IndexBinary's layout, and on a little-endian host exactly BinaryCodes' words cut per row;
/// - bits01: uint8 [N, bits] of 0/1 (read: any dtype holding exactly 0 and 1);
/// - sign:   float32 [N, bits] of -1/+1, bit 1 <-> +1 (read: any signed dtype holding exactly ±1).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <fcntl.h>     // open flags (POSIX)
#include <sys/stat.h>  // fstat
#include <unistd.h>    // lseek

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/io/ndarray.hpp"
#include "rlhash/io/npy.hpp"

namespace rlhash {

enum class CodeFormat { packed, bits01, sign };

inline std::string to_string(CodeFormat format) {
  switch (format) {
    case CodeFormat::packed:
      return "packed";
    case CodeFormat::bits01:
      return "bits01";
    case CodeFormat::sign:
      return "sign";
  }
  return "unknown";
}

/// "packed", "bits01" or "sign"; InvalidArgument otherwise.
inline CodeFormat parse_code_format(const std::string& name) {
  for (const CodeFormat format : {CodeFormat::packed, CodeFormat::bits01, CodeFormat::sign})
    if (name == to_string(format)) return format;
  throw InvalidArgument("code format '" + name + "': expected packed, bits01 or sign");
}

/// The codes as an [N, width] array in `format`.
inline NdArray codes_to_array(const BinaryCodes& codes, CodeFormat format) {
  const Index n = codes.size();
  const int bits = codes.bits();
  if (format == CodeFormat::packed) {
    const Index width = (bits + 7) / 8;
    NdArray array = NdArray::uninitialized("|u1", {n, width});
    for (Index i = 0; i < n; ++i)
      std::memcpy(array.bytes() + i * width, codes.row(i), static_cast<std::size_t>(width));
    return array;
  }
  if (format == CodeFormat::bits01) {
    NdArray array = NdArray::uninitialized("|u1", {n, bits});
    auto* out = array.data<std::uint8_t>();
    for (Index i = 0; i < n; ++i)
      for (int j = 0; j < bits; ++j) out[i * bits + j] = codes.get(i, j) ? 1 : 0;
    return array;
  }
  NdArray array = NdArray::uninitialized("<f4", {n, bits});
  auto* out = array.data<float>();
  for (Index i = 0; i < n; ++i)
    for (int j = 0; j < bits; ++j) out[i * bits + j] = codes.get(i, j) ? 1.0F : -1.0F;
  return array;
}

namespace detail {

/// The code length an [N, width] array in `format` holds, checked against `bits` (<= 0: taken
/// from the width); FormatError after `where` for a rank or width that does not fit.
inline int code_bits_of(const std::vector<Index>& shape, int bits, CodeFormat format,
                        const std::string& where) {
  if (shape.size() != 2)
    throw FormatError(where + "expected a 2-D [N, width] array, found shape " + detail::shape_text(shape));
  const Index width = shape[1];
  const bool packed = format == CodeFormat::packed;
  if (bits <= 0) {
    // Checked before multiplying: an empty array may declare any width.
    const Index max_width = packed ? BinaryCodes::max_bits / 8 : BinaryCodes::max_bits;
    if (width < 1 || width > max_width) {
      const bool representable = width <= std::numeric_limits<Index>::max() / 8;
      throw FormatError(where + "a width of " + std::to_string(width) +
                        (representable ? " gives " + std::to_string(packed ? 8 * width : width) + " bits"
                                       : " is too wide") +
                        ", expected 1.." + std::to_string(BinaryCodes::max_bits));
    }
    bits = static_cast<int>(packed ? 8 * width : width);
  }
  const Index expected = packed ? (bits + 7) / 8 : bits;
  if (width != expected)
    throw FormatError(where + "expected shape [N, " + std::to_string(expected) + "] for " +
                      std::to_string(bits) + "-bit codes, found " + detail::shape_text(shape));
  return bits;
}

/// Copies `rows` packed rows (faiss layout) into codes rows [first, first + rows), refusing a row
/// with bits set past the code length.
inline void copy_packed_rows(const std::uint8_t* in, Index first, Index rows, BinaryCodes& codes,
                             const std::string& where) {
  const Index width = (codes.bits() + 7) / 8;
  const unsigned tail = codes.bits() % 8 == 0 ? 0U : (0xFFU << (codes.bits() % 8)) & 0xFFU;
  for (Index r = 0; r < rows; ++r) {
    const std::uint8_t last = in[r * width + width - 1];
    if (last & tail)
      throw FormatError(where + "row " + std::to_string(first + r) + " has bits set beyond bit " +
                        std::to_string(codes.bits()) + " (byte value " + std::to_string(last) +
                        "); tail bits must be zero");
    std::memcpy(codes.row(first + r), in + r * width, static_cast<std::size_t>(width));
  }
}

}  // namespace detail

/// Codes of `bits` bits from an [N, width] array in `format`; `bits` <= 0 takes the width's
/// (packed: 8 x width). FormatError naming `source` for a wrong dtype or rank, a width that does
/// not match `bits`, non-zero tail bits, or values other than 0/1 (bits01) or ±1 (sign).
inline BinaryCodes codes_from_array(const NdArray& array, int bits, CodeFormat format,
                                    const std::string& source = "codes") {
  const std::string where = "'" + source + "': " + to_string(format) + " codes: ";
  bits = detail::code_bits_of(array.shape(), bits, format, where);
  const Index n = array.shape()[0];
  BinaryCodes codes(n, bits);
  if (format == CodeFormat::packed) {
    if (array.dtype() != "|u1")
      throw FormatError(where + "expected dtype |u1 (uint8), found " + array.dtype());
    detail::copy_packed_rows(array.data<std::uint8_t>(), 0, n, codes, where);
    return codes;
  }
  visit_dtype(array.dtype(), [&](auto tag) {
    using S = typename decltype(tag)::type;
    if constexpr (!std::is_signed_v<S>) {
      if (format == CodeFormat::sign)
        throw FormatError(where + "expected a signed dtype holding -1/+1 (float32), found " + array.dtype());
    }
    const S* in = array.data<S>();
    const S one = S(1), zero = format == CodeFormat::sign ? static_cast<S>(-1) : S(0);
    for (Index i = 0; i < n; ++i)
      for (int j = 0; j < bits; ++j) {
        const S value = in[i * bits + j];
        if (value == one)
          codes.set(i, j, true);
        else if (value != zero)
          throw FormatError(where + "value " + detail::value_text(value) + " at row " + std::to_string(i) +
                            ", column " + std::to_string(j) +
                            (format == CodeFormat::sign ? "; expected -1 or +1" : "; expected 0 or 1"));
      }
  });
  return codes;
}

/// Writes `codes` as a .npy in `format`, atomically.
inline void write_codes(const std::string& path, const BinaryCodes& codes, CodeFormat format) {
  write_npy(path, codes_to_array(codes, format));
}

/// Reads a code .npy in `format` (`bits` <= 0: inferred from the width, see codes_from_array).
/// Packed codes stream from the file into the codes in blocks, so a search holds the codes once
/// (not the file's bytes beside them).
inline BinaryCodes read_codes(const std::string& path, int bits, CodeFormat format) {
  if (format != CodeFormat::packed) return codes_from_array(read_npy(path), bits, format, path);
  // One open file for the header and the rows: both come from the same file, whatever happens
  // to the path meanwhile.
  const detail::FileHandle file(path, O_RDONLY);
  if (!file.is_open()) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
  struct stat info {};
  if (::fstat(file.fd(), &info) != 0 || !S_ISREG(info.st_mode)) {  // a pipe: read it whole, once
    const std::vector<char> bytes = detail::read_open_file(file.fd(), path, static_cast<std::size_t>(-1) / 2);
    return codes_from_array(parse_npy(bytes.data(), bytes.size(), path), bits, format, path);
  }
  const NpyHeader header = detail::read_npy_header(file.fd(), static_cast<std::size_t>(info.st_size), path);
  const std::string where = "'" + path + "': packed codes: ";
  bits = detail::code_bits_of(header.shape, bits, format, where);
  if (header.dtype != "|u1") throw FormatError(where + "expected dtype |u1 (uint8), found " + header.dtype);
  const Index n = header.shape[0];
  const Index width = header.shape[1];
  BinaryCodes codes(n, bits);
  if (::lseek(file.fd(), static_cast<off_t>(header.data_offset), SEEK_SET) < 0)
    throw IoError("cannot seek in '" + path + "': " + detail::errno_text());
  const Index block = std::max<Index>(1, (Index{1} << 16) / width);  // rows per 64 KiB read
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(std::min(block, std::max<Index>(n, 1)) * width));
  for (Index first = 0; first < n; first += block) {
    const Index rows = std::min(block, n - first);
    const auto bytes = static_cast<std::size_t>(rows * width);
    if (detail::read_up_to(file.fd(), reinterpret_cast<char*>(buffer.data()), bytes, path) != bytes)
      throw FormatError(where + "the file ended before row " + std::to_string(first + rows) + " of " +
                        std::to_string(n) + " (truncated while reading?)");
    detail::copy_packed_rows(buffer.data(), first, rows, codes, where);
  }
  return codes;
}

}  // namespace rlhash
