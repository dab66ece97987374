#pragma once
/// \file
/// HammingIndex: binary codes with caller-chosen int64 ids; add, remove by id, exact kNN and
/// range search returning ids, and a file format that can be memory-mapped.
///
/// Optional multi-index tables (build_tables(), multi_index.hpp) make kNN and range search
/// sublinear; they follow every add and remove, are saved with the index and loaded with it.
///
/// File layout (little-endian; version 1 without tables, 2 with them), designed so the code
/// block can be used in place:
///
///     offset   0  magic "RLHINDEX"
///              8  u32 version            12  u32 header size (128)
///             16  u32 bits               20  u32 words per code
///             24  u64 count              32  u64 codes offset (128, 64-byte aligned)
///             40  u64 codes bytes        48  u64 ids offset (64-byte aligned)
///             56  u64 ids bytes          64  u64 file size
///             72  u32 crc32(codes)       76  u32 crc32(ids)
///             80  u32 substrings (0: no tables)                 84  u32 crc32(tables)
///             88  u64 tables offset (64-byte aligned)           96  u64 tables bytes
///            104  reserved, zero        124  u32 crc32(header bytes 0..123)
///            128  codes (count x words u64) | zero padding to 64 | ids (count x i64)
///                 | zero padding to 64 | tables (substrings x count u32 database positions
///                 in table order; the buckets are rebuilt and checked from them on loading)
///
/// open_mmap() checks only the header (its checksum, and every offset and size against the file
/// size), so opening costs one page whatever the size; verify() checks the code and id blocks'
/// checksums, the zero tail bits and the uniqueness of ids. load() does all of it. Corrupted,
/// foreign or truncated files are FormatErrors naming the file. Files are written atomically.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/checksum.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/multi_index.hpp"
#include "rlhash/search/range.hpp"
#include "rlhash/search/search_plan.hpp"

namespace rlhash {

namespace detail {

/// A growable 64-byte aligned array of code words.
class AlignedWords {
 public:
  AlignedWords() = default;
  AlignedWords(const AlignedWords& other) { append(other.data(), other.size_); }
  AlignedWords& operator=(const AlignedWords& other) {
    if (this != &other) {
      size_ = 0;
      append(other.data(), other.size_);
    }
    return *this;
  }
  AlignedWords(AlignedWords&&) noexcept = default;
  AlignedWords& operator=(AlignedWords&&) noexcept = default;

  const std::uint64_t* data() const { return data_.get(); }
  std::uint64_t* data() { return data_.get(); }
  std::size_t size() const { return size_; }
  void resize(std::size_t size) {
    reserve(size);
    size_ = size;
  }
  void append(const std::uint64_t* words, std::size_t count) {
    if (count == 0) return;
    reserve(size_ + count);
    std::memcpy(data_.get() + size_, words, count * sizeof(std::uint64_t));
    size_ += count;
  }

