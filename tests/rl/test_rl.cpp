// Replay memory, epsilon schedule, Q-learning targets, target-network updates and the split
// Q-network (gradient check in double).
#include <catch.hpp>
#include <test_util.hpp>

#include <cmath>
#include <vector>

#include "../nn/gradient_check.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/rl/dqn.hpp"
#include "rlhash/rl/epsilon_schedule.hpp"
#include "rlhash/rl/flip_actions.hpp"
#include "rlhash/rl/q_network.hpp"
#include "rlhash/rl/replay_memory.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_rl {

namespace {
struct Rec {
  std::int64_t id;
  float value;
};
using TrunkD = nn::Sequential<nn::ReLU<double>, nn::Dropout<double>, nn::Dense<double>, nn::ReLU<double>,
                              nn::Dropout<double>, nn::Dense<double>>;
using QNetD = rl::SplitInputQNetwork<TrunkD>;

QNetD make_qnet(Index features, Index state, Index hidden, Index actions, double dropout,
                std::uint64_t seed) {
  Rng rng(seed);
  TrunkD trunk(nn::ReLU<double>(), nn::Dropout<double>(dropout, seed + 1), nn::Dense<double>(hidden, 12, rng),
               nn::ReLU<double>(), nn::Dropout<double>(dropout, seed + 2),
               nn::Dense<double>(12, actions, rng));
  return QNetD(features, state, hidden, std::move(trunk), rng);
}
}  // namespace

TEST_CASE("replay memory keeps the last capacity entries with their payload", "[rl][replay]") {
  rl::ReplayMemory<Rec> memory(4, 2);
  for (int i = 0; i < 6; ++i) {
    const std::uint64_t words[2] = {std::uint64_t(i), std::uint64_t(100 + i)};
    memory.push(Rec{i, float(i) / 2}, words);
  }
  REQUIRE(memory.size() == 4);
  REQUIRE(memory.pushed() == 6);
  std::vector<std::int64_t> ids;
  for (Index k = 0; k < memory.size(); ++k) {
    ids.push_back(memory.record(k).id);
    CHECK(memory.payload(k)[0] == std::uint64_t(memory.record(k).id));
    CHECK(memory.payload(k)[1] == std::uint64_t(100 + memory.record(k).id));
  }
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::int64_t>{2, 3, 4, 5});  // 0 and 1 overwritten
  CHECK_THROWS_AS(memory.record(4), InvalidArgument);
}

TEST_CASE("replay sampling is uniform, in range and reproducible", "[rl][replay]") {
  rl::ReplayMemory<Rec> memory(10, 0);
  for (int i = 0; i < 10; ++i) memory.push(Rec{i, 0}, nullptr);
  Rng a(5), b(5);
  const auto s1 = memory.sample(20000, a);
  const auto s2 = memory.sample(20000, b);
  CHECK(s1 == s2);
  std::vector<int> counts(10, 0);
  for (Index i : s1) {
    REQUIRE(i >= 0);
    REQUIRE(i < 10);
    ++counts[static_cast<std::size_t>(i)];
  }
  for (int c : counts) {  // expected 2000 each; 5 sigma ~ 212
    CHECK(c > 1780);
    CHECK(c < 2220);
  }
  rl::ReplayMemory<Rec> empty(3, 0);
  CHECK_THROWS_AS(empty.sample(1, a), StateError);
}

TEST_CASE("replay memory save/load round trip", "[rl][replay]") {
  rl::ReplayMemory<Rec> memory(3, 1);
  for (int i = 0; i < 5; ++i) {
    const std::uint64_t w = 7 * std::uint64_t(i);
    memory.push(Rec{i, float(i)}, &w);
  }
  ByteWriter out;
  memory.save(out);
  rl::ReplayMemory<Rec> copy(3, 1);
  ByteReader in(out.bytes().data(), out.bytes().size(), "replay");
  copy.load(in);
  REQUIRE(copy.size() == 3);
  for (Index k = 0; k < 3; ++k) {
    CHECK(copy.record(k).id == memory.record(k).id);
    CHECK(copy.payload(k)[0] == memory.payload(k)[0]);
  }
  // The next push overwrites the same slot in both.
  const std::uint64_t w = 99;
  memory.push(Rec{9, 0}, &w);
  copy.push(Rec{9, 0}, &w);
  for (Index k = 0; k < 3; ++k) CHECK(copy.record(k).id == memory.record(k).id);
  rl::ReplayMemory<Rec> other(4, 1);
  ByteReader in2(out.bytes().data(), out.bytes().size(), "replay");
  CHECK_THROWS_AS(other.load(in2), FormatError);
}

