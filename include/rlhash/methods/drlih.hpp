#pragma once
/// \file
/// DRLIH — Deep Reinforcement Learning for Image Hashing (Peng, Zhang & Huang, section III).
///
/// An image x goes through a representation network (trained jointly) to a feature i; the
/// policy network — an Elman RNN agent plus a sigmoid policy layer (eq. 5–7) — emits the q bits
/// one per step, in action groups of k bits (eq. 2): group j starts from the state (h, i) with
/// h the last hidden state of group j - 1 (zero for the first group), feeds i only at its first
/// step (c_1 = tanh(W_f i + W_h h + b), then c_t = tanh(W_x c_{t-1} + W_h c_{t-1} + b)), and
/// hands its last state to the next group. p_t = sigmoid(w_t^T c_t + v_t) is the probability of
/// bit t being 1; the code is b_t = [p_t > 0.5] (eq. 7). The policy layer has one row per step
/// by default (`per_step_heads`); eq. 6 read literally shares one (w, v) across all steps, which
/// collapses bits — kept as an option for the ablation (docs/methods/drlih.md).
///
/// Training (eq. 8–10), per mini-batch with triplets sampled by labels:
///   - the global reward R^G (eq. 4) on the relaxed code p, maximised by gradient descent on
///     the triplet loss J (eq. 3, 9 — with the corrected sub-gradients of nn/loss.hpp),
///     back-propagated through time across steps and groups (eq. 10) and into the
///     representation network;
///   - the group rewards R^g by Monte-Carlo policy gradient over actions sampled from the
///     Bernoulli policy (reward/triplet_reward.hpp). Default: the reward of the SAMPLED bits,
///     `policy_samples` codes per image, each with the leave-one-out baseline of the others;
///     `group_reward_on_probabilities = true` is the paper's literal reading
///     (rewards of the relaxed code: the REINFORCE term then has zero mean — see
///     docs/methods/drlih.md for the measurements).
///
/// Ablations: `drlih-ng` is the same agent with k = 1 (DrlihNg); `fc-triplet`
/// (methods/fc_triplet.hpp) replaces the agent by one fully connected sigmoid layer.
///
/// The representation is a template parameter: MlpRepresentation (raw features, an MLP
/// trained jointly; the default) or IdentityRepresentation (bring your own CNN features), or
/// any policy with the same members. Threads: the GEMMs use Eigen's thread pool
/// (Eigen::setNbThreads, set by the application); nothing else runs in parallel.
#include <algorithm>
#include <cstdint>
#include <limits>
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
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/cnn_representation.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/representation.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/methods/triplet_training.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/bernoulli.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/policy_head.hpp"
#include "rlhash/nn/replicas.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/nn/trainer.hpp"
#include "rlhash/reward/triplet_reward.hpp"
#include "rlhash/reward/triplet_sampling.hpp"

namespace rlhash {

// ---------------------------------------------------------------------------------------------
// The DRLIH network: representation -> feature-first RNN agent -> policy layer

/// Runs on the backend of the representation's network (nn/backend.hpp): host matrices for
/// CpuBackend, device matrices for cuda::CudaBackend; the same definition either way.
template <class Repr>
class DrlihNetwork {
 public:
  using Scalar = typename Repr::Scalar;
  using S = Scalar;
  using Backend = nn::backend_of_t<typename Repr::Net>;
  using B = Backend;
  using Matrix = typename B::template Matrix<S>;
  using ConstRef = typename B::template ConstRef<S>;

  /// `inputs`-dimensional items to `bits` probabilities, groups of `group_size` bits, an RNN of
  /// `hidden` units; every weight drawn from `rng`.
  DrlihNetwork(Index inputs, const typename Repr::Config& repr, Index hidden, Index bits, Index group_size,
               nn::HeadSharing sharing, Rng& rng)
      : inputs_(inputs),
        bits_(bits),
        group_(group_size),
        repr_(Repr::make(inputs, repr, rng)),
        rnn_(Repr::outputs(inputs, repr), hidden, rng),
        head_(hidden, bits, rng, sharing) {}

  Index inputs() const { return inputs_; }
  Index bits() const { return bits_; }
  Index group_size() const { return group_; }
  Index hidden() const { return rnn_.hidden(); }

