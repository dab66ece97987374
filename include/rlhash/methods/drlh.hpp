#pragma once
/// \file
/// DRLH — Deep Reinforcement Learning with Label Embedding Reward for Supervised Image Hashing
/// (Wang et al., sections 3–4).
///
/// An MDP over the b-bit code space. State s_t = (f, e_t, h_t): the item's features f (as given:
/// raw pixels by default), the current code e_t (e_0: one random code drawn from the seed, the
/// same for every item, so encoding is deterministic) and the last `history` (10) actions as
/// one-hot b-vectors (terminate not recorded). Actions: flip bit k (k = 0..b-1) or terminate
/// (a = b). Rewards: reward/bch_reward.hpp (eq. 1 for flips, eq. 2 = +-sigma for terminate,
/// against the item's BCH label codeword). A Q-network (rl/q_network.hpp: the first layer split
/// into a per-episode feature part W_f f + b and a per-step state part W_s [e; h], then a
/// swappable trunk, by default ReLU-Dropout-Dense-ReLU-Dropout-Dense with b + 1 outputs) is
/// trained by deep Q-learning with experience replay, a periodically copied target network and
/// the Huber loss; exploration is epsilon-greedy with the paper's guided exploration (an
/// exploring step picks uniformly among the expert's improving actions). Encoding is greedy,
/// at most max_steps (M, default b) steps, each column stopping at its own terminate.
///
/// Everything is batched: `episodes` episodes step together during training (a finished
/// column is refilled with the epoch's next item), replay updates use mini-batches, and
/// encoding steps whole chunks of items at once. Threads: Eigen's GEMMs (Eigen::setNbThreads,
/// set by the application); nothing else runs in parallel. docs/methods/drlh.md has the
/// defaults and why.
#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/frozen_representation.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/checkpoint.hpp"
#include "rlhash/nn/divergence.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/rng_state.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/reward/bch_reward.hpp"
#include "rlhash/rl/dqn.hpp"
#include "rlhash/rl/epsilon_schedule.hpp"
#include "rlhash/rl/flip_actions.hpp"
#include "rlhash/rl/q_network.hpp"
#include "rlhash/rl/replay_memory.hpp"

