// Builds against an installed rlhash: train LSH on random data, encode, and rank by Hamming distance.
#include <cstdio>
#include <rlhash/rlhash.hpp>

int main() {
  rlhash::Rng rng(1);
  rlhash::MatrixF features(16, 200);
  for (rlhash::Index i = 0; i < features.size(); ++i)
    features.data()[i] = static_cast<float>(rlhash::standard_normal(rng));
  rlhash::Lsh lsh({32, 7});
  lsh.fit(features);
  const rlhash::BinaryCodes codes = lsh.encode(features);
  const rlhash::KnnResult nearest = rlhash::knn_search(codes.rows({0}), codes, 5);
  std::printf("rlhash %s: nearest to item 0 is item %lld at distance %d\n", RLHASH_VERSION_STRING,
              static_cast<long long>(nearest.indices[0]), nearest.distances[0]);
  return nearest.indices[0] == 0 && nearest.distances[0] == 0 ? 0 : 1;
}
