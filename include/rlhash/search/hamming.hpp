#pragma once
/// \file
/// Hamming distances between packed binary codes: a scalar reference and run-time dispatched
/// SIMD kernels (see cpu_features.hpp for the path choice, hamming_kernels.hpp for the kernels).
/// All paths return bit-for-bit the same integers.
#include <algorithm>
#include <cstdint>
#include <string>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming_kernels.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash {

/// Scalar reference: the number of differing bits among the first `bits` bits of two codes in
/// BinaryCodes layout (bits past `bits` in the last word are ignored).
inline int hamming_distance(const std::uint64_t* a, const std::uint64_t* b, int bits) {
  if (bits < 1 || bits > BinaryCodes::max_bits)
    throw InvalidArgument("hamming_distance: bits = " + std::to_string(bits) + ", expected 1.." +
                          std::to_string(BinaryCodes::max_bits));
  const int words = (bits + 63) / 64;
  const int used = bits - (words - 1) * 64;
  const std::uint64_t tail = used == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << used) - 1;
  return detail::scalar_distance(a, b, words, tail);
}

/// Distance between code i of `a` and code j of `b` (equal bit counts required).
inline int hamming_distance(const CodesView& a, Index i, const CodesView& b, Index j) {
  detail::require_same_bits(a, b);
  if (i < 0 || i >= a.size || j < 0 || j >= b.size)
    throw InvalidArgument("hamming_distance: row " + std::to_string(i) + " / " + std::to_string(j) +
                          " outside [0, " + std::to_string(a.size) + ") / [0, " + std::to_string(b.size) +
                          ")");
  return detail::scalar_distance(a.row(i), b.row(j), a.words, a.tail_mask());
}

/// out[i] = distance from `query` (database.words words) to database code i, for all i.
inline void hamming_distances(const std::uint64_t* query, const CodesView& database, std::int32_t* out,
                              SimdPath path = active_simd_path()) {
  detail::require_codes(database, "hamming_distances: database");
  require_simd_path(path);
  if (database.size == 0) return;
  if (query == nullptr || out == nullptr) throw InvalidArgument("hamming_distances: null query or output");
  detail::distances_range(path, database, 0, database.size, query, out);
}

/// out[q * N + i] = distance from query q to database code i (row-major [nq, N]); threads over
/// blocks of database codes, so every output row is written by cache-sized pieces.
inline void hamming_distance_matrix(const CodesView& queries, const CodesView& database, std::int32_t* out,
                                    int threads = 0, SimdPath path = active_simd_path()) {
  detail::require_query_database(queries, database, "hamming_distance_matrix");
  require_simd_path(path);
  const Index n = database.size;
  if (n == 0 || queries.size == 0) return;
  if (out == nullptr) throw InvalidArgument("hamming_distance_matrix: null output");
  const Index block = std::max<Index>(256, 16384 / database.words);
  const Index blocks = (n + block - 1) / block;
  const int workers = static_cast<int>(std::min<Index>(detail::resolve_threads(threads), blocks));
  detail::run_parallel(workers, [&](int t) {
    for (Index b = detail::share_begin(blocks, workers, t); b < detail::share_begin(blocks, workers, t + 1);
         ++b) {
      const Index begin = b * block, end = std::min(n, begin + block);
      for (Index q = 0; q < queries.size; ++q)
        detail::distances_range(path, database, begin, end, queries.row(q), out + q * n + begin);
    }
  });
}

}  // namespace rlhash
