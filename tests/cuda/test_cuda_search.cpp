// GPU k-NN and range search against a host brute force (stable sort) and the CPU search.
// Runs only with a CUDA device (gpu_main.cpp returns the skip code otherwise).
#include <catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/cuda/gpu_hamming_index.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/range.hpp"

using namespace rlhash;
using rlhash::cuda::GpuHammingIndex;
using rlhash::cuda::GpuSearchOptions;

namespace {

BinaryCodes random_codes(Rng& rng, Index n, int bits) {
  BinaryCodes codes(n, bits);
  for (Index i = 0; i < n; ++i)
    for (int j = 0; j < bits; ++j) codes.set(i, j, (rng() & 1U) != 0);
  return codes;
}

// Codes copied from a small pool with a few flipped bits: many equal distances, big tie buckets.
BinaryCodes clustered_codes(Rng& rng, Index n, int bits, Index pool) {
  const BinaryCodes centers = random_codes(rng, pool, bits);
  BinaryCodes codes(n, bits);
  for (Index i = 0; i < n; ++i) {
    const Index c = static_cast<Index>(uniform_below(rng, static_cast<std::uint64_t>(pool)));
    std::copy(centers.row(c), centers.row(c) + codes.words(), codes.row(i));
    if (uniform_below(rng, 2) == 0)
      codes.flip(i, static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(bits))));
  }
  return codes;
}

// Host brute force: scalar distances, stable sort, -1 padding past N.
KnnResult reference_knn(const BinaryCodes& queries, const BinaryCodes& db, Index k) {
  KnnResult r;
  r.queries = queries.size();
  r.k = k;
  r.indices.assign(static_cast<std::size_t>(queries.size() * k), -1);
  r.distances.assign(static_cast<std::size_t>(queries.size() * k), -1);
  for (Index q = 0; q < queries.size(); ++q) {
    std::vector<int> dist(static_cast<std::size_t>(db.size()));
    for (Index i = 0; i < db.size(); ++i) dist[i] = hamming_distance(queries.row(q), db.row(i), db.bits());
    std::vector<Index> order(dist.size());
    std::iota(order.begin(), order.end(), Index{0});
    std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return dist[a] < dist[b]; });
    for (Index j = 0; j < std::min(k, db.size()); ++j) {
      r.indices[q * k + j] = order[j];
      r.distances[q * k + j] = dist[order[j]];
    }
  }
  return r;
}

RangeResult reference_range(const BinaryCodes& queries, const BinaryCodes& db, int radius) {
  RangeResult r;
  r.queries = queries.size();
  r.lims.push_back(0);
  for (Index q = 0; q < queries.size(); ++q) {
    std::vector<std::pair<int, Index>> hits;
    for (Index i = 0; i < db.size(); ++i) {
      const int d = hamming_distance(queries.row(q), db.row(i), db.bits());
      if (d <= radius) hits.emplace_back(d, i);
    }
    std::stable_sort(hits.begin(), hits.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& h : hits) {
      r.indices.push_back(h.second);
      r.distances.push_back(h.first);
    }
    r.lims.push_back(static_cast<std::int64_t>(r.indices.size()));
  }
  return r;
}

void require_same(const KnnResult& gpu, const KnnResult& expected) {
  REQUIRE(gpu.queries == expected.queries);
  REQUIRE(gpu.k == expected.k);
  REQUIRE(gpu.indices == expected.indices);
  REQUIRE(gpu.distances == expected.distances);
}

void require_same(const RangeResult& gpu, const RangeResult& expected) {
  REQUIRE(gpu.queries == expected.queries);
  REQUIRE(gpu.lims == expected.lims);
  REQUIRE(gpu.indices == expected.indices);
  REQUIRE(gpu.distances == expected.distances);
}

std::vector<GpuSearchOptions> option_sets() {
  GpuSearchOptions defaults;
  GpuSearchOptions small_chunks;  // many chunk boundaries and several query batches
  small_chunks.min_chunk_codes = 37;
  small_chunks.max_chunks = 200;
  small_chunks.batch_queries = 13;  // >= 8: the query-tiled histogram kernel, a partial tile
  GpuSearchOptions tiny;
  tiny.min_chunk_codes = 1;
  tiny.max_chunks = 4096;
  tiny.batch_queries = 3;          // < 8: one query per histogram block
  GpuSearchOptions small_gathers;  // range results gathered in several passes per batch
  small_gathers.min_chunk_codes = 64;
  small_gathers.batch_queries = 13;
  small_gathers.scratch_bytes = 50 * (sizeof(long long) + sizeof(int));  // 50 results a pass
  return {defaults, small_chunks, tiny, small_gathers};
}

}  // namespace

