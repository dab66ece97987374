#pragma once
/// \file
/// The MPI layer of rlhash::mpi: a communicator view, the MPI environment, and the one rule that
/// keeps a distributed run all-or-nothing: every step that can fail on one rank (reading a shard,
/// parsing options, encoding) runs inside agree(), which tells every rank whether any rank failed
/// and, if so, throws the same DistributedError everywhere, naming the first failing rank and its
/// cause. Collectives run only between such steps, so no rank is left waiting in a collective for
/// a rank that has given up.
#include <mpi.h>

#include <cstdint>
#include <exception>
#include <limits>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::dist {

/// A failure on some rank of a distributed run, raised on every rank alike.
class DistributedError : public Error {
 public:
  DistributedError(int rank, std::string cause)
      : Error("rank " + std::to_string(rank) + ": " + cause), rank_(rank), cause_(std::move(cause)) {}
  /// The first rank (lowest number) that failed.
  int rank() const { return rank_; }
  /// Its error message.
  const std::string& cause() const { return cause_; }

 private:
  int rank_;
  std::string cause_;
};

/// Throws IoError naming `what` when an MPI call did not succeed.
inline void check_mpi(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw IoError(std::string(what) + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

/// MPI for the lifetime of the object: initialises it unless someone already did, and finalises
/// what it initialised. Only the thread that created it may call MPI.
class Environment {
 public:
  Environment(int* argc = nullptr, char*** argv = nullptr) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;
    // FUNNELED: rlhash's worker threads compute, only the calling thread talks to MPI.
    int provided = 0;
    check_mpi(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owned_ = true;
  }
  ~Environment() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) MPI_Finalize();
  }
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;

 private:
  bool owned_ = false;
};

namespace detail {
/// `count` as the int an MPI count argument takes; InvalidArgument when it does not fit.
inline int as_count(std::int64_t count, const char* what) {
  if (count < 0 || count > std::numeric_limits<int>::max())
    throw InvalidArgument(std::string(what) + ": " + std::to_string(count) +
                          " entries in one MPI message exceed an int count; split the work into smaller batches");
  return static_cast<int>(count);
}

/// The int counts and offsets of a variable-size collective (MPI_Allgatherv, MPI_Alltoallv) for
/// blocks of `sizes` entries laid end to end, and their total.
struct Layout {
  std::vector<int> counts, offsets;
  std::int64_t total = 0;
};
inline Layout layout_of(const std::vector<std::int64_t>& sizes, const char* what) {
  Layout layout;
  for (const std::int64_t size : sizes) {
    layout.counts.push_back(as_count(size, what));
    layout.offsets.push_back(as_count(layout.total, what));
    layout.total += size;
  }
  return layout;
}
}  // namespace detail

/// A non-owning view of an MPI communicator with the few collectives rlhash needs.
class Communicator {
 public:
  explicit Communicator(MPI_Comm comm = MPI_COMM_WORLD) : comm_(comm) {
    check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  MPI_Comm get() const { return comm_; }
  int rank() const { return rank_; }
  int size() const { return size_; }

  /// `value` of every rank, in rank order.
  std::vector<std::int64_t> all_gather(std::int64_t value) const {
    std::vector<std::int64_t> all(static_cast<std::size_t>(size_));
    check_mpi(MPI_Allgather(&value, 1, MPI_INT64_T, all.data(), 1, MPI_INT64_T, comm_), "MPI_Allgather");
    return all;
  }
  /// Sum of `value` over ranks 0 .. rank - 1 (0 on rank 0).
  std::int64_t exclusive_sum(std::int64_t value) const {
    std::int64_t before = 0;
    check_mpi(MPI_Exscan(&value, &before, 1, MPI_INT64_T, MPI_SUM, comm_), "MPI_Exscan");
    return rank_ == 0 ? 0 : before;  // MPI leaves rank 0's result undefined
  }
  /// `text` of rank `root` on every rank.
  std::string broadcast(std::string text, int root) const {
    std::int64_t length = static_cast<std::int64_t>(text.size());
    check_mpi(MPI_Bcast(&length, 1, MPI_INT64_T, root, comm_), "MPI_Bcast");
    text.resize(static_cast<std::size_t>(length));
    if (length > 0) check_mpi(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, comm_), "MPI_Bcast");
    return text;
  }
  void barrier() const { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

 private:
  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
};

/// Runs `step` on every rank; if it threw on any rank, throws DistributedError on every rank,
/// naming the lowest failing rank and its message. Collective: every rank must call it.
template <class Step>
void agree(const Communicator& comm, Step&& step) {
  std::string error;
  try {
    step();
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  }
  const std::vector<std::int64_t> failed = comm.all_gather(error.empty() ? 0 : 1);
  for (int r = 0; r < comm.size(); ++r)
    if (failed[static_cast<std::size_t>(r)] != 0) throw DistributedError(r, comm.broadcast(error, r));
}

/// Checks that every rank holds the same `text` (options, code length): DistributedError naming
/// the first rank whose text differs from rank 0's, and both texts. Collective.
inline void require_same_on_all_ranks(const Communicator& comm, const std::string& text, const std::string& what) {
  const std::string reference = comm.broadcast(text, 0);
  agree(comm, [&] {
    if (text != reference)
      throw InvalidArgument(what + " differ from rank 0's: '" + text + "' here, '" + reference + "' on rank 0");
  });
}

}  // namespace rlhash::dist
