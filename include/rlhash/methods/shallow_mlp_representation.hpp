#pragma once
/// \file
/// A one-hidden-layer ReLU MLP representation, inputs -> repr_hidden (default 784 -> 1024),
/// with dropout after it (rate 0: off): the network the deep hashing baselines are compared
/// on (their hashing layer, repr_hidden -> bits, follows). Weights drawn U(-1/sqrt(fan_in),
/// 1/sqrt(fan_in)), the default of PyTorch's nn.Linear in which the baselines' reference
/// implementations are written; biases zero. Its backward pass computes no gradient for the
/// input (the network's input is data). A representation policy like MlpRepresentation
/// (methods/representation.hpp): Scalar, Backend, Net, Config, make, outputs.
#include <cmath>
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
#include "rlhash/nn/sequential.hpp"

namespace rlhash {

/// The width of ShallowMlpRepresentation: one type for every scalar and backend.
struct ShallowMlpRepresentationConfig {
  int repr_hidden = 1024;
  double repr_dropout = 0.0;
  template <class V>
  void visit(V&& field) {
    field("repr_hidden", repr_hidden);
    field("repr_dropout", repr_dropout);
  }
};

/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights: PyTorch nn.Linear's default.
template <class S, class B>
nn::Dense<S, B> fan_in_uniform_dense(Index inputs, Index outputs, Rng& rng) {
  return nn::Dense<S, B>(inputs, outputs, rng, nn::Init::uniform,
                         1.0 / std::sqrt(static_cast<double>(inputs)));
}

template <class S, class B = nn::CpuBackend>
struct ShallowMlpRepresentation {
  using Scalar = S;
  using Backend = B;
  using Net = nn::Sequential<nn::Dense<S, B>, nn::ReLU<S, B>, nn::Dropout<S, B>>;
  using Config = ShallowMlpRepresentationConfig;
  static Net make(Index inputs, const Config& c, Rng& rng) {
    detail::require(c.repr_hidden > 0,
                    "representation: repr_hidden must be > 0, got " + std::to_string(c.repr_hidden));
    detail::require(c.repr_dropout >= 0 && c.repr_dropout < 1,
                    "representation: repr_dropout must be in [0, 1), got " + std::to_string(c.repr_dropout));
    auto hidden = fan_in_uniform_dense<S, B>(inputs, c.repr_hidden, rng);
    hidden.set_input_gradient(false);  // the input is data: no dX (a third of the layer's cost)
    const std::uint64_t dropout_seed = rng();
    return Net(std::move(hidden), nn::ReLU<S, B>(), nn::Dropout<S, B>(c.repr_dropout, dropout_seed));
  }
  static Index outputs(Index, const Config& c) { return c.repr_hidden; }
};

}  // namespace rlhash
