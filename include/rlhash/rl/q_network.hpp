#pragma once
/// \file
/// A Q-network over a state made of a feature vector f and a "state" part s (DRLH: the
/// current code and the action history), whose first fully connected layer is split:
///
///     z = W_f f + W_s s + b,    Q = trunk(z)
///
/// which equals one Dense layer over the concatenation [f; s]. The split exists because f does
/// not change along an episode: feature_projection() computes W_f f + b once per episode and
/// each step adds only W_s s (the feature part dominates for raw pixels: 784 of ~1100 inputs).
/// The trunk is any module (nn/module.hpp) from the first layer's pre-activations to the
/// |A| action values, e.g. nn::Sequential<ReLU, Dropout, Dense, ReLU, Dropout, Dense>; the
/// network runs on the trunk's backend (nn/backend.hpp).
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::rl {

template <class Trunk>
class SplitInputQNetwork {
 public:
  using Scalar = typename Trunk::Scalar;
  using S = Scalar;
  using Backend = nn::backend_of_t<Trunk>;
  using B = Backend;
  using Matrix = typename B::template Matrix<S>;
  using Vector = typename B::template Vector<S>;
  using ConstRef = typename B::template ConstRef<S>;

  /// First layer `feature_dim + state_dim -> hidden`, initialised by `init` as one layer over the
  /// concatenated input (fan-in feature_dim + state_dim), biases zero; then `trunk`.
  SplitInputQNetwork(Index feature_dim, Index state_dim, Index hidden, Trunk trunk, Rng& rng,
                     nn::Init init = nn::Init::he_uniform)
      : trunk_(std::move(trunk)) {
    rlhash::detail::require(feature_dim > 0 && state_dim > 0 && hidden > 0,
                            "SplitInputQNetwork: feature, state and hidden sizes must be > 0, got " +
                                std::to_string(feature_dim) + ", " + std::to_string(state_dim) + ", " +
                                std::to_string(hidden));
    rlhash::Matrix<S> full(hidden, feature_dim + state_dim);
    nn::initialize(full, init, rng);
    feature_weight_ = B::from_host(rlhash::Matrix<S>(full.leftCols(feature_dim)));
    state_weight_ = B::from_host(rlhash::Matrix<S>(full.rightCols(state_dim)));
    bias_ = B::template zeros<S>(hidden, 1);
    feature_weight_grad_ = B::template zeros<S>(hidden, feature_dim);
    state_weight_grad_ = B::template zeros<S>(hidden, state_dim);
    bias_grad_ = B::template zeros<S>(hidden, 1);
  }

  Index feature_dim() const { return feature_weight_.cols(); }
  Index state_dim() const { return state_weight_.cols(); }
  Index hidden() const { return feature_weight_.rows(); }

  /// Training-mode Q values (actions x N) of features x (feature_dim x N) and states s
  /// (state_dim x N); caches what backward needs.
  const Matrix& forward(const ConstRef& x, const ConstRef& s) {
    check(x.rows(), s.rows(), x.cols(), s.cols());
    B::copy(x_, x);
    B::copy(s_, s);
    B::product(z_, feature_weight_, x);
    B::add_product(z_, state_weight_, s);
    B::add_bias(z_, bias_);
    has_input_ = true;
    return trunk_.forward(z_);
  }

  /// Adds the parameter gradients of dLoss/dQ (actions x N) for the last forward.
  void backward(const ConstRef& dq) {
    rlhash::detail::require<StateError>(has_input_, "SplitInputQNetwork::backward called before forward");
    const Matrix& dz = trunk_.backward(dq);
    B::add_product(feature_weight_grad_, dz, B::transpose(x_));
    B::add_product(state_weight_grad_, dz, B::transpose(s_));
    B::add_row_sums(bias_grad_, dz);
  }

  /// W_f x + b (hidden x N): the per-episode part of the first layer.
  Matrix feature_projection(const ConstRef& x) const {
    rlhash::detail::require(x.rows() == feature_dim(), "SplitInputQNetwork: features have " +
                                                           std::to_string(x.rows()) + " rows, expected " +
                                                           std::to_string(feature_dim()));
    Matrix p;
    B::product(p, feature_weight_, x);
    B::add_bias(p, bias_);
    return p;
  }

  /// Evaluation-mode Q values from a feature projection (feature_projection's output, hidden x N)
  /// and states s (state_dim x N).
  Matrix infer_projected(const ConstRef& projection, const ConstRef& s) const {
    rlhash::detail::require(
        projection.rows() == hidden() && s.rows() == state_dim() && s.cols() == projection.cols(),
        "SplitInputQNetwork::infer_projected: projection " + std::to_string(projection.rows()) + " x " +
            std::to_string(projection.cols()) + ", states " + std::to_string(s.rows()) + " x " +
            std::to_string(s.cols()) + "; expected " + std::to_string(hidden()) + " and " +
            std::to_string(state_dim()) + " rows, equal columns");
    Matrix z;
    B::copy(z, projection);
    B::add_product(z, state_weight_, s);
    return trunk_.infer(z);
  }

  /// Evaluation-mode Q values (no dropout, caches untouched).
  Matrix infer(const ConstRef& x, const ConstRef& s) const {
    check(x.rows(), s.rows(), x.cols(), s.cols());
    return infer_projected(feature_projection(x), s);
  }

  nn::ParameterList<S, B> parameters() {
    nn::ParameterList<S, B> list{nn::make_param<B>(feature_weight_, feature_weight_grad_, "feature_weight"),
                                 nn::make_param<B>(state_weight_, state_weight_grad_, "state_weight"),
                                 nn::make_param<B>(bias_, bias_grad_, "bias")};
    nn::append_parameters(list, trunk_.parameters(), "trunk.");
    return list;
  }
  void zero_grad() {
    B::set_zero(feature_weight_grad_);
    B::set_zero(state_weight_grad_);
    B::set_zero(bias_grad_);
    trunk_.zero_grad();
  }
  void set_training(bool training) { trunk_.set_training(training); }
  void save_state(ByteWriter& out) const { nn::save_module_state(out, trunk_); }
  void load_state(ByteReader& in) { nn::load_module_state(in, trunk_); }

  Trunk& trunk() { return trunk_; }
  const Trunk& trunk() const { return trunk_; }
  const Matrix& feature_weight() const { return feature_weight_; }
  const Matrix& state_weight() const { return state_weight_; }
  const Vector& bias() const { return bias_; }

 private:
  void check(Index x_rows, Index s_rows, Index x_cols, Index s_cols) const {
    rlhash::detail::require(x_rows == feature_dim() && s_rows == state_dim() && x_cols == s_cols,
                            "SplitInputQNetwork: features " + std::to_string(x_rows) + " x " +
                                std::to_string(x_cols) + ", states " + std::to_string(s_rows) + " x " +
                                std::to_string(s_cols) + "; expected " + std::to_string(feature_dim()) +
                                " and " + std::to_string(state_dim()) + " rows, equal columns");
  }

  Matrix feature_weight_, state_weight_;
  Vector bias_;
  Matrix feature_weight_grad_, state_weight_grad_;
  Vector bias_grad_;
  Trunk trunk_;
  Matrix x_, s_, z_;
  bool has_input_ = false;
};

}  // namespace rlhash::rl
