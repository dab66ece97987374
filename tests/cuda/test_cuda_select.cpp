// Host-side tests of the GPU search's selection logic (select.hpp), its planning, and the CUDA
// error/RAII wrappers' behaviour without a device. Compiled by the C++ compiler; always runs.
#include <catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/cuda/error.hpp"
#include "rlhash/cuda/memory.hpp"
#include "rlhash/cuda/select.hpp"

using namespace rlhash;
using namespace rlhash::cuda;

namespace {

// The specification: a stable sort of all N (distance, index) pairs.
std::vector<Index> stable_order(const std::vector<int>& dist) {
  std::vector<Index> order(dist.size());
  std::iota(order.begin(), order.end(), Index{0});
  std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) { return dist[a] < dist[b]; });
  return order;
}

void check_knn(const std::vector<int>& dist, int bits, Index chunk_len, Index k) {
  std::vector<Index> idx;
  std::vector<int> d;
  const Threshold th =
      emulate_select(dist.data(), static_cast<Index>(dist.size()), bits, chunk_len, k, -1, idx, d);
  const Index n = static_cast<Index>(dist.size());
  const Index expected = std::min(k, n);
  REQUIRE(static_cast<Index>(idx.size()) == expected);
  REQUIRE(th.below + th.take == expected);
  const auto order = stable_order(dist);
  for (Index r = 0; r < expected; ++r) {
    INFO("n " << n << " bits " << bits << " chunk " << chunk_len << " k " << k << " rank " << r);
    REQUIRE(idx[r] == order[r]);
    REQUIRE(d[r] == dist[order[r]]);
  }
}

void check_range(const std::vector<int>& dist, int bits, Index chunk_len, int radius) {
  std::vector<Index> idx;
  std::vector<int> d;
  emulate_select(dist.data(), static_cast<Index>(dist.size()), bits, chunk_len, 0, radius, idx, d);
  std::vector<Index> expected;
  for (Index i : stable_order(dist))
    if (dist[i] <= radius) expected.push_back(i);
  INFO("n " << dist.size() << " chunk " << chunk_len << " radius " << radius);
  REQUIRE(idx == expected);
  for (std::size_t r = 0; r < idx.size(); ++r) REQUIRE(d[r] == dist[idx[r]]);
}

std::vector<int> random_distances(Rng& rng, Index n, int max_value) {
  std::vector<int> dist(static_cast<std::size_t>(n));
  for (auto& v : dist) v = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(max_value) + 1));
  return dist;
}

}  // namespace

TEST_CASE("knn_threshold picks the smallest distance reaching k and the ties to take", "[cuda][select]") {
  const std::vector<int> hist = {0, 2, 0, 5, 1};  // bits = 4
  Threshold th = cuda::detail::knn_threshold(hist.data(), 5, 1);
  CHECK((th.t == 1 && th.below == 0 && th.take == 1));
  th = cuda::detail::knn_threshold(hist.data(), 5, 2);
  CHECK((th.t == 1 && th.below == 0 && th.take == 2));
  th = cuda::detail::knn_threshold(hist.data(), 5, 3);
  CHECK((th.t == 3 && th.below == 2 && th.take == 1));
  th = cuda::detail::knn_threshold(hist.data(), 5, 7);
  CHECK((th.t == 3 && th.below == 2 && th.take == 5));
  th = cuda::detail::knn_threshold(hist.data(), 5, 8);
  CHECK((th.t == 4 && th.below == 7 && th.take == 1));
  th = cuda::detail::knn_threshold(hist.data(), 5, 0);
  CHECK((th.below == 0 && th.take == 0));
}

TEST_CASE("range_threshold keeps every distance up to the radius", "[cuda][select]") {
  const std::vector<int> hist = {1, 2, 0, 5, 1};
  Threshold th = cuda::detail::range_threshold(hist.data(), 5, 0);
  CHECK((th.t == 1 && th.below == 1 && th.take == 0));
  th = cuda::detail::range_threshold(hist.data(), 5, 3);
  CHECK((th.t == 4 && th.below == 8));
  th = cuda::detail::range_threshold(hist.data(), 5, 99);  // radius past bits: everything
  CHECK((th.t == 5 && th.below == 9));
}

