// A checking stand-in for the CUDA runtime and cuBLAS calls the CUDA backend makes, so that the
// backend's GPU tests (test_cuda_layers.cpp, test_cuda_methods.cpp) run on any machine.
//
// "Device" memory is host memory the stand-in tracks; the cuBLAS routines compute naively on
// it; the kernel launchers run their element formulas (cuda/elementwise.hpp, what the real
// kernels call) serially. Every call first checks what cuBLAS and the runtime document, and
// what the backend promises: operands inside one device allocation, leading dimensions at
// least the stored rows, scalars on the host (host pointer mode), no overlap of an output with
// an input except geam's and dgmm's documented in-place forms, no overlapping device copies,
// every copy, kernel and cuBLAS call on the cuBLAS handle's stream, the math mode never TF32.
// New allocations hold NaN bit patterns, so a read of unwritten memory spoils the results.
//
// A violated rule returns an error status (the backend's RLHASH_CUDA_CHECK then throws at the
// failing call) and is counted; cuda_stand_in_main.cpp fails the run when any was counted,
// also those behind ignored statuses. What this cannot check is the kernels' own device code
// (thread indexing, launch bounds): test_cuda_gpu does, on a device.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_stand_in.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/elementwise.hpp"

namespace {

std::mutex mutex;
std::map<std::uintptr_t, std::size_t> allocations;  // device allocations: start -> bytes
int violation_count = 0;
cudaStream_t handle_stream = nullptr;  // the stream of the (last) cuBLAS handle

bool violation(const std::string& what) {
  std::lock_guard<std::mutex> lock(mutex);
  ++violation_count;
  std::fprintf(stderr, "CUDA stand-in: rule violated: %s\n", what.c_str());
  return false;
}

std::uintptr_t address(const void* p) { return reinterpret_cast<std::uintptr_t>(p); }

bool is_device(const void* p) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = allocations.upper_bound(address(p));
  if (it == allocations.begin()) return false;
  --it;
  return address(p) < it->first + it->second;
}

/// [p, p + bytes) lies inside one device allocation (empty ranges always do).
bool in_device(const void* p, std::size_t bytes, const std::string& what) {
  if (bytes == 0) return true;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = allocations.upper_bound(address(p));
    if (it != allocations.begin() && (--it, address(p) + bytes <= it->first + it->second)) return true;
  }
  return violation(what + ": " + std::to_string(bytes) + " bytes not inside one device allocation");
}

bool overlap(const void* a, std::size_t a_bytes, const void* b, std::size_t b_bytes) {
  return a_bytes > 0 && b_bytes > 0 && address(a) < address(b) + b_bytes && address(b) < address(a) + a_bytes;
}

bool on_handle_stream(cudaStream_t stream, const std::string& what) {
  return stream == handle_stream || violation(what + ": queued on another stream than the cuBLAS handle's");
}

bool host_scalar(const void* p, const std::string& what) {
  return !is_device(p) || violation(what + ": a device pointer in host pointer mode");
}

/// Bytes spanned by a rows x cols column-major operand with leading dimension ld.
template <class S>
std::size_t span(int rows, int cols, int ld) {
  if (rows <= 0 || cols <= 0) return 0;
  return (static_cast<std::size_t>(cols - 1) * static_cast<std::size_t>(ld) +
          static_cast<std::size_t>(rows)) *
         sizeof(S);
}

template <class S>
S element(const S* x, cublasOperation_t op, int ld, int i, int j) {  // op(X)(i, j)
  return op == CUBLAS_OP_N ? x[i + static_cast<std::size_t>(j) * ld]
                           : x[j + static_cast<std::size_t>(i) * ld];
}

cublasStatus_t invalid(const std::string& what) {
  violation(what);
  return CUBLAS_STATUS_INVALID_VALUE;
}

constexpr cublasStatus_t ok = CUBLAS_STATUS_SUCCESS;

/// A stored matrix operand of a cuBLAS call: `rows` x `cols` as stored, leading dimension `ld`.
struct Stored {
  const void* data;
  int rows, cols, ld;
};
Stored stored(const void* data, cublasOperation_t op, int op_rows, int op_cols, int ld) {
  return op == CUBLAS_OP_N ? Stored{data, op_rows, op_cols, ld} : Stored{data, op_cols, op_rows, ld};
}
template <class S>
std::size_t span(const Stored& x) {
  return span<S>(x.rows, x.cols, x.ld);
}

