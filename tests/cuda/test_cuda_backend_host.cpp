// Host-side checks of the CUDA backend: the cuBLAS arguments of every product form and the
// kernels' per-element formulas (elementwise.hpp) against the host backend, shape errors thrown
// as InvalidArgument before any device call (the views below point nowhere, and no device is
// needed), and CudaError instead of a crash when there is no device.
#include <catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/elementwise.hpp"
#include "rlhash/cuda/memory.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"

using namespace rlhash;
using rlhash::cuda::ConstDeviceView;
using rlhash::cuda::CudaBackend;
using rlhash::cuda::DeviceMatrix;
using rlhash::cuda::DeviceView;

namespace {
// Views of nothing: shapes only. Dereferencing one would crash, so each check below proves
// that the shape test comes first.
DeviceView<float> view(Index rows, Index cols) { return {nullptr, rows, cols}; }
ConstDeviceView<float> cview(Index rows, Index cols) { return {nullptr, rows, cols}; }

Matrix<double> random_matrix(Rng& rng, Index rows, Index cols) {
  Matrix<double> m(rows, cols);
  for (Index i = 0; i < m.size(); ++i) m.data()[i] = standard_normal(rng);
  return m;
}

// What cuBLAS's dgemm does with `call` (column-major, the reference BLAS definition):
// C = op(A) op(B), op(X)(i, l) = X[i + l ld] without transpose, X[l + i ld] with.
Matrix<double> emulate_gemm(const cuda::detail::GemmCall& call, const double* a, const double* b) {
  auto element = [](const double* x, cublasOperation_t op, int ld, int i, int l) {
    return op == CUBLAS_OP_N ? x[i + static_cast<Index>(l) * ld] : x[l + static_cast<Index>(i) * ld];
  };
  Matrix<double> c = Matrix<double>::Zero(call.m, call.n);
  for (int j = 0; j < call.n; ++j)
    for (int i = 0; i < call.m; ++i)
      for (int l = 0; l < call.k; ++l)
        c(i, j) += element(a, call.transa, call.lda, i, l) * element(b, call.transb, call.ldb, l, j);
  REQUIRE(call.ldc == call.m);
  return c;
}

// The product the backend would request for operands `a`, `b` (host memory posing as device
// memory: only pointers and shapes are read), run by the emulation above.
template <class A, class B>
Matrix<double> backend_product(const A& a, const B& b) {
  const auto x = cuda::detail::operand(a);
  const auto y = cuda::detail::operand(b);
  return emulate_gemm(cuda::detail::plan_gemm(x, y), x.data, y.data);
}

ConstDeviceView<double> host_view(const Matrix<double>& m) { return {m.data(), m.rows(), m.cols()}; }
}  // namespace

TEST_CASE("CudaBackend's cuBLAS arguments compute every product form the layers use", "[cuda][backend]") {
  Rng rng(31);
  const Matrix<double> a = random_matrix(rng, 5, 7), b = random_matrix(rng, 7, 3),
                       bt = random_matrix(rng, 3, 7), at = random_matrix(rng, 7, 5),
                       wide = random_matrix(rng, 7, 12);
  auto close = [](const Matrix<double>& got, const Matrix<double>& expected) {
    REQUIRE(got.rows() == expected.rows());
    REQUIRE(got.cols() == expected.cols());
    CHECK((got - expected).cwiseAbs().maxCoeff() < 1e-12);
  };
  close(backend_product(host_view(a), host_view(b)), a * b);
  close(backend_product(host_view(a), CudaBackend::transpose(host_view(bt))), a * bt.transpose());
  close(backend_product(CudaBackend::transpose(host_view(at)), host_view(b)), at.transpose() * b);
  close(backend_product(CudaBackend::transpose(host_view(at)), CudaBackend::transpose(host_view(bt))),
        at.transpose() * bt.transpose());
  // Column ranges, as the RNNs take them (step s of a step-major matrix).
  close(backend_product(host_view(a), CudaBackend::cols(host_view(wide), 4, 3)), a * wide.middleCols(4, 3));
  close(backend_product(CudaBackend::cols(host_view(wide), 2, 5),
                        CudaBackend::transpose(CudaBackend::cols(host_view(wide), 7, 5))),
        wide.middleCols(2, 5) * wide.middleCols(7, 5).transpose());
}