namespace rlhash {

// ---------------------------------------------------------------------------------------------
// Q-network trunks
//
// A trunk policy T provides `using Scalar`, `using Net` (a module from the first layer's
// `hidden1` pre-activations to the b + 1 action values), `struct Config` (fields listed by
// visit(), merged into DRLH's Config) and `static Net make(Index hidden1, Index actions,
// const Config&, Rng&)`.

/// ReLU -> Dropout -> Dense(hidden1, hidden2) -> ReLU -> Dropout -> Dense(hidden2, b + 1):
/// with the split first layer, two hidden fully connected layers each followed by dropout
/// (section 4.1), He initialisation.
/// `B`: the backend the Q-network runs on (nn/backend.hpp; cuda::CudaBackend for a GPU).
template <class S, class B = nn::CpuBackend>
struct MlpQTrunk {
  using Scalar = S;
  using Net = nn::Sequential<nn::ReLU<S, B>, nn::Dropout<S, B>, nn::Dense<S, B>, nn::ReLU<S, B>,
                             nn::Dropout<S, B>, nn::Dense<S, B>>;
  struct Config {
    int hidden2 = 256;
    double dropout = 0.1;
    template <class V>
    void visit(V&& field) {
      field("hidden2", hidden2);
      field("dropout", dropout);
    }
  };
  static Net make(Index hidden1, Index actions, const Config& c, Rng& rng) {
    detail::require(c.hidden2 > 0, "drlh: hidden2 must be > 0, got " + std::to_string(c.hidden2));
    detail::require(c.dropout >= 0 && c.dropout < 1,
                    "drlh: dropout must be in [0, 1), got " + std::to_string(c.dropout));
    nn::Dense<S, B> second(hidden1, c.hidden2, rng, nn::Init::he_uniform);
    nn::Dense<S, B> out(c.hidden2, actions, rng, nn::Init::he_uniform);
    const std::uint64_t seed1 = rng(), seed2 = rng();
    return Net(nn::ReLU<S, B>(), nn::Dropout<S, B>(c.dropout, seed1), std::move(second), nn::ReLU<S, B>(),
               nn::Dropout<S, B>(c.dropout, seed2), std::move(out));
  }
};

namespace drlh {

/// The longest action history a state may carry.
inline constexpr int max_history = 16;

/// One replay entry; the code e_t is the replay payload. The next state follows from the state
/// and the action, so it is not stored.
struct Transition {
  std::int64_t item = 0;
  float reward = 0;
  std::int32_t action = 0;
  std::int16_t history[max_history];  ///< -1: empty slot; slot 0 = the latest action
  std::uint8_t terminal = 0;          ///< the action was terminate (no bootstrap)
};

/// The state vector part of the Q-network's input: [e_t bits (0/1); history slot 0; ...;
/// slot H-1], b (1 + H) values, into out[0..). A slot is the b-vector of the bits its action
/// flipped: one-hot for the paper's actions, two-hot for the 2-bit action set's pairs.
template <class S>
void write_state(const std::uint64_t* code, const std::int16_t* history, const rl::FlipActions& actions,
                 int history_len, S* out) {
  const int bits = actions.bits();
  std::fill(out, out + static_cast<std::size_t>(bits) * static_cast<std::size_t>(1 + history_len), S(0));
  for (int k = 0; k < bits; ++k) out[k] = static_cast<S>((code[k / 64] >> (k % 64)) & 1U);
  for (int slot = 0; slot < history_len; ++slot)
    if (history[slot] >= 0)
      actions.for_each_bit(history[slot], [&](int bit) { out[bits + slot * bits + bit] = S(1); });
}

/// Flips the bits of a (non-terminate) `action` in `code`.
inline void apply_action(std::uint64_t* code, const rl::FlipActions& actions, int action) {
  actions.for_each_bit(action, [&](int bit) { code[bit / 64] ^= std::uint64_t{1} << (bit % 64); });
}

/// The expert's improving actions (guided exploration, section 4.2): the reward's improving
/// one-bit flips and terminate, widened to the pairs of those flips for the 2-bit action set.
inline void expert_actions(const BchReward& reward, const rl::FlipActions& actions, const std::uint64_t* code,
                           const int* d, const Labels& labels, Index item, std::vector<int>& scratch,
                           std::vector<int>& out) {
  reward.expert_actions(code, d, labels, item, out);
  if (actions.max_flips() == 1) return;
  const bool may_terminate = !out.empty() && out.back() == reward.terminate_action();
  scratch.assign(out.begin(), out.end() - (may_terminate ? 1 : 0));
  actions.expert_actions(scratch, may_terminate, out);
}

/// Records `action` as the latest history entry (the oldest falls off).
inline void push_history(std::int16_t* history, int history_len, int action) {
  for (int slot = history_len - 1; slot > 0; --slot) history[slot] = history[slot - 1];
  if (history_len > 0) history[0] = static_cast<std::int16_t>(action);
}

/// Greedy rollout of `net` from the initial code for every column of `projection`
/// (net.feature_projection of the items, on the host): at most `max_steps` steps, a column
/// stops at its first terminate. Writes the final codes into `codes` rows [first, first + N).
///
/// On the host the first layer is never multiplied out per step: its pre-activation is kept as
/// W_f f + b + W_e e_t (updated by +-one column of W_e per flip) plus the history's columns of
/// W_h (at most `history` column additions per step), so a step costs the trunk's product plus
/// O(history * hidden1) per item instead of O(b (1 + history) * hidden1). On a device backend
/// a step writes the active items' states and evaluates them with net.infer_projected: one
/// product on the device instead of per-item column updates.
template <class Net>
void greedy_codes(const Net& net, const Matrix<typename Net::Scalar>& projection,
                  const std::vector<std::uint64_t>& initial_code, const rl::FlipActions& actions,
                  int history_len, int max_steps, BinaryCodes& codes, Index first) {
  using S = typename Net::Scalar;
  using B = nn::backend_of_t<Net>;
  constexpr bool incremental = nn::is_cpu_backend_v<B>;
  const int bits = actions.bits();
  const Index n = projection.cols();
  const auto w = static_cast<std::size_t>((bits + 63) / 64);
  const auto h = static_cast<std::size_t>(std::max(history_len, 1));
  std::vector<std::uint64_t> code(static_cast<std::size_t>(n) * w);
  for (Index j = 0; j < n; ++j)
    std::copy(initial_code.begin(), initial_code.end(),
              code.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(j) * w));
  std::vector<std::int16_t> history(static_cast<std::size_t>(n) * h, -1);
  // Host: W_f f + b + W_e e_0 for every column (e_0 is shared: one vector).
  Matrix<S> code_part;
  if constexpr (incremental) {
    const auto& ws = net.state_weight();  // hidden x b (1 + history): code columns, then history slots
    Vector<S> initial_part = Vector<S>::Zero(ws.rows());
    for (int k = 0; k < bits; ++k)
      if ((initial_code[static_cast<std::size_t>(k / 64)] >> (k % 64)) & 1U) initial_part += ws.col(k);
    code_part = projection;
    code_part.colwise() += initial_part;
  }
  std::vector<Index> active(static_cast<std::size_t>(n)), still;
  for (Index j = 0; j < n; ++j) active[static_cast<std::size_t>(j)] = j;
  Matrix<S> z, s;
  auto q_values = [&]() -> Matrix<S> {
    const auto na = static_cast<Index>(active.size());
    z.resize(net.hidden(), na);
    if constexpr (incremental) {
      const auto& ws = net.state_weight();
      for (Index k = 0; k < na; ++k) {
        const Index j = active[static_cast<std::size_t>(k)];
        auto col = z.col(k);
        col = code_part.col(j);
        const std::int16_t* hist = history.data() + static_cast<std::size_t>(j) * h;
        for (int slot = 0; slot < history_len; ++slot)
          if (hist[slot] >= 0)
            actions.for_each_bit(hist[slot], [&](int bit) { col += ws.col(bits + slot * bits + bit); });
      }
      return net.trunk().infer(z);
    } else {
      s.resize(net.state_dim(), na);
      for (Index k = 0; k < na; ++k) {
        const auto j = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
        z.col(k) = projection.col(static_cast<Index>(j));
        write_state(code.data() + j * w, history.data() + j * h, actions, history_len, s.col(k).data());
      }
      return nn::on_host<B>(net.infer_projected(nn::on_backend<B>(z), nn::on_backend<B>(s)));
    }
  };
  for (int step = 0; step < max_steps && !active.empty(); ++step) {
    const Matrix<S> q = q_values();
    still.clear();
    for (Index k = 0; k < static_cast<Index>(active.size()); ++k) {
      Index a = 0;
      q.col(k).maxCoeff(&a);
      if (a == actions.terminate()) continue;
      const Index j = active[static_cast<std::size_t>(k)];
      actions.for_each_bit(static_cast<int>(a), [&](int bit) {
        std::uint64_t& word = code[static_cast<std::size_t>(j) * w + static_cast<std::size_t>(bit / 64)];
        const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
        if constexpr (incremental) {
          if (word & mask)
            code_part.col(j) -= net.state_weight().col(bit);
          else
            code_part.col(j) += net.state_weight().col(bit);
        }
        word ^= mask;
      });
      if (history_len > 0)
        push_history(history.data() + static_cast<std::size_t>(j) * h, history_len, static_cast<int>(a));
      still.push_back(j);
    }
    active.swap(still);
  }
  for (Index j = 0; j < n; ++j)
    std::memcpy(codes.row(first + j), code.data() + static_cast<std::size_t>(j) * w,
                w * sizeof(std::uint64_t));
}

}  // namespace drlh

