#pragma once
/// \file
/// The CUDA backend of the layers (the concept: rlhash/nn/backend.hpp): matrices live in device
/// memory (device_matrix.hpp), products are cuBLAS GEMMs (full float precision, no TF32), sums
/// and copies are cuBLAS geam / device copies, and the element-wise work (activations, bias
/// add, row sums, the optimizers' updates) runs in small kernels. Switch a layer to the GPU by
/// its last template parameter:
///
///     nn::FeatureFirstRnn<float, cuda::CudaBackend> rnn(512, 4096, rng);   // same weights as on the host
///     nn::copy_module(host_rnn, rnn);                                      // or copy trained ones
///
/// All work is queued on the legacy default stream of the calling thread's cuBLAS handle
/// (created on first use), so a download (DeviceMatrix::download, nn::copy_parameters) returns
/// the result of everything queued before it.
///
/// This header is plain C++ (any translation unit may include it); the kernels are declared
/// here and defined in backend_kernels.cuh, which exactly one .cu file of the program must
/// include (as gpu_hamming_index.cuh). Every shape is checked on the host, before any device
/// call, and a mismatch throws InvalidArgument naming the operation.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <climits>
#include <cstddef>
#include <string>
#include <type_traits>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/cuda/cublas_handle.hpp"
#include "rlhash/cuda/device_matrix.hpp"
#include "rlhash/cuda/error.hpp"
#include "rlhash/nn/activation.hpp"

