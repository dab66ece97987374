#pragma once
/// \file
/// A read-only view of a whole file, read into memory (the default) or memory-mapped.
///
/// Reading is the default because a mapping is only as stable as the file under it: when another
/// process truncates a mapped file, touching a page past the new end raises SIGBUS and kills the
/// process, which no error handling can turn into a message. The readers copy what they parse
/// anyway, so reading costs one extra pass over the bytes. FileAccess::map (NpyMap's lazy view)
/// is for callers who want pages loaded on demand and own the file's lifetime.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"

namespace rlhash {

/// How MappedFile holds a file: read into memory, or mapped (pages loaded on demand; the file
/// must not be truncated while mapped).
enum class FileAccess { read, map };

class MappedFile {
 public:
  /// Opens `path`; IoError naming it when it cannot be opened, read or mapped. Files that are not
  /// regular (pipes, /dev/stdin) are always read.
  explicit MappedFile(const std::string& path, FileAccess access = FileAccess::read) : path_(path) {
    if (access == FileAccess::read) {
      owned_ = read_file_bytes(path);
      data_ = owned_.data();
      size_ = owned_.size();
      return;
    }
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      // Not a regular file: read it from this open file (fails on folders). Opening a pipe again
      // would wait forever once its writer has finished.
      try {
        owned_ = detail::read_open_file(fd, path, static_cast<std::size_t>(-1) / 2);
      } catch (...) {
        ::close(fd);
        throw;
      }
      ::close(fd);
      data_ = owned_.data();
      size_ = owned_.size();
      return;
    }
    size_ = static_cast<std::size_t>(info.st_size);
    if (size_ > 0) {
      void* map = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        const std::string why = detail::errno_text();
        ::close(fd);
        throw IoError("cannot map '" + path + "': " + why);
      }
      map_ = map;
      data_ = static_cast<const char*>(map);
    }
    ::close(fd);  // the mapping keeps the file open
  }
  /// A view of bytes already in memory (`source` names them in errors).
  MappedFile(std::vector<char> bytes, std::string source)
      : path_(std::move(source)), owned_(std::move(bytes)), data_(owned_.data()), size_(owned_.size()) {}

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  MappedFile(MappedFile&& other) noexcept { swap(other); }
  MappedFile& operator=(MappedFile&& other) noexcept {
    MappedFile moved(std::move(other));
    swap(moved);
    return *this;
  }
  ~MappedFile() {
    if (map_ != nullptr) ::munmap(map_, size_);
  }

  const char* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void swap(MappedFile& other) noexcept {
    std::swap(path_, other.path_);
    std::swap(owned_, other.owned_);
    std::swap(map_, other.map_);
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
  }

  std::string path_;
  std::vector<char> owned_;  // vector moves keep their buffer, so data_ stays valid
  void* map_ = nullptr;
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace rlhash
