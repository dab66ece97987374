#pragma once
/// \file
/// What the deep supervised hashing baselines share (DSH, HashNet, CSQ, GreedyHash, DPSH):
/// representation -> linear hashing layer -> u (bits real outputs), code = sign(u), trained by a
/// loss on u with the toolkit's trainer (optimizer, step decay, validation / early stopping,
/// checkpoints), on any backend. The loss is a template policy; methods/dsh.hpp and its
/// siblings define the five and name the hashers.
///
/// A loss policy L provides
///   - `static constexpr const char* method_name` and `static constexpr double lr_decay_epochs`
///     (the default decay period, 0: none);
///   - `struct Config` (its hyper-parameters, listed by visit(), merged into the hasher's);
///   - `static void check(const Config&, int bits)` and `static void check_labels(const Config&,
///     int bits, const Labels&)`: InvalidArgument naming the field;
///   - `static constexpr bool classifier`: the network carries a classes x bits layer on the
///     codes (GreedyHash), trained with it and saved with it;
///   - `template <class S> class State`, built from (Config, bits, training labels, seed), with
///     `double step(Context<S>&)` that fills ctx.du (and ctx.dclassifier) and returns the loss,
///     and `save(ByteWriter&) const` / `load(ByteReader&)` for what a checkpoint must keep.
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
#include "rlhash/data/labels.hpp"
#include "rlhash/data/split.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/cnn_representation.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/shallow_mlp_representation.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/trainer.hpp"

namespace rlhash {

/// representation -> Dense(bits) = u, plus (with `classes` > 0) a bias-free classification
/// layer on the codes that only the training loss uses.
template <class Repr>
class DeepHashNetwork {
 public:
  using Scalar = typename Repr::Scalar;
  using S = Scalar;
  using Backend = nn::backend_of_t<typename Repr::Net>;
  using B = Backend;
  using Matrix = typename B::template Matrix<S>;
  using ConstRef = typename B::template ConstRef<S>;

  DeepHashNetwork(Index inputs, const typename Repr::Config& repr, Index bits, Index classes, Rng& rng)
      : inputs_(inputs),
        repr_(Repr::make(inputs, repr, rng)),
        layer_(fan_in_uniform_dense<S, B>(Repr::outputs(inputs, repr), bits, rng)) {
    if (classes <= 0) return;
    rlhash::Matrix<S> w(classes, bits);
    nn::initialize(w, nn::Init::uniform, rng, 1.0 / std::sqrt(static_cast<double>(bits)));
    classifier_ = B::from_host(std::move(w));
    classifier_grad_ = B::template zeros<S>(classes, bits);
  }

  Index inputs() const { return inputs_; }
  Index bits() const { return layer_.outputs(); }
  Index classes() const { return classifier_.rows(); }

  const Matrix& forward(const ConstRef& x) { return layer_.forward(repr_.forward(x)); }
  void backward(const ConstRef& du) { repr_.backward(layer_.backward(du)); }
  Matrix infer(const ConstRef& x) const { return layer_.infer(repr_.infer(x)); }

  /// The classification layer's weights on the host (classes x bits).
  rlhash::Matrix<S> classifier() const { return B::to_host(classifier_); }
  /// Adds a host gradient (classes x bits) to the classification layer's.
  void add_classifier_grad(rlhash::Matrix<S> grad) {
    B::add(classifier_grad_, B::from_host(std::move(grad)));
  }

  /// Parameters: "repr.*", "hash.weight", "hash.bias", and "classifier.weight" when present.
  nn::ParameterList<S, B> parameters() {
    nn::ParameterList<S, B> list;
    nn::append_parameters(list, repr_.parameters(), "repr.");
    nn::append_parameters(list, layer_.parameters(), "hash.");
    if (classes() > 0) list.push_back(nn::make_param<B>(classifier_, classifier_grad_, "classifier.weight"));
    return list;
  }
  void zero_grad() {
    repr_.zero_grad();
    layer_.zero_grad();
    if (classes() > 0) B::set_zero(classifier_grad_);
  }
  void set_training(bool training) {
    repr_.set_training(training);
    layer_.set_training(training);
  }
  void save_state(ByteWriter& out) const { nn::save_module_state(out, repr_); }
  void load_state(ByteReader& in) { nn::load_module_state(in, repr_); }

  const typename Repr::Net& representation() const { return repr_; }

