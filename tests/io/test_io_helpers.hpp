#pragma once
// Helpers shared by the io tests: byte files, patched copies and error expectations.
#include <catch.hpp>

#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rlhash/core/error.hpp"

namespace rlhash::test {

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(out.good());
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// What `read()` returns while a named pipe at `path` serves `bytes` from a thread that closes its
/// end once they are written: a reader that opens the pipe twice waits forever. Should `read`
/// throw before opening the pipe, a reader that gives up at once releases the writer (keep
/// `bytes` within the pipe's 64 KiB buffer so its writes never block then).
template <class F>
auto read_through_pipe(const std::string& path, const std::string& bytes, F&& read) {
  REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
  std::thread writer([&] {
    const int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0) return;
    for (std::size_t done = 0; done < bytes.size();) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::close(fd);
  });
  try {
    auto result = read();
    writer.join();
    return result;
  } catch (...) {
    const int release = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    writer.join();
    if (release >= 0) ::close(release);
    throw;
  }
}

/// `bytes` with the first occurrence of `from` replaced by `to` (same length, so header lengths
/// and offsets stay valid).
inline std::string patched(std::string bytes, const std::string& from, const std::string& to) {
  REQUIRE(from.size() == to.size());
  const auto at = bytes.find(from);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, from.size(), to);
  return bytes;
}

/// Runs `fn` and requires an exception of type E whose message contains every part.
template <class E = FormatError, class F>
void require_error(F&& fn, std::initializer_list<std::string> parts) {
  bool thrown = false;
  try {
    fn();
  } catch (const E& error) {
    thrown = true;
    for (const auto& part : parts) CHECK_THAT(std::string(error.what()), Catch::Contains(part));
  }
  CHECK(thrown);
}

/// A .npy built by hand: magic, version, little-endian header length, the dict padded with
/// spaces to a 64-byte boundary and ended by '\n', then the payload.
inline std::string make_npy(const std::string& dict, const std::string& payload, int version = 1,
                            bool pad = true) {
  const std::size_t prefix = version == 1 ? 10 : 12;
  std::string header = dict;
  if (pad) header.append(63 - (prefix + dict.size()) % 64, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY", 6) + static_cast<char>(version) + '\0';
  for (std::size_t b = 0; b < prefix - 8; ++b) out += static_cast<char>((header.size() >> (8 * b)) & 0xFF);
  return out + header + payload;
}

}  // namespace rlhash::test
