#include <catch.hpp>
#include <test_util.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/methods/drlih.hpp"
#include "rlhash/methods/fc_triplet.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_drlih {

namespace {

using DrlihD = DrlihHasher<MlpRepresentation<double>>;
using FcTripletD = FcTripletHasher<MlpRepresentation<double>>;

Eigen::MatrixXd random_uniform(Index rows, Index cols, Rng& rng, double scale = 1.0) {
  Eigen::MatrixXd m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = scale * (2 * uniform_unit(rng) - 1);
  return m;
}

/// Central finite differences of `loss()` over every entry of `x` (perturbed in place).
template <class Loss>
Eigen::MatrixXd numeric_gradient(Loss&& loss, Eigen::Map<Eigen::MatrixXd> x, double eps = 1e-6) {
  Eigen::MatrixXd g(x.rows(), x.cols());
  for (Index i = 0; i < x.size(); ++i) {
    const double saved = x.data()[i];
    x.data()[i] = saved + eps;
    const double up = loss();
    x.data()[i] = saved - eps;
    const double down = loss();
    x.data()[i] = saved;
    g.data()[i] = (up - down) / (2 * eps);
  }
  return g;
}

/// Checks every parameter gradient of `net` against finite differences of `loss`; `analytic`
/// fills the gradient buffers.
template <class Net, class Loss, class Analytic>
void check_all_parameter_gradients(Net& net, Loss&& loss, Analytic&& analytic) {
  net.zero_grad();
  analytic();
  const auto params = net.parameters();
  REQUIRE(params.size() > 0);
  std::vector<Eigen::MatrixXd> grads;
  for (const auto& p : params) grads.emplace_back(p.grad());
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Eigen::MatrixXd numeric = numeric_gradient(loss, params[i].value());
    const double scale = std::max(numeric.norm(), grads[i].norm());
    const double error = (numeric - grads[i]).norm() / std::max(scale, 1e-12);
    INFO(params[i].name << ": |analytic| " << grads[i].norm() << " |numeric| " << numeric.norm()
                        << " rel. error " << error);
    CHECK(numeric.norm() > 1e-8);  // a check over a dead gradient proves nothing
    CHECK(error < 1e-6);
  }
}

DrlihD::Config tiny_drlih_config() {
  DrlihD::Config c;
  c.bits = 5;
  c.group_size = 2;
  c.rnn_hidden = 4;
  c.repr.repr_hidden1 = 6;
  c.repr.repr_hidden2 = 5;
  c.seed = 11;
  return c;
}

/// Three well separated classes in 6 dimensions (items are columns).
struct Clusters {
  MatrixF x, val_x;
  Labels y, val_y;
  explicit Clusters(Index per_class = 20, std::uint64_t seed = 5) {
    Rng rng(seed);
    const Eigen::MatrixXd centers = random_uniform(6, 3, rng, 2.0);
    auto make = [&](Index n, MatrixF& items, Labels& labels) {
      items.resize(6, 3 * n);
      std::vector<std::int32_t> ids;
      for (Index i = 0; i < 3 * n; ++i) {
        const int c = static_cast<int>(i % 3);
        for (Index d = 0; d < 6; ++d)
          items(d, i) = static_cast<float>(centers(d, c) + 0.3 * standard_normal(rng));
        ids.push_back(c);
      }
      labels = Labels::from_class_ids(ids, 3);
    };
    make(per_class, x, y);
    make(10, val_x, val_y);
  }
};

Drlih::Config small_fit_config(int epochs = 6) {
  Drlih::Config c;
  c.bits = 10;
  c.group_size = 4;
  c.rnn_hidden = 12;
  c.repr.repr_hidden1 = 16;
  c.repr.repr_hidden2 = 12;
  c.repr.repr_dropout = 0.1;  // exercises the dropout generator's state on resume
  c.batch_size = 12;
  c.epochs = epochs;
  c.patience = 100;
  c.learning_rate = 5e-3;
  c.group_weight = 1.0;  // exercises the sampled-bit policy gradient (and its draws on resume)
  c.baseline = "greedy";
  c.seed = 3;
  return c;
}

std::vector<char> saved_bytes(const Drlih& h) {
  ByteWriter out;
  h.save(out);
  return out.bytes();
}

}  // namespace