 private:
  Index inputs_;
  typename Repr::Net repr_;
  nn::Dense<S, B> layer_;
  Matrix classifier_, classifier_grad_;
};

/// What a loss's State sees at each step (host matrices).
template <class S>
struct DeepHashStep {
  const Matrix<S>& u;               ///< bits x B outputs of the batch
  const std::vector<Index>& batch;  ///< the batch's training item indices
  int epoch = 0;                    ///< 0-based
  const Matrix<S>* classifier = nullptr;
  Matrix<S> du;           ///< filled by the loss
  Matrix<S> dclassifier;  ///< filled by a loss with a classifier
};

namespace detail {

/// 1 where row item `rows[i]` of `a` shares a label with column item `cols[j]` of `b`.
template <class S>
Matrix<S> relevance(const Labels& a, const std::vector<Index>& rows, const Labels& b,
                    const std::vector<Index>& cols) {
  Matrix<S> r(static_cast<Index>(rows.size()), static_cast<Index>(cols.size()));
  if (a.words_per_item() == 1 && b.words_per_item() == 1) {
    // Up to 64 classes: one AND per pair, the rows' label words gathered once. DSH and DPSH
    // take batch x N pairs at every step, where a call per pair was a tenth of DPSH's epoch.
    std::vector<std::uint64_t> row_words(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) row_words[i] = *a.row(rows[i]);
    for (std::size_t j = 0; j < cols.size(); ++j) {
      const std::uint64_t col_word = *b.row(cols[j]);
      for (std::size_t i = 0; i < rows.size(); ++i)
        r(static_cast<Index>(i), static_cast<Index>(j)) = (row_words[i] & col_word) != 0 ? S(1) : S(0);
    }
    return r;
  }
  for (std::size_t j = 0; j < cols.size(); ++j)
    for (std::size_t i = 0; i < rows.size(); ++i)
      r(static_cast<Index>(i), static_cast<Index>(j)) = a.relevant(rows[i], b, cols[j]) ? S(1) : S(0);
  return r;
}

/// A memory of every training item's latest output (bits x N), written at each step before
/// the loss reads it (DSH, DPSH), and which items it has seen; kept in checkpoints.
template <class S>
struct OutputMemory {
  Matrix<S> outputs;
  std::vector<bool> seen;

  OutputMemory(Index bits, Index items)
      : outputs(Matrix<S>::Zero(bits, items)), seen(static_cast<std::size_t>(items)) {}
  void store(const Matrix<S>& u, const std::vector<Index>& batch) {
    for (std::size_t i = 0; i < batch.size(); ++i) {
      outputs.col(batch[i]) = u.col(static_cast<Index>(i));
      seen[static_cast<std::size_t>(batch[i])] = true;
    }
  }
  void save(ByteWriter& out) const {
    out.put_matrix(outputs);
    std::vector<std::uint8_t> flags(seen.begin(), seen.end());
    out.put_vector(flags);
  }
  void load(ByteReader& in) {
    auto stored = in.get_matrix<S>();
    const auto flags = in.get_vector<std::uint8_t>();
    if (stored.rows() != outputs.rows() || stored.cols() != outputs.cols() || flags.size() != seen.size())
      in.fail("an output memory of " + std::to_string(outputs.rows()) + " x " +
              std::to_string(outputs.cols()));
    outputs = std::move(stored);
    seen.assign(flags.begin(), flags.end());
  }
};

}  // namespace detail

/// The hasher of a deep hashing loss `Loss` on representation `Repr` (default: the one-hidden-
/// layer MLP 784 -> 1024 the baselines are compared on; MlpRepresentation, CnnRepresentation,
/// IdentityRepresentation or any policy with the same members plugs in, on any backend).
/// `Name::method_name` names it (default: the loss's name; "dsh-cnn" for DSH on the CNN).
template <class Loss, class Repr = ShallowMlpRepresentation<float>, class Name = Loss>
class DeepHashingHasher {
 public:
  using Scalar = typename Repr::Scalar;
  using S = Scalar;
  using Network = DeepHashNetwork<Repr>;
  using Backend = typename Network::Backend;
  static constexpr const char* method_name = Name::method_name;
  /// Trains data-parallel over FitOptions::replicas: equal to the one-process fit (the loss,
  /// its memory of outputs and its classifier see the whole batch on every replica).
  static constexpr bool data_parallel = true;
  static constexpr bool augments_images = true;  ///< FitOptions::augmentation