/// The rules gemm and geam share: sizes, leading dimensions, the stream, host scalars and the
/// three operands inside device allocations.
template <class S>
bool valid_operands(const std::string& what, const Stored& a, const Stored& b, const Stored& c,
                    const S* alpha, const S* beta) {
  for (const Stored* x : {&a, &b, &c})
    if (x->rows < 0 || x->cols < 0 || x->ld < std::max(1, x->rows))
      return violation(what + ": a negative size or a leading dimension below the stored rows");
  return on_handle_stream(handle_stream, what) && host_scalar(alpha, what) && host_scalar(beta, what) &&
         in_device(a.data, span<S>(a), what + " A") && in_device(b.data, span<S>(b), what + " B") &&
         in_device(c.data, span<S>(c), what + " C");
}

template <class S>
cublasStatus_t gemm(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                    const S* alpha, const S* a, int lda, const S* b, int ldb, const S* beta, S* c, int ldc) {
  const std::string what = "gemm(m=" + std::to_string(m) + ", n=" + std::to_string(n) +
                           ", k=" + std::to_string(k) + ", lda=" + std::to_string(lda) +
                           ", ldb=" + std::to_string(ldb) + ", ldc=" + std::to_string(ldc) + ")";
  const Stored sa = stored(a, ta, m, k, lda), sb = stored(b, tb, k, n, ldb), sc{c, m, n, ldc};
  if (!valid_operands(what, sa, sb, sc, alpha, beta)) return CUBLAS_STATUS_INVALID_VALUE;
  if (overlap(c, span<S>(sc), a, span<S>(sa)) || overlap(c, span<S>(sc), b, span<S>(sb)))
    return invalid(what + ": C overlaps A or B");
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      S sum = 0;
      for (int l = 0; l < k; ++l) sum += element(a, ta, lda, i, l) * element(b, tb, ldb, l, j);
      S& out = c[i + static_cast<std::size_t>(j) * ldc];
      out = *beta == S(0) ? *alpha * sum : *alpha * sum + *beta * out;  // beta = 0: C is not read
    }
  return ok;
}

template <class S>
cublasStatus_t geam(cublasHandle_t, cublasOperation_t ta, cublasOperation_t tb, int m, int n, const S* alpha,
                    const S* a, int lda, const S* beta, const S* b, int ldb, S* c, int ldc) {
  const std::string what = "geam(m=" + std::to_string(m) + ", n=" + std::to_string(n) + ")";
  const Stored sa = stored(a, ta, m, n, lda), sb = stored(b, tb, m, n, ldb), sc{c, m, n, ldc};
  if (!valid_operands(what, sa, sb, sc, alpha, beta)) return CUBLAS_STATUS_INVALID_VALUE;
  const std::size_t a_bytes = span<S>(sa), b_bytes = span<S>(sb), c_bytes = span<S>(sc);
  // cuBLAS allows C == A (or C == B) untransposed with the same leading dimension, nothing else.
  const bool in_place_a = static_cast<const void*>(c) == a && ta == CUBLAS_OP_N && lda == ldc;
  const bool in_place_b = static_cast<const void*>(c) == b && tb == CUBLAS_OP_N && ldb == ldc;
  if ((overlap(c, c_bytes, a, a_bytes) && !in_place_a) || (overlap(c, c_bytes, b, b_bytes) && !in_place_b))
    return invalid(what + ": C overlaps an input other than in place");
  std::vector<S> out(static_cast<std::size_t>(m) * static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      S v = *alpha * element(a, ta, lda, i, j);
      if (*beta != S(0)) v += *beta * element(b, tb, ldb, i, j);
      out[i + static_cast<std::size_t>(j) * m] = v;
    }
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i)
      c[i + static_cast<std::size_t>(j) * ldc] = out[i + static_cast<std::size_t>(j) * m];
  return ok;
}

