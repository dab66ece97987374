#pragma once
/// \file
/// GreedyHash (Su, Zhang, Li & Tian, NeurIPS 2018): codes b = sign(u) in the forward pass, a
/// bias-free classification layer on b trained by softmax cross-entropy, the gradient passed
/// through sign unchanged (straight-through, eq. 8), plus alpha mean |(|u| - 1)^3|
/// (nn/hashing_losses.hpp: greedy_hash_loss). The learning rate falls x0.1 every 30 epochs, as
/// in the reference. Needs single-label data (one class per item). Code = sign(u).
#include <string>
#include <vector>

#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/hashing_losses.hpp"

namespace rlhash {

struct GreedyHashLoss {
  static constexpr const char* method_name = "greedyhash";
  static constexpr double lr_decay_epochs = 30;
  static constexpr bool classifier = true;

  struct Config {
    double alpha = 0.1;  ///< weight of the cubic penalty
    template <class V>
    void visit(V&& field) {
      field("alpha", alpha);
    }
  };
  static void check(const Config& c, int) {
    detail::require(c.alpha >= 0, "greedyhash: alpha must be >= 0, got " + std::to_string(c.alpha));
  }
  static void check_labels(const Config&, int, const Labels& labels) {
    detail::require(labels.is_single_label(),
                    "greedyhash: labels must be single-label (one class per item: its classifier is a "
                    "softmax), got multi-label data");
  }

  template <class S>
  class State {
   public:
    State(const Config& c, int, const Labels& labels, std::uint64_t) : config_(c), labels_(labels) {}
    double step(DeepHashStep<S>& s) {
      std::vector<int> classes;
      for (Index item : s.batch) classes.push_back(labels_.first_label(item));
      const Matrix<S> codes = s.u.unaryExpr([](S x) { return static_cast<S>((x > 0) - (x < 0)); });
      return nn::greedy_hash_loss(s.u, codes, *s.classifier, classes, config_.alpha, &s.du, &s.dclassifier);
    }
    void save(ByteWriter&) const {}
    void load(ByteReader&) {}

   private:
    Config config_;
    const Labels& labels_;
  };
};

template <class Repr = ShallowMlpRepresentation<float>>
using GreedyHashHasher = DeepHashingHasher<GreedyHashLoss, Repr>;
/// GreedyHash on the one-hidden-layer MLP (CLI name "greedyhash").
using GreedyHash = GreedyHashHasher<>;
template <class B>
using GreedyHashOn = GreedyHashHasher<ShallowMlpRepresentation<float, B>>;

}  // namespace rlhash
