#pragma once
/// \file
/// The Hamming kernels behind hamming.hpp, knn.hpp and range.hpp (namespace detail).
///
/// Two kernel shapes, each for the scalar, AVX2 and AVX-512 paths (the portable xsimd path is in
/// hamming_kernels_xsimd.hpp) and specialised for codes of
/// 1, 2 and 4 words (a generic word loop covers every other width up to 1024 bits):
///  - distances: every distance from one query to a range of database codes, stored as int32;
///  - filtered scan: distances from a group of up to 4 queries to a range of codes, handing a
///    sink only the codes with distance < sink.threshold(). This fuses distance computation and
///    candidate selection so that kNN and range search never store N distances; querying a
///    group of queries per loaded block of codes saves loads in batched search.
///
/// Every kernel masks the last word of each code with the tail mask, so distances never exceed
/// `bits` even if a (foreign, memory-mapped) database has garbage in its unused tail bits.
///
/// The SIMD kernels are compiled with function target attributes (no -march needed) and must only
/// be called when cpu_features says the path is supported; the public functions check that.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/search/hamming_kernels_xsimd.hpp"
#include "rlhash/search/scalar_distance.hpp"

#if defined(RLHASH_SEARCH_X86)
// GCC 12 reports false -W(maybe-)uninitialized inside its own AVX-512 headers (GCC bug 105593,
// `__m256i __Y = __Y;`); silence it for these kernels only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#endif