TEST_CASE("flip actions: the paper's b + 1 and the 2-bit set's 1 + b + C(b, 2)", "[rl][actions]") {
  const rl::FlipActions one(5, 1), two(5, 2);
  CHECK(one.size() == 6);
  CHECK(two.size() == 16);  // 1 + 5 + 10
  CHECK(one.terminate() == 5);
  CHECK(two.terminate() == 5);
  int flipped[2];
  for (int a = 0; a < 5; ++a) {  // one-bit actions are the same in both sets
    REQUIRE(two.flipped(a, flipped) == 1);
    CHECK(flipped[0] == a);
  }
  CHECK(two.flipped(5, flipped) == 0);
  // Pairs in lexicographic order, and pair_action inverts flipped.
  int expected = 6;
  for (int i = 0; i < 5; ++i)
    for (int j = i + 1; j < 5; ++j, ++expected) {
      CHECK(two.pair_action(i, j) == expected);
      CHECK(two.pair_action(j, i) == expected);
      REQUIRE(two.flipped(expected, flipped) == 2);
      CHECK(flipped[0] == i);
      CHECK(flipped[1] == j);
    }
  // The expert's improving pairs are exactly the pairs of improving bits.
  std::vector<int> out;
  two.expert_actions({1, 3, 4}, true, out);
  CHECK(out ==
        std::vector<int>{1, 3, 4, two.pair_action(1, 3), two.pair_action(1, 4), two.pair_action(3, 4), 5});
  one.expert_actions({1, 3, 4}, false, out);
  CHECK(out == std::vector<int>{1, 3, 4});
  CHECK_THROWS_AS(one.flipped(6, flipped), InvalidArgument);
  CHECK_THROWS_AS(two.flipped(-1, flipped), InvalidArgument);
  CHECK_THROWS_AS(one.pair_action(0, 1), InvalidArgument);
  CHECK_THROWS_AS(two.pair_action(2, 2), InvalidArgument);
  CHECK_THROWS_AS(rl::FlipActions(5, 3), InvalidArgument);
  CHECK_THROWS_AS(rl::FlipActions(300, 2), InvalidArgument);  // 44,851 actions
}

TEST_CASE("epsilon falls linearly over the decay epochs, then stays", "[rl][epsilon]") {
  const rl::LinearEpsilon eps(1.0, 0.1, 15.0);
  CHECK(eps.value(0) == Approx(1.0));
  CHECK(eps.value(7.5) == Approx(0.55));
  CHECK(eps.value(14.999) == Approx(0.1).margin(1e-3));
  CHECK(eps.value(15) == Approx(0.1));
  CHECK(eps.value(24) == Approx(0.1));
  CHECK(rl::LinearEpsilon(1.0, 0.1, 0.0).value(0) == Approx(0.1));
  CHECK_THROWS_AS(rl::LinearEpsilon(1.5, 0.1, 1), InvalidArgument);
  CHECK_THROWS_AS(rl::LinearEpsilon(1.0, 0.1, -1), InvalidArgument);
}

TEST_CASE("Q-learning targets bootstrap from the best next action unless terminal", "[rl][dqn]") {
  Eigen::MatrixXd next(3, 2);
  next << 1, -4, 5, -2, 2, -3;
  const auto y = rl::q_learning_targets(next, {1.0f, 0.5f}, {0, 0}, 0.9);
  CHECK(y(0) == Approx(1 + 0.9 * 5));
  CHECK(y(1) == Approx(0.5 + 0.9 * -2));
  const auto yt = rl::q_learning_targets(next, {1.0f, 0.5f}, {1, 0}, 0.9);
  CHECK(yt(0) == Approx(1.0));
  Eigen::MatrixXd online(3, 2);
  online << 9, 0, 0, 0, 0, 7;  // online picks action 0 for column 0, action 2 for column 1
  const auto yd = rl::double_q_learning_targets(next, online, {1.0f, 0.5f}, {0, 0}, 0.9);
  CHECK(yd(0) == Approx(1 + 0.9 * 1));
  CHECK(yd(1) == Approx(0.5 + 0.9 * -3));
  CHECK_THROWS_AS(rl::q_learning_targets(next, {1.0f}, {0}, 0.9), InvalidArgument);
}

