// DRLIH trained on a GPU, its model file written, the codes computed there and searched with the
// database resident on the device: the CUDA component end to end. This file is plain C++;
// kernels.cu is the program's one .cu file, where nvcc compiles the kernels.
#include <cstdio>
#include <rlhash/cuda/backend.hpp>
#include <rlhash/cuda/gpu_hamming_index.hpp>
#include <rlhash/rlhash.hpp>

using Gpu = rlhash::cuda::CudaBackend;

int main(int argc, char** argv) try {
  if (argc != 5)
    return std::fprintf(stderr, "usage: %s train.npy train_labels.npy database.npy queries.npy\n", argv[0]),
           2;
  if (rlhash::cuda::device_count() == 0) return std::fprintf(stderr, "no CUDA device\n"), 1;
  const rlhash::MatrixF train = rlhash::read_npy_matrix<float>(argv[1]);
  const rlhash::Labels labels =
      rlhash::Labels::from_class_ids(rlhash::read_npy_vector<std::int32_t>(argv[2]));

  // The model file holds the host hasher; fit_via trains its method on the GPU (the networks
  // and Adam there, sampling and rewards on the host) and loads what it learned into it.
  rlhash::Drlih::Config config;
  config.bits = 32;
  rlhash::Model model;
  model.hasher = rlhash::AnyHasher(rlhash::Drlih(config));
  rlhash::fit_via<rlhash::DrlihOn<Gpu>>(model.hasher, train, labels);
  model.save("drlih.rlh");  // `rlhash encode --model drlih.rlh` reads it, on either device

  // Encode on the GPU as well, then search there: the CPU's knn_search result, bit for bit.
  const auto drlih = rlhash::trained_as<rlhash::DrlihOn<Gpu>>(model.hasher);
  const rlhash::BinaryCodes database = drlih.encode(rlhash::read_npy_matrix<float>(argv[3]));
  const rlhash::BinaryCodes queries = drlih.encode(rlhash::read_npy_matrix<float>(argv[4]));
  rlhash::cuda::GpuHammingIndex index(database);
  const rlhash::KnnResult top = index.knn(queries, 10);
  for (int rank = 0; rank < 10; ++rank)
    std::printf("%lld (distance %d)\n", static_cast<long long>(top.index(0, rank)), top.distance(0, rank));
  return 0;
} catch (const rlhash::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
