#pragma once
/// \file
/// The network policies of deep policy hashing (methods/policy_hashing.hpp): the networks the
/// query and database networks are made of.
///
/// A network policy N provides `using Scalar`, `using Net` (a module, nn/module.hpp, whose
/// forward/infer map inputs x N features to bits x N LOGITS), `struct Config` (fields listed by
/// visit(), merged into the hasher's Config) and `static Net make(Index inputs, Index bits,
/// const Config&, Rng&)`. The sigmoid is applied by the hasher: the REINFORCE gradient is taken
/// w.r.t. the logits (d log P / dz = h - p), which never divides by p(1 - p).
#include <string>
#include <type_traits>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/methods/cnn_representation.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/sequential.hpp"

namespace rlhash {

/// inputs -> hidden1 -> ReLU -> hidden2 -> ReLU -> bits, He-initialised hidden layers and a
/// Xavier-initialised output layer (default 784 -> 1024 -> 512 -> K), on backend `B`
/// (nn/backend.hpp; cuda::CudaBackend trains both networks on a GPU).
template <class S, class B = nn::CpuBackend>
struct MlpPolicyNetwork {
  using Scalar = S;
  using Net =
      nn::Sequential<nn::Dense<S, B>, nn::ReLU<S, B>, nn::Dense<S, B>, nn::ReLU<S, B>, nn::Dense<S, B>>;
  struct Config {
    int hidden1 = 1024;
    int hidden2 = 512;
    template <class V>
    void visit(V&& field) {
      field("hidden1", hidden1);
      field("hidden2", hidden2);
    }
  };
  static Net make(Index inputs, Index bits, const Config& c, Rng& rng) {
    detail::require(c.hidden1 > 0 && c.hidden2 > 0, "dph: hidden1 and hidden2 must be > 0, got " +
                                                        std::to_string(c.hidden1) + " and " +
                                                        std::to_string(c.hidden2));
    nn::Dense<S, B> first(inputs, c.hidden1, rng, nn::Init::he_uniform);
    nn::Dense<S, B> second(c.hidden1, c.hidden2, rng, nn::Init::he_uniform);
    nn::Dense<S, B> out(c.hidden2, bits, rng, nn::Init::xavier_uniform);
    return Net(std::move(first), nn::ReLU<S, B>(), std::move(second), nn::ReLU<S, B>(), std::move(out));
  }
};

namespace detail {
/// The default database refresh period of network policy `N`: `N::database_update_every` where
/// it sets one, else 70 steps.
template <class N, class = void>
struct default_database_update_every {
  static constexpr int value = 70;
};
template <class N>
struct default_database_update_every<N, std::void_t<decltype(N::database_update_every)>> {
  static constexpr int value = N::database_update_every;
};
}  // namespace detail

/// CnnRepresentation (methods/cnn_representation.hpp: two 3x3 convolutions with max-pooling,
/// then a dense ReLU layer) followed by a Xavier-initialised output layer to K logits; for
/// images given as pixels. Host only. CLI name "dph-cnn".
template <class S>
struct CnnPolicyNetwork {
  using Scalar = S;
  using Representation = CnnRepresentation<S>;
  using Net = nn::Sequential<typename Representation::Net, nn::Dense<S>>;
  using Config = typename Representation::Config;
  static constexpr const char* method_name = "dph-cnn";
  static constexpr int encode_batch = Representation::encode_batch;
  /// Three epochs of the default protocol between database refreshes: re-encoding the training
  /// items is a quarter of the CNN's training time at one epoch (70 steps), and 210 measured no
  /// worse (docs/methods/cnn.md).
  static constexpr int database_update_every = 210;
  static Net make(Index inputs, Index bits, const Config& c, Rng& rng) {
    auto representation = Representation::make(inputs, c, rng);
    nn::Dense<S> out(Representation::outputs(inputs, c), bits, rng, nn::Init::xavier_uniform);
    return Net(std::move(representation), std::move(out));
  }
  static nn::ImageShape image_shape(Index inputs, const Config& c) {
    return Representation::image_shape(inputs, c);
  }
};

namespace detail {
/// A network policy's `method_name` when it has one, else "dph".
template <class Network, class = void>
struct policy_method_name {
  static constexpr const char* value = "dph";
};
template <class Network>
struct policy_method_name<Network, std::void_t<decltype(Network::method_name)>> {
  static constexpr const char* value = Network::method_name;
};
}  // namespace detail

}  // namespace rlhash
