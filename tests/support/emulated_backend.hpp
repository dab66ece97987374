#pragma once
// A host backend shaped like a device one (the concept: rlhash/nn/backend.hpp), for testing
// backend-generic code without a GPU. Its matrices are NOT Eigen types: move-only owning
// matrices and pointer-and-shape views, exactly the types CUDA's backend hands out
// (rlhash/cuda/device_matrix.hpp). Generic code that reaches for an Eigen member, copies a
// backend matrix or reads an element directly does not compile against it, as it would not
// against CudaBackend; code that compiles computes on the host, so its results can be compared
// with CpuBackend's on any machine. Arithmetic is Eigen's over the raw storage; the optimizers'
// updates are the CUDA kernels' per-element formulas (rlhash/cuda/elementwise.hpp).
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/cuda/elementwise.hpp"

namespace rlhash::testing {

template <class S>
class EmulatedMatrix {
 public:
  using Scalar = S;
  EmulatedMatrix() = default;
  EmulatedMatrix(Index rows, Index cols) : storage_(rows, cols) {}
  explicit EmulatedMatrix(Matrix<S> host) : storage_(std::move(host)) {}
  EmulatedMatrix(const EmulatedMatrix&) = delete;
  EmulatedMatrix& operator=(const EmulatedMatrix&) = delete;
  EmulatedMatrix(EmulatedMatrix&&) noexcept = default;
  EmulatedMatrix& operator=(EmulatedMatrix&&) noexcept = default;

  void resize(Index rows, Index cols) {
    if (rows != storage_.rows() || cols != storage_.cols()) storage_.resize(rows, cols);
  }
  Index rows() const { return storage_.rows(); }
  Index cols() const { return storage_.cols(); }
  Index size() const { return storage_.size(); }
  S* data() { return storage_.data(); }
  const S* data() const { return storage_.data(); }
  const Matrix<S>& host() const { return storage_; }

 private:
  Matrix<S> storage_;
};

template <class S>
class EmulatedView {
 public:
  using Scalar = S;
  EmulatedView() = default;
  EmulatedView(S* data, Index rows, Index cols) : data_(data), rows_(rows), cols_(cols) {}
  EmulatedView(EmulatedMatrix<S>& m) : EmulatedView(m.data(), m.rows(), m.cols()) {}  // NOLINT
  S* data() const { return data_; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }

 private:
  S* data_ = nullptr;
  Index rows_ = 0, cols_ = 0;
};

template <class S>
class EmulatedConstView {
 public:
  using Scalar = S;
  EmulatedConstView() = default;
  EmulatedConstView(const S* data, Index rows, Index cols) : data_(data), rows_(rows), cols_(cols) {}
  EmulatedConstView(const EmulatedMatrix<S>& m)
      : EmulatedConstView(m.data(), m.rows(), m.cols()) {}                                   // NOLINT
  EmulatedConstView(EmulatedView<S> v) : EmulatedConstView(v.data(), v.rows(), v.cols()) {}  // NOLINT
  const S* data() const { return data_; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }
  Index size() const { return rows_ * cols_; }

 private:
  const S* data_ = nullptr;
  Index rows_ = 0, cols_ = 0;
};

template <class S>
struct EmulatedTransposed {
  EmulatedConstView<S> matrix;
};

struct EmulatedBackend {
  static constexpr const char* name = "emulated";

  template <class S>
  using Matrix = EmulatedMatrix<S>;
  template <class S>
  using Vector = EmulatedMatrix<S>;
  template <class S>
  using ConstRef = EmulatedConstView<S>;
  template <class S>
  using Map = EmulatedView<S>;

  template <class S>
  static EmulatedView<S> map(S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }
  template <class S>
  static EmulatedConstView<S> map(const S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }

