#pragma once
/// \file
/// HashNet (Cao, Long, Wang & Yu, ICCV 2017): the weighted pairwise likelihood of the batch's
/// pairs on v = tanh(beta u), similar and dissimilar pairs balanced (eq. 4-6), with beta's
/// continuation: beta = sqrt(1 + floor(epoch / step_continuation)), so tanh approaches sign as
/// training goes (nn/hashing_losses.hpp: hashnet_loss). Code = sign(u).
#include <cmath>
#include <string>

#include "rlhash/methods/deep_hashing.hpp"
#include "rlhash/nn/hashing_losses.hpp"

namespace rlhash {

struct HashNetLoss {
  static constexpr const char* method_name = "hashnet";
  static constexpr double lr_decay_epochs = 0;
  static constexpr bool classifier = false;

  struct Config {
    double alpha = 0.1;          ///< the sigmoid's scale on the inner products
    int step_continuation = 20;  ///< epochs between increases of beta
    template <class V>
    void visit(V&& field) {
      field("alpha", alpha);
      field("step_continuation", step_continuation);
    }
  };
  static void check(const Config& c, int) {
    detail::require(c.alpha > 0, "hashnet: alpha must be > 0, got " + std::to_string(c.alpha));
    detail::require(c.step_continuation > 0,
                    "hashnet: step_continuation must be > 0, got " + std::to_string(c.step_continuation));
  }
  static void check_labels(const Config&, int, const Labels&) {}  // single- or multi-label
  /// beta at a 0-based epoch.
  static double scale(const Config& c, int epoch) { return std::sqrt(1.0 + epoch / c.step_continuation); }

  template <class S>
  class State {
   public:
    State(const Config& c, int, const Labels& labels, std::uint64_t) : config_(c), labels_(labels) {}
    double step(DeepHashStep<S>& s) {
      const Matrix<S> similar = detail::relevance<S>(labels_, s.batch, labels_, s.batch);
      return nn::hashnet_loss(s.u, similar, config_.alpha, scale(config_, s.epoch), &s.du);
    }
    void save(ByteWriter&) const {}
    void load(ByteReader&) {}

   private:
    Config config_;
    const Labels& labels_;
  };
};

template <class Repr = ShallowMlpRepresentation<float>>
using HashNetHasher = DeepHashingHasher<HashNetLoss, Repr>;
/// HashNet on the one-hidden-layer MLP (CLI name "hashnet").
using HashNet = HashNetHasher<>;
template <class B>
using HashNetOn = HashNetHasher<ShallowMlpRepresentation<float, B>>;
/// HashNet on the convolutional representation over image pixels (CLI name "hashnet-cnn").
struct HashNetCnnName {
  static constexpr const char* method_name = "hashnet-cnn";
};
using HashNetCnn = DeepHashingHasher<HashNetLoss, CnnRepresentation<float>, HashNetCnnName>;

}  // namespace rlhash
