#pragma once
/// \file
/// numpy's `.npz`: a zip archive (PKWARE APPNOTE 6.3) of `<name>.npy` entries. Reads stored
/// and deflate entries (np.savez / np.savez_compressed; deflate needs zlib), zip64 fields
/// included; writes stored entries with CRC-32, atomically.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/checksum.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/io/inflate.hpp"
#include "rlhash/io/mapped_file.hpp"
#include "rlhash/io/npy.hpp"

namespace rlhash {

/// One member of a zip archive, as its central directory describes it.
struct ZipEntry {
  std::string name;
  std::uint16_t method = 0;  // 0 stored, 8 deflate
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t size = 0;
  std::uint64_t local_offset = 0;
};

namespace detail {

constexpr std::uint32_t zip_local_magic = 0x04034b50;
constexpr std::uint32_t zip_central_magic = 0x02014b50;
constexpr std::uint32_t zip_end_magic = 0x06054b50;
constexpr std::uint32_t zip64_end_magic = 0x06064b50;
constexpr std::uint32_t zip64_locator_magic = 0x07064b50;

/// Replaces 0xFFFFFFFF placeholders by the values of a zip64 extra field (id 1), in the order
/// the format fixes: size, compressed size, local header offset.
inline void read_zip64_extra(ByteReader extra, ZipEntry& entry) {
  while (extra.remaining() >= 4) {
    const auto id = extra.get<std::uint16_t>();
    const auto length = extra.get<std::uint16_t>();
    ByteReader field(extra.take(length, "a zip extra field"), length, extra.source());
    if (id != 1) continue;
    if (entry.size == 0xFFFFFFFFU) entry.size = field.get<std::uint64_t>();
    if (entry.compressed_size == 0xFFFFFFFFU) entry.compressed_size = field.get<std::uint64_t>();
    if (entry.local_offset == 0xFFFFFFFFU) entry.local_offset = field.get<std::uint64_t>();
  }
}

}  // namespace detail

/// Lists the members of a zip archive held in memory from its central directory; FormatError
/// naming `source` for anything malformed, encrypted or split over several disks.
inline std::vector<ZipEntry> parse_zip_directory(const char* data, std::size_t size,
                                                 const std::string& source) {
  const std::string where = "'" + source + "': ";
  // The end record (22 bytes + a comment of up to 64 KiB) is found by scanning back for its magic.
  std::size_t end = std::string::npos;
  for (std::size_t back = 22; back <= size && back <= 22 + 0xFFFF; ++back) {
    std::uint32_t magic;
    std::memcpy(&magic, data + size - back, 4);
    if (magic == detail::zip_end_magic) {
      end = size - back;
      break;
    }
  }
  if (end == std::string::npos)
    throw FormatError(where + "not a zip/.npz archive (expected an end-of-central-directory record)");
  ByteReader tail(data + end + 4, size - end - 4, source);
  const auto disk = tail.get<std::uint16_t>();
  const auto directory_disk = tail.get<std::uint16_t>();
  tail.get<std::uint16_t>();  // entries on this disk
  std::uint64_t count = tail.get<std::uint16_t>();
  std::uint64_t directory_size = tail.get<std::uint32_t>();
  std::uint64_t directory_offset = tail.get<std::uint32_t>();
  if (disk != 0 || directory_disk != 0)
    throw FormatError(where + "multi-disk zip archives are not supported");
  if ((count == 0xFFFF || directory_size == 0xFFFFFFFFU || directory_offset == 0xFFFFFFFFU) && end >= 20) {
    ByteReader locator(data + end - 20, 20, source);
    if (locator.get<std::uint32_t>() == detail::zip64_locator_magic) {
      locator.get<std::uint32_t>();
      const auto offset = locator.get<std::uint64_t>();
      if (offset > size)
        throw FormatError(where + "zip64 end record offset " + std::to_string(offset) + " is past the end");
      ByteReader record(data + offset, size - offset, source);
      if (record.get<std::uint32_t>() != detail::zip64_end_magic)
        throw FormatError(where + "expected a zip64 end record");
      record.take(8 + 2 + 2 + 4 + 4 + 8, "a zip64 end record");
      count = record.get<std::uint64_t>();
      directory_size = record.get<std::uint64_t>();
      directory_offset = record.get<std::uint64_t>();
    }
  }
  if (directory_offset > size || directory_size > size - directory_offset)
    throw FormatError(where + "central directory of " + std::to_string(directory_size) + " bytes at offset " +
                      std::to_string(directory_offset) + " lies outside the " + std::to_string(size) +
                      "-byte file (truncated?)");
  ByteReader directory(data + directory_offset, directory_size, source);
  std::vector<ZipEntry> entries;
  for (std::uint64_t k = 0; k < count; ++k) {
    if (directory.remaining() < 46 || directory.get<std::uint32_t>() != detail::zip_central_magic)
      throw FormatError(where + "expected central directory entry " + std::to_string(k) + " of " +
                        std::to_string(count));
    directory.take(4, "zip version fields");
    const auto flags = directory.get<std::uint16_t>();
    ZipEntry entry;
    entry.method = directory.get<std::uint16_t>();
    directory.take(4, "zip time fields");
    entry.crc = directory.get<std::uint32_t>();
    entry.compressed_size = directory.get<std::uint32_t>();
    entry.size = directory.get<std::uint32_t>();
    const auto name_length = directory.get<std::uint16_t>();
    const auto extra_length = directory.get<std::uint16_t>();
    const auto comment_length = directory.get<std::uint16_t>();
    directory.take(8, "zip attribute fields");
    entry.local_offset = directory.get<std::uint32_t>();
    entry.name.assign(directory.take(name_length, "a zip entry name"), name_length);
    detail::read_zip64_extra(
        ByteReader(directory.take(extra_length, "zip extra fields"), extra_length, source), entry);
    directory.take(comment_length, "a zip entry comment");
    if (flags & 1U) throw FormatError(where + "entry '" + entry.name + "' is encrypted");
    entries.push_back(std::move(entry));
  }
  return entries;
}

/// The stored (possibly compressed) bytes of `entry`, after its local header.
inline const char* zip_entry_data(const char* data, std::size_t size, const ZipEntry& entry,
                                  const std::string& source) {
  const std::string where = "'" + source + "' entry '" + entry.name + "': ";
  if (entry.local_offset > size) throw FormatError(where + "local header offset is past the end of the file");
  ByteReader local(data + entry.local_offset, size - entry.local_offset, source);
  if (local.get<std::uint32_t>() != detail::zip_local_magic)
    throw FormatError(where + "expected a local file header");
  local.take(22, "a zip local header");
  const auto name_length = local.get<std::uint16_t>();
  const auto extra_length = local.get<std::uint16_t>();
  local.take(std::size_t{name_length} + extra_length, "a zip entry name");
  if (entry.compressed_size > local.remaining())
    throw FormatError(where + std::to_string(entry.compressed_size) + " bytes of data declared, " +
                      std::to_string(local.remaining()) + " present (truncated?)");
  return local.take(static_cast<std::size_t>(entry.compressed_size), "zip entry data");
}

/// Deflate expands at most ~1032:1, so a larger declared size is a lie, not a reason to allocate.
inline bool declared_size_plausible(const ZipEntry& entry) {
  return entry.method == 0 ? entry.size == entry.compressed_size
                           : entry.method != 8 || entry.size <= entry.compressed_size * 1032 + 1024;
}

/// The uncompressed bytes of `entry`, CRC-checked.
inline std::vector<char> read_zip_entry(const char* data, std::size_t size, const ZipEntry& entry,
                                        const std::string& source) {
  const std::string where = "'" + source + "' entry '" + entry.name + "': ";
  const char* stored = zip_entry_data(data, size, entry, source);
  if (entry.method != 0 && entry.method != 8)
    throw FormatError(where + "compression method " + std::to_string(entry.method) +
                      " is not supported (expected 0 stored or 8 deflate)");
  if (!declared_size_plausible(entry))
    throw FormatError(where + "declared size " + std::to_string(entry.size) + " does not fit its " +
                      std::to_string(entry.compressed_size) + " stored bytes");
  std::vector<char> bytes(static_cast<std::size_t>(entry.size));
  if (entry.method == 0) {
    if (!bytes.empty()) std::memcpy(bytes.data(), stored, bytes.size());
  } else {
    detail::inflate_raw(stored, static_cast<std::size_t>(entry.compressed_size), bytes.data(), bytes.size(),
                        source + ":" + entry.name);
  }
  if (crc32(bytes.data(), bytes.size()) != entry.crc)
    throw FormatError(where + "CRC-32 mismatch (corrupted data)");
  return bytes;
}

/// An .npz archive opened for reading arrays by name.
class NpzArchive {
 public:
  explicit NpzArchive(const std::string& path) : NpzArchive(MappedFile(path)) {}
  /// An archive already in memory (`source` names it in errors).
  NpzArchive(std::vector<char> bytes, std::string source)
      : NpzArchive(MappedFile(std::move(bytes), std::move(source))) {}
  explicit NpzArchive(MappedFile file)
      : file_(std::move(file)), entries_(parse_zip_directory(file_.data(), file_.size(), file_.path())) {}

