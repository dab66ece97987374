#pragma once
/// \file
/// Class codebooks a user could pick instead of BCH codewords (DRLH section 3.3 compares
/// against nothing; these are the obvious alternatives): uniformly random codes and Hadamard
/// codes, plus the pairwise-distance statistics used to compare codebooks.
#include <Eigen/Core>
#include <cstdint>
#include <limits>
#include <string>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/search/hamming.hpp"

namespace rlhash {

/// Minimum, mean and maximum Hamming distance over all unordered pairs of codes.
struct DistanceStats {
  int min = 0;
  double mean = 0.0;
  int max = 0;
};

/// Pairwise statistics of a codebook of at least two codes.
inline DistanceStats pairwise_distance_stats(const BinaryCodes& codes) {
  detail::require(codes.size() >= 2,
                  "pairwise distances: need at least 2 codes, found " + std::to_string(codes.size()));
  DistanceStats stats;
  stats.min = std::numeric_limits<int>::max();
  double sum = 0.0;
  for (Index i = 0; i < codes.size(); ++i)
    for (Index j = i + 1; j < codes.size(); ++j) {
      const int d = hamming_distance(codes.row(i), codes.row(j), codes.bits());
      stats.min = std::min(stats.min, d);
      stats.max = std::max(stats.max, d);
      sum += d;
    }
  const double pairs = 0.5 * static_cast<double>(codes.size()) * static_cast<double>(codes.size() - 1);
  stats.mean = sum / pairs;
  return stats;
}

/// `count` codes of `bits` uniformly random bits.
inline BinaryCodes random_codes(Index count, int bits, Rng& rng) {
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    for (int w = 0; w < codes.words(); ++w) codes.row(i)[w] = rng();
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

namespace detail {
inline bool is_odd_prime(int q) {
  if (q < 3 || q % 2 == 0) return false;
  for (int d = 3; d * d <= q; d += 2)
    if (q % d == 0) return false;
  return true;
}
/// Quadratic character of a mod q (q an odd prime): 0, +1 (nonzero square) or -1.
inline int quadratic_character(int a, int q) {
  a = ((a % q) + q) % q;
  if (a == 0) return 0;
  for (int x = 1; x < q; ++x)
    if ((x * x) % q == a) return 1;
  return -1;
}
/// Paley construction I (q prime, q = 3 mod 4): order q + 1.
inline Eigen::MatrixXi paley_one(int q) {
  const int n = q + 1;
  Eigen::MatrixXi h(n, n);
  h(0, 0) = 1;
  for (int i = 1; i < n; ++i) {
    h(0, i) = 1;
    h(i, 0) = -1;
    for (int j = 1; j < n; ++j) h(i, j) = quadratic_character(j - i, q) + (i == j ? 1 : 0);
  }
  return h;
}
/// Paley construction II (q prime, q = 1 mod 4): order 2 (q + 1).
inline Eigen::MatrixXi paley_two(int q) {
  const int s_size = q + 1;
  Eigen::MatrixXi s(s_size, s_size);
  s(0, 0) = 0;
  for (int i = 1; i < s_size; ++i) {
    s(0, i) = s(i, 0) = 1;
    for (int j = 1; j < s_size; ++j) s(i, j) = quadratic_character(j - i, q);
  }
  Eigen::MatrixXi h(2 * s_size, 2 * s_size);
  for (int i = 0; i < s_size; ++i)
    for (int j = 0; j < s_size; ++j) {
      Eigen::Matrix2i block;
      if (s(i, j) == 0)
        block << 1, -1, -1, -1;
      else
        block << s(i, j), s(i, j), s(i, j), -s(i, j);
      h.block<2, 2>(2 * i, 2 * j) = block;
    }
  return h;
}
/// A Hadamard matrix of order `order` from Paley I/II alone (no Sylvester factor), or empty.
inline Eigen::MatrixXi paley_hadamard(int order) {
  if (order == 1) return Eigen::MatrixXi::Ones(1, 1);
  if (order == 2) return (Eigen::MatrixXi(2, 2) << 1, 1, 1, -1).finished();
  if (is_odd_prime(order - 1) && (order - 1) % 4 == 3) return paley_one(order - 1);
  if (order % 2 == 0 && is_odd_prime(order / 2 - 1) && (order / 2 - 1) % 4 == 1)
    return paley_two(order / 2 - 1);
  return {};
}
}  // namespace detail

/// A Hadamard matrix (entries +-1, H H^T = order I) of the given order, built as a Sylvester
/// power of two times a Paley matrix (I: q + 1, or II: 2 (q + 1), q a prime; prime powers q
/// are not implemented). Returns an empty matrix when these constructions give none — which
/// includes every order not divisible by 4 except 1 and 2, where none exists.
inline Eigen::MatrixXi hadamard_matrix(int order) {
  if (order < 1) return {};
  for (int sylvester = 1; order % sylvester == 0; sylvester *= 2) {
    const Eigen::MatrixXi core = detail::paley_hadamard(order / sylvester);
    if (core.size() == 0) continue;
    Eigen::MatrixXi h = core;
    // Kronecker product with the Sylvester matrix [[1, 1], [1, -1]] once per factor of 2.
    for (int s = 1; s < sylvester; s *= 2) {
      const auto n = h.rows();
      Eigen::MatrixXi next(2 * n, 2 * n);
      next << h, h, h, -h;
      h = std::move(next);
    }
    return h;
  }
  return {};
}

/// The Hadamard code of length `bits`: the rows of H and of -H (bit = 1 where the entry is -1),
/// the first `count` of them (rows of H first). At most 2 bits codewords; pairwise distance
/// bits/2, or bits between a row and its negation. Throws InvalidArgument when no Hadamard
/// matrix of that order is constructed here or count > 2 bits (check has_hadamard_code first).
inline BinaryCodes hadamard_codes(Index count, int bits) {
  const Eigen::MatrixXi h = hadamard_matrix(bits);
  detail::require(h.size() != 0,
                  "Hadamard codes: no Hadamard matrix of order " + std::to_string(bits) +
                      " (Sylvester x Paley constructions; orders must be 1, 2 or a multiple of 4)");
  detail::require(count >= 0 && count <= 2 * static_cast<Index>(bits),
                  "Hadamard codes: " + std::to_string(count) + " codes requested, at most 2 * " +
                      std::to_string(bits) + " exist");
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    const Index row = i % bits;
    const bool negate = i >= bits;
    for (int j = 0; j < bits; ++j)
      if ((h(row, j) < 0) != negate) codes.set(i, j, true);
  }
  return codes;
}

/// True when hadamard_codes(count, bits) can be built.
inline bool has_hadamard_code(Index count, int bits) {
  return bits >= 1 && count <= 2 * static_cast<Index>(bits) && hadamard_matrix(bits).size() != 0;
}

}  // namespace rlhash
