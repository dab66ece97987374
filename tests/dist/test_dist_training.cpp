// Data-parallel training over the ranks of mpirun (1, 2 and 4): every rank ends with the same
// parameters, bit for bit, and they equal the one-process fit within floating-point tolerance
// (the gradients are summed in another order); checkpoints are written once, by rank 0. The
// methods come from the registry (compiled once for the project), as the CLI trains them.
#include <catch.hpp>
#include <test_util.hpp>

#include "shared_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/dist/replicas.hpp"
#include "rlhash/methods/registry.hpp"

using namespace rlhash;
using rlhash::dist::Communicator;

namespace {

/// 49 items of 12 dimensions in 4 classes: with batches of 16 the last batch has one item, so at
/// 2 and 4 ranks some ranks hold none of it.
struct ToyData {
  MatrixF x = MatrixF(12, 49);
  Labels labels;
  ToyData() {
    Rng rng(11);
    std::vector<std::int32_t> ids(static_cast<std::size_t>(x.cols()));
    for (Index i = 0; i < x.cols(); ++i) {
      ids[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % 4);
      for (Index d = 0; d < x.rows(); ++d)
        x(d, i) = static_cast<float>((d % 4 == i % 4 ? 1.5 : 0.0) + 0.5 * standard_normal(rng));
    }
    labels = Labels::from_class_ids(ids, 4);
  }
};

std::vector<char> saved_bytes(const AnyHasher& hasher) {
  ByteWriter out;
  hasher.save(out);
  return out.bytes();
}

/// The parameter values of a fitted network hasher, read from its saved bytes: the input
/// dimension, the classes (the deep baselines), then nn::write_parameters' list.
std::vector<MatrixF> parameters_of(const AnyHasher& hasher, bool with_classes) {
  const std::vector<char> bytes = saved_bytes(hasher);
  ByteReader in(bytes.data(), bytes.size(), hasher.method());
  in.get<std::int64_t>();
  if (with_classes) in.get<std::int32_t>();
  std::vector<MatrixF> values(in.get<std::uint64_t>());
  for (auto& value : values) {
    in.get_string();
    value = in.get_matrix<float>();
  }
  in.expect_end();
  return values;
}

double max_difference(const std::vector<MatrixF>& a, const std::vector<MatrixF>& b) {
  REQUIRE(a.size() == b.size());
  double most = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    most = std::max(most, static_cast<double>((a[i] - b[i]).cwiseAbs().maxCoeff()));
  return most;
}

using Settings = std::vector<std::pair<std::string, std::string>>;

AnyHasher configured(const std::string& method, const Settings& settings) {
  AnyHasher hasher = make_hasher(method, 8, 3);
  for (const auto& [field, value] : settings) hasher.set(field, value);
  return hasher;
}

/// Fits `method` in one process and over the ranks of `comm`: every rank must end with rank 0's
/// model bytes, and its parameters must equal the one-process fit's within `tolerance`, while
/// training moved them by far more than that.
void require_data_parallel_fit_equal(const Communicator& comm, const std::string& method, Settings settings,
                                     bool with_classes, double tolerance,
                                     const ImageAugmentation& augmentation = {}) {
  const ToyData data;
  const nn::Replicas replicas = dist::replicas_of(comm);
  FitOptions one_process;
  one_process.augmentation = augmentation;
  AnyHasher alone = configured(method, settings);
  alone.fit(data.x, data.labels, one_process);
  AnyHasher parallel = configured(method, settings);
  FitOptions options = one_process;
  options.replicas = &replicas;
  parallel.fit(data.x, data.labels, options);

  const std::vector<char> mine = saved_bytes(parallel);
  const std::string leader = comm.broadcast(std::string(mine.begin(), mine.end()), 0);
  REQUIRE(std::string(mine.begin(), mine.end()) == leader);

  settings.emplace_back("epochs", "0");
  AnyHasher untrained = configured(method, settings);
  untrained.fit(data.x, data.labels);
  const auto one = parameters_of(alone, with_classes);
  const double difference = max_difference(one, parameters_of(parallel, with_classes));
  const double moved = max_difference(one, parameters_of(untrained, with_classes));
  INFO(method << " at " << comm.size() << " ranks: max |one process - data-parallel| = " << difference
              << ", moved by training " << moved);
  CHECK(difference <= tolerance);
  CHECK(moved > 100 * tolerance);
}

}  // namespace

