#pragma once
/// \file
/// Optimizers in the shape of ensmallen's update policies: the hyper-parameters (a Config with
/// `visit`) and, beside them, one state record per parameter, kept in parameter order (the
/// order of the ParameterList passed to every step) — never in a map keyed by pointers, so the
/// state survives moving the network and serializes with it.
///
/// Contract shared by Sgd and Adam:
///   void step(const ParameterList<S>&)      apply one update from the accumulated gradients
///   double learning_rate() / set_learning_rate(double)   (a schedule sets it every step)
///   void save_state(ByteWriter&) const, void load_state(ByteReader&, const ParameterList<S>&)
///   void reset()                            forget the per-parameter state
/// Weight decay is L2 added to the gradient (g + wd w), as in Caffe, which DRLIH used;
/// Adam can instead decay decoupled from the gradient (AdamW).
///
/// `B` is the backend holding the parameters and the state (backend.hpp): on the host the
/// update is the Eigen expressions below; another backend runs the same formulas in its own
/// element-wise update (`B::sgd_update`, `B::adam_update`: CUDA's kernels). Saved state is
/// always host matrices, so a device optimizer's checkpoint is the host optimizer's.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

namespace detail {
/// Checks that per-parameter state matches the list (or creates it on the first step).
template <class State, class S, class B, class Make>
void ensure_state(std::vector<State>& state, const ParameterList<S, B>& params, const char* optimizer,
                  Make make) {
  if (state.empty()) {
    state.reserve(params.size());
    for (const auto& p : params) state.push_back(make(p));
    return;
  }
  if (state.size() != params.size())
    throw StateError(std::string(optimizer) + ": state was built for " + std::to_string(state.size()) +
                     " parameters, step() got " + std::to_string(params.size()));
}

template <class M, class S, class B>
void require_state_shape(const M& m, const ParamView<S, B>& p, const char* optimizer) {
  if (!(m.rows() == p.rows && m.cols() == p.cols))
    throw StateError(std::string(optimizer) + ": state of parameter '" + p.name + "' is " +
                     std::to_string(m.rows()) + " x " + std::to_string(m.cols()) + ", the parameter is " +
                     std::to_string(p.rows) + " x " + std::to_string(p.cols));
}

/// Reads `count` matrices (one per parameter, the parameter's shape) into temporaries.
template <class S, class B>
std::vector<Matrix<S>> read_state_matrices(ByteReader& in, const ParameterList<S, B>& params,
                                           std::uint64_t count, const char* optimizer) {
  if (count != 0 && count != params.size())
    in.fail(std::string(optimizer) + " state for " + std::to_string(params.size()) + " parameters, found " +
            std::to_string(count));
  std::vector<Matrix<S>> out;
  for (std::uint64_t i = 0; i < count; ++i) {
    out.push_back(in.template get_matrix<S>());
    const auto& p = params[i];
    if (out.back().rows() != p.rows || out.back().cols() != p.cols)
      in.fail(std::string(optimizer) + " state for '" + p.name + "' of " + std::to_string(p.rows) + " x " +
              std::to_string(p.cols) + ", found " + std::to_string(out.back().rows()) + " x " +
              std::to_string(out.back().cols()));
  }
  return out;
}

inline void expect_optimizer_name(ByteReader& in, const std::string& name) {
  const std::string found = in.get_string();
  if (found != name) in.fail("state of optimizer '" + name + "', found '" + found + "'");
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------

struct SgdConfig {
  double learning_rate = 0.01;
  double momentum = 0.0;      ///< 0: plain SGD
  double weight_decay = 0.0;  ///< L2, added to the gradient
  bool nesterov = false;

  template <class V>
  void visit(V&& field) {
    field("learning_rate", learning_rate);
    field("momentum", momentum);
    field("weight_decay", weight_decay);
    field("nesterov", nesterov);
  }
};

/// SGD with optional (Nesterov) momentum, PyTorch's form:
///   g = grad + wd w;  v = mu v + g;  w -= lr (nesterov ? g + mu v : v).
template <class S, class B = CpuBackend>
class Sgd {
 public:
  using Config = SgdConfig;
  using Backend = B;
  static constexpr const char* name = "sgd";

  /// The per-parameter state: the velocity.
  struct ParamState {
    typename B::template Matrix<S> velocity;
  };

  explicit Sgd(Config config = {}) : config_(config), learning_rate_(config.learning_rate) {
    rlhash::detail::require(
        config.learning_rate >= 0 && config.momentum >= 0 && config.momentum < 1 && config.weight_decay >= 0,
        "Sgd: expected learning_rate >= 0, 0 <= momentum < 1, weight_decay >= 0");
  }

  const Config& config() const { return config_; }
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double lr) { learning_rate_ = lr; }
  const std::vector<ParamState>& state() const { return state_; }
  void reset() { state_.clear(); }

  void step(const ParameterList<S, B>& params) {
    const S lr = static_cast<S>(learning_rate_), mu = static_cast<S>(config_.momentum),
            wd = static_cast<S>(config_.weight_decay);
    if (config_.momentum > 0)
      detail::ensure_state(state_, params, name, [](const ParamView<S, B>& p) {
        return ParamState{B::template zeros<S>(p.rows, p.cols)};
      });
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if constexpr (!is_cpu_backend_v<B>) {
        if (config_.momentum > 0) detail::require_state_shape(state_[i].velocity, p, name);
        B::sgd_update(p.value(), p.grad(), config_.momentum > 0 ? &state_[i].velocity : nullptr, lr, mu, wd,
                      config_.nesterov);
      } else {
        auto w = p.value();
        const Matrix<S> g = wd > 0 ? Matrix<S>(p.grad() + wd * w) : Matrix<S>(p.grad());
        if (config_.momentum > 0) {
          auto& v = state_[i].velocity;
          detail::require_state_shape(v, p, name);
          v = mu * v + g;
          if (config_.nesterov)
            w -= lr * (g + mu * v);
          else
            w -= lr * v;
        } else {
          w -= lr * g;
        }
      }
    }
  }