  /// The array names: entry names without the ".npy" suffix, in archive order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(strip(entry.name));
    return out;
  }
  bool contains(const std::string& name) const { return find(name) != nullptr; }

  /// The array `name` ("x" or "x.npy"); FormatError listing the names when there is none.
  NdArray read(const std::string& name) const {
    const ZipEntry* entry = find(name);
    if (entry == nullptr) {
      std::string known;
      for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
      throw FormatError("'" + file_.path() + "' has no array '" + name + "' (it holds: " + known + ")");
    }
    const std::string source = file_.path() + ":" + entry->name;
    // A large compressed entry is checked against its .npy header before it is inflated, so a
    // small archive cannot make the reader allocate and inflate gigabytes first.
    if (entry->method == 8 && entry->size > (std::uint64_t{1} << 20) && declared_size_plausible(*entry))
      check_npy_header_first(*entry, source);
    const std::vector<char> bytes = read_zip_entry(file_.data(), file_.size(), *entry, file_.path());
    return parse_npy(bytes.data(), bytes.size(), source);
  }

 private:
  static std::string strip(const std::string& name) {
    return name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0 ? name.substr(0, name.size() - 4)
                                                                            : name;
  }
  /// Inflates only the .npy header of a compressed entry and checks the shape it declares
  /// against the entry's size, so a lying archive is refused before the entry is inflated.
  void check_npy_header_first(const ZipEntry& entry, const std::string& source) const {
    constexpr std::size_t longest_v1_header = 10 + 0xFFFF;
    const char* stored = zip_entry_data(file_.data(), file_.size(), entry, file_.path());
    std::vector<char> head(static_cast<std::size_t>(std::min<std::uint64_t>(entry.size, longest_v1_header)));
    head.resize(detail::inflate_raw_prefix(stored, static_cast<std::size_t>(entry.compressed_size),
                                           head.data(), head.size(), source));
    parse_npy_header(head.data(), head.size(), source, static_cast<std::size_t>(entry.size));
  }
  const ZipEntry* find(const std::string& name) const {
    for (const auto& entry : entries_)
      if (entry.name == name || strip(entry.name) == name) return &entry;
    return nullptr;
  }

