#include <catch.hpp>
#include <test_util.hpp>

#include "gradient_check.hpp"
#include "rlhash/nn/bernoulli.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/policy_head.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/trainer.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_policy {
using test::check_gradient;
using test::random_matrix;
using test::require_close;

TEST_CASE("policy head: eq. (6) per step, shared or per-step weights", "[nn][policy][gradcheck]") {
  Rng rng(31);
  const Eigen::Index hidden = 4, steps = 3, n = 5;
  const auto sharing = GENERATE(HeadSharing::shared, HeadSharing::per_step);
  PolicyHead<double> head(hidden, steps, rng, sharing);
  head.bias() = random_matrix(head.bias().size(), 1, rng);
  const Eigen::MatrixXd c = random_matrix(hidden, steps * n, rng);
  const Eigen::MatrixXd p = head.forward(c);
  REQUIRE(p.rows() == steps);
  REQUIRE(p.cols() == n);
  for (Eigen::Index t = 0; t < steps; ++t)
    for (Eigen::Index j = 0; j < n; ++j) {
      const Eigen::Index h = sharing == HeadSharing::shared ? 0 : t;
      const double z = head.weight().row(h).dot(c.col(t * n + j)) + head.bias()(h);
      CHECK(p(t, j) == Approx(1 / (1 + std::exp(-z))).epsilon(1e-12));
      CHECK(head.logits()(t, j) == Approx(z).epsilon(1e-12));
    }
  CHECK(head.infer(c).isApprox(p));
  test::check_module_gradients(head, c, rng);
}

TEST_CASE("Bernoulli log-probability and its gradients", "[nn][policy][gradcheck]") {
  Rng rng(32);
  Eigen::MatrixXd z = 3 * random_matrix(4, 6, rng);
  const Eigen::MatrixXd p_of_z = (1 / (1 + (-z.array()).exp())).matrix();
  const Eigen::MatrixXd a = sample_bernoulli(p_of_z, rng);
  REQUIRE(((a.array() == 0) || (a.array() == 1)).all());

  const Eigen::MatrixXd logp = bernoulli_log_prob(z, a);
  CHECK(logp.isApprox(bernoulli_log_prob_from_probabilities(p_of_z, a)));
  CHECK(logp.isApprox(
      (a.array() * p_of_z.array().log() + (1 - a.array()) * (1 - p_of_z.array()).log()).matrix()));
  // Stable for saturated logits: log P(a = 1 | z = -800) = -800, not -inf.
  Eigen::MatrixXd extreme(1, 2), ones(1, 2);
  extreme << -800, 800;
  ones << 1, 0;
  CHECK(bernoulli_log_prob(extreme, ones)(0, 0) == Approx(-800));
  CHECK(bernoulli_log_prob(extreme, ones)(0, 1) == Approx(-800));

  // Weighted sum of log-probs, as REINFORCE uses it.
  const Eigen::MatrixXd w = random_matrix(4, 6, rng);
  auto loss_z = [&] { return (bernoulli_log_prob(z, a).array() * w.array()).sum(); };
  require_close(check_gradient(loss_z, z, (bernoulli_log_prob_grad_logits(z, a).array() * w.array()).matrix(),
                               "logits"));
  Eigen::MatrixXd p = p_of_z;
  auto loss_p = [&] { return (bernoulli_log_prob_from_probabilities(p, a).array() * w.array()).sum(); };
  require_close(check_gradient(loss_p, p,
                               (bernoulli_log_prob_grad_probabilities(p, a).array() * w.array()).matrix(),
                               "probabilities"));
  // REINFORCE: the gradient of -sum R log P is what reinforce_logit_grad returns.
  auto reinforce = [&] { return -(bernoulli_log_prob(z, a).array() * w.array()).sum(); };
  require_close(check_gradient(reinforce, z, reinforce_logit_grad(z, a, w), "reinforce"));

  // Groups of k bits: log pi(A_i) = sum of its bits' log-probs (eq. (2)).
  const Eigen::MatrixXd groups = group_log_prob(logp, 2);
  REQUIRE(groups.rows() == 2);
  CHECK(groups(1, 3) == Approx(logp(2, 3) + logp(3, 3)));
  CHECK_THROWS_AS(group_log_prob(logp, 3), InvalidArgument);
}

TEST_CASE("sampling is seeded and matches the probabilities", "[nn][policy]") {
  Rng a(5), b(5);
  const Eigen::MatrixXd p = Eigen::MatrixXd::Constant(20, 500, 0.3);
  const Eigen::MatrixXd s1 = sample_bernoulli(p, a), s2 = sample_bernoulli(p, b);
  CHECK(s1 == s2);
  CHECK(s1.mean() == Approx(0.3).margin(0.01));
}

