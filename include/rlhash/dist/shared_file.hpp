#pragma once
/// \file
/// One output file written by all ranks at once with MPI-IO: rank 0 writes the header, every rank
/// its own byte range of the payload, and the file appears under its name only when every rank
/// succeeded (a temporary file beside it, synced, then renamed by rank 0), so a distributed run
/// leaves the same all-or-nothing output as write_file_atomic.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "rlhash/dist/communicator.hpp"
#include "rlhash/io/npy.hpp"

namespace rlhash::dist {

namespace detail {

/// Writes `size` bytes at `offset` of an open MPI file, in pieces an int count can hold.
inline void write_bytes_at(MPI_File file, std::uint64_t offset, const char* data, std::size_t size,
                           const std::string& path) {
  constexpr std::size_t piece = std::size_t{1} << 30;
  for (std::size_t done = 0; done < size;) {
    const std::size_t count = std::min(piece, size - done);
    MPI_Status status;
    check_mpi(MPI_File_write_at(file, static_cast<MPI_Offset>(offset + done), data + done, static_cast<int>(count),
                                MPI_BYTE, &status),
              ("writing '" + path + "'").c_str());
    done += count;
  }
}

/// A temporary name beside `path`, chosen on rank 0 and shared by all ranks.
inline std::string shared_temporary_name(const Communicator& comm, const std::string& path) {
  std::string name;
  if (comm.rank() == 0) {
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
    name = path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(stamp);
  }
  return comm.broadcast(name, 0);
}

}  // namespace detail

/// Writes `path` collectively: `header` (rank 0's) at offset 0, then each rank's `size` bytes at
/// `data` to payload offset `offset` (bytes after the header). The ranks' ranges must tile the
/// payload. Every failure is agreed (DistributedError on every rank) and leaves no file behind.
inline void write_shared_file(const Communicator& comm, const std::string& path, const std::string& header,
                              std::uint64_t offset, const void* data, std::size_t size) {
  const std::string temporary = detail::shared_temporary_name(comm, path);
  MPI_File file = MPI_FILE_NULL;
  const int opened = MPI_File_open(comm.get(), temporary.c_str(), MPI_MODE_CREATE | MPI_MODE_EXCL | MPI_MODE_WRONLY,
                                   MPI_INFO_NULL, &file);
  agree(comm, [&] { check_mpi(opened, ("creating '" + temporary + "' (for '" + path + "')").c_str()); });
  bool closed = false;
  try {
    agree(comm, [&] {
      if (comm.rank() == 0) detail::write_bytes_at(file, 0, header.data(), header.size(), path);
      detail::write_bytes_at(file, header.size() + offset, static_cast<const char*>(data), size, path);
    });
    const int synced = MPI_File_sync(file);
    const int closing = MPI_File_close(&file);
    closed = true;
    agree(comm, [&] {
      check_mpi(synced, ("syncing '" + path + "'").c_str());
      check_mpi(closing, ("closing '" + path + "'").c_str());
    });
    agree(comm, [&] {
      if (comm.rank() == 0 && std::rename(temporary.c_str(), path.c_str()) != 0)
        throw IoError("cannot rename '" + temporary + "' to '" + path + "': " + std::strerror(errno));
    });
  } catch (...) {
    if (!closed) MPI_File_close(&file);
    if (comm.rank() == 0) std::remove(temporary.c_str());
    throw;
  }
}

/// A .npy of `shape` (numpy's header, byte for byte what write_npy writes) written collectively:
/// each rank holds `count` elements of the C-order data starting at element `first`.
template <class T>
void write_shared_npy(const Communicator& comm, const std::string& path, const std::vector<Index>& shape, Index first,
                      const T* data, Index count) {
  write_shared_file(comm, path, npy_header(dtype_of<T>(), shape), static_cast<std::uint64_t>(first) * sizeof(T), data,
                    static_cast<std::size_t>(count) * sizeof(T));
}

}  // namespace rlhash::dist
