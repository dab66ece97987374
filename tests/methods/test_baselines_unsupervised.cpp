// ITQ and spectral hashing on synthetic data whose structure fixes what the codes must be.
#include <catch.hpp>
#include <test_util.hpp>

#include "hasher_test_util.hpp"

#include <cmath>
#include <map>

#include "rlhash/methods/any_hasher.hpp"
#include "rlhash/methods/baselines/itq.hpp"
#include "rlhash/methods/baselines/sh.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_baselines_unsupervised {
using test::check_damaged_parameters_rejected;
using test::round_trip;

namespace {

MatrixD random_orthogonal(Index k, std::uint64_t seed) {
  Rng rng(seed);
  return detail::random_rotation(k, rng);
}

// Four tight clusters at the corners of a square, rotated by 30 degrees in the plane and embedded
// in `dims` dimensions by a random rotation (tiny noise elsewhere). PCA alone cannot orient the
// square (its covariance is isotropic in the plane); ITQ's rotation must align it with the
// orthants so each cluster gets one code of its own.
MatrixF square_clusters(Index per_cluster, Index dims, std::uint64_t seed, std::vector<int>& cluster) {
  Rng rng(seed);
  const MatrixD embed = random_orthogonal(dims, seed + 100);
  const double angle = 0.5235987755982988;
  MatrixF x(dims, 4 * per_cluster);
  cluster.clear();
  for (int c = 0; c < 4; ++c)
    for (Index i = 0; i < per_cluster; ++i) {
      const double u = (c & 1 ? 1.0 : -1.0) + 0.1 * standard_normal(rng);
      const double v = (c & 2 ? 1.0 : -1.0) + 0.1 * standard_normal(rng);
      Vector<double> local = Vector<double>::Zero(dims);
      local(0) = std::cos(angle) * u - std::sin(angle) * v;
      local(1) = std::sin(angle) * u + std::cos(angle) * v;
      for (Index d = 2; d < dims; ++d) local(d) = 0.01 * standard_normal(rng);
      x.col(static_cast<Index>(cluster.size())) = (embed * local).cast<float>().array() + 5.0f;
      cluster.push_back(c);
    }
  return x;
}

MatrixF anisotropic_gaussian(Index dims, Index n, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF x(dims, n);
  for (Index i = 0; i < n; ++i)
    for (Index d = 0; d < dims; ++d)
      x(d, i) = static_cast<float>(2.0 + standard_normal(rng) * (1.0 + 0.3 * d));
  return x;
}

}  // namespace

TEST_CASE("ITQ's quantization loss never increases and its rotation separates square clusters",
          "[methods][itq]") {
  std::vector<int> cluster;
  const MatrixF x = square_clusters(100, 8, 11, cluster);
  Itq itq({2, 3, 50});
  itq.fit(x);
  const auto& loss = itq.quantization_loss();
  REQUIRE(loss.size() == 51);
  for (std::size_t t = 1; t < loss.size(); ++t) CHECK(loss[t] <= loss[t - 1] * (1 + 1e-12));
  // Aligned, every projected coordinate is within noise (sd 0.1) of +-1: a mean squared error
  // near 0.01, where the unrotated 30-degree square would leave about 0.27.
  CHECK(loss.back() / (2.0 * 400) < 0.03);

  const BinaryCodes codes = itq.encode(x);
  std::map<std::uint64_t, int> code_of_cluster[4];
  for (Index i = 0; i < codes.size(); ++i)
    ++code_of_cluster[cluster[static_cast<std::size_t>(i)]][codes.row(i)[0]];
  std::map<std::uint64_t, int> majority;
  for (int c = 0; c < 4; ++c) {
    auto best = code_of_cluster[c].begin();
    for (auto it = code_of_cluster[c].begin(); it != code_of_cluster[c].end(); ++it)
      if (it->second > best->second) best = it;
    CHECK(best->second >= 98);  // one code per cluster
    ++majority[best->first];
  }
  CHECK(majority.size() == 4);  // and four different codes
}

TEST_CASE("ITQ is fixed by its seed, balanced on centred data, and round-trips", "[methods][itq]") {
  const MatrixF x = anisotropic_gaussian(24, 600, 5);
  const MatrixF unseen = anisotropic_gaussian(24, 50, 6);
  Itq itq({16, 7, 30});
  itq.fit(x);
  const BinaryCodes codes = itq.encode(x);
  CHECK(codes.bits() == 16);
  const MatrixF bits = codes.unpack();
  for (Index j = 0; j < 16; ++j) {
    CHECK(bits.row(j).sum() > 0.3 * 600);
    CHECK(bits.row(j).sum() < 0.7 * 600);
  }
  Itq again({16, 7, 30});
  again.fit(x);
  CHECK(again.encode(x) == codes);
  Itq other({16, 8, 30});
  other.fit(x);
  CHECK(other.encode(x) != codes);

  const Itq back = round_trip(itq);
  CHECK(back.encode(x) == codes);
  CHECK(back.encode(unseen) == itq.encode(unseen));
  CHECK(back.encode(unseen).size() == 50);
  check_damaged_parameters_rejected(itq);

  CHECK_THROWS_AS(itq.encode(MatrixF::Zero(23, 2)), InvalidArgument);
  CHECK_THROWS_AS(Itq({16, 1, 5}).encode(x), StateError);
  CHECK_THROWS_AS(Itq({32, 1, 5}).fit(x), InvalidArgument);  // more bits than dimensions
  CHECK_THROWS_AS(Itq({16, 1, -1}), InvalidArgument);
  CHECK_THROWS_AS(Itq({0, 1, 5}), InvalidArgument);
}

