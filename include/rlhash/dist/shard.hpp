#pragma once
/// \file
/// How a distributed run splits rows over ranks, and how a rank reads its shard of a code file.
///
/// Rank r of P holds the contiguous rows [begin_r, end_r) of the global database, in rank order,
/// so global index = shard offset + local index and the shards' index ranges increase with the
/// rank (the sharded merge relies on it). A shard comes either from the rank's byte range of one
/// .npy code file (memory-mapped: a rank touches only its own rows) or from a file of its own,
/// named by a path holding "{rank}".
#include <cstring>
#include <string>

#include "rlhash/codes/code_file.hpp"
#include "rlhash/dist/communicator.hpp"
#include "rlhash/io/npy.hpp"

namespace rlhash::dist {

/// Rows [begin, end).
struct RowRange {
  Index begin = 0;
  Index end = 0;
  Index size() const { return end - begin; }
};

/// The rows of `rank` when `rows` rows are split into `ranks` contiguous parts whose sizes differ
/// by at most `align` (each boundary a multiple of `align`, except the last end = rows).
inline RowRange shard_rows(Index rows, int ranks, int rank, Index align = 1) {
  rlhash::detail::require(rows >= 0 && ranks >= 1 && rank >= 0 && rank < ranks && align >= 1,
          "shard_rows: invalid split of " + std::to_string(rows) + " rows over " + std::to_string(ranks) +
              " ranks (rank " + std::to_string(rank) + ", align " + std::to_string(align) + ")");
  const Index units = (rows + align - 1) / align;
  const auto boundary = [&](int r) {
    return std::min(rows, align * ((units / ranks) * r + ((units % ranks) * r) / ranks));
  };
  return {boundary(rank), rank + 1 == ranks ? rows : boundary(rank + 1)};
}

/// A rank's part of the database: its codes and where they sit in the global index space.
struct CodeShard {
  BinaryCodes codes;
  Index offset = 0;  ///< global index of codes row 0
  Index total = 0;   ///< codes over all ranks
};

/// True when `path` names one file per rank ("{rank}" in it).
inline bool is_per_rank_path(const std::string& path) { return path.find("{rank}") != std::string::npos; }

/// `path` with every "{rank}" replaced by `rank`.
inline std::string rank_path(std::string path, int rank) {
  for (std::size_t at = path.find("{rank}"); at != std::string::npos; at = path.find("{rank}", at))
    path.replace(at, 6, std::to_string(rank));
  return path;
}

namespace detail {

/// Rows [rows.begin, rows.end) of a 2-D .npy code file as codes; errors name the file and rows.
inline BinaryCodes read_code_rows(const NpyMap& map, RowRange rows, int bits, CodeFormat format) {
  if (map.shape().size() != 2)
    throw FormatError("'" + map.path() + "': expected a 2-D [N, width] code array, found shape " +
                      rlhash::detail::shape_text(map.shape()));
  const std::size_t row_bytes = static_cast<std::size_t>(map.dims()) * dtype_itemsize(map.dtype());
  NdArray slice = NdArray::uninitialized(map.dtype(), {rows.size(), map.dims()});
  if (slice.nbytes() > 0)
    std::memcpy(slice.bytes(), map.bytes() + static_cast<std::size_t>(rows.begin) * row_bytes, slice.nbytes());
  return codes_from_array(slice, bits, format,
                          map.path() + " rows " + std::to_string(rows.begin) + ".." + std::to_string(rows.end));
}

}  // namespace detail

/// Reads this rank's shard (collective). One file: the rank's row range of it; a path with
/// "{rank}": the rank's own file, shards concatenated in rank order. Refused on every rank, naming
/// the first offending rank, when a file is missing or malformed, a shard's code length differs
/// from rank 0's, or a rank would hold no codes (more ranks than database codes).
inline CodeShard read_code_shard(const Communicator& comm, const std::string& path, int bits, CodeFormat format) {
  CodeShard shard;
  const bool per_rank = is_per_rank_path(path);
  agree(comm, [&] {
    if (per_rank) {
      shard.codes = read_codes(rank_path(path, comm.rank()), bits, format);
      return;
    }
    const NpyMap map(path);
    const Index rows = map.items();
    if (rows < comm.size())
      throw InvalidArgument("'" + path + "' holds " + std::to_string(rows) + " codes for " +
                            std::to_string(comm.size()) + " ranks; expected at least one code per rank");
    shard.codes = detail::read_code_rows(map, shard_rows(rows, comm.size(), comm.rank()), bits, format);
  });
  require_same_on_all_ranks(comm, std::to_string(shard.codes.bits()), "code lengths (bits)");
  agree(comm, [&] {
    if (shard.codes.size() == 0)
      throw InvalidArgument("'" + rank_path(path, comm.rank()) + "' holds no codes; every rank needs at least one");
  });
  shard.offset = comm.exclusive_sum(shard.codes.size());
  const std::vector<std::int64_t> sizes = comm.all_gather(shard.codes.size());
  for (const std::int64_t size : sizes) shard.total += size;
  return shard;
}

}  // namespace rlhash::dist
