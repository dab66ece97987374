#pragma once
/// \file
/// The baseline DRLH's reward implies: classify each item, then give it its predicted class's
/// codeword in DRLH's BCH label embedding (bch/label_embedding.hpp; the same classes, bits and
/// seed give the very codewords DRLH's agent walks to). DRLH's best outcome for an item is to
/// end on the codeword of the class it recognises, so a classifier on the same features is the
/// bar its Q-learning should clear (docs/methods/drlh.md).
///
/// The classifier: a softmax MLP, inputs -> hidden (ReLU, dropout) -> C classes, trained by
/// Adam on the cross-entropy, the epoch with the best validation accuracy kept. Features: as
/// given, or a frozen triplet representation (config `representation`, as DRLH's). Single-label
/// data only: a multi-label item has no one class to predict. `B`: the backend the classifier
/// (and its frozen representation) trains and runs on; the loss and the argmax stay on the host.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/methods/frozen_representation.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/schedule.hpp"
#include "rlhash/nn/sequential.hpp"
#include "rlhash/nn/trainer.hpp"

namespace rlhash {

template <class S = float, class B = nn::CpuBackend>
class BchClassifierHasher {
 public:
  using Scalar = S;
  using Backend = B;
  using Net = nn::Sequential<nn::Dense<S, B>, nn::ReLU<S, B>, nn::Dropout<S, B>, nn::Dense<S, B>>;
  static constexpr const char* method_name = "bch-classifier";

  struct Config {
    int bits = 32;
    std::uint64_t seed = 0;
    std::string representation = "input";  ///< the features: as given, or frozen "fc-triplet" / "drlih"
    MlpRepresentationConfig repr;          ///< that representation's widths
    /// How the classes fill the BCH code: "paper" or "spread" (bch/label_embedding.hpp); the
    /// same value as DRLH's gives the same codewords.
    std::string label_code = "spread";
    int hidden = 512;
    double dropout = 0.2;
    double learning_rate = 1e-3;
    double weight_decay = 0.0;
    int batch_size = 64;
    int epochs = 60;
    int patience = 0;  ///< epochs without validation improvement; 0: never stop early
    double max_grad_norm = 0.0;
    int encode_batch = 2048;

    template <class V>
    void visit(V&& field) {
      field("bits", bits);
      field("seed", seed);
      field("representation", representation);
      repr.visit(field);
      field("label_code", label_code);
      field("hidden", hidden);
      field("dropout", dropout);
      field("learning_rate", learning_rate);
      field("weight_decay", weight_decay);
      field("batch_size", batch_size);
      field("epochs", epochs);
      field("patience", patience);
      field("max_grad_norm", max_grad_norm);
      field("encode_batch", encode_batch);
    }
  };

  BchClassifierHasher() : BchClassifierHasher(Config()) {}
  explicit BchClassifierHasher(Config config) : config_(std::move(config)) { validate(config_); }
  const Config& config() const { return config_; }
  /// config().label_code as a fill (validated when the hasher was made).
  LabelCodeFill label_code_fill() const {
    return parse_label_code_fill(config_.label_code, label_code_field());
  }

