#include <catch.hpp>
#include <test_util.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "gradient_check.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/nn/trainer.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_checkpoint {
using test::random_matrix;

namespace {
using Net = Sequential<Dense<float>, ReLU<float>, Dropout<float>, Dense<float>>;

struct Data {
  Eigen::MatrixXf x, y, val_x, val_y;
  Data() {
    Rng rng(300);
    x = random_matrix(4, 120, rng).cast<float>();
    val_x = random_matrix(4, 40, rng).cast<float>();
    const Eigen::MatrixXf w = random_matrix(2, 4, rng).cast<float>();
    y = (w * x).array().tanh().matrix();
    val_y = (w * val_x).array().tanh().matrix();
  }
};

// One complete training setup: everything is built from fixed seeds, so two setups with the
// same hidden size start identical. It exercises every piece of state a resume must restore:
// Adam moments, a step-decay schedule, dropout masks, the trainer's generator (shuffling and the
// noise drawn in the step), the early-stopping record and a method's own extra state.
struct Setup {
  Data data;
  Rng init_rng{301};
  Net net;
  Adam<float> adam{AdamConfig{0.02, 0.9, 0.999, 1e-8, 5e-4, false}};
  long long method_counter = 0;
  Rng method_rng{302};
  TrainerConfig config;
  std::unique_ptr<Trainer<Net, Adam<float>, StepDecaySchedule>> trainer;

  explicit Setup(Index hidden = 16, int epochs = 8, std::string checkpoint = "", bool resume = false,
                 int patience = 100)
      : net(Dense<float>(4, hidden, init_rng), ReLU<float>(), Dropout<float>(0.2, 303),
            Dense<float>(hidden, 2, init_rng)) {
    config.epochs = epochs;
    config.batch_size = 16;
    config.seed = 304;
    config.patience = patience;
    config.higher_is_better = false;
    config.max_grad_norm = 5.0;
    config.checkpoint_path = std::move(checkpoint);
    config.checkpoint_every = config.checkpoint_path.empty() ? 0 : 1;
    config.resume = resume;
    trainer = std::make_unique<Trainer<Net, Adam<float>, StepDecaySchedule>>(
        net, adam, StepDecaySchedule{0.02, 0.5, 15}, config);
    trainer->hooks.validate = [this](int) {
      return static_cast<double>(mse_loss(net.infer(data.val_x), data.val_y));
    };
    trainer->hooks.save_extra = [this](ByteWriter& out) {
      out.put<std::int64_t>(method_counter);
      write_rng(out, method_rng);
    };
    trainer->hooks.load_extra = [this](ByteReader& in) {
      method_counter = in.get<std::int64_t>();
      method_rng = read_rng(in);
    };
  }

  TrainResult run() {
    Eigen::MatrixXf xb, yb, grad;
    return trainer->run(data.x.cols(), [&](const std::vector<Index>& batch, StepContext& context) {
      xb.resize(4, static_cast<Index>(batch.size()));
      yb.resize(2, static_cast<Index>(batch.size()));
      for (std::size_t i = 0; i < batch.size(); ++i) {
        xb.col(static_cast<Index>(i)) = data.x.col(batch[i]);
        yb.col(static_cast<Index>(i)) = data.y.col(batch[i]);
      }
      xb.array() += 0.01f * static_cast<float>(uniform_unit(*context.rng));  // the trainer's stream
      yb.array() += 0.01f * static_cast<float>(uniform_unit(method_rng));    // the method's stream
      ++method_counter;
      const double loss = mse_loss(net.forward(xb), yb, &grad);
      net.backward(grad);
      return loss;
    });
  }
  std::vector<Eigen::MatrixXf> values() { return copy_values(net.parameters()); }
};

void require_equal(const std::vector<Eigen::MatrixXf>& a, const std::vector<Eigen::MatrixXf>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i] == b[i]);
}
}  // namespace

