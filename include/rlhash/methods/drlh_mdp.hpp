#pragma once
/// \file
/// DRLH's MDP (Wang et al., section 3) as plain functions over packed codes: the state vector
/// [e_t; h_t], applying an action, the expert's improving actions of guided exploration
/// (section 4.2), the action history, and the greedy rollout that encodes items. The hasher
/// (drlh.hpp) and its training loop (drlh_training.hpp) are built on these.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/reward/bch_reward.hpp"
#include "rlhash/rl/flip_actions.hpp"

namespace rlhash {

namespace drlh {

/// The longest action history a state may carry.
inline constexpr int max_history = 16;

/// One replay entry; the code e_t is the replay payload. The next state follows from the state
/// and the action, so it is not stored.
struct Transition {
  std::int64_t item = 0;
  float reward = 0;
  std::int32_t action = 0;
  std::int16_t history[max_history];  ///< -1: empty slot; slot 0 = the latest action
  std::uint8_t terminal = 0;          ///< the action was terminate (no bootstrap)
};

/// The state vector part of the Q-network's input: [e_t bits (0/1); history slot 0; ...;
/// slot H-1], b (1 + H) values, into out[0..). A slot is the b-vector of the bits its action
/// flipped: one-hot for the paper's actions, two-hot for the 2-bit action set's pairs.
template <class S>
void write_state(const std::uint64_t* code, const std::int16_t* history, const rl::FlipActions& actions,
                 int history_len, S* out) {
  const int bits = actions.bits();
  std::fill(out, out + static_cast<std::size_t>(bits) * static_cast<std::size_t>(1 + history_len), S(0));
  for (int k = 0; k < bits; ++k) out[k] = static_cast<S>((code[k / 64] >> (k % 64)) & 1U);
  for (int slot = 0; slot < history_len; ++slot)
    if (history[slot] >= 0)
      actions.for_each_bit(history[slot], [&](int bit) { out[bits + slot * bits + bit] = S(1); });
}

/// Flips the bits of a (non-terminate) `action` in `code`.
inline void apply_action(std::uint64_t* code, const rl::FlipActions& actions, int action) {
  actions.for_each_bit(action, [&](int bit) { code[bit / 64] ^= std::uint64_t{1} << (bit % 64); });
}

/// The expert's improving actions (guided exploration, section 4.2): the reward's improving
/// one-bit flips and terminate, widened to the pairs of those flips for the 2-bit action set.
inline void expert_actions(const BchReward& reward, const rl::FlipActions& actions, const std::uint64_t* code,
                           const int* d, const Labels& labels, Index item, std::vector<int>& scratch,
                           std::vector<int>& out) {
  reward.expert_actions(code, d, labels, item, out);
  if (actions.max_flips() == 1) return;
  const bool may_terminate = !out.empty() && out.back() == reward.terminate_action();
  scratch.assign(out.begin(), out.end() - (may_terminate ? 1 : 0));
  actions.expert_actions(scratch, may_terminate, out);
}

/// Records `action` as the latest history entry (the oldest falls off).
inline void push_history(std::int16_t* history, int history_len, int action) {
  for (int slot = history_len - 1; slot > 0; --slot) history[slot] = history[slot - 1];
  if (history_len > 0) history[0] = static_cast<std::int16_t>(action);
}

/// Greedy rollout of `net` from the initial code for every column of `projection`
/// (net.feature_projection of the items, on the host): at most `max_steps` steps, a column
/// stops at its first terminate. Writes the final codes into `codes` rows [first, first + N).
///
/// On the host the first layer is never multiplied out per step: its pre-activation is kept as
/// W_f f + b + W_e e_t (updated by +-one column of W_e per flip) plus the history's columns of
/// W_h (at most `history` column additions per step), so a step costs the trunk's product plus
/// O(history * hidden1) per item instead of O(b (1 + history) * hidden1). On a device backend
/// a step writes the active items' states and evaluates them with net.infer_projected: one
/// product on the device instead of per-item column updates.
template <class Net>
void greedy_codes(const Net& net, const Matrix<typename Net::Scalar>& projection,
                  const std::vector<std::uint64_t>& initial_code, const rl::FlipActions& actions,
                  int history_len, int max_steps, BinaryCodes& codes, Index first) {
  using S = typename Net::Scalar;
  using B = nn::backend_of_t<Net>;
  constexpr bool incremental = nn::is_cpu_backend_v<B>;
  const int bits = actions.bits();
  const Index n = projection.cols();
  const auto w = static_cast<std::size_t>((bits + 63) / 64);
  const auto h = static_cast<std::size_t>(std::max(history_len, 1));
  std::vector<std::uint64_t> code(static_cast<std::size_t>(n) * w);
  for (Index j = 0; j < n; ++j)
    std::copy(initial_code.begin(), initial_code.end(),
              code.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(j) * w));
  std::vector<std::int16_t> history(static_cast<std::size_t>(n) * h, -1);
  // Host: W_f f + b + W_e e_0 for every column (e_0 is shared: one vector).
  Matrix<S> code_part;
  if constexpr (incremental) {
    const auto& ws = net.state_weight();  // hidden x b (1 + history): code columns, then history slots
    Vector<S> initial_part = Vector<S>::Zero(ws.rows());
    for (int k = 0; k < bits; ++k)
      if ((initial_code[static_cast<std::size_t>(k / 64)] >> (k % 64)) & 1U) initial_part += ws.col(k);
    code_part = projection;
    code_part.colwise() += initial_part;
  }
  std::vector<Index> active(static_cast<std::size_t>(n)), still;
  for (Index j = 0; j < n; ++j) active[static_cast<std::size_t>(j)] = j;
  Matrix<S> z, s;
  auto q_values = [&]() -> Matrix<S> {
    const auto na = static_cast<Index>(active.size());
    z.resize(net.hidden(), na);
    if constexpr (incremental) {
      const auto& ws = net.state_weight();
      for (Index k = 0; k < na; ++k) {
        const Index j = active[static_cast<std::size_t>(k)];
        auto col = z.col(k);
        col = code_part.col(j);
        const std::int16_t* hist = history.data() + static_cast<std::size_t>(j) * h;
        for (int slot = 0; slot < history_len; ++slot)
          if (hist[slot] >= 0)
            actions.for_each_bit(hist[slot], [&](int bit) { col += ws.col(bits + slot * bits + bit); });
      }
      return net.trunk().infer(z);
    } else {
      s.resize(net.state_dim(), na);
      for (Index k = 0; k < na; ++k) {
        const auto j = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
        z.col(k) = projection.col(static_cast<Index>(j));
        write_state(code.data() + j * w, history.data() + j * h, actions, history_len, s.col(k).data());
      }
      return nn::on_host<B>(net.infer_projected(nn::on_backend<B>(z), nn::on_backend<B>(s)));
    }
  };
  for (int step = 0; step < max_steps && !active.empty(); ++step) {
    const Matrix<S> q = q_values();
    still.clear();
    for (Index k = 0; k < static_cast<Index>(active.size()); ++k) {
      Index a = 0;
      q.col(k).maxCoeff(&a);
      if (a == actions.terminate()) continue;
      const Index j = active[static_cast<std::size_t>(k)];
      actions.for_each_bit(static_cast<int>(a), [&](int bit) {
        std::uint64_t& word = code[static_cast<std::size_t>(j) * w + static_cast<std::size_t>(bit / 64)];
        const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
        if constexpr (incremental) {
          if (word & mask)
            code_part.col(j) -= net.state_weight().col(bit);
          else
            code_part.col(j) += net.state_weight().col(bit);
        }
        word ^= mask;
      });
      if (history_len > 0)
        push_history(history.data() + static_cast<std::size_t>(j) * h, history_len, static_cast<int>(a));
      still.push_back(j);
    }
    active.swap(still);
  }
  for (Index j = 0; j < n; ++j)
    std::memcpy(codes.row(first + j), code.data() + static_cast<std::size_t>(j) * w,
                w * sizeof(std::uint64_t));
}

}  // namespace drlh

}  // namespace rlhash