namespace rlhash {
namespace detail {

static_assert(BinaryCodes::max_bits <= 1024, "the generic SIMD kernels hold at most 16 query words");

/// The most queries one filtered scan serves per loaded block of database codes.
constexpr int max_scan_group = 4;

// ---------------------------------------------------------------------------------------------
// Scalar path.

inline void distances_scalar(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                             std::int32_t* out) {
  const std::uint64_t tail = db.tail_mask();
  const int w = db.words;
  if (w == 1) {
    const std::uint64_t q = query[0];
    for (Index i = begin; i < end; ++i) out[i - begin] = __builtin_popcountll((db.data[i] ^ q) & tail);
    return;
  }
  for (Index i = begin; i < end; ++i) out[i - begin] = scalar_distance(db.row(i), query, w, tail);
}

/// Sink: `std::int32_t threshold() const` (accept iff distance < threshold) and
/// `void push(Index index, std::int32_t distance)` (which re-checks the threshold, because it
/// may have dropped since the kernel compared).
template <class Sink>
void scan_scalar(const CodesView& db, Index begin, Index end, const std::uint64_t* const* queries, int group,
                 Sink* const* sinks) {
  const std::uint64_t tail = db.tail_mask();
  const int w = db.words;
  for (Index i = begin; i < end; ++i) {
    const std::uint64_t* code = db.row(i);
    for (int g = 0; g < group; ++g) {
      const int d = scalar_distance(code, queries[g], w, tail);
      if (d < sinks[g]->threshold()) sinks[g]->push(i, d);
    }
  }
}

#if defined(RLHASH_SEARCH_X86)

#define RLHASH_TARGET_AVX2 __attribute__((target("avx2,popcnt")))
#define RLHASH_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vpopcntdq,popcnt")))

// The fixed-count loops of the hot kernels are unrolled explicitly: GCC unrolls them by itself at
// -O3 but not at -O2 (CMake's RelWithDebInfo, and the Python module), where the per-query registers
// they index stay on the stack (kNN ran at 0.77x); nvcc's front end warns on both pragmas.
#if defined(__clang__) && !defined(__CUDACC__)
#define RLHASH_UNROLL _Pragma("unroll")
#elif defined(__GNUC__) && !defined(__CUDACC__)
#define RLHASH_UNROLL _Pragma("GCC unroll 16")
#else
#define RLHASH_UNROLL
#endif

/// Fills an 8-word (AVX-512) or 4-word (AVX2) pattern repeating the query (for widths 1, 2, 4)
/// and the matching mask pattern (all ones except the tail mask on each code's last word).
inline void repeat_pattern(const std::uint64_t* query, int words, std::uint64_t tail, int lanes,
                           std::uint64_t* q_out, std::uint64_t* m_out) {
  for (int j = 0; j < lanes; ++j) {
    q_out[j] = query[j % words];
    m_out[j] = (j % words == words - 1) ? tail : ~std::uint64_t{0};
  }
}

/// Query and mask split into chunks of `lanes` words for the generic-width kernels; the words
/// past the code are zero in both so they contribute nothing.
inline void chunk_pattern(const std::uint64_t* query, int words, std::uint64_t tail, int lanes, int chunks,
                          std::uint64_t* q_out, std::uint64_t* m_out) {
  for (int j = 0; j < lanes * chunks; ++j) {
    q_out[j] = j < words ? query[j] : 0;
    m_out[j] = j < words - 1 ? ~std::uint64_t{0} : (j == words - 1 ? tail : 0);
  }
}

/// Steps recorded per chunk by the filtered SIMD scans before the sinks see them.
constexpr int pending_steps = 64;
/// How far ahead single-query scans prefetch (1-2 KiB measured best for L3-resident databases).
constexpr int scan_prefetch_bytes = 1024;

/// Hands the recorded hits of a chunk to the sinks: step p starts at code starts[p]; bit
/// (lanes * g + l) of hits[p] means code starts[p] + l passed query g's filter. Per query the
/// pushes stay in increasing index order; the distance is recomputed (hits are rare) and the sink
/// re-checks it against its current threshold. Inlined into each (target-specific) kernel.
template <int G, int lanes, class Sink>
__attribute__((always_inline)) inline void drain_hits(const std::uint64_t* data, int words,
                                                      std::uint64_t tail, const Index* starts,
                                                      const std::uint32_t* hits, int count,
                                                      const std::uint64_t* const* queries,
                                                      Sink* const* sinks) {
  constexpr std::uint64_t lane_mask = (std::uint64_t{1} << lanes) - 1;
  for (int p = 0; p < count; ++p)
    for (int g = 0; g < G; ++g)
      for (std::uint64_t set = (std::uint64_t{hits[p]} >> (lanes * g)) & lane_mask; set != 0;
           set &= set - 1) {
        const Index j = starts[p] + __builtin_ctzll(set);
        sinks[g]->push(j, scalar_distance(data + j * words, queries[g], words, tail));
      }
}

// ---------------------------------------------------------------------------------------------
// AVX-512: vpopcntq on (code ^ query) & mask (one vpternlogq), lanes reduced per code.

/// Distances of the 8 consecutive codes at `p` (each W words), as 8 int64 lanes in code order.
template <int W>
RLHASH_TARGET_AVX512 inline __m512i avx512_dist8(const std::uint64_t* p, __m512i q, __m512i m) {
  // imm 0x28 = (A ^ B) & C
  if constexpr (W == 1) {
    return _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(_mm512_loadu_si512(p), q, m, 0x28));
  } else if constexpr (W == 2) {
    const __m512i a = _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(_mm512_loadu_si512(p), q, m, 0x28));
    const __m512i b = _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(_mm512_loadu_si512(p + 8), q, m, 0x28));
    const __m512i even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
    return _mm512_add_epi64(_mm512_permutex2var_epi64(a, even, b), _mm512_permutex2var_epi64(a, odd, b));
  } else {
    static_assert(W == 4, "avx512_dist8 handles 1, 2 or 4 words");
    __m512i p4[4];
    RLHASH_UNROLL
    for (int j = 0; j < 4; ++j)
      p4[j] = _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(_mm512_loadu_si512(p + 8 * j), q, m, 0x28));
    // Pairwise sums inside 128-bit blocks, then across blocks: lanes end as codes 0 2 1 3 4 6 5 7.
    const __m512i s01 =
        _mm512_add_epi64(_mm512_unpacklo_epi64(p4[0], p4[1]), _mm512_unpackhi_epi64(p4[0], p4[1]));
    const __m512i s23 =
        _mm512_add_epi64(_mm512_unpacklo_epi64(p4[2], p4[3]), _mm512_unpackhi_epi64(p4[2], p4[3]));
    const __m512i v =
        _mm512_add_epi64(_mm512_shuffle_i64x2(s01, s23, 0x88), _mm512_shuffle_i64x2(s01, s23, 0xDD));
    return _mm512_permutexvar_epi64(_mm512_set_epi64(7, 5, 6, 4, 3, 1, 2, 0), v);
  }
}

