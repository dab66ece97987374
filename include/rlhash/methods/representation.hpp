#pragma once
/// \file
/// Representation networks: what turns an input item into the feature a deep hashing method's
/// head reads (DRLIH's policy network, FC-triplet's hashing layer, DPH's policy, DRLH's
/// Q-network). The network is trained jointly with the method (MlpRepresentation) or is the
/// identity (IdentityRepresentation: bring your own CNN features). A frozen, previously trained
/// representation lives in methods/frozen_representation.hpp.
///
/// A representation policy R provides: `using Scalar`, `using Net` (a module, nn/module.hpp),
/// `struct Config` (fields listed by visit(), merged into the hasher's Config, so their names
/// should carry a "repr_" prefix), `static Net make(Index inputs, const Config&, Rng&)` and
/// `static Index outputs(Index inputs, const Config&)`.
#include <cstdint>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/sequential.hpp"

namespace rlhash {

/// The identity module: for features that are already good (e.g. CNN activations).
template <class S, class B = nn::CpuBackend>
class IdentityModule {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using ConstRef = typename B::template ConstRef<S>;

  const Matrix& forward(const ConstRef& x) {
    B::copy(output_, x);
    return output_;
  }
  Matrix infer(const ConstRef& x) const {
    Matrix y;
    B::copy(y, x);
    return y;
  }
  const Matrix& backward(const ConstRef& dy) {
    B::copy(grad_, dy);
    return grad_;
  }
  nn::ParameterList<S, B> parameters() { return {}; }
  void zero_grad() {}
  void set_training(bool) {}

 private:
  Matrix output_, grad_;
};

/// Features used as they are; the policy network sees the input directly.
template <class S, class B = nn::CpuBackend>
struct IdentityRepresentation {
  using Scalar = S;
  using Backend = B;
  using Net = IdentityModule<S, B>;
  struct Config {
    template <class V>
    void visit(V&&) {}
  };
  static Net make(Index, const Config&, Rng&) { return Net(); }
  static Index outputs(Index inputs, const Config&) { return inputs; }
};

/// The widths of MlpRepresentation: one type for every scalar and backend, so a host config
/// configures the same network on a device.
struct MlpRepresentationConfig {
  int repr_hidden1 = 1024;
  int repr_hidden2 = 512;
  double repr_dropout = 0.0;
  template <class V>
  void visit(V&& field) {
    field("repr_hidden1", repr_hidden1);
    field("repr_hidden2", repr_hidden2);
    field("repr_dropout", repr_dropout);
  }
};

/// A two-hidden-layer ReLU MLP, inputs -> repr_hidden1 -> repr_hidden2 (default
/// 784 -> 1024 -> 512), with dropout after the first layer (rate 0: off), He initialisation.
/// Its input is data, so backward() returns no input gradient (an empty matrix): the first
/// layer computes its parameters' gradients only.
/// `B`: the backend the whole DRLIH network runs on (nn/backend.hpp; cuda::CudaBackend for a GPU).
template <class S, class B = nn::CpuBackend>
struct MlpRepresentation {
  using Scalar = S;
  using Backend = B;
  using Net =
      nn::Sequential<nn::Dense<S, B>, nn::ReLU<S, B>, nn::Dropout<S, B>, nn::Dense<S, B>, nn::ReLU<S, B>>;
  using Config = MlpRepresentationConfig;
  static Net make(Index inputs, const Config& c, Rng& rng) {
    detail::require(c.repr_hidden1 > 0 && c.repr_hidden2 > 0,
                    "representation: repr_hidden1 and repr_hidden2 must be > 0, got " +
                        std::to_string(c.repr_hidden1) + " and " + std::to_string(c.repr_hidden2));
    detail::require(c.repr_dropout >= 0 && c.repr_dropout < 1,
                    "representation: repr_dropout must be in [0, 1), got " + std::to_string(c.repr_dropout));
    nn::Dense<S, B> first(inputs, c.repr_hidden1, rng, nn::Init::he_uniform);
    first.set_input_gradient(false);  // the input is data: no dX (a third of the layer's cost)
    nn::Dense<S, B> second(c.repr_hidden1, c.repr_hidden2, rng, nn::Init::he_uniform);
    const std::uint64_t dropout_seed = rng();
    return Net(std::move(first), nn::ReLU<S, B>(), nn::Dropout<S, B>(c.repr_dropout, dropout_seed),
               std::move(second), nn::ReLU<S, B>());
  }
  static Index outputs(Index, const Config& c) { return c.repr_hidden2; }
};

}  // namespace rlhash