  void save_state(ByteWriter& out) const {
    out.put_string(name);
    out.put<double>(learning_rate_);
    out.put<std::uint64_t>(state_.size());
    for (const auto& s : state_) out.put_matrix(B::to_host(s.velocity));
  }

  /// All or nothing: a FormatError leaves the optimizer as it was.
  void load_state(ByteReader& in, const ParameterList<S, B>& params) {
    detail::expect_optimizer_name(in, name);
    const double lr = in.get<double>();
    auto velocities = detail::read_state_matrices(in, params, in.get<std::uint64_t>(), name);
    std::vector<ParamState> state;
    for (auto& v : velocities) state.push_back(ParamState{B::from_host(std::move(v))});
    state_ = std::move(state);
    learning_rate_ = lr;
  }

 private:
  Config config_;
  double learning_rate_;
  std::vector<ParamState> state_;
};

// ---------------------------------------------------------------------------------------------

struct AdamConfig {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;  ///< AdamW: w -= lr wd w instead of g += wd w

  template <class V>
  void visit(V&& field) {
    field("learning_rate", learning_rate);
    field("beta1", beta1);
    field("beta2", beta2);
    field("epsilon", epsilon);
    field("weight_decay", weight_decay);
    field("decoupled_weight_decay", decoupled_weight_decay);
  }
};

namespace detail {
/// Adam's host update of `count` elements. One pass in blocks small enough to stay in the L1
/// cache, rather than one pass over the whole parameter per expression and a temporary of its
/// size for the decayed gradient: for the deep hashing network (800k weights, batch 64) the
/// update was a fifth of a training step, memory-bound. Each element's arithmetic is the same
/// as the per-element formula (cuda/elementwise.hpp's adam).
template <class S>
void adam_update_host(S* weights, const S* grads, S* first, S* second, Index count, S lr, S b1, S b2,
                      S correction1, S correction2, S eps, S wd, bool decoupled) {
  using Array = Eigen::Array<S, Eigen::Dynamic, 1>;
  constexpr Index block = 1024;
  Eigen::Array<S, block, 1> decayed;
  const bool coupled = wd > 0 && !decoupled;
  for (Index start = 0; start < count; start += block) {
    const Index n = std::min(block, count - start);
    Eigen::Map<Array> w(weights + start, n), m(first + start, n), v(second + start, n);
    const Eigen::Map<const Array> grad(grads + start, n);
    auto g = decayed.head(n);
    if (coupled)
      g = grad + wd * w;
    else
      g = grad;
    m = b1 * m + (S(1) - b1) * g;
    v = b2 * v + (S(1) - b2) * (g * g);
    if (wd > 0 && decoupled) w *= S(1) - lr * wd;
    w -= lr * (m / correction1) / ((v / correction2).sqrt() + eps);
  }
}
}  // namespace detail