/// Distance of one code of `words` words (any width) from its chunked query/mask.
RLHASH_TARGET_AVX512 inline int avx512_dist1(const std::uint64_t* p, const __m512i* q, const __m512i* m,
                                             int chunks, __mmask8 last) {
  __m512i acc = _mm512_setzero_si512();
  for (int c = 0; c + 1 < chunks; ++c)
    acc = _mm512_add_epi64(
        acc, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(_mm512_loadu_si512(p + 8 * c), q[c], m[c], 0x28)));
  const __m512i x = _mm512_maskz_loadu_epi64(last, p + 8 * (chunks - 1));
  acc = _mm512_add_epi64(
      acc, _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(x, q[chunks - 1], m[chunks - 1], 0x28)));
  return static_cast<int>(_mm512_reduce_add_epi64(acc));
}

template <int W>
RLHASH_TARGET_AVX512 void distances_avx512_fixed(const CodesView& db, Index begin, Index end,
                                                 const std::uint64_t* query, std::int32_t* out) {
  alignas(64) std::uint64_t qp[8], mp[8];
  repeat_pattern(query, W, db.tail_mask(), 8, qp, mp);
  const __m512i q = _mm512_load_si512(qp), m = _mm512_load_si512(mp);
  Index i = begin;
  for (; i + 8 <= end; i += 8)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + (i - begin)),
                        _mm512_cvtepi64_epi32(avx512_dist8<W>(db.data + i * W, q, m)));
  const std::uint64_t tail = db.tail_mask();
  for (; i < end; ++i) out[i - begin] = scalar_distance(db.row(i), query, W, tail);
}

RLHASH_TARGET_AVX512 inline void distances_avx512_generic(const CodesView& db, Index begin, Index end,
                                                          const std::uint64_t* query, std::int32_t* out) {
  const int chunks = (db.words + 7) / 8;
  alignas(64) std::uint64_t qp[16], mp[16];
  chunk_pattern(query, db.words, db.tail_mask(), 8, chunks, qp, mp);
  __m512i q[2], m[2];
  for (int c = 0; c < chunks; ++c) {
    q[c] = _mm512_load_si512(qp + 8 * c);
    m[c] = _mm512_load_si512(mp + 8 * c);
  }
  const int rest = db.words - 8 * (chunks - 1);
  const __mmask8 last = static_cast<__mmask8>(rest == 8 ? 0xFF : (1U << rest) - 1);
  for (Index i = begin; i < end; ++i) out[i - begin] = avx512_dist1(db.row(i), q, m, chunks, last);
}

inline void distances_avx512(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                             std::int32_t* out) {
  switch (db.words) {
    case 1:
      distances_avx512_fixed<1>(db, begin, end, query, out);
      break;
    case 2:
      distances_avx512_fixed<2>(db, begin, end, query, out);
      break;
    case 4:
      distances_avx512_fixed<4>(db, begin, end, query, out);
      break;
    default:
      distances_avx512_generic(db, begin, end, query, out);
      break;
  }
}

