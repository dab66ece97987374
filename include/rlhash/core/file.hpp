#pragma once
/// \file
/// Whole-file reads and atomic writes (temp file in the same folder + fsync + rename), so a
/// crash or a full disk never leaves a partial file under the target name.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"

namespace rlhash {

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

/// Reads a whole file into memory; IoError naming the path when it cannot.
inline std::vector<char> read_file_bytes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open '" + path + "' for reading: " + detail::errno_text());
  std::vector<char> bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const std::string why = detail::errno_text();
      ::close(fd);
      throw IoError("cannot read '" + path + "': " + why);
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buffer, buffer + n);
  }
  ::close(fd);
  return bytes;
}

/// Writes `size` bytes to `path` atomically: a temporary file beside it, fsync, then rename.
/// On any failure the temporary file is removed and the target is left as it was.
inline void write_file_atomic(const std::string& path, const void* data, std::size_t size) {
  std::string temp = path + ".tmp.XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw IoError("cannot create a temporary file beside '" + path + "': " + detail::errno_text());
  temp = name.data();
  try {
    detail::write_all(fd, static_cast<const char*>(data), size, path);
    if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
      throw IoError("cannot flush '" + path + "': " + detail::errno_text());
    if (::close(fd) != 0) {
      ::unlink(temp.c_str());
      throw IoError("cannot close '" + path + "': " + detail::errno_text());
    }
  } catch (...) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw;
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string why = detail::errno_text();
    ::unlink(temp.c_str());
    throw IoError("cannot rename the temporary file to '" + path + "': " + why);
  }
}

inline void write_file_atomic(const std::string& path, const std::vector<char>& bytes) {
  write_file_atomic(path, bytes.data(), bytes.size());
}

}  // namespace rlhash
