#pragma once
/// \file
/// Little-endian binary serialization and the checksummed envelope every rlhash file uses
/// (models `.rlh`, checkpoints, indexes):
///
///     magic[8] | u32 format_version | u64 payload_size | payload | u32 crc32(all before)
///
/// Readers check every length against what is left, so a truncated or lying file is a
/// FormatError naming the file, never an out-of-bounds read.
#include <Eigen/Core>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "rlhash/core/checksum.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"

namespace rlhash {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "rlhash files assume IEEE-754 floats");

/// Appends little-endian values to a byte buffer.
class ByteWriter {
 public:
  template <class T>
  void put(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>, "put() takes plain values");
    append(&value, sizeof value);
  }
  void put_string(const std::string& text) {
    put<std::uint64_t>(text.size());
    append(text.data(), text.size());
  }
  template <class T>
  void put_vector(const std::vector<T>& values) {
    static_assert(std::is_trivially_copyable_v<T>, "put_vector() takes plain values");
    put<std::uint64_t>(values.size());
    append(values.data(), values.size() * sizeof(T));
  }
  /// Rows, columns, then the column-major coefficients.
  template <class Derived>
  void put_matrix(const Eigen::MatrixBase<Derived>& matrix) {
    using Scalar = typename Derived::Scalar;
    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> dense = matrix;
    put<std::uint8_t>(sizeof(Scalar));
    put<std::int64_t>(dense.rows());
    put<std::int64_t>(dense.cols());
    append(dense.data(), static_cast<std::size_t>(dense.size()) * sizeof(Scalar));
  }
  void append(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), bytes, bytes + size);
  }
  const std::vector<char>& bytes() const { return buffer_; }
  std::vector<char>& bytes() { return buffer_; }

 private:
  std::vector<char> buffer_;
};

/// Reads what a ByteWriter wrote, checking every length; errors name `source`.
class ByteReader {
 public:
  ByteReader(const char* data, std::size_t size, std::string source)
      : data_(data), size_(size), source_(std::move(source)) {}

  template <class T>
  T get() {
    static_assert(std::is_trivially_copyable_v<T>, "get() returns plain values");
    T value;
    std::memcpy(&value, take(sizeof(T), "a value"), sizeof(T));
    return value;
  }
  std::string get_string() {
    const auto size = checked_count(get<std::uint64_t>(), 1, "a string");
    const char* bytes = take(size, "a string");
    return std::string(bytes, size);
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto count = checked_count(get<std::uint64_t>(), sizeof(T), "an array");
    std::vector<T> values(count);
    if (count > 0) std::memcpy(values.data(), take(count * sizeof(T), "an array"), count * sizeof(T));
    return values;
  }
  template <class Scalar>
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> get_matrix() {
    const auto scalar_size = get<std::uint8_t>();
    if (scalar_size != sizeof(Scalar))
      fail("a matrix of " + std::to_string(sizeof(Scalar)) + "-byte scalars, found " +
           std::to_string(scalar_size) + "-byte scalars");
    const auto rows = get<std::int64_t>();
    const auto cols = get<std::int64_t>();
    if (rows < 0 || cols < 0) fail("a matrix shape, found negative dimensions");
    const auto r = static_cast<std::uint64_t>(rows), c = static_cast<std::uint64_t>(cols);
    if (c != 0 && r > remaining() / sizeof(Scalar) / c)
      fail("a matrix of " + std::to_string(rows) + " x " + std::to_string(cols) +
           ", but the data is too short (truncated?)");
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> matrix(rows, cols);
    const std::size_t bytes = static_cast<std::size_t>(matrix.size()) * sizeof(Scalar);
    if (bytes > 0) std::memcpy(matrix.data(), take(bytes, "matrix data"), bytes);
    return matrix;
  }
  const char* take(std::size_t size, const char* what) {
    if (size > remaining())
      fail(std::string(what) + " of " + std::to_string(size) + " bytes at offset " + std::to_string(offset_) +
           ", but only " + std::to_string(remaining()) + " remain (truncated?)");
    const char* start = data_ + offset_;
    offset_ += size;
    return start;
  }
  std::size_t remaining() const { return size_ - offset_; }
  std::size_t offset() const { return offset_; }
  const std::string& source() const { return source_; }
  /// Throws a FormatError: "'<source>': expected <what>".
  [[noreturn]] void fail(const std::string& expected) const {
    throw FormatError("'" + source_ + "': expected " + expected);
  }
  /// Fails unless every byte was consumed.
  void expect_end() const {
    if (remaining() != 0) fail("end of data, found " + std::to_string(remaining()) + " extra bytes");
  }