TEST_CASE("training is deterministic and uses validation for the best parameters", "[nn][trainer]") {
  Setup a, b;
  const auto ra = a.run();
  b.run();
  require_equal(a.values(), b.values());
  CHECK(ra.epochs_done == 8);
  CHECK(ra.steps == 8 * 8);  // 120 items in batches of 16
  REQUIRE(ra.has_best);
  CHECK(ra.best_metric == Approx(mse_loss(a.net.infer(a.data.val_x), a.data.val_y)));  // restored best
  CHECK(ra.last_loss < 0.5);
  CHECK(a.method_counter == 64);
}

TEST_CASE("early stopping stops after `patience` epochs without improvement", "[nn][trainer]") {
  Setup s(16, 50, "", false, 2);
  // Lower is better: 1, 1/2, 1/3, then 5 forever; the best is epoch 3, the run stops after 5.
  std::vector<Eigen::MatrixXf> at_best;
  s.trainer->hooks.validate = [&, calls = 0](int) mutable {
    ++calls;
    if (calls == 3) at_best = s.values();
    return calls <= 3 ? 1.0 / calls : 5.0;
  };
  const auto r = s.run();
  CHECK(r.stopped_early);
  CHECK(r.epochs_done == 5);
  CHECK(r.best_epoch == 3);
  CHECK(r.best_metric == Approx(1.0 / 3));
  require_equal(s.values(), at_best);
}

TEST_CASE("progress reports every epoch and can stop training", "[nn][trainer]") {
  Setup s;
  std::vector<Progress> seen;
  s.trainer->hooks.progress = [&](const Progress& p) {
    seen.push_back(p);
    return p.done < 2;
  };
  const auto r = s.run();
  CHECK(r.stop_requested);
  CHECK(r.epochs_done == 2);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].stage == "train");
  CHECK(seen[1].total == 8);
  CHECK_THAT(seen[1].metrics, Catch::Contains("loss=") && Catch::Contains("val="));
}

TEST_CASE("checkpoints round-trip exactly", "[nn][checkpoint]") {
  test::TempDir dir;
  const auto path = dir.file("run.ckpt");
  Setup a(16, 3, path);
  a.run();
  // restore_best may have replaced the parameters after the last checkpoint; compare with
  // what the file holds by loading it into a differently initialised setup.
  Setup b(16, 3);
  b.net.parameters()[0].value().setConstant(42.f);
  b.trainer->load_checkpoint(path);
  const auto reader = CheckpointReader::open(path);
  auto in = reader.section("parameters");
  const auto stored = read_parameter_values(in, b.net.parameters());
  require_equal(b.values(), stored);
  CHECK(b.method_counter == a.method_counter);
  CHECK(b.method_rng == a.method_rng);
  CHECK(b.trainer->rng() == a.trainer->rng());
  REQUIRE(b.adam.state().size() == a.adam.state().size());
  for (std::size_t i = 0; i < a.adam.state().size(); ++i) {
    CHECK(b.adam.state()[i].m == a.adam.state()[i].m);
    CHECK(b.adam.state()[i].v == a.adam.state()[i].v);
  }
  CHECK(b.adam.steps() == a.adam.steps());
  // Dropout generators continue identically.
  a.net.set_training(true);
  b.net.set_training(true);
  const Eigen::MatrixXf x = a.data.x.leftCols(5);
  a.net.forward(x);
  b.net.forward(x);
  CHECK(a.net.layer<2>().mask() == b.net.layer<2>().mask());
}

