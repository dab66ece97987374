// Data-parallel training over the ranks of mpirun (1, 2 and 4): every rank ends with the same
// parameters, bit for bit, and they equal the one-process fit within floating-point tolerance
// (the gradients are summed in another order); checkpoints are written once, by rank 0.
//
// The methods run on double networks over several epochs: in float, a one-ulp difference can
// flip a triplet across the margin's hinge and the runs then drift apart (measured: 7.9e-4 in
// fc-triplet's outputs after 3 epochs at 4 ranks, ~1e-7 otherwise), which says nothing about
// the exchange. The float path (the CLI's networks) is checked over one epoch.
#include <catch.hpp>
#include <test_util.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "rlhash/dist/replicas.hpp"
#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/methods/dsh.hpp"
#include "rlhash/methods/fc_triplet.hpp"
#include "rlhash/methods/greedy_hash.hpp"
#include "rlhash/methods/lsh.hpp"
#include "rlhash/methods/policy_hashing.hpp"

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

template <class H>
std::vector<char> saved_bytes(const H& hasher) {
  ByteWriter out;
  hasher.save(out);
  return out.bytes();
}

/// The real-valued outputs a hasher's codes are thresholded from.
template <class H>
MatrixF outputs_of(const H& hasher, const MatrixF& x) {
  if constexpr (requires { hasher.outputs(x); })
    return hasher.outputs(x);
  else
    return hasher.probabilities(x);
}

/// Fits `config` in one process and over the ranks of `comm`; every rank must end with rank 0's
/// model bytes, and its outputs must equal the one-process fit's within `tolerance`, while
/// training moved them by far more than that.
using FcTripletD = FcTripletHasher<MlpRepresentation<double>>;
using DrlihD = DrlihHasher<MlpRepresentation<double>>;
using DshD = DshHasher<ShallowMlpRepresentation<double>>;
using GreedyHashD = GreedyHashHasher<ShallowMlpRepresentation<double>>;
using PolicyHashingD = PolicyHashingHasher<MlpPolicyNetwork<double>>;

template <class H>
void require_data_parallel_fit_equal(const Communicator& comm, const typename H::Config& config, double tolerance) {
  const ToyData data;
  const nn::Replicas replicas = dist::replicas_of(comm);
  H alone(config);
  alone.fit(data.x, data.labels);
  H parallel(config);
  FitOptions options;
  options.replicas = &replicas;
  parallel.fit(data.x, data.labels, options);

  const std::vector<char> mine = saved_bytes(parallel);
  const std::string leader = comm.broadcast(std::string(mine.begin(), mine.end()), 0);
  REQUIRE(std::string(mine.begin(), mine.end()) == leader);

  typename H::Config no_epochs = config;
  no_epochs.epochs = 0;
  H untrained(no_epochs);
  untrained.fit(data.x, data.labels);
  const MatrixF one = outputs_of(alone, data.x);
  const MatrixF many = outputs_of(parallel, data.x);
  const double difference = (one - many).cwiseAbs().maxCoeff();
  const double moved = (one - outputs_of(untrained, data.x)).cwiseAbs().maxCoeff();
  INFO(H::method_name << " at " << comm.size() << " ranks: max |one process - data-parallel| = " << difference
                      << ", moved by training " << moved);
  CHECK(difference <= tolerance);
  CHECK(moved > 100 * tolerance);
  CHECK(parallel.last_result().steps == alone.last_result().steps);
}

/// A folder every rank sees (created and removed by rank 0).
class SharedDir {
 public:
  explicit SharedDir(const Communicator& comm) : comm_(comm) {
    if (comm.rank() == 0) owned_ = std::make_unique<test::TempDir>();
    path_ = comm.broadcast(owned_ ? owned_->path().string() : std::string(), 0);
  }
  ~SharedDir() { comm_.barrier(); }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  const Communicator& comm_;
  std::unique_ptr<test::TempDir> owned_;
  std::string path_;
};

}  // namespace

