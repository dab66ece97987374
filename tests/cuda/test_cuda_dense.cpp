// cuda::Dense<float> against nn::Dense<float>: forward, backward, gradient accumulation, and
// the host <-> device round trip used for checkpoints. Runs only with a CUDA device.
#include <catch.hpp>

#include <algorithm>

#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/cuda/dense.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/module.hpp"

using namespace rlhash;

namespace {
Matrix<float> random_matrix(Rng& rng, Index rows, Index cols) {
  Matrix<float> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<float>(standard_normal(rng));
  return m;
}
// Float results of different summation orders: relative to the magnitude of the operands.
void require_close(const Matrix<float>& a, const Matrix<float>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  const float scale = std::max(1.0f, b.cwiseAbs().maxCoeff());
  REQUIRE((a - b).cwiseAbs().maxCoeff() <= 1e-5f * scale * 8);
}
}  // namespace

TEST_CASE("cuda::Dense matches nn::Dense forward and backward", "[cuda][dense]") {
  Rng rng(17);
  nn::Dense<float> cpu(37, 19, rng);
  cpu.bias() = random_matrix(rng, 19, 1);
  cuda::CublasHandle handle;
  cuda::Dense<float> gpu(cpu, handle);
  for (Index batch : {Index{1}, Index{64}, Index{33}}) {  // the second step accumulates
    const Matrix<float> x = random_matrix(rng, 37, batch);
    const Matrix<float> dy = random_matrix(rng, 19, batch);
    const Matrix<float> y_cpu = cpu.forward(x);
    const Matrix<float> dx_cpu = cpu.backward(dy);
    const cuda::DeviceMatrix<float> x_dev(x), dy_dev(dy);
    const Matrix<float> y_gpu = gpu.forward(x_dev).download();
    const Matrix<float> dx_gpu = gpu.backward(dy_dev).download();
    require_close(y_gpu, y_cpu);
    require_close(dx_gpu, dx_cpu);
    require_close(gpu.weight_grad().download(), cpu.weight_grad());
    require_close(gpu.bias_grad().download(), cpu.bias_grad());
  }
  gpu.zero_grad();
  CHECK(gpu.weight_grad().download().cwiseAbs().maxCoeff() == 0.0f);
  CHECK_THROWS_AS(gpu.forward(cuda::DeviceMatrix<float>(36, 2)), InvalidArgument);
  CHECK_THROWS_AS(gpu.backward(cuda::DeviceMatrix<float>(19, 5)), InvalidArgument);
}

TEST_CASE("cuda::Dense parameters round-trip through the CPU checkpoint format", "[cuda][dense]") {
  Rng rng(4);
  nn::Dense<float> cpu(8, 5, rng);
  cuda::CublasHandle handle;
  cuda::Dense<float> gpu(cpu, handle);
  const Matrix<float> x = random_matrix(rng, 8, 3);
  gpu.forward(cuda::DeviceMatrix<float>(x));
  gpu.backward(cuda::DeviceMatrix<float>(random_matrix(rng, 5, 3)));
  nn::Dense<float> copy(8, 5, rng);
  gpu.download(copy);
  ByteWriter out;
  nn::save_module(out, copy);
  nn::Dense<float> restored(8, 5, rng);
  ByteReader in(out.bytes().data(), out.bytes().size(), "checkpoint");
  nn::load_module(in, restored);
  CHECK(restored.weight() == copy.weight());
  CHECK(restored.bias() == copy.bias());
  cuda::Dense<float> again(restored, handle);
  CHECK(again.weight().download() == copy.weight());
  nn::Dense<float> wrong(9, 5, rng);
  CHECK_THROWS_AS(gpu.download(wrong), InvalidArgument);
}
