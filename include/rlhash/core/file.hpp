#pragma once
/// \file
/// Whole-file reads and atomic writes (temp file in the same folder + fsync + rename), so a
/// crash or a full disk never leaves a partial file under the target name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/error.hpp"

namespace rlhash {

/// Whether something exists at `path` (a checkpoint to resume from, say).
inline bool file_exists(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0;
}

namespace detail {
inline std::string errno_text() { return std::strerror(errno); }

inline void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError("cannot write '" + path + "': " + errno_text());
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}
}  // namespace detail

namespace detail {
/// An open file descriptor, closed when it goes out of scope.
class FileHandle {
 public:
  FileHandle(const std::string& path, int flags) : fd_(::open(path.c_str(), flags | O_CLOEXEC)) {}
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  ~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  int fd_;
};

/// Reads up to `size` bytes (fewer only at the end of the file); IoError naming `path`.
inline std::size_t read_up_to(int fd, char* out, std::size_t size, const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::read(fd, out + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError("cannot read '" + path + "': " + errno_text());
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

/// The rest of an open file (from its current offset), at most `max_bytes` (FormatError naming `path` beyond
/// that: a device such as /dev/zero or a sparse file never turns into an unbounded allocation).
inline std::vector<char> read_rest(int fd, const std::string& path, std::size_t max_bytes) {
  struct stat info {};
  // A regular file is read in one buffer of its size (+1 to see the end); anything else grows.
  std::size_t want = std::size_t{1} << 16;
  const off_t offset = ::lseek(fd, 0, SEEK_CUR);
  if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && offset >= 0 && info.st_size > offset) {
    const auto size = static_cast<std::size_t>(info.st_size - offset);
    if (size > max_bytes)
      throw FormatError("'" + path + "' has " + std::to_string(size) + " bytes, expected at most " +
                        std::to_string(max_bytes));
    want = size + 1;
  }
  std::vector<char> bytes;
  const auto grow = [&](std::size_t size) {
    allocating(
        size, [&] { bytes.resize(size); }, "reading '", path, "'");
  };
  grow(std::min(want, max_bytes + 1));
  std::size_t used = 0;
  for (;;) {
    used += read_up_to(fd, bytes.data() + used, bytes.size() - used, path);
    if (used > max_bytes)
      throw FormatError("'" + path + "' holds more than " + std::to_string(max_bytes) +
                        " bytes, expected at most that");
    if (used < bytes.size()) break;
    grow(std::min(bytes.size() * 2, max_bytes + 1));
  }
  bytes.resize(used);
  return bytes;
}

/// The rest of the open file `fd` that `path` names (in errors): IoError for a folder.
inline std::vector<char> read_open_file(int fd, const std::string& path, std::size_t max_bytes) {
  struct stat info {};
  if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode))
    throw IoError("cannot read '" + path + "': it is a directory");
  return read_rest(fd, path, max_bytes);
}
}  // namespace detail

/// Reads a whole file into memory; IoError naming the path when it cannot, FormatError when it
/// holds more than `max_bytes`.
inline std::vector<char> read_file_bytes(const std::string& path,
                                         std::size_t max_bytes = static_cast<std::size_t>(-1) / 2) {
  const detail::FileHandle file(path, O_RDONLY);
  if (!file.is_open()) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
  return detail::read_open_file(file.fd(), path, max_bytes);
}

namespace detail {
/// The temporary files atomic writes have open, so a signal handler can remove them: a fixed
/// table of pointers (no allocation, no locks), read with async-signal-safe calls only.
inline std::atomic<const char*>* pending_temp_table() {
  static std::atomic<const char*> table[64];
  return table;
}
inline constexpr int pending_temp_slots = 64;
}  // namespace detail

/// Removes every temporary file an atomic write has in progress. Async-signal-safe: for a
/// SIGINT/SIGTERM handler (the rlhash tool installs one), so an interrupted write leaves no
/// `*.tmp.*` file behind. Only kill -9 (or power loss) can leave one.
inline void remove_pending_temp_files() noexcept {
  std::atomic<const char*>* table = detail::pending_temp_table();
  for (int i = 0; i < detail::pending_temp_slots; ++i)
    if (const char* path = table[i].load()) ::unlink(path);
}

/// A temporary file beside `target`, removed on destruction unless committed. Its name fits the
/// file system's name limit (a long target name gets a short hidden name); its mode is the
/// existing target's, else what the umask leaves of 0666 (like any new file).
namespace detail {
/// A fresh name beside `target` for a temporary file: "<target>.tmp.<8 hex>", or for a target
/// whose name leaves no room under the file system's name limit, ".rlhash-<8 hex>.tmp".
inline std::string temp_name_beside(const std::string& target) {
  const auto slash = target.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : target.substr(0, slash));
  const std::string base = slash == std::string::npos ? target : target.substr(slash + 1);
  const long name_max = ::pathconf(folder.c_str(), _PC_NAME_MAX);
  const std::size_t limit = name_max > 0 ? static_cast<std::size_t>(name_max) : 255;
  const std::string prefix = target.substr(0, target.size() - base.size());
  static std::atomic<unsigned> counter{0};
  const unsigned long long salt =
      (static_cast<unsigned long long>(::getpid()) << 32) ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ULL) ^
      static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08llx", salt & 0xffffffffULL);
  return base.size() + 14 <= limit ? target + ".tmp." + suffix : prefix + ".rlhash-" + suffix + ".tmp";
}

