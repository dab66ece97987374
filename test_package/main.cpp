// Uses the packaged rlhash the way a program does: LSH codes for a few vectors, then an exact
// Hamming k-nearest-neighbour search of those codes.
// Only the headers it uses, so that `conan create` stays quick.
#include <cstdio>
#include <rlhash/core/error.hpp>
#include <rlhash/methods/lsh.hpp>
#include <rlhash/search/knn.hpp>
#include <rlhash/version.hpp>

int main() try {
  // Eight 4-dimensional items, one per column, in two well separated groups of four.
  rlhash::MatrixF items(4, 8);
  items << 1.0F, 1.1F, 0.9F, 1.0F, -1.0F, -1.1F, -0.9F, -1.0F, 2.0F, 2.1F, 1.9F, 2.2F, -2.0F, -2.1F, -1.9F,
      -2.2F, 0.5F, 0.4F, 0.6F, 0.5F, -0.5F, -0.4F, -0.6F, -0.5F, 1.5F, 1.4F, 1.6F, 1.5F, -1.5F, -1.4F, -1.6F,
      -1.5F;

  rlhash::Lsh lsh({/*bits=*/16, /*seed=*/3});
  lsh.fit(items);
  const rlhash::BinaryCodes codes = lsh.encode(items);

  // Each item's nearest code belongs to an item of its own group.
  const rlhash::KnnResult nearest = rlhash::knn_search(codes, codes, 2);
  int failures = 0;
  for (rlhash::Index i = 0; i < codes.size(); ++i) {
    std::printf("item %lld: nearest %lld (distance %d), next %lld (distance %d)\n", static_cast<long long>(i),
                static_cast<long long>(nearest.index(i, 0)), nearest.distance(i, 0),
                static_cast<long long>(nearest.index(i, 1)), nearest.distance(i, 1));
    if (nearest.index(i, 0) / 4 != i / 4) ++failures;
  }
  std::printf("rlhash %s: %d of %lld items nearest to the other group\n", RLHASH_VERSION_STRING, failures,
              static_cast<long long>(codes.size()));
  return failures == 0 ? 0 : 1;
} catch (const rlhash::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