 private:
  struct FreeAligned {
    void operator()(std::uint64_t* p) const { std::free(p); }
  };
  void reserve(std::size_t count) {
    if (count <= capacity_) return;
    const std::size_t capacity = std::max<std::size_t>({count, 2 * capacity_, 64});
    const std::size_t bytes = (capacity * sizeof(std::uint64_t) + 63) / 64 * 64;
    std::unique_ptr<std::uint64_t[], FreeAligned> fresh(
        static_cast<std::uint64_t*>(std::aligned_alloc(64, bytes)));
    if (!fresh) throw std::bad_alloc();
    if (size_ > 0) std::memcpy(fresh.get(), data_.get(), size_ * sizeof(std::uint64_t));
    data_ = std::move(fresh);
    capacity_ = capacity;
  }
  std::unique_ptr<std::uint64_t[], FreeAligned> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

/// A read-only mapping of a whole file, unmapped when the last owner goes.
struct FileMapping {
  void* base = nullptr;
  std::size_t length = 0;
  FileMapping() = default;
  FileMapping(const FileMapping&) = delete;
  FileMapping& operator=(const FileMapping&) = delete;
  ~FileMapping() {
    if (base != nullptr && length > 0) ::munmap(base, length);
  }
};

constexpr std::size_t index_header_size = 128;
constexpr std::uint32_t index_format_version = 2;

inline std::uint64_t align64(std::uint64_t offset) { return (offset + 63) / 64 * 64; }

struct IndexHeader {
  std::uint32_t bits = 0;
  std::uint32_t words = 0;
  std::uint64_t count = 0;
  std::uint64_t codes_offset = 0, codes_bytes = 0;
  std::uint64_t ids_offset = 0, ids_bytes = 0;
  std::uint64_t file_size = 0;
  std::uint32_t codes_crc = 0, ids_crc = 0;
  std::uint32_t substrings = 0, tables_crc = 0;
  std::uint64_t tables_offset = 0, tables_bytes = 0;
  /// Where the id block ends: the file's end, or the start of the tables' padding.
  std::uint64_t ids_end() const { return ids_offset + ids_bytes; }
};

template <class T>
T read_le(const char* bytes, std::size_t offset) {
  T value;
  std::memcpy(&value, bytes + offset, sizeof(T));
  return value;
}
template <class T>
void write_le(char* bytes, std::size_t offset, T value) {
  std::memcpy(bytes + offset, &value, sizeof(T));
}

inline void encode_index_header(const IndexHeader& h, char* out) {
  std::memset(out, 0, index_header_size);
  std::memcpy(out, "RLHINDEX", 8);
  write_le<std::uint32_t>(out, 8, h.substrings == 0 ? 1 : index_format_version);
  write_le<std::uint32_t>(out, 12, static_cast<std::uint32_t>(index_header_size));
  write_le(out, 16, h.bits);
  write_le(out, 20, h.words);
  write_le(out, 24, h.count);
  write_le(out, 32, h.codes_offset);
  write_le(out, 40, h.codes_bytes);
  write_le(out, 48, h.ids_offset);
  write_le(out, 56, h.ids_bytes);
  write_le(out, 64, h.file_size);
  write_le(out, 72, h.codes_crc);
  write_le(out, 76, h.ids_crc);
  write_le(out, 80, h.substrings);
  write_le(out, 84, h.tables_crc);
  write_le(out, 88, h.tables_offset);
  write_le(out, 96, h.tables_bytes);
  write_le<std::uint32_t>(out, 124, crc32(out, 124));
}

/// Parses and checks a header against the real file size; every inconsistency is a FormatError.
inline IndexHeader decode_index_header(const char* bytes, std::uint64_t file_size,
                                       const std::string& source) {
  const auto fail = [&](const std::string& why) -> void { throw FormatError("'" + source + "': " + why); };
  if (file_size < 8 || std::memcmp(bytes, "RLHINDEX", 8) != 0)
    fail("not an rlhash Hamming index file (bad magic RLHINDEX)");
  if (file_size < index_header_size)
    fail("expected a " + std::to_string(index_header_size) + "-byte header, the file has " +
         std::to_string(file_size) + " bytes (truncated?)");
  if (read_le<std::uint32_t>(bytes, 124) != crc32(bytes, 124))
    fail("header checksum mismatch (the file is corrupted)");
  const auto version = read_le<std::uint32_t>(bytes, 8);
  if (version == 0 || version > index_format_version)
    fail("format version " + std::to_string(version) + " is not supported (this build reads 1.." +
         std::to_string(index_format_version) + ")");
  if (read_le<std::uint32_t>(bytes, 12) != index_header_size)
    fail("header size " + std::to_string(read_le<std::uint32_t>(bytes, 12)) + ", expected " +
         std::to_string(index_header_size));
  IndexHeader h;
  h.bits = read_le<std::uint32_t>(bytes, 16);
  h.words = read_le<std::uint32_t>(bytes, 20);
  h.count = read_le<std::uint64_t>(bytes, 24);
  h.codes_offset = read_le<std::uint64_t>(bytes, 32);
  h.codes_bytes = read_le<std::uint64_t>(bytes, 40);
  h.ids_offset = read_le<std::uint64_t>(bytes, 48);
  h.ids_bytes = read_le<std::uint64_t>(bytes, 56);
  h.file_size = read_le<std::uint64_t>(bytes, 64);
  h.codes_crc = read_le<std::uint32_t>(bytes, 72);
  h.ids_crc = read_le<std::uint32_t>(bytes, 76);
  if (version >= 2) {
    h.substrings = read_le<std::uint32_t>(bytes, 80);
    h.tables_crc = read_le<std::uint32_t>(bytes, 84);
    h.tables_offset = read_le<std::uint64_t>(bytes, 88);
    h.tables_bytes = read_le<std::uint64_t>(bytes, 96);
  }
  if (h.bits < 1 || h.bits > static_cast<std::uint32_t>(BinaryCodes::max_bits) ||
      h.words != (h.bits + 63) / 64)
    fail("code length " + std::to_string(h.bits) + " bits in " + std::to_string(h.words) +
         " words, expected 1.." + std::to_string(BinaryCodes::max_bits) + " bits in ceil(bits/64) words");
  if (h.file_size != file_size)
    fail("header declares " + std::to_string(h.file_size) + " bytes, the file has " +
         std::to_string(file_size) + " (truncated or padded)");
  if (h.count > file_size / (8 * h.words))
    fail(std::to_string(h.count) + " codes declared, more than the file can hold (corrupted header)");
  if (h.codes_offset != index_header_size || h.codes_bytes != h.count * h.words * 8 ||
      h.ids_offset != align64(h.codes_offset + h.codes_bytes) || h.ids_bytes != h.count * 8)
    fail("inconsistent block offsets or sizes in the header (corrupted header)");
  const bool tables_fit = h.substrings == 0
                              ? h.tables_offset == 0 && h.tables_bytes == 0 && h.ids_end() == file_size
                              : h.substrings <= h.bits && h.tables_offset == align64(h.ids_end()) &&
                                    h.tables_bytes == std::uint64_t{h.substrings} * h.count * 4 &&
                                    h.tables_offset + h.tables_bytes == file_size;
  if (!tables_fit) fail("inconsistent table offsets or sizes in the header (corrupted header)");
  return h;
}

/// Checks the code and id blocks: checksums, zero tail bits, unique ids.
inline void verify_index_blocks(const IndexHeader& h, const std::uint64_t* codes, const std::int64_t* ids,
                                const std::string& source) {
  if (crc32(codes, h.codes_bytes) != h.codes_crc)
    throw FormatError("'" + source + "': code block checksum mismatch (the file is corrupted)");
  if (crc32(ids, h.ids_bytes) != h.ids_crc)
    throw FormatError("'" + source + "': id block checksum mismatch (the file is corrupted)");
  const CodesView view(codes, static_cast<Index>(h.count), static_cast<int>(h.bits));
  for (Index i = 0; i < view.size; ++i)
    if ((view.row(i)[view.words - 1] & ~view.tail_mask()) != 0)
      throw FormatError("'" + source + "': code " + std::to_string(i) + " has bits set past bit " +
                        std::to_string(h.bits));
  std::unordered_set<std::int64_t> seen;
  seen.reserve(static_cast<std::size_t>(h.count));
  for (std::uint64_t i = 0; i < h.count; ++i)
    if (!seen.insert(ids[i]).second)
      throw FormatError("'" + source + "': id " + std::to_string(ids[i]) + " appears twice");
}

/// Rebuilds the tables saved in a file (their checksum, then every position, is checked).
inline MultiIndex read_index_tables(const IndexHeader& h, const char* bytes, const CodesView& codes,
                                    const std::string& source) {
  if (crc32(bytes + h.tables_offset, h.tables_bytes) != h.tables_crc)
    throw FormatError("'" + source + "': table block checksum mismatch (the file is corrupted)");
  std::vector<std::vector<std::uint32_t>> positions(h.substrings, std::vector<std::uint32_t>(h.count));
  for (std::uint32_t s = 0; s < h.substrings; ++s)
    if (h.count > 0) std::memcpy(positions[s].data(), bytes + h.tables_offset + s * h.count * 4, h.count * 4);
  try {
    return MultiIndex::from_positions(codes, static_cast<int>(h.substrings), std::move(positions), "'" + source + "'");
  } catch (const InvalidArgument& e) {
    throw FormatError(std::string(e.what()) + " (the tables are corrupted)");
  }
}

}  // namespace detail

class HammingIndex {
 public:
  HammingIndex() = default;
  /// An empty index of `bits`-bit codes.
  explicit HammingIndex(int bits) : bits_(bits), words_((bits + 63) / 64) {
    if (bits < 1 || bits > BinaryCodes::max_bits)
      throw InvalidArgument("hamming index: bits = " + std::to_string(bits) + ", expected 1.." +
                            std::to_string(BinaryCodes::max_bits));
  }