TEST_CASE("REINFORCE through head and feature-first RNN passes finite differences",
          "[nn][policy][gradcheck]") {
  // The whole DRLIH policy path: feature -> RNN (2 groups of 2) -> head -> sum R log P(a).
  Rng rng(33);
  const Eigen::Index features = 5, hidden = 3, steps = 4, n = 3;
  FeatureFirstRnn<double> rnn(features, hidden, rng);
  PolicyHead<double> head(hidden, steps, rng);
  Eigen::MatrixXd f = random_matrix(features, n, rng);
  const Eigen::MatrixXd h0 = Eigen::MatrixXd::Zero(hidden, n);
  const Eigen::MatrixXd a = sample_bernoulli(head.forward(rnn.forward(f, h0, steps, 2)), rng);
  const Eigen::MatrixXd reward = random_matrix(steps, n, rng);
  auto loss = [&] {
    head.forward(rnn.forward(f, h0, steps, 2));
    return -(bernoulli_log_prob(head.logits(), a).array() * reward.array()).sum();
  };
  loss();
  rnn.zero_grad();
  head.zero_grad();
  const Eigen::MatrixXd df =
      rnn.backward(head.backward_logits(reinforce_logit_grad(head.logits(), a, reward)));
  require_close(check_gradient(loss, f, df, "feature"));
  ParameterList<double> params = rnn.parameters();
  append_parameters(params, head.parameters(), "head.");
  REQUIRE(params.size() == 6);
  for (const auto& p : params) {
    const Eigen::MatrixXd analytic = p.grad();
    require_close(check_gradient(loss, p.value(), analytic, p.name));
  }
}

TEST_CASE("Modules train an RNN and a head together and checkpoint them", "[nn][policy][trainer]") {
  // Supervised stand-in for DRLIH's global reward: fit the relaxed codes to fixed target bits.
  test::TempDir dir;
  const auto path = dir.file("policy.ckpt");
  Rng data_rng(34);
  const Eigen::MatrixXd features = random_matrix(6, 40, data_rng);
  const Eigen::MatrixXd targets = (random_matrix(4, 40, data_rng).array() > 0).cast<double>().matrix();

  Rng init(35);
  FeatureFirstRnn<double> rnn(6, 8, init);
  PolicyHead<double> head(8, 4, init, HeadSharing::per_step);
  auto model = tie_modules(rnn, head);
  const auto params = model.parameters();
  REQUIRE(params.size() == 6);
  CHECK(params[0].name == "0.feature_weight");
  CHECK(params[5].name == "1.bias");

  Adam<double> adam(AdamConfig{0.05});
  TrainerConfig config;
  config.epochs = 30;
  config.batch_size = 10;
  config.checkpoint_path = path;
  config.checkpoint_every = 10;
  Trainer trainer(model, adam, ConstantSchedule{0.05}, config);
  auto evaluate = [&] {
    return binary_cross_entropy(head.infer(rnn.forward(features, Eigen::MatrixXd::Zero(8, 40), 4, 2)),
                                targets);
  };
  const double before = evaluate();
  Eigen::MatrixXd f, t, grad;
  const auto result = trainer.run(40, [&](const std::vector<Index>& batch, StepContext&) {
    const auto n = static_cast<Index>(batch.size());
    f.resize(6, n);
    t.resize(4, n);
    for (Index i = 0; i < n; ++i) {
      f.col(i) = features.col(batch[static_cast<std::size_t>(i)]);
      t.col(i) = targets.col(batch[static_cast<std::size_t>(i)]);
    }
    const double loss =
        binary_cross_entropy(head.forward(rnn.forward(f, Eigen::MatrixXd::Zero(8, n), 4, 2)), t, &grad);
    rnn.backward(head.backward(grad));
    return loss;
  });
  const double after = evaluate();
  INFO("BCE before " << before << ", after " << after);
  CHECK(after < 0.5 * before);
  CHECK(result.epochs_done == 30);

  // The checkpoint restores both modules into a fresh pair.
  Rng other(36);
  FeatureFirstRnn<double> rnn2(6, 8, other);
  PolicyHead<double> head2(8, 4, other, HeadSharing::per_step);
  auto model2 = tie_modules(rnn2, head2);
  Adam<double> adam2(AdamConfig{0.05});
  Trainer trainer2(model2, adam2, ConstantSchedule{0.05}, config);
  trainer2.load_checkpoint(path);
  const auto p2 = model2.parameters();
  for (std::size_t i = 0; i < params.size(); ++i)
    CHECK(Eigen::MatrixXd(p2[i].value()) == Eigen::MatrixXd(params[i].value()));
}

}  // namespace rlhash::nn::test_policy