  /// Training-mode forward: probabilities p (bits x N) of x (inputs x N); caches for backward.
  const Matrix& forward(const ConstRef& x) {
    const Matrix& feature = repr_.forward(x);
    B::resize(history_, rnn_.hidden(), x.cols());  // the first group starts from h = 0
    B::set_zero(history_);
    const Matrix& states = rnn_.forward(feature, history_, bits_, group_);
    return head_.forward(states);
  }
  const Matrix& logits() const { return head_.logits(); }

  /// Back-propagates dLoss/dlogits (bits x N) of the last forward through the policy layer,
  /// the RNN (through time, across groups) and the representation, adding parameter gradients.
  void backward_logits(const ConstRef& d_logits) {
    const Matrix& d_states = head_.backward_logits(d_logits);
    const Matrix& d_feature = rnn_.backward(d_states);
    repr_.backward(d_feature);
  }

  /// As backward_logits, but the gradient stops at the feature i: only the agent (policy layer
  /// and RNN) receives it. Call before or after backward_logits for the same forward.
  void backward_logits_agent_only(const ConstRef& d_logits) {
    rnn_.backward(head_.backward_logits(d_logits));
  }

  /// Evaluation-mode probabilities (bits x N), without touching the training caches: the
  /// recurrence of eq. (5) one step at a time, so only two states are held at once.
  Matrix infer(const ConstRef& x) const {
    const Matrix feature = repr_.infer(x);
    const Index n = x.cols();
    Matrix recurrent, projection, state, flat;
    Matrix previous = B::template zeros<S>(rnn_.hidden(), n);
    B::sum(recurrent, rnn_.input_weight(), rnn_.hidden_weight());
    B::product(projection, rnn_.feature_weight(), feature);
    B::add_bias(projection, rnn_.bias());
    B::resize(flat, 1, bits_ * n);
    const Matrix head_columns = head_.head_columns();
    for (Index s = 0; s < bits_; ++s) {
      if (s % group_ == 0) {
        B::copy(state, projection);
        B::add_product(state, rnn_.hidden_weight(), previous);
      } else {
        B::product(state, recurrent, previous);
        B::add_bias(state, rnn_.bias());
      }
      B::template activation_forward<nn::TanhFunction>(state, state);
      head_.logits_of_step(state, s, head_columns, flat);
      std::swap(previous, state);
    }
    return head_.probabilities_of(flat);
  }

  /// Parameters: "repr.*", "rnn.*" (feature_weight, input_weight, hidden_weight, bias),
  /// "head.*" (weight, bias).
  nn::ParameterList<S, B> parameters() {
    nn::ParameterList<S, B> list;
    nn::append_parameters(list, repr_.parameters(), "repr.");
    nn::append_parameters(list, rnn_.parameters(), "rnn.");
    nn::append_parameters(list, head_.parameters(), "head.");
    return list;
  }
  void zero_grad() {
    repr_.zero_grad();
    rnn_.zero_grad();
    head_.zero_grad();
  }
  void set_training(bool training) {
    repr_.set_training(training);
    rnn_.set_training(training);
    head_.set_training(training);
  }
  void save_state(ByteWriter& out) const { nn::save_module_state(out, repr_); }
  void load_state(ByteReader& in) { nn::load_module_state(in, repr_); }

  typename Repr::Net& representation() { return repr_; }
  const typename Repr::Net& representation() const { return repr_; }
  nn::FeatureFirstRnn<S, B>& rnn() { return rnn_; }
  nn::PolicyHead<S, B>& head() { return head_; }

