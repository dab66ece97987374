#pragma once
/// \file
/// Binary codes as .npy files, in the three layouts other tools use:
/// - packed: uint8 [N, ceil(bits/8)], bit j of a code in byte j/8 at bit j%8 (LSB first) -- faiss
///   IndexBinary's layout, and on a little-endian host exactly BinaryCodes' words cut per row;
/// - bits01: uint8 [N, bits] of 0/1 (read: any dtype holding exactly 0 and 1);
/// - sign:   float32 [N, bits] of -1/+1, bit 1 <-> +1 (read: any signed dtype holding exactly ±1).
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
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

/// Codes of `bits` bits from an [N, width] array in `format`; `bits` <= 0 takes the width's
/// (packed: 8 x width). FormatError naming `source` for a wrong dtype or rank, a width that does
/// not match `bits`, non-zero tail bits, or values other than 0/1 (bits01) or ±1 (sign).
inline BinaryCodes codes_from_array(const NdArray& array, int bits, CodeFormat format,
                                    const std::string& source = "codes") {
  const std::string where = "'" + source + "': " + to_string(format) + " codes: ";
  if (array.rank() != 2)
    throw FormatError(where + "expected a 2-D [N, width] array, found shape " +
                      detail::shape_text(array.shape()));
  const Index n = array.shape()[0];
  const Index width = array.shape()[1];
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
                      std::to_string(bits) + "-bit codes, found " + detail::shape_text(array.shape()));
  BinaryCodes codes(n, bits);
  if (packed) {
    if (array.dtype() != "|u1")
      throw FormatError(where + "expected dtype |u1 (uint8), found " + array.dtype());
    const auto* in = array.data<std::uint8_t>();
    const unsigned tail = bits % 8 == 0 ? 0U : (0xFFU << (bits % 8)) & 0xFFU;
    for (Index i = 0; i < n; ++i) {
      if (in[i * width + width - 1] & tail)
        throw FormatError(where + "row " + std::to_string(i) + " has bits set beyond bit " +
                          std::to_string(bits) + " (byte value " + std::to_string(in[i * width + width - 1]) +
                          "); tail bits must be zero");
      std::memcpy(codes.row(i), in + i * width, static_cast<std::size_t>(width));
    }
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
inline BinaryCodes read_codes(const std::string& path, int bits, CodeFormat format) {
  return codes_from_array(read_npy(path), bits, format, path);
}

}  // namespace rlhash
