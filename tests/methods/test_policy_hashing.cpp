// Deep policy hashing (methods/policy_hashing.hpp) and its listwise rewards
// (reward/listwise_reward.hpp).
#include <catch.hpp>
#include <test_util.hpp>

#include <cmath>
#include <vector>

#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/policy_hashing.hpp"
#include "rlhash/rl/listwise_policy_gradient.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_policy_hashing {

namespace {

using DoubleDph = PolicyHashingHasher<MlpPolicyNetwork<double>, MetricReward>;

/// Codes (bits x N, 0/1 doubles) of `count` items.
BinaryCodes codes_of(const Eigen::MatrixXd& bits) { return BinaryCodes::from_probabilities(bits); }

/// `classes` Gaussian clusters in `dims` dimensions, `per_class` items each, interleaved.
void clusters(Index dims, int classes, Index per_class, std::uint64_t seed, MatrixF& x, Labels& labels) {
  Rng rng(seed);
  MatrixF centers(dims, classes);
  for (Index i = 0; i < centers.size(); ++i)
    centers.data()[i] = static_cast<float>(2.0 * standard_normal(rng));
  const Index n = classes * per_class;
  x.resize(dims, n);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % classes);
    ids[static_cast<std::size_t>(i)] = c;
    for (Index d = 0; d < dims; ++d) x(d, i) = centers(d, c) + static_cast<float>(0.7 * standard_normal(rng));
  }
  labels = Labels::from_class_ids(ids, classes);
}

DoubleDph::Config tiny_config() {
  DoubleDph::Config c;
  c.bits = 8;
  c.seed = 3;
  c.network.hidden1 = 16;
  c.network.hidden2 = 12;
  c.samples = 4;
  c.batch_size = 10;
  c.epochs = 4;
  c.learning_rate = 3e-3;
  c.database_update_every = 5;
  c.encode_batch = 7;  // several chunks
  return c;
}

double expected_reward_exact(const Eigen::VectorXd& p, const std::vector<double>& reward_of_code) {
  const Index bits = p.size();
  double sum = 0;
  for (Index h = 0; h < (Index{1} << bits); ++h) {
    double prob = 1;
    for (Index k = 0; k < bits; ++k) prob *= ((h >> k) & 1) ? p(k) : 1 - p(k);
    sum += prob * reward_of_code[static_cast<std::size_t>(h)];
  }
  return sum;
}

}  // namespace

