// Quickstart (the README's example): learn 64-bit codes for your features, encode a database,
// and find each query's nearest neighbours. Usage: example_quickstart train.npy database.npy queries.npy
#include <cstdio>
#include <rlhash/rlhash.hpp>

int main(int argc, char** argv) try {
  if (argc != 4) return std::fprintf(stderr, "usage: %s train.npy database.npy queries.npy\n", argv[0]), 2;
  // Features: one item per column (a C-order [N, D] .npy array is exactly this memory).
  const rlhash::MatrixF train = rlhash::read_npy_matrix<float>(argv[1]);
  const rlhash::MatrixF database = rlhash::read_npy_matrix<float>(argv[2]);
  const rlhash::MatrixF queries = rlhash::read_npy_matrix<float>(argv[3]);

  rlhash::Itq hasher({/*bits=*/64, /*seed=*/1});  // or Lsh, Drlih, PolicyHashing, ...
  hasher.fit(train, rlhash::Labels{});            // supervised methods take the training labels
  const rlhash::BinaryCodes db_codes = hasher.encode(database);
  const rlhash::BinaryCodes query_codes = hasher.encode(queries);

  // Exact top-10 by Hamming distance (ties by database index), on all cores.
  const rlhash::KnnResult top = rlhash::knn_search(query_codes, db_codes, 10);
  for (int rank = 0; rank < 10; ++rank)
    std::printf("%lld (distance %d)\n", static_cast<long long>(top.index(0, rank)), top.distance(0, rank));
  rlhash::write_codes("database_codes.npy", db_codes, rlhash::CodeFormat::packed);  // faiss layout
  return 0;
} catch (const rlhash::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
