#pragma once
/// \file
/// Deep policy hashing with listwise supervision (docs/methods/policy-hashing.md has every
/// design choice and its measurements).
///
/// Two networks of the same architecture map an item to K logits z; p = sigmoid(z) are the
/// probabilities of a Bernoulli policy over the K bits:
///   - the QUERY network pi_theta, trained;
///   - the DATABASE network phi, a slowly changing copy of it, which encodes every training item
///     into thresholded bits B_j = [z_j > 0]: the whole rank list, not a mini-batch.
/// Repeated until the epochs run out (or validation mAP stops improving):
///   1. every `database_update_every` steps, phi <- theta ("copy") or phi <- tau theta +
///      (1 - tau) phi ("polyak"), and the database codes are re-encoded with phi;
///   2. for each query i of a mini-batch (queries are training items), S codes h_1..h_S are
///      drawn from pi_theta(. | x_i); each ranks the whole database (item i itself left out) by
///      Hamming distance, and its reward R_s is a listwise metric of that ranking (tie-aware AP
///      by default; reward/listwise_reward.hpp). The policy gradient of E[R] is estimated by
///      REINFORCE (rl/listwise_policy_gradient.hpp) with the leave-one-out baseline
///      b_s = mean_{s' != s} R_s' (unbiased):
///        d(-E[R]) / dz_i  ~=  -(1/S) sum_s (R_s - b_s) (h_s - p_i)            (RLOO)
///      — the same as the summary's batch-mean baseline, rescaled by S / (S - 1);
///   3. optionally an auxiliary asymmetric pairwise term pulls the query's relaxed code
///      u = 2p - 1 towards the database codes c_j = 2B_j - 1 of its relevant items and away
///      from the others: (u . c_j / K - y_ij)^2, y = +1 / -1, relevant and irrelevant pairs
///      weighted equally (ADSH-style, Jiang & Li 2018). It is off
///      with aux_weight = 0 (pure listwise policy gradient) and can be limited to the first
///      aux_epochs epochs (a warm start).
///   4. a bit-balance term (an addition to the outline, on by default: balance_weight) keeps
///      each bit 1 for about half of the batch: a bit constant over the database changes no
///      ranking, so the listwise reward alone never brings it back into use.
/// encode() thresholds the query network's probabilities (z > 0 <=> p > 1/2).
///
/// The network is a template policy (methods/policy_networks.hpp; MlpPolicyNetwork:
/// 784 -> 1024 -> 512 -> K with ReLU by default; plug any toolkit module that outputs K
/// logits), and so is the reward (MetricReward chooses by name from Config::reward; a fixed
/// policy such as TieAwareApReward ignores it).
#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/policy_networks.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/trainer.hpp"
#include "rlhash/reward/listwise_reward.hpp"
#include "rlhash/rl/dqn.hpp"
#include "rlhash/rl/listwise_policy_gradient.hpp"
#include "rlhash/search/hamming.hpp"
#include "rlhash/search/parallel.hpp"

