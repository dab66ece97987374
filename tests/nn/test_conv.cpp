#include <catch.hpp>
#include <test_util.hpp>

#include "gradient_check.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/conv2d.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/image_shape.hpp"
#include "rlhash/nn/max_pool2d.hpp"
#include "rlhash/nn/sequential.hpp"

namespace rlhash::nn::test_conv {
using test::check_module_gradients;
using test::random_matrix;

TEST_CASE("image_shape_of reads square and given widths and names bad sizes", "[nn][conv]") {
  CHECK(image_shape_of(784, 0, 1, "x") == ImageShape{28, 28, 1});
  CHECK(image_shape_of(3072, 0, 3, "x") == ImageShape{32, 32, 3});
  CHECK(image_shape_of(24, 6, 2, "x") == ImageShape{2, 6, 2});
  CHECK_THROWS_WITH(image_shape_of(20, 0, 1, "dph-cnn"),
                    Catch::Contains("dph-cnn") && Catch::Contains("square"));
  CHECK_THROWS_AS(image_shape_of(20, 3, 1, "x"), InvalidArgument);
  CHECK_THROWS_AS(image_shape_of(20, 0, 3, "x"), InvalidArgument);
  CHECK_THROWS_AS(image_shape_of(20, 0, 0, "x"), InvalidArgument);
}

TEST_CASE("Conv2d computes a hand-worked 3x3 same-padded convolution", "[nn][conv]") {
  Rng rng(1);
  Conv2d<double> conv({2, 3, 1}, 1, 3, rng);
  conv.weight() << 1, 2, 3, 4, 5, 6, 7, 8, 9;  // (ky, kx) row by row
  conv.bias() << 0.5;
  Eigen::MatrixXd x(6, 1);
  x << 1, 2, 3, 4, 5, 6;  // image rows (1 2 3) and (4 5 6)
  // Output pixel (y, x) = sum over (ky, kx) of W(ky, kx) image(y + ky - 1, x + kx - 1), zero
  // outside the image, plus the bias; in row order (0,0) (0,1) (0,2) (1,0) (1,1) (1,2).
  Eigen::MatrixXd expected(6, 1);
  expected << 5 * 1 + 6 * 2 + 8 * 4 + 9 * 5, 4 * 1 + 5 * 2 + 6 * 3 + 7 * 4 + 8 * 5 + 9 * 6,
      4 * 2 + 5 * 3 + 7 * 5 + 8 * 6, 2 * 1 + 3 * 2 + 5 * 4 + 6 * 5,
      1 * 1 + 2 * 2 + 3 * 3 + 4 * 4 + 5 * 5 + 6 * 6, 1 * 2 + 2 * 3 + 4 * 5 + 5 * 6;
  expected.array() += 0.5;
  CHECK(conv.forward(x).isApprox(expected));
  CHECK(conv.infer(x).isApprox(expected));
  CHECK(conv.output_shape() == ImageShape{2, 3, 1});
}

TEST_CASE("Conv2d keeps channels last and sums over input channels", "[nn][conv]") {
  Rng rng(2);
  Conv2d<double> conv({1, 1, 2}, 3, 1, rng);  // a 1x1 kernel: a per-pixel linear map
  conv.weight() << 1, 2, 3, 4, 5, 6;
  conv.bias() << 0, 1, 2;
  Eigen::MatrixXd x(2, 2);
  x << 1, -1, 10, 2;
  Eigen::MatrixXd expected(3, 2);
  expected << 21, 3, 44, 6, 67, 9;
  CHECK(conv.forward(x).isApprox(expected));
}

TEST_CASE("Conv2d and MaxPool2d gradients pass finite differences", "[nn][conv][gradcheck]") {
  Rng rng(3);
  SECTION("Conv2d, 3x3 kernel, 2 -> 3 channels on 4x5 images") {
    Conv2d<double> conv({4, 5, 2}, 3, 3, rng);
    conv.bias() = random_matrix(3, 1, rng);
    check_module_gradients(conv, random_matrix(40, 2, rng), rng);
  }
  SECTION("Conv2d, 5x5 kernel larger than the 3x3 image") {
    Conv2d<double> conv({3, 3, 1}, 2, 5, rng);
    check_module_gradients(conv, random_matrix(9, 3, rng), rng);
  }
  SECTION("MaxPool2d on 5x4 images (the odd row dropped), 3 channels") {
    MaxPool2d<double> pool({5, 4, 3});
    CHECK(pool.output_shape() == ImageShape{2, 2, 3});
    check_module_gradients(pool, random_matrix(60, 2, rng), rng);
  }
  SECTION("a small CNN: conv, ReLU, pool, conv, ReLU, pool, dense") {
    Sequential<Conv2d<double>, ReLU<double>, MaxPool2d<double>, Conv2d<double>, ReLU<double>,
               MaxPool2d<double>, Dense<double>>
        net(Conv2d<double>({6, 6, 1}, 3, 3, rng), ReLU<double>(), MaxPool2d<double>({6, 6, 3}),
            Conv2d<double>({3, 3, 3}, 4, 3, rng), ReLU<double>(), MaxPool2d<double>({3, 3, 4}),
            Dense<double>(4, 2, rng));
    check_module_gradients(net, random_matrix(36, 3, rng), rng);
  }
}

TEST_CASE("MaxPool2d takes the max of each 2x2 window and routes the gradient to it", "[nn][conv]") {
  MaxPool2d<double> pool({2, 4, 1});
  Eigen::MatrixXd x(8, 1);
  x << 1, 5, 2, 2, 3, 0, 7, 2;  // rows (1 5 2 2) and (3 0 7 2)
  Eigen::MatrixXd expected(2, 1);
  expected << 5, 7;
  CHECK(pool.forward(x) == expected);
  CHECK(pool.infer(x) == expected);
  Eigen::MatrixXd dy(2, 1);
  dy << 10, 20;
  Eigen::MatrixXd dx = Eigen::MatrixXd::Zero(8, 1);
  dx(1, 0) = 10;
  dx(6, 0) = 20;
  CHECK(pool.backward(dy) == dx);
}

TEST_CASE("Conv2d infer equals forward over many items; bad shapes are refused", "[nn][conv]") {
  Rng rng(4);
  Conv2d<float> conv({4, 4, 1}, 2, 3, rng);
  const Eigen::MatrixXf x = random_matrix(16, 300, rng).cast<float>();  // more than one infer slice
  const Eigen::MatrixXf trained = conv.forward(x);
  CHECK(conv.infer(x) == trained);
  CHECK_THROWS_WITH(conv.forward(Eigen::MatrixXf::Zero(15, 2)), Catch::Contains("4x4x1"));
  CHECK_THROWS_AS(conv.backward(Eigen::MatrixXf::Zero(32, 2)), InvalidArgument);
  Conv2d<float> fresh({4, 4, 1}, 2, 3, rng);
  CHECK_THROWS_AS(fresh.backward(Eigen::MatrixXf::Zero(32, 1)), StateError);
  CHECK_THROWS_AS(Conv2d<float>({4, 4, 1}, 2, 2, rng), InvalidArgument);
  CHECK_THROWS_AS(Conv2d<float>({4, 4, 1}, 0, 3, rng), InvalidArgument);
  CHECK_THROWS_AS(MaxPool2d<float>({1, 4, 1}), InvalidArgument);
  MaxPool2d<float> pool({4, 4, 2});
  CHECK_THROWS_AS(pool.backward(Eigen::MatrixXf::Zero(8, 1)), StateError);
  CHECK_THROWS_AS(pool.forward(Eigen::MatrixXf::Zero(31, 1)), InvalidArgument);

  SECTION("without an input gradient the parameter gradients are the same") {
    Rng a(5), b(5);
    Conv2d<double> full({4, 4, 2}, 3, 3, a), first({4, 4, 2}, 3, 3, b);
    first.set_input_gradient(false);
    const Eigen::MatrixXd input = random_matrix(32, 3, rng), g = random_matrix(48, 3, rng);
    full.forward(input);
    first.forward(input);
    full.backward(g);
    CHECK(first.backward(g).size() == 0);
    const auto pf = full.parameters(), pl = first.parameters();
    for (std::size_t i = 0; i < pf.size(); ++i) CHECK(pf[i].grad() == pl[i].grad());
  }
}

}  // namespace rlhash::nn::test_conv