template <class S>
cublasStatus_t dgmm(cublasHandle_t, cublasSideMode_t side, int m, int n, const S* a, int lda, const S* x,
                    int incx, S* c, int ldc) {
  const std::string what = "dgmm(m=" + std::to_string(m) + ", n=" + std::to_string(n) + ")";
  if (m < 0 || n < 0 || lda < std::max(1, m) || ldc < std::max(1, m) || incx < 1)
    return invalid(what + ": a negative size, increment or leading dimension");
  if (!on_handle_stream(handle_stream, what)) return CUBLAS_STATUS_INVALID_VALUE;
  if (m == 0 || n == 0) return ok;
  const int x_count = side == CUBLAS_SIDE_LEFT ? m : n;
  const std::size_t a_bytes = span<S>(m, n, lda), c_bytes = span<S>(m, n, ldc),
                    x_bytes = (static_cast<std::size_t>(x_count - 1) * static_cast<std::size_t>(incx) + 1) *
                              sizeof(S);
  if (!in_device(a, a_bytes, what + " A") || !in_device(x, x_bytes, what + " x") ||
      !in_device(c, c_bytes, what + " C"))
    return CUBLAS_STATUS_INVALID_VALUE;
  // Documented in place: C == A with the same leading dimension. C over x is not documented.
  if ((overlap(c, c_bytes, a, a_bytes) && !(static_cast<const void*>(c) == a && lda == ldc)) ||
      overlap(c, c_bytes, x, x_bytes))
    return invalid(what + ": C overlaps A other than in place, or x");
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      const S d =
          x[static_cast<std::size_t>(side == CUBLAS_SIDE_LEFT ? i : j) * static_cast<std::size_t>(incx)];
      c[i + static_cast<std::size_t>(j) * ldc] = d * a[i + static_cast<std::size_t>(j) * lda];
    }
  return ok;
}

template <class S>
std::size_t vector_bytes(int n, int incx) {
  return n <= 0 ? 0 : (static_cast<std::size_t>(n - 1) * static_cast<std::size_t>(incx) + 1) * sizeof(S);
}

template <class S>
cublasStatus_t scal(cublasHandle_t, int n, const S* alpha, S* x, int incx) {
  if (incx < 1) return invalid("scal: increment < 1");
  if (!on_handle_stream(handle_stream, "scal") || !host_scalar(alpha, "scal alpha") ||
      !in_device(x, vector_bytes<S>(n, incx), "scal x"))
    return CUBLAS_STATUS_INVALID_VALUE;
  for (int i = 0; i < n; ++i) x[static_cast<std::size_t>(i) * static_cast<std::size_t>(incx)] *= *alpha;
  return ok;
}

template <class S>
cublasStatus_t nrm2(cublasHandle_t, int n, const S* x, int incx, S* result) {
  if (incx < 1) return invalid("nrm2: increment < 1");
  if (!on_handle_stream(handle_stream, "nrm2") || !host_scalar(result, "nrm2 result") ||
      !in_device(x, vector_bytes<S>(n, incx), "nrm2 x"))
    return CUBLAS_STATUS_INVALID_VALUE;
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double v = x[static_cast<std::size_t>(i) * static_cast<std::size_t>(incx)];
    sum += v * v;
  }
  *result = static_cast<S>(std::sqrt(sum));  // the norm, not its square, as cuBLAS
  return ok;
}

cudaError_t copy(void* dst, const void* src, std::size_t bytes, cudaMemcpyKind kind,
                 const std::string& what) {
  bool valid = true;
  if (kind == cudaMemcpyHostToDevice)
    valid = in_device(dst, bytes, what + " destination") &&
            (!is_device(src) || violation(what + ": source on the device"));
  else if (kind == cudaMemcpyDeviceToHost)
    valid = in_device(src, bytes, what + " source") &&
            (!is_device(dst) || violation(what + ": destination on the device"));
  else if (kind == cudaMemcpyDeviceToDevice)
    valid = in_device(src, bytes, what + " source") && in_device(dst, bytes, what + " destination") &&
            (!overlap(dst, bytes, src, bytes) || violation(what + ": overlapping device copy"));
  else
    valid = violation(what + ": a copy kind the backend does not use");
  if (!valid) return cudaErrorInvalidValue;
  if (bytes > 0) std::memmove(dst, src, bytes);
  return cudaSuccess;
}

}  // namespace

int rlhash::test::cuda_stand_in_violations() {
  std::lock_guard<std::mutex> lock(mutex);
  return violation_count;
}

