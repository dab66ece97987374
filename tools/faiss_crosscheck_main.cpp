// Trains one rlhash hasher on an explicit split and writes the packed codes of the queries and
// the database as uint8 .npy files ([N, bits/8], faiss's byte layout), for
// tools/faiss_crosscheck.py. Built by that script (g++ -O2, header-only rlhash).
//
//   faiss_crosscheck_main METHOD BITS SEED TRAIN.npy TRAIN_LABELS.npy QUERIES.npy DATABASE.npy OUT_PREFIX
//
// writes OUT_PREFIX.queries.npy and OUT_PREFIX.database.npy and prints the training seconds.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "rlhash/io/npy.hpp"
#include "rlhash/methods/baselines/itq.hpp"
#include "rlhash/methods/baselines/ksh.hpp"
#include "rlhash/methods/baselines/sdh.hpp"
#include "rlhash/methods/baselines/sh.hpp"
#include "rlhash/methods/lsh.hpp"

namespace {

void write_codes(const std::string& path, const rlhash::BinaryCodes& codes) {
  const rlhash::Index bytes = (codes.bits() + 7) / 8;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(codes.size() * bytes));
  for (rlhash::Index i = 0; i < codes.size(); ++i)
    std::memcpy(out.data() + i * bytes, codes.row(i),
                static_cast<std::size_t>(bytes));  // little-endian words
  rlhash::write_npy(path, out.data(), {codes.size(), bytes});
}

template <class H>
int run(typename H::Config config, char** argv) {
  using namespace rlhash;
  const MatrixF train = read_npy_matrix<float>(argv[4]);
  const auto ids = read_npy_vector<std::int32_t>(argv[5]);
  const MatrixF queries = read_npy_matrix<float>(argv[6]);
  const MatrixF database = read_npy_matrix<float>(argv[7]);
  const std::string prefix = argv[8];
  H hasher(config);
  const auto start = std::chrono::steady_clock::now();
  hasher.fit(train, Labels::from_class_ids(ids), {});
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_codes(prefix + ".queries.npy", hasher.encode(queries));
  write_codes(prefix + ".database.npy", hasher.encode(database));
  std::printf("%.3f\n", seconds);
  return 0;
}

template <class H>
typename H::Config config_of(int bits, std::uint64_t seed) {
  typename H::Config config;
  config.bits = bits;
  config.seed = seed;
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(
        stderr, "usage: %s METHOD BITS SEED TRAIN.npy TRAIN_LABELS.npy QUERIES.npy DATABASE.npy OUT_PREFIX\n",
        argv[0]);
    return 2;
  }
  try {
    const std::string method = argv[1];
    const int bits = std::stoi(argv[2]);
    const auto seed = static_cast<std::uint64_t>(std::stoull(argv[3]));
    if (method == "lsh") return run<rlhash::Lsh>(config_of<rlhash::Lsh>(bits, seed), argv);
    if (method == "itq") return run<rlhash::Itq>(config_of<rlhash::Itq>(bits, seed), argv);
    if (method == "sh") return run<rlhash::Sh>(config_of<rlhash::Sh>(bits, seed), argv);
    if (method == "sdh") return run<rlhash::Sdh>(config_of<rlhash::Sdh>(bits, seed), argv);
    if (method == "ksh") return run<rlhash::Ksh>(config_of<rlhash::Ksh>(bits, seed), argv);
    std::fprintf(stderr, "unknown method '%s' (lsh, itq, sh, sdh, ksh)\n", method.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