TEST_CASE("the leave-one-out REINFORCE estimator is unbiased for the listwise reward, exactly",
          "[methods][dph][reinforce]") {
  // A database of 6 codes of 3 bits, 2 relevant to the query (database item 0 is the query and
  // is left out). Every code h of the query gets its exact tie-aware AP.
  const int bits = 3;
  Eigen::MatrixXd db_bits(bits, 6);
  db_bits << 0, 1, 0, 1, 1, 0,  //
      0, 1, 1, 0, 1, 0,         //
      1, 0, 1, 1, 0, 0;
  const BinaryCodes database = codes_of(db_bits);
  const std::vector<std::uint8_t> relevant{1, 1, 0, 1, 0, 0};
  const TieAwareApReward reward;
  ListwiseRewardWorkspace workspace;
  std::vector<double> reward_of_code(8);
  std::vector<std::int32_t> distances(6);
  Eigen::MatrixXd all_codes(bits, 8);
  for (Index h = 0; h < 8; ++h) {
    for (Index k = 0; k < bits; ++k) all_codes(k, h) = static_cast<double>((h >> k) & 1);
    const BinaryCodes code = codes_of(all_codes.col(h));
    hamming_distances(code.row(0), database, distances.data());
    reward_of_code[static_cast<std::size_t>(h)] =
        reward(distances.data(), relevant.data(), 6, bits, 0, workspace);
  }
  // The rewards differ between codes: the gradient below is not trivially zero.
  CHECK(*std::max_element(reward_of_code.begin(), reward_of_code.end()) -
            *std::min_element(reward_of_code.begin(), reward_of_code.end()) >
        0.2);

  Eigen::VectorXd z(bits);
  z << 0.3, -0.8, 1.1;
  const Eigen::VectorXd p = (1.0 / (1.0 + (-z.array()).exp())).matrix();
  // Exact gradient of E[R] w.r.t. z: sum_h pi(h) R(h) (h - p) ...
  Eigen::VectorXd exact = Eigen::VectorXd::Zero(bits);
  for (Index h = 0; h < 8; ++h) {
    double prob = 1;
    for (Index k = 0; k < bits; ++k) prob *= all_codes(k, h) > 0 ? p(k) : 1 - p(k);
    exact += prob * reward_of_code[static_cast<std::size_t>(h)] * (all_codes.col(h) - p);
  }
  // ... which central differences of the enumerated E[R] confirm.
  for (Index k = 0; k < bits; ++k) {
    const double eps = 1e-6;
    Eigen::VectorXd zp = z, zm = z;
    zp(k) += eps;
    zm(k) -= eps;
    const double numeric =
        (expected_reward_exact((1.0 / (1.0 + (-zp.array()).exp())).matrix(), reward_of_code) -
         expected_reward_exact((1.0 / (1.0 + (-zm.array()).exp())).matrix(), reward_of_code)) /
        (2 * eps);
    CHECK(numeric == Approx(exact(k)).margin(1e-8));
  }

  for (int samples : {2, 3}) {
    // E over all 8^S sample tuples of the estimator, weighted by their probability.
    Eigen::VectorXd expectation = Eigen::VectorXd::Zero(bits);
    const Index tuples = Index{1} << (bits * samples);
    for (Index t = 0; t < tuples; ++t) {
      Eigen::MatrixXd actions(bits, samples);
      std::vector<double> rewards(static_cast<std::size_t>(samples));
      double prob = 1;
      for (int s = 0; s < samples; ++s) {
        const Index h = (t >> (bits * s)) & 7;
        actions.col(s) = all_codes.col(h);
        rewards[static_cast<std::size_t>(s)] = reward_of_code[static_cast<std::size_t>(h)];
        for (Index k = 0; k < bits; ++k) prob *= all_codes(k, h) > 0 ? p(k) : 1 - p(k);
      }
      expectation += prob * rl::rloo_logit_gradient<double>(p, actions, rewards.data());
    }
    INFO("samples = " << samples);
    // The estimator is of the LOSS -E[R]: its expectation is -exact.
    for (Index k = 0; k < bits; ++k) CHECK(expectation(k) == Approx(-exact(k)).margin(1e-12));
  }

  SECTION("the sampled pipeline averages to the exact gradient") {
    // listwise_policy_gradient draws, ranks, rewards and differentiates; over many draws its
    // mean converges to -exact / batch (batch of 1 here). 6 standard errors: cannot flake with
    // the fixed seed, and a biased estimator (e.g. no exclusion of the query) fails it.
    const Labels labels = Labels::from_class_ids({0, 0, 1, 0, 2, 1});
    Rng rng(11);
    const int draws = 20000;
    Eigen::VectorXd sum = Eigen::VectorXd::Zero(bits), sum_sq = Eigen::VectorXd::Zero(bits);
    Eigen::MatrixXd logits = z;
    for (int i = 0; i < draws; ++i) {
      const auto g = rl::listwise_policy_gradient<double>(logits, {0}, database, labels, 4, reward, rng);
      sum += g.logit_grad.col(0);
      sum_sq += g.logit_grad.col(0).cwiseProduct(g.logit_grad.col(0));
    }
    const Eigen::VectorXd mean = sum / draws;
    for (Index k = 0; k < bits; ++k) {
      const double var = sum_sq(k) / draws - mean(k) * mean(k);
      const double se = std::sqrt(var / draws);
      INFO("bit " << k << " mean " << mean(k) << " exact " << -exact(k) << " se " << se);
      CHECK(std::abs(mean(k) + exact(k)) < 6 * se);
      CHECK(se < 0.1 * std::abs(exact(k)) + 1e-3);
    }
  }
}