extern "C" {

cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::malloc(std::max<std::size_t>(bytes, 1));
  if (*p == nullptr) return cudaErrorMemoryAllocation;
  std::memset(*p, 0xFF, bytes);  // NaN in float and double: unwritten memory spoils what reads it
  std::lock_guard<std::mutex> lock(mutex);
  allocations[address(*p)] = std::max<std::size_t>(bytes, 1);
  return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
  if (p == nullptr) return cudaSuccess;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto it = allocations.find(address(p));
    if (it != allocations.end()) {
      allocations.erase(it);
      std::free(p);
      return cudaSuccess;
    }
  }
  violation("cudaFree of a pointer that is no device allocation");
  return cudaErrorInvalidValue;
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  return copy(dst, src, bytes, kind, "cudaMemcpy");
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  if (!on_handle_stream(stream, "cudaMemcpyAsync")) return cudaErrorInvalidValue;
  return copy(dst, src, bytes, kind, "cudaMemcpyAsync");
}
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t stream) {
  if (!on_handle_stream(stream, "cudaMemsetAsync") || !in_device(dst, bytes, "cudaMemsetAsync"))
    return cudaErrorInvalidValue;
  std::memset(dst, value, bytes);
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }  // every call completes at once
cudaError_t cudaGetLastError(void) { return cudaSuccess; }
const char* cudaGetErrorName(cudaError_t) { return "cudaErrorInvalidValue"; }
const char* cudaGetErrorString(cudaError_t) { return "rejected by the CUDA stand-in"; }
cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

struct cublasContext {};  // the handle's only state is its stream, kept in handle_stream

cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  *handle = new cublasContext;
  return ok;
}
cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  delete handle;
  return ok;
}
cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t mode) {
  return mode == CUBLAS_DEFAULT_MATH ? ok
                                     : invalid("cublasSetMathMode: not CUBLAS_DEFAULT_MATH (TF32 is off)");
}
cublasStatus_t cublasSetStream_v2(cublasHandle_t, cudaStream_t stream) {
  handle_stream = stream;
  return ok;
}

cublasStatus_t cublasSgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                              int k, const float* alpha, const float* a, int lda, const float* b, int ldb,
                              const float* beta, float* c, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t cublasDgemm_v2(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                              int k, const double* alpha, const double* a, int lda, const double* b, int ldb,
                              const double* beta, double* c, int ldc) {
  return gemm(h, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
cublasStatus_t cublasSgeam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                           const float* alpha, const float* a, int lda, const float* beta, const float* b,
                           int ldb, float* c, int ldc) {
  return geam(h, ta, tb, m, n, alpha, a, lda, beta, b, ldb, c, ldc);
}
cublasStatus_t cublasDgeam(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n,
                           const double* alpha, const double* a, int lda, const double* beta, const double* b,
                           int ldb, double* c, int ldc) {
  return geam(h, ta, tb, m, n, alpha, a, lda, beta, b, ldb, c, ldc);
}
cublasStatus_t cublasSdgmm(cublasHandle_t h, cublasSideMode_t side, int m, int n, const float* a, int lda,
                           const float* x, int incx, float* c, int ldc) {
  return dgmm(h, side, m, n, a, lda, x, incx, c, ldc);
}
cublasStatus_t cublasDdgmm(cublasHandle_t h, cublasSideMode_t side, int m, int n, const double* a, int lda,
                           const double* x, int incx, double* c, int ldc) {
  return dgmm(h, side, m, n, a, lda, x, incx, c, ldc);
}
cublasStatus_t cublasSscal_v2(cublasHandle_t h, int n, const float* alpha, float* x, int incx) {
  return scal(h, n, alpha, x, incx);
}
cublasStatus_t cublasDscal_v2(cublasHandle_t h, int n, const double* alpha, double* x, int incx) {
  return scal(h, n, alpha, x, incx);
}
cublasStatus_t cublasSnrm2_v2(cublasHandle_t h, int n, const float* x, int incx, float* result) {
  return nrm2(h, n, x, incx, result);
}
cublasStatus_t cublasDnrm2_v2(cublasHandle_t h, int n, const double* x, int incx, double* result) {
  return nrm2(h, n, x, incx, result);
}

}  // extern "C"