/// Adam (Kingma & Ba 2015) with bias correction:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w -= lr m^ / (sqrt(v^) + eps).
template <class S, class B = CpuBackend>
class Adam {
 public:
  using Config = AdamConfig;
  using Backend = B;
  static constexpr const char* name = "adam";

  /// The per-parameter state: first and second moment estimates.
  struct ParamState {
    typename B::template Matrix<S> m, v;
  };

  explicit Adam(Config config = {}) : config_(config), learning_rate_(config.learning_rate) {
    rlhash::detail::require(
        config.learning_rate >= 0 && config.beta1 >= 0 && config.beta1 < 1 && config.beta2 >= 0 &&
            config.beta2 < 1 && config.epsilon > 0 && config.weight_decay >= 0,
        "Adam: expected learning_rate >= 0, betas in [0, 1), epsilon > 0, weight_decay >= 0");
  }

  const Config& config() const { return config_; }
  double learning_rate() const { return learning_rate_; }
  void set_learning_rate(double lr) { learning_rate_ = lr; }
  std::int64_t steps() const { return steps_; }
  const std::vector<ParamState>& state() const { return state_; }
  void reset() {
    state_.clear();
    steps_ = 0;
  }

  void step(const ParameterList<S, B>& params) {
    detail::ensure_state(state_, params, name, [](const ParamView<S, B>& p) {
      return ParamState{B::template zeros<S>(p.rows, p.cols), B::template zeros<S>(p.rows, p.cols)};
    });
    ++steps_;
    const double t = static_cast<double>(steps_);
    const S b1 = static_cast<S>(config_.beta1), b2 = static_cast<S>(config_.beta2);
    const S correction1 = static_cast<S>(1.0 - std::pow(config_.beta1, t));
    const S correction2 = static_cast<S>(1.0 - std::pow(config_.beta2, t));
    const S lr = static_cast<S>(learning_rate_), eps = static_cast<S>(config_.epsilon),
            wd = static_cast<S>(config_.weight_decay);
    for (std::size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      auto& s = state_[i];
      detail::require_state_shape(s.m, p, name);
      if constexpr (!is_cpu_backend_v<B>) {
        B::adam_update(p.value(), p.grad(), s.m, s.v, lr, b1, b2, correction1, correction2, eps, wd,
                       config_.decoupled_weight_decay);
      } else {
        detail::adam_update_host(p.value().data(), p.grad().data(), s.m.data(), s.v.data(), s.m.size(), lr,
                                 b1, b2, correction1, correction2, eps, wd, config_.decoupled_weight_decay);
      }
    }
  }

  void save_state(ByteWriter& out) const {
    out.put_string(name);
    out.put<double>(learning_rate_);
    out.put<std::int64_t>(steps_);
    out.put<std::uint64_t>(state_.size());
    for (const auto& s : state_) {
      out.put_matrix(B::to_host(s.m));
      out.put_matrix(B::to_host(s.v));
    }
  }

  /// All or nothing: a FormatError leaves the optimizer as it was.
  void load_state(ByteReader& in, const ParameterList<S, B>& params) {
    detail::expect_optimizer_name(in, name);
    const double lr = in.get<double>();
    const auto steps = in.get<std::int64_t>();
    if (steps < 0) in.fail("a non-negative Adam step count, found " + std::to_string(steps));
    const auto count = in.get<std::uint64_t>();
    if (count != 0 && count != params.size())
      in.fail("adam state for " + std::to_string(params.size()) + " parameters, found " +
              std::to_string(count));
    std::vector<ParamState> state;
    for (std::uint64_t i = 0; i < count; ++i) {
      // Braced initialisation reads m before v.
      ParamState s{B::from_host(in.template get_matrix<S>()), B::from_host(in.template get_matrix<S>())};
      const auto& p = params[i];
      if (s.m.rows() != p.rows || s.m.cols() != p.cols || s.v.rows() != p.rows || s.v.cols() != p.cols)
        in.fail("adam state for '" + p.name + "' of " + std::to_string(p.rows) + " x " +
                std::to_string(p.cols));
      state.push_back(std::move(s));
    }
    state_ = std::move(state);
    steps_ = steps;
    learning_rate_ = lr;
  }

 private:
  Config config_;
  double learning_rate_;
  std::int64_t steps_ = 0;
  std::vector<ParamState> state_;
};

}  // namespace rlhash::nn