  int bits() const { return bits_; }
  Index size() const { return mapping_ ? mapped_count_ : static_cast<Index>(ids_.size()); }
  bool empty() const { return size() == 0; }
  /// Whether the codes are read from a memory-mapped file (until the first add/remove, which
  /// copies them into memory).
  bool is_mapped() const { return mapping_ != nullptr; }

  /// The codes in index order (insertion order, removals closing the gaps).
  CodesView codes() const {
    return mapping_ ? CodesView(mapped_codes_, mapped_count_, bits_)
                    : CodesView(codes_.data(), static_cast<Index>(ids_.size()), bits_ > 0 ? bits_ : 1);
  }
  const std::int64_t* id_data() const { return mapping_ ? mapped_ids_ : ids_.data(); }
  std::int64_t id(Index position) const {
    if (position < 0 || position >= size())
      throw InvalidArgument("hamming index: position " + std::to_string(position) + " outside [0, " +
                            std::to_string(size()) + ")");
    return id_data()[position];
  }
  /// Whether `id` is in the index (a linear scan for a mapped index that was never modified).
  bool contains(std::int64_t id) const {
    if (mapping_)
      return std::find(mapped_ids_, mapped_ids_ + mapped_count_, id) != mapped_ids_ + mapped_count_;
    return positions_.count(id) != 0;
  }