TEST_CASE("data-parallel training equals the one-process fit", "[mpi][training]") {
  const Communicator comm;
  // SGD: a wrong gradient scale would show (Adam would hide it).
  const Settings common = {
      {"batch_size", "16"}, {"epochs", "2"}, {"optimizer", "sgd"}, {"learning_rate", "0.05"}};
  const auto with = [&](Settings more) {
    more.insert(more.begin(), common.begin(), common.end());
    return more;
  };
  const Settings mlp = with({{"repr_hidden1", "24"}, {"repr_hidden2", "16"}});
  SECTION("triplet losses") {
    require_data_parallel_fit_equal(comm, "fc-triplet", mlp, false, 1e-5);
    Settings agent = mlp;
    agent.insert(agent.end(), {{"rnn_hidden", "12"}, {"group_size", "4"}, {"group_weight", "0.5"}});
    require_data_parallel_fit_equal(comm, "drlih", agent, false, 1e-5);  // with the sampled group rewards
  }
  SECTION("pairwise losses, a memory of outputs, hash centres, a classifier on the codes") {
    for (const std::string method : {"dsh", "hashnet", "csq", "greedyhash", "dpsh"})
      require_data_parallel_fit_equal(comm, method, with({{"repr_hidden", "16"}}), true, 1e-5);
  }
  SECTION("listwise rewards of the whole batch against the database codes (Adam)") {
    const Settings dph = {
        {"batch_size", "16"},           {"epochs", "2"},          {"hidden1", "24"}, {"hidden2", "16"},
        {"database_update_every", "5"}, {"learning_rate", "0.01"}};
    require_data_parallel_fit_equal(comm, "dph", dph, false, 1e-5);
  }
  SECTION("with image augmentation: every rank draws each item's shift and mirror alike") {
    ImageAugmentation augmentation;  // the toy items as 3 x 4 images
    augmentation.height = 3;
    augmentation.width = 4;
    augmentation.max_shift = 1;
    augmentation.horizontal_flip = true;
    require_data_parallel_fit_equal(comm, "fc-triplet", mlp, false, 1e-5, augmentation);
    require_data_parallel_fit_equal(comm, "dsh", with({{"repr_hidden", "16"}}), true, 1e-5, augmentation);
  }
}

TEST_CASE("the ordered gradient sum gives every rank the rank-order sum, bit for bit", "[mpi][training]") {
  const Communicator comm;
  const nn::Replicas replicas = dist::replicas_of(comm);
  // Values whose float sum depends on the order; sizes below and above the number of ranks.
  const auto value = [](int rank, std::size_t i) {
    return std::ldexp(1.0 + 0.1 * static_cast<double>(i), 3 * rank) / 7.0;
  };
  for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{1001}}) {
    std::vector<float> floats(n);
    std::vector<double> doubles(n);
    for (std::size_t i = 0; i < n; ++i) {
      floats[i] = static_cast<float>(value(comm.rank(), i));
      doubles[i] = value(comm.rank(), i);
    }
    replicas.sum(floats.data(), n);
    replicas.sum(doubles.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      float f = static_cast<float>(value(0, i));
      double d = value(0, i);
      for (int r = 1; r < comm.size(); ++r) {
        f += static_cast<float>(value(r, i));
        d += value(r, i);
      }
      REQUIRE(std::memcmp(&floats[i], &f, sizeof f) == 0);
      REQUIRE(std::memcmp(&doubles[i], &d, sizeof d) == 0);
    }
  }
  // A batch split gathers every rank's columns in rank order.
  for (const Index batch : {Index{1}, Index{5}, Index{16}}) {
    const nn::BatchSplit split(&replicas, batch);
    Matrix<float> mine(2, split.end() - split.begin());
    for (Index j = 0; j < mine.cols(); ++j) mine.col(j).setConstant(static_cast<float>(split.begin() + j));
    const Matrix<float> whole = split.gather(mine, 2);
    for (Index j = 0; j < batch; ++j) REQUIRE(whole.col(j).isConstant(static_cast<float>(j)));
  }
}

TEST_CASE("data-parallel checkpoints are written once; a failed write stops every rank", "[mpi][training]") {
  const Communicator comm;
  const test::SharedDir dir(comm);
  const ToyData data;
  const nn::Replicas replicas = dist::replicas_of(comm);
  const Settings settings = {{"repr_hidden1", "16"}, {"repr_hidden2", "8"}, {"batch_size", "16"}};
  const auto fc_triplet = [&](int epochs) {
    AnyHasher hasher = configured("fc-triplet", settings);
    hasher.set("epochs", std::to_string(epochs));
    return hasher;
  };
  FitOptions options;
  options.replicas = &replicas;
  options.checkpoint_path = dir.file("run.ckpt");
  options.checkpoint_every = 1;
  AnyHasher two_epochs = fc_triplet(2);
  two_epochs.fit(data.x, data.labels, options);
  comm.barrier();
  REQUIRE(std::filesystem::exists(dir.file("run.ckpt")));
  // Resumed from its checkpoint after 2 epochs, a 3-epoch run runs one epoch and equals a
  // straight one.
  options.resume = true;
  int epochs_run = 0;
  options.progress = [&](const Progress&) { return ++epochs_run > 0; };
  AnyHasher resumed = fc_triplet(3);
  resumed.fit(data.x, data.labels, options);
  REQUIRE(epochs_run == 1);
  options.resume = false;
  options.progress = nullptr;
  options.checkpoint_path = dir.file("straight.ckpt");
  AnyHasher straight = fc_triplet(3);
  straight.fit(data.x, data.labels, options);
  REQUIRE(saved_bytes(resumed) == saved_bytes(straight));

  options.checkpoint_path = dir.file("missing/run.ckpt");
  AnyHasher failing = fc_triplet(3);
  REQUIRE_THROWS_AS(failing.fit(data.x, data.labels, options), IoError);
  REQUIRE_FALSE(std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("hashers without data-parallel training refuse replicas, naming the method", "[mpi][training]") {
  const Communicator comm;
  const nn::Replicas replicas = dist::replicas_of(comm);
  FitOptions options;
  options.replicas = &replicas;
  const ToyData data;
  AnyHasher lsh = make_hasher("lsh", 8);
  if (comm.size() == 1) {
    lsh.fit(data.x, data.labels, options);  // one replica is one process
    return;
  }
  REQUIRE_THROWS_WITH(lsh.fit(data.x, data.labels, options),
                      Catch::Matchers::Contains("lsh does not train data-parallel") &&
                          Catch::Matchers::Contains("train it in one process"));
}