TEST_CASE("action groups: 32 bits in groups of 12 are 12 + 12 + 8", "[methods][drlih]") {
  const auto groups = action_groups(32, 12);
  REQUIRE(groups.size() == 3);
  CHECK(groups[0].begin == 0);
  CHECK(groups[0].size == 12);
  CHECK(groups[1].begin == 12);
  CHECK(groups[1].size == 12);
  CHECK(groups[2].begin == 24);
  CHECK(groups[2].size == 8);
  CHECK(action_groups(12, 12).size() == 1);
  CHECK(action_groups(5, 1).size() == 5);
  CHECK_THROWS_AS(action_groups(32, 0), InvalidArgument);
  CHECK(Drlih().config().group_size == 12);
  CHECK(DrlihNg().config().group_size == 1);
  CHECK(std::string(Drlih::method_name) == "drlih");
  CHECK(std::string(DrlihNg::method_name) == "drlih-ng");
  CHECK(std::string(FcTriplet::method_name) == "fc-triplet");
}

TEST_CASE("DRLIH network follows eq. (5)-(6) with groups: feature at each group's first step",
          "[methods][drlih]") {
  // Identity representation, 7 bits in groups of 3 (3 + 3 + 1), compared with a hand unroll.
  for (const auto sharing : {nn::HeadSharing::shared, nn::HeadSharing::per_step}) {
    Rng rng(21);
    DrlihNetwork<IdentityRepresentation<double>> net(4, {}, 5, 7, 3, sharing, rng);
    Rng data_rng(22);
    const Eigen::MatrixXd x = random_uniform(4, 3, data_rng, 2.0);
    net.rnn().bias() = random_uniform(5, 1, data_rng, 0.5);
    net.head().bias() = random_uniform(net.head().bias().size(), 1, data_rng, 0.5);
    const Eigen::MatrixXd p = net.forward(x);
    const Eigen::MatrixXd q = net.infer(x);
    Eigen::MatrixXd expected(7, 3);
    for (Index n = 0; n < 3; ++n) {
      Eigen::VectorXd c = Eigen::VectorXd::Zero(5);
      for (Index s = 0; s < 7; ++s) {
        Eigen::VectorXd a;
        if (s % 3 == 0)  // c_1 = tanh(W_f i + W_h h + b), h = last state of the previous group
          a = net.rnn().feature_weight() * x.col(n) + net.rnn().hidden_weight() * c + net.rnn().bias();
        else  // c_t = tanh(W_x c_{t-1} + W_h c_{t-1} + b)
          a = net.rnn().input_weight() * c + net.rnn().hidden_weight() * c + net.rnn().bias();
        c = a.array().tanh().matrix();
        const Index h = sharing == nn::HeadSharing::shared ? 0 : s;
        const double z = net.head().weight().row(h).dot(c) + net.head().bias()(h);
        expected(s, n) = 1 / (1 + std::exp(-z));
      }
    }
    CHECK((p - expected).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((q - expected).cwiseAbs().maxCoeff() < 1e-12);
  }
}

TEST_CASE(
    "DRLIH global objective: gradient through policy layer, RNN and representation matches finite "
    "differences",
    "[methods][drlih][gradient]") {
  for (const bool per_step : {false, true}) {
    auto config = tiny_drlih_config();
    config.per_step_heads = per_step;
    const DrlihD hasher(config);
    auto net = hasher.make_network(4);
    Rng rng(31);
    Eigen::MatrixXd x = random_uniform(4, 6, rng, 2.0);
    // Rich enough biases that the relaxed codes differ between items and triplets stay active.
    net.rnn().bias() = random_uniform(4, 1, rng, 0.5);
    const std::vector<Index> items = {0, 1, 2, 3, 4, 5};
    const Labels labels = Labels::from_class_ids({0, 0, 1, 1, 2, 2}, 3);
    const auto triplets = sample_triplets(labels, items, 0, rng);
    REQUIRE(triplets.size() == 6 * 4);
    const auto groups = action_groups(config.bits, config.group_size);
    GroupRewardOptions reward;
    reward.margin = 1.0;
    Rng step_rng(1);
    auto loss = [&] {
      return static_cast<double>(nn::triplet_margin_loss(net.forward(x), triplets, reward.margin));
    };
    INFO("per-step heads " << per_step);
    // training_step with group_weight 0 is exactly the global term of fit's step.
    check_all_parameter_gradients(
        net, loss, [&] { DrlihD::training_step(net, x, triplets, groups, reward, 0.0, step_rng); });
    // The same through global_triplet_objective, and its input gradient direction is live.
    check_all_parameter_gradients(net, loss,
                                  [&] { global_triplet_objective(net, x, triplets, reward.margin); });
  }
}

TEST_CASE("the representation MLP returns no input gradient: its input is data", "[methods][drlih]") {
  MlpRepresentationConfig config;
  config.repr_hidden1 = 5;
  config.repr_hidden2 = 4;
  Rng rng(3);
  auto net = MlpRepresentation<double>::make(6, config, rng);
  CHECK_FALSE(net.layer<0>().input_gradient());
  CHECK(net.layer<3>().input_gradient());  // the second layer's dX feeds the first's dW
  net.forward(random_uniform(6, 2, rng, 1.0));
  CHECK(net.backward(random_uniform(4, 2, rng, 1.0)).size() == 0);
}

TEST_CASE("FC-triplet objective gradient matches finite differences", "[methods][drlih][gradient]") {
  FcTripletD::Config config;
  config.bits = 5;
  config.repr.repr_hidden1 = 6;
  config.repr.repr_hidden2 = 5;
  const FcTripletD hasher(config);
  auto net = hasher.make_network(4);
  Rng rng(41);
  const Eigen::MatrixXd x = random_uniform(4, 6, rng, 2.0);
  const Labels labels = Labels::from_class_ids({0, 1, 0, 1, 2, 2}, 3);
  const auto triplets = sample_triplets(labels, {0, 1, 2, 3, 4, 5}, 2, rng);
  REQUIRE(triplets.size() == 12);
  auto loss = [&] { return static_cast<double>(nn::triplet_margin_loss(net.forward(x), triplets, 1.0)); };
  check_all_parameter_gradients(net, loss, [&] { global_triplet_objective(net, x, triplets, 1.0); });
  SECTION("with the code regularisers") {
    const CodeRegularization regularization{0.7, 1.3};
    auto regularized = [&] {
      const Eigen::MatrixXd p = net.forward(x);
      return static_cast<double>(nn::triplet_margin_loss(p, triplets, 1.0)) +
             0.7 * nn::bit_balance_loss_of_probabilities(p) +
             1.3 * nn::bit_decorrelation_loss_of_probabilities(p);
    };
    check_all_parameter_gradients(net, regularized, [&] {
      CHECK(global_triplet_objective(net, x, triplets, 1.0, true, nullptr, regularization) ==
            Approx(regularized()));
    });
  }
}

namespace {

/// E_A[sum_j mean_t R^g_{t,j}(A)] under independent Bernoulli(sigmoid(z)) bits, enumerated.
double expected_group_objective(const Eigen::MatrixXd& z, const std::vector<ActionGroup>& groups,
                                const std::vector<nn::Triplet>& triplets, double margin) {
  const Index bits = z.size();
  const Eigen::MatrixXd p = (1 / (1 + (-z.array()).exp())).matrix();
  Eigen::MatrixXd a(z.rows(), z.cols());
  double total = 0;
  for (std::uint64_t mask = 0; mask < (std::uint64_t{1} << bits); ++mask) {
    double prob = 1;
    for (Index i = 0; i < bits; ++i) {
      const bool on = (mask >> i) & 1U;
      a.data()[i] = on ? 1 : 0;
      prob *= on ? p.data()[i] : 1 - p.data()[i];
    }
    total += prob * group_triplet_rewards(a, groups, triplets, margin).sum() /
             static_cast<double>(triplets.size());
  }
  return total;
}

struct EstimatorStats {
  Eigen::MatrixXd mean, stderr_;
};

EstimatorStats reinforce_mean(const Eigen::MatrixXd& z, const std::vector<ActionGroup>& groups,
                              const std::vector<nn::Triplet>& triplets, const GroupRewardOptions& options,
                              int samples) {
  const Eigen::MatrixXd p = (1 / (1 + (-z.array()).exp())).matrix();
  Rng rng(77);
  Eigen::MatrixXd sum = Eigen::MatrixXd::Zero(z.rows(), z.cols()), sum_sq = sum;
  for (int s = 0; s < samples; ++s) {
    Eigen::MatrixXd g;
    if (options.samples >= 2) {  // K codes per estimate, the leave-one-out baseline
      std::vector<Eigen::MatrixXd> codes;
      for (int k = 0; k < options.samples; ++k) codes.push_back(nn::sample_bernoulli(p, rng));
      g = group_policy_gradient_leave_one_out(p, codes, groups, triplets, options).logit_grad;
    } else {
      g = group_policy_gradient(p, nn::sample_bernoulli(p, rng), groups, triplets, options).logit_grad;
    }
    sum += g;
    sum_sq += g.cwiseProduct(g);
  }
  EstimatorStats stats;
  stats.mean = sum / samples;
  const Eigen::MatrixXd variance = (sum_sq / samples - stats.mean.cwiseProduct(stats.mean)).cwiseMax(0.0);
  stats.stderr_ = (variance / samples).cwiseSqrt();
  return stats;
}

}  // namespace

TEST_CASE("group reward REINFORCE estimator is unbiased for the sampled-bit reward (enumerated expectation)",
          "[methods][drlih][reinforce]") {
  // 4 items x 4 bits in groups of 2 + 2: 2^16 joint actions, enumerated exactly.
  Rng rng(51);
  const Eigen::MatrixXd z = random_uniform(4, 4, rng, 1.5);
  const Labels labels = Labels::from_class_ids({0, 0, 1, 1}, 2);
  const auto triplets = sample_triplets(labels, {0, 1, 2, 3}, 0, rng);
  REQUIRE(triplets.size() == 8);
  const auto groups = action_groups(4, 2);
  const double margin = 1.0;
  // The exact gradient of the LOSS -E[objective] by finite differences of the enumeration.
  Eigen::MatrixXd zz = z;
  const Eigen::MatrixXd exact =
      -numeric_gradient([&] { return expected_group_objective(zz, groups, triplets, margin); },
                        Eigen::Map<Eigen::MatrixXd>(zz.data(), zz.rows(), zz.cols()), 1e-5);
  REQUIRE(exact.cwiseAbs().maxCoeff() > 1e-3);
  for (const auto baseline : {RewardBaseline::none, RewardBaseline::greedy}) {
    GroupRewardOptions options;
    options.margin = margin;
    options.baseline = baseline;
    const auto stats = reinforce_mean(z, groups, triplets, options, 100000);
    INFO("baseline " << (baseline == RewardBaseline::none ? "none" : "greedy") << "\nexact\n"
                     << exact << "\nestimate\n"
                     << stats.mean << "\nstderr\n"
                     << stats.stderr_);
    // The estimate is precise enough to tell a wrong gradient apart ...
    CHECK(stats.stderr_.maxCoeff() < 0.1 * exact.cwiseAbs().maxCoeff());
    // ... and every entry lies within 4.5 standard errors of the exact value.
    CHECK(((stats.mean - exact).cwiseAbs().array() <= 4.5 * stats.stderr_.array() + 1e-9).all());
  }
  {  // K sampled codes with the leave-one-out baseline: unbiased, and of lower variance than the
     // unbiased single-sample estimate without a baseline (the batch mean, biased by O(1/T), is
     // lower still on this 8-triplet instance)
    GroupRewardOptions single;
    single.baseline = RewardBaseline::none;
    GroupRewardOptions loo;
    loo.samples = 4;
    // The same number of sampled codes (100,000) for both.
    const auto one = reinforce_mean(z, groups, triplets, single, 100000);
    const auto four = reinforce_mean(z, groups, triplets, loo, 25000);
    INFO("exact\n"
         << exact << "\nleave-one-out\n"
         << four.mean << "\nstderr\n"
         << four.stderr_ << "\nno-baseline stderr\n"
         << one.stderr_);
    CHECK(four.stderr_.maxCoeff() < 0.1 * exact.cwiseAbs().maxCoeff());
    CHECK(((four.mean - exact).cwiseAbs().array() <= 4.5 * four.stderr_.array() + 1e-9).all());
    CHECK(four.stderr_.sum() < one.stderr_.sum());
    const std::vector<Eigen::MatrixXd> just_one{Eigen::MatrixXd::Zero(4, 4)};
    CHECK_THROWS_AS(group_policy_gradient_leave_one_out(z, just_one, groups, triplets, loo), InvalidArgument);
  }
}

TEST_CASE("the paper's literal group reward (on probabilities) gives a zero-mean REINFORCE term",
          "[methods][drlih][reinforce]") {
  Rng rng(52);
  const Eigen::MatrixXd z = random_uniform(4, 4, rng, 1.5);
  const Labels labels = Labels::from_class_ids({0, 0, 1, 1}, 2);
  const auto triplets = sample_triplets(labels, {0, 1, 2, 3}, 0, rng);
  GroupRewardOptions options;
  options.on_probabilities = true;
  options.baseline = RewardBaseline::none;
  const auto stats = reinforce_mean(z, action_groups(4, 2), triplets, options, 100000);
  INFO("estimate\n" << stats.mean << "\nstderr\n" << stats.stderr_);
  CHECK(stats.stderr_.maxCoeff() > 0);  // it is pure noise, not nothing
  CHECK(((stats.mean.cwiseAbs().array()) <= 4.5 * stats.stderr_.array()).all());
}

TEST_CASE("triplet sampling by labels, single and multi-label", "[methods][drlih]") {
  Rng rng(61);
  const Labels single = Labels::from_class_ids({0, 1, 0, 2, 1}, 3);
  const std::vector<Index> items = {4, 0, 2, 1};  // labels 1, 0, 0, 1
  const auto all = sample_triplets(single, items, 0, rng);
  CHECK(all.size() == 4 * 1 * 2);
  for (const auto& t : all) {
    CHECK(single.relevant(items[t.anchor], single, items[t.positive]));
    CHECK_FALSE(single.relevant(items[t.anchor], single, items[t.negative]));
    CHECK(t.anchor != t.positive);
  }
  CHECK(sample_triplets(single, items, 3, rng).size() == 12);
  const std::uint8_t hot[] = {1, 1, 0, /**/ 0, 1, 0, /**/ 0, 0, 1, /**/ 1, 0, 0};
  const Labels multi = Labels::from_multi_hot(hot, 4, 3);
  const auto m = sample_triplets(multi, {0, 1, 2, 3}, 0, rng);
  // item 0 {0,1}: positives 1, 3, negative 2; item 1 {1}: positive 0, negatives 2, 3;
  // item 2 {2}: no positive; item 3 {0}: positive 0, negatives 1, 2.
  CHECK(m.size() == 2 + 2 + 2);
  CHECK_THROWS_AS(sample_triplets(single, {0, 9}, 0, rng), InvalidArgument);
}

TEST_CASE("DRLIH fit learns separable clusters, is reproducible, and save/load round-trips",
          "[methods][drlih]") {
  const Clusters data;
  Drlih a(small_fit_config(8));
  FitOptions options;
  options.validation_features = &data.val_x;
  options.validation_labels = &data.val_y;
  int reports = 0;
  options.progress = [&](const Progress& p) {
    ++reports;
    CHECK(p.stage == "train");
    return true;
  };
  a.fit(data.x, data.y, options);
  CHECK(reports == 8);
  REQUIRE(a.last_result().has_best);
  CHECK(a.last_result().best_metric > 0.9);

  const MatrixF p = a.probabilities(data.val_x);
  CHECK(p.rows() == 10);
  CHECK(p.cols() == data.val_x.cols());
  CHECK((p.array() >= 0).all());
  CHECK((p.array() <= 1).all());
  const BinaryCodes codes = a.encode(data.val_x);
  CHECK(codes.bits() == 10);
  CHECK(codes == BinaryCodes::from_probabilities(p));

  Drlih b(small_fit_config(8));
  b.fit(data.x, data.y, options);
  CHECK(saved_bytes(a) == saved_bytes(b));

  ByteWriter out;
  a.save(out);
  Drlih c(small_fit_config(8));
  ByteReader in(out.bytes().data(), out.bytes().size(), "memory");
  c.load(in);
  in.expect_end();
  CHECK(c.encode(data.x) == a.encode(data.x));
  CHECK(c.probabilities(data.val_x) == p);

  SECTION("a model of another architecture or truncated data is a FormatError") {
    auto other = small_fit_config(8);
    other.rnn_hidden = 13;
    Drlih d(other);
    ByteReader in2(out.bytes().data(), out.bytes().size(), "memory");
    CHECK_THROWS_AS(d.load(in2), FormatError);
    CHECK_FALSE(d.fitted());
    ByteReader in3(out.bytes().data(), out.bytes().size() - 5, "memory");
    CHECK_THROWS_AS(d.load(in3), FormatError);
  }
}

TEST_CASE("the group-reward term joins at group_from_epoch", "[methods][drlih]") {
  const Clusters data;
  auto trained_probabilities = [&](double group_weight, int group_from_epoch, int epochs = 4) {
    auto config = small_fit_config(epochs);
    config.group_weight = group_weight;
    config.group_from_epoch = group_from_epoch;
    Drlih hasher(config);
    hasher.fit(data.x, data.y);
    return hasher.probabilities(data.val_x);
  };
  const MatrixF global_only = trained_probabilities(0.0, 0);
  // From the epoch after the last: the term never joins, the run is the global reward's.
  CHECK(trained_probabilities(1.0, 4) == global_only);
  // From epoch 2: the first two epochs are the global reward's, the last two are not.
  CHECK(trained_probabilities(1.0, 2, 2) == trained_probabilities(0.0, 0, 2));
  const MatrixF late = trained_probabilities(1.0, 2);
  CHECK(late != global_only);
  CHECK(late != trained_probabilities(1.0, 0));

  auto config = small_fit_config(4);
  config.group_from_epoch = -1;
  CHECK_THROWS_WITH(Drlih(config), Catch::Contains("group_from_epoch must be >= 0, got -1"));
}

TEST_CASE("DRLIH and FC-triplet reject misuse", "[methods][drlih]") {
  const Clusters data(4);
  Drlih h(small_fit_config(1));
  CHECK_THROWS_AS(h.encode(data.x), StateError);
  CHECK_THROWS_AS(h.probabilities(data.x), StateError);
  ByteWriter out;
  CHECK_THROWS_AS(h.save(out), StateError);
  CHECK_THROWS_AS(FcTriplet().encode(data.x), StateError);

  const Labels short_labels = Labels::from_class_ids({0, 1, 2}, 3);
  CHECK_THROWS_AS(h.fit(data.x, short_labels), InvalidArgument);
  h.fit(data.x, data.y);
  CHECK_THROWS_AS(h.encode(MatrixF::Zero(7, 3)), InvalidArgument);
  MatrixF bad_val = MatrixF::Zero(5, 4);
  FitOptions options;
  options.validation_features = &bad_val;
  options.validation_labels = &data.val_y;
  CHECK_THROWS_AS(h.fit(data.x, data.y, options), InvalidArgument);

  auto config = small_fit_config(1);
  config.baseline = "mean";
  CHECK_THROWS_AS(Drlih(config), InvalidArgument);
  config = small_fit_config(1);
  config.optimizer = "rmsprop";
  CHECK_THROWS_AS(Drlih(config), InvalidArgument);
  config = small_fit_config(1);
  config.bits = 0;
  CHECK_THROWS_AS(Drlih(config), InvalidArgument);
  config = small_fit_config(1);
  config.group_size = 0;
  CHECK_THROWS_AS(Drlih(config), InvalidArgument);
  config = small_fit_config(1);
  config.policy_samples = 0;
  CHECK_THROWS_WITH(Drlih(config), Catch::Contains("policy_samples must be >= 1"));
  Drlih::Config fields;
  set_field(fields, "baseline", "greedy");
  set_field(fields, "repr_hidden1", "64");
  CHECK(fields.baseline == "greedy");
  CHECK(fields.repr.repr_hidden1 == 64);
  CHECK_THROWS_AS(set_field(fields, "no_such_field", "1"), InvalidArgument);
}

TEST_CASE("FC-triplet fits clusters and round-trips", "[methods][drlih]") {
  const Clusters data;
  FcTriplet::Config config;
  config.bits = 8;
  config.repr.repr_hidden1 = 16;
  config.repr.repr_hidden2 = 12;
  config.batch_size = 12;
  config.epochs = 6;
  config.learning_rate = 5e-3;
  FcTriplet h(config);
  FitOptions options;
  options.validation_features = &data.val_x;
  options.validation_labels = &data.val_y;
  h.fit(data.x, data.y, options);
  CHECK(h.last_result().best_metric > 0.9);
  ByteWriter out;
  h.save(out);
  FcTriplet g(config);
  ByteReader in(out.bytes().data(), out.bytes().size(), "memory");
  g.load(in);
  CHECK(g.encode(data.x) == h.encode(data.x));
}

TEST_CASE("DRLIH training killed after a checkpoint and resumed equals an uninterrupted run",
          "[methods][drlih][resume]") {
  const Clusters data;
  test::TempDir dir;
  const std::string path = dir.file("drlih.ckpt");
  FitOptions options;
  options.validation_features = &data.val_x;
  options.validation_labels = &data.val_y;

  Drlih reference(small_fit_config(6));
  reference.fit(data.x, data.y, options);

  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 3;
    try {
      Drlih h(small_fit_config(6));
      FitOptions o = options;
      o.checkpoint_path = path;
      o.checkpoint_every = 1;
      // Progress for epoch 4 is reported before its checkpoint: the file then holds epoch 3.
      o.progress = [](const Progress& p) {
        if (p.done == 4) ::raise(SIGKILL);
        return true;
      };
      h.fit(data.x, data.y, o);
      code = 4;
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

  Drlih resumed(small_fit_config(6));
  FitOptions o = options;
  o.checkpoint_path = path;
  o.checkpoint_every = 1;
  o.resume = true;
  resumed.fit(data.x, data.y, o);
  CHECK(resumed.last_result().resumed_from_epoch == 3);
  CHECK(resumed.last_result().epochs_done == 6);
  CHECK(resumed.last_result().steps == reference.last_result().steps);
  CHECK(resumed.last_result().best_metric == reference.last_result().best_metric);
  CHECK(saved_bytes(resumed) == saved_bytes(reference));
  CHECK(resumed.encode(data.val_x) == reference.encode(data.val_x));

  SECTION("another method's checkpoint is refused") {
    FcTriplet::Config fc;
    fc.bits = 10;
    fc.seed = 3;
    fc.batch_size = 12;
    fc.epochs = 6;
    FcTriplet other(fc);
    CHECK_THROWS_AS(other.fit(data.x, data.y, o), FormatError);
  }
}

TEST_CASE("the group policy gradient trains the agent only unless routed into the representation",
          "[methods][drlih][reinforce]") {
  const DrlihD hasher(tiny_drlih_config());
  auto net = hasher.make_network(4);
  Rng rng(71);
  const Eigen::MatrixXd x = random_uniform(4, 6, rng, 2.0);
  const Labels labels = Labels::from_class_ids({0, 0, 1, 1, 2, 2}, 3);
  const auto triplets = sample_triplets(labels, {0, 1, 2, 3, 4, 5}, 0, rng);
  const auto groups = action_groups(5, 2);
  GroupRewardOptions reward;
  auto gradients = [&](double weight, bool to_repr) {
    net.zero_grad();
    Rng step_rng(9);
    DrlihD::training_step(net, x, triplets, groups, reward, weight, step_rng, to_repr);
    std::vector<Eigen::MatrixXd> out;
    for (const auto& p : net.parameters()) out.emplace_back(p.grad());
    return out;
  };
  const auto global_only = gradients(0.0, false);
  const auto agent_only = gradients(1.0, false);
  const auto everywhere = gradients(1.0, true);
  const auto params = net.parameters();
  bool agent_changed = false, repr_changed = false;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const bool is_repr = params[i].name.rfind("repr.", 0) == 0;
    if (is_repr) {
      CHECK(agent_only[i] == global_only[i]);
      repr_changed = repr_changed || (everywhere[i] - global_only[i]).norm() > 1e-9;
    } else {
      agent_changed = agent_changed || (agent_only[i] - global_only[i]).norm() > 1e-9;
      CHECK((agent_only[i] - everywhere[i]).norm() < 1e-12 * (1 + everywhere[i].norm()));
    }
  }
  CHECK(agent_changed);
  CHECK(repr_changed);
}

TEST_CASE("learning-rate decay points in epochs or in steps", "[drlih]") {
  // 4,500 items in batches of 64: 71 steps an epoch (the last batch is partial).
  CHECK(detail::decay_steps(10, 10000, 4500, 64) == 710);
  CHECK(detail::decay_steps(0.5, 10000, 4500, 64) == 36);
  CHECK(detail::decay_steps(0, 10000, 4500, 64) == 10000);  // the paper's steps
  CHECK(detail::decay_steps(1e-9, 10000, 10, 64) == 1);     // never a zero period
  Drlih::Config c;
  c.lr_decay_epochs = -1;
  CHECK_THROWS_AS(Drlih(c), InvalidArgument);
}

}  // namespace rlhash::test_drlih
