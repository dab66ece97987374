#pragma once
/// \file
/// NdArray: a dense C-order array of one numeric dtype, the value type every array reader
/// (.npy, .npz, IDX) returns. Dtypes are named as numpy names them ("<f4", "|u1", ...), always
/// little-endian in memory. The header check shared by the readers (shape x itemsize must equal
/// the payload) and the checked element conversion live here too.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "rlhash's file formats are little-endian and its readers assume a little-endian host"
#endif

namespace rlhash {

namespace detail {
template <class T>
struct TypeTag {
  using type = T;
};
template <class T>
inline constexpr bool always_false = false;
}  // namespace detail

/// The numpy dtype string of `T` ("<f4" for float, "|u1" for std::uint8_t, ...).
template <class T>
constexpr const char* dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return "<f4";
  else if constexpr (std::is_same_v<T, double>)
    return "<f8";
  else if constexpr (std::is_same_v<T, std::uint8_t>)
    return "|u1";
  else if constexpr (std::is_same_v<T, std::int8_t>)
    return "|i1";
  else if constexpr (std::is_same_v<T, std::int16_t>)
    return "<i2";
  else if constexpr (std::is_same_v<T, std::int32_t>)
    return "<i4";
  else if constexpr (std::is_same_v<T, std::int64_t>)
    return "<i8";
  else if constexpr (std::is_same_v<T, bool>)
    return "|b1";
  else
    static_assert(detail::always_false<T>, "rlhash arrays hold float, double, (u)int8, int16/32/64 or bool");
}

/// The dtypes the readers and writers support, for error messages.
inline const char* supported_dtypes() { return "<f4, <f8, |u1, |i1, <i2, <i4, <i8, |b1"; }

/// Calls `f(detail::TypeTag<T>{})` with the C++ type of `dtype`; InvalidArgument when unsupported.
template <class F>
decltype(auto) visit_dtype(const std::string& dtype, F&& f) {
  if (dtype == "<f4") return f(detail::TypeTag<float>{});
  if (dtype == "<f8") return f(detail::TypeTag<double>{});
  if (dtype == "|u1") return f(detail::TypeTag<std::uint8_t>{});
  if (dtype == "|i1") return f(detail::TypeTag<std::int8_t>{});
  if (dtype == "<i2") return f(detail::TypeTag<std::int16_t>{});
  if (dtype == "<i4") return f(detail::TypeTag<std::int32_t>{});
  if (dtype == "<i8") return f(detail::TypeTag<std::int64_t>{});
  if (dtype == "|b1") return f(detail::TypeTag<bool>{});
  throw InvalidArgument("unsupported dtype '" + dtype + "' (expected one of " + supported_dtypes() + ")");
}

inline bool is_supported_dtype(const std::string& dtype) {
  for (const char* known : {"<f4", "<f8", "|u1", "|i1", "<i2", "<i4", "<i8", "|b1"})
    if (dtype == known) return true;
  return false;
}

inline std::size_t dtype_itemsize(const std::string& dtype) {
  return visit_dtype(dtype, [](auto tag) { return sizeof(typename decltype(tag)::type); });
}

namespace detail {

inline std::string shape_text(const std::vector<Index>& shape) {
  std::string text = "[";
  for (std::size_t k = 0; k < shape.size(); ++k) text += (k ? ", " : "") + std::to_string(shape[k]);
  return text + "]";
}

/// "00 00 1f": bytes in hex, for error messages about magics.
inline std::string hex_bytes(const char* data, std::size_t size) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (i > 0) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

/// Bytes of an array of `shape` and `itemsize`; FormatError naming `source` on a negative
/// dimension or a size that overflows (zero dimensions included, so flattened products of any
/// subset of the axes stay within Index).
inline std::size_t array_bytes(const std::vector<Index>& shape, std::size_t itemsize,
                               const std::string& source) {
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Index>::max()) / itemsize;
  std::uint64_t nonzero = 1;
  bool empty = false;
  for (const Index dim : shape) {
    if (dim < 0)
      throw FormatError("'" + source + "': expected non-negative dimensions, found shape " +
                        shape_text(shape));
    if (dim == 0)
      empty = true;
    else if (nonzero > limit / static_cast<std::uint64_t>(dim))
      throw FormatError("'" + source + "': shape " + shape_text(shape) + " is too large to address");
    else
      nonzero *= static_cast<std::uint64_t>(dim);
  }
  return empty ? 0 : static_cast<std::size_t>(nonzero * itemsize);
}