/// Lists `path` (whose storage must outlive the registration) among the files
/// remove_pending_temp_files() removes, until destroyed.
class PendingTemp {
 public:
  explicit PendingTemp(const char* path) {
    std::atomic<const char*>* table = pending_temp_table();
    for (int i = 0; i < pending_temp_slots && slot_ < 0; ++i) {
      const char* empty = nullptr;
      if (table[i].compare_exchange_strong(empty, path)) slot_ = i;
    }
  }
  PendingTemp(const PendingTemp&) = delete;
  PendingTemp& operator=(const PendingTemp&) = delete;
  ~PendingTemp() {
    if (slot_ >= 0) pending_temp_table()[slot_].store(nullptr);
  }

 private:
  int slot_ = -1;
};
}  // namespace detail

class TempFile {
 public:
  explicit TempFile(const std::string& target) : target_(target) {
    for (int attempt = 0; attempt < 100 && fd_ < 0; ++attempt) {
      path_ = detail::temp_name_beside(target);
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd_ < 0 && errno != EEXIST) break;
    }
    if (fd_ < 0)
      throw IoError("cannot create a temporary file beside '" + target + "': " + detail::errno_text());
    struct stat existing {};
    if (::stat(target.c_str(), &existing) == 0 && S_ISREG(existing.st_mode))
      (void)::fchmod(fd_, existing.st_mode & 07777);  // best effort: the target keeps its mode
    pending_.emplace(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }

  /// Writes all bytes, flushes them to disk and closes the file.
  void write_and_sync(const void* data, std::size_t size) {
    detail::write_all(fd_, static_cast<const char*>(data), size, target_);
    if (::fsync(fd_) != 0) throw IoError("cannot flush '" + target_ + "': " + detail::errno_text());
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw IoError("cannot close '" + target_ + "': " + detail::errno_text());
  }
  /// Renames the written file to the target.
  void commit() {
    if (std::rename(path_.c_str(), target_.c_str()) != 0)
      throw IoError("cannot rename the temporary file to '" + target_ + "': " + detail::errno_text());
    renamed_ = true;
  }
  const std::string& path() const { return path_; }

 private:
  std::string target_, path_;
  int fd_ = -1;
  bool renamed_ = false;
  std::optional<detail::PendingTemp> pending_;  // last member: unlisted before path_ goes
};

/// Writes `size` bytes to `path` atomically: a temporary file beside it, fsync, then rename.
/// On any failure the temporary file is removed and the target is left as it was.
inline void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  TempFile temp(path);
  temp.write_and_sync(data, size);
  temp.commit();
}

inline void write_file_atomic(const std::string& path, const std::vector<char>& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

namespace detail {
/// What a target held before a multi-file write replaced it: a hard link to the old file (or the
/// knowledge that there was none), so a failure among the renames can put it back.
class TargetBackup {
 public:
  explicit TargetBackup(const std::string& target) : target_(target) {
    struct stat info {};
    existed_ = ::lstat(target.c_str(), &info) == 0;
    if (!existed_ || S_ISDIR(info.st_mode)) return;
    for (int attempt = 0; attempt < 100 && link_.empty(); ++attempt) {
      std::string name = temp_name_beside(target);
      if (::link(target.c_str(), name.c_str()) == 0)
        link_ = std::move(name);
      else if (errno != EEXIST)
        break;  // no hard links here (or no room): this target cannot be put back
    }
    if (!link_.empty()) pending_.emplace(link_.c_str());
  }
  TargetBackup(const TargetBackup&) = delete;
  TargetBackup& operator=(const TargetBackup&) = delete;
  ~TargetBackup() {
    if (!link_.empty()) ::unlink(link_.c_str());
  }
  /// Puts the target back as it was: the old file, or no file; best effort.
  void restore() {
    if (!existed_)
      ::unlink(target_.c_str());
    else if (!link_.empty() && std::rename(link_.c_str(), target_.c_str()) == 0)
      link_.clear();
  }

 private:
  std::string target_, link_;
  bool existed_ = false;
  std::optional<PendingTemp> pending_;  // last member: unlisted before link_ goes
};
}  // namespace detail

/// Writes several files as one, all or nothing as far as POSIX allows: every temporary file is
/// written and flushed before the first rename, so an error while writing (full disk,
/// unwritable folder) changes no target. Each existing target is then kept under a hard link
/// beside it until all renames succeeded: a failure among the renames puts back the targets
/// already replaced (and removes those that did not exist). Not covered: a kill -9 or power loss
/// between two renames (microseconds), and file systems without hard links, where a target
/// already replaced cannot be put back.
inline void write_files_atomic(const std::vector<std::pair<std::string, std::vector<char>>>& files) {
  std::vector<std::unique_ptr<TempFile>> temps;
  for (const auto& [path, bytes] : files) {
    temps.push_back(std::make_unique<TempFile>(path));
    temps.back()->write_and_sync(bytes.data(), bytes.size());
  }
  std::vector<std::unique_ptr<detail::TargetBackup>> backups;
  for (const auto& file : files) backups.push_back(std::make_unique<detail::TargetBackup>(file.first));
  std::size_t renamed = 0;
  try {
    for (; renamed < temps.size(); ++renamed) temps[renamed]->commit();
  } catch (...) {
    while (renamed > 0) backups[--renamed]->restore();
    throw;
  }
}

}  // namespace rlhash