  /// Appends `codes` with their `ids` (one per code, unique, not yet in the index).
  void add(const CodesView& codes, const std::vector<std::int64_t>& ids) {
    require_ready("add");
    detail::require_codes(codes, "hamming index add: codes");
    if (codes.bits != bits_)
      throw InvalidArgument("hamming index add: codes have " + std::to_string(codes.bits) +
                            " bits, the index " + std::to_string(bits_));
    if (static_cast<Index>(ids.size()) != codes.size)
      throw InvalidArgument("hamming index add: " + std::to_string(ids.size()) + " ids for " +
                            std::to_string(codes.size) + " codes");
    materialize();
    std::unordered_set<std::int64_t> fresh;
    for (const std::int64_t id : ids)
      if (positions_.count(id) != 0 || !fresh.insert(id).second)
        throw InvalidArgument("hamming index add: id " + std::to_string(id) +
                              " is already in the index or repeated");
    for (Index i = 0; i < codes.size; ++i) {
      const std::size_t before = codes_.size();
      codes_.append(codes.row(i), static_cast<std::size_t>(words_));
      // Keep tails zero so saved files pass verify() even if the caller's view had garbage.
      codes_.data()[before + static_cast<std::size_t>(words_) - 1] &= codes.tail_mask();
      positions_.emplace(ids[static_cast<std::size_t>(i)], static_cast<Index>(ids_.size()));
      ids_.push_back(ids[static_cast<std::size_t>(i)]);
    }
    refresh_tables();
  }