TEST_CASE("listwise rewards are the metric module's numbers", "[methods][dph][reward]") {
  Rng rng(5);
  const int bits = 12;
  const Index n = 300;
  Eigen::MatrixXd db_bits(bits, n);
  for (Index i = 0; i < db_bits.size(); ++i) db_bits.data()[i] = uniform_unit(rng) < 0.5 ? 1 : 0;
  const BinaryCodes database = codes_of(db_bits);
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = static_cast<std::int32_t>(uniform_below(rng, 4));
  const Labels labels = Labels::from_class_ids(ids, 4);
  Eigen::MatrixXd logits(bits, 5);
  for (Index i = 0; i < logits.size(); ++i) logits.data()[i] = standard_normal(rng);
  const std::vector<Index> items{3, 17, 0, 299, 150};
  const int samples = 3;

  for (const std::string spec : {"tie_ap", "ap", "ap@50", "ndcg@20", "precision@40"}) {
    INFO("reward " << spec);
    Rng draw(9);
    const auto g = rl::listwise_policy_gradient<double>(logits, items, database, labels, samples,
                                                        MetricReward(spec), draw, 2);
    const BinaryCodes sampled = BinaryCodes::from_probabilities(g.actions);
    for (Index q = 0; q < 5; ++q) {
      for (int s = 0; s < samples; ++s) {
        // The evaluation layer on the one sampled code, the query item excluded.
        const BinaryCodes one = sampled.rows({q * samples + s});
        const Labels query_labels = labels.subset({items[static_cast<std::size_t>(q)]});
        EvalOptions options;
        options.map_at = {50};
        options.ndcg_at = {20};
        options.precision_at = {40};
        const auto report = evaluate_with_exclusions(one, database, query_labels, labels,
                                                     {items[static_cast<std::size_t>(q)]}, options);
        double expected = 0;
        if (spec == "tie_ap") expected = report.map_tie_aware;
        if (spec == "ap") expected = report.map;
        if (spec == "ap@50") expected = report.map_at.at(50);
        if (spec == "ndcg@20") expected = report.ndcg_at.at(20);
        if (spec == "precision@40") expected = report.precision_at.at(40);
        CHECK(g.rewards(s, q) == Approx(expected).epsilon(1e-12));
      }
    }
    CHECK(g.mean_reward == Approx(g.rewards.mean()));
  }
  // Multi-label relevance: items sharing any label are relevant.
  const std::uint8_t hot[] = {1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0};
  const Labels multi = Labels::from_multi_hot(hot, 4, 3);
  std::vector<std::uint8_t> flags;
  rl::relevance_flags(multi, 0, multi, flags);
  CHECK(flags == std::vector<std::uint8_t>{1, 0, 1, 1});  // item 0 has labels {0, 2}
  rl::relevance_flags(multi, 2, multi, flags);
  CHECK(flags == std::vector<std::uint8_t>{1, 0, 1, 0});  // item 2 has label {2}

  CHECK_THROWS_AS(MetricReward("map"), InvalidArgument);
  CHECK_THROWS_AS(MetricReward("ndcg@0"), InvalidArgument);
  CHECK_THROWS_AS(MetricReward("ap@x"), InvalidArgument);
  CHECK_THROWS_WITH(MetricReward("ndcg@"), Catch::Contains("expected tie_ap"));
}