namespace rlhash::cuda {

/// Kernel launchers, defined in backend_kernels.cuh. Element counts and shapes are checked by
/// the callers (CudaBackend); the launchers only queue work on `stream`.
namespace kernels {
#define RLHASH_CUDA_DECLARE_BACKEND_KERNELS(S)                                                             \
  void activation_forward(nn::ActivationKind kind, const S* x, S* y, std::size_t count,                    \
                          cudaStream_t stream);                                                            \
  void activation_backward(nn::ActivationKind kind, const S* y, const S* dy, S* dx, std::size_t count,     \
                           cudaStream_t stream);                                                           \
  void add_bias(S* m, const S* bias, Index rows, Index cols, cudaStream_t stream);                         \
  void add_row_sums(S* v, const S* m, Index rows, Index cols, cudaStream_t stream);                        \
  void sgd_update(S* w, const S* g, S* velocity, std::size_t count, S lr, S momentum, S weight_decay,      \
                  bool nesterov, cudaStream_t stream);                                                     \
  void adam_update(S* w, const S* g, S* m, S* v, std::size_t count, S lr, S beta1, S beta2, S correction1, \
                   S correction2, S epsilon, S weight_decay, bool decoupled, cudaStream_t stream);
RLHASH_CUDA_DECLARE_BACKEND_KERNELS(float)
RLHASH_CUDA_DECLARE_BACKEND_KERNELS(double)
#undef RLHASH_CUDA_DECLARE_BACKEND_KERNELS
}  // namespace kernels

namespace detail {

inline int blas_int(Index v, const char* what) {
  if (v < 0 || v > INT_MAX)
    throw InvalidArgument(std::string("CudaBackend::") + what + ": dimension " + std::to_string(v) +
                          " outside cuBLAS's int range");
  return static_cast<int>(v);
}

inline std::string shape(Index rows, Index cols) {
  return std::to_string(rows) + " x " + std::to_string(cols);
}

/// Read-only views of whatever the layers pass as an operand.
template <class S>
ConstDeviceView<S> as_const_view(const DeviceMatrix<S>& m) {
  return m;
}
template <class S>
ConstDeviceView<S> as_const_view(DeviceView<S> v) {
  return v;
}
template <class S>
ConstDeviceView<S> as_const_view(ConstDeviceView<S> v) {
  return v;
}

/// A destination of `rows x cols`: an owning matrix is resized (as Eigen's assignment does),
/// a view must already have that shape.
template <class S>
DeviceView<S> target(DeviceMatrix<S>& m, Index rows, Index cols, const char*) {
  if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
  return m;
}
template <class S>
DeviceView<S> target(DeviceView<S> v, Index rows, Index cols, const char* what) {
  rlhash::detail::require(v.rows() == rows && v.cols() == cols,
                          std::string("CudaBackend::") + what + ": destination is " +
                              shape(v.rows(), v.cols()) + ", expected " + shape(rows, cols));
  return v;
}
/// A destination that must already have its shape (accumulations).
template <class S>
DeviceView<S> existing(DeviceMatrix<S>& m) {
  return m;
}
template <class S>
DeviceView<S> existing(DeviceView<S> v) {
  return v;
}

/// A product operand: storage, the shape it stands for, and the cuBLAS operation.
template <class S>
struct Operand {
  const S* data;
  Index stored_rows;
  Index rows, cols;  // of op(stored)
  cublasOperation_t op;
};
template <class S>
Operand<S> operand(const Transposed<S>& t) {
  return {t.matrix.data(), t.matrix.rows(), t.matrix.cols(), t.matrix.rows(), CUBLAS_OP_T};
}
template <class M>
auto operand(const M& m) {
  const auto v = as_const_view(m);
  using S = typename decltype(v)::Scalar;
  return Operand<S>{v.data(), v.rows(), v.rows(), v.cols(), CUBLAS_OP_N};
}

/// The arguments of the cuBLAS GEMM for c = op(a) op(b), c being op(a).rows x op(b).cols
/// column-major with leading dimension = rows (every view is contiguous). Throws
/// InvalidArgument for dimensions beyond cuBLAS's int.
struct GemmCall {
  cublasOperation_t transa, transb;
  int m, n, k, lda, ldb, ldc;
};
template <class S>
GemmCall plan_gemm(const Operand<S>& a, const Operand<S>& b) {
  GemmCall call{a.op,
                b.op,
                blas_int(a.rows, "gemm"),
                blas_int(b.cols, "gemm"),
                blas_int(a.cols, "gemm"),
                blas_int(a.stored_rows, "gemm"),
                blas_int(b.stored_rows, "gemm"),
                0};
  call.ldc = call.m;
  return call;
}

inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const float* alpha, const float* a, int lda, const float* b, int ldb,
                           const float* beta, float* c, int ldc) {
  return cublasSgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline cublasStatus_t gemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                           const double* alpha, const double* a, int lda, const double* b, int ldb,
                           const double* beta, double* c, int ldc) {
  return cublasDgemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline cublasStatus_t geam(cublasHandle_t h, int m, int n, const float* alpha, const float* a,
                           const float* beta, const float* b, float* c) {
  return cublasSgeam(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, alpha, a, m, beta, b, m, c, m);
}
inline cublasStatus_t geam(cublasHandle_t h, int m, int n, const double* alpha, const double* a,
                           const double* beta, const double* b, double* c) {
  return cublasDgeam(h, CUBLAS_OP_N, CUBLAS_OP_N, m, n, alpha, a, m, beta, b, m, c, m);
}

/// C (n x m) = A^T for A m x n (geam with beta = 0; B is A again, a valid operand cuBLAS
/// never scales into the result).
inline cublasStatus_t transpose(cublasHandle_t h, int m, int n, const float* a, float* c) {
  const float one = 1, zero = 0;
  return cublasSgeam(h, CUBLAS_OP_T, CUBLAS_OP_T, n, m, &one, a, m, &zero, a, m, c, n);
}
inline cublasStatus_t transpose(cublasHandle_t h, int m, int n, const double* a, double* c) {
  const double one = 1, zero = 0;
  return cublasDgeam(h, CUBLAS_OP_T, CUBLAS_OP_T, n, m, &one, a, m, &zero, a, m, c, n);
}
/// c = diag(x) a for a count x 1 column: the element-wise product.
inline cublasStatus_t elementwise_product(cublasHandle_t h, int count, const float* a, const float* x,
                                          float* c) {
  return cublasSdgmm(h, CUBLAS_SIDE_LEFT, count, 1, a, count, x, 1, c, count);
}
inline cublasStatus_t elementwise_product(cublasHandle_t h, int count, const double* a, const double* x,
                                          double* c) {
  return cublasDdgmm(h, CUBLAS_SIDE_LEFT, count, 1, a, count, x, 1, c, count);
}
inline cublasStatus_t scal(cublasHandle_t h, int count, const float* alpha, float* x) {
  return cublasSscal(h, count, alpha, x, 1);
}
inline cublasStatus_t scal(cublasHandle_t h, int count, const double* alpha, double* x) {
  return cublasDscal(h, count, alpha, x, 1);
}
inline cublasStatus_t nrm2(cublasHandle_t h, int count, const float* x, float* result) {
  return cublasSnrm2(h, count, x, 1, result);
}
inline cublasStatus_t nrm2(cublasHandle_t h, int count, const double* x, double* result) {
  return cublasDnrm2(h, count, x, 1, result);
}

}  // namespace detail

/// The backend; stateless apart from the calling thread's cuBLAS handle.
struct CudaBackend {
  static constexpr const char* name = "cuda";