TEMPLATE_TEST_CASE("the kernels' activation formulas equal the host activations", "[cuda][backend]", float,
                   double) {
  using S = TestType;
  Rng rng(32);
  Matrix<S> x = (S(6) * random_matrix(rng, 9, 11)).template cast<S>();
  x(0, 0) = S(0);
  x(1, 0) = S(-200);  // exp(200) overflows float: the sigmoid must give 0, not NaN
  x(2, 0) = std::numeric_limits<S>::quiet_NaN();  // a diverged input stays visible on both
  x(3, 5) = std::numeric_limits<S>::quiet_NaN();
  const Matrix<S> dy = random_matrix(rng, 9, 11).template cast<S>();
  auto check = [&](auto layer, nn::ActivationKind kind) {
    Matrix<S> y = layer.forward(x);
    Matrix<S> dx = layer.backward(dy);
    Matrix<S> y_formula(x.rows(), x.cols()), dx_formula(x.rows(), x.cols());
    for (Index i = 0; i < x.size(); ++i) {
      y_formula(i) = cuda::elementwise::activation(kind, x(i));
      dx_formula(i) = cuda::elementwise::activation_grad(kind, y(i), dy(i));
    }
    // NaN where the host has NaN, then the values elsewhere.
    CHECK((y.array().isNaN() == y_formula.array().isNaN()).all());
    CHECK((dx.array().isNaN() == dx_formula.array().isNaN()).all());
    CHECK(std::isnan(y_formula(2, 0)));
    y = y.array().isNaN().select(S(0), y);
    y_formula = y_formula.array().isNaN().select(S(0), y_formula);
    dx = dx.array().isNaN().select(S(0), dx);
    dx_formula = dx_formula.array().isNaN().select(S(0), dx_formula);
    // Eigen's vectorised tanh/exp are not the C library's: a few ulps apart.
    const S tolerance = std::is_same_v<S, float> ? S(1e-6) : S(1e-14);
    CHECK((y_formula - y).cwiseAbs().maxCoeff() <= tolerance);
    CHECK((dx_formula - dx).cwiseAbs().maxCoeff() <= tolerance * std::max(S(1), dy.cwiseAbs().maxCoeff()));
    CHECK(std::isfinite(y_formula(1, 0)));
  };
  check(nn::Tanh<S>(), nn::ActivationKind::tanh);
  check(nn::Sigmoid<S>(), nn::ActivationKind::sigmoid);
  check(nn::ReLU<S>(), nn::ActivationKind::relu);
}