/// Filtered scan of G queries over codes [begin, end) of width W, 8 codes per vector, U vectors
/// per step (G * U = 4). The inner loop is branch-free: each step stores its start and its
/// 32-bit hit mask and advances the record count only when some code passed a filter. Once per
/// chunk of steps the records go to the sinks (drain_hits) and the thresholds are reloaded.
/// Taking a mispredicted branch in the loop for every hit would cost more than the scan of a
/// whole step (it drains the loads in flight), and the first few thousand codes of a top-k scan
/// hit often. Single-query scans stream the database once, so they also prefetch ahead.
template <int W, int G, class Sink>
RLHASH_TARGET_AVX512 void scan_avx512_fixed(const CodesView& db, Index begin, Index end,
                                            const std::uint64_t* const* queries, Sink* const* sinks) {
  constexpr int U = G == 1 ? 4 : 1;
  static_assert(G * U == 4, "a step packs exactly four 8-lane masks");
  constexpr Index step = 8 * U;
  const std::uint64_t tail = db.tail_mask();
  alignas(64) std::uint64_t qp[8], mp[8];
  __m512i q[G], t[G], m = _mm512_setzero_si512();
  for (int g = 0; g < G; ++g) {
    repeat_pattern(queries[g], W, tail, 8, qp, mp);
    q[g] = _mm512_load_si512(qp);
    m = _mm512_load_si512(mp);
    t[g] = _mm512_set1_epi64(sinks[g]->threshold());
  }
  const std::uint64_t* data = db.data;
  Index starts[pending_steps];
  std::uint32_t hits[pending_steps];
  Index i = begin;
  // Chunks start short and double: thresholds fall fastest at the start of a scan.
  for (Index chunk_steps = 4; i + step <= end;
       chunk_steps = std::min<Index>(2 * chunk_steps, pending_steps)) {
    const Index chunk_end = i + std::min<Index>(chunk_steps, (end - i) / step) * step;
    int pending = 0;
    for (; i < chunk_end; i += step) {
      const std::uint64_t* p = data + i * W;
      __mmask8 mask[4];
      if constexpr (G == 1) {
        RLHASH_UNROLL
        for (int line = 0; line < W * U; ++line)
          _mm_prefetch(reinterpret_cast<const char*>(p) + scan_prefetch_bytes + 64 * line, _MM_HINT_T0);
        RLHASH_UNROLL
        for (int u = 0; u < 4; ++u)
          mask[u] = _mm512_cmplt_epi64_mask(avx512_dist8<W>(p + 8 * u * W, q[0], m), t[0]);
      } else {
        RLHASH_UNROLL
        for (int g = 0; g < 4; ++g) mask[g] = _mm512_cmplt_epi64_mask(avx512_dist8<W>(p, q[g], m), t[g]);
      }
      // Plain shifts: on AMD cores kunpck* mask instructions measured slower.
      const std::uint32_t packed =
          static_cast<std::uint32_t>(mask[0]) | (static_cast<std::uint32_t>(mask[1]) << 8) |
          (static_cast<std::uint32_t>(mask[2]) << 16) | (static_cast<std::uint32_t>(mask[3]) << 24);
      starts[pending] = i;
      hits[pending] = packed;
      pending += packed != 0;
    }
    if (pending > 0) {
      drain_hits<G, 8 * U>(data, W, tail, starts, hits, pending, queries, sinks);
      for (int g = 0; g < G; ++g) t[g] = _mm512_set1_epi64(sinks[g]->threshold());
    }
  }
  for (; i < end; ++i)
    for (int g = 0; g < G; ++g) {
      const int d = scalar_distance(data + i * W, queries[g], W, tail);
      if (d < sinks[g]->threshold()) sinks[g]->push(i, d);
    }
}