TEST_CASE("target network: hard copy and soft update", "[rl][dqn]") {
  QNetD online = make_qnet(5, 4, 6, 3, 0.0, 1);
  QNetD target = make_qnet(5, 4, 6, 3, 0.0, 2);
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(5, 4), s = Eigen::MatrixXd::Random(4, 4);
  REQUIRE((online.infer(x, s) - target.infer(x, s)).norm() > 1e-3);
  rl::copy_parameters(online, target);
  CHECK((online.infer(x, s) - target.infer(x, s)).norm() == 0.0);
  // An optimizer step on the online network leaves the target where it was.
  const Eigen::MatrixXd before = target.infer(x, s);
  online.zero_grad();
  const Eigen::MatrixXd& q = online.forward(x, s);
  Eigen::MatrixXd grad;
  nn::selected_huber_loss(q, {0, 1, 2, 0}, Eigen::VectorXd::Constant(4, 3.0), 1.0, &grad);
  online.backward(grad);
  nn::Sgd<double> sgd(nn::SgdConfig{0.1, 0, 0, false});
  sgd.step(online.parameters());
  CHECK((target.infer(x, s) - before).norm() == 0.0);
  CHECK((online.infer(x, s) - before).norm() > 1e-6);
  // Soft update: halfway between, parameter by parameter.
  QNetD mid = target;
  rl::soft_update(online, mid, 0.5);
  const auto po = online.parameters(), pt = target.parameters(), pm = mid.parameters();
  for (std::size_t i = 0; i < po.size(); ++i)
    CHECK((pm[i].value() - 0.5 * (po[i].value() + pt[i].value())).norm() < 1e-12);
}

TEST_CASE("split first layer equals one dense layer over [f; s]", "[rl][qnet]") {
  QNetD net = make_qnet(7, 5, 9, 4, 0.0, 3);
  Eigen::MatrixXd x = Eigen::MatrixXd::Random(7, 6), s = Eigen::MatrixXd::Random(5, 6);
  Eigen::MatrixXd full(9, 12);
  full << net.feature_weight(), net.state_weight();
  Eigen::MatrixXd xs(12, 6);
  xs << x, s;
  Eigen::MatrixXd z = full * xs;
  z.colwise() += net.bias();
  const Eigen::MatrixXd expected = net.trunk().infer(z);
  CHECK((net.infer(x, s) - expected).norm() < 1e-12);
  CHECK((net.infer_projected(net.feature_projection(x), s) - expected).norm() < 1e-12);
  net.set_training(false);
  CHECK((net.forward(x, s) - expected).norm() < 1e-12);
  CHECK_THROWS_AS(net.infer(s, s), InvalidArgument);
}

TEST_CASE("Q-network gradients match finite differences (Huber on selected actions)", "[rl][qnet]") {
  QNetD net = make_qnet(6, 5, 8, 4, 0.3, 11);
  net.trunk().layer<1>().freeze_mask(true);
  net.trunk().layer<4>().freeze_mask(true);
  Rng rng(4);
  Eigen::MatrixXd x(6, 5), s(5, 5);
  for (Index i = 0; i < x.size(); ++i) x.data()[i] = uniform_unit(rng);
  for (Index i = 0; i < s.size(); ++i) s.data()[i] = static_cast<double>(uniform_below(rng, 2));
  const std::vector<Index> actions{0, 3, 1, 2, 3};
  Eigen::VectorXd targets(5);
  targets << 0.5, -2.0, 1.0, 3.0, 0.0;  // some residuals beyond delta, some inside
  auto loss = [&]() { return nn::selected_huber_loss(net.forward(x, s), actions, targets, 0.7); };
  net.zero_grad();
  Eigen::MatrixXd grad;
  nn::selected_huber_loss(net.forward(x, s), actions, targets, 0.7, &grad);
  net.backward(grad);
  for (const auto& p : net.parameters()) {
    const Eigen::MatrixXd analytic = p.grad();
    auto r = test::check_gradient(loss, p.value(), analytic, p.name);
    test::require_close(r, 1e-5);
  }
}

}  // namespace rlhash::test_rl
