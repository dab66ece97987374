#pragma once
/// \file
/// Schedules: pure functions of the global step count (so a checkpoint's step counter is the
/// whole schedule position). Any callable `double(long long step)` works where a schedule is
/// expected; these are the common ones, with Config-style `visit` for `--set`.
#include <algorithm>
#include <cmath>
#include <string>

#include "rlhash/core/error.hpp"

namespace rlhash::nn {

struct ConstantSchedule {
  double value = 1e-3;
  double operator()(long long) const { return value; }
  template <class V>
  void visit(V&& field) {
    field("value", value);
  }
};

/// base * gamma^floor(step / step_size). DRLIH: base 1e-3, gamma 0.1, every 10,000 steps.
struct StepDecaySchedule {
  double base = 1e-3;
  double gamma = 0.1;
  long long step_size = 10000;

  double operator()(long long step) const {
    rlhash::detail::require(step_size > 0,
                            "StepDecaySchedule: step_size must be > 0, got " + std::to_string(step_size));
    return base * std::pow(gamma, static_cast<double>(std::max(step, 0LL) / step_size));
  }
  template <class V>
  void visit(V&& field) {
    field("base", base);
    field("gamma", gamma);
    field("step_size", step_size);
  }
};

/// From `start` at step 0 linearly to `end` at step `steps`, then constant (learning-rate
/// decay, or the DQN's exploration epsilon).
struct LinearSchedule {
  double start = 1.0;
  double end = 0.0;
  long long steps = 1;

  double operator()(long long step) const {
    rlhash::detail::require(steps > 0, "LinearSchedule: steps must be > 0, got " + std::to_string(steps));
    if (step >= steps) return end;
    if (step <= 0) return start;
    const double f = static_cast<double>(step) / static_cast<double>(steps);
    return start + (end - start) * f;
  }
  template <class V>
  void visit(V&& field) {
    field("start", start);
    field("end", end);
    field("steps", steps);
  }
};

}  // namespace rlhash::nn
