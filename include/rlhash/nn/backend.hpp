#pragma once
/// \file
/// The compute backend of the layers: where their matrices live and the handful of operations
/// the layers are written in. Dense, the activations, ElmanRnn and FeatureFirstRnn take it as
/// their last template parameter (default CpuBackend), so one layer definition runs on the
/// host (Eigen) or, with rlhash/cuda/backend.hpp's CudaBackend, on a GPU (cuBLAS + kernels).
///
/// A backend B provides
///   - types: `B::Matrix<S>`, `B::Vector<S>` (owning, column-major), `B::ConstRef<S>` (what a
///     layer's forward/backward accepts), `B::Map<S>` (a view of raw storage: ParamView);
///     `map(data, rows, cols)` views raw storage (read-only for a const pointer);
///   - host transfers: `from_host(host matrix)`, `to_host(m)`, `upload(dst, host, n)`,
///     `download(host, src, n)` (raw element copies, for parameter lists);
///   - shape: `zeros<S>(rows, cols)`, `resize(m, rows, cols)`, `cols(m, start, count)` (a
///     writable or read-only view of a column range), `transpose(m)` (an operand marker);
///   - arithmetic: `copy(d, a)`, `set_zero(d)`, `add(d, a)` (d += a), `sum(d, a, b)` (d = a + b),
///     `product(c, a, b)` (c = a b), `add_product(c, a, b)` (c += a b) where a and b may be
///     `transpose(m)`, `add_bias(m, v)` (v added to every column), `add_row_sums(v, m)`
///     (v += m 1), `activation_forward<F>(x, y)`, `activation_backward<F>(y, dy, dx)` for the
///     activation policies of activation.hpp (y may be x), `multiply(d, a, b)` (element-wise
///     d = a .* b), `transpose_into(d, a)` (d = a^T; d must not alias a), `scale(d, s)` (d *= s),
///     `squared_norm(a)` (the sum of squares, returned to the host as a double).
/// Destinations that are owning matrices are resized as Eigen's assignment would; views are not.
///
/// CpuBackend is exactly the Eigen expressions the layers were written with before backends
/// existed (same expression types, so the same results bit for bit).
#include <algorithm>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "rlhash/core/types.hpp"

namespace rlhash::nn {

/// The host backend: Eigen matrices and expressions.
struct CpuBackend {
  static constexpr const char* name = "cpu";

  template <class S>
  using Matrix = rlhash::Matrix<S>;
  template <class S>
  using Vector = rlhash::Vector<S>;
  template <class S>
  using ConstRef = Eigen::Ref<const rlhash::Matrix<S>>;
  template <class S>
  using Map = Eigen::Map<rlhash::Matrix<S>>;

  template <class S>
  static Map<S> map(S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }
  template <class S>
  static Eigen::Map<const rlhash::Matrix<S>> map(const S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }

  template <class Plain>
  static Plain from_host(Plain host) {
    return host;
  }
  template <class Plain>
  static const Plain& to_host(const Plain& m) {
    return m;
  }
  template <class S>
  static void upload(S* dst, const S* host, std::size_t count) {
    std::copy(host, host + count, dst);
  }
  template <class S>
  static void download(S* host, const S* src, std::size_t count) {
    std::copy(src, src + count, host);
  }

  template <class S>
  static Matrix<S> zeros(Index rows, Index cols) {
    return Matrix<S>::Zero(rows, cols);
  }
  template <class M>
  static void resize(M& m, Index rows, Index cols) {
    m.resize(rows, cols);
  }
  template <class M>
  static auto cols(M&& m, Index start, Index count) {
    return m.middleCols(start, count);
  }
  template <class M>
  static auto transpose(const M& m) {
    return m.transpose();
  }

  template <class D, class A>
  static void copy(D&& dst, const A& src) {
    dst = src;
  }
  template <class D>
  static void set_zero(D&& dst) {
    dst.setZero();
  }
  template <class D, class A>
  static void add(D&& dst, const A& a) {
    dst += a;
  }
  template <class D, class A, class B>
  static void sum(D&& dst, const A& a, const B& b) {
    dst = a + b;
  }
  template <class C, class A, class B>
  static void product(C&& c, const A& a, const B& b) {
    c.noalias() = a * b;
  }
  template <class C, class A, class B>
  static void add_product(C&& c, const A& a, const B& b) {
    c.noalias() += a * b;
  }
  template <class M, class V>
  static void add_bias(M&& m, const V& bias) {
    m.colwise() += bias.col(0);
  }
  template <class V, class M>
  static void add_row_sums(V&& v, const M& m) {
    v += m.rowwise().sum();
  }
  template <class Function, class X, class Y>
  static void activation_forward(const X& x, Y&& y) {
    Function::forward(x, y);
  }
  template <class Function, class Y, class DY, class DX>
  static void activation_backward(const Y& y, const DY& dy, DX&& dx) {
    Function::backward(y, dy, dx);
  }
  template <class D, class A, class B>
  static void multiply(D&& dst, const A& a, const B& b) {
    dst = a.cwiseProduct(b);
  }
  template <class D, class A>
  static void transpose_into(D&& dst, const A& a) {
    dst = a.transpose();
  }
  template <class D, class S>
  static void scale(D&& dst, S factor) {
    dst *= factor;
  }
  template <class A>
  static double squared_norm(const A& a) {
    return static_cast<double>(a.squaredNorm());
  }
};

/// True for the host backend (checks that must read values, e.g. the optimizers' update).
template <class B>
inline constexpr bool is_cpu_backend_v = std::is_same_v<B, CpuBackend>;

/// A host matrix as an operand of backend B: the matrix itself on the host (no copy), an
/// upload elsewhere. For code that keeps its data on the host and hands it to a network.
template <class B, class S>
decltype(auto) on_backend(const rlhash::Matrix<S>& host) {
  if constexpr (is_cpu_backend_v<B>)
    return (host);
  else
    return B::from_host(host);
}

/// A result of backend B (a matrix returned by value) on the host: moved on the host, a
/// download elsewhere.
template <class B, class M>
rlhash::Matrix<typename std::decay_t<M>::Scalar> on_host(M&& result) {
  if constexpr (is_cpu_backend_v<B>)
    return std::forward<M>(result);
  else
    return B::to_host(result);
}

}  // namespace rlhash::nn