template <class Sink>
RLHASH_TARGET_AVX512 void scan_avx512_generic(const CodesView& db, Index begin, Index end,
                                              const std::uint64_t* const* queries, int group,
                                              Sink* const* sinks) {
  const int chunks = (db.words + 7) / 8;
  alignas(64) std::uint64_t qp[16], mp[16];
  __m512i q[max_scan_group][2], m[2];
  for (int g = 0; g < group; ++g) {
    chunk_pattern(queries[g], db.words, db.tail_mask(), 8, chunks, qp, mp);
    for (int c = 0; c < chunks; ++c) {
      q[g][c] = _mm512_load_si512(qp + 8 * c);
      m[c] = _mm512_load_si512(mp + 8 * c);
    }
  }
  const int rest = db.words - 8 * (chunks - 1);
  const __mmask8 last = static_cast<__mmask8>(rest == 8 ? 0xFF : (1U << rest) - 1);
  for (Index i = begin; i < end; ++i) {
    const std::uint64_t* code = db.row(i);
    for (int g = 0; g < group; ++g) {
      const int d = avx512_dist1(code, q[g], m, chunks, last);
      if (d < sinks[g]->threshold()) sinks[g]->push(i, d);
    }
  }
}

template <class Sink>
void scan_avx512(const CodesView& db, Index begin, Index end, const std::uint64_t* const* queries, int group,
                 Sink* const* sinks) {
  if (group == max_scan_group) {
    switch (db.words) {
      case 1:
        return scan_avx512_fixed<1, max_scan_group>(db, begin, end, queries, sinks);
      case 2:
        return scan_avx512_fixed<2, max_scan_group>(db, begin, end, queries, sinks);
      case 4:
        return scan_avx512_fixed<4, max_scan_group>(db, begin, end, queries, sinks);
      default:
        return scan_avx512_generic(db, begin, end, queries, group, sinks);
    }
  }
  if (db.words != 1 && db.words != 2 && db.words != 4)
    return scan_avx512_generic(db, begin, end, queries, group, sinks);
  for (int g = 0; g < group; ++g) {
    switch (db.words) {
      case 1:
        scan_avx512_fixed<1, 1>(db, begin, end, queries + g, sinks + g);
        break;
      case 2:
        scan_avx512_fixed<2, 1>(db, begin, end, queries + g, sinks + g);
        break;
      default:
        scan_avx512_fixed<4, 1>(db, begin, end, queries + g, sinks + g);
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// AVX2: byte popcounts from a 16-entry nibble table (vpshufb), summed per 64-bit lane (vpsadbw).

RLHASH_TARGET_AVX2 inline __m256i avx2_popcount_bytes(__m256i v) {
  const __m256i table = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2,
                                         3, 1, 2, 2, 3, 2, 3, 3, 4);
  const __m256i low = _mm256_set1_epi8(0x0F);
  const __m256i lo = _mm256_and_si256(v, low);
  const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), low);
  return _mm256_add_epi8(_mm256_shuffle_epi8(table, lo), _mm256_shuffle_epi8(table, hi));
}