 private:
  Index inputs_, bits_, group_;
  typename Repr::Net repr_;
  nn::FeatureFirstRnn<S, B> rnn_;
  nn::PolicyHead<S, B> head_;
  Matrix history_;
};

// ---------------------------------------------------------------------------------------------
// The hasher

/// DRLIH proper: action groups of 12 bits (the paper's k).
struct DrlihVariant {
  static constexpr const char* method_name = "drlih";
  static constexpr int group_size = 12;
};
/// The paper's Baseline_ng: the same agent without action groups (k = 1).
struct DrlihNgVariant {
  static constexpr const char* method_name = "drlih-ng";
  static constexpr int group_size = 1;
};

/// DRLIH on the convolutional representation over image pixels (CnnRepresentation).
struct DrlihCnnVariant {
  static constexpr const char* method_name = "drlih-cnn";
  static constexpr int group_size = 12;
  static constexpr double learning_rate = detail::cnn_triplet_learning_rate;
};

/// `Repr` carries the backend (MlpRepresentation<float, cuda::CudaBackend>: the network
/// trains and encodes on a GPU; the rewards, triplet sampling and the trainer's bookkeeping
/// stay on the host, and model files are the same bytes on either backend).
template <class Repr = MlpRepresentation<float>, class Variant = DrlihVariant>
class DrlihHasher {
 public:
  using Scalar = typename Repr::Scalar;
  using S = Scalar;
  using Network = DrlihNetwork<Repr>;
  using Backend = typename Network::Backend;
  static constexpr const char* method_name = Variant::method_name;
  /// Trains data-parallel over FitOptions::replicas: the triplets and the policy samples are
  /// drawn over the whole batch, so the fit equals the one-process fit (nn/replicas.hpp).
  static constexpr bool data_parallel = true;
  static constexpr bool augments_images = true;  ///< FitOptions::augmentation

  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    // Agent (eq. 2, 5–7)
    int group_size = Variant::group_size;  ///< k; the last group is shorter when k does not divide bits
    int rnn_hidden = 256;  ///< the paper's 4096 is far too slow on 2 cores (docs/methods/drlih.md)
    /// true: one policy layer per step (row t of W_p for bit t). false: one layer shared by all
    /// steps (eq. 6 read literally), kept for the ablation: inside a group the RNN gets no fresh
    /// input, its state falls onto an image-independent attractor and the shared layer turns it
    /// into constant bits (docs/methods/drlih.md).
    bool per_step_heads = true;
    typename Repr::Config repr;
    // Rewards (eq. 3, 4, 8)
    double margin = 1.0;                ///< m_t
    int triplets_per_anchor = 0;        ///< triplets drawn per anchor of a batch; 0: every valid one
    double balance_weight = 0.0;        ///< code regulariser added to J (CodeRegularization); 0: off
    double decorrelation_weight = 0.0;  ///< code regulariser added to J (CodeRegularization); 0: off
    double group_weight = 0.0;  ///< weight of the group-reward policy gradient; 0 (validated, see docs): off
    /// 0-based epoch from which the group-reward term joins (0: from the start). E.g. the decay
    /// epoch: reinforcement as a fine-tuning phase once the global reward has shaped the codes.
    int group_from_epoch = 0;
    bool group_reward_on_probabilities = false;  ///< the paper's literal reading (zero-mean REINFORCE term)
    bool group_grad_to_representation = false;   ///< false: the policy gradient trains the agent only
    std::string baseline = "batch_mean";  ///< none | batch_mean | greedy (see reward/triplet_reward.hpp)
    /// Codes sampled per image for the group-reward gradient: >= 2 uses the leave-one-out
    /// baseline over the samples (and ignores `baseline`); 1: one sample with `baseline`.
    int policy_samples = 4;
    // Optimisation (section IV-B defaults)
    std::string optimizer = "adam";  ///< adam | sgd
    /// 1e-3; drlih-cnn 3e-4 (DrlihCnnVariant)
    double learning_rate = detail::variant_learning_rate<Variant>::value;
    double lr_decay = 0.1;  ///< x lr_decay at every decay point
    /// Decay points every this many epochs (> 0), or, with 0, every lr_decay_steps steps (the
    /// paper's 10,000 steps of batch 16 on its data). Validated: one decay after 30 of the 60
    /// epochs ends the epoch-to-epoch swings of validation mAP, which still rose at epoch 20 of a
    /// 20-epoch schedule (docs/methods/drlih.md).
    double lr_decay_epochs = 30;
    long long lr_decay_steps = 10000;
    double weight_decay = 5e-4;
    double momentum = 0.9;  ///< sgd only
    int batch_size = 64;    ///< paper: 16 (docs/methods/drlih.md: 64 validated better and faster)
    int epochs = 60;
    int patience =
        0;  ///< epochs without validation improvement; 0: never stop early (the best epoch is kept)
    double max_grad_norm = 1.0;  ///< global clipping (validated: the RNN trains better); 0: off
    int encode_batch = detail::default_encode_batch<Repr>::value;  ///< items per forward pass when encoding

    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("group_size", group_size);
      field("rnn_hidden", rnn_hidden);
      field("per_step_heads", per_step_heads);
      repr.visit(field);
      field("margin", margin);
      field("triplets_per_anchor", triplets_per_anchor);
      field("balance_weight", balance_weight);
      field("decorrelation_weight", decorrelation_weight);
      field("group_weight", group_weight);
      field("group_from_epoch", group_from_epoch);
      field("group_reward_on_probabilities", group_reward_on_probabilities);
      field("group_grad_to_representation", group_grad_to_representation);
      field("baseline", baseline);
      field("policy_samples", policy_samples);
      field("optimizer", optimizer);
      field("learning_rate", learning_rate);
      field("lr_decay", lr_decay);
      field("lr_decay_epochs", lr_decay_epochs);
      field("lr_decay_steps", lr_decay_steps);
      field("weight_decay", weight_decay);
      field("momentum", momentum);
      field("batch_size", batch_size);
      field("epochs", epochs);
      field("patience", patience);
      field("max_grad_norm", max_grad_norm);
      field("encode_batch", encode_batch);
    }
  };

  DrlihHasher() : DrlihHasher(Config()) {}
  explicit DrlihHasher(Config config) : config_(std::move(config)) {
    detail::check_training_config(config_, method_name);
    detail::require(config_.group_size >= 1, std::string(method_name) + ": group_size must be >= 1, got " +
                                                 std::to_string(config_.group_size));
    detail::require(config_.rnn_hidden >= 1, std::string(method_name) + ": rnn_hidden must be >= 1, got " +
                                                 std::to_string(config_.rnn_hidden));
    detail::require(config_.group_weight >= 0, std::string(method_name) +
                                                   ": group_weight must be >= 0, got " +
                                                   std::to_string(config_.group_weight));
    detail::require(config_.group_from_epoch >= 0, std::string(method_name) +
                                                       ": group_from_epoch must be >= 0, got " +
                                                       std::to_string(config_.group_from_epoch));
    detail::require(config_.policy_samples >= 1, std::string(method_name) +
                                                     ": policy_samples must be >= 1, got " +
                                                     std::to_string(config_.policy_samples));
    parse_reward_baseline(config_.baseline);  // rejects unknown names now, not in fit
  }
  const Config& config() const { return config_; }

  /// Trains on `features` (D x N, one item per column) with their labels (single or multi).
  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    detail::check_training_data(features, labels, method_name);
    detail::check_augmentation<DrlihHasher, Repr>(options, features.rows(), config_.repr);
    Network net = make_network(features.rows());
    const auto groups = action_groups(config_.bits, config_.group_size);
    GroupRewardOptions reward;
    reward.margin = config_.margin;
    reward.baseline = parse_reward_baseline(config_.baseline);
    reward.on_probabilities = config_.group_reward_on_probabilities;
    reward.samples = config_.policy_samples;
    auto step = [&](const std::vector<Index>& batch, nn::StepContext& context) -> double {
      const nn::BatchSplit split(options.replicas, static_cast<Index>(batch.size()));
      const auto x = Backend::from_host(
          detail::gather_training_batch<S>(features, split.mine(batch), options, config_.seed, context.step));
      const auto triplets = sample_triplets(labels, batch, config_.triplets_per_anchor, *context.rng);
      const double group_weight = context.epoch >= config_.group_from_epoch ? config_.group_weight : 0.0;
      return training_step(net, x, triplets, groups, reward, group_weight, *context.rng,
                           config_.group_grad_to_representation, &split,
                           detail::code_regularization(config_));
    };
    nn::TrainResult result =
        detail::train_triplet_network(net, config_, method_name, features.cols(), options, step);
    trained_.assign(std::move(net), std::move(result));
  }

  /// Bits b_t = [p_t > 0.5] (eq. 7), deterministic, computed in chunks of encode_batch items.
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    return BinaryCodes::from_probabilities(probabilities(features));
  }

  /// The policy's probabilities p_t of bit t being 1 (bits x N): the relaxed codes.
  MatrixF probabilities(const Eigen::Ref<const MatrixF>& features) const {
    return trained_.probabilities(features, config_.encode_batch, method_name);
  }

  void save(ByteWriter& out) const { trained_.save(out, method_name); }
  void load(ByteReader& in) {
    trained_.load(
        in, [&](Index inputs) { return make_network(inputs); }, method_name);
  }

  /// What the last fit's trainer reported (epochs, steps, best validation mAP, ...).
  const nn::TrainResult& last_result() const { return trained_.result(); }
  bool fitted() const { return trained_.fitted(); }
  /// The trained network (after fit or load), e.g. for its representation.
  const Network& network() const { return trained_.network(method_name); }

  /// A network of this config for `inputs`-dimensional items, initialised from the seed.
  Network make_network(Index inputs) const {
    Rng rng(config_.seed);
    return Network(inputs, config_.repr, config_.rnn_hidden, config_.bits, config_.group_size,
                   config_.per_step_heads ? nn::HeadSharing::per_step : nn::HeadSharing::shared, rng);
  }

  /// One training step's gradients on a batch `x` with its triplets: the global triplet loss
  /// (plus the weighted code regularisers) back-propagated through the whole network, plus `group_weight`
  /// times the REINFORCE estimate of the group-reward gradient with actions drawn from `rng`. Gradients are
  /// ADDED; returns the loss J_global + group_weight * (-mean group reward). Unless
  /// `group_to_representation`, the policy-gradient term stops at the feature: it trains the
  /// agent (RNN + policy layer) only, while the global term trains the whole network.
  /// The network runs on its backend; the loss, the rewards and the sampled actions are
  /// computed on the host from the downloaded probabilities (bits x N). With `split`
  /// (data-parallel, nn/replicas.hpp), x is this replica's part of the batch: the loss, the
  /// rewards and the samples are those of the whole batch, the same on every replica.
  static double training_step(Network& net, const typename Network::ConstRef& x,
                              const std::vector<nn::Triplet>& triplets,
                              const std::vector<ActionGroup>& groups, const GroupRewardOptions& reward,
                              double group_weight, Rng& rng, bool group_to_representation = false,
                              const nn::BatchSplit* split = nullptr,
                              const CodeRegularization& regularization = {}) {
    const Matrix<S> p = detail::batch_outputs(net, x, split);
    if (triplets.empty()) return 0.0;
    Matrix<S> d_logits;
    double loss = detail::triplet_loss_of_logits(p, triplets, reward.margin, &d_logits, regularization);
    if (group_weight > 0) {
      const auto group = sampled_group_gradient(p, groups, triplets, reward, rng);
      loss -= group_weight * group.mean_reward;
      const Matrix<S> weighted = static_cast<S>(group_weight) * group.logit_grad;
      if (group_to_representation) {
        d_logits += weighted;
      } else if (split == nullptr) {
        net.backward_logits_agent_only(Backend::from_host(weighted));
      } else if (!split->empty()) {
        net.backward_logits_agent_only(Backend::from_host(split->mine(weighted)));
      }
    }
    detail::backward_batch_logits(net, std::move(d_logits), split);
    return loss;
  }

 private:
  /// The REINFORCE estimate of the group rewards from `reward.samples` codes drawn from `p`.
  static GroupPolicyGradient<S> sampled_group_gradient(const Matrix<S>& p,
                                                       const std::vector<ActionGroup>& groups,
                                                       const std::vector<nn::Triplet>& triplets,
                                                       const GroupRewardOptions& reward, Rng& rng) {
    if (reward.samples < 2 || reward.on_probabilities)
      return group_policy_gradient(p, nn::sample_bernoulli(p, rng), groups, triplets, reward);
    std::vector<Matrix<S>> samples;
    for (int k = 0; k < reward.samples; ++k) samples.push_back(nn::sample_bernoulli(p, rng));
    return group_policy_gradient_leave_one_out(p, samples, groups, triplets, reward);
  }

  Config config_;
  detail::TrainedNetwork<Network> trained_;
};

/// DRLIH with the default MLP representation over float features (CLI name "drlih").
using Drlih = DrlihHasher<MlpRepresentation<float>, DrlihVariant>;
/// The k = 1 ablation (CLI name "drlih-ng").
using DrlihNg = DrlihHasher<MlpRepresentation<float>, DrlihNgVariant>;
/// DRLIH on the convolutional representation over image pixels (CLI name "drlih-cnn").
using DrlihCnn = DrlihHasher<CnnRepresentation<float>, DrlihCnnVariant>;
/// DRLIH (or, with DrlihNgVariant, its ablation) trained and run on backend `B`, e.g.
/// `DrlihOn<cuda::CudaBackend>`: the same definition and defaults as Drlih.
template <class B, class Variant = DrlihVariant>
using DrlihOn = DrlihHasher<MlpRepresentation<float, B>, Variant>;

}  // namespace rlhash
