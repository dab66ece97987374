// The host side of the backend machinery: copying parameters between two modules of one
// architecture (the path a GPU model takes to and from the host) and its all-or-nothing checks.
#include <catch.hpp>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/nn/dense.hpp"
#include "rlhash/nn/feature_first_rnn.hpp"
#include "rlhash/nn/parameters.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::nn::test_backend {

TEST_CASE("copy_module copies every value and gradient exactly", "[nn][backend]") {
  Rng a_rng(1), b_rng(2);
  nn::FeatureFirstRnn<float> a(5, 7, a_rng), b(5, 7, b_rng);
  const auto from = a.parameters();
  for (const auto& p : from)
    for (Index i = 0; i < p.size(); ++i) p.grad_data[i] = static_cast<float>(standard_normal(a_rng));
  REQUIRE(b.hidden_weight() != a.hidden_weight());
  nn::copy_module(a, b);
  const auto to = b.parameters();
  for (std::size_t i = 0; i < from.size(); ++i) {
    CHECK(to[i].value() == from[i].value());
    CHECK(to[i].grad() == from[i].grad());
  }
}

TEST_CASE("copy_parameters rejects another architecture and copies nothing", "[nn][backend]") {
  Rng rng(3);
  nn::Dense<double> source(4, 3, rng), wider(4, 5, rng), before(4, 5, rng);
  before.weight() = wider.weight();
  CHECK_THROWS_WITH(nn::copy_module(source, wider), Catch::Contains("'weight' 3x4"));
  CHECK(wider.weight() == before.weight());
  nn::FeatureFirstRnn<double> rnn(4, 3, rng);
  CHECK_THROWS_AS(nn::copy_module(source, rnn), InvalidArgument);  // 2 parameters into 4
  // Same count and shapes, other names.
  auto renamed = source.parameters();
  renamed[0].name = "kernel";
  CHECK_THROWS_WITH(nn::copy_parameters(renamed, source.parameters()), Catch::Contains("'kernel'"));
}

}  // namespace rlhash::nn::test_backend