/// The header check .npy and IDX share: the declared shape times the item size must be exactly
/// the payload, so a truncated file or a lying header is a FormatError, never an overread.
inline void check_payload(const std::vector<Index>& shape, const std::string& dtype, std::size_t payload,
                          const std::string& source) {
  const std::size_t expected = array_bytes(shape, dtype_itemsize(dtype), source);
  if (expected == payload) return;
  throw FormatError("'" + source + "': header declares shape " + shape_text(shape) + " of " + dtype + " (" +
                    std::to_string(expected) + " bytes of data), but the file holds " +
                    std::to_string(payload) +
                    (payload < expected ? " (truncated file?)" : " (extra bytes after the array)"));
}

/// numpy writes bools as bytes 0/1; any other byte would be an invalid C++ bool.
inline void check_bool_payload(const char* data, std::size_t size, const std::string& source) {
  for (std::size_t i = 0; i < size; ++i)
    if (static_cast<unsigned char>(data[i]) > 1)
      throw FormatError("'" + source + "': bool element " + std::to_string(i) + " has byte value " +
                        std::to_string(static_cast<unsigned char>(data[i])) + ", expected 0 or 1");
}

/// True when `value` is exactly representable as `To` (integers: in range; from floating
/// point: finite and integral). Floating-point targets take anything.
template <class To, class From>
bool fits(From value) {
  if constexpr (std::is_floating_point_v<To>) {
    return true;
  } else if constexpr (std::is_floating_point_v<From>) {
    if (!std::isfinite(value) || value != std::trunc(value)) return false;
    const double limit = std::ldexp(1.0, std::numeric_limits<To>::digits);  // max + 1
    return value >= (std::is_signed_v<To> ? -limit : 0.0) && value < limit;
  } else {
    if constexpr (std::is_signed_v<From>) {
      if (value < 0) {
        if constexpr (std::is_signed_v<To>)
          return static_cast<std::int64_t>(value) >=
                 static_cast<std::int64_t>(std::numeric_limits<To>::min());
        else
          return false;
      }
    }
    return static_cast<std::uint64_t>(value) <= static_cast<std::uint64_t>(std::numeric_limits<To>::max());
  }
}

template <class T>
std::string value_text(T value) {
  if constexpr (std::is_floating_point_v<T>)
    return std::to_string(static_cast<double>(value));
  else if constexpr (std::is_signed_v<T>)
    return std::to_string(static_cast<std::int64_t>(value));
  else
    return std::to_string(static_cast<std::uint64_t>(value));
}

/// Converts `count` little-endian elements of `dtype` at `bytes` (any alignment) into `out`.
/// Integer targets reject values they cannot hold exactly (FormatError naming `source`).
template <class To>
void convert_elements(const char* bytes, const std::string& dtype, std::size_t count, To* out,
                      const std::string& source) {
  visit_dtype(dtype, [&](auto tag) {
    using From = typename decltype(tag)::type;
    if constexpr (std::is_same_v<From, To>) {
      if (count > 0) std::memcpy(out, bytes, count * sizeof(To));
    } else {
      // Bools load as bytes: the payload was checked to be 0/1 when it was read.
      using Load = std::conditional_t<std::is_same_v<From, bool>, std::uint8_t, From>;
      for (std::size_t i = 0; i < count; ++i) {
        Load value;
        std::memcpy(&value, bytes + i * sizeof(Load), sizeof(Load));
        if constexpr (!std::is_floating_point_v<To>) {
          if (!fits<To>(value))
            throw FormatError("'" + source + "': element " + std::to_string(i) + " = " + value_text(value) +
                              " of dtype " + dtype + " does not fit " + dtype_of<To>());
        }
        out[i] = static_cast<To>(value);
      }
    }
  });
}

/// Items along the first axis, the other axes flattened: [N, ...] -> D x N, [N] -> 1 x N.
inline std::pair<Index, Index> items_and_dims(const std::vector<Index>& shape) {
  if (shape.empty()) return {1, 1};
  Index dims = 1;
  for (std::size_t k = 1; k < shape.size(); ++k) dims *= shape[k];
  return {shape[0], dims};
}