/// What the last fit did.
struct DrlhFitResult {
  int epochs_run = 0;
  long long updates = 0;      ///< gradient steps
  long long transitions = 0;  ///< environment steps (replay pushes)
  int best_epoch = -1;        ///< 0-based epoch whose parameters were kept (-1: no validation)
  double best_validation_map = 0.0;
  std::vector<double> validation_map;  ///< per epoch (empty without validation)
  std::vector<double> mean_return;     ///< per epoch: mean undiscounted episode return
  std::vector<double> terminate_rate;  ///< per epoch: episodes ended by terminate (not by the step cap)
  std::vector<double> mean_loss;       ///< per epoch: mean Huber loss of the updates
  bool stopped_early = false;
};

template <class Trunk = MlpQTrunk<float>>
class DrlhHasher {
 public:
  using Scalar = typename Trunk::Scalar;
  using S = Scalar;
  using QNetwork = rl::SplitInputQNetwork<typename Trunk::Net>;
  /// Where the Q-networks and Adam run; the MDP, the replay memory and the rewards stay on the host.
  using Backend = typename QNetwork::Backend;
  static constexpr const char* method_name = "drlh";
  /// Data-parallel training does not fit DQN as the paper trains it: each update samples its
  /// mini-batch from one replay memory of every transition played so far, and the next episodes
  /// are played by the updated network, so splitting a batch would need one shared memory.
  static constexpr const char* single_process_because =
      "its deep Q-network learns from a replay memory: every update samples from all transitions played so "
      "far and the next episodes are played by the updated network, so there is no global mini-batch to "
      "split between replicas";

  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    // MDP (section 3)
    /// The state's f: "input" (the features as given: raw pixels by default) or the frozen
    /// representation network of a "fc-triplet" or "drlih" model trained first on the same data
    /// (the paper's frozen pre-extracted features, section 5.2.1; frozen_representation.hpp).
    std::string representation = "input";
    typename MlpRepresentation<S>::Config repr;  ///< that network's widths
    int history = 10;                            ///< actions kept in the state (h_t)
    int max_steps = 0;                           ///< M at encoding (test) time; 0: b
    int train_steps = 0;                         ///< episode length during training; 0: b
    int eta = -1;                                ///< terminate threshold of eq. 2; -1: ceil(R_BCH / 2)
    int action_bits = 1;  ///< bits one action may flip: 1 (the paper) or 2 (its 2-bit action set)
    double sigma = 5.0;   ///< termination reward of eq. 2
    // Q-network (section 4.1)
    int hidden1 = 512;  ///< width of the split first layer
    typename Trunk::Config trunk;
    // Deep Q-learning (section 4.2)
    double gamma = 0.9;
    int replay_size = 100000;    ///< transitions kept
    int batch_size = 128;        ///< replay mini-batch
    int episodes = 64;           ///< episodes stepped together (one per column)
    int updates_per_step = 1;    ///< gradient steps per batched environment step
    int learning_starts = 1000;  ///< transitions in memory before the first update
    int target_period = 500;     ///< gradient steps between target-network copies
    bool double_dqn = false;
    double huber_delta = 1.0;
    double learning_rate = 3e-4;  ///< Adam (1e-3 measured worse: docs/results-drlh.md)
    double weight_decay = 0.0;
    double max_grad_norm = 10.0;  ///< 0: no clipping
    int epochs = 25;
    double epsilon_start = 1.0;
    double epsilon_end = 0.1;
    double epsilon_decay_fraction = 0.6;  ///< of the epochs (the paper: 15 of 25)
    bool guided_exploration = true;
    int patience = 0;         ///< epochs without validation improvement before stopping; 0: never
    int encode_batch = 2048;  ///< items per greedy rollout chunk

    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("representation", representation);
      repr.visit(field);
      field("history", history);
      field("max_steps", max_steps);
      field("train_steps", train_steps);
      field("eta", eta);
      field("action_bits", action_bits);
      field("sigma", sigma);
      field("hidden1", hidden1);
      trunk.visit(field);
      field("gamma", gamma);
      field("replay_size", replay_size);
      field("batch_size", batch_size);
      field("episodes", episodes);
      field("updates_per_step", updates_per_step);
      field("learning_starts", learning_starts);
      field("target_period", target_period);
      field("double_dqn", double_dqn);
      field("huber_delta", huber_delta);
      field("learning_rate", learning_rate);
      field("weight_decay", weight_decay);
      field("max_grad_norm", max_grad_norm);
      field("epochs", epochs);
      field("epsilon_start", epsilon_start);
      field("epsilon_end", epsilon_end);
      field("epsilon_decay_fraction", epsilon_decay_fraction);
      field("guided_exploration", guided_exploration);
      field("patience", patience);
      field("encode_batch", encode_batch);
    }
  };

  DrlhHasher() : DrlhHasher(Config()) {}
  explicit DrlhHasher(Config config) : config_(std::move(config)) { validate(config_); }
  const Config& config() const { return config_; }

  /// M at encoding time and the training episode length (0 in the config means b).
  int test_steps() const { return config_.max_steps > 0 ? config_.max_steps : config_.bits; }
  int training_steps() const { return config_.train_steps > 0 ? config_.train_steps : config_.bits; }

  /// Trains the Q-network on `features` (D x N, one item per column) with their labels.
  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    detail::refuse_replicas<DrlhHasher>(options);
    detail::check_labelled_training_data(features, labels, method_name);
    const bool validate_now = detail::validation_requested(options, features.rows(), method_name);
    FrozenRepresentation<S, Backend> representation = FrozenRepresentation<S, Backend>::train(
        feature_source(), config_.repr, config_.bits, config_.seed, features, labels, options);
    if (representation.empty()) {
      train_q_network(features, labels, options, validate_now);
    } else {
      const MatrixF f = representation.apply(features, config_.encode_batch, method_name);
      MatrixF validation_f;
      FitOptions on_f = options;
      if (validate_now) {
        validation_f = representation.apply(*options.validation_features, config_.encode_batch, method_name);
        on_f.validation_features = &validation_f;
      }
      train_q_network(f, labels, on_f, validate_now);
    }
    representation_ = std::move(representation);
  }

  /// Greedy codes, at most max_steps steps per item; deterministic.
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    return encode_with_steps(features, test_steps());
  }

  /// encode() with an explicit step limit M (>= 0; 0 returns the initial code).
  BinaryCodes encode_with_steps(const Eigen::Ref<const MatrixF>& features, int max_steps) const {
    detail::require_fitted(net_.has_value(), method_name);
    detail::require_dims(features.rows(), input_dim(), method_name);
    detail::require(max_steps >= 0,
                    std::string(method_name) + ": max_steps must be >= 0, got " + std::to_string(max_steps));
    BinaryCodes codes(features.cols(), config_.bits);
    const rl::FlipActions actions = action_set();
    for (Index begin = 0; begin < features.cols(); begin += config_.encode_batch) {
      const Index size = std::min<Index>(config_.encode_batch, features.cols() - begin);
      const Matrix<S> x =
          representation_.apply(features.middleCols(begin, size), config_.encode_batch, method_name)
              .template cast<S>();
      drlh::greedy_codes(*net_, projection_of(*net_, x), initial_code_, actions, config_.history, max_steps,
                         codes, begin);
    }
    return codes;
  }

  void save(ByteWriter& out) const {
    detail::require_fitted(net_.has_value(), method_name);
    out.put<std::int64_t>(net_->feature_dim());
    out.put_vector(initial_code_);
    reward_->embedding().save(out);
    nn::write_parameters(out, const_cast<QNetwork&>(*net_).parameters());  // read only
    representation_.save(out);
  }
  void load(ByteReader& in) {
    const auto inputs = in.get<std::int64_t>();
    if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
      in.fail("the input dimension of a drlh model, found " + std::to_string(inputs));
    auto initial = in.get_vector<std::uint64_t>();
    if (initial.size() != static_cast<std::size_t>((config_.bits + 63) / 64))
      in.fail("an initial code of " + std::to_string(config_.bits) + " bits");
    LabelEmbedding embedding = LabelEmbedding::load(in);
    if (embedding.bits() != config_.bits)
      in.fail("a label embedding of " + std::to_string(config_.bits) + " bits, found " +
              std::to_string(embedding.bits()));
    QNetwork net = make_network(static_cast<Index>(inputs));
    nn::read_parameters(in, net.parameters());
    net.set_training(false);
    FrozenRepresentation<S, Backend> representation = FrozenRepresentation<S, Backend>::load(
        in, feature_source(), config_.repr, static_cast<Index>(inputs));
    net_.emplace(std::move(net));
    representation_ = std::move(representation);
    initial_code_ = std::move(initial);
    reward_.emplace(std::move(embedding), config_.sigma, config_.eta);
  }

  bool fitted() const { return net_.has_value(); }
  const DrlhFitResult& last_result() const { return result_; }
  /// The Q-network (after fit or load).
  const QNetwork& network() const {
    detail::require_fitted(net_.has_value(), method_name);
    return *net_;
  }
  /// The rewards (label embedding, eta, sigma) of the fitted model.
  const BchReward& reward() const {
    detail::require_fitted(reward_.has_value(), method_name);
    return *reward_;
  }
  /// e_0, the same for every item.
  const std::vector<std::uint64_t>& initial_code() const { return initial_code_; }
  /// The frozen representation in front of the Q-network (empty: the features as given).
  const FrozenRepresentation<S, Backend>& representation() const { return representation_; }
  FeatureSource feature_source() const { return parse_feature_source(config_.representation, method_name); }
  /// The dimension of the features encode() takes (after fit or load).
  Index input_dim() const {
    detail::require_fitted(net_.has_value(), method_name);
    return representation_.empty() ? net_->feature_dim() : representation_.inputs();
  }

  /// A network of this config for `inputs`-dimensional items, initialised from the seed.
  QNetwork make_network(Index inputs) const {
    Rng rng(config_.seed);
    const Index hidden1 = config_.hidden1;
    auto trunk = Trunk::make(hidden1, action_set().size(), config_.trunk, rng);
    return QNetwork(inputs, state_dim(), hidden1, std::move(trunk), rng);
  }
  Index state_dim() const { return static_cast<Index>(config_.bits) * (1 + config_.history); }
  /// The MDP's actions: flip one bit (or, with action_bits = 2, two) or terminate.
  rl::FlipActions action_set() const { return rl::FlipActions(config_.bits, config_.action_bits); }

  /// W_f x + b of `net` for host items x, on the host.
  static Matrix<S> projection_of(const QNetwork& net, const Matrix<S>& x) {
    return nn::on_host<Backend>(net.feature_projection(nn::on_backend<Backend>(x)));
  }

  /// e_0: `bits` random bits from the seed (its own stream).
  static std::vector<std::uint64_t> make_initial_code(int bits, std::uint64_t seed) {
    Rng rng(seed ^ 0x9E3779B97F4A7C15ULL);
    std::vector<std::uint64_t> code(static_cast<std::size_t>((bits + 63) / 64), 0);
    for (int k = 0; k < bits; ++k)
      if (rng() >> 63) code[static_cast<std::size_t>(k / 64)] |= std::uint64_t{1} << (k % 64);
    return code;
  }

 private:
  /// Deep Q-learning on `features` (the state's f, one item per column).
  void train_q_network(const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                       const FitOptions& options, bool validate_now) {
    Training t(*this, features, labels, options, validate_now);
    t.run();
    result_ = t.result;
    reward_.emplace(std::move(t.reward));
    initial_code_ = t.initial;
    net_.emplace(std::move(t.online));
    net_->set_training(false);
  }

  static void validate(const Config& c) {
    const std::string m = method_name;
    detail::require_bits(c.bits, method_name);
    detail::require(c.history >= 0 && c.history <= drlh::max_history,
                    m + ": history must be in [0, " + std::to_string(drlh::max_history) + "], got " +
                        std::to_string(c.history));
    detail::require(c.max_steps >= 0 && c.train_steps >= 0,
                    m + ": max_steps and train_steps must be >= 0 (0: b), got " +
                        std::to_string(c.max_steps) + " and " + std::to_string(c.train_steps));
    detail::require(c.eta >= -1 && c.eta <= c.bits,
                    m + ": eta must be -1 (default) or in [0, bits], got " + std::to_string(c.eta));
    detail::require(c.sigma >= 0, m + ": sigma must be >= 0, got " + std::to_string(c.sigma));
    parse_feature_source(c.representation, method_name);
    detail::require(c.action_bits == 1 || c.action_bits == 2,
                    m + ": action_bits must be 1 or 2, got " + std::to_string(c.action_bits));
    rl::FlipActions(c.bits, c.action_bits);  // validates the number of actions
    detail::require(c.hidden1 > 0, m + ": hidden1 must be > 0, got " + std::to_string(c.hidden1));
    detail::require(c.gamma >= 0 && c.gamma <= 1,
                    m + ": gamma must be in [0, 1], got " + std::to_string(c.gamma));
    detail::require(
        c.replay_size >= 1 && c.batch_size >= 1 && c.episodes >= 1 && c.updates_per_step >= 0 &&
            c.learning_starts >= 0 && c.target_period >= 1,
        m + ": replay_size, batch_size, episodes and target_period must be >= 1, updates_per_step and "
            "learning_starts >= 0");
    detail::require(c.huber_delta > 0 && c.learning_rate > 0 && c.weight_decay >= 0 && c.max_grad_norm >= 0,
                    m + ": huber_delta and learning_rate must be > 0, weight_decay and max_grad_norm >= 0");
    detail::require(c.epochs >= 0 && c.patience >= 0, m + ": epochs and patience must be >= 0");
    detail::require(c.epsilon_decay_fraction >= 0, m + ": epsilon_decay_fraction must be >= 0");
    rl::LinearEpsilon(c.epsilon_start, c.epsilon_end, 0.0);  // validates the range
    detail::require(c.encode_batch > 0,
                    m + ": encode_batch must be > 0, got " + std::to_string(c.encode_batch));
  }

  /// One fit: the networks, the replay memory, the counters and the epoch loop.
  struct Training {
    const DrlhHasher& h;
    const Config& c;
    const Eigen::Ref<const MatrixF>& features;
    const Labels& labels;
    const FitOptions& options;
    bool validating;
    BchReward reward;
    rl::FlipActions actions;
    std::vector<std::uint64_t> initial;
    QNetwork online, target;
    nn::Adam<S, Backend> optimizer;
    rl::ReplayMemory<drlh::Transition> replay;
    rl::LinearEpsilon epsilon;
    Rng rng;
    Matrix<S> target_projection;  // target network's W_f f + b of every training item
    int words, bits, history;
    int epoch = 0;  // epochs completed
    int since_best = 0;
    bool q_values_finite = true;  // in the epoch being run
    std::vector<Matrix<S>> best;
    DrlhFitResult result;

    Training(const DrlhHasher& hasher, const Eigen::Ref<const MatrixF>& x, const Labels& y,
             const FitOptions& o, bool validate)
        : h(hasher),
          c(hasher.config_),
          features(x),
          labels(y),
          options(o),
          validating(validate),
          reward(LabelEmbedding(y.num_classes(), hasher.config_.bits, hasher.config_.seed),
                 hasher.config_.sigma, hasher.config_.eta),
          actions(hasher.action_set()),
          initial(make_initial_code(hasher.config_.bits, hasher.config_.seed)),
          online(hasher.make_network(x.rows())),
          target(hasher.make_network(x.rows())),
          optimizer(nn::AdamConfig{c.learning_rate, 0.9, 0.999, 1e-8, c.weight_decay, false}),
          replay(allocating(
              rl::ReplayMemory<drlh::Transition>::bytes_for(c.replay_size, (c.bits + 63) / 64),
              [&] { return rl::ReplayMemory<drlh::Transition>(c.replay_size, (c.bits + 63) / 64); },
              method_name, ".replay_size = ", c.replay_size, " transitions")),
          epsilon(c.epsilon_start, c.epsilon_end, c.epsilon_decay_fraction * c.epochs),
          rng(c.seed ^ 0xD1B54A32D192ED03ULL),
          words((c.bits + 63) / 64),
          bits(c.bits),
          history(c.history) {
      target.set_training(false);
      result.best_validation_map = -1.0;
    }

    void run() {
      if (options.resume && !options.checkpoint_path.empty() && file_exists(options.checkpoint_path))
        load_checkpoint(options.checkpoint_path);
      refresh_target_projection();
      while (epoch < c.epochs) {
        run_epoch();
        ++epoch;
        result.epochs_run = epoch;
        require_converging();  // before a diverged network is validated, checkpointed or kept
        bool stop = false;
        std::string metrics = "return=" + std::to_string(result.mean_return.back()) +
                              " terminate=" + std::to_string(result.terminate_rate.back()) +
                              " loss=" + std::to_string(result.mean_loss.back()) +
                              " epsilon=" + std::to_string(epsilon.value(epoch));
        if (validating) {
          const double map = validation_map();
          result.validation_map.push_back(map);
          metrics += " val_map=" + std::to_string(map);
          if (map > result.best_validation_map) {
            result.best_validation_map = map;
            result.best_epoch = epoch - 1;
            best = nn::copy_values(online.parameters());
            since_best = 0;
          } else if (c.patience > 0 && ++since_best >= c.patience) {
            stop = true;
          }
        }
        if (!options.checkpoint_path.empty() && options.checkpoint_every > 0 &&
            (epoch % options.checkpoint_every == 0 || epoch == c.epochs))
          save_checkpoint(options.checkpoint_path);
        if (!report(options.progress, Progress{"drlh epochs", epoch, c.epochs, metrics})) stop = true;
        if (stop) {
          result.stopped_early = epoch < c.epochs;
          break;
        }
      }
      if (validating && !best.empty()) nn::assign_values(online.parameters(), best);
      if (!validating) result.best_validation_map = 0.0;
    }

    /// TrainingDiverged when the epoch's mean loss, an acting Q-value or a parameter of the
    /// online network is not finite.
    void require_converging() {
      const double loss = result.mean_loss.back();
      std::string non_finite;
      if (!q_values_finite)
        non_finite = "Q-values are not finite";
      else if (std::isfinite(loss))
        non_finite = nn::non_finite_parameter(online.parameters());
      nn::require_converging(epoch, loss, non_finite);
    }

    // ----- the epoch: streaming batched episodes --------------------------------------------
    void run_epoch() {
      q_values_finite = true;
      const Index n = features.cols();
      std::vector<Index> order(static_cast<std::size_t>(n));
      for (Index i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
      shuffle(order, rng);
      const Index width = std::min<Index>(c.episodes, n);
      const int classes = reward.num_classes();
      const auto w = static_cast<std::size_t>(words);
      const auto hl = static_cast<std::size_t>(drlh::max_history);
      std::vector<Index> item(static_cast<std::size_t>(width), -1);
      std::vector<std::uint64_t> code(static_cast<std::size_t>(width) * w);
      std::vector<int> dist(static_cast<std::size_t>(width) * static_cast<std::size_t>(classes));
      std::vector<std::int16_t> hist(static_cast<std::size_t>(width) * hl, -1);
      std::vector<int> steps(static_cast<std::size_t>(width), 0);
      std::vector<double> returns(static_cast<std::size_t>(width), 0.0);
      Matrix<S> projection(online.hidden(), width);
      Index next = 0;
      double total_return = 0, total_loss = 0;
      long long episodes_done = 0, terminated = 0, losses = 0;
      std::vector<Index> active, refill;
      auto start = [&](const std::vector<Index>& columns) {
        if (columns.empty()) return;
        Matrix<S> x(features.rows(), static_cast<Index>(columns.size()));
        for (std::size_t k = 0; k < columns.size(); ++k) {
          const auto j = static_cast<std::size_t>(columns[k]);
          item[j] = order[static_cast<std::size_t>(next++)];
          x.col(static_cast<Index>(k)) = features.col(item[j]).template cast<S>();
          std::copy(initial.begin(), initial.end(), code.begin() + static_cast<std::ptrdiff_t>(j * w));
          reward.distances(code.data() + j * w, dist.data() + j * static_cast<std::size_t>(classes));
          std::fill(hist.begin() + static_cast<std::ptrdiff_t>(j * hl),
                    hist.begin() + static_cast<std::ptrdiff_t>((j + 1) * hl), std::int16_t(-1));
          steps[j] = 0;
          returns[j] = 0;
        }
        // W_f f + b once per episode (the acting network lags the learner by at most one
        // episode's updates in this part; see docs/methods/drlh.md).
        const Matrix<S> p = projection_of(online, x);
        for (std::size_t k = 0; k < columns.size(); ++k)
          projection.col(columns[k]) = p.col(static_cast<Index>(k));
      };
      for (Index j = 0; j < width; ++j) active.push_back(j);
      start(active);
      const Index sdim = h.state_dim();
      Matrix<S> p, s;
      std::vector<int> expert, disagreeing;
      std::vector<std::uint64_t> before(w);
      const int limit = h.training_steps();
      while (!active.empty()) {
        const auto na = static_cast<Index>(active.size());
        p.resize(online.hidden(), na);
        s.resize(sdim, na);
        for (Index k = 0; k < na; ++k) {
          const auto j = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
          p.col(k) = projection.col(static_cast<Index>(j));
          drlh::write_state(code.data() + j * w, hist.data() + j * hl, actions, history, s.col(k).data());
        }
        const Matrix<S> q = nn::on_host<Backend>(
            online.infer_projected(nn::on_backend<Backend>(p), nn::on_backend<Backend>(s)));
        q_values_finite = q_values_finite && q.allFinite();
        const double eps = epsilon.value(epoch + static_cast<double>(next) / static_cast<double>(n));
        refill.clear();
        std::vector<Index> still;
        for (Index k = 0; k < na; ++k) {
          const auto j = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
          std::uint64_t* e = code.data() + j * w;
          int* d = dist.data() + j * static_cast<std::size_t>(classes);
          int action;
          if (uniform_unit(rng) < eps) {
            if (c.guided_exploration) {
              drlh::expert_actions(reward, actions, e, d, labels, item[j], disagreeing, expert);
              action = expert[static_cast<std::size_t>(uniform_below(rng, expert.size()))];
            } else {
              action = static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(actions.size())));
            }
          } else {
            Index a = 0;
            q.col(k).maxCoeff(&a);
            action = static_cast<int>(a);
          }
          drlh::Transition tr;
          tr.item = item[j];
          tr.action = action;
          std::copy(hist.begin() + static_cast<std::ptrdiff_t>(j * hl),
                    hist.begin() + static_cast<std::ptrdiff_t>((j + 1) * hl), tr.history);
          std::copy(e, e + w, before.begin());
          int pos0;
          double neg0;
          reward.pos_neg(d, labels, item[j], pos0, neg0);
          double r;
          if (action == actions.terminate()) {
            r = reward.terminate_reward(pos0);
            tr.terminal = 1;
          } else {
            // eq. 1 over the whole step
            actions.for_each_bit(action, [&](int bit) { reward.apply_flip(e, d, bit); });
            int pos1;
            double neg1;
            reward.pos_neg(d, labels, item[j], pos1, neg1);
            r = (pos0 - neg0) - (pos1 - neg1);
            drlh::push_history(hist.data() + j * hl, history, action);
          }
          tr.reward = static_cast<float>(r);
          replay.push(tr, before.data());
          ++result.transitions;
          returns[j] += r;
          ++steps[j];
          if (tr.terminal || steps[j] >= limit) {
            ++episodes_done;
            terminated += tr.terminal;
            total_return += returns[j];
            if (next + static_cast<Index>(refill.size()) < n)  // start() draws the items later
              refill.push_back(static_cast<Index>(j));
          } else {
            still.push_back(static_cast<Index>(j));
          }
        }
        start(refill);
        still.insert(still.end(), refill.begin(), refill.end());
        std::sort(still.begin(), still.end());
        active.swap(still);
        for (int u = 0; u < c.updates_per_step; ++u)
          if (replay.size() >= std::max<Index>(c.learning_starts, 1)) {
            total_loss += update();
            ++losses;
          }
      }
      result.mean_return.push_back(episodes_done ? total_return / static_cast<double>(episodes_done) : 0.0);
      result.terminate_rate.push_back(
          episodes_done ? static_cast<double>(terminated) / static_cast<double>(episodes_done) : 0.0);
      result.mean_loss.push_back(losses ? total_loss / static_cast<double>(losses) : 0.0);
    }

    // ----- one replay update -----------------------------------------------------------------
    double update() {
      const auto batch = replay.sample(c.batch_size, rng);
      const auto nb = static_cast<Index>(batch.size());
      const Index sdim = h.state_dim();
      Matrix<S> x(features.rows(), nb), s(sdim, nb), s_next(sdim, nb), tp(target.hidden(), nb);
      std::vector<float> rewards(batch.size());
      std::vector<unsigned char> terminal(batch.size());
      std::vector<Index> taken(batch.size());
      std::vector<std::uint64_t> next_code(static_cast<std::size_t>(words));
      std::int16_t next_hist[drlh::max_history];
      for (Index k = 0; k < nb; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const auto& tr = replay.record(batch[kk]);
        const std::uint64_t* e = replay.payload(batch[kk]);
        x.col(k) = features.col(tr.item).template cast<S>();
        tp.col(k) = target_projection.col(tr.item);
        drlh::write_state(e, tr.history, actions, history, s.col(k).data());
        std::copy(e, e + words, next_code.begin());
        std::copy(tr.history, tr.history + drlh::max_history, next_hist);
        if (!tr.terminal) {
          drlh::apply_action(next_code.data(), actions, tr.action);
          drlh::push_history(next_hist, history, tr.action);
        }
        drlh::write_state(next_code.data(), next_hist, actions, history, s_next.col(k).data());
        rewards[kk] = tr.reward;
        terminal[kk] = tr.terminal;
        taken[kk] = tr.action;
      }
      const auto& x_b = nn::on_backend<Backend>(x);
      const auto& s_next_b = nn::on_backend<Backend>(s_next);
      const Matrix<S> next_q =
          nn::on_host<Backend>(target.infer_projected(nn::on_backend<Backend>(tp), s_next_b));
      Vector<S> y;
      if (c.double_dqn)
        y = rl::double_q_learning_targets(next_q, nn::on_host<Backend>(online.infer(x_b, s_next_b)), rewards,
                                          terminal, c.gamma);
      else
        y = rl::q_learning_targets(next_q, rewards, terminal, c.gamma);
      online.set_training(true);
      online.zero_grad();
      const auto& q = Backend::to_host(online.forward(x_b, nn::on_backend<Backend>(s)));
      Matrix<S> grad;
      const double loss = static_cast<double>(nn::selected_huber_loss(q, taken, y, c.huber_delta, &grad));
      online.backward(nn::on_backend<Backend>(grad));
      const auto params = online.parameters();
      if (c.max_grad_norm > 0) nn::clip_grad_norm(params, c.max_grad_norm);
      optimizer.step(params);
      online.set_training(false);
      ++result.updates;
      if (result.updates % c.target_period == 0) {
        rl::copy_parameters(online, target);
        refresh_target_projection();
      }
      return loss;
    }

    void refresh_target_projection() {
      const Index n = features.cols();
      target_projection.resize(target.hidden(), n);
      for (Index begin = 0; begin < n; begin += 4096) {
        const Index size = std::min<Index>(4096, n - begin);
        const Matrix<S> x = features.middleCols(begin, size).template cast<S>();
        target_projection.middleCols(begin, size) = projection_of(target, x);
      }
    }

    double validation_map() {
      const MatrixF& vx = *options.validation_features;
      BinaryCodes codes(vx.cols(), bits);
      for (Index begin = 0; begin < vx.cols(); begin += c.encode_batch) {
        const Index size = std::min<Index>(c.encode_batch, vx.cols() - begin);
        const Matrix<S> x = vx.middleCols(begin, size).template cast<S>();
        drlh::greedy_codes(online, projection_of(online, x), initial, actions, history, h.test_steps(), codes,
                           begin);
      }
      return leave_one_out_map(codes, *options.validation_labels);
    }

    // ----- checkpoints -----------------------------------------------------------------------
    static bool file_exists(const std::string& path) {
      struct stat st;
      return ::stat(path.c_str(), &st) == 0;
    }

    void save_checkpoint(const std::string& path) {
      nn::CheckpointWriter writer;
      ByteWriter meta;
      meta.put_string(method_name);
      meta.put<std::int32_t>(bits);
      meta.put<std::int64_t>(features.rows());
      meta.put<std::int64_t>(features.cols());
      meta.put<std::int32_t>(epoch);
      meta.put<std::int32_t>(since_best);
      meta.put<std::int64_t>(result.updates);
      meta.put<std::int64_t>(result.transitions);
      meta.put<std::int32_t>(result.best_epoch);
      meta.put<double>(result.best_validation_map);
      meta.put_vector(result.validation_map);
      meta.put_vector(result.mean_return);
      meta.put_vector(result.terminate_rate);
      meta.put_vector(result.mean_loss);
      nn::write_rng(meta, rng);
      writer.add("method", meta);
      ByteWriter params, state, tparams, opt, mem, best_values;
      nn::write_parameters(params, online.parameters());
      online.save_state(state);
      nn::write_parameters(tparams, target.parameters());
      optimizer.save_state(opt);
      replay.save(mem);
      best_values.put<std::uint64_t>(best.size());
      for (const auto& m : best) best_values.put_matrix(m);
      writer.add("parameters", params);
      writer.add("module_state", state);
      writer.add("target", tparams);
      writer.add("optimizer", opt);
      writer.add("replay", mem);
      writer.add("best", best_values);
      nn::add_fingerprints(writer, options.data_fingerprint, options.settings_fingerprint);
      writer.write(path);
    }

    void load_checkpoint(const std::string& path) {
      const auto ck = nn::CheckpointReader::open(path);
      nn::require_same_run(ck, options.data_fingerprint, options.settings_fingerprint);
      auto meta = ck.section("method");
      const std::string name = meta.get_string();
      const auto b = meta.get<std::int32_t>();
      const auto rows = meta.get<std::int64_t>();
      const auto cols = meta.get<std::int64_t>();
      if (name != method_name || b != bits || rows != features.rows() || cols != features.cols())
        meta.fail(std::string("a drlh checkpoint of ") + std::to_string(bits) + " bits over " +
                  std::to_string(features.cols()) + " items of " + std::to_string(features.rows()) +
                  " dimensions, found " + name + " with " + std::to_string(b) + " bits over " +
                  std::to_string(cols) + " x " + std::to_string(rows));
      const auto e = meta.get<std::int32_t>();
      const auto sb = meta.get<std::int32_t>();
      const auto updates = meta.get<std::int64_t>();
      const auto transitions = meta.get<std::int64_t>();
      const auto best_epoch = meta.get<std::int32_t>();
      const auto best_map = meta.get<double>();
      auto vm = meta.get_vector<double>();
      auto mr = meta.get_vector<double>();
      auto tr = meta.get_vector<double>();
      auto ml = meta.get_vector<double>();
      Rng r = nn::read_rng(meta);
      if (e < 0 || e > c.epochs)
        meta.fail("an epoch count in [0, " + std::to_string(c.epochs) + "], found " + std::to_string(e));
      auto params = ck.section("parameters");
      nn::read_parameters(params, online.parameters());
      auto state = ck.section("module_state");
      online.load_state(state);
      auto tparams = ck.section("target");
      nn::read_parameters(tparams, target.parameters());
      auto opt = ck.section("optimizer");
      optimizer.load_state(opt, online.parameters());
      auto mem = ck.section("replay");
      replay.load(mem);
      auto bv = ck.section("best");
      const auto count = bv.get<std::uint64_t>();
      std::vector<Matrix<S>> best_values;
      const auto plist = online.parameters();
      if (count != 0 && count != plist.size())
        bv.fail("best parameters for " + std::to_string(plist.size()) + " tensors");
      for (std::uint64_t i = 0; i < count; ++i) {
        best_values.push_back(bv.template get_matrix<S>());
        if (best_values.back().rows() != plist[i].rows || best_values.back().cols() != plist[i].cols)
          bv.fail("best parameter '" + plist[i].name + "' of the network's shape");
      }
      epoch = e;
      since_best = sb;
      result.updates = updates;
      result.transitions = transitions;
      result.best_epoch = best_epoch;
      result.best_validation_map = best_map;
      result.validation_map = std::move(vm);
      result.mean_return = std::move(mr);
      result.terminate_rate = std::move(tr);
      result.mean_loss = std::move(ml);
      result.epochs_run = epoch;
      rng = r;
      best = std::move(best_values);
    }
  };

  Config config_;
  std::optional<QNetwork> net_;
  std::optional<BchReward> reward_;
  std::vector<std::uint64_t> initial_code_;
  FrozenRepresentation<S, Backend> representation_;
  DrlhFitResult result_;
};

/// DRLH with the default MLP trunk over float features (CLI name "drlh").
using Drlh = DrlhHasher<MlpQTrunk<float>>;
/// DRLH with its Q-networks trained and run on backend `B` (e.g. cuda::CudaBackend).
template <class B>
using DrlhOn = DrlhHasher<MlpQTrunk<float, B>>;

}  // namespace rlhash
