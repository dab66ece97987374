#include <catch.hpp>
#include <test_util.hpp>

#include "gradient_check.hpp"
#include "rlhash/nn/activation.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/dropout.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/sequential.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_layers {
using test::check_module_gradients;
using test::random_matrix;

TEST_CASE("Dense computes W x + b per column", "[nn][dense]") {
  Rng rng(1);
  Dense<double> dense(3, 2, rng);
  dense.weight() << 1, 2, 3, -1, 0.5, 0;
  dense.bias() << 0.25, -2;
  Eigen::MatrixXd x(3, 2);
  x << 1, 0, 2, 1, -1, 4;
  Eigen::MatrixXd expected(2, 2);
  expected << 1 + 4 - 3 + 0.25, 0 + 2 + 12 + 0.25, -1 + 1 - 2, 0 + 0.5 - 2;
  CHECK(dense.forward(x).isApprox(expected));
  CHECK(dense.infer(x).isApprox(expected));
  CHECK_THROWS_AS(dense.forward(Eigen::MatrixXd::Zero(4, 2)), InvalidArgument);
  Dense<double> fresh(3, 2, rng);
  CHECK_THROWS_AS(fresh.backward(Eigen::MatrixXd::Zero(2, 2)), StateError);
}

TEST_CASE("initialisation is seeded and follows its scheme", "[nn][dense]") {
  Rng a(7), b(7);
  Dense<float> d1(200, 100, a, Init::xavier_uniform), d2(200, 100, b, Init::xavier_uniform);
  CHECK(d1.weight() == d2.weight());
  const double bound = std::sqrt(6.0 / 300.0);
  CHECK(d1.weight().maxCoeff() <= bound);
  CHECK(d1.weight().minCoeff() >= -bound);
  // Uniform(-a, a) has variance a^2 / 3: 20,000 draws pin it within a few percent.
  const double var = d1.weight().cast<double>().squaredNorm() / 20000.0;
  CHECK(var == Approx(bound * bound / 3).epsilon(0.05));
  Rng c(8);
  Dense<double> he(400, 100, c, Init::he_normal);
  CHECK(he.weight().squaredNorm() / 40000.0 == Approx(2.0 / 400).epsilon(0.05));
  CHECK(he.bias().isZero());
  CHECK_THROWS_AS(parse_init("glorot"), InvalidArgument);
}

TEST_CASE("Dense gradients pass finite differences", "[nn][dense][gradcheck]") {
  Rng rng(11);
  Dense<double> dense(5, 4, rng);
  dense.bias() = random_matrix(4, 1, rng);
  check_module_gradients(dense, random_matrix(5, 3, rng), rng);
}

TEST_CASE("Dense without an input gradient computes the same parameter gradients", "[nn][dense]") {
  Rng rng(13), same(13);
  Dense<double> full(5, 4, rng), first(5, 4, same);
  first.set_input_gradient(false);
  CHECK_FALSE(first.input_gradient());
  const Eigen::MatrixXd x = random_matrix(5, 3, rng), dy = random_matrix(4, 3, rng);
  full.forward(x);
  first.forward(x);
  CHECK(full.backward(dy).rows() == 5);
  CHECK(first.backward(dy).size() == 0);
  CHECK(first.weight_grad() == full.weight_grad());
  CHECK(first.bias_grad() == full.bias_grad());
}

TEST_CASE("activations pass finite differences", "[nn][activation][gradcheck]") {
  Rng rng(12);
  const Eigen::MatrixXd x = 2 * random_matrix(4, 5, rng);
  SECTION("tanh") {
    Tanh<double> layer;
    check_module_gradients(layer, x, rng);
    CHECK(layer.forward(x).isApprox(x.array().tanh().matrix()));
  }
  SECTION("sigmoid") {
    Sigmoid<double> layer;
    check_module_gradients(layer, x, rng);
    CHECK(layer.forward(x).isApprox((1 / (1 + (-x.array()).exp())).matrix()));
    Eigen::MatrixXf extreme(1, 2);
    extreme << -200.f, 200.f;
    Sigmoid<float> f;
    CHECK(f.forward(extreme)(0, 0) == 0.f);
    CHECK(f.forward(extreme)(0, 1) == 1.f);
  }
  SECTION("relu") {
    ReLU<double> layer;
    check_module_gradients(layer, x, rng);
    CHECK(layer.forward(x).isApprox(x.cwiseMax(0.0)));
  }
}