  template <class S>
  using Matrix = DeviceMatrix<S>;
  template <class S>
  using Vector = DeviceMatrix<S>;  // rows x 1
  template <class S>
  using ConstRef = ConstDeviceView<S>;
  template <class S>
  using Map = DeviceView<S>;

  /// The calling thread's handle (cuBLAS handles must not be shared between threads). It is
  /// bound to the device current when the thread first used the backend: a thread trains on
  /// one device (select it with cudaSetDevice before the first use).
  static CublasHandle& handle() {
    thread_local CublasHandle h;
    return h;
  }
  /// Waits for everything queued by this thread's backend operations; a failure of any throws.
  static void synchronize() { handle().synchronize(); }

  template <class S>
  static DeviceView<S> map(S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }
  template <class S>
  static ConstDeviceView<S> map(const S* data, Index rows, Index cols) {
    return {data, rows, cols};
  }

  template <class Derived>
  static DeviceMatrix<typename Derived::Scalar> from_host(const Eigen::MatrixBase<Derived>& host) {
    return DeviceMatrix<typename Derived::Scalar>(rlhash::Matrix<typename Derived::Scalar>(host));
  }
  template <class S>
  static rlhash::Matrix<S> to_host(const DeviceMatrix<S>& m) {
    return m.download();
  }
  /// Raw transfers for parameter lists (nn::copy_parameters); both return when the copy is done.
  template <class S>
  static void upload(S* dst, const S* host, std::size_t count) {
    if (count > 0) RLHASH_CUDA_CHECK(cudaMemcpy(dst, host, count * sizeof(S), cudaMemcpyHostToDevice));
  }
  template <class S>
  static void download(S* host, const S* src, std::size_t count) {
    if (count > 0) RLHASH_CUDA_CHECK(cudaMemcpy(host, src, count * sizeof(S), cudaMemcpyDeviceToHost));
  }

  template <class S>
  static DeviceMatrix<S> zeros(Index rows, Index cols) {
    DeviceMatrix<S> m(rows, cols);
    set_zero(DeviceView<S>(m));
    return m;
  }
  template <class S>
  static void resize(DeviceMatrix<S>& m, Index rows, Index cols) {
    if (m.rows() != rows || m.cols() != cols) m.resize(rows, cols);
  }