RLHASH_TARGET_AVX2 inline __m256i avx2_load(const std::uint64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

RLHASH_TARGET_AVX2 inline __m256i avx2_popcount_words(__m256i x, __m256i q, __m256i m) {
  const __m256i v = _mm256_and_si256(_mm256_xor_si256(x, q), m);
  return _mm256_sad_epu8(avx2_popcount_bytes(v), _mm256_setzero_si256());
}

/// Distances of the 4 consecutive codes at `p` (each W words), as 4 int64 lanes in code order.
template <int W>
RLHASH_TARGET_AVX2 inline __m256i avx2_dist4(const std::uint64_t* p, __m256i q, __m256i m) {
  if constexpr (W == 1) {
    return avx2_popcount_words(avx2_load(p), q, m);
  } else if constexpr (W == 2) {
    const __m256i a = avx2_popcount_words(avx2_load(p), q, m);      // c0w0 c0w1 c1w0 c1w1
    const __m256i b = avx2_popcount_words(avx2_load(p + 4), q, m);  // c2w0 c2w1 c3w0 c3w1
    const __m256i s =
        _mm256_add_epi64(_mm256_unpacklo_epi64(a, b), _mm256_unpackhi_epi64(a, b));  // c0 c2 c1 c3
    return _mm256_permute4x64_epi64(s, 0xD8);
  } else {
    static_assert(W == 4, "avx2_dist4 handles 1, 2 or 4 words");
    __m256i s[4];
    RLHASH_UNROLL
    for (int j = 0; j < 4; ++j) s[j] = avx2_popcount_words(avx2_load(p + 4 * j), q, m);
    const __m256i s01 =
        _mm256_add_epi64(_mm256_unpacklo_epi64(s[0], s[1]), _mm256_unpackhi_epi64(s[0], s[1]));
    const __m256i s23 =
        _mm256_add_epi64(_mm256_unpacklo_epi64(s[2], s[3]), _mm256_unpackhi_epi64(s[2], s[3]));
    return _mm256_add_epi64(_mm256_permute2x128_si256(s01, s23, 0x20),
                            _mm256_permute2x128_si256(s01, s23, 0x31));
  }
}

/// Distance of one code of any width from its chunked (4-word) query/mask.
RLHASH_TARGET_AVX2 inline int avx2_dist1(const std::uint64_t* p, const __m256i* q, const __m256i* m,
                                         int chunks, __m256i last) {
  // Byte counts are at most 8 per chunk, so up to 4 chunks (16 words) add without overflow.
  __m256i bytes = _mm256_setzero_si256();
  for (int c = 0; c + 1 < chunks; ++c) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 4 * c));
    bytes = _mm256_add_epi8(bytes, avx2_popcount_bytes(_mm256_and_si256(_mm256_xor_si256(x, q[c]), m[c])));
  }
  const __m256i x = _mm256_maskload_epi64(reinterpret_cast<const long long*>(p + 4 * (chunks - 1)), last);
  bytes = _mm256_add_epi8(
      bytes, avx2_popcount_bytes(_mm256_and_si256(_mm256_xor_si256(x, q[chunks - 1]), m[chunks - 1])));
  const __m256i sums = _mm256_sad_epu8(bytes, _mm256_setzero_si256());
  const __m128i half = _mm_add_epi64(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
  return static_cast<int>(_mm_cvtsi128_si64(half) + _mm_extract_epi64(half, 1));
}

RLHASH_TARGET_AVX2 inline __m256i avx2_last_chunk_mask(int words, int chunks) {
  const int rest = words - 4 * (chunks - 1);
  return _mm256_setr_epi64x(-1, rest > 1 ? -1 : 0, rest > 2 ? -1 : 0, rest > 3 ? -1 : 0);
}

template <int W>
RLHASH_TARGET_AVX2 void distances_avx2_fixed(const CodesView& db, Index begin, Index end,
                                             const std::uint64_t* query, std::int32_t* out) {
  alignas(32) std::uint64_t qp[4], mp[4];
  repeat_pattern(query, W, db.tail_mask(), 4, qp, mp);
  const __m256i q = _mm256_load_si256(reinterpret_cast<const __m256i*>(qp));
  const __m256i m = _mm256_load_si256(reinterpret_cast<const __m256i*>(mp));
  const __m256i low_dwords = _mm256_setr_epi32(0, 2, 4, 6, 0, 0, 0, 0);
  Index i = begin;
  for (; i + 4 <= end; i += 4) {
    const __m256i d = _mm256_permutevar8x32_epi32(avx2_dist4<W>(db.data + i * W, q, m), low_dwords);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + (i - begin)), _mm256_castsi256_si128(d));
  }
  const std::uint64_t tail = db.tail_mask();
  for (; i < end; ++i) out[i - begin] = scalar_distance(db.row(i), query, W, tail);
}

RLHASH_TARGET_AVX2 inline void distances_avx2_generic(const CodesView& db, Index begin, Index end,
                                                      const std::uint64_t* query, std::int32_t* out) {
  const int chunks = (db.words + 3) / 4;
  alignas(32) std::uint64_t qp[16], mp[16];
  chunk_pattern(query, db.words, db.tail_mask(), 4, chunks, qp, mp);
  __m256i q[4], m[4];
  for (int c = 0; c < chunks; ++c) {
    q[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(qp + 4 * c));
    m[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(mp + 4 * c));
  }
  const __m256i last = avx2_last_chunk_mask(db.words, chunks);
  for (Index i = begin; i < end; ++i) out[i - begin] = avx2_dist1(db.row(i), q, m, chunks, last);
}

