#pragma once
/// \file
/// A compile-time chain of modules (see module.hpp for the contract):
///
///     using QNet = Sequential<Dense<float>, ReLU<float>, Dropout<float>, Dense<float>>;
///     QNet net(Dense<float>(784, 512, rng), ReLU<float>(), Dropout<float>(0.5, seed),
///              Dense<float>(512, 10, rng));
///
/// Each layer's output matrix is handed to the next by reference (no copies between layers);
/// there is no virtual dispatch. Parameters are named "<layer index>.<name>". All layers run on
/// one backend (nn/backend.hpp; layers without a `Backend` member are host layers).
#include <cstddef>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

template <class... Layers>
class Sequential {
  static_assert(sizeof...(Layers) > 0, "Sequential needs at least one layer");

 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Layers...>>::Scalar;
  static_assert((std::is_same_v<typename Layers::Scalar, Scalar> && ...),
                "all layers of a Sequential must use the same scalar type");
  static_assert(detail::same_backend<Layers...>::value,
                "all layers of a Sequential must use the same backend");
  using Backend = typename detail::same_backend<Layers...>::type;
  using Matrix = typename Backend::template Matrix<Scalar>;
  using ConstRef = typename Backend::template ConstRef<Scalar>;
  static constexpr std::size_t size = sizeof...(Layers);

  explicit Sequential(Layers... layers) : layers_(std::move(layers)...) {}

  template <std::size_t I>
  auto& layer() {
    return std::get<I>(layers_);
  }
  template <std::size_t I>
  const auto& layer() const {
    return std::get<I>(layers_);
  }

  const Matrix& forward(const ConstRef& x) { return forward_from<0>(x); }

  const Matrix& backward(const ConstRef& dy) { return backward_from<size - 1>(dy); }

  Matrix infer(const ConstRef& x) const {
    Matrix y = std::get<0>(layers_).infer(x);
    infer_from<1>(y);
    return y;
  }

  ParameterList<Scalar, Backend> parameters() {
    ParameterList<Scalar, Backend> list;
    for_each([&](auto& layer, std::size_t i) {
      append_parameters(list, layer.parameters(), std::to_string(i) + ".");
    });
    return list;
  }
  void zero_grad() {
    for_each([](auto& layer, std::size_t) { layer.zero_grad(); });
  }
  void set_training(bool training) {
    for_each([&](auto& layer, std::size_t) { layer.set_training(training); });
  }

  /// Non-parameter state of the layers that have some (Dropout generators), in layer order.
  void save_state(ByteWriter& out) const {
    std::apply([&](const auto&... layer) { (save_module_state(out, layer), ...); }, layers_);
  }
  void load_state(ByteReader& in) {
    std::apply([&](auto&... layer) { (load_module_state(in, layer), ...); }, layers_);
  }

 private:
  template <std::size_t I>
  const Matrix& forward_from(const ConstRef& x) {
    const Matrix& y = std::get<I>(layers_).forward(x);
    if constexpr (I + 1 < size)
      return forward_from<I + 1>(y);
    else
      return y;
  }
  template <std::size_t I>
  const Matrix& backward_from(const ConstRef& dy) {
    const Matrix& dx = std::get<I>(layers_).backward(dy);
    if constexpr (I > 0)
      return backward_from<I - 1>(dx);
    else
      return dx;
  }
  template <std::size_t I>
  void infer_from(Matrix& y) const {
    if constexpr (I < size) {
      y = std::get<I>(layers_).infer(y);
      infer_from<I + 1>(y);
    }
  }
  template <class F>
  void for_each(F&& f) {
    for_each_impl(f, std::index_sequence_for<Layers...>{});
  }
  template <class F, std::size_t... I>
  void for_each_impl(F& f, std::index_sequence<I...>) {
    (f(std::get<I>(layers_), I), ...);
  }

  std::tuple<Layers...> layers_;
};

}  // namespace rlhash::nn