TEST_CASE("chunk plans hand the first ties in index order to the earliest chunks", "[cuda][select]") {
  Threshold th;
  th.t = 3;
  th.below = 4;
  th.take = 5;
  ChunkInfo a = cuda::detail::chunk_info(2, 3, 0, th);  // ties 0..2: all three kept
  CHECK((a.below == 2 && a.tie_base == 4 && a.tie_need == 3));
  ChunkInfo b = cuda::detail::chunk_info(0, 4, 3, th);  // ties 3..6: two more kept
  CHECK((b.tie_base == 7 && b.tie_need == 2));
  ChunkInfo c = cuda::detail::chunk_info(1, 6, 7, th);  // quota already full
  CHECK((c.below == 1 && c.tie_need == 0));
}

TEST_CASE("scan_chunk_column turns counts into output slots", "[cuda][select]") {
  // 3 chunks x 2 bins, column d = 1 (stride 2).
  std::vector<int> hist = {9, 2, 9, 0, 9, 3};
  cuda::detail::scan_chunk_column(hist.data() + 1, 2, 3, 10);
  CHECK(hist == std::vector<int>{9, 10, 9, 12, 9, 12});
}

TEST_CASE("the chunked selection equals a stable sort for k-NN", "[cuda][select]") {
  Rng rng(20240611);
  for (int bits : {1, 8, 64, 200}) {
    for (Index n : {Index{1}, Index{7}, Index{100}, Index{1000}}) {
      // Narrow value ranges make huge tie buckets that straddle chunks.
      for (int spread : {0, 2, bits}) {
        const auto dist = random_distances(rng, n, std::min(spread, bits));
        for (Index chunk : {Index{1}, Index{3}, Index{64}, Index{257}, Index{5000}})
          for (Index k : {Index{1}, Index{2}, Index{5}, n - 1, n, n + 3, Index{0}})
            if (k >= 0) check_knn(dist, bits, chunk, k);
      }
    }
  }
}

TEST_CASE("the chunked selection equals a stable sort for range search", "[cuda][select]") {
  Rng rng(7);
  for (int bits : {4, 64, 128}) {
    for (Index n : {Index{0}, Index{1}, Index{333}}) {
      const auto dist = random_distances(rng, n, std::min(bits, 6));
      for (Index chunk : {Index{1}, Index{10}, Index{1000}})
        for (int radius : {0, 1, 3, bits, bits + 10}) check_range(dist, bits, chunk, radius);
    }
  }
}

TEST_CASE("emulate_select rejects distances outside 0..bits", "[cuda][select]") {
  const std::vector<int> dist = {0, 65};
  std::vector<Index> idx;
  std::vector<int> d;
  CHECK_THROWS_AS(emulate_select(dist.data(), 2, 64, 1, 1, -1, idx, d), InvalidArgument);
}

TEST_CASE("range results are gathered in groups of queries that fit the scratch", "[cuda][select]") {
  auto thresholds_of = [](const std::vector<int>& below) {
    std::vector<Threshold> th(below.size());
    for (std::size_t q = 0; q < below.size(); ++q) th[q].below = below[q];
    return th;
  };
  const auto th = thresholds_of({5, 0, 7, 30, 2, 2, 0});
  const Index count = static_cast<Index>(th.size());
  // Groups of at most 12 results: {5, 0, 7}, {30} (alone, over the budget), {2, 2, 0}.
  std::vector<Index> ends;
  for (Index first = 0; first < count;) ends.push_back(first = result_group_end(th.data(), first, count, 12));
  CHECK(ends == std::vector<Index>{3, 4, 7});
  CHECK(result_group_end(th.data(), 0, count, 1000) == count);  // everything fits: one pass
  CHECK(result_group_end(th.data(), 1, count, 0) == 2);         // at least one query a pass
  const auto empty = thresholds_of({0, 0, 0});
  CHECK(result_group_end(empty.data(), 0, 3, 1) == 3);

  GpuSearchOptions options;
  options.scratch_bytes = 120;
  CHECK(max_gather_results(options) == 10);  // 12 bytes a result
  options.scratch_bytes = 5;
  CHECK(max_gather_results(options) == 1);
}