  void fit(const Eigen::Ref<const MatrixF>& features, const Labels& labels, const FitOptions& options = {}) {
    detail::check_labelled_training_data(features, labels, method_name);
    detail::check_augmentation<BchClassifierHasher>(options, features.rows());
    detail::require(labels.is_single_label(),
                    std::string(method_name) + ": needs single-label data (one class per item)");
    const bool validating = detail::validation_requested(options, features.rows(), method_name);
    detail::require(!validating || options.validation_labels->is_single_label(),
                    std::string(method_name) + ": needs single-label validation data (one class per item)");
    FrozenRepresentation<S, B> representation = FrozenRepresentation<S, B>::train(
        parse_feature_source(config_.representation, method_name), config_.repr, config_.bits, config_.seed,
        features, labels, options);
    const MatrixF f = representation.apply(features, config_.encode_batch, method_name);
    const std::vector<Index> classes = class_ids(labels);
    MatrixF validation_f;
    std::vector<Index> validation_classes;
    if (validating) {
      validation_f = representation.apply(*options.validation_features, config_.encode_batch, method_name);
      validation_classes = class_ids(*options.validation_labels);
    }

    Net net = make_network(f.rows(), labels.num_classes());
    nn::Adam<S, B> optimizer(
        nn::AdamConfig{config_.learning_rate, 0.9, 0.999, 1e-8, config_.weight_decay, false});
    nn::Trainer<Net, nn::Adam<S, B>, nn::ConstantSchedule> trainer(
        net, optimizer, nn::ConstantSchedule{config_.learning_rate},
        detail::trainer_config(config_.epochs, config_.batch_size, config_.seed ^ 0xA24BAED4963EE407ULL,
                               config_.max_grad_norm, config_.patience, validating, options));
    if (validating)
      trainer.hooks.validate = [&](int) {
        return accuracy(net, validation_f, validation_classes, config_.encode_batch);
      };
    trainer.hooks.progress = options.progress;
    trainer.hooks.save_extra = [&](ByteWriter& out) {
      detail::write_checkpoint_owner(out, method_name, config_.bits);
    };
    trainer.hooks.load_extra = [&](ByteReader& in) {
      detail::read_checkpoint_owner(in, method_name, config_.bits);
    };
    Matrix<S> d_logits;
    std::vector<Index> batch_classes;
    result_ = trainer.run(f.cols(), [&](const std::vector<Index>& batch, nn::StepContext&) -> double {
      batch_classes.clear();
      for (Index item : batch) batch_classes.push_back(classes[static_cast<std::size_t>(item)]);
      // The network on the backend; the loss and its gradient (classes x batch) on the host.
      const auto& logits = B::to_host(net.forward(nn::on_backend<B>(detail::gather_columns<S>(f, batch))));
      const double loss = nn::softmax_cross_entropy(logits, batch_classes, &d_logits);
      net.backward(nn::on_backend<B>(d_logits));
      return loss;
    });
    net.set_training(false);
    embedding_.emplace(labels.num_classes(), config_.bits, config_.seed, label_code_fill());
    net_.emplace(std::move(net));
    representation_ = std::move(representation);
  }

  /// The predicted class of every column of `features`.
  std::vector<int> classify(const Eigen::Ref<const MatrixF>& features) const {
    detail::require_fitted(net_.has_value(), method_name);
    detail::require_dims(features.rows(), input_dim(), method_name);
    const MatrixF f = representation_.apply(features, config_.encode_batch, method_name);
    return argmax_classes(detail::infer_in_chunks(*net_, f, config_.encode_batch, embedding_->num_classes()));
  }

  /// Each item's predicted class's codeword.
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& features) const {
    const std::vector<int> classes = classify(features);
    const BinaryCodes& codewords = embedding_->codewords();
    BinaryCodes codes(features.cols(), config_.bits);
    for (Index j = 0; j < features.cols(); ++j)
      std::copy(codewords.row(classes[static_cast<std::size_t>(j)]),
                codewords.row(classes[static_cast<std::size_t>(j)]) + codewords.words(), codes.row(j));
    return codes;
  }

  /// The label embedding, the classifier's input dimension and parameters, the representation.
  void save(ByteWriter& out) const {
    detail::require_fitted(net_.has_value(), method_name);
    embedding_->save(out);
    out.put<std::int64_t>(net_->template layer<0>().inputs());
    nn::write_parameters(out, const_cast<Net&>(*net_).parameters());  // read only
    representation_.save(out);
  }
  void load(ByteReader& in) {
    LabelEmbedding embedding = LabelEmbedding::load(in);
    if (embedding.bits() != config_.bits)
      in.fail("a label embedding of " + std::to_string(config_.bits) + " bits, found " +
              std::to_string(embedding.bits()));
    config_.label_code = label_code_fill_name(embedding.fill());  // the file's codewords decide
    const auto inputs = in.get<std::int64_t>();
    if (inputs <= 0 || inputs > (std::int64_t{1} << 31))
      in.fail(std::string("the input dimension of a ") + method_name + " model, found " +
              std::to_string(inputs));
    Net net = make_network(static_cast<Index>(inputs), embedding.num_classes());
    nn::read_parameters(in, net.parameters());
    net.set_training(false);
    FrozenRepresentation<S, B> representation =
        FrozenRepresentation<S, B>::load(in, parse_feature_source(config_.representation, method_name),
                                         config_.repr, static_cast<Index>(inputs));
    embedding_.emplace(std::move(embedding));
    net_.emplace(std::move(net));
    representation_ = std::move(representation);
  }

