#pragma once
/// \file
/// Random draws whose results do not depend on the standard library's implementation:
/// `std::mt19937_64` is specified bit-for-bit, but `uniform_int_distribution`, `shuffle` and
/// `normal_distribution` are not, so rlhash draws through these functions instead.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace rlhash {

using Rng = std::mt19937_64;

namespace detail {
__extension__ typedef unsigned __int128 uint128;  // GCC/Clang extension; silences -Wpedantic
}  // namespace detail

/// Uniform integer in [0, bound) by Lemire's nearly-divisionless rejection method.
inline std::uint64_t uniform_below(Rng& rng, std::uint64_t bound) {
  if (bound <= 1) return 0;
  detail::uint128 product = static_cast<detail::uint128>(rng()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<detail::uint128>(rng()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

/// Uniform double in [0, 1) from the top 53 bits of one draw.
inline double uniform_unit(Rng& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

/// Standard normal by the Box-Muller transform (two draws per value; no cached state).
inline double standard_normal(Rng& rng) {
  constexpr double two_pi = 6.283185307179586476925286766559;
  double u1 = uniform_unit(rng);
  while (u1 <= 0.0) u1 = uniform_unit(rng);
  const double u2 = uniform_unit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(two_pi * u2);
}

/// Fisher-Yates shuffle (Durstenfeld), from the last element down.
template <class T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_below(rng, i));
    std::swap(items[i - 1], items[j]);
  }
}

/// A uniformly random subset of `count` distinct values of [0, n), in draw order
/// (partial Fisher-Yates over 0..n-1).
inline std::vector<std::int64_t> sample_without_replacement(std::int64_t n, std::int64_t count, Rng& rng) {
  std::vector<std::int64_t> pool(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) pool[static_cast<std::size_t>(i)] = i;
  for (std::int64_t i = 0; i < count; ++i) {
    const auto j = i + static_cast<std::int64_t>(uniform_below(rng, static_cast<std::uint64_t>(n - i)));
    std::swap(pool[static_cast<std::size_t>(i)], pool[static_cast<std::size_t>(j)]);
  }
  pool.resize(static_cast<std::size_t>(count));
  return pool;
}

}  // namespace rlhash