TEST_CASE("ITQ's config fields reach the hasher through AnyHasher", "[methods][itq]") {
  AnyHasher hasher{Itq()};
  hasher.set("iterations", "3");
  hasher.set("bits", "4");
  CHECK(hasher.method() == "itq");
  CHECK(hasher.target<Itq>()->config().iterations == 3);
  hasher.fit(anisotropic_gaussian(6, 50, 1), Labels{});
  CHECK(hasher.target<Itq>()->quantization_loss().size() == 4);
}

namespace {
// Uniform on a 2.5 x 1 box, embedded in 6 dimensions by a random rotation, tiny noise elsewhere.
MatrixF uniform_box(Index n, std::uint64_t seed, MatrixD& local) {
  Rng rng(seed);
  const MatrixD embed = random_orthogonal(6, seed + 1);
  local = MatrixD::Zero(6, n);
  for (Index i = 0; i < n; ++i) {
    local(0, i) = 2.5 * uniform_unit(rng);
    local(1, i) = uniform_unit(rng);
    for (Index d = 2; d < 6; ++d) local(d, i) = 0.001 * standard_normal(rng);
  }
  MatrixF x = (embed * local).cast<float>();
  x.array() += 1.0f;
  return x;
}
}  // namespace

TEST_CASE("SH picks the analytical eigenfunctions of the smallest eigenvalues", "[methods][sh]") {
  MatrixD local;
  const MatrixF x = uniform_box(3000, 21, local);
  Sh sh({4, 0});
  sh.fit(x);
  // Eigenvalues (k pi / range)^2: long side k = 1, 2, 3 give 0.16, 0.64, 1.44 (x pi^2), the
  // short side's k = 1 gives 1, so the order is long k=1, long k=2, short k=1, long k=3.
  const std::vector<Index> expected_directions{0, 0, 1, 0};
  CHECK(sh.bit_directions() == expected_directions);
  // The sample PCA axes tilt by ~0.01 rad from the box's, which stretches the short side's
  // projected range by ~2.5 x 0.01 on 1: frequencies agree within a few percent.
  const double pi = 3.141592653589793;
  CHECK(sh.bit_frequencies()(0) == Approx(pi / 2.5).epsilon(0.03));
  CHECK(sh.bit_frequencies()(1) == Approx(2 * pi / 2.5).epsilon(0.03));
  CHECK(sh.bit_frequencies()(2) == Approx(pi).epsilon(0.03));
  CHECK(sh.bit_frequencies()(3) == Approx(3 * pi / 2.5).epsilon(0.03));

  // Each bit is the sign of its sinusoid, so it cuts the box where the sinusoid changes sign:
  // bit 0 at the long side's midpoint, bit 1 at its quarters, bit 2 at the short side's midpoint.
  const BinaryCodes codes = sh.encode(x);
  Index agree0 = 0, agree1 = 0, agree2 = 0, ones0 = 0, counted = 0;
  const bool first_half_bit0 = codes.get(0, 0) == (local(0, 0) < 1.25);  // PCA's sign is arbitrary
  const bool short_half_bit2 = codes.get(0, 2) == (local(1, 0) < 0.5);
  for (Index i = 0; i < codes.size(); ++i) {
    const double u = local(0, i), v = local(1, i);
    // Skip items within rounding of a cut.
    if (std::abs(u - 1.25) < 0.02 || std::abs(u - 0.625) < 0.02 || std::abs(u - 1.875) < 0.02 ||
        std::abs(v - 0.5) < 0.01)
      continue;
    ++counted;
    agree0 += codes.get(i, 0) == ((u < 1.25) == first_half_bit0);
    agree1 += codes.get(i, 1) == (u < 0.625 || u > 1.875);
    agree2 += codes.get(i, 2) == ((v < 0.5) == short_half_bit2);
    ones0 += codes.get(i, 0);
  }
  CHECK(agree0 == counted);
  CHECK(agree1 == counted);
  CHECK(agree2 == counted);
  CHECK(ones0 > 0.45 * counted);  // the first mode halves a uniform box
  CHECK(ones0 < 0.55 * counted);
}

TEST_CASE("SH encodes unseen items, round-trips and rejects bad input", "[methods][sh]") {
  const MatrixF x = anisotropic_gaussian(10, 400, 3);
  const MatrixF unseen = anisotropic_gaussian(10, 40, 4);
  Sh sh({24, 0});  // more bits than dimensions: PCA keeps all 10, several modes per direction
  sh.fit(x);
  const BinaryCodes codes = sh.encode(unseen);
  CHECK(codes.size() == 40);
  CHECK(codes.bits() == 24);
  const Sh back = round_trip(sh);
  CHECK(back.encode(unseen) == codes);
  CHECK(back.encode(x) == sh.encode(x));
  check_damaged_parameters_rejected(sh);
  CHECK_THROWS_AS(sh.encode(MatrixF::Zero(9, 2)), InvalidArgument);
  CHECK_THROWS_AS(Sh({8, 0}).encode(x), StateError);
  CHECK_THROWS_AS(Sh({8, 0}).fit(x.leftCols(1)), InvalidArgument);
}

}  // namespace rlhash::test_baselines_unsupervised