inline void distances_avx2(const CodesView& db, Index begin, Index end, const std::uint64_t* query,
                           std::int32_t* out) {
  switch (db.words) {
    case 1:
      distances_avx2_fixed<1>(db, begin, end, query, out);
      break;
    case 2:
      distances_avx2_fixed<2>(db, begin, end, query, out);
      break;
    case 4:
      distances_avx2_fixed<4>(db, begin, end, query, out);
      break;
    default:
      distances_avx2_generic(db, begin, end, query, out);
      break;
  }
}

/// The AVX2 counterpart of scan_avx512_fixed: 4 codes per vector, four 4-bit masks per step.
template <int W, int G, class Sink>
RLHASH_TARGET_AVX2 void scan_avx2_fixed(const CodesView& db, Index begin, Index end,
                                        const std::uint64_t* const* queries, Sink* const* sinks) {
  constexpr int U = G == 1 ? 4 : 1;
  static_assert(G * U == 4, "a step packs exactly four 4-lane masks");
  constexpr Index step = 4 * U;
  const std::uint64_t tail = db.tail_mask();
  alignas(32) std::uint64_t qp[4], mp[4];
  __m256i q[G], t[G], m = _mm256_setzero_si256();
  for (int g = 0; g < G; ++g) {
    repeat_pattern(queries[g], W, tail, 4, qp, mp);
    q[g] = _mm256_load_si256(reinterpret_cast<const __m256i*>(qp));
    m = _mm256_load_si256(reinterpret_cast<const __m256i*>(mp));
    t[g] = _mm256_set1_epi64x(sinks[g]->threshold());
  }
  const std::uint64_t* data = db.data;
  Index starts[pending_steps];
  std::uint32_t hits[pending_steps];
  Index i = begin;
  for (Index chunk_steps = 4; i + step <= end;
       chunk_steps = std::min<Index>(2 * chunk_steps, pending_steps)) {
    const Index chunk_end = i + std::min<Index>(chunk_steps, (end - i) / step) * step;
    int pending = 0;
    for (; i < chunk_end; i += step) {
      const std::uint64_t* p = data + i * W;
      std::uint32_t packed = 0;
      RLHASH_UNROLL
      for (int j = 0; j < 4; ++j) {
        const int u = G == 1 ? j : 0, g = G == 1 ? 0 : j;
        if (G == 1 && j == 0) {
          RLHASH_UNROLL
          for (int line = 0; line < (W * U * 32) / 64; ++line)
            _mm_prefetch(reinterpret_cast<const char*>(p) + scan_prefetch_bytes + 64 * line, _MM_HINT_T0);
        }
        const __m256i below = _mm256_cmpgt_epi64(t[g], avx2_dist4<W>(p + 4 * u * W, q[g], m));
        packed |= static_cast<std::uint32_t>(_mm256_movemask_pd(_mm256_castsi256_pd(below))) << (4 * j);
      }
      starts[pending] = i;
      hits[pending] = packed;
      pending += packed != 0;
    }
    if (pending > 0) {
      drain_hits<G, 4 * U>(data, W, tail, starts, hits, pending, queries, sinks);
      for (int g = 0; g < G; ++g) t[g] = _mm256_set1_epi64x(sinks[g]->threshold());
    }
  }
  for (; i < end; ++i)
    for (int g = 0; g < G; ++g) {
      const int d = scalar_distance(data + i * W, queries[g], W, tail);
      if (d < sinks[g]->threshold()) sinks[g]->push(i, d);
    }
}