TEST_CASE("the auxiliary pairwise term's gradient matches finite differences", "[methods][dph][aux]") {
  Rng rng(7);
  const Index bits = 6, n = 20;
  Eigen::MatrixXd signs(bits, n);
  for (Index i = 0; i < signs.size(); ++i) signs.data()[i] = uniform_unit(rng) < 0.5 ? -1 : 1;
  std::vector<std::int32_t> ids(static_cast<std::size_t>(n));
  for (auto& id : ids) id = static_cast<std::int32_t>(uniform_below(rng, 3));
  const Labels labels = Labels::from_class_ids(ids, 3);
  Eigen::MatrixXd logits(bits, 3);
  for (Index i = 0; i < logits.size(); ++i) logits.data()[i] = standard_normal(rng);
  const std::vector<Index> items{1, 5, 19};
  Eigen::MatrixXd grad = Eigen::MatrixXd::Zero(bits, 3);
  asymmetric_pairwise_term<double>(logits, items, signs, labels, grad);
  for (Index i = 0; i < logits.size(); ++i) {
    const double eps = 1e-6;
    Eigen::MatrixXd plus = logits, minus = logits, scratch = Eigen::MatrixXd::Zero(bits, 3);
    plus.data()[i] += eps;
    minus.data()[i] -= eps;
    const double numeric = (asymmetric_pairwise_term<double>(plus, items, signs, labels, scratch) -
                            asymmetric_pairwise_term<double>(minus, items, signs, labels, scratch)) /
                           (2 * eps);
    CHECK(grad.data()[i] == Approx(numeric).margin(1e-8));
  }
}

TEST_CASE("the database network changes only when the schedule says", "[methods][dph][schedule]") {
  MatrixF x;
  Labels labels;
  clusters(8, 3, 20, 1, x, labels);  // 60 items, batch 10: 6 steps per epoch, 24 steps

  for (const std::string mode : {"copy", "polyak"}) {
    INFO("database_update = " << mode);
    auto c = tiny_config();
    c.database_update = mode;
    c.polyak_tau = 0.25;
    c.aux_weight = mode == "polyak" ? 0.5 : 0.0;  // the auxiliary path runs too
    DoubleDph dph(c);
    std::vector<std::vector<Eigen::MatrixXd>> db_params, query_params;
    std::vector<bool> updated;
    long long expected_updates = 0;
    bool codes_match = true;
    dph.step_observer = [&](const PolicyHashingStep<DoubleDph::Net>& s) {
      CHECK(s.step == static_cast<long long>(updated.size()));
      updated.push_back(s.database_updated);
      auto& db = const_cast<DoubleDph::Net&>(*s.database_network);
      auto& query = const_cast<DoubleDph::Net&>(*s.query_network);
      db_params.push_back(nn::copy_values(db.parameters()));
      query_params.push_back(nn::copy_values(query.parameters()));
      if (s.database_updated) ++expected_updates;
      CHECK(s.database_updates == expected_updates);
      // The database codes are the database network's thresholded logits at every step.
      const Eigen::MatrixXd z = db.infer(x.cast<double>());
      codes_match = codes_match && BinaryCodes::from_signs(z) == *s.database_codes;
    };
    dph.fit(x, labels);
    CHECK(codes_match);
    REQUIRE(updated.size() == 24);
    CHECK(dph.database_updates() == 4);  // steps 5, 10, 15, 20
    for (std::size_t t = 0; t < updated.size(); ++t) {
      INFO("step " << t);
      CHECK(updated[t] == (t > 0 && t % 5 == 0));
      if (t == 0) {
        // phi_0 = theta_0.
        for (std::size_t i = 0; i < db_params[0].size(); ++i) CHECK(db_params[0][i] == query_params[0][i]);
        continue;
      }
      bool same = true;
      for (std::size_t i = 0; i < db_params[t].size(); ++i)
        same = same && db_params[t][i] == db_params[t - 1][i];
      CHECK(same == !updated[t]);
      if (updated[t]) {
        for (std::size_t i = 0; i < db_params[t].size(); ++i) {
          // theta at the start of step t = query params seen at step t (the step's update comes after).
          const Eigen::MatrixXd expected =
              mode == "copy" ? query_params[t][i]
                             : Eigen::MatrixXd(0.25 * query_params[t][i] + 0.75 * db_params[t - 1][i]);
          CHECK((db_params[t][i] - expected).cwiseAbs().maxCoeff() < 1e-12);
        }
      }
    }
    // The query network moves every step.
    for (std::size_t t = 1; t < query_params.size(); ++t) CHECK(query_params[t][0] != query_params[t - 1][0]);
  }
}