  /// Columns [start, start + count) of `m`: writable for a DeviceMatrix or DeviceView,
  /// read-only otherwise.
  template <class S>
  static DeviceView<S> cols(DeviceMatrix<S>& m, Index start, Index count) {
    return cols(DeviceView<S>(m), start, count);
  }
  template <class S>
  static DeviceView<S> cols(DeviceView<S> m, Index start, Index count) {
    check_cols(m.cols(), start, count);
    return {m.data() + start * m.rows(), m.rows(), count};
  }
  template <class S>
  static ConstDeviceView<S> cols(const DeviceMatrix<S>& m, Index start, Index count) {
    return cols(ConstDeviceView<S>(m), start, count);
  }
  template <class S>
  static ConstDeviceView<S> cols(ConstDeviceView<S> m, Index start, Index count) {
    check_cols(m.cols(), start, count);
    return {m.data() + start * m.rows(), m.rows(), count};
  }
  template <class M>
  static auto transpose(const M& m) {
    const auto v = detail::as_const_view(m);
    return Transposed<typename decltype(v)::Scalar>{v};
  }

  /// dst = src.
  template <class D, class A>
  static void copy(D&& dst, const A& src) {
    const auto a = detail::as_const_view(src);
    auto d = detail::target(dst, a.rows(), a.cols(), "copy");
    if (d.size() > 0 && d.data() != a.data())
      RLHASH_CUDA_CHECK(cudaMemcpyAsync(d.data(), a.data(), bytes(d), cudaMemcpyDeviceToDevice, stream()));
  }
  template <class D>
  static void set_zero(D&& dst) {
    auto d = detail::existing(dst);
    if (d.size() > 0) RLHASH_CUDA_CHECK(cudaMemsetAsync(d.data(), 0, bytes(d), stream()));
  }
  /// dst += a.
  template <class D, class A>
  static void add(D&& dst, const A& src) {
    auto d = detail::existing(dst);
    const auto a = detail::as_const_view(src);
    require_same_shape(d.rows(), d.cols(), a.rows(), a.cols(), "add");
    axpby(detail::as_const_view(d), a, d);
  }
  /// dst = a + b.
  template <class D, class A, class B>
  static void sum(D&& dst, const A& a_in, const B& b_in) {
    const auto a = detail::as_const_view(a_in);
    const auto b = detail::as_const_view(b_in);
    require_same_shape(a.rows(), a.cols(), b.rows(), b.cols(), "sum");
    auto d = detail::target(dst, a.rows(), a.cols(), "sum");
    axpby(a, b, d);
  }
  /// c = a b (a, b: matrices or transpose(...)).
  template <class C, class A, class B>
  static void product(C&& c, const A& a, const B& b) {
    const auto x = detail::operand(a);
    const auto y = detail::operand(b);
    require_inner(x, y);
    gemm(x, y, detail::target(c, x.rows, y.cols, "product"), false);
  }
  /// c += a b.
  template <class C, class A, class B>
  static void add_product(C&& c, const A& a, const B& b) {
    const auto x = detail::operand(a);
    const auto y = detail::operand(b);
    require_inner(x, y);
    auto d = detail::existing(c);
    require_same_shape(d.rows(), d.cols(), x.rows, y.cols, "add_product");
    gemm(x, y, d, true);
  }
  /// Adds the column vector `bias` to every column of `m`.
  template <class M, class V>
  static void add_bias(M&& m_in, const V& bias_in) {
    auto m = detail::existing(m_in);
    const auto bias = detail::as_const_view(bias_in);
    require_same_shape(bias.rows(), bias.cols(), m.rows(), 1, "add_bias");
    if (m.size() > 0) kernels::add_bias(m.data(), bias.data(), m.rows(), m.cols(), stream());
  }
  /// v += m 1 (the row sums of m).
  template <class V, class M>
  static void add_row_sums(V&& v_in, const M& m_in) {
    auto v = detail::existing(v_in);
    const auto m = detail::as_const_view(m_in);
    require_same_shape(v.rows(), v.cols(), m.rows(), 1, "add_row_sums");
    if (m.size() > 0) kernels::add_row_sums(v.data(), m.data(), m.rows(), m.cols(), stream());
  }
  template <class Function, class X, class Y>
  static void activation_forward(const X& x_in, Y&& y_in) {
    const auto x = detail::as_const_view(x_in);
    auto y = detail::target(y_in, x.rows(), x.cols(), "activation_forward");
    if (x.size() > 0) kernels::activation_forward(Function::kind, x.data(), y.data(), count(x), stream());
  }
  template <class Function, class Y, class DY, class DX>
  static void activation_backward(const Y& y_in, const DY& dy_in, DX&& dx_in) {
    const auto y = detail::as_const_view(y_in);
    const auto dy = detail::as_const_view(dy_in);
    require_same_shape(dy.rows(), dy.cols(), y.rows(), y.cols(), "activation_backward");
    auto dx = detail::target(dx_in, y.rows(), y.cols(), "activation_backward");
    if (y.size() > 0)
      kernels::activation_backward(Function::kind, y.data(), dy.data(), dx.data(), count(y), stream());
  }