TEST_CASE("GPU k-NN equals the host brute force and the CPU search bit for bit", "[cuda][knn]") {
  Rng rng(91);
  for (int bits : {32, 64, 128, 200, 1024}) {
    for (bool clustered : {false, true}) {
      const Index n = bits == 1024 ? 700 : 2500;
      const BinaryCodes db = clustered ? clustered_codes(rng, n, bits, 9) : random_codes(rng, n, bits);
      const BinaryCodes queries = random_codes(rng, 29, bits);
      for (const auto& options : option_sets()) {
        GpuHammingIndex index(db, options);
        for (Index k : {Index{1}, Index{10}, Index{100}, n, n + 50}) {
          INFO("bits " << bits << " clustered " << clustered << " k " << k << " min_chunk "
                       << options.min_chunk_codes << " batch " << options.batch_queries);
          const KnnResult gpu = index.knn(queries, k);
          require_same(gpu, reference_knn(queries, db, k));
          require_same(gpu, knn_search(queries, db, k, 2));
        }
      }
    }
  }
}

TEST_CASE("GPU range search equals the host brute force and the CPU search", "[cuda][range]") {
  Rng rng(5);
  for (int bits : {32, 64, 128, 200}) {
    const BinaryCodes db = clustered_codes(rng, 3000, bits, 40);
    const BinaryCodes queries = random_codes(rng, 17, bits);
    // Queries that sit on database codes, so small radii find something.
    const BinaryCodes near = db.rows({0, 5, 17, 2999});
    for (const auto& options : option_sets()) {
      GpuHammingIndex index(db, options);
      for (int radius : {0, 1, 3, bits / 2 - 2, bits / 2, bits, bits + 7}) {
        INFO("bits " << bits << " radius " << radius);
        require_same(index.range(queries, radius), reference_range(queries, db, radius));
        require_same(index.range(near, radius), reference_range(near, db, radius));
        require_same(index.range(near, radius), range_search(near, db, radius, 2));
      }
    }
  }
}

TEST_CASE("GPU search ignores garbage in the unused tail bits, as the CPU does", "[cuda][knn]") {
  Rng rng(3);
  const int bits = 70;  // 2 words, 58 unused bits in the second
  BinaryCodes db = random_codes(rng, 500, bits);
  const BinaryCodes queries = random_codes(rng, 4, bits);
  std::vector<std::uint64_t> dirty(db.data(), db.data() + db.size() * db.words());
  for (Index i = 0; i < db.size(); ++i) dirty[static_cast<std::size_t>(i * 2 + 1)] |= ~db.tail_mask() & rng();
  const CodesView dirty_view(dirty.data(), db.size(), bits);
  GpuHammingIndex index(dirty_view);
  require_same(index.knn(queries, 20), reference_knn(queries, db, 20));
  require_same(index.range(queries, 30), reference_range(queries, db, 30));
}

TEST_CASE("GPU search edge cases: k = 0, no queries, empty database", "[cuda][knn]") {
  Rng rng(1);
  const BinaryCodes db = random_codes(rng, 100, 64);
  const BinaryCodes queries = random_codes(rng, 3, 64);
  GpuHammingIndex index(db);
  require_same(index.knn(queries, 0), reference_knn(queries, db, 0));
  require_same(index.knn(BinaryCodes(0, 64), 5), reference_knn(BinaryCodes(0, 64), db, 5));
  GpuHammingIndex empty(BinaryCodes(0, 64));
  require_same(empty.knn(queries, 4), reference_knn(queries, BinaryCodes(0, 64), 4));
  require_same(empty.range(queries, 64), reference_range(queries, BinaryCodes(0, 64), 64));
}

TEST_CASE("GPU search rejects bad arguments with library errors", "[cuda][knn]") {
  Rng rng(2);
  GpuHammingIndex index(random_codes(rng, 10, 64));
  CHECK_THROWS_AS(index.knn(random_codes(rng, 2, 32), 1), InvalidArgument);
  CHECK_THROWS_AS(index.knn(random_codes(rng, 2, 64), -1), InvalidArgument);
  CHECK_THROWS_AS(index.range(random_codes(rng, 2, 64), -1), InvalidArgument);
  CHECK_THROWS_AS(GpuHammingIndex(random_codes(rng, 2, 64), GpuSearchOptions{}, 1 << 20), InvalidArgument);
}