TEST_CASE("Dropout: train/eval modes, seeded masks, mask reused in backward", "[nn][dropout]") {
  Rng rng(13);
  const Eigen::MatrixXd x = random_matrix(50, 40, rng);
  Dropout<double> a(0.3, 99), b(0.3, 99);
  const Eigen::MatrixXd ya = a.forward(x);
  CHECK(ya == b.forward(x));  // same seed, same mask
  const Eigen::MatrixXd& mask = a.mask();
  const double kept = (mask.array() != 0).cast<double>().mean();
  CHECK(kept == Approx(0.7).margin(0.03));
  CHECK(((mask.array() == 0) || (mask.array() == 1 / 0.7)).all());
  CHECK(ya.isApprox(x.cwiseProduct(mask)));
  const Eigen::MatrixXd g = random_matrix(50, 40, rng);
  CHECK(a.backward(g).isApprox(g.cwiseProduct(mask)));
  CHECK(a.forward(x) != ya);  // a new mask each forward while not frozen

  a.set_training(false);
  CHECK(a.forward(x) == x);
  CHECK(a.backward(g) == g);
  CHECK(a.infer(x) == x);
  CHECK_THROWS_AS(Dropout<double>(1.0, 1), InvalidArgument);

  SECTION("gradient with a frozen mask") {
    Dropout<double> d(0.5, 5);
    d.forward(x.topRows(4).leftCols(3));
    d.freeze_mask(true);
    check_module_gradients(d, x.topRows(4).leftCols(3), rng);
  }
  SECTION("generator state round-trips") {
    Dropout<double> d(0.5, 5), e(0.5, 6);
    d.forward(x);
    ByteWriter out;
    d.save_state(out);
    ByteReader in(out.bytes().data(), out.bytes().size(), "state");
    e.load_state(in);
    CHECK(d.forward(x) == e.forward(x));
  }
}

namespace {
using Net = Sequential<Dense<double>, Tanh<double>, Dense<double>, ReLU<double>, Dropout<double>,
                       Dense<double>, Sigmoid<double>>;
Net make_net(Rng& rng) {
  return Net(Dense<double>(6, 5, rng), Tanh<double>(), Dense<double>(5, 4, rng, Init::he_uniform),
             ReLU<double>(), Dropout<double>(0.25, 3), Dense<double>(4, 3, rng), Sigmoid<double>());
}
}  // namespace

TEST_CASE("Sequential chains forward, backward and parameters", "[nn][sequential][gradcheck]") {
  Rng rng(14);
  Net net = make_net(rng);
  const auto params = net.parameters();
  REQUIRE(params.size() == 6);
  CHECK(params[0].name == "0.weight");
  CHECK(params[3].name == "2.bias");
  CHECK(params[5].name == "5.bias");
  CHECK(parameter_count(params) == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 3 + 3);
  for (const auto& p : params) p.value() += 0.1 * random_matrix(p.rows, p.cols, rng);

  const Eigen::MatrixXd x = random_matrix(6, 4, rng);
  net.forward(x);
  net.layer<4>().freeze_mask(true);
  check_module_gradients(net, x, rng);

  // infer = forward in evaluation mode, and leaves caches alone.
  net.set_training(false);
  CHECK(net.infer(x).isApprox(net.forward(x)));
  CHECK(!net.layer<4>().training());

  SECTION("float networks compile and agree with double") {
    Rng r1(3), r2(3);
    Sequential<Dense<float>, ReLU<float>, Dropout<float>, Dense<float>> qf(
        Dense<float>(6, 8, r1), ReLU<float>(), Dropout<float>(0.5, 1), Dense<float>(8, 2, r1));
    Sequential<Dense<double>, ReLU<double>, Dropout<double>, Dense<double>> qd(
        Dense<double>(6, 8, r2), ReLU<double>(), Dropout<double>(0.5, 1), Dense<double>(8, 2, r2));
    qf.set_training(false);
    qd.set_training(false);
    const Eigen::MatrixXf yf = qf.forward(x.cast<float>());
    CHECK(yf.cast<double>().isApprox(qd.forward(x), 1e-5));
  }
}

TEST_CASE("module save/load is exact and all-or-nothing", "[nn][sequential]") {
  Rng rng(15), other(16);
  Net a = make_net(rng), b = make_net(other);
  a.forward(random_matrix(6, 3, rng));  // advance the dropout generator
  ByteWriter out;
  save_module(out, a);
  ByteReader in(out.bytes().data(), out.bytes().size(), "net.bin");
  load_module(in, b);
  in.expect_end();
  const auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) CHECK(pa[i].value() == pb[i].value());
  const Eigen::MatrixXd x = random_matrix(6, 3, rng);
  CHECK(a.forward(x) == b.forward(x));  // same dropout stream too

  SECTION("another architecture is rejected and the network is untouched") {
    Rng r(17);
    using Small = Sequential<Dense<double>, Tanh<double>, Dense<double>>;
    Small small(Dense<double>(6, 5, r), Tanh<double>(), Dense<double>(5, 3, r));
    const auto before = copy_values(small.parameters());
    ByteReader again(out.bytes().data(), out.bytes().size(), "net.bin");
    CHECK_THROWS_AS(load_module(again, small), FormatError);
    const auto after = copy_values(small.parameters());
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(before[i] == after[i]);
  }
  SECTION("a truncated stream is rejected and the network is untouched") {
    Rng r(18);
    Net c = make_net(r);
    const auto before = copy_values(c.parameters());
    ByteReader cut(out.bytes().data(), out.bytes().size() - 10, "net.bin");
    CHECK_THROWS_AS(load_module(cut, c), FormatError);
    const auto after = copy_values(c.parameters());
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(before[i] == after[i]);
  }
}

}  // namespace rlhash::nn::test_layers
