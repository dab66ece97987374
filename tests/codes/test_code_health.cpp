// Code health: hand-computed cases.
#include <catch.hpp>
#include <test_util.hpp>

#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/codes/code_health.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_code_health {
#if defined(RLHASH_CATCH3)
using Catch::Approx;
#endif

namespace {
BinaryCodes codes_of(const std::vector<std::vector<int>>& rows) {
  BinaryCodes codes(static_cast<Index>(rows.size()), static_cast<int>(rows.front().size()));
  for (std::size_t i = 0; i < rows.size(); ++i)
    for (std::size_t j = 0; j < rows[i].size(); ++j)
      if (rows[i][j] != 0) codes.row(static_cast<Index>(i))[j / 64] |= std::uint64_t{1} << (j % 64);
  return codes;
}
}  // namespace

TEST_CASE("code health: a constant bit and two bits that invert each other") {
  const CodeHealth h = code_health(codes_of({{1, 0, 1}, {1, 1, 0}, {1, 0, 1}, {1, 1, 0}}));
  CHECK(h.distinct_codes == 2);
  CHECK(h.constant_bits == 1);
  CHECK(h.mean_bit_balance == Approx(2.0 / 3.0));  // balances 0, 1, 1
  CHECK(h.max_abs_correlation == Approx(1.0));
}

TEST_CASE("code health: a partial correlation computed by hand") {
  // f0 = 1/2, f1 = 1/4, both = 1/4: cov = 1/8, corr = (1/8) / sqrt(1/4 * 3/16) = 1/sqrt(3).
  const CodeHealth h = code_health(codes_of({{1, 1}, {1, 0}, {0, 0}, {0, 0}}));
  CHECK(h.distinct_codes == 3);
  CHECK(h.constant_bits == 0);
  CHECK(h.mean_bit_balance == Approx(0.75));  // 1 and 1 - |2/4 - 1| = 1/2
  CHECK(h.max_abs_correlation == Approx(0.5773502691896258));
}

TEST_CASE("code health: codes past one word, every item distinct, and no codes at all") {
  std::vector<std::vector<int>> rows(70, std::vector<int>(70, 0));
  for (int i = 0; i < 70; ++i) rows[i][i] = 1;  // item i has only bit i set
  const CodeHealth h = code_health(codes_of(rows));
  CHECK(h.distinct_codes == 70);
  CHECK(h.constant_bits == 0);
  // Bits j, k: f = 1/70 each, never both 1: corr = -(1/70)^2 / (1/70 * 69/70) = -1/69.
  CHECK(h.max_abs_correlation == Approx(1.0 / 69.0));
  CHECK(h.mean_bit_balance == Approx(2.0 / 70.0));
  const CodeHealth none = code_health(BinaryCodes(0, 16));
  CHECK(none.distinct_codes == 0);
  CHECK(none.constant_bits == 0);
}

}  // namespace rlhash::test_code_health