TEST_CASE("policy hashing learns, is reproducible and resumes bit for bit", "[methods][dph][fit]") {
  MatrixF all;
  Labels all_labels;
  clusters(8, 3, 40, 2, all, all_labels);
  std::vector<Index> train_items, val_items;
  for (Index i = 0; i < 120; ++i) (i < 90 ? train_items : val_items).push_back(i);
  const MatrixF x = all.leftCols(90), vx = all.rightCols(30);
  const Labels labels = all_labels.subset(train_items), vlabels = all_labels.subset(val_items);
  auto c = tiny_config();
  c.epochs = 15;
  c.database_update_every = 9;  // one update per epoch
  auto mean_ap = [&](const DoubleDph& h) {
    const BinaryCodes codes = h.encode(vx);
    EvalOptions options;
    options.exclude_self = true;
    return evaluate(codes, codes, vlabels, vlabels, options).map;
  };

  // Before training (0 epochs: the initial network) versus after.
  auto c0 = c;
  c0.epochs = 0;
  DoubleDph untrained(c0);
  untrained.fit(x, labels);
  DoubleDph dph(c);
  FitOptions options;
  options.threads = 2;
  dph.fit(x, labels, options);
  const double before = mean_ap(untrained), after = mean_ap(dph);
  INFO("validation mAP before " << before << " after " << after);
  CHECK(after > before + 0.1);
  CHECK(after > 0.9);
  CHECK(dph.last_result().epochs_done == 15);

  // Same seed, other thread count: the same codes. Another seed: other codes.
  DoubleDph again(c);
  options.threads = 1;
  again.fit(x, labels, options);
  CHECK(again.encode(x) == dph.encode(x));
  auto c_other = c;
  c_other.seed = 4;
  DoubleDph other(c_other);
  other.fit(x, labels);
  CHECK(!(other.encode(x) == dph.encode(x)));

  SECTION("checkpoint and resume") {
    test::TempDir dir;
    FitOptions first;
    first.checkpoint_path = dir.file("dph.ckpt");
    first.checkpoint_every = 1;
    first.threads = 1;
    auto c_half = c;
    c_half.epochs = 7;  // stops after the database update of step 63
    DoubleDph half(c_half);
    half.fit(x, labels, first);
    FitOptions resume = first;
    resume.resume = true;
    DoubleDph rest(c);
    rest.fit(x, labels, resume);
    CHECK(rest.last_result().resumed_from_epoch == 7);
    CHECK(rest.database_updates() == dph.database_updates());
    CHECK(rest.encode(x) == dph.encode(x));
    CHECK(rest.probabilities(x) == dph.probabilities(x));
  }

  SECTION("validation-based early stopping keeps the best epoch") {
    FitOptions val;
    val.validation_features = &vx;
    val.validation_labels = &vlabels;
    DoubleDph best(c);
    best.fit(x, labels, val);
    CHECK(best.last_result().has_best);
    CHECK(best.last_result().best_metric == Approx(mean_ap(best)));
  }
}