TEST_CASE("plan_search chunks the database and sizes the batches", "[cuda][select]") {
  GpuSearchOptions options;
  SearchPlan plan = plan_search(100'000'000, 64, 1, 10, options);
  CHECK(plan.bins == 65);
  CHECK(plan.chunks <= options.max_chunks);
  CHECK(plan.chunk_len % 256 == 0);
  CHECK(static_cast<Index>(plan.chunks) * plan.chunk_len >= 100'000'000);
  CHECK(static_cast<Index>(plan.chunks - 1) * plan.chunk_len < 100'000'000);
  CHECK(plan.batch == 1);

  plan = plan_search(10'000'000, 64, 1000, 10, options);
  CHECK(plan.chunk_len == 4096);  // min_chunk_codes wins
  CHECK(plan.batch >= 1);
  CHECK(plan.batch <= 1000);
  CHECK(static_cast<std::size_t>(plan.batch) * scratch_bytes_per_query(plan.chunks, plan.bins, 1, 10) <=
        options.scratch_bytes);

  plan = plan_search(0, 32, 5, 3, options);
  CHECK(plan.chunks == 0);
  CHECK(plan.batch == 5);

  options.batch_queries = 7;
  options.min_chunk_codes = 10;
  plan = plan_search(95, 128, 100, 4, options);
  CHECK(plan.batch == 7);
  CHECK(plan.chunk_len == 10);
  CHECK(plan.chunks == 10);

  // A 1024-bit database with the default scratch still gets a batch of at least one query.
  GpuSearchOptions tight;
  tight.scratch_bytes = 1;
  CHECK(plan_search(1'000'000, 1024, 50, 100, tight).batch == 1);

  GpuSearchOptions bad;
  bad.max_chunks = 0;
  CHECK_THROWS_AS(plan_search(10, 64, 1, 1, bad), InvalidArgument);
  bad = GpuSearchOptions{};
  bad.batch_queries = 70000;
  CHECK_THROWS_WITH(plan_search(10, 64, 1, 1, bad), Catch::Contains("batch_queries"));
}

TEST_CASE("CUDA and cuBLAS failures become CudaError naming the call", "[cuda][error]") {
  try {
    RLHASH_CUDA_CHECK(cudaErrorInvalidValue);
    FAIL("no throw");
  } catch (const CudaError& e) {
    CHECK_THAT(e.what(), Catch::Contains("cudaErrorInvalidValue"));
    CHECK_THAT(e.what(), Catch::Contains("test_cuda_select.cpp"));
    CHECK(e.call() == "cudaErrorInvalidValue");
  }
  try {
    RLHASH_CUDA_CHECK(CUBLAS_STATUS_NOT_INITIALIZED);
    FAIL("no throw");
  } catch (const Error& e) {  // CudaError is an rlhash::Error
    CHECK_THAT(e.what(), Catch::Contains("CUBLAS_STATUS_NOT_INITIALIZED"));
  }
  CHECK_NOTHROW(RLHASH_CUDA_CHECK(cudaSuccess));
  CHECK_NOTHROW(RLHASH_CUDA_CHECK(CUBLAS_STATUS_SUCCESS));
}

TEST_CASE("device buffers: empty buffers allocate nothing; without a device allocation throws",
          "[cuda][memory]") {
  DeviceBuffer<int> empty;
  CHECK(empty.data() == nullptr);
  CHECK(empty.size() == 0);
  DeviceBuffer<int> zero(0);
  CHECK(zero.data() == nullptr);
  DeviceBuffer<int> moved(std::move(zero));
  CHECK(moved.empty());
  CHECK_THROWS_AS(empty.copy_from_host(nullptr, 1), InvalidArgument);  // range checked first
  if (device_count() == 0) {
    CHECK_THROWS_AS(DeviceBuffer<int>(16), CudaError);
    CHECK_THROWS_WITH(DeviceBuffer<int>(16), Catch::Contains("cudaMalloc"));
  } else {
    DeviceBuffer<int> buffer(16);
    CHECK(buffer.data() != nullptr);
  }
}