/// A 64-byte aligned, zero-initialised byte buffer with value semantics.
class AlignedBytes {
 public:
  AlignedBytes() = default;
  explicit AlignedBytes(std::size_t size, bool zero = true) : size_(size) {
    if (size == 0) return;
    data_.reset(static_cast<char*>(std::aligned_alloc(64, (size + 63) / 64 * 64)));
    if (!data_) throw std::bad_alloc();
    if (zero) std::memset(data_.get(), 0, size);
  }
  AlignedBytes(const AlignedBytes& other) : AlignedBytes(other.size_, false) {
    if (size_ > 0) std::memcpy(data_.get(), other.data_.get(), size_);
  }
  AlignedBytes& operator=(const AlignedBytes& other) {
    if (this != &other) *this = AlignedBytes(other);
    return *this;
  }
  AlignedBytes(AlignedBytes&& other) noexcept
      : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}
  AlignedBytes& operator=(AlignedBytes&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace detail

/// A dense C-order array: dtype, shape and a 64-byte aligned little-endian payload.
class NdArray {
 public:
  NdArray() = default;
  /// A zero-filled array; InvalidArgument for an unknown dtype or a negative dimension.
  NdArray(std::string dtype, std::vector<Index> shape) : NdArray(std::move(dtype), std::move(shape), true) {}
  /// An array whose payload the caller fills right away (readers: skips zeroing large buffers).
  static NdArray uninitialized(std::string dtype, std::vector<Index> shape) {
    return NdArray(std::move(dtype), std::move(shape), false);
  }
  /// A copy of `count` elements at `data` in the given shape.
  template <class T>
  static NdArray from_data(const T* data, std::vector<Index> shape) {
    NdArray array = uninitialized(dtype_of<T>(), std::move(shape));
    if (array.nbytes() > 0) std::memcpy(array.bytes(), data, array.nbytes());
    return array;
  }

  const std::string& dtype() const { return dtype_; }
  const std::vector<Index>& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  std::size_t itemsize() const { return itemsize_; }
  /// Number of elements.
  Index size() const { return static_cast<Index>(bytes_.size() / itemsize_); }
  std::size_t nbytes() const { return bytes_.size(); }
  char* bytes() { return bytes_.data(); }
  const char* bytes() const { return bytes_.data(); }

  /// The elements as `T`; InvalidArgument unless `T` is exactly this array's dtype.
  template <class T>
  const T* data() const {
    check_type<T>();
    return reinterpret_cast<const T*>(bytes_.data());
  }
  template <class T>
  T* data() {
    check_type<T>();
    return reinterpret_cast<T*>(bytes_.data());
  }

  /// A D x N matrix from [N, ...] (other axes flattened; [N] gives 1 x N), converted from any
  /// dtype. Integer targets reject values they cannot hold exactly; errors name `source`.
  template <class T>
  Matrix<T> to_matrix(const std::string& source = "array") const {
    const auto [items, dims] = detail::items_and_dims(shape_);
    Matrix<T> out(dims, items);
    detail::convert_elements(bytes(), dtype_, bytes_.size() / itemsize_, out.data(), source);
    return out;
  }
  /// All elements in C order, converted like to_matrix.
  template <class T>
  std::vector<T> to_vector(const std::string& source = "array") const {
    std::vector<T> out(static_cast<std::size_t>(size()));
    detail::convert_elements(bytes(), dtype_, out.size(), out.data(), source);
    return out;
  }

 private:
  NdArray(std::string dtype, std::vector<Index> shape, bool zero)
      : dtype_(std::move(dtype)), shape_(std::move(shape)) {
    itemsize_ = dtype_itemsize(dtype_);
    for (const Index dim : shape_)
      if (dim < 0)
        throw InvalidArgument("array shape " + detail::shape_text(shape_) + " has a negative dimension");
    bytes_ = detail::AlignedBytes(detail::array_bytes(shape_, itemsize_, "array shape"), zero);
  }
  template <class T>
  void check_type() const {
    if (dtype_ != dtype_of<T>())
      throw InvalidArgument(std::string("array of dtype ") + dtype_ + " accessed as " + dtype_of<T>());
  }

  std::string dtype_ = "|u1";
  std::vector<Index> shape_;
  std::size_t itemsize_ = 1;
  detail::AlignedBytes bytes_;
};

}  // namespace rlhash