  /// Removes the codes with these ids (unknown ids are ignored); returns how many were removed.
  /// The remaining codes keep their relative order.
  Index remove(const std::vector<std::int64_t>& ids) {
    require_ready("remove");
    materialize();
    const std::unordered_set<std::int64_t> doomed(ids.begin(), ids.end());
    std::size_t out = 0;
    const std::size_t w = static_cast<std::size_t>(words_);
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      if (doomed.count(ids_[i]) != 0) continue;
      if (out != i) {
        std::memmove(codes_.data() + out * w, codes_.data() + i * w, w * sizeof(std::uint64_t));
        ids_[out] = ids_[i];
      }
      ++out;
    }
    const Index removed = static_cast<Index>(ids_.size() - out);
    ids_.resize(out);
    codes_.resize(out * w);
    if (removed > 0) {
      rebuild_positions();
      refresh_tables();
    }
    return removed;
  }

  /// Builds multi-index tables over the codes (`substrings` 0: MultiIndex::default_substrings,
  /// chosen again from the size after every add and remove); from then on they follow every
  /// add and remove (each rebuilds them: O(N), so add in batches) and are saved with the index.
  void build_tables(int substrings = 0, int threads = 0) {
    require_ready("build_tables");
    tables_ = MultiIndex(codes(), substrings, threads);
    table_substrings_ = substrings;
  }
  /// Drops the tables (searches scan again; saved files become version 1).
  void drop_tables() {
    tables_ = MultiIndex();
    table_substrings_ = -1;
  }
  bool has_tables() const { return !tables_.empty(); }
  const MultiIndex& tables() const { return tables_; }

  /// Exact kNN by the scan, the tables or a per-batch choice (search_plan.hpp); the same result
  /// as knn() whatever the method. `mih` without tables is a StateError; `automatic` without
  /// tables scans.
  KnnResult knn(const CodesView& queries, Index k, SearchMethod method, int threads = 0,
                SearchPlan* plan = nullptr) const {
    require_ready("knn");
    KnnResult result = planned_knn(queries, codes(), has_tables() ? &tables_ : nullptr, k, method, threads, plan);
    to_ids(result.indices);
    return result;
  }

  /// Range search through the tables (`mih`, or `automatic` when there are tables; a query
  /// whose multi-index work would exceed a scan is scanned) or by the scan.
  RangeResult range(const CodesView& queries, int radius, SearchMethod method, int threads = 0) const {
    require_ready("range");
    if (method == SearchMethod::mih && !has_tables())
      throw StateError("hamming index range: method mih, but no tables were built (build_tables)");
    if (method == SearchMethod::scan || !has_tables()) return range(queries, radius, threads);
    RangeResult result = tables_.range(queries, codes(), radius, threads);
    to_ids(result.indices);
    return result;
  }

  /// Exact kNN of each query; `indices` hold ids (-1 past the index size), ties broken by
  /// position in the index.
  KnnResult knn(const CodesView& queries, Index k, int threads = 0,
                SimdPath path = active_simd_path()) const {
    require_ready("knn");
    KnnResult result = knn_search(queries, codes(), k, threads, path);
    to_ids(result.indices);
    return result;
  }

  /// Every code within `radius` of each query; `indices` hold ids, sorted by (distance, position).
  RangeResult range(const CodesView& queries, int radius, int threads = 0,
                    SimdPath path = active_simd_path()) const {
    require_ready("range");
    RangeResult result = range_search(queries, codes(), radius, threads, path);
    to_ids(result.indices);
    return result;
  }