TEST_CASE("policy hashing saves, loads and rejects bad input", "[methods][dph][io]") {
  MatrixF x;
  Labels labels;
  clusters(8, 3, 10, 3, x, labels);
  auto c = tiny_config();
  c.epochs = 1;
  DoubleDph dph(c);
  CHECK_THROWS_AS(dph.encode(x), StateError);
  ByteWriter unfitted;
  CHECK_THROWS_AS(dph.save(unfitted), StateError);
  dph.fit(x, labels);

  ByteWriter out;
  dph.save(out);
  DoubleDph back(c);
  ByteReader in(out.bytes().data(), out.bytes().size(), "dph model");
  back.load(in);
  in.expect_end();
  CHECK(back.encode(x) == dph.encode(x));
  CHECK(back.probabilities(x) == dph.probabilities(x));

  // Truncated data, or a model of another code length: FormatError, the hasher unchanged.
  ByteReader truncated(out.bytes().data(), out.bytes().size() - 9, "truncated dph model");
  CHECK_THROWS_AS(back.load(truncated), FormatError);
  CHECK(back.encode(x) == dph.encode(x));
  auto c16 = c;
  c16.bits = 16;
  DoubleDph wrong(c16);
  ByteReader again(out.bytes().data(), out.bytes().size(), "dph model");
  CHECK_THROWS_AS(wrong.load(again), FormatError);
  CHECK(!wrong.fitted());

  // The float hasher and its config round trip (model files store the config as text).
  PolicyHashing::Config fc;
  fc.bits = 24;
  fc.reward = "ndcg@50";
  fc.database_update = "polyak";
  ByteWriter config_bytes;
  save_config(config_bytes, fc);
  ByteReader config_in(config_bytes.bytes().data(), config_bytes.bytes().size(), "config");
  const auto loaded = load_config(config_in, PolicyHashing::Config{});
  CHECK(loaded.bits == 24);
  CHECK(loaded.reward == "ndcg@50");
  CHECK(loaded.database_update == "polyak");
  CHECK(PolicyHashing(loaded).reward().spec() == "ndcg@50");

  // Bad configs.
  auto bad = [&](auto edit) {
    auto b = c;
    edit(b);
    return b;
  };
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.bits = 0; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.samples = 1; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.reward = "recall"; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.database_update = "swap"; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.database_update_every = 0; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.polyak_tau = 0; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.pg_weight = 0; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.aux_weight = -1; })), InvalidArgument);
  CHECK_THROWS_WITH(DoubleDph(bad([](auto& b) { b.balance_weight = -1; })),
                    Catch::Contains("balance_weight"));
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.learning_rate = 0; })), InvalidArgument);
  CHECK_THROWS_AS(DoubleDph(bad([](auto& b) { b.network.hidden1 = 0; })).fit(x, labels), InvalidArgument);

  // Bad data.
  DoubleDph fresh(c);
  CHECK_THROWS_WITH(fresh.fit(x, labels.subset({0, 1, 2})),
                    Catch::Contains("3 labels for 30 training items"));
  MatrixF nan = x;
  nan(2, 3) = std::nanf("");
  CHECK_THROWS_AS(fresh.fit(nan, labels), InvalidArgument);
  CHECK_THROWS_AS(fresh.fit(x.leftCols(1), labels.subset({0})), InvalidArgument);
  FitOptions wrong_validation;
  const MatrixF vx = MatrixF::Zero(5, 4);
  wrong_validation.validation_features = &vx;
  wrong_validation.validation_labels = &labels;
  CHECK_THROWS_AS(fresh.fit(x, labels, wrong_validation), InvalidArgument);
  CHECK_THROWS_AS(dph.encode(MatrixF::Zero(7, 2)), InvalidArgument);
  CHECK(!fresh.fitted());

  // The gradient function's own checks.
  const BinaryCodes db = BinaryCodes::from_signs(Eigen::MatrixXd::Ones(8, 4));
  const Labels four = Labels::from_class_ids({0, 1, 0, 1});
  Rng rng(1);
  const Eigen::MatrixXd logits = Eigen::MatrixXd::Zero(8, 2);
  CHECK_THROWS_AS(rl::listwise_policy_gradient<double>(logits, {0, 4}, db, four, 4, TieAwareApReward{}, rng),
                  InvalidArgument);
  CHECK_THROWS_AS(rl::listwise_policy_gradient<double>(logits, {0, 1}, db, four, 1, TieAwareApReward{}, rng),
                  InvalidArgument);
  CHECK_THROWS_AS(rl::listwise_policy_gradient<double>(Eigen::MatrixXd::Zero(6, 2), {0, 1}, db, four, 4,
                                                       TieAwareApReward{}, rng),
                  InvalidArgument);
  CHECK_THROWS_AS(
      rl::listwise_policy_gradient<double>(logits, {0, 1}, db, labels, 4, TieAwareApReward{}, rng),
      InvalidArgument);
}

}  // namespace rlhash::test_policy_hashing