 private:
  std::size_t checked_count(std::uint64_t count, std::size_t element_size, const char* what) {
    if (element_size > 0 && count > remaining() / element_size)
      fail(std::string(what) + " of " + std::to_string(count) + " elements, but only " +
           std::to_string(remaining()) + " bytes remain (truncated?)");
    return static_cast<std::size_t>(count);
  }
  const char* data_;
  std::size_t size_;
  std::size_t offset_ = 0;
  std::string source_;
};

/// The envelope around a payload: a magic of exactly 8 characters names the file kind.
struct Envelope {
  std::string magic;          // e.g. "RLHMODEL"
  std::uint32_t version = 1;  // the format version of the payload
};

/// Wraps `payload` in the envelope and writes it atomically to `path`.
inline void write_enveloped(const std::string& path, const Envelope& envelope,
                            const std::vector<char>& payload) {
  if (envelope.magic.size() != 8) throw InvalidArgument("envelope magic must have 8 characters");
  ByteWriter out;
  out.append(envelope.magic.data(), 8);
  out.put<std::uint32_t>(envelope.version);
  out.put<std::uint64_t>(payload.size());
  out.append(payload.data(), payload.size());
  out.put<std::uint32_t>(crc32(out.bytes().data(), out.bytes().size()));
  write_file_atomic(path, out.bytes());
}

/// Checks magic, version (must be <= `max_version`), length and checksum of an enveloped file
/// already in memory; returns the payload's offset and size and the version found.
struct EnvelopeView {
  std::size_t payload_offset = 0;
  std::size_t payload_size = 0;
  std::uint32_t version = 0;
};

namespace detail {
inline constexpr std::size_t envelope_header_size = 8 + 4 + 8;

/// Checks the magic and version at the start of an enveloped file; returns the declared payload
/// size. `size` may be just the header's.
inline std::uint64_t envelope_declared_size(const char* data, std::size_t size, const std::string& source,
                                            const std::string& magic, std::uint32_t max_version) {
  if (size < envelope_header_size || std::memcmp(data, magic.data(), 8) != 0)
    throw FormatError("'" + source + "' is not an rlhash " + magic + " file (bad magic or too short)");
  ByteReader reader(data + 8, envelope_header_size - 8, source);
  const auto version = reader.get<std::uint32_t>();
  if (version == 0 || version > max_version)
    throw FormatError("'" + source + "': format version " + std::to_string(version) +
                      " is not supported (this build reads versions 1.." + std::to_string(max_version) + ")");
  return reader.get<std::uint64_t>();
}
}  // namespace detail

inline EnvelopeView open_envelope(const std::vector<char>& bytes, const std::string& source,
                                  const std::string& magic, std::uint32_t max_version) {
  constexpr std::size_t header = detail::envelope_header_size;
  const auto payload_size =
      detail::envelope_declared_size(bytes.data(), bytes.size(), source, magic, max_version);
  if (bytes.size() < header + 4 || payload_size != bytes.size() - header - 4)
    throw FormatError("'" + source + "': payload of " + std::to_string(payload_size) + " bytes declared, " +
                      std::to_string(bytes.size() < header + 4 ? 0 : bytes.size() - header - 4) +
                      " present (truncated or padded file)");
  std::uint32_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  if (crc32(bytes.data(), bytes.size() - 4) != stored)
    throw FormatError("'" + source + "': checksum mismatch (the file is corrupted)");
  EnvelopeView view;
  std::memcpy(&view.version, bytes.data() + 8, sizeof view.version);
  view.payload_offset = header;
  view.payload_size = static_cast<std::size_t>(payload_size);
  return view;
}

/// Reads an enveloped file, checking its magic, version and declared size before the payload is
/// read: a foreign file, a device such as /dev/zero or a file larger than its header declares is
/// a FormatError after reading 20 bytes, never a whole-file read. The checksum is checked by
/// open_envelope on the bytes returned.
inline std::vector<char> read_enveloped_file(const std::string& path, const std::string& magic,
                                             std::uint32_t max_version) {
  const detail::FileHandle file(path, O_RDONLY);
  if (!file.is_open()) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
  std::vector<char> header(detail::envelope_header_size);
  header.resize(detail::read_up_to(file.fd(), header.data(), header.size(), path));
  const auto declared =
      detail::envelope_declared_size(header.data(), header.size(), path, magic, max_version);
  // One byte beyond the declared size is read so that a padded file is reported as such.
  if (declared > std::numeric_limits<std::size_t>::max() / 4)
    throw FormatError("'" + path + "': payload of " + std::to_string(declared) +
                      " bytes declared (corrupted?)");
  std::vector<char> rest = detail::read_rest(file.fd(), path, static_cast<std::size_t>(declared) + 4 + 1);
  header.insert(header.end(), rest.begin(), rest.end());
  return header;
}

}  // namespace rlhash
