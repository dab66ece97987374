#pragma once
/// \file
/// The layer ("module") contract, and what comes free with it.
///
/// A module `M` over scalar `S` (float or double) provides
///   - `using Scalar = S;`
///   - `const Matrix<S>& forward(const Eigen::Ref<const Matrix<S>>& x)`: one sample per column;
///     caches what backward needs; the returned matrix lives until the next forward;
///   - `const Matrix<S>& backward(const Eigen::Ref<const Matrix<S>>& dy)`: returns dL/dx for the
///     last forward and ADDS the parameter gradients to the module's gradient buffers;
///   - `Matrix<S> infer(const Eigen::Ref<const Matrix<S>>& x) const`: forward in evaluation
///     mode, without touching caches (for const encoders);
///   - `ParameterList<S> parameters()`, `void zero_grad()`, `void set_training(bool)`;
///   - optionally `void save_state(ByteWriter&) const` / `void load_state(ByteReader&)` for
///     non-parameter state that a bit-exact resume needs (Dropout's generator).
/// No virtual base: Sequential and Modules are templates over concrete module types.
#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/core/serialize.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

namespace detail {
template <class M, class = void>
struct has_state : std::false_type {};
template <class M>
struct has_state<M, std::void_t<decltype(std::declval<const M&>().save_state(std::declval<ByteWriter&>())),
                                decltype(std::declval<M&>().load_state(std::declval<ByteReader&>()))>>
    : std::true_type {};

template <class M, class = void>
struct backend_of {
  using type = CpuBackend;
};
template <class M>
struct backend_of<M, std::void_t<typename M::Backend>> {
  using type = typename M::Backend;
};
}  // namespace detail

/// The backend a module runs on (nn/backend.hpp): its `Backend` member, else the host.
template <class M>
using backend_of_t = typename detail::backend_of<M>::type;

namespace detail {
template <class... Ms>
struct same_backend {
  using type = backend_of_t<std::tuple_element_t<0, std::tuple<Ms...>>>;
  static constexpr bool value = (std::is_same_v<backend_of_t<Ms>, type> && ...);
};
}  // namespace detail

/// True when `M` carries non-parameter state (save_state/load_state).
template <class M>
inline constexpr bool has_state_v = detail::has_state<M>::value;

/// Writes `m`'s non-parameter state, if it has any.
template <class M>
void save_module_state(ByteWriter& out, const M& m) {
  if constexpr (has_state_v<M>) m.save_state(out);
}

/// Reads what save_module_state wrote.
template <class M>
void load_module_state(ByteReader& in, M& m) {
  if constexpr (has_state_v<M>) m.load_state(in);
}

/// Parameters (names, shapes, values) and state of a module, e.g. for a model file.
template <class M>
void save_module(ByteWriter& out, const M& m) {
  // parameters() hands out mutable views; nothing here writes through them.
  write_parameters(out, const_cast<M&>(m).parameters());
  save_module_state(out, m);
}

/// Reads what save_module wrote. All or nothing: on any error (other architecture, truncated
/// data) the module keeps its parameters and state and a FormatError names the problem.
template <class M>
void load_module(ByteReader& in, M& m) {
  const auto params = m.parameters();
  auto values = read_parameter_values(in, params);
  if constexpr (has_state_v<M>) {
    ByteWriter backup;
    m.save_state(backup);
    try {
      m.load_state(in);
    } catch (...) {
      ByteReader restore(backup.bytes().data(), backup.bytes().size(), "state backup");
      m.load_state(restore);
      throw;
    }
  }
  assign_values(params, values);
}

/// Several modules trained together that are not one chain (DRLIH's RNN and policy head):
/// parameters are concatenated with prefixes "0.", "1.", ...; the modules are held by reference
/// and run on one backend.
template <class... Ms>
class Modules {
  static_assert(sizeof...(Ms) > 0, "Modules needs at least one module");
  static_assert(detail::same_backend<Ms...>::value, "all modules of a Modules must use the same backend");

 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Ms...>>::Scalar;
  using Backend = typename detail::same_backend<Ms...>::type;

  explicit Modules(Ms&... modules) : modules_(modules...) {}

  ParameterList<Scalar, Backend> parameters() {
    ParameterList<Scalar, Backend> list;
    for_each(
        [&](auto& m, std::size_t i) { append_parameters(list, m.parameters(), std::to_string(i) + "."); });
    return list;
  }
  void zero_grad() {
    for_each([](auto& m, std::size_t) { m.zero_grad(); });
  }
  void set_training(bool training) {
    for_each([&](auto& m, std::size_t) { m.set_training(training); });
  }
  void save_state(ByteWriter& out) const {
    std::apply([&](auto&... m) { (save_module_state(out, m), ...); }, modules_);
  }
  void load_state(ByteReader& in) {
    std::apply([&](auto&... m) { (load_module_state(in, m), ...); }, modules_);
  }
  template <std::size_t I>
  auto& get() {
    return std::get<I>(modules_);
  }

 private:
  template <class F>
  void for_each(F&& f) {
    for_each_impl(f, std::index_sequence_for<Ms...>{});
  }
  template <class F, std::size_t... I>
  void for_each_impl(F& f, std::index_sequence<I...>) {
    (f(std::get<I>(modules_), I), ...);
  }
  std::tuple<Ms&...> modules_;
};

/// Groups modules by reference: `auto model = tie_modules(rnn, head);`
template <class... Ms>
Modules<Ms...> tie_modules(Ms&... modules) {
  return Modules<Ms...>(modules...);
}

}  // namespace rlhash::nn
