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
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/methods/drlh_mdp.hpp"
#include "rlhash/methods/drlh_training.hpp"
#include "rlhash/methods/frozen_representation.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/reward/bch_reward.hpp"
#include "rlhash/rl/flip_actions.hpp"
#include "rlhash/rl/q_network.hpp"

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
    /// The default since 2026-12-07, "fc-triplet": +0.036 mAP at 32 bits over the pixels
    /// (docs/results-drlh.md).
    std::string representation = "fc-triplet";
    typename MlpRepresentation<S>::Config repr;  ///< that network's widths
    int history = 10;                            ///< actions kept in the state (h_t)
    int max_steps = 0;                           ///< M at encoding (test) time; 0: b
    int train_steps = 0;                         ///< episode length during training; 0: b
    int eta = -1;                                ///< terminate threshold of eq. 2; -1: ceil(R_BCH / 2)
    /// How the classes fill the BCH code (section 3.3): "paper" (class c = message c, random
    /// padding bits, the same for every class) or "spread" (no bit the same for every class;
    /// bch/label_embedding.hpp). The default, "spread", leaves no dead bit.
    std::string label_code = "spread";
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
      field("label_code", label_code);
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
  /// config().label_code as a fill (validated when the hasher was made).
  LabelCodeFill label_code_fill() const {
    return parse_label_code_fill(config_.label_code, label_code_field());
  }

  /// M at encoding time and the training episode length (0 in the config means b).
  int test_steps() const { return config_.max_steps > 0 ? config_.max_steps : config_.bits; }
  int training_steps() const { return config_.train_steps > 0 ? config_.train_steps : config_.bits; }

  /// Trains the Q-network on `features` (D x N, one item per column) with their labels.
  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    detail::refuse_replicas<DrlhHasher>(options);
    detail::check_augmentation<DrlhHasher>(options, features.rows());
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
    config_.label_code = label_code_fill_name(embedding.fill());  // the file's codewords decide
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
    drlh::Training<DrlhHasher> t(*this, features, labels, options, validate_now);
    t.run();
    result_ = t.result;
    reward_.emplace(std::move(t.reward));
    initial_code_ = t.initial;
    net_.emplace(std::move(t.online));
    net_->set_training(false);
  }

  static std::string label_code_field() { return std::string(method_name) + ": label_code"; }
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
    parse_label_code_fill(c.label_code, label_code_field());
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
