#pragma once
/// \file
/// DPSH — Deep Pairwise-Supervised Hashing (Li, Wang & Kang, IJCAI 2016): the negative log-
/// likelihood of the pairwise labels under p(s_ij = 1) = sigmoid(u_i . u_j / 2), each batch
/// against the stored outputs of every training item, plus alpha mean (u - sign u)^2
/// (nn/hashing_losses.hpp: dpsh_loss). Code = sign(u).
#include <string>
#include <vector>

#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/hashing_losses.hpp"

namespace rlhash {

struct DpshLoss {
  static constexpr const char* method_name = "dpsh";
  static constexpr double lr_decay_epochs = 0;
  static constexpr bool classifier = false;

  struct Config {
    double alpha = 0.1;  ///< weight of the quantisation term (the paper's eta)
    template <class V>
    void visit(V&& field) {
      field("alpha", alpha);
    }
  };
  static void check(const Config& c, int) {
    detail::require(c.alpha >= 0, "dpsh: alpha must be >= 0, got " + std::to_string(c.alpha));
  }
  static void check_labels(const Config&, int, const Labels&) {}  // single- or multi-label

  template <class S>
  class State {
   public:
    State(const Config& c, int bits, const Labels& labels, std::uint64_t)
        : config_(c), labels_(labels), memory_(bits, labels.size()), items_(detail::all_items(labels.size())) {}
    double step(DeepHashStep<S>& s) {
      memory_.store(s.u, s.batch);
      const Matrix<S> similar = detail::relevance<S>(labels_, s.batch, labels_, items_);
      return nn::dpsh_loss(s.u, memory_.outputs, similar, config_.alpha, &s.du);
    }
    void save(ByteWriter& out) const { memory_.save(out); }
    void load(ByteReader& in) { memory_.load(in); }

   private:
    Config config_;
    const Labels& labels_;
    detail::OutputMemory<S> memory_;
    std::vector<Index> items_;
  };
};

template <class Repr = ShallowMlpRepresentation<float>>
using DpshHasher = DeepHashingHasher<DpshLoss, Repr>;
/// DPSH on the one-hidden-layer MLP (CLI name "dpsh").
using Dpsh = DpshHasher<>;
template <class B>
using DpshOn = DpshHasher<ShallowMlpRepresentation<float, B>>;

}  // namespace rlhash
