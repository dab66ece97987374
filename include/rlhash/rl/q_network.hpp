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
/// |A| action values, e.g. nn::Sequential<ReLU, Dropout, Dense, ReLU, Dropout, Dense>.
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/init.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::rl {

template <class Trunk>
class SplitInputQNetwork {
 public:
  using Scalar = typename Trunk::Scalar;
  using S = Scalar;

  /// First layer `feature_dim + state_dim -> hidden`, initialised by `init` as one layer over the
  /// concatenated input (fan-in feature_dim + state_dim), biases zero; then `trunk`.
  SplitInputQNetwork(Index feature_dim, Index state_dim, Index hidden, Trunk trunk, Rng& rng,
                     nn::Init init = nn::Init::he_uniform)
      : trunk_(std::move(trunk)) {
    rlhash::detail::require(feature_dim > 0 && state_dim > 0 && hidden > 0,
                            "SplitInputQNetwork: feature, state and hidden sizes must be > 0, got " +
                                std::to_string(feature_dim) + ", " + std::to_string(state_dim) + ", " +
                                std::to_string(hidden));
    Matrix<S> full(hidden, feature_dim + state_dim);
    nn::initialize(full, init, rng);
    feature_weight_ = full.leftCols(feature_dim);
    state_weight_ = full.rightCols(state_dim);
    bias_ = Vector<S>::Zero(hidden);
    feature_weight_grad_ = Matrix<S>::Zero(hidden, feature_dim);
    state_weight_grad_ = Matrix<S>::Zero(hidden, state_dim);
    bias_grad_ = Vector<S>::Zero(hidden);
  }

  Index feature_dim() const { return feature_weight_.cols(); }
  Index state_dim() const { return state_weight_.cols(); }
  Index hidden() const { return feature_weight_.rows(); }

  /// Training-mode Q values (actions x N) of features x (feature_dim x N) and states s
  /// (state_dim x N); caches what backward needs.
  const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& x, const Eigen::Ref<const Matrix<S>>& s) {
    check(x.rows(), s.rows(), x.cols(), s.cols());
    x_ = x;
    s_ = s;
    z_.noalias() = feature_weight_ * x;
    z_.noalias() += state_weight_ * s;
    z_.colwise() += bias_;
    has_input_ = true;
    return trunk_.forward(z_);
  }

  /// Adds the parameter gradients of dLoss/dQ (actions x N) for the last forward.
  void backward(const Eigen::Ref<const Matrix<S>>& dq) {
    rlhash::detail::require<StateError>(has_input_, "SplitInputQNetwork::backward called before forward");
    const Matrix<S>& dz = trunk_.backward(dq);
    feature_weight_grad_.noalias() += dz * x_.transpose();
    state_weight_grad_.noalias() += dz * s_.transpose();
    bias_grad_ += dz.rowwise().sum();
  }

  /// W_f x + b (hidden x N): the per-episode part of the first layer.
  Matrix<S> feature_projection(const Eigen::Ref<const Matrix<S>>& x) const {
    rlhash::detail::require(x.rows() == feature_dim(), "SplitInputQNetwork: features have " +
                                                           std::to_string(x.rows()) + " rows, expected " +
                                                           std::to_string(feature_dim()));
    Matrix<S> p(hidden(), x.cols());
    p.noalias() = feature_weight_ * x;
    p.colwise() += bias_;
    return p;
  }

  /// Evaluation-mode Q values from a feature projection (feature_projection's output, hidden x N)
  /// and states s (state_dim x N).
  Matrix<S> infer_projected(const Eigen::Ref<const Matrix<S>>& projection,
                            const Eigen::Ref<const Matrix<S>>& s) const {
    rlhash::detail::require(
        projection.rows() == hidden() && s.rows() == state_dim() && s.cols() == projection.cols(),
        "SplitInputQNetwork::infer_projected: projection " + std::to_string(projection.rows()) + " x " +
            std::to_string(projection.cols()) + ", states " + std::to_string(s.rows()) + " x " +
            std::to_string(s.cols()) + "; expected " + std::to_string(hidden()) + " and " +
            std::to_string(state_dim()) + " rows, equal columns");
    Matrix<S> z = projection;
    z.noalias() += state_weight_ * s;
    return trunk_.infer(z);
  }

  /// Evaluation-mode Q values (no dropout, caches untouched).
  Matrix<S> infer(const Eigen::Ref<const Matrix<S>>& x, const Eigen::Ref<const Matrix<S>>& s) const {
    check(x.rows(), s.rows(), x.cols(), s.cols());
    return infer_projected(feature_projection(x), s);
  }

  nn::ParameterList<S> parameters() {
    nn::ParameterList<S> list{nn::make_param(feature_weight_, feature_weight_grad_, "feature_weight"),
                              nn::make_param(state_weight_, state_weight_grad_, "state_weight"),
                              nn::make_param(bias_, bias_grad_, "bias")};
    nn::append_parameters(list, trunk_.parameters(), "trunk.");
    return list;
  }
  void zero_grad() {
    feature_weight_grad_.setZero();
    state_weight_grad_.setZero();
    bias_grad_.setZero();
    trunk_.zero_grad();
  }
  void set_training(bool training) { trunk_.set_training(training); }
  void save_state(ByteWriter& out) const { nn::save_module_state(out, trunk_); }
  void load_state(ByteReader& in) { nn::load_module_state(in, trunk_); }

  Trunk& trunk() { return trunk_; }
  const Trunk& trunk() const { return trunk_; }
  const Matrix<S>& feature_weight() const { return feature_weight_; }
  const Matrix<S>& state_weight() const { return state_weight_; }
  const Vector<S>& bias() const { return bias_; }

 private:
  void check(Index x_rows, Index s_rows, Index x_cols, Index s_cols) const {
    rlhash::detail::require(x_rows == feature_dim() && s_rows == state_dim() && x_cols == s_cols,
                            "SplitInputQNetwork: features " + std::to_string(x_rows) + " x " +
                                std::to_string(x_cols) + ", states " + std::to_string(s_rows) + " x " +
                                std::to_string(s_cols) + "; expected " + std::to_string(feature_dim()) +
                                " and " + std::to_string(state_dim()) + " rows, equal columns");
  }

  Matrix<S> feature_weight_, state_weight_;
  Vector<S> bias_;
  Matrix<S> feature_weight_grad_, state_weight_grad_;
  Vector<S> bias_grad_;
  Trunk trunk_;
  Matrix<S> x_, s_, z_;
  bool has_input_ = false;
};

}  // namespace rlhash::rl