  /// Writes the index atomically (see the file comment for the layout).
  void save(const std::string& path) const {
    require_ready("save");
    detail::IndexHeader h;
    h.bits = static_cast<std::uint32_t>(bits_);
    h.words = static_cast<std::uint32_t>(words_);
    h.count = static_cast<std::uint64_t>(size());
    h.codes_offset = detail::index_header_size;
    h.codes_bytes = h.count * h.words * 8;
    h.ids_offset = detail::align64(h.codes_offset + h.codes_bytes);
    h.ids_bytes = h.count * 8;
    h.file_size = h.ids_end();
    if (has_tables()) {
      h.substrings = static_cast<std::uint32_t>(tables_.substrings());
      h.tables_offset = detail::align64(h.ids_end());
      h.tables_bytes = std::uint64_t{h.substrings} * h.count * 4;
      h.file_size = h.tables_offset + h.tables_bytes;
    }
    const CodesView view = codes();
    h.codes_crc = crc32(view.data, h.codes_bytes);
    h.ids_crc = crc32(id_data(), h.ids_bytes);
    char header[detail::index_header_size];
    detail::encode_index_header(h, header);
    std::vector<char> bytes(header, header + sizeof header);
    bytes.resize(static_cast<std::size_t>(h.file_size), 0);
    if (h.codes_bytes > 0) std::memcpy(bytes.data() + h.codes_offset, view.data, h.codes_bytes);
    if (h.ids_bytes > 0) std::memcpy(bytes.data() + h.ids_offset, id_data(), h.ids_bytes);
    for (int s = 0; s < static_cast<int>(h.substrings) && h.count > 0; ++s)
      std::memcpy(bytes.data() + h.tables_offset + static_cast<std::uint64_t>(s) * h.count * 4,
                  tables_.table_positions(s).data(), h.count * 4);
    if (h.substrings > 0) {
      h.tables_crc = crc32(bytes.data() + h.tables_offset, h.tables_bytes);
      detail::encode_index_header(h, header);
      std::copy(header, header + sizeof header, bytes.begin());
    }
    write_file_atomic(path, bytes);
  }

  /// Reads and fully verifies a saved index into memory.
  static HammingIndex load(const std::string& path) {
    const std::vector<char> bytes = read_file_bytes(path);
    const detail::IndexHeader h = detail::decode_index_header(bytes.data(), bytes.size(), path);
    // Copy the blocks to aligned memory before checking them (the vector's buffer is not aligned).
    HammingIndex index(static_cast<int>(h.bits));
    index.codes_.resize(static_cast<std::size_t>(h.count * h.words));
    if (h.codes_bytes > 0) std::memcpy(index.codes_.data(), bytes.data() + h.codes_offset, h.codes_bytes);
    index.ids_.resize(static_cast<std::size_t>(h.count));
    if (h.ids_bytes > 0) std::memcpy(index.ids_.data(), bytes.data() + h.ids_offset, h.ids_bytes);
    detail::verify_index_blocks(h, index.codes_.data(), index.ids_.data(), path);
    index.rebuild_positions();
    if (h.substrings > 0) index.adopt_tables(detail::read_index_tables(h, bytes.data(), index.codes(), path));
    return index;
  }

