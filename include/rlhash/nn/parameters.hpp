#pragma once
/// \file
/// Parameter views: the flat list of (value, gradient) pairs a layer exposes, and what
/// optimizers, gradient clipping, checkpoints and early stopping do with such a list.
///
/// A view holds raw pointers into the layer's own matrices, so it stays valid as long as the
/// layer is neither destroyed nor moved; take `parameters()` after the network is in place.
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"

namespace rlhash::nn {

/// One trainable tensor: its values and the gradient accumulated by `backward`, both
/// `rows x cols` column-major in backend `B`'s memory (backend.hpp; host memory for the
/// default CpuBackend), and a name ("0.weight") for error messages and checkpoints.
template <class S, class B = CpuBackend>
struct ParamView {
  using Backend = B;
  S* value_data = nullptr;
  S* grad_data = nullptr;
  Index rows = 0;
  Index cols = 0;
  std::string name;

  typename B::template Map<S> value() const { return B::map(value_data, rows, cols); }
  typename B::template Map<S> grad() const { return B::map(grad_data, rows, cols); }
  Index size() const { return rows * cols; }
};

template <class S, class B = CpuBackend>
using ParameterList = std::vector<ParamView<S, B>>;

/// A view of `value` and its gradient `grad` (same shape; both plain matrices of backend `B`).
template <class B = CpuBackend, class Plain>
ParamView<typename Plain::Scalar, B> make_param(Plain& value, Plain& grad, std::string name) {
  rlhash::detail::require(value.rows() == grad.rows() && value.cols() == grad.cols(),
                          "make_param: '" + name + "' value and gradient shapes differ");
  return {value.data(), grad.data(), value.rows(), value.cols(), std::move(name)};
}

/// Copies every value and gradient of `from` into `to`, which must list the same names and
/// shapes: host -> device before training on a GPU, device -> host for a checkpoint. One side
/// must be the host (CpuBackend). Nothing is copied unless the whole list matches.
template <class S, class From, class To>
void copy_parameters(const ParameterList<S, From>& from, const ParameterList<S, To>& to) {
  static_assert(std::is_same_v<From, CpuBackend> || std::is_same_v<To, CpuBackend>,
                "copy_parameters: one side must be the host (CpuBackend)");
  rlhash::detail::require(from.size() == to.size(), "copy_parameters: " + std::to_string(from.size()) +
                                                        " parameters to copy into " +
                                                        std::to_string(to.size()));
  for (std::size_t i = 0; i < from.size(); ++i)
    rlhash::detail::require(
        from[i].name == to[i].name && from[i].rows == to[i].rows && from[i].cols == to[i].cols,
        "copy_parameters: parameter " + std::to_string(i) + " is '" + from[i].name + "' " +
            std::to_string(from[i].rows) + "x" + std::to_string(from[i].cols) + ", the destination has '" +
            to[i].name + "' " + std::to_string(to[i].rows) + "x" + std::to_string(to[i].cols));
  for (std::size_t i = 0; i < from.size(); ++i) {
    const auto count = static_cast<std::size_t>(from[i].size());
    if constexpr (std::is_same_v<From, CpuBackend>) {
      To::upload(to[i].value_data, from[i].value_data, count);
      To::upload(to[i].grad_data, from[i].grad_data, count);
    } else {
      From::download(to[i].value_data, from[i].value_data, count);
      From::download(to[i].grad_data, from[i].grad_data, count);
    }
  }
}

/// copy_parameters between two modules of the same architecture on different backends, e.g.
/// `nn::copy_module(host_rnn, device_rnn)`.
template <class From, class To>
void copy_module(From& from, To& to) {
  copy_parameters(from.parameters(), to.parameters());
}

/// Appends `from` to `to`, prefixing each name with `prefix` (e.g. "2.").
template <class S, class B>
void append_parameters(ParameterList<S, B>& to, ParameterList<S, B> from, const std::string& prefix) {
  for (auto& p : from) {
    p.name = prefix + p.name;
    to.push_back(std::move(p));
  }
}

/// Total number of scalars in the list.
template <class S, class B>
Index parameter_count(const ParameterList<S, B>& params) {
  Index n = 0;
  for (const auto& p : params) n += p.size();
  return n;
}

template <class S, class B>
void zero_grad(const ParameterList<S, B>& params) {
  for (const auto& p : params) B::set_zero(p.grad());
}

/// Euclidean norm of all gradients taken together (accumulated in double).
template <class S, class B>
double grad_norm(const ParameterList<S, B>& params) {
  double sum = 0;
  for (const auto& p : params) sum += B::squared_norm(p.grad());
  return std::sqrt(sum);
}

/// Global gradient-norm clipping: scales every gradient by max_norm / norm when the global
/// norm exceeds `max_norm`. Returns the norm before clipping.
template <class S, class B>
double clip_grad_norm(const ParameterList<S, B>& params, double max_norm) {
  rlhash::detail::require(max_norm > 0,
                          "clip_grad_norm: max_norm must be > 0, got " + std::to_string(max_norm));
  const double norm = grad_norm(params);
  if (norm > max_norm) {
    const S scale = static_cast<S>(max_norm / norm);
    for (const auto& p : params) B::scale(p.grad(), scale);
  }
  return norm;
}

/// A host copy of one parameter's value (a download on a device backend).
template <class S, class B>
Matrix<S> host_value(const ParamView<S, B>& p) {
  Matrix<S> value(p.rows, p.cols);
  B::download(value.data(), p.value_data, static_cast<std::size_t>(p.size()));
  return value;
}

/// A host copy of every value (for early stopping's "best parameters").
template <class S, class B>
std::vector<Matrix<S>> copy_values(const ParameterList<S, B>& params) {
  std::vector<Matrix<S>> values;
  values.reserve(params.size());
  for (const auto& p : params) values.push_back(host_value(p));
  return values;
}

/// Writes host `values` back; the shapes must match the list exactly.
template <class S, class B>
void assign_values(const ParameterList<S, B>& params, const std::vector<Matrix<S>>& values) {
  rlhash::detail::require(values.size() == params.size(), "assign_values: " + std::to_string(values.size()) +
                                                              " matrices for " +
                                                              std::to_string(params.size()) + " parameters");
  for (std::size_t i = 0; i < params.size(); ++i)
    rlhash::detail::require(values[i].rows() == params[i].rows && values[i].cols() == params[i].cols,
                            "assign_values: shape mismatch for parameter '" + params[i].name + "'");
  for (std::size_t i = 0; i < params.size(); ++i)
    B::upload(params[i].value_data, values[i].data(), static_cast<std::size_t>(values[i].size()));
}

/// "name rows x cols" for every parameter, comma-separated (for error messages).
template <class S, class B>
std::string describe_shapes(const ParameterList<S, B>& params) {
  std::string text;
  for (const auto& p : params) {
    if (!text.empty()) text += ", ";
    text += p.name + " " + std::to_string(p.rows) + "x" + std::to_string(p.cols);
  }
  return text;
}

/// Writes the count, then each parameter's name and value matrix (shape included). A device
/// backend's values are downloaded: the bytes are the host network's.
template <class S, class B>
void write_parameters(ByteWriter& out, const ParameterList<S, B>& params) {
  out.put<std::uint64_t>(params.size());
  for (const auto& p : params) {
    out.put_string(p.name);
    if constexpr (is_cpu_backend_v<B>)
      out.put_matrix(p.value());
    else
      out.put_matrix(host_value(p));
  }
}

/// Reads what write_parameters wrote into host temporaries and checks count, names and shapes
/// against `params` (the network being loaded); nothing is assigned. A file written for
/// another architecture is a FormatError that names the first difference.
template <class S, class B>
std::vector<Matrix<S>> read_parameter_values(ByteReader& in, const ParameterList<S, B>& params) {
  const auto count = in.get<std::uint64_t>();
  if (count != params.size())
    in.fail(std::to_string(params.size()) + " parameters (" + describe_shapes(params) + "), found " +
            std::to_string(count) + " (a different architecture?)");
  std::vector<Matrix<S>> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    const std::string name = in.get_string();
    if (name != p.name)
      in.fail("parameter '" + p.name + "', found '" + name + "' (a different architecture?)");
    values.push_back(in.template get_matrix<S>());
    const auto& v = values.back();
    if (v.rows() != p.rows || v.cols() != p.cols)
      in.fail("parameter '" + p.name + "' of " + std::to_string(p.rows) + " x " + std::to_string(p.cols) +
              ", found " + std::to_string(v.rows()) + " x " + std::to_string(v.cols()) +
              " (a different architecture?)");
  }
  return values;
}

/// read_parameter_values, then assign: the parameters change only when the whole read succeeds.
template <class S, class B>
void read_parameters(ByteReader& in, const ParameterList<S, B>& params) {
  assign_values(params, read_parameter_values(in, params));
}

}  // namespace rlhash::nn
