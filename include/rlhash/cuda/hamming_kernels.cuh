#pragma once
/// \file
/// The CUDA kernels of the GPU Hamming search (see select.hpp for the algorithm). Only for .cu
/// translation units; the kernels are templates, so every .cu that includes this file gets its
/// own instances without link conflicts.
#if !defined(__CUDACC__)
#error "rlhash/cuda/hamming_kernels.cuh holds CUDA kernels: include it only from .cu files compiled by nvcc"
#endif

#include <cstdint>

#include "rlhash/cuda/select.hpp"

namespace rlhash::cuda::kernels {

constexpr int block_threads = 256;
constexpr int block_warps = block_threads / 32;
/// Queries per block of the histogram pass in batched search: each loaded database word is
/// compared with this many queries held in shared memory.
constexpr int query_tile = 8;
constexpr unsigned full_mask = 0xffffffffu;

/// Distance of the code at `code` to `query` (shared memory); the last word is masked with
/// `tail` so garbage in unused tail bits (of either side) never counts. W > 0 fixes the words
/// per code at compile time, W == 0 reads `words`.
template <int W>
__device__ __forceinline__ int code_distance(const std::uint64_t* __restrict__ code,
                                             const std::uint64_t* query, int words, std::uint64_t tail) {
  const int nw = W > 0 ? W : words;
  int d = 0;
#pragma unroll
  for (int w = 0; w < nw; ++w) {
    std::uint64_t x = __ldg(code + w) ^ query[w];
    if (w == nw - 1) x &= tail;
    d += __popcll(x);
  }
  return d;
}

/// Pass 1: hist[q][c][d] = codes of chunk c at distance d from query q.
/// Grid: x = chunk, y = tile of QT queries. Shared memory: the QT queries, then `replicas`
/// copies of a QT x bins histogram (warp w adds to copy w % replicas, which spreads the
/// shared-memory atomics of a single query over several addresses).
template <int W, int QT>
__global__ void __launch_bounds__(block_threads)
    histogram_kernel(const std::uint64_t* __restrict__ db, long long n, int words, std::uint64_t tail,
                     const std::uint64_t* __restrict__ queries, int batch, long long chunk_len, int chunks,
                     int bins, int replicas, int* __restrict__ hist) {
  extern __shared__ std::uint64_t shared_words[];
  const int nw = W > 0 ? W : words;
  std::uint64_t* q_s = shared_words;
  int* h_s = reinterpret_cast<int*>(q_s + QT * nw);
  const int q0 = blockIdx.y * QT;
  const int qn = min(QT, batch - q0);
  const int c = blockIdx.x;
  const long long begin = static_cast<long long>(c) * chunk_len;
  const long long end = min(n, begin + chunk_len);

  for (int i = threadIdx.x; i < QT * nw; i += block_threads)
    q_s[i] = i < qn * nw ? queries[static_cast<long long>(q0) * nw + i] : 0;
  for (int i = threadIdx.x; i < replicas * QT * bins; i += block_threads) h_s[i] = 0;
  __syncthreads();
  int* my_h = h_s + ((threadIdx.x / 32) % replicas) * QT * bins;

  // Two codes per thread per step keep two independent loads in flight.
  constexpr int U = 2;
  for (long long i0 = begin + threadIdx.x; i0 < end; i0 += static_cast<long long>(U) * block_threads) {
    int d[U][QT];
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
      for (int qq = 0; qq < QT; ++qq) d[u][qq] = 0;
#pragma unroll
    for (int w = 0; w < nw; ++w) {
      std::uint64_t x[U];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const long long i = i0 + static_cast<long long>(u) * block_threads;
        x[u] = i < end ? __ldg(db + i * nw + w) : 0;
      }
      const std::uint64_t m = w == nw - 1 ? tail : ~std::uint64_t{0};
#pragma unroll
      for (int qq = 0; qq < QT; ++qq) {
        const std::uint64_t qw = q_s[qq * nw + w];
#pragma unroll
        for (int u = 0; u < U; ++u) d[u][qq] += __popcll((x[u] ^ qw) & m);
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (i0 + static_cast<long long>(u) * block_threads < end) {
#pragma unroll
        for (int qq = 0; qq < QT; ++qq)
          if (qq < qn) atomicAdd(&my_h[qq * bins + d[u][qq]], 1);
      }
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < qn * bins; i += block_threads) {
    int sum = 0;
    for (int r = 0; r < replicas; ++r) sum += h_s[r * QT * bins + i];
    const int qq = i / bins, dd = i % bins;
    hist[(static_cast<long long>(q0 + qq) * chunks + c) * bins + dd] = sum;
  }
}

/// Pass 2, one block per query: global histogram, threshold, chunk plans, output slots
/// (select.hpp steps 2). `k` >= 0: k-NN with k = min(k, N); else range search with `radius`.
/// Shared memory: bins ints.
__global__ void __launch_bounds__(block_threads)
    select_kernel(int* __restrict__ hist, int chunks, int bins, int k, int radius,
                  Threshold* __restrict__ thresholds, ChunkInfo* __restrict__ chunk_info) {
  extern __shared__ int global_hist[];
  __shared__ Threshold th_s;
  const int q = blockIdx.x;
  int* hq = hist + static_cast<long long>(q) * chunks * bins;
  ChunkInfo* info = chunk_info + static_cast<long long>(q) * chunks;
  for (int d = threadIdx.x; d < bins; d += block_threads) {
    int sum = 0;
    for (int c = 0; c < chunks; ++c) sum += hq[static_cast<long long>(c) * bins + d];
    global_hist[d] = sum;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    const Threshold th = k >= 0 ? detail::knn_threshold(global_hist, bins, k)
                                : detail::range_threshold(global_hist, bins, radius);
    th_s = th;
    thresholds[q] = th;
    int running = 0;  // exclusive prefix: codes at distance < d
    for (int d = 0; d < th.t; ++d) {
      const int v = global_hist[d];
      global_hist[d] = running;
      running += v;
    }
  }
  __syncthreads();
  const Threshold th = th_s;
  for (int c = threadIdx.x; c < chunks; c += block_threads) {
    const int* row = hq + static_cast<long long>(c) * bins;
    int below = 0;
    for (int d = 0; d < th.t; ++d) below += row[d];
    ChunkInfo raw;
    raw.below = below;
    raw.tie_base = th.t < bins ? row[th.t] : 0;  // the tie count until the scan below
    info[c] = raw;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    int ties_before = 0;
    for (int c = 0; c < chunks; ++c) {
      const ChunkInfo raw = info[c];
      info[c] = detail::chunk_info(raw.below, raw.tie_base, ties_before, th);
      ties_before += raw.tie_base;
    }
  }
  // Columns d < t only (the plans above read the counts at t, which stay untouched).
  for (int d = threadIdx.x; d < th.t; d += block_threads)
    detail::scan_chunk_column(hq + d, bins, chunks, global_hist[d]);
}

/// Pass 3: grid x = chunk, y = query. Walks the chunk in tiles of block_threads codes in index
/// order and writes each result to its slot (select.hpp step 3): ties ranked by a block-wide
/// ballot scan, codes below t ranked among equal distances with __match_any_sync, warp by
/// warp. Blocks of chunks without results return at once; a block stops once its chunk's
/// results are out. Shared memory: the query (words), then the slot counters (bins ints).
template <int W>
__global__ void __launch_bounds__(block_threads)
    gather_kernel(const std::uint64_t* __restrict__ db, long long n, int words, std::uint64_t tail,
                  const std::uint64_t* __restrict__ queries, long long chunk_len, int chunks, int bins,
                  const int* __restrict__ slots, const Threshold* __restrict__ thresholds,
                  const ChunkInfo* __restrict__ chunk_info, const long long* __restrict__ out_base,
                  long long* __restrict__ out_indices, int* __restrict__ out_distances) {
  const int q = blockIdx.y, c = blockIdx.x;
  const ChunkInfo info = chunk_info[static_cast<long long>(q) * chunks + c];
  if (info.below == 0 && info.tie_need == 0) return;
  extern __shared__ std::uint64_t shared_words[];
  __shared__ int warp_ties[block_warps];
  const int nw = W > 0 ? W : words;
  std::uint64_t* q_s = shared_words;
  int* slot_s = reinterpret_cast<int*>(q_s + nw);
  const Threshold th = thresholds[q];
  for (int i = threadIdx.x; i < nw; i += block_threads) q_s[i] = queries[static_cast<long long>(q) * nw + i];
  const int* chunk_slots = slots + (static_cast<long long>(q) * chunks + c) * bins;
  for (int d = threadIdx.x; d < th.t; d += block_threads) slot_s[d] = chunk_slots[d];
  __syncthreads();

  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned lanes_below = (1u << lane) - 1u;
  const long long base = out_base[q];
  const long long begin = static_cast<long long>(c) * chunk_len;
  const long long end = min(n, begin + chunk_len);
  int ties_seen = 0, below_seen = 0;
  for (long long start = begin; start < end; start += block_threads) {
    const long long i = start + threadIdx.x;
    const bool valid = i < end;
    const int d = valid ? code_distance<W>(db + i * nw, q_s, words, tail) : 0;
    const bool is_tie = valid && d == th.t;
    const bool is_below = valid && d < th.t;

    // Ties: rank in index order over the whole tile.
    const unsigned tie_mask = __ballot_sync(full_mask, is_tie);
    if (lane == 0) warp_ties[warp] = __popc(tie_mask);
    __syncthreads();
    int before = 0, tile_ties = 0;
#pragma unroll
    for (int w = 0; w < block_warps; ++w) {
      const int v = warp_ties[w];
      before += w < warp ? v : 0;
      tile_ties += v;
    }
    if (is_tie) {
      const int rank = ties_seen + before + __popc(tie_mask & lanes_below);
      if (rank < info.tie_need) {
        const long long pos = base + info.tie_base + rank;
        out_indices[pos] = i;
        out_distances[pos] = d;
      }
    }
    ties_seen += tile_ties;

    // Codes below t: rank among equal distances, warps in index order. Rare in k-NN (fewer
    // than k codes in all), so the per-warp barriers run only in tiles that hold one.
    const int tile_below = __syncthreads_count(is_below);  // also orders warp_ties reuse
    if (tile_below > 0) {
      const unsigned same = __match_any_sync(full_mask, is_below ? d : -1);
      const int rank_in_warp = __popc(same & lanes_below);
      for (int w = 0; w < block_warps; ++w) {
        if (warp == w && is_below) {
          const long long pos = base + slot_s[d] + rank_in_warp;
          out_indices[pos] = i;
          out_distances[pos] = d;
        }
        __syncwarp();
        if (warp == w && is_below && rank_in_warp == 0) slot_s[d] += __popc(same);
        __syncthreads();
      }
      below_seen += tile_below;
    }
    if (below_seen >= info.below && ties_seen >= info.tie_need) break;
  }
}

}  // namespace rlhash::cuda::kernels