template <class Sink>
RLHASH_TARGET_AVX2 void scan_avx2_generic(const CodesView& db, Index begin, Index end,
                                          const std::uint64_t* const* queries, int group,
                                          Sink* const* sinks) {
  const int chunks = (db.words + 3) / 4;
  alignas(32) std::uint64_t qp[16], mp[16];
  __m256i q[max_scan_group][4], m[4];
  for (int g = 0; g < group; ++g) {
    chunk_pattern(queries[g], db.words, db.tail_mask(), 4, chunks, qp, mp);
    for (int c = 0; c < chunks; ++c) {
      q[g][c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(qp + 4 * c));
      m[c] = _mm256_load_si256(reinterpret_cast<const __m256i*>(mp + 4 * c));
    }
  }
  const __m256i last = avx2_last_chunk_mask(db.words, chunks);
  for (Index i = begin; i < end; ++i) {
    const std::uint64_t* code = db.row(i);
    for (int g = 0; g < group; ++g) {
      const int d = avx2_dist1(code, q[g], m, chunks, last);
      if (d < sinks[g]->threshold()) sinks[g]->push(i, d);
    }
  }
}

template <class Sink>
void scan_avx2(const CodesView& db, Index begin, Index end, const std::uint64_t* const* queries, int group,
               Sink* const* sinks) {
  if (group == max_scan_group) {
    switch (db.words) {
      case 1:
        return scan_avx2_fixed<1, max_scan_group>(db, begin, end, queries, sinks);
      case 2:
        return scan_avx2_fixed<2, max_scan_group>(db, begin, end, queries, sinks);
      case 4:
        return scan_avx2_fixed<4, max_scan_group>(db, begin, end, queries, sinks);
      default:
        return scan_avx2_generic(db, begin, end, queries, group, sinks);
    }
  }
  if (db.words != 1 && db.words != 2 && db.words != 4)
    return scan_avx2_generic(db, begin, end, queries, group, sinks);
  for (int g = 0; g < group; ++g) {
    switch (db.words) {
      case 1:
        scan_avx2_fixed<1, 1>(db, begin, end, queries + g, sinks + g);
        break;
      case 2:
        scan_avx2_fixed<2, 1>(db, begin, end, queries + g, sinks + g);
        break;
      default:
        scan_avx2_fixed<4, 1>(db, begin, end, queries + g, sinks + g);
        break;
    }
  }
}

#endif  // RLHASH_SEARCH_X86

// ---------------------------------------------------------------------------------------------
// Dispatch (the caller has checked that `path` is supported).

inline void distances_range(SimdPath path, const CodesView& db, Index begin, Index end,
                            const std::uint64_t* query, std::int32_t* out) {
#if defined(RLHASH_SEARCH_X86)
  if (path == SimdPath::avx512) return distances_avx512(db, begin, end, query, out);
  if (path == SimdPath::avx2) return distances_avx2(db, begin, end, query, out);
#endif
#if defined(RLHASH_SEARCH_XSIMD)
  if (path == SimdPath::xsimd) return distances_xsimd(db, begin, end, query, out);
#endif
  (void)path;
  distances_scalar(db, begin, end, query, out);
}

/// Scans codes [begin, end) for `group` (1..max_scan_group) queries, pushing to sinks[g] every
/// code with distance < sinks[g]->threshold(), in increasing index order per query.
template <class Sink>
void scan_range(SimdPath path, const CodesView& db, Index begin, Index end,
                const std::uint64_t* const* queries, int group, Sink* const* sinks) {
  if (begin >= end || group <= 0) return;
#if defined(RLHASH_SEARCH_X86)
  if (path == SimdPath::avx512) return scan_avx512(db, begin, end, queries, group, sinks);
  if (path == SimdPath::avx2) return scan_avx2(db, begin, end, queries, group, sinks);
#endif
#if defined(RLHASH_SEARCH_XSIMD)
  if (path == SimdPath::xsimd) return scan_xsimd(db, begin, end, queries, group, sinks);
#endif
  (void)path;
  scan_scalar(db, begin, end, queries, group, sinks);
}

}  // namespace detail
}  // namespace rlhash

#if defined(RLHASH_SEARCH_X86) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