  /// Defaults: the comparison protocol (Adam 1e-4, weight decay 1e-5, batch 64, 100 epochs)
  /// and the loss's published hyper-parameters.
  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    typename Repr::Config repr;
    typename Loss::Config loss;
    std::string optimizer = "adam";
    double learning_rate = 1e-4;
    double lr_decay = 0.1;                           ///< x lr_decay every lr_decay_epochs
    double lr_decay_epochs = Loss::lr_decay_epochs;  ///< 0: constant rate
    double weight_decay = 1e-5;
    double momentum = 0.9;
    int batch_size = 64;
    int epochs = 100;
    int patience = 0;          ///< epochs without validation improvement; 0: never stop early
    double max_grad_norm = 0;  ///< 0: no clipping (as the reference implementations)
    int encode_batch = detail::default_encode_batch<Repr>::value;

    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      repr.visit(field);
      loss.visit(field);
      field("optimizer", optimizer);
      field("learning_rate", learning_rate);
      field("lr_decay", lr_decay);
      field("lr_decay_epochs", lr_decay_epochs);
      field("weight_decay", weight_decay);
      field("momentum", momentum);
      field("batch_size", batch_size);
      field("epochs", epochs);
      field("patience", patience);
      field("max_grad_norm", max_grad_norm);
      field("encode_batch", encode_batch);
    }
  };

  DeepHashingHasher() : DeepHashingHasher(Config()) {}
  explicit DeepHashingHasher(Config config) : config_(std::move(config)) { check_config(config_); }
  const Config& config() const { return config_; }

  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    detail::check_labelled_training_data(features, labels, method_name);
    Loss::check_labels(config_.loss, config_.bits, labels);
    detail::check_augmentation<DeepHashingHasher, Repr>(options, features.rows(), config_.repr);
    Network net = make_network(features.rows(), Loss::classifier ? labels.num_classes() : 0);
    typename Loss::template State<S> state(config_.loss, config_.bits, labels, config_.seed);
    // Data-parallel (nn/replicas.hpp): the network runs on this replica's part of the batch; the
    // loss sees the whole batch's outputs, and the classifier's gradient (computed alike on every
    // replica) is added once.
    auto step = [&](const std::vector<Index>& batch, nn::StepContext& context) -> double {
      const nn::BatchSplit split(options.replicas, static_cast<Index>(batch.size()));
      Matrix<S> mine(net.bits(), 0);
      if (!split.empty())
        mine = Backend::to_host(net.forward(Backend::from_host(detail::gather_training_batch<S>(
            features, split.mine(batch), options, config_.seed, context.step))));
      const Matrix<S> u = split.gather(mine, net.bits());
      std::optional<Matrix<S>> classifier;
      if (net.classes() > 0) classifier.emplace(net.classifier());
      DeepHashStep<S> ctx{u, batch, context.epoch, classifier ? &*classifier : nullptr, {}, {}};
      const double loss = state.step(ctx);
      if (net.classes() > 0 && split.leader()) net.add_classifier_grad(std::move(ctx.dclassifier));
      if (!split.empty()) net.backward(Backend::from_host(split.mine(ctx.du)));
      return loss;
    };
    nn::TrainResult result = train(net, state, features.cols(), options, step);
    net_.emplace(std::move(net));
    result_ = std::move(result);
  }

  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    return BinaryCodes::from_signs(outputs(features));
  }
  /// The real-valued outputs u (bits x N); the code is their sign.
  MatrixF outputs(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(net_.has_value(), method_name);
    detail::require_dims(features.rows(), net_->inputs(), method_name);
    return detail::infer_in_chunks(*net_, features, config_.encode_batch);
  }

  /// Input dimension, classes of the classification layer (0: none), the parameters.
  void save(ByteWriter& out) const {
    detail::require_fitted(net_.has_value(), method_name);
    out.put<std::int64_t>(net_->inputs());
    out.put<std::int32_t>(static_cast<std::int32_t>(net_->classes()));
    nn::write_parameters(out, const_cast<Network&>(*net_).parameters());  // read only
  }
  void load(ByteReader& in) {
    const auto inputs = in.get<std::int64_t>();
    const auto classes = in.get<std::int32_t>();
    if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
      in.fail(std::string("the input dimension of a ") + method_name + " model, found " +
              std::to_string(inputs));
    if (classes < 0 || (classes > 0) != Loss::classifier || classes > (1 << 20))
      in.fail(std::string("the classes of a ") + method_name + " model, found " + std::to_string(classes));
    Network net = make_network(static_cast<Index>(inputs), classes);
    nn::read_parameters(in, net.parameters());
    net_.emplace(std::move(net));
  }

  const nn::TrainResult& last_result() const { return result_; }
  bool fitted() const { return net_.has_value(); }
  const Network& network() const {
    detail::require_fitted(net_.has_value(), method_name);
    return *net_;
  }
  Network make_network(Index inputs, Index classes) const {
    Rng rng(config_.seed);
    return Network(inputs, config_.repr, config_.bits, classes, rng);
  }

 private:
  static void check_config(const Config& c) {
    detail::require_bits(c.bits, method_name);
    const std::string m = method_name;
    detail::require(c.optimizer == "adam" || c.optimizer == "sgd",
                    m + ": optimizer must be 'adam' or 'sgd', got '" + c.optimizer + "'");
    detail::require(c.learning_rate > 0,
                    m + ": learning_rate must be > 0, got " + std::to_string(c.learning_rate));
    detail::require(c.lr_decay > 0 && c.lr_decay <= 1,
                    m + ": lr_decay must be in (0, 1], got " + std::to_string(c.lr_decay));
    detail::require(c.lr_decay_epochs >= 0, m + ": lr_decay_epochs must be >= 0 (0: constant rate), got " +
                                                std::to_string(c.lr_decay_epochs));
    detail::require(c.weight_decay >= 0,
                    m + ": weight_decay must be >= 0, got " + std::to_string(c.weight_decay));
    detail::require(c.momentum >= 0 && c.momentum < 1,
                    m + ": momentum must be in [0, 1), got " + std::to_string(c.momentum));
    detail::require(c.batch_size >= 2, m + ": batch_size must be >= 2, got " + std::to_string(c.batch_size));
    detail::require(c.epochs >= 0, m + ": epochs must be >= 0, got " + std::to_string(c.epochs));
    detail::require(c.patience >= 0, m + ": patience must be >= 0, got " + std::to_string(c.patience));
    detail::require(c.max_grad_norm >= 0,
                    m + ": max_grad_norm must be >= 0, got " + std::to_string(c.max_grad_norm));
    detail::require(c.encode_batch > 0,
                    m + ": encode_batch must be > 0, got " + std::to_string(c.encode_batch));
    Loss::check(c.loss, c.bits);
  }

  template <class State, class Step>
  nn::TrainResult train(Network& net, State& state, Index items, const FitOptions& options,
                        Step&& step) const {
    const Config& c = config_;
    const bool validate = detail::validation_requested(options, net.inputs(), method_name);
    nn::TrainerConfig tc = detail::trainer_config(c.epochs, c.batch_size, c.seed ^ 0x5DEECE66DULL,
                                                  c.max_grad_norm, c.patience, validate, options);
    tc.replicas = options.replicas;
    const nn::StepDecaySchedule schedule{c.learning_rate, c.lr_decay_epochs > 0 ? c.lr_decay : 1.0,
                                         c.lr_decay_epochs > 0
                                             ? detail::decay_steps(c.lr_decay_epochs, 0, items, c.batch_size)
                                             : std::numeric_limits<long long>::max()};
    auto run = [&](auto& optimizer) {
      nn::Trainer<Network, std::decay_t<decltype(optimizer)>, nn::StepDecaySchedule> trainer(net, optimizer,
                                                                                             schedule, tc);
      if (validate)
        trainer.hooks.validate = [&](int) {
          const auto codes = BinaryCodes::from_signs(
              detail::infer_in_chunks(net, *options.validation_features, c.encode_batch));
          return leave_one_out_map(codes, *options.validation_labels);
        };
      trainer.hooks.progress = options.progress;
      trainer.hooks.save_extra = [&](ByteWriter& out) {
        detail::write_checkpoint_owner(out, method_name, c.bits);
        state.save(out);
      };
      trainer.hooks.load_extra = [&](ByteReader& in) {
        detail::read_checkpoint_owner(in, method_name, c.bits);
        state.load(in);
      };
      return trainer.run(items, step);
    };
    if (c.optimizer == "adam") {
      nn::Adam<S, Backend> optimizer(
          nn::AdamConfig{c.learning_rate, 0.9, 0.999, 1e-8, c.weight_decay, false});
      return run(optimizer);
    }
    nn::Sgd<S, Backend> optimizer(nn::SgdConfig{c.learning_rate, c.momentum, c.weight_decay, false});
    return run(optimizer);
  }

  Config config_;
  std::optional<Network> net_;
  nn::TrainResult result_;
};

}  // namespace rlhash
