#pragma once
/// \file
/// The IDX format of MNIST and its family (LeCun et al., http://yann.lecun.com/exdb/mnist/):
/// bytes 00 00, a type code (08 ubyte, 09 sbyte, 0B short, 0C int, 0D float, 0E double), the
/// rank, rank big-endian u32 dimensions, then the big-endian data in C order. Plain or
/// gzip-compressed (told apart by the gzip magic 1f 8b). Arrays come back little-endian as an
/// NdArray of the matching dtype ("|u1", "|i1", "<i2", "<i4", "<f4", "<f8").
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/io/inflate.hpp"
#include "rlhash/io/mapped_file.hpp"
#include "rlhash/io/ndarray.hpp"

namespace rlhash {

namespace detail {

inline const char* idx_dtype(unsigned char type) {
  switch (type) {
    case 0x08:
      return "|u1";
    case 0x09:
      return "|i1";
    case 0x0B:
      return "<i2";
    case 0x0C:
      return "<i4";
    case 0x0D:
      return "<f4";
    case 0x0E:
      return "<f8";
    default:
      return nullptr;
  }
}

/// Copies `count` big-endian items of `width` bytes into little-endian `out`.
inline void copy_big_endian(const char* in, std::size_t count, std::size_t width, char* out) {
  if (width == 1) {
    if (count > 0) std::memcpy(out, in, count);
    return;
  }
  for (std::size_t i = 0; i < count; ++i, in += width, out += width) {
    if (width == 2) {
      std::uint16_t v;
      std::memcpy(&v, in, 2);
      v = __builtin_bswap16(v);
      std::memcpy(out, &v, 2);
    } else if (width == 4) {
      std::uint32_t v;
      std::memcpy(&v, in, 4);
      v = __builtin_bswap32(v);
      std::memcpy(out, &v, 4);
    } else {
      std::uint64_t v;
      std::memcpy(&v, in, 8);
      v = __builtin_bswap64(v);
      std::memcpy(out, &v, 8);
    }
  }
}

struct IdxHeader {
  const char* dtype = nullptr;
  std::vector<Index> shape;
  std::size_t data_offset = 0;
};

/// Parses and checks an IDX header at `data` (`size` bytes available).
inline IdxHeader parse_idx_header(const char* data, std::size_t size, const std::string& source) {
  const std::string where = "'" + source + "': ";
  if (size < 4)
    throw FormatError(where + "expected an IDX header of at least 4 bytes, found " + std::to_string(size) +
                      " (truncated?)");
  const auto type = static_cast<unsigned char>(data[2]);
  IdxHeader header;
  header.dtype = idx_dtype(type);
  if (data[0] != 0 || data[1] != 0 || header.dtype == nullptr)
    throw FormatError(
        where + "not an IDX file (expected magic 00 00 and a type code 08, 09, 0B, 0C, 0D or 0E; found " +
        hex_bytes(data, 3) + ")");
  const std::size_t rank = static_cast<unsigned char>(data[3]);
  if (rank == 0) throw FormatError(where + "expected an IDX rank of at least 1, found 0");
  if (size - 4 < 4 * rank)
    throw FormatError(where + "header declares " + std::to_string(rank) +
                      " dimensions, but the file ends after " + std::to_string(size) + " bytes (truncated)");
  header.shape.resize(rank);
  for (std::size_t k = 0; k < rank; ++k) {
    const auto* d = reinterpret_cast<const unsigned char*>(data + 4 + 4 * k);
    header.shape[k] = (Index{d[0]} << 24) | (Index{d[1]} << 16) | (Index{d[2]} << 8) | Index{d[3]};
  }
  header.data_offset = 4 + 4 * rank;
  return header;
}

/// Parses uncompressed IDX bytes.
inline NdArray parse_idx_plain(const char* data, std::size_t size, const std::string& source) {
  const IdxHeader header = parse_idx_header(data, size, source);
  check_payload(header.shape, header.dtype, size - header.data_offset, source);
  NdArray array = NdArray::uninitialized(header.dtype, header.shape);
  copy_big_endian(data + header.data_offset, static_cast<std::size_t>(array.size()), array.itemsize(),
                  array.bytes());
  return array;
}

/// The longest IDX header: magic, type, rank and 255 dimensions.
inline constexpr std::size_t idx_max_header = 4 + 4 * 255;

}  // namespace detail

/// Parses an IDX file held in memory, gzip-compressed or not; FormatError naming `source` for
/// a bad magic or type, a truncated header, or dimensions that disagree with the data size.
inline NdArray parse_idx(const char* data, std::size_t size, const std::string& source) {
  if (detail::is_gzip(data, size)) {
    // The header is inflated first; the rest may inflate to no more than the size it declares,
    // so a small file cannot expand into gigabytes before the check.
    const std::vector<char> head =
        detail::gunzip(data, size, source, detail::idx_max_header, /*prefix=*/true);
    const detail::IdxHeader header = detail::parse_idx_header(head.data(), head.size(), source);
    const std::size_t budget =
        header.data_offset + detail::array_bytes(header.shape, dtype_itemsize(header.dtype), source);
    const std::vector<char> plain = detail::gunzip(data, size, source, budget);
    return detail::parse_idx_plain(plain.data(), plain.size(), source);
  }
  return detail::parse_idx_plain(data, size, source);
}

inline NdArray read_idx(const std::string& path) {
  const MappedFile file(path);
  return parse_idx(file.data(), file.size(), path);
}

}  // namespace rlhash
