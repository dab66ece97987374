#pragma once
/// \file
/// The training toolkit of the triplet-trained hashers, DRLIH, its ablation Baseline_ng and
/// FC-triplet (Baseline_noseq): the global triplet objective on relaxed codes (DRLIH eq. 3, 4, 9)
/// with the optional code regularisers, the checks of their shared Config fields, the trainer
/// run with its step-decay schedule and validation mAP, and the fitted network's
/// encode / save / load half.
#include <cmath>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/replicas.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/trainer.hpp"

namespace rlhash {

/// Weights of the code regularisers added to the triplet loss of DRLIH and FC-triplet over each
/// batch's relaxed codes — additions to the paper (docs/methods/drlih.md has the measurements):
/// `balance` (nn::bit_balance_loss_of_probabilities) and `decorrelation`
/// (nn::bit_decorrelation_loss_of_probabilities). 0: off.
struct CodeRegularization {
  double balance = 0.0;
  double decorrelation = 0.0;
};

namespace detail {
/// The triplet loss J (eq. 3, 9) of relaxed codes p = sigmoid(z) (bits x N, host), plus the
/// weighted code regularisers, and, with `d_logits`, its gradient dJ/dz.
template <class S>
double triplet_loss_of_logits(const Matrix<S>& p, const std::vector<nn::Triplet>& triplets, double margin,
                              Matrix<S>* d_logits, const CodeRegularization& regularization = {}) {
  Matrix<S> d_p;
  double loss =
      static_cast<double>(nn::triplet_margin_loss(p, triplets, margin, d_logits != nullptr ? &d_p : nullptr));
  if (d_logits != nullptr) *d_logits = (d_p.array() * p.array() * (S(1) - p.array())).matrix();
  auto add = [&](double weight, auto&& regularizer) {
    if (weight <= 0) return;
    Matrix<S> grad;
    loss += weight * static_cast<double>(regularizer(p, d_logits != nullptr ? &grad : nullptr));
    if (d_logits != nullptr) *d_logits += static_cast<S>(weight) * grad;
  };
  add(regularization.balance,
      [](const Matrix<S>& x, Matrix<S>* g) { return nn::bit_balance_loss_of_probabilities(x, g); });
  add(regularization.decorrelation,
      [](const Matrix<S>& x, Matrix<S>* g) { return nn::bit_decorrelation_loss_of_probabilities(x, g); });
  return loss;
}
}  // namespace detail

namespace detail {
/// The host outputs (bits x batch) of the whole batch: `net.forward(x)` when `split` is null;
/// else x holds this replica's columns of the batch (none: no forward pass) and the replicas'
/// outputs are gathered (nn/replicas.hpp).
template <class Net>
Matrix<typename Net::Scalar> batch_outputs(
    Net& net, const typename nn::backend_of_t<Net>::template ConstRef<typename Net::Scalar>& x,
    const nn::BatchSplit* split) {
  using B = nn::backend_of_t<Net>;
  if (split == nullptr) return B::to_host(net.forward(x));
  Matrix<typename Net::Scalar> mine(net.bits(), 0);
  if (!split->empty()) mine = B::to_host(net.forward(x));
  return split->gather(mine, net.bits());
}
/// `net.backward_logits` of this replica's columns of the whole batch's `d_logits`.
template <class Net>
void backward_batch_logits(Net& net, Matrix<typename Net::Scalar> d_logits, const nn::BatchSplit* split) {
  using B = nn::backend_of_t<Net>;
  if (split == nullptr) return net.backward_logits(B::from_host(std::move(d_logits)));
  if (!split->empty()) net.backward_logits(B::from_host(split->mine(d_logits)));
}
}  // namespace detail

/// The global term (eq. 3, 4, 9): J = mean over triplets of the triplet loss of the relaxed
/// codes `net.forward(x)`. With `backward`, dJ/dparameters is ADDED to the network's gradients
/// (through the sigmoid, the agent and the representation); `regularization` adds the code
/// regularisers to J. `Net` is DrlihNetwork or any
/// network with forward / backward_logits, on any backend: the loss is computed on the host
/// (bits x N values down, their gradient up). Returns J (0 and no gradient without triplets).
/// With `split` (data-parallel), x is this replica's part of the batch and the triplets index
/// the whole batch (batch_outputs).
template <class Net>
double global_triplet_objective(
    Net& net, const typename nn::backend_of_t<Net>::template ConstRef<typename Net::Scalar>& x,
    const std::vector<nn::Triplet>& triplets, double margin, bool backward = true,
    const nn::BatchSplit* split = nullptr, const CodeRegularization& regularization = {}) {
  using S = typename Net::Scalar;
  const Matrix<S> p = detail::batch_outputs(net, x, split);
  if (triplets.empty()) return 0.0;
  Matrix<S> d_logits;
  const double loss =
      detail::triplet_loss_of_logits(p, triplets, margin, backward ? &d_logits : nullptr, regularization);
  if (backward) detail::backward_batch_logits(net, std::move(d_logits), split);
  return loss;
}

namespace detail {

/// The default learning rate of the triplet-trained methods on the CNN (drlih-cnn and its
/// ablation fc-triplet-cnn). Measured on drlih-cnn at 32 bits, seeds 0-2 (docs/methods/cnn.md):
/// 0.7936 mAP against 0.7813 at the MLP's 1e-3 and 0.7847 at 1e-4.
inline constexpr double cnn_triplet_learning_rate = 3e-4;

/// A variant's default learning rate: `Variant::learning_rate` where it sets one, else 1e-3
/// (DrlihHasher's and FcTripletHasher's variants).
template <class Variant, class = void>
struct variant_learning_rate {
  static constexpr double value = 1e-3;
};
template <class Variant>
struct variant_learning_rate<Variant, std::void_t<decltype(Variant::learning_rate)>> {
  static constexpr double value = Variant::learning_rate;
};

/// The code regularisers' weights of a triplet-trained hasher's Config.
template <class Config>
CodeRegularization code_regularization(const Config& c) {
  return {c.balance_weight, c.decorrelation_weight};
}

/// Fields every triplet-trained hasher's Config has (DrlihHasher, FcTriplet): read by name.
template <class Config>
void check_training_config(const Config& c, const char* method) {
  require_bits(c.bits, method);
  const std::string m = method;
  require(c.margin > 0, m + ": margin must be > 0, got " + std::to_string(c.margin));
  require(c.triplets_per_anchor >= 0,
          m + ": triplets_per_anchor must be >= 0 (0: all), got " + std::to_string(c.triplets_per_anchor));
  require(c.optimizer == "adam" || c.optimizer == "sgd",
          m + ": optimizer must be 'adam' or 'sgd', got '" + c.optimizer + "'");
  require(c.learning_rate > 0 && c.lr_decay > 0 && c.lr_decay_epochs >= 0 && c.lr_decay_steps > 0 &&
              c.weight_decay >= 0,
          m + ": expected learning_rate > 0, lr_decay > 0, lr_decay_epochs >= 0, lr_decay_steps > 0, "
              "weight_decay >= 0");
  require(c.balance_weight >= 0 && c.decorrelation_weight >= 0,
          m + ": balance_weight and decorrelation_weight must be >= 0, got " +
              std::to_string(c.balance_weight) + " and " + std::to_string(c.decorrelation_weight));
  require(c.momentum >= 0 && c.momentum < 1,
          m + ": momentum must be in [0, 1), got " + std::to_string(c.momentum));
  require(c.batch_size >= 3,
          m + ": batch_size must be >= 3 (a triplet needs three items), got " + std::to_string(c.batch_size));
  require(c.epochs >= 0 && c.patience >= 0 && c.max_grad_norm >= 0,
          m + ": epochs, patience and max_grad_norm must be >= 0");
  require(c.encode_batch > 0, m + ": encode_batch must be > 0, got " + std::to_string(c.encode_batch));
}

/// Validation mAP (stable ties) of the validation items against each other, each query left
/// out of its own ranking — codes of unseen items on both sides, as in the retrieval protocol
/// where almost the whole database is unseen.
template <class Net>
double validation_map(const Net& net, const MatrixF& features, const Labels& labels, Index chunk) {
  return leave_one_out_map(BinaryCodes::from_probabilities(infer_in_chunks(net, features, chunk)), labels);
}

/// Runs the toolkit's trainer over the training items with the Config's optimizer, step-decay
/// schedule, early stopping on validation mAP (when FitOptions has a validation set) and
/// FitOptions' checkpoints/resume/progress. `step(batch_items, context)` computes the gradients.
template <class Net, class Config, class Step>
nn::TrainResult train_triplet_network(Net& net, const Config& c, const char* method, Index items,
                                      const FitOptions& options, Step&& step) {
  using S = typename Net::Scalar;
  using B = nn::backend_of_t<Net>;
  const bool validate = validation_requested(options, net.inputs(), method);
  nn::TrainerConfig tc = trainer_config(c.epochs, c.batch_size, c.seed ^ 0x5DEECE66DULL, c.max_grad_norm,
                                        c.patience, validate, options);
  tc.replicas = options.replicas;  // the step functions split each batch (batch_outputs)
  const nn::StepDecaySchedule schedule{c.learning_rate, c.lr_decay,
                                       decay_steps(c.lr_decay_epochs, c.lr_decay_steps, items, c.batch_size)};
  auto run = [&](auto& optimizer) {
    nn::Trainer<Net, std::decay_t<decltype(optimizer)>, nn::StepDecaySchedule> trainer(net, optimizer,
                                                                                       schedule, tc);
    if (validate)
      trainer.hooks.validate = [&](int) {
        return validation_map(net, *options.validation_features, *options.validation_labels, c.encode_batch);
      };
    trainer.hooks.progress = options.progress;
    trainer.hooks.save_extra = [&](ByteWriter& out) { write_checkpoint_owner(out, method, c.bits); };
    trainer.hooks.load_extra = [&](ByteReader& in) { read_checkpoint_owner(in, method, c.bits); };
    return trainer.run(items, step);
  };
  if (c.optimizer == "adam") {
    nn::Adam<S, B> optimizer(nn::AdamConfig{c.learning_rate, 0.9, 0.999, 1e-8, c.weight_decay, false});
    return run(optimizer);
  }
  nn::Sgd<S, B> optimizer(nn::SgdConfig{c.learning_rate, c.momentum, c.weight_decay, false});
  return run(optimizer);
}

inline void check_training_data(const Eigen::Ref<const MatrixF>& features, const Labels& labels,
                                const char* method) {
  require(features.cols() >= 3 && features.rows() > 0,
          std::string(method) + ": needs at least 3 training items with > 0 dimensions, got " +
              std::to_string(features.cols()) + " x " + std::to_string(features.rows()));
  require(labels.size() == features.cols(), std::string(method) + ": " + std::to_string(labels.size()) +
                                                " labels for " + std::to_string(features.cols()) +
                                                " training items");
  require(features.allFinite(), std::string(method) + ": training features contain NaN or infinity");
}

/// Reads the saved input dimension and parameters into a freshly built network; all or nothing.
template <class Net, class Make>
Net load_network(ByteReader& in, Make&& make, const char* method) {
  const auto inputs = in.get<std::int64_t>();
  if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
    in.fail(std::string("the input dimension of a ") + method + " model, found " + std::to_string(inputs));
  Net net = make(static_cast<Index>(inputs));
  nn::read_parameters(in, net.parameters());
  return net;
}

/// A fitted network and what its training reported: the encode / save / load half of a
/// network hasher, shared by DRLIH and FC-triplet. Empty until `assign` or `load`.
template <class Net>
class TrainedNetwork {
 public:
  void assign(Net net, nn::TrainResult result) {
    net_.emplace(std::move(net));
    result_ = std::move(result);
  }

  /// The network's probabilities for every column of `features`, in chunks of `chunk` items.
  MatrixF probabilities(const Eigen::Ref<const MatrixF>& features, Index chunk, const char* method) const {
    require_fitted(net_.has_value(), method);
    require_dims(features.rows(), net_->inputs(), method);
    return infer_in_chunks(*net_, features, chunk);
  }

  /// Input dimension, then the parameters.
  void save(ByteWriter& out, const char* method) const {
    require_fitted(net_.has_value(), method);
    out.put<std::int64_t>(net_->inputs());
    nn::write_parameters(out, const_cast<Net&>(*net_).parameters());  // read only
  }
  /// `make(inputs)` builds the network the saved parameters are read into.
  template <class Make>
  void load(ByteReader& in, Make&& make, const char* method) {
    net_.emplace(load_network<Net>(in, std::forward<Make>(make), method));
  }

  bool fitted() const { return net_.has_value(); }
  const nn::TrainResult& result() const { return result_; }
  const Net& network(const char* method) const {
    require_fitted(net_.has_value(), method);
    return *net_;
  }

 private:
  std::optional<Net> net_;
  nn::TrainResult result_;
};

}  // namespace detail

}  // namespace rlhash