TEST_CASE("the kernels' SGD and Adam formulas equal the host optimizers", "[cuda][backend]") {
  Rng rng(33);
  const Index rows = 6, cols = 4;
  auto run = [&](auto optimizer, auto formula) {
    Matrix<double> host_w = random_matrix(rng, rows, cols), grad(rows, cols);
    Matrix<double> w = host_w;
    const nn::ParameterList<double> params = {nn::make_param(host_w, grad, "w")};
    for (int step = 1; step <= 3; ++step) {
      params[0].grad() = random_matrix(rng, rows, cols);  // into the viewed buffer (no move)
      optimizer.step(params);
      for (Index i = 0; i < w.size(); ++i) formula(step, i, w(i), grad(i));
      CHECK((w - host_w).cwiseAbs().maxCoeff() < 1e-14);
    }
  };
  for (const nn::SgdConfig& c : {nn::SgdConfig{0.1, 0.0, 0.0, false}, nn::SgdConfig{0.1, 0.9, 0.01, false},
                                 nn::SgdConfig{0.05, 0.8, 0.0, true}}) {
    std::vector<double> velocity(static_cast<std::size_t>(rows * cols), 0.0);
    run(nn::Sgd<double>(c), [&](int, Index i, double& w, double g) {
      cuda::elementwise::sgd(w, g, c.momentum > 0 ? &velocity[static_cast<std::size_t>(i)] : nullptr,
                             c.learning_rate, c.momentum, c.weight_decay, c.nesterov);
    });
  }
  for (const nn::AdamConfig& c : {nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.0, false},
                                  nn::AdamConfig{0.01, 0.9, 0.999, 1e-8, 0.05, false},
                                  nn::AdamConfig{0.02, 0.8, 0.99, 1e-6, 0.1, true}}) {
    std::vector<double> m(static_cast<std::size_t>(rows * cols), 0.0), v(m);
    run(nn::Adam<double>(c), [&](int step, Index i, double& w, double g) {
      const auto k = static_cast<std::size_t>(i);
      cuda::elementwise::adam(w, g, m[k], v[k], c.learning_rate, c.beta1, c.beta2,
                              1.0 - std::pow(c.beta1, step), 1.0 - std::pow(c.beta2, step), c.epsilon,
                              c.weight_decay, c.decoupled_weight_decay);
    });
  }
}

TEST_CASE("CudaBackend checks shapes on the host, naming the operation", "[cuda][backend]") {
  CHECK_THROWS_WITH(CudaBackend::product(view(3, 5), cview(3, 4), cview(3, 5)),
                    Catch::Contains("CudaBackend::product: operands are 3 x 4 and 3 x 5"));
  CHECK_THROWS_WITH(CudaBackend::product(view(3, 5), cview(3, 4), cview(4, 6)),
                    Catch::Contains("product: destination is 3 x 5, expected 3 x 6"));
  CHECK_THROWS_WITH(CudaBackend::add_product(view(4, 4), CudaBackend::transpose(cview(3, 4)), cview(3, 5)),
                    Catch::Contains("add_product: operand is 4 x 4, expected 4 x 5"));
  CHECK_THROWS_WITH(CudaBackend::product(view(3, 3), CudaBackend::transpose(cview(4, 3)),
                                         CudaBackend::transpose(cview(3, 5))),
                    Catch::Contains("operands are 3 x 4 and 5 x 3"));
  CHECK_THROWS_WITH(CudaBackend::copy(view(2, 3), cview(3, 2)),
                    Catch::Contains("copy: destination is 2 x 3"));
  CHECK_THROWS_WITH(CudaBackend::add(view(2, 3), cview(2, 4)), Catch::Contains("add: operand is 2 x 3"));
  CHECK_THROWS_AS(CudaBackend::sum(view(2, 3), cview(2, 3), cview(3, 2)), InvalidArgument);
  CHECK_THROWS_WITH(CudaBackend::add_bias(view(5, 2), cview(4, 1)), Catch::Contains("add_bias"));
  DeviceView<float> v = view(6, 1);
  CHECK_THROWS_WITH(CudaBackend::add_row_sums(v, cview(5, 3)), Catch::Contains("add_row_sums"));
  CHECK_THROWS_AS(CudaBackend::activation_backward<nn::TanhFunction>(cview(2, 2), cview(2, 3), view(2, 2)),
                  InvalidArgument);
  CHECK_THROWS_AS(CudaBackend::activation_forward<nn::ReluFunction>(cview(2, 2), view(2, 3)),
                  InvalidArgument);
  CHECK_THROWS_WITH(CudaBackend::multiply(view(2, 3), cview(2, 3), cview(3, 2)),
                    Catch::Contains("multiply: operand is 3 x 2, expected 2 x 3"));
  CHECK_THROWS_WITH(CudaBackend::transpose_into(view(2, 3), cview(2, 3)),
                    Catch::Contains("transpose_into: destination is 2 x 3, expected 3 x 2"));
  float storage[6] = {};
  CHECK_THROWS_WITH(
      CudaBackend::transpose_into(DeviceView<float>(storage, 3, 2), ConstDeviceView<float>(storage, 2, 3)),
      Catch::Contains("aliases the source"));  // checked before any device call: storage is never read
  CHECK_THROWS_WITH(CudaBackend::cols(cview(2, 3), 2, 2),
                    Catch::Contains("columns [2, 4) outside a matrix of 3"));
  CHECK_THROWS_AS(CudaBackend::cols(view(2, 3), -1, 1), InvalidArgument);
  CHECK(CudaBackend::cols(view(2, 3), 1, 2).cols() == 2);
}