TEST_CASE("data-parallel training equals the one-process fit: triplet losses", "[mpi][training]") {
  const Communicator comm;
  SECTION("fc-triplet in float, one epoch") {
    FcTriplet::Config c;
    c.bits = 8;
    c.seed = 3;
    c.repr.repr_hidden1 = 24;
    c.repr.repr_hidden2 = 16;
    c.batch_size = 16;
    c.epochs = 1;
    c.optimizer = "sgd";
    c.learning_rate = 0.2;
    require_data_parallel_fit_equal<FcTriplet>(comm, c, 1e-5);
  }
  SECTION("fc-triplet, SGD (a wrong gradient scale would show)") {
    FcTripletD::Config c;
    c.bits = 8;
    c.seed = 3;
    c.repr.repr_hidden1 = 24;
    c.repr.repr_hidden2 = 16;
    c.batch_size = 16;
    c.epochs = 3;
    c.optimizer = "sgd";
    c.learning_rate = 0.05;
    require_data_parallel_fit_equal<FcTripletD>(comm, c, 1e-6);
  }
  SECTION("drlih with the sampled group rewards") {
    DrlihD::Config c;
    c.bits = 8;
    c.group_size = 4;
    c.rnn_hidden = 12;
    c.seed = 4;
    c.repr.repr_hidden1 = 24;
    c.repr.repr_hidden2 = 16;
    c.group_weight = 0.5;
    c.batch_size = 16;
    c.epochs = 3;
    c.optimizer = "sgd";
    c.learning_rate = 0.05;
    require_data_parallel_fit_equal<DrlihD>(comm, c, 1e-6);
  }
}

TEST_CASE("data-parallel training equals the one-process fit: memory, classifier, listwise", "[mpi][training]") {
  const Communicator comm;
  SECTION("dsh (a memory of every item's output)") {
    DshD::Config c;
    c.bits = 8;
    c.seed = 5;
    c.repr.repr_hidden = 16;
    c.batch_size = 16;
    c.epochs = 3;
    c.optimizer = "sgd";
    c.learning_rate = 0.05;
    require_data_parallel_fit_equal<DshD>(comm, c, 1e-6);
  }
  SECTION("greedyhash (a classifier on the codes, its gradient added once)") {
    GreedyHashD::Config c;
    c.bits = 8;
    c.seed = 6;
    c.repr.repr_hidden = 16;
    c.batch_size = 16;
    c.epochs = 3;
    c.optimizer = "sgd";
    c.learning_rate = 0.05;
    require_data_parallel_fit_equal<GreedyHashD>(comm, c, 1e-6);
  }
  SECTION("dph (listwise rewards of the whole batch against the database codes)") {
    PolicyHashingD::Config c;
    c.bits = 8;
    c.seed = 7;
    c.network.hidden1 = 24;
    c.network.hidden2 = 16;
    c.batch_size = 16;
    c.epochs = 3;
    c.database_update_every = 5;
    c.learning_rate = 1e-2;
    require_data_parallel_fit_equal<PolicyHashingD>(comm, c, 1e-6);
  }
}

TEST_CASE("data-parallel checkpoints are written once; a failed write stops every rank", "[mpi][training]") {
  const Communicator comm;
  const SharedDir dir(comm);
  const ToyData data;
  const nn::Replicas replicas = dist::replicas_of(comm);
  FcTriplet::Config c;
  c.bits = 8;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 8;
  c.batch_size = 16;
  c.epochs = 2;
  FitOptions options;
  options.replicas = &replicas;
  options.checkpoint_path = dir.file("run.ckpt");
  options.checkpoint_every = 1;
  FcTriplet two_epochs(c);
  two_epochs.fit(data.x, data.labels, options);
  comm.barrier();
  REQUIRE(std::filesystem::exists(dir.file("run.ckpt")));
  // Resumed from its checkpoint after 2 epochs, a 3-epoch run equals a straight one.
  c.epochs = 3;
  options.resume = true;
  FcTriplet resumed(c);
  resumed.fit(data.x, data.labels, options);
  REQUIRE(resumed.last_result().resumed_from_epoch == 2);
  options.resume = false;
  options.checkpoint_path = dir.file("straight.ckpt");
  FcTriplet straight(c);
  straight.fit(data.x, data.labels, options);
  REQUIRE(saved_bytes(resumed) == saved_bytes(straight));

  options.checkpoint_path = dir.file("missing/run.ckpt");
  FcTriplet failing(c);
  REQUIRE_THROWS_AS(failing.fit(data.x, data.labels, options), IoError);
  REQUIRE_FALSE(std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("hashers without data-parallel training refuse replicas, naming the method", "[mpi][training]") {
  const Communicator comm;
  const nn::Replicas replicas = dist::replicas_of(comm);
  FitOptions options;
  options.replicas = &replicas;
  const ToyData data;
  AnyHasher lsh(Lsh{});
  if (comm.size() == 1) {
    lsh.fit(data.x, data.labels, options);  // one replica is one process
    return;
  }
  REQUIRE_THROWS_WITH(lsh.fit(data.x, data.labels, options),
                      Catch::Matchers::Contains("lsh does not train data-parallel") &&
                          Catch::Matchers::Contains("train it in one process"));
}
