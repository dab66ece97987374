// Times the Hamming distance kernels of two SimdPaths on the same random codes and prints their
// speed ratio, after checking that both give the same distances. tools/ci-aarch64.sh runs it on
// 64-bit ARM under qemu-user (scalar against xsimd/NEON): emulated timings, a rough ratio only.
//
//   kernel_ratio_main [BASELINE_PATH CANDIDATE_PATH [CODES]]   (default: scalar xsimd 100000)
#include <algorithm>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/search/hamming.hpp"

namespace {

/// CPU seconds of this thread: on a shared machine (or under qemu) less disturbed than wall time.
double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

/// Best of `repeats` timings (CPU seconds) of the distances from `queries` queries to every code.
double best_seconds(rlhash::SimdPath path, const rlhash::BinaryCodes& codes, int queries, int repeats,
                    std::vector<std::int32_t>& out) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    const double start = thread_seconds();
    for (int q = 0; q < queries; ++q) rlhash::hamming_distances(codes.row(q), codes, out.data(), path);
    best = std::min(best, thread_seconds() - start);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) try {
  const rlhash::SimdPath baseline = rlhash::parse_simd_path(argc > 1 ? argv[1] : "scalar", "baseline path");
  const rlhash::SimdPath candidate = rlhash::parse_simd_path(argc > 2 ? argv[2] : "xsimd", "candidate path");
  const long count = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 100000;
  if (count < 8) throw rlhash::InvalidArgument("CODES = " + std::string(argc > 3 ? argv[3] : "") + ": expected >= 8");
  rlhash::require_simd_path(baseline, "baseline path");
  rlhash::require_simd_path(candidate, "candidate path");
  std::printf("bits  %s(s)  %s(s)  speed ratio %s/%s\n", rlhash::to_string(baseline), rlhash::to_string(candidate),
              rlhash::to_string(candidate), rlhash::to_string(baseline));
  std::mt19937_64 random(7);
  for (const int bits : {64, 128, 256, 200}) {
    rlhash::BinaryCodes codes(count, bits);
    for (rlhash::Index i = 0; i < codes.size(); ++i)
      for (int w = 0; w < codes.words(); ++w) codes.row(i)[w] = random();
    std::vector<std::int32_t> expected(static_cast<std::size_t>(count)), got(expected.size());
    const int queries = 4, repeats = 5;
    const double base = best_seconds(baseline, codes, queries, repeats, expected);
    const double cand = best_seconds(candidate, codes, queries, repeats, got);
    if (got != expected) throw rlhash::Error("the two paths' distances differ at " + std::to_string(bits) + " bits");
    std::printf("%4d  %9.4f  %8.4f  %.2f\n", bits, base, cand, base / cand);
  }
  return 0;
} catch (const rlhash::Error& e) {
  std::fprintf(stderr, "kernel_ratio_main: %s\n", e.what());
  return 1;
}