  MappedFile file_;
  std::vector<ZipEntry> entries_;
};

inline NdArray read_npz(const std::string& path, const std::string& name) {
  return NpzArchive(path).read(name);
}

/// The bytes of an .npz holding `arrays` as stored (uncompressed) `<name>.npy` entries.
inline std::vector<char> npz_bytes(const std::vector<std::pair<std::string, NdArray>>& arrays) {
  ByteWriter out;
  ByteWriter directory;
  for (std::size_t k = 0; k < arrays.size(); ++k) {
    const auto& [name, array] = arrays[k];
    if (name.empty()) throw InvalidArgument("write_npz: array " + std::to_string(k) + " has an empty name");
    for (std::size_t j = 0; j < k; ++j)
      if (arrays[j].first == name) throw InvalidArgument("write_npz: the name '" + name + "' appears twice");
    const std::string file_name = name + ".npy";
    const std::vector<char> npy = npy_bytes(array.dtype(), array.shape(), array.bytes());
    const std::uint64_t offset = out.bytes().size();
    if (file_name.size() > 0xFFFF || npy.size() >= 0xFFFFFFFFU || offset >= 0xFFFFFFFFU ||
        arrays.size() >= 0xFFFF)
      throw InvalidArgument(
          "write_npz: archives over 4 GiB or 65535 arrays need zip64, which the writer "
          "does not produce; write .npy files instead");
    const std::uint32_t crc = crc32(npy.data(), npy.size());
    // Shared fields of the local header and the central directory entry: version 2.0 needed,
    // no flags, stored, DOS time 00:00 of 1980-01-01 (deterministic output), crc, sizes, name length.
    auto common = [&](ByteWriter& w) {
      w.put<std::uint16_t>(20);
      w.put<std::uint16_t>(0);
      w.put<std::uint16_t>(0);
      w.put<std::uint16_t>(0);
      w.put<std::uint16_t>(0x21);
      w.put<std::uint32_t>(crc);
      w.put<std::uint32_t>(static_cast<std::uint32_t>(npy.size()));
      w.put<std::uint32_t>(static_cast<std::uint32_t>(npy.size()));
      w.put<std::uint16_t>(static_cast<std::uint16_t>(file_name.size()));
    };
    out.put<std::uint32_t>(detail::zip_local_magic);
    common(out);
    out.put<std::uint16_t>(0);  // extra length
    out.append(file_name.data(), file_name.size());
    out.append(npy.data(), npy.size());

    directory.put<std::uint32_t>(detail::zip_central_magic);
    directory.put<std::uint16_t>(20);  // version made by
    common(directory);
    for (int field = 0; field < 4; ++field)
      directory.put<std::uint16_t>(0);  // extra, comment, disk, internal attributes
    directory.put<std::uint32_t>(0);    // external attributes
    directory.put<std::uint32_t>(static_cast<std::uint32_t>(offset));
    directory.append(file_name.data(), file_name.size());
  }
  const std::uint64_t directory_offset = out.bytes().size();
  if (directory_offset + directory.bytes().size() >= 0xFFFFFFFFU)
    throw InvalidArgument("write_npz: archives over 4 GiB need zip64, which the writer does not produce");
  out.append(directory.bytes().data(), directory.bytes().size());
  out.put<std::uint32_t>(detail::zip_end_magic);
  out.put<std::uint16_t>(0);
  out.put<std::uint16_t>(0);
  out.put<std::uint16_t>(static_cast<std::uint16_t>(arrays.size()));
  out.put<std::uint16_t>(static_cast<std::uint16_t>(arrays.size()));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(directory.bytes().size()));
  out.put<std::uint32_t>(static_cast<std::uint32_t>(directory_offset));
  out.put<std::uint16_t>(0);  // comment length
  return std::move(out.bytes());
}

/// Writes `arrays` (name, array) as an uncompressed .npz, atomically; np.load reads it.
inline void write_npz(const std::string& path, const std::vector<std::pair<std::string, NdArray>>& arrays) {
  write_file_atomic(path, npz_bytes(arrays));
}

}  // namespace rlhash