TEST_CASE("CudaBackend rejects dimensions beyond cuBLAS's int before calling it", "[cuda][backend]") {
  const Index huge = Index{std::numeric_limits<int>::max()} + 1;
  CHECK_THROWS_WITH(CudaBackend::product(view(huge, 1), cview(huge, 1), cview(1, 1)),
                    Catch::Contains("outside cuBLAS's int range"));
  CHECK_THROWS_WITH(CudaBackend::multiply(view(huge, 1), cview(huge, 1), cview(huge, 1)),
                    Catch::Contains("outside cuBLAS's int range"));
  CHECK_THROWS_WITH(CudaBackend::squared_norm(cview(huge, 1)), Catch::Contains("outside cuBLAS's int range"));
}

TEST_CASE("empty device matrices need no device", "[cuda][backend]") {
  DeviceMatrix<float> empty = CudaBackend::zeros<float>(0, 4);
  CHECK(empty.data() == nullptr);
  CHECK(empty.cols() == 4);
  CudaBackend::copy(empty, cview(3, 0));  // resized, still nothing allocated
  CHECK((empty.rows() == 3 && empty.cols() == 0 && empty.data() == nullptr));
  CHECK(CudaBackend::to_host(empty).size() == 0);
}

TEST_CASE("copy_parameters checks names and shapes before touching device memory", "[cuda][backend]") {
  Rng rng(1);
  nn::Dense<float> host(3, 2, rng);
  nn::ParameterList<float, CudaBackend> device = {{nullptr, nullptr, 2, 3, "weight"},
                                                  {nullptr, nullptr, 3, 1, "bias"}};
  CHECK_THROWS_WITH(nn::copy_parameters(host.parameters(), device), Catch::Contains("'bias' 2x1"));
  device[1].rows = 2;
  device[0].name = "kernel";
  CHECK_THROWS_WITH(nn::copy_parameters(device, host.parameters()), Catch::Contains("'kernel'"));
  device.pop_back();
  CHECK_THROWS_AS(nn::copy_parameters(host.parameters(), device), InvalidArgument);
}

TEST_CASE("device optimizers check their state against the parameter list on the host", "[cuda][backend]") {
  // Zero-sized parameters: the optimizer's bookkeeping runs, no kernel is launched.
  nn::ParameterList<float, CudaBackend> one = {{nullptr, nullptr, 0, 0, "a"}};
  nn::ParameterList<float, CudaBackend> two = {{nullptr, nullptr, 0, 0, "a"}, {nullptr, nullptr, 0, 0, "b"}};
  nn::Adam<float, CudaBackend> adam;
  adam.step(one);
  CHECK(adam.steps() == 1);
  CHECK_THROWS_AS(adam.step(two), StateError);
  nn::Sgd<float, CudaBackend> sgd(nn::SgdConfig{0.1, 0.9, 0.0, false});
  sgd.step(one);
  CHECK_THROWS_AS(sgd.step(two), StateError);
}

TEST_CASE("without a device, device layers fail with CudaError", "[cuda][backend]") {
  if (cuda::device_count() > 0) return;  // covered by test_cuda_gpu on a machine with a device
  Rng rng(2);
  CHECK_THROWS_AS((nn::Dense<float, CudaBackend>(4, 3, rng)), CudaError);
}