// The kernel launchers (declared in cuda/backend.hpp, defined for nvcc in backend_kernels.cuh):
// each kernel's element formula over every element, after the same checks as the calls above.
namespace rlhash::cuda::kernels {
namespace {
bool launch_ok(cudaStream_t stream, const char* kernel,
               std::initializer_list<std::pair<const void*, std::size_t>> ranges) {
  bool valid = on_handle_stream(stream, kernel);
  for (const auto& [p, bytes] : ranges) valid = in_device(p, bytes, kernel) && valid;
  return valid;
}
}  // namespace

#define RLHASH_STAND_IN_LAUNCHERS(S)                                                                         \
  void activation_forward(nn::ActivationKind kind, const S* x, S* y, std::size_t count,                      \
                          cudaStream_t stream) {                                                             \
    if (!launch_ok(stream, "activation_forward", {{x, count * sizeof(S)}, {y, count * sizeof(S)}})) return;  \
    for (std::size_t i = 0; i < count; ++i) y[i] = elementwise::activation(kind, x[i]);                      \
  }                                                                                                          \
  void activation_backward(nn::ActivationKind kind, const S* y, const S* dy, S* dx, std::size_t count,       \
                           cudaStream_t stream) {                                                            \
    if (!launch_ok(stream, "activation_backward",                                                            \
                   {{y, count * sizeof(S)}, {dy, count * sizeof(S)}, {dx, count * sizeof(S)}}))              \
      return;                                                                                                \
    for (std::size_t i = 0; i < count; ++i) dx[i] = elementwise::activation_grad(kind, y[i], dy[i]);         \
  }                                                                                                          \
  void add_bias(S* m, const S* bias, Index rows, Index cols, cudaStream_t stream) {                          \
    const auto count = static_cast<std::size_t>(rows * cols);                                                \
    if (!launch_ok(stream, "add_bias",                                                                       \
                   {{m, count * sizeof(S)}, {bias, static_cast<std::size_t>(rows) * sizeof(S)}}))            \
      return;                                                                                                \
    for (std::size_t i = 0; i < count; ++i) m[i] += bias[i % static_cast<std::size_t>(rows)];                \
  }                                                                                                          \
  void add_row_sums(S* v, const S* m, Index rows, Index cols, cudaStream_t stream) {                         \
    const auto count = static_cast<std::size_t>(rows * cols);                                                \
    if (!launch_ok(stream, "add_row_sums",                                                                   \
                   {{v, static_cast<std::size_t>(rows) * sizeof(S)}, {m, count * sizeof(S)}}))               \
      return;                                                                                                \
    for (Index r = 0; r < rows; ++r) {                                                                       \
      S sum = 0;                                                                                             \
      for (Index c = 0; c < cols; ++c) sum += m[c * rows + r];                                               \
      v[r] += sum;                                                                                           \
    }                                                                                                        \
  }                                                                                                          \
  void sgd_update(S* w, const S* g, S* velocity, std::size_t count, S lr, S momentum, S weight_decay,        \
                  bool nesterov, cudaStream_t stream) {                                                      \
    if (!launch_ok(                                                                                          \
            stream, "sgd_update",                                                                            \
            {{w, count * sizeof(S)}, {g, count * sizeof(S)}, {velocity, velocity ? count * sizeof(S) : 0}})) \
      return;                                                                                                \
    for (std::size_t i = 0; i < count; ++i)                                                                  \
      elementwise::sgd(w[i], g[i], velocity ? velocity + i : nullptr, lr, momentum, weight_decay, nesterov); \
  }                                                                                                          \
  void adam_update(S* w, const S* g, S* m, S* v, std::size_t count, S lr, S beta1, S beta2, S correction1,   \
                   S correction2, S epsilon, S weight_decay, bool decoupled, cudaStream_t stream) {          \
    if (!launch_ok(stream, "adam_update",                                                                    \
                   {{w, count * sizeof(S)},                                                                  \
                    {g, count * sizeof(S)},                                                                  \
                    {m, count * sizeof(S)},                                                                  \
                    {v, count * sizeof(S)}}))                                                                \
      return;                                                                                                \
    for (std::size_t i = 0; i < count; ++i)                                                                  \
      elementwise::adam(w[i], g[i], m[i], v[i], lr, beta1, beta2, correction1, correction2, epsilon,         \
                        weight_decay, decoupled);                                                            \
  }
RLHASH_STAND_IN_LAUNCHERS(float)
RLHASH_STAND_IN_LAUNCHERS(double)
#undef RLHASH_STAND_IN_LAUNCHERS
}  // namespace rlhash::cuda::kernels