  template <class Derived>
  static EmulatedMatrix<typename Derived::Scalar> from_host(const Eigen::MatrixBase<Derived>& host) {
    return EmulatedMatrix<typename Derived::Scalar>(rlhash::Matrix<typename Derived::Scalar>(host));
  }
  template <class S>
  static rlhash::Matrix<S> to_host(const EmulatedMatrix<S>& m) {
    return m.host();
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
  static EmulatedMatrix<S> zeros(Index rows, Index cols) {
    return EmulatedMatrix<S>(rlhash::Matrix<S>::Zero(rows, cols));
  }
  template <class S>
  static void resize(EmulatedMatrix<S>& m, Index rows, Index cols) {
    m.resize(rows, cols);
  }

  template <class S>
  static EmulatedView<S> cols(EmulatedMatrix<S>& m, Index start, Index count) {
    return cols(EmulatedView<S>(m), start, count);
  }
  template <class S>
  static EmulatedView<S> cols(EmulatedView<S> m, Index start, Index count) {
    check_cols(m.cols(), start, count);
    return {m.data() + start * m.rows(), m.rows(), count};
  }
  template <class S>
  static EmulatedConstView<S> cols(const EmulatedMatrix<S>& m, Index start, Index count) {
    return cols(EmulatedConstView<S>(m), start, count);
  }
  template <class S>
  static EmulatedConstView<S> cols(EmulatedConstView<S> m, Index start, Index count) {
    check_cols(m.cols(), start, count);
    return {m.data() + start * m.rows(), m.rows(), count};
  }
  template <class M>
  static auto transpose(const M& m) {
    const auto v = as_const(m);
    return EmulatedTransposed<typename decltype(v)::Scalar>{v};
  }

  template <class D, class A>
  static void copy(D&& dst, const A& src) {
    const auto a = as_const(src);
    auto d = target(dst, a.rows(), a.cols());
    if (d.data() != a.data()) eigen(d) = eigen(a);
  }
  template <class D>
  static void set_zero(D&& dst) {
    eigen(existing(dst)).setZero();
  }
  template <class D, class A>
  static void add(D&& dst, const A& src) {
    auto d = existing(dst);
    const auto a = as_const(src);
    require_shape(a, d.rows(), d.cols(), "add");
    eigen(d) += eigen(a);
  }
  template <class D, class A, class B>
  static void sum(D&& dst, const A& a_in, const B& b_in) {
    const auto a = as_const(a_in);
    const auto b = as_const(b_in);
    require_shape(b, a.rows(), a.cols(), "sum");
    eigen(target(dst, a.rows(), a.cols())) = eigen(a) + eigen(b);
  }
  template <class C, class A, class B>
  static void product(C&& c, const A& a, const B& b) {
    const auto x = operand(a);
    const auto y = operand(b);
    require(x.cols() == y.rows(), "product: inner dimensions differ");
    eigen(target(c, x.rows(), y.cols())).noalias() = x * y;
  }
  template <class C, class A, class B>
  static void add_product(C&& c, const A& a, const B& b) {
    const auto x = operand(a);
    const auto y = operand(b);
    auto d = existing(c);
    require(x.cols() == y.rows() && d.rows() == x.rows() && d.cols() == y.cols(), "add_product: shapes");
    eigen(d).noalias() += x * y;
  }
  template <class M, class V>
  static void add_bias(M&& m_in, const V& bias_in) {
    auto m = existing(m_in);
    const auto bias = as_const(bias_in);
    require_shape(bias, m.rows(), 1, "add_bias");
    eigen(m).colwise() += eigen(bias).col(0);
  }
  template <class V, class M>
  static void add_row_sums(V&& v_in, const M& m_in) {
    auto v = existing(v_in);
    const auto m = as_const(m_in);
    require_shape(v, m.rows(), 1, "add_row_sums");
    eigen(v) += eigen(m).rowwise().sum();
  }
  template <class Function, class X, class Y>
  static void activation_forward(const X& x_in, Y&& y_in) {
    const auto x = as_const(x_in);
    Function::forward(eigen(x), eigen(target(y_in, x.rows(), x.cols())));
  }
  template <class Function, class Y, class DY, class DX>
  static void activation_backward(const Y& y_in, const DY& dy_in, DX&& dx_in) {
    const auto y = as_const(y_in);
    const auto dy = as_const(dy_in);
    require_shape(dy, y.rows(), y.cols(), "activation_backward");
    Function::backward(eigen(y), eigen(dy), eigen(target(dx_in, y.rows(), y.cols())));
  }
  template <class D, class A, class B>
  static void multiply(D&& dst, const A& a_in, const B& b_in) {
    const auto a = as_const(a_in);
    const auto b = as_const(b_in);
    require_shape(b, a.rows(), a.cols(), "multiply");
    eigen(target(dst, a.rows(), a.cols())) = eigen(a).cwiseProduct(eigen(b));
  }
  template <class D, class A>
  static void transpose_into(D&& dst, const A& a_in) {
    const auto a = as_const(a_in);
    auto d = target(dst, a.cols(), a.rows());
    require(d.data() != a.data() || a.size() == 0, "transpose_into: the destination aliases the source");
    eigen(d) = eigen(a).transpose();
  }
  template <class D, class S>
  static void scale(D&& dst, S factor) {
    eigen(existing(dst)) *= factor;
  }
  template <class A>
  static double squared_norm(const A& a) {
    return static_cast<double>(eigen(as_const(a)).squaredNorm());
  }

  template <class S>
  static void sgd_update(EmulatedView<S> w, EmulatedView<S> g, EmulatedMatrix<S>* velocity, S lr, S momentum,
                         S weight_decay, bool nesterov) {
    require_shape(EmulatedConstView<S>(g), w.rows(), w.cols(), "sgd_update");
    for (Index i = 0; i < w.size(); ++i)
      cuda::elementwise::sgd(w.data()[i], g.data()[i], velocity != nullptr ? velocity->data() + i : nullptr,
                             lr, momentum, weight_decay, nesterov);
  }
  template <class S>
  static void adam_update(EmulatedView<S> w, EmulatedView<S> g, EmulatedMatrix<S>& m, EmulatedMatrix<S>& v,
                          S lr, S beta1, S beta2, S correction1, S correction2, S epsilon, S weight_decay,
                          bool decoupled) {
    require_shape(EmulatedConstView<S>(g), w.rows(), w.cols(), "adam_update");
    for (Index i = 0; i < w.size(); ++i)
      cuda::elementwise::adam(w.data()[i], g.data()[i], m.data()[i], v.data()[i], lr, beta1, beta2,
                              correction1, correction2, epsilon, weight_decay, decoupled);
  }

 private:
  template <class S>
  static EmulatedConstView<S> as_const(const EmulatedMatrix<S>& m) {
    return m;
  }
  template <class S>
  static EmulatedConstView<S> as_const(EmulatedView<S> v) {
    return v;
  }
  template <class S>
  static EmulatedConstView<S> as_const(EmulatedConstView<S> v) {
    return v;
  }
  template <class S>
  static EmulatedView<S> target(EmulatedMatrix<S>& m, Index rows, Index cols) {
    m.resize(rows, cols);
    return m;
  }
  template <class S>
  static EmulatedView<S> target(EmulatedView<S> v, Index rows, Index cols) {
    require(v.rows() == rows && v.cols() == cols, "a view destination of the wrong shape");
    return v;
  }
  template <class S>
  static EmulatedView<S> existing(EmulatedMatrix<S>& m) {
    return m;
  }
  template <class S>
  static EmulatedView<S> existing(EmulatedView<S> v) {
    return v;
  }
  template <class S>
  static Eigen::Map<rlhash::Matrix<S>> eigen(EmulatedView<S> v) {
    return {v.data(), v.rows(), v.cols()};
  }
  template <class S>
  static Eigen::Map<const rlhash::Matrix<S>> eigen(EmulatedConstView<S> v) {
    return {v.data(), v.rows(), v.cols()};
  }
  template <class S>
  static auto operand(const EmulatedTransposed<S>& t) {
    return eigen(t.matrix).transpose();
  }
  template <class M>
  static auto operand(const M& m) {
    return eigen(as_const(m));
  }
  template <class View>
  static void require_shape(const View& v, Index rows, Index cols, const char* what) {
    require(v.rows() == rows && v.cols() == cols, std::string(what) + ": operand of the wrong shape");
  }
  static void require(bool ok, const std::string& what) {
    rlhash::detail::require(ok, std::string("EmulatedBackend::") + what);
  }
  static void check_cols(Index available, Index start, Index count) {
    require(start >= 0 && count >= 0 && start + count <= available, "cols: column range outside the matrix");
  }
};

}  // namespace rlhash::testing