namespace rlhash {

/// The auxiliary asymmetric pairwise term (optional, step 3 of the method): for query q
/// (database item query_items[q]) with relaxed code u = 2 p - 1 and database codes
/// c_j = 2 B_j - 1 (`database_signs`, bits x N, +-1), s_qj = u_q . c_j / K in [-1, 1] and
///   L = mean_q [ mean_{j relevant} (s_qj - 1)^2 + mean_{j irrelevant, j != q} (s_qj + 1)^2 ] / 2,
/// the two halves weighted equally so that the 1 : (classes - 1) imbalance of the pairs does not
/// reduce the term to "push everything apart" (which, with the nearly constant codes of a random
/// network, flips the whole database at every update). ADDS dL/dlogits (bits x B) to
/// `logit_grad`; returns L.
template <class S>
double asymmetric_pairwise_term(const Eigen::Ref<const Matrix<S>>& logits,
                                const std::vector<Index>& query_items, const Matrix<S>& database_signs,
                                const Labels& labels, Matrix<S>& logit_grad) {
  const Index batch = logits.cols(), bits = logits.rows(), n = database_signs.cols();
  detail::require(database_signs.rows() == bits && labels.size() == n &&
                      static_cast<Index>(query_items.size()) == batch && logit_grad.rows() == bits &&
                      logit_grad.cols() == batch,
                  "asymmetric pairwise term: inconsistent shapes");
  if (batch == 0 || n < 2) return 0.0;
  const Matrix<S> p = (S(1) / (S(1) + (-logits.array()).exp())).matrix();
  const Matrix<S> u = (S(2) * p.array() - S(1)).matrix();
  Matrix<S> residual(n, batch);
  residual.noalias() = database_signs.transpose() * u;
  residual /= static_cast<S>(bits);
  std::vector<std::uint8_t> relevant;
  double loss = 0.0;
  for (Index q = 0; q < batch; ++q) {
    const Index item = query_items[static_cast<std::size_t>(q)];
    if (item < 0 || item >= n)
      throw InvalidArgument("asymmetric pairwise term: query item " + std::to_string(item) + " outside [0, " +
                            std::to_string(n) + ")");
    rl::relevance_flags(labels, item, labels, relevant);
    relevant[static_cast<std::size_t>(item)] = 2;  // left out
    Index positives = 0, negatives = 0;
    for (Index j = 0; j < n; ++j) {
      const auto r = relevant[static_cast<std::size_t>(j)];
      positives += r == 1 ? 1 : 0;
      negatives += r == 0 ? 1 : 0;
    }
    // Each present half gets weight 1/2 (all of it when the other half is empty).
    const int halves = (positives > 0 ? 1 : 0) + (negatives > 0 ? 1 : 0);
    const double w_pos = positives > 0 ? 1.0 / (halves * static_cast<double>(positives)) : 0.0;
    const double w_neg = negatives > 0 ? 1.0 / (halves * static_cast<double>(negatives)) : 0.0;
    for (Index j = 0; j < n; ++j) {
      const auto r = relevant[static_cast<std::size_t>(j)];
      const double diff = static_cast<double>(residual(j, q)) - (r == 1 ? 1.0 : -1.0);
      const double w = r == 2 ? 0.0 : (r == 1 ? w_pos : w_neg);
      loss += w * diff * diff;
      residual(j, q) = static_cast<S>(w * diff);  // now w * (s - y)
    }
  }
  // dL/du = (2 / (B K)) C [w (s - y)];  du/dz = 2 p (1 - p).
  Matrix<S> d_u(bits, batch);
  d_u.noalias() = database_signs * residual;
  d_u *= static_cast<S>(2.0 / (static_cast<double>(batch) * static_cast<double>(bits)));
  logit_grad.array() += d_u.array() * S(2) * p.array() * (S(1) - p.array());
  return loss / static_cast<double>(batch);
}

// ---------------------------------------------------------------------------------------------
// The hasher

/// What the step observer sees after each training step's gradients (before the optimizer
/// applies them): for monitoring, and for tests of the database schedule.
template <class Net>
struct PolicyHashingStep {
  long long step = 0;  ///< global step (optimizer updates before this one)
  int epoch = 0;
  double mean_reward = 0;          ///< mean listwise reward of the step's samples (0 when pg_weight = 0)
  double aux_loss = 0;             ///< auxiliary term (0 when inactive)
  bool database_updated = false;   ///< the database network was updated at the start of this step
  long long database_updates = 0;  ///< updates so far in this fit (the initial copy not counted)
  const Net* query_network = nullptr;
  const Net* database_network = nullptr;
  const BinaryCodes* database_codes = nullptr;
};

template <class Network = MlpPolicyNetwork<float>, class Reward = MetricReward>
class PolicyHashingHasher {
 public:
  using Scalar = typename Network::Scalar;
  using S = Scalar;
  using Net = typename Network::Net;
  /// Where both networks and Adam run; the rewards, sampling and codes stay on the host.
  using Backend = nn::backend_of_t<Net>;
  static constexpr const char* method_name = detail::policy_method_name<Network>::value;
  /// Trains data-parallel over FitOptions::replicas: every replica keeps the database network
  /// and its codes, and the listwise rewards rank the whole batch, so the fit equals the
  /// one-process fit.
  static constexpr bool data_parallel = true;
  static constexpr bool augments_images = true;  ///< FitOptions::augmentation

  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    typename Network::Config network;
    // The listwise policy
    std::string reward = "tie_ap";  ///< tie_ap | ap | ap@K | ndcg@K | precision@K (MetricReward)
    int samples = 8;                ///< S codes sampled per query (>= 2: the baseline needs others)
    double pg_weight = 1.0;         ///< weight of the listwise policy gradient (0: ablation only)
    // The database network
    std::string database_update = "copy";  ///< copy | polyak
    /// Steps between database-network updates (E): 70, one epoch of the default protocol; a
    /// network policy may set its own (dph-cnn: 210).
    int database_update_every = detail::default_database_update_every<Network>::value;
    double polyak_tau = 0.5;  ///< polyak: phi <- tau theta + (1 - tau) phi
    // Auxiliary asymmetric pairwise term
    double aux_weight = 0.0;  ///< 0: pure listwise policy gradient
    int aux_epochs = 0;       ///< epochs with the auxiliary term; 0: all (a warm start when > 0)
    /// Weight of the bit-balance term (nn::bit_balance_loss_of_logits over the batch), an
    /// addition to the outline: the listwise reward is blind to a bit that is constant over the
    /// database, so nothing else brings such a bit back into use (without it every seed kept one
    /// constant bit at 32 bits; docs/methods/policy-hashing.md). 0: off.
    double balance_weight = 1.0;
    // Optimisation
    double learning_rate = 3e-4;  ///< Adam (chosen on validation mAP: docs/methods/policy-hashing.md)
    double lr_decay = 0.1;        ///< x lr_decay every lr_decay_steps steps
    /// 3,500 steps: 50 of the 80 epochs of the default protocol's 4,500 training items at batch
    /// 64 (45 on all 5,000); validation mAP still rose at epoch 54 without a decay
    /// (docs/methods/policy-hashing.md).
    long long lr_decay_steps = 3500;
    double weight_decay = 0.0;
    int batch_size = 64;
    int epochs = 80;
    int patience =
        0;  ///< epochs without validation improvement; 0: never stop early (the best epoch is kept)
    double max_grad_norm = 0.0;  ///< 0: no clipping
    int encode_batch =
        detail::default_encode_batch<Network>::value;  ///< items per forward pass when encoding

    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      network.visit(field);
      field("reward", reward);
      field("samples", samples);
      field("pg_weight", pg_weight);
      field("database_update", database_update);
      field("database_update_every", database_update_every);
      field("polyak_tau", polyak_tau);
      field("aux_weight", aux_weight);
      field("aux_epochs", aux_epochs);
      field("balance_weight", balance_weight);
      field("learning_rate", learning_rate);
      field("lr_decay", lr_decay);
      field("lr_decay_steps", lr_decay_steps);
      field("weight_decay", weight_decay);
      field("batch_size", batch_size);
      field("epochs", epochs);
      field("patience", patience);
      field("max_grad_norm", max_grad_norm);
      field("encode_batch", encode_batch);
    }
  };

  /// Called after every training step's gradients (optional; not part of the config).
  std::function<void(const PolicyHashingStep<Net>&)> step_observer;

  PolicyHashingHasher() : PolicyHashingHasher(Config()) {}
  explicit PolicyHashingHasher(Config config) : config_(std::move(config)), reward_(make_reward(config_)) {
    const auto& c = config_;
    const std::string m = method_name;
    detail::require_bits(c.bits, method_name);
    detail::require(c.samples >= 2, m + ": samples must be >= 2 (the leave-one-out baseline), got " +
                                        std::to_string(c.samples));
    detail::require(c.pg_weight >= 0 && c.aux_weight >= 0 && (c.pg_weight > 0 || c.aux_weight > 0),
                    m + ": pg_weight and aux_weight must be >= 0 and not both 0, got " +
                        std::to_string(c.pg_weight) + " and " + std::to_string(c.aux_weight));
    detail::require(c.aux_epochs >= 0, m + ": aux_epochs must be >= 0, got " + std::to_string(c.aux_epochs));
    detail::require(c.balance_weight >= 0,
                    m + ": balance_weight must be >= 0, got " + std::to_string(c.balance_weight));
    detail::require(c.database_update == "copy" || c.database_update == "polyak",
                    m + ": database_update must be 'copy' or 'polyak', got '" + c.database_update + "'");
    detail::require(c.database_update_every >= 1, m + ": database_update_every must be >= 1, got " +
                                                      std::to_string(c.database_update_every));
    detail::require(c.polyak_tau > 0 && c.polyak_tau <= 1,
                    m + ": polyak_tau must be in (0, 1], got " + std::to_string(c.polyak_tau));
    detail::require(c.learning_rate > 0 && c.lr_decay > 0 && c.lr_decay_steps > 0 && c.weight_decay >= 0,
                    m + ": expected learning_rate > 0, lr_decay > 0, lr_decay_steps > 0, weight_decay >= 0");
    detail::require(c.batch_size >= 1, m + ": batch_size must be >= 1, got " + std::to_string(c.batch_size));
    detail::require(c.epochs >= 0 && c.patience >= 0 && c.max_grad_norm >= 0,
                    m + ": epochs, patience and max_grad_norm must be >= 0");
    detail::require(c.encode_batch > 0,
                    m + ": encode_batch must be > 0, got " + std::to_string(c.encode_batch));
  }
  const Config& config() const { return config_; }

  /// Trains on `features` (D x N, one item per column) with their labels (single or multi);
  /// the training items are both the queries and the database of the listwise rewards.
  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    const std::string m = method_name;
    detail::require(features.cols() >= 2 && features.rows() > 0,
                    m + ": needs at least 2 training items with > 0 dimensions, got " +
                        std::to_string(features.cols()) + " items of " + std::to_string(features.rows()) +
                        " dimensions");
    detail::require(labels.size() == features.cols(), m + ": " + std::to_string(labels.size()) +
                                                          " labels for " + std::to_string(features.cols()) +
                                                          " training items");
    detail::require(features.allFinite(), m + ": training features contain NaN or infinity");
    detail::check_augmentation<PolicyHashingHasher, Network>(options, features.rows(), config_.network);
    const bool validate = detail::validation_requested(options, features.rows(), method_name);
    const int threads = detail::resolve_threads(options.threads);

    Net net = make_network(features.rows());
    Net database_net = make_network(features.rows());  // phi_0 = theta_0: the same seed
    BinaryCodes database_codes;
    Matrix<S> database_signs;
    auto encode_database = [&]() {
      database_codes = BinaryCodes::from_signs(infer_logits(database_net, features, config_.encode_batch));
      if (config_.aux_weight > 0) database_signs = database_codes.template unpack<S>(true);
    };
    encode_database();
    long long updates = 0;

    // The trainer's stream differs from the initialisation's.
    nn::TrainerConfig tc =
        detail::trainer_config(config_.epochs, config_.batch_size, config_.seed ^ 0x9E3779B97F4A7C15ULL,
                               config_.max_grad_norm, config_.patience, validate, options);
    tc.replicas = options.replicas;
    const nn::StepDecaySchedule schedule{config_.learning_rate, config_.lr_decay, config_.lr_decay_steps};
    nn::Adam<S, Backend> optimizer(
        nn::AdamConfig{config_.learning_rate, 0.9, 0.999, 1e-8, config_.weight_decay, false});
    nn::Trainer<Net, nn::Adam<S, Backend>, nn::StepDecaySchedule> trainer(net, optimizer, schedule, tc);

    auto step = [&](const std::vector<Index>& batch, nn::StepContext& context) -> double {
      PolicyHashingStep<Net> info;
      info.step = context.step;
      info.epoch = context.epoch;
      if (context.step > 0 && context.step % config_.database_update_every == 0) {
        update_database_network(database_net, net);
        encode_database();
        ++updates;
        info.database_updated = true;
      }
      // Data-parallel (nn/replicas.hpp): the network runs on this replica's part of the batch;
      // the listwise rewards and the pairwise term see the whole batch on every replica.
      const nn::BatchSplit split(options.replicas, static_cast<Index>(batch.size()));
      Matrix<S> mine(config_.bits, 0);
      if (!split.empty())
        mine = Backend::to_host(net.forward(Backend::from_host(detail::gather_training_batch<S>(
            features, split.mine(batch), options, config_.seed, context.step))));
      const Matrix<S> logits = split.gather(mine, config_.bits);
      Matrix<S> d_logits = Matrix<S>::Zero(logits.rows(), logits.cols());
      double loss = 0.0;
      if (config_.pg_weight > 0) {
        const auto pg = rl::listwise_policy_gradient<S>(logits, batch, database_codes, labels,
                                                        config_.samples, reward_, *context.rng, threads);
        d_logits += static_cast<S>(config_.pg_weight) * pg.logit_grad;
        loss -= config_.pg_weight * pg.mean_reward;
        info.mean_reward = pg.mean_reward;
      }
      if (config_.aux_weight > 0 && (config_.aux_epochs == 0 || context.epoch < config_.aux_epochs)) {
        Matrix<S> aux_grad = Matrix<S>::Zero(logits.rows(), logits.cols());
        info.aux_loss = asymmetric_pairwise_term<S>(logits, batch, database_signs, labels, aux_grad);
        d_logits += static_cast<S>(config_.aux_weight) * aux_grad;
        loss += config_.aux_weight * info.aux_loss;
      }
      if (config_.balance_weight > 0 && logits.cols() > 0) {
        Matrix<S> balance_grad;
        loss += config_.balance_weight *
                static_cast<double>(nn::bit_balance_loss_of_logits(logits, &balance_grad));
        d_logits += static_cast<S>(config_.balance_weight) * balance_grad;
      }
      if (!split.empty()) net.backward(Backend::from_host(split.mine(d_logits)));
      info.database_updates = updates;
      info.query_network = &net;
      info.database_network = &database_net;
      info.database_codes = &database_codes;
      if (step_observer) step_observer(info);
      return loss;
    };

    if (validate)
      trainer.hooks.validate = [&](int) {
        return validation_map(net, *options.validation_features, *options.validation_labels,
                              config_.encode_batch);
      };
    trainer.hooks.progress = options.progress;
    // The method section: method, code length, database network and update count, so a resume
    // continues with the same database (its codes are re-encoded from the network: deterministic).
    trainer.hooks.save_extra = [&](ByteWriter& out) {
      detail::write_checkpoint_owner(out, method_name, config_.bits);
      out.put<std::int64_t>(updates);
      nn::write_parameters(out, database_net.parameters());
    };
    trainer.hooks.load_extra = [&](ByteReader& in) {
      detail::read_checkpoint_owner(in, method_name, config_.bits);
      const auto loaded_updates = in.get<std::int64_t>();
      if (loaded_updates < 0) in.fail("a non-negative database update count");
      nn::read_parameters(in, database_net.parameters());
      updates = loaded_updates;
      encode_database();
    };
    last_result_ = trainer.run(features.cols(), step);
    database_updates_ = updates;
    net_.emplace(std::move(net));
    inputs_ = features.rows();
  }

  /// Bits [p > 1/2] of the query network (thresholded on the logit, z > 0), deterministic.
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(net_.has_value(), method_name);
    detail::require_dims(features.rows(), inputs_, method_name);
    return BinaryCodes::from_signs(infer_logits(*net_, features, config_.encode_batch));
  }

  /// The query network's bit probabilities p = sigmoid(z) (bits x N).
  MatrixF probabilities(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(net_.has_value(), method_name);
    detail::require_dims(features.rows(), inputs_, method_name);
    const Matrix<S> z = infer_logits(*net_, features, config_.encode_batch);
    return (S(1) / (S(1) + (-z.array()).exp())).matrix().template cast<float>();
  }

  void save(ByteWriter& out) const {
    detail::require_fitted(net_.has_value(), method_name);
    out.put<std::int64_t>(inputs_);
    nn::write_parameters(out, const_cast<Net&>(*net_).parameters());  // read only
  }
  /// All or nothing: a FormatError (other architecture, code length, truncated data) leaves the
  /// hasher as it was.
  void load(ByteReader& in) {
    const auto inputs = in.get<std::int64_t>();
    if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
      in.fail(std::string("the input dimension of a ") + method_name + " model, found " +
              std::to_string(inputs));
    Net net = make_network(static_cast<Index>(inputs));
    nn::read_parameters(in, net.parameters());
    net_.emplace(std::move(net));
    inputs_ = static_cast<Index>(inputs);
  }

  bool fitted() const { return net_.has_value(); }
  /// What the last fit's trainer reported (epochs, steps, best validation mAP, ...).
  const nn::TrainResult& last_result() const { return last_result_; }
  /// Database-network updates in the last fit (the initial copy not counted).
  long long database_updates() const { return database_updates_; }
  const Reward& reward() const { return reward_; }

  /// A network of this config for `inputs`-dimensional items, initialised from the seed.
  Net make_network(Index inputs) const {
    Rng rng(config_.seed);
    return Network::make(inputs, config_.bits, config_.network, rng);
  }

 private:
  static Reward make_reward(const Config& c) {
    if constexpr (std::is_constructible_v<Reward, const std::string&>) {
      return Reward(c.reward);
    } else {
      return Reward{};
    }
  }

  /// phi <- theta (copy) or phi <- tau theta + (1 - tau) phi (polyak): DQN's target updates.
  void update_database_network(Net& database, Net& query) const {
    if (config_.database_update == "copy")
      rl::copy_parameters(query, database);
    else
      rl::soft_update(query, database, config_.polyak_tau);
  }

  static Matrix<S> infer_logits(const Net& net, const Eigen::Ref<const MatrixF>& features, Index chunk) {
    Matrix<S> out;
    for (Index begin = 0; begin < features.cols(); begin += chunk) {
      const Index size = std::min(chunk, features.cols() - begin);
      Matrix<S> x = features.middleCols(begin, size).template cast<S>();
      const Matrix<S> z = Backend::to_host(net.infer(Backend::from_host(std::move(x))));
      if (out.size() == 0) out.resize(z.rows(), features.cols());
      out.middleCols(begin, size) = z;
    }
    return out;
  }

  /// Validation mAP (stable ties) of the validation items against each other, each left out of
  /// its own ranking: codes of unseen items on both sides, as in the retrieval protocol where
  /// almost the whole database is unseen. Never the test queries.
  static double validation_map(const Net& net, const MatrixF& features, const Labels& labels, Index chunk) {
    return leave_one_out_map(BinaryCodes::from_signs(infer_logits(net, features, chunk)), labels);
  }

  Config config_;
  Reward reward_;
  Index inputs_ = 0;
  std::optional<Net> net_;
  nn::TrainResult last_result_;
  long long database_updates_ = 0;
};

/// Deep policy hashing with the default MLP over float features and the configurable reward
/// (CLI name "dph").
using PolicyHashing = PolicyHashingHasher<MlpPolicyNetwork<float>, MetricReward>;
/// Deep policy hashing trained and run on backend `B` (e.g. cuda::CudaBackend).
template <class B>
using PolicyHashingOn = PolicyHashingHasher<MlpPolicyNetwork<float, B>, MetricReward>;
/// Deep policy hashing with the convolutional network over image pixels (CLI name "dph-cnn").
using PolicyHashingCnn = PolicyHashingHasher<CnnPolicyNetwork<float>, MetricReward>;

}  // namespace rlhash