  bool fitted() const { return net_.has_value(); }
  /// What the last fit's trainer reported (best validation accuracy and its epoch).
  const nn::TrainResult& last_result() const { return result_; }
  /// The codewords (after fit or load).
  const LabelEmbedding& embedding() const {
    detail::require_fitted(embedding_.has_value(), method_name);
    return *embedding_;
  }
  /// The dimension of the features encode() takes (after fit or load).
  Index input_dim() const {
    detail::require_fitted(net_.has_value(), method_name);
    return representation_.empty() ? net_->template layer<0>().inputs() : representation_.inputs();
  }
  /// The frozen representation in front of the classifier (empty: the features as given).
  const FrozenRepresentation<S, B>& representation() const { return representation_; }

  /// A classifier of this config for `inputs`-dimensional items and `classes` classes.
  Net make_network(Index inputs, int classes) const {
    Rng rng(config_.seed);
    nn::Dense<S, B> hidden(inputs, config_.hidden, rng, nn::Init::he_uniform);
    nn::Dense<S, B> out(config_.hidden, classes, rng, nn::Init::xavier_uniform);
    const std::uint64_t dropout_seed = rng();
    return Net(std::move(hidden), nn::ReLU<S, B>(), nn::Dropout<S, B>(config_.dropout, dropout_seed),
               std::move(out));
  }

 private:
  static std::string label_code_field() { return std::string(method_name) + ": label_code"; }
  static void validate(const Config& c) {
    const std::string m = method_name;
    detail::require_bits(c.bits, method_name);
    parse_feature_source(c.representation, method_name);
    parse_label_code_fill(c.label_code, label_code_field());
    detail::require(c.hidden > 0, m + ": hidden must be > 0, got " + std::to_string(c.hidden));
    detail::require(c.dropout >= 0 && c.dropout < 1,
                    m + ": dropout must be in [0, 1), got " + std::to_string(c.dropout));
    detail::require(c.learning_rate > 0 && c.weight_decay >= 0 && c.max_grad_norm >= 0,
                    m + ": learning_rate must be > 0, weight_decay and max_grad_norm >= 0");
    detail::require(c.batch_size >= 1 && c.epochs >= 0 && c.patience >= 0 && c.encode_batch >= 1,
                    m + ": batch_size and encode_batch must be >= 1, epochs and patience >= 0");
  }

  /// The row of the largest logit of every column.
  template <class D>
  static std::vector<int> argmax_classes(const Eigen::MatrixBase<D>& logits) {
    std::vector<int> classes(static_cast<std::size_t>(logits.cols()));
    for (Index j = 0; j < logits.cols(); ++j) {
      Index c = 0;
      logits.col(j).maxCoeff(&c);
      classes[static_cast<std::size_t>(j)] = static_cast<int>(c);
    }
    return classes;
  }

  static std::vector<Index> class_ids(const Labels& labels) {
    std::vector<Index> ids(static_cast<std::size_t>(labels.size()));
    for (Index i = 0; i < labels.size(); ++i) ids[static_cast<std::size_t>(i)] = labels.first_label(i);
    return ids;
  }

  static double accuracy(const Net& net, const MatrixF& features, const std::vector<Index>& classes,
                         Index chunk) {
    const std::vector<int> predicted =
        argmax_classes(detail::infer_in_chunks(net, features, chunk, net.template layer<3>().outputs()));
    Index correct = 0;
    for (std::size_t j = 0; j < predicted.size(); ++j) correct += predicted[j] == classes[j];
    return static_cast<double>(correct) / static_cast<double>(std::max<std::size_t>(predicted.size(), 1));
  }

  Config config_;
  std::optional<Net> net_;
  std::optional<LabelEmbedding> embedding_;
  FrozenRepresentation<S, B> representation_;
  nn::TrainResult result_;
};

/// The classifier baseline over float features (CLI name "bch-classifier").
using BchClassifier = BchClassifierHasher<float>;
/// The same baseline trained and run on backend `B`, e.g. `BchClassifierOn<cuda::CudaBackend>`.
template <class B>
using BchClassifierOn = BchClassifierHasher<float, B>;

}  // namespace rlhash
