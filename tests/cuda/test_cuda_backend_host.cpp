// Host-side checks of the CUDA backend: every shape error is an InvalidArgument thrown before
// any device call (the views below point nowhere, and no device is needed), and without a
// device, creating a device layer fails with CudaError instead of crashing.
#include <catch.hpp>

#include <limits>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/cuda/backend.hpp"
#include "rlhash/cuda/memory.hpp"
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
}  // namespace

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
  CHECK_THROWS_WITH(CudaBackend::cols(cview(2, 3), 2, 2),
                    Catch::Contains("columns [2, 4) outside a matrix of 3"));
  CHECK_THROWS_AS(CudaBackend::cols(view(2, 3), -1, 1), InvalidArgument);
  CHECK(CudaBackend::cols(view(2, 3), 1, 2).cols() == 2);
}

TEST_CASE("CudaBackend rejects dimensions beyond cuBLAS's int before calling it", "[cuda][backend]") {
  const Index huge = Index{std::numeric_limits<int>::max()} + 1;
  CHECK_THROWS_WITH(CudaBackend::product(view(huge, 1), cview(huge, 1), cview(1, 1)),
                    Catch::Contains("outside cuBLAS's int range"));
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