namespace {
// Loads `path` into a fresh setup and checks that it throws `E` and leaves everything as it was.
template <class E>
void require_rejected(const std::string& path, Index hidden = 16, Index items_override = 0) {
  Setup s(hidden, 8, items_override > 0 ? path : "", items_override > 0);
  s.adam.step(s.net.parameters());  // some optimizer state to protect
  const auto before = s.values();
  const auto m_before = s.adam.state()[0].m;
  const auto rng_before = s.trainer->rng();
  const auto counter_before = s.method_counter;
  if (items_override > 0)  // resuming a run over another number of items
    CHECK_THROWS_AS(
        s.trainer->run(items_override, [](const std::vector<Index>&, StepContext&) { return 0.0; }), E);
  else
    CHECK_THROWS_AS(s.trainer->load_checkpoint(path), E);
  require_equal(s.values(), before);
  CHECK(s.adam.state()[0].m == m_before);
  CHECK(s.adam.steps() == 1);
  CHECK(s.trainer->rng() == rng_before);
  CHECK(s.method_counter == counter_before);
}
}  // namespace

TEST_CASE("damaged or foreign checkpoints are rejected and change nothing", "[nn][checkpoint]") {
  test::TempDir dir;
  const auto path = dir.file("run.ckpt");
  Setup a(16, 2, path);
  a.run();
  const auto bytes = read_file_bytes(path);

  SECTION("another architecture") {
    require_rejected<FormatError>(path, 12);
    Setup s(12, 8);
    CHECK_THROWS_WITH(s.trainer->load_checkpoint(path),
                      Catch::Contains("0.weight") && Catch::Contains("different architecture"));
  }
  SECTION("truncated") {
    for (const std::size_t keep : {std::size_t{10}, bytes.size() / 2, bytes.size() - 1}) {
      write_file_atomic(path, bytes.data(), keep);
      require_rejected<FormatError>(path);
    }
  }
  SECTION("flipped byte") {
    for (const std::size_t at : {std::size_t{3}, std::size_t{30}, bytes.size() / 2, bytes.size() - 2}) {
      auto damaged = bytes;
      damaged[at] = static_cast<char>(damaged[at] ^ 0x04);
      write_file_atomic(path, damaged);
      require_rejected<FormatError>(path);
    }
  }
  SECTION("a model file is not a checkpoint") {
    write_enveloped(path, Envelope{"RLHMODEL", 1}, std::vector<char>(16, 'x'));
    require_rejected<FormatError>(path);
  }
  SECTION("a checkpoint of another run's data size") { require_rejected<InvalidArgument>(path, 16, 100); }
  SECTION("missing file") { CHECK_THROWS_AS(CheckpointReader::open(dir.file("none")), IoError); }
}

TEST_CASE("a run killed after checkpoint 3 and resumed equals an uninterrupted run",
          "[nn][checkpoint][resume]") {
  test::TempDir dir;
  const auto path = dir.file("killed.ckpt");

  Setup reference;
  const auto reference_result = reference.run();

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child trains with a checkpoint every epoch and dies hard right after the third.
    int code = 3;
    try {
      Setup s(16, 8, path);
      s.trainer->hooks.on_checkpoint = [](int epochs_done, const std::string&) {
        if (epochs_done == 3) ::raise(SIGKILL);
      };
      s.run();
      code = 4;  // not killed: the parent reports it
    } catch (...) {
      code = 5;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  INFO("child status " << status);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(WTERMSIG(status) == SIGKILL);

  Setup resumed(16, 8, path, true);
  const auto result = resumed.run();
  CHECK(result.resumed_from_epoch == 3);
  CHECK(result.epochs_done == 8);
  CHECK(result.steps == reference_result.steps);
  CHECK(result.best_epoch == reference_result.best_epoch);
  CHECK(result.best_metric == reference_result.best_metric);
  CHECK(result.last_loss == reference_result.last_loss);
  require_equal(resumed.values(), reference.values());
  CHECK(resumed.method_counter == reference.method_counter);
  CHECK(resumed.method_rng == reference.method_rng);
  CHECK(resumed.adam.steps() == reference.adam.steps());
  for (std::size_t i = 0; i < reference.adam.state().size(); ++i) {
    CHECK(resumed.adam.state()[i].m == reference.adam.state()[i].m);
    CHECK(resumed.adam.state()[i].v == reference.adam.state()[i].v);
  }
}

}  // namespace rlhash::nn::test_checkpoint
