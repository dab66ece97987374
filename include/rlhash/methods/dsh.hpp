#pragma once
/// \file
/// DSH — Deep Supervised Hashing (Liu, Wang, Shan & Chen, CVPR 2016): a contrastive loss on
/// the real outputs u, similar pairs pulled together, dissimilar ones pushed beyond the margin
/// m = 2 bits (squared Euclidean distance; codes of +-1 differing in h bits are 4h apart), plus
/// alpha mean | 1 - |u| | towards the vertices of the cube (nn/hashing_losses.hpp: dsh_loss).
/// Each batch is compared with every training item's latest output (a memory refreshed as the
/// items come round), as the reference implementation does. Code = sign(u).
#include <string>
#include <vector>

#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/hashing_losses.hpp"

namespace rlhash {

struct DshLoss {
  static constexpr const char* method_name = "dsh";
  static constexpr double lr_decay_epochs = 0;
  static constexpr bool classifier = false;

  struct Config {
    double alpha = 0.1;           ///< weight of the quantisation term
    double margin_per_bit = 2.0;  ///< m = margin_per_bit * bits
    template <class V>
    void visit(V&& field) {
      field("alpha", alpha);
      field("margin_per_bit", margin_per_bit);
    }
  };
  static void check(const Config& c, int) {
    detail::require(c.alpha >= 0, "dsh: alpha must be >= 0, got " + std::to_string(c.alpha));
    detail::require(c.margin_per_bit > 0,
                    "dsh: margin_per_bit must be > 0, got " + std::to_string(c.margin_per_bit));
  }
  static void check_labels(const Config&, int, const Labels&) {}  // single- or multi-label

  template <class S>
  class State {
   public:
    State(const Config& c, int bits, const Labels& labels, std::uint64_t)
        : config_(c),
          labels_(labels),
          memory_(bits, labels.size()),
          items_(detail::all_items(labels.size())),
          margin_(c.margin_per_bit * bits) {}
    double step(DeepHashStep<S>& s) {
      memory_.store(s.u, s.batch);
      const Matrix<S> similar = detail::relevance<S>(labels_, s.batch, labels_, items_);
      return nn::dsh_loss(s.u, memory_.outputs, memory_.seen, similar, margin_, config_.alpha, &s.du);
    }
    void save(ByteWriter& out) const { memory_.save(out); }
    void load(ByteReader& in) { memory_.load(in); }

   private:
    Config config_;
    const Labels& labels_;
    detail::OutputMemory<S> memory_;
    std::vector<Index> items_;
    double margin_;
  };
};

template <class Repr = ShallowMlpRepresentation<float>>
using DshHasher = DeepHashingHasher<DshLoss, Repr>;
/// DSH on the one-hidden-layer MLP (CLI name "dsh").
using Dsh = DshHasher<>;
/// DSH trained and run on backend `B` (e.g. cuda::CudaBackend).
template <class B>
using DshOn = DshHasher<ShallowMlpRepresentation<float, B>>;
/// DSH on the convolutional representation over image pixels (CLI name "dsh-cnn"): the
/// baseline that DPH and DRLIH on the same network are compared against.
struct DshCnnName {
  static constexpr const char* method_name = "dsh-cnn";
};
using DshCnn = DeepHashingHasher<DshLoss, CnnRepresentation<float>, DshCnnName>;

}  // namespace rlhash