  /// Maps a saved index read-only without reading its blocks: only the header is checked (call
  /// verify() for the blocks). The file must not be modified while mapped.
  static HammingIndex open_mmap(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const std::string why = detail::errno_text();
      ::close(fd);
      throw IoError("cannot stat '" + path + "': " + why);
    }
    const auto file_size = static_cast<std::uint64_t>(info.st_size);
    char header[detail::index_header_size] = {};
    const std::size_t wanted = static_cast<std::size_t>(std::min<std::uint64_t>(file_size, sizeof header));
    std::size_t got = 0;
    while (got < wanted) {
      const ssize_t n = ::pread(fd, header + got, wanted - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const std::string why = n < 0 ? detail::errno_text() : "unexpected end of file";
        ::close(fd);
        throw IoError("cannot read '" + path + "': " + why);
      }
      got += static_cast<std::size_t>(n);
    }
    detail::IndexHeader h;
    try {
      h = detail::decode_index_header(header, file_size, path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    auto mapping = std::make_shared<detail::FileMapping>();
    void* base = ::mmap(nullptr, static_cast<std::size_t>(file_size), PROT_READ, MAP_SHARED, fd, 0);
    const std::string why = base == MAP_FAILED ? detail::errno_text() : "";
    ::close(fd);
    if (base == MAP_FAILED) throw IoError("cannot map '" + path + "': " + why);
    mapping->base = base;
    mapping->length = static_cast<std::size_t>(file_size);
    HammingIndex index(static_cast<int>(h.bits));
    const char* bytes = static_cast<const char*>(base);
    index.mapped_codes_ = reinterpret_cast<const std::uint64_t*>(bytes + h.codes_offset);
    index.mapped_ids_ = reinterpret_cast<const std::int64_t*>(bytes + h.ids_offset);
    index.mapped_count_ = static_cast<Index>(h.count);
    index.mapped_header_ = h;
    index.mapped_source_ = path;
    index.mapping_ = std::move(mapping);
    // The tables live in memory: their buckets hold copies of the codes.
    if (h.substrings > 0) index.adopt_tables(detail::read_index_tables(h, bytes, index.codes(), path));
    return index;
  }

  /// Full check of a mapped index's blocks (checksums, tail bits, unique ids); FormatError
  /// naming the file when anything is wrong. An in-memory index is always consistent.
  void verify() const {
    if (mapping_) detail::verify_index_blocks(mapped_header_, mapped_codes_, mapped_ids_, mapped_source_);
  }

 private:
  void require_ready(const char* what) const {
    if (bits_ == 0)
      throw StateError(std::string("hamming index: ") + what + " on a default-constructed index");
  }

  void adopt_tables(MultiIndex tables) {
    table_substrings_ = tables.substrings();
    tables_ = std::move(tables);
  }

  /// Rebuilds the tables after a modification, if the index has them.
  void refresh_tables() {
    if (table_substrings_ >= 0) tables_ = MultiIndex(codes(), table_substrings_);
  }

  /// Copies a mapped index into memory (before the first modification).
  void materialize() {
    if (!mapping_) return;
    codes_ = detail::AlignedWords();
    codes_.append(mapped_codes_, static_cast<std::size_t>(mapped_count_ * words_));
    ids_.assign(mapped_ids_, mapped_ids_ + mapped_count_);
    mapping_.reset();
    mapped_codes_ = nullptr;
    mapped_ids_ = nullptr;
    mapped_count_ = 0;
    rebuild_positions();
  }

  void rebuild_positions() {
    positions_.clear();
    positions_.reserve(ids_.size());
    for (std::size_t i = 0; i < ids_.size(); ++i) positions_.emplace(ids_[i], static_cast<Index>(i));
  }

  void to_ids(std::vector<Index>& indices) const {
    const std::int64_t* ids = id_data();
    for (Index& value : indices)
      if (value >= 0) value = ids[value];
  }

  int bits_ = 0;
  int words_ = 0;
  detail::AlignedWords codes_;
  std::vector<std::int64_t> ids_;
  std::unordered_map<std::int64_t, Index> positions_;
  // A mapped index reads these until it is modified.
  std::shared_ptr<const detail::FileMapping> mapping_;
  const std::uint64_t* mapped_codes_ = nullptr;
  const std::int64_t* mapped_ids_ = nullptr;
  Index mapped_count_ = 0;
  detail::IndexHeader mapped_header_;
  std::string mapped_source_;
  MultiIndex tables_;
  int table_substrings_ = -1;  // -1: no tables; 0: default substrings; else the count asked for
};

}  // namespace rlhash