  /// dst = a .* b (element-wise; dst may be a or b).
  template <class D, class A, class B>
  static void multiply(D&& dst, const A& a_in, const B& b_in) {
    auto a = detail::as_const_view(a_in);
    auto b = detail::as_const_view(b_in);
    require_same_shape(b.rows(), b.cols(), a.rows(), a.cols(), "multiply");
    auto d = detail::target(dst, a.rows(), a.cols(), "multiply");
    if (d.size() == 0) return;
    // cuBLAS's dgmm runs in place over its matrix operand only, not over its diagonal vector.
    if (d.data() == b.data()) std::swap(a, b);
    RLHASH_CUDA_CHECK(detail::elementwise_product(handle().get(), detail::blas_int(d.size(), "multiply"),
                                                  a.data(), b.data(), d.data()));
  }
  /// dst = a^T (dst must not alias a).
  template <class D, class A>
  static void transpose_into(D&& dst, const A& a_in) {
    const auto a = detail::as_const_view(a_in);
    auto d = detail::target(dst, a.cols(), a.rows(), "transpose_into");
    if (d.size() == 0) return;
    rlhash::detail::require(d.data() != a.data(),
                            "CudaBackend::transpose_into: the destination aliases the source");
    RLHASH_CUDA_CHECK(detail::transpose(handle().get(), detail::blas_int(a.rows(), "transpose_into"),
                                        detail::blas_int(a.cols(), "transpose_into"), a.data(), d.data()));
  }
  /// dst *= factor.
  template <class D, class S>
  static void scale(D&& dst, S factor) {
    auto d = detail::existing(dst);
    using T = typename decltype(d)::Scalar;
    const T alpha = static_cast<T>(factor);
    if (d.size() > 0)
      RLHASH_CUDA_CHECK(detail::scal(handle().get(), detail::blas_int(d.size(), "scale"), &alpha, d.data()));
  }
  /// The sum of the squares of `a`'s elements (cuBLAS's nrm2, squared; waits for the result).
  template <class A>
  static double squared_norm(const A& a_in) {
    const auto a = detail::as_const_view(a_in);
    using T = typename decltype(a)::Scalar;
    T norm = 0;
    if (a.size() > 0)
      RLHASH_CUDA_CHECK(
          detail::nrm2(handle().get(), detail::blas_int(a.size(), "squared_norm"), a.data(), &norm));
    return static_cast<double>(norm) * static_cast<double>(norm);
  }

  /// nn::Sgd's update on device parameters (`velocity` null without momentum).
  template <class S>
  static void sgd_update(DeviceView<S> w, DeviceView<S> g, DeviceMatrix<S>* velocity, S lr, S momentum,
                         S weight_decay, bool nesterov) {
    require_same_shape(g.rows(), g.cols(), w.rows(), w.cols(), "sgd_update");
    if (velocity != nullptr)
      require_same_shape(velocity->rows(), velocity->cols(), w.rows(), w.cols(), "sgd_update");
    if (w.size() > 0)
      kernels::sgd_update(w.data(), g.data(), velocity != nullptr ? velocity->data() : nullptr, count(w), lr,
                          momentum, weight_decay, nesterov, stream());
  }
  /// nn::Adam's update on device parameters; `correction1/2` = 1 - beta^t.
  template <class S>
  static void adam_update(DeviceView<S> w, DeviceView<S> g, DeviceMatrix<S>& m, DeviceMatrix<S>& v, S lr,
                          S beta1, S beta2, S correction1, S correction2, S epsilon, S weight_decay,
                          bool decoupled) {
    require_same_shape(g.rows(), g.cols(), w.rows(), w.cols(), "adam_update");
    require_same_shape(v.rows(), v.cols(), m.rows(), m.cols(), "adam_update");
    require_same_shape(m.rows(), m.cols(), w.rows(), w.cols(), "adam_update");
    if (w.size() > 0)
      kernels::adam_update(w.data(), g.data(), m.data(), v.data(), count(w), lr, beta1, beta2, correction1,
                           correction2, epsilon, weight_decay, decoupled, stream());
  }

 private:
  static cudaStream_t stream() { return handle().stream(); }
  template <class V>
  static std::size_t count(const V& v) {
    return static_cast<std::size_t>(v.size());
  }
  template <class V>
  static std::size_t bytes(const V& v) {
    return count(v) * sizeof(typename V::Scalar);
  }
  static void check_cols(Index available, Index start, Index count) {
    rlhash::detail::require(start >= 0 && count >= 0 && start + count <= available,
                            "CudaBackend::cols: columns [" + std::to_string(start) + ", " +
                                std::to_string(start + count) + ") outside a matrix of " +
                                std::to_string(available) + " columns");
  }
  static void require_same_shape(Index rows, Index cols, Index expected_rows, Index expected_cols,
                                 const char* what) {
    rlhash::detail::require(rows == expected_rows && cols == expected_cols,
                            std::string("CudaBackend::") + what + ": operand is " +
                                detail::shape(rows, cols) + ", expected " +
                                detail::shape(expected_rows, expected_cols));
  }
  template <class S>
  static void require_inner(const detail::Operand<S>& a, const detail::Operand<S>& b) {
    rlhash::detail::require(a.cols == b.rows, "CudaBackend::product: operands are " +
                                                  detail::shape(a.rows, a.cols) + " and " +
                                                  detail::shape(b.rows, b.cols));
  }
  /// d = a + b, element-wise (geam; d may be a or b: cuBLAS's in-place mode).
  template <class S>
  static void axpby(ConstDeviceView<S> a, ConstDeviceView<S> b, DeviceView<S> d) {
    if (d.size() == 0) return;
    const int m = detail::blas_int(d.rows(), "geam"), n = detail::blas_int(d.cols(), "geam");
    const S one = 1;
    RLHASH_CUDA_CHECK(detail::geam(handle().get(), m, n, &one, a.data(), &one, b.data(), d.data()));
  }
  template <class S>
  static void gemm(const detail::Operand<S>& a, const detail::Operand<S>& b, DeviceView<S> c,
                   bool accumulate) {
    if (c.size() == 0) return;
    if (a.cols == 0) {  // an empty inner dimension: the product is zero
      if (!accumulate) set_zero(c);
      return;
    }
    const detail::GemmCall call = detail::plan_gemm(a, b);
    const S one = 1, beta = accumulate ? S(1) : S(0);
    RLHASH_CUDA_CHECK(detail::gemm(handle().get(), call.transa, call.transb, call.m, call.n, call.k, &one,
                                   a.data, call.lda, b.data, call.ldb, &beta, c.data(), call.ldc));
  }
};

}  // namespace rlhash::cuda
