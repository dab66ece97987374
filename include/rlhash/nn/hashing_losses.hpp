#pragma once
/// \file
/// The objectives of the deep supervised hashing baselines (DSH, DPSH, HashNet, CSQ,
/// GreedyHash), as plain functions of the network's real-valued outputs u (bits x B, one item
/// per column, on the host). Each returns the loss and, when asked, its gradient dL/du; the
/// scale of every term (means over pairs, bits and items) is the one of the methods' reference
/// implementations, so their published hyper-parameters apply unchanged.
///
/// Relevance is a 0/1 matrix `similar` (1: the two items share a label). Memories of the
/// training set (DSH, DPSH) are bits x N matrices of outputs stored without gradient: only the
/// batch's u carries one.
#include <algorithm>
#include <cmath>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::nn {

namespace detail {
/// log(1 + e^x) without overflow.
inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
inline double sigmoid(double x) {
  return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}
inline double sign(double x) { return static_cast<double>((x > 0) - (x < 0)); }
}  // namespace detail

/// DSH (Liu et al., CVPR 2016, eq. 4-5), against a memory of the training set's outputs:
///   L = 1/(B N) sum_{i in batch, j seen} [ s_ij d_ij / 2 + (1 - s_ij) max(0, m - d_ij) / 2 ]
///       + alpha mean_{k,i} | 1 - |u_ki| |,           d_ij = |u_i - U_j|^2,
/// `seen[j]` false: item j has no output in the memory yet and is skipped (the reference keeps
/// such rows at zero and counts them as dissimilar points at the origin). Distances come from
/// one B x N product (|u_i|^2 + |U_j|^2 - 2 u_i.U_j), never a B x N x bits temporary.
template <class S>
double dsh_loss(const Matrix<S>& u, const Matrix<S>& memory, const std::vector<bool>& seen,
                const Matrix<S>& similar, double margin, double alpha, Matrix<S>* du) {
  const Index bits = u.rows(), batch = u.cols(), items = memory.cols();
  const Matrix<S> inner = u.transpose() * memory;  // B x N
  const Vector<S> u_norms = u.colwise().squaredNorm().transpose();
  const Vector<S> m_norms = memory.colwise().squaredNorm().transpose();
  Matrix<S> weight = Matrix<S>::Zero(batch, items);  // dL/dd_ij * (B N)
  double pair_loss = 0;
  for (Index j = 0; j < items; ++j) {
    if (!seen[static_cast<std::size_t>(j)]) continue;
    for (Index i = 0; i < batch; ++i) {
      const double d = std::max(0.0, static_cast<double>(u_norms(i) + m_norms(j) - 2 * inner(i, j)));
      if (similar(i, j) > 0) {
        pair_loss += d / 2;
        weight(i, j) = S(0.5);
      } else if (d < margin) {
        pair_loss += (margin - d) / 2;
        weight(i, j) = S(-0.5);
      }
    }
  }
  const double pairs = static_cast<double>(batch) * static_cast<double>(items);
  const double entries = static_cast<double>(bits) * static_cast<double>(batch);
  const double quantization = (S(1) - u.array().abs()).abs().template cast<double>().sum();
  if (du != nullptr) {
    // d d_ij / d u_i = 2 (u_i - U_j)
    const Vector<S> row_sums = weight.rowwise().sum();
    *du = (S(2 / pairs)) * (u * row_sums.asDiagonal() - memory * weight.transpose());
    for (Index i = 0; i < batch; ++i)
      for (Index k = 0; k < bits; ++k) {
        const double x = u(k, i);
        (*du)(k, i) += static_cast<S>(alpha / entries * detail::sign(std::abs(x) - 1) * detail::sign(x));
      }
  }
  return pair_loss / pairs + alpha * quantization / entries;
}

/// DPSH (Li et al., IJCAI 2016, eq. 4 with the quantisation term), against a memory of outputs:
///   L = mean_{i in batch, j} [ log(1 + e^theta_ij) - s_ij theta_ij ] + alpha mean (u - sign u)^2,
///   theta_ij = u_i . U_j / 2.
/// An item not yet in the memory has U_j = 0 and s_ij = 0: a constant log 2, no gradient.
template <class S>
double dpsh_loss(const Matrix<S>& u, const Matrix<S>& memory, const Matrix<S>& similar, double alpha,
                 Matrix<S>* du) {
  const Index bits = u.rows(), batch = u.cols();
  // Elementwise over the batch x N pairs in packets: softplus(t) = max(t, 0) + log1p(e),
  // sigmoid(t) = 1 / (1 + e) or e / (1 + e), e = exp(-|t|) <= 1 (never overflows).
  const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> theta = ((u.transpose() * memory) * S(0.5)).array();
  const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> e = (-theta.abs()).exp();
  const auto s = similar.array();
  // The per-pair terms in S first, so that log1p runs in packets (a cast inside the expression
  // would make it one libm call per pair), then summed per column in S and over columns in double.
  const Eigen::Array<S, Eigen::Dynamic, Eigen::Dynamic> per_pair = theta.max(S(0)) + e.log1p() - s * theta;
  const double pair_loss = per_pair.colwise().sum().template cast<double>().sum();
  const double pairs = static_cast<double>(theta.size());
  const double entries = static_cast<double>(bits) * static_cast<double>(batch);
  const Matrix<S> residual = u - u.unaryExpr([](S x) { return static_cast<S>(detail::sign(x)); });
  if (du != nullptr) {
    const Matrix<S> d_theta = ((theta >= S(0)).select(S(1), e) / (S(1) + e) - s).matrix();
    *du = (memory * d_theta.transpose()) * S(0.5 / pairs) + residual * S(2 * alpha / entries);
  }
  return pair_loss / pairs + alpha * residual.squaredNorm() / entries;
}

/// HashNet (Cao et al., ICCV 2017, eq. 4-6) within a batch: v = tanh(scale u),
/// theta_ij = alpha v_i . v_j over all ordered pairs (i = j included), the pairwise negative
/// log-likelihood log(1 + e^theta) - s theta, similar and dissimilar pairs re-weighted to equal
/// total mass (w = P / P_1 and P / P_0), the sum divided by the P pairs.
template <class S>
double hashnet_loss(const Matrix<S>& u, const Matrix<S>& similar, double alpha, double scale, Matrix<S>* du) {
  const Index batch = u.cols();
  const Matrix<S> v = (u.array() * S(scale)).tanh().matrix();
  const Matrix<S> theta = (v.transpose() * v) * S(alpha);
  const double positives = static_cast<double>((similar.array() > 0).count());
  const double pairs = static_cast<double>(batch) * static_cast<double>(batch);
  const double negatives = pairs - positives;
  Matrix<S> d_theta(batch, batch);
  double loss = 0;
  for (Index j = 0; j < batch; ++j)
    for (Index i = 0; i < batch; ++i) {
      const double s = similar(i, j) > 0 ? 1.0 : 0.0;
      const double w = s > 0 ? pairs / positives : pairs / negatives;
      const double t = theta(i, j);
      loss += w * (detail::softplus(t) - s * t);
      d_theta(i, j) = static_cast<S>(w * (detail::sigmoid(t) - s) / pairs);
    }
  if (du != nullptr) {
    const Matrix<S> dv = (v * (d_theta + d_theta.transpose())) * S(alpha);
    *du = (dv.array() * (S(1) - v.array().square()) * S(scale)).matrix();
  }
  return loss / pairs;
}

/// CSQ (Yuan et al., CVPR 2020, eq. 6-8): v = tanh(u); the binary cross-entropy of (v + 1) / 2
/// against each item's hash centre (c + 1) / 2 (`centres`: bits x B of +-1), mean over bits and
/// items, plus lambda mean (|v| - 1)^2. (v + 1) / 2 = sigmoid(2u), so the BCE is a softplus of
/// 2u: finite for every u.
template <class S>
double csq_loss(const Matrix<S>& u, const Matrix<S>& centres, double lambda, Matrix<S>* du) {
  const Index bits = u.rows(), batch = u.cols();
  const double entries = static_cast<double>(bits) * static_cast<double>(batch);
  if (du != nullptr) du->resize(bits, batch);
  double bce = 0, quantization = 0;
  for (Index i = 0; i < batch; ++i)
    for (Index k = 0; k < bits; ++k) {
      const double x = u(k, i), target = centres(k, i) > 0 ? 1.0 : 0.0;
      const double v = std::tanh(x), gap = std::abs(v) - 1;
      bce += target > 0 ? detail::softplus(-2 * x) : detail::softplus(2 * x);
      quantization += gap * gap;
      if (du != nullptr)
        (*du)(k, i) = static_cast<S>(
            (2 * (detail::sigmoid(2 * x) - target) + lambda * 2 * gap * detail::sign(v) * (1 - v * v)) /
            entries);
    }
  return (bce + lambda * quantization) / entries;
}

/// GreedyHash (Su et al., NeurIPS 2018): codes b = sign(u) in the forward pass, the softmax
/// cross-entropy of the classification layer W b (classes x bits, no bias) against the class
/// ids, mean over items, plus alpha mean |(|u| - 1)^3|. The gradient reaching u is the
/// straight-through one (dL/db passed to u unchanged, the paper's eq. 8): it is the exact
/// gradient of the same loss with `codes` = u, which is how it is checked. `codes` is passed in
/// (sign(u) in training); `dweights` receives dL/dW.
template <class S>
double greedy_hash_loss(const Matrix<S>& u, const Matrix<S>& codes, const Matrix<S>& weights,
                        const std::vector<int>& classes, double alpha, Matrix<S>* du, Matrix<S>* dweights) {
  const Index bits = u.rows(), batch = u.cols();
  rlhash::detail::require(static_cast<Index>(classes.size()) == batch && codes.rows() == bits &&
                              codes.cols() == batch && weights.cols() == bits,
                          "greedy_hash_loss: shapes of u, codes, weights and classes differ");
  const Matrix<S> logits = weights * codes;  // classes x B
  Matrix<S> d_logits(logits.rows(), batch);
  double cross_entropy = 0;
  for (Index i = 0; i < batch; ++i) {
    const double top = static_cast<double>(logits.col(i).maxCoeff());
    double total = 0;
    for (Index c = 0; c < logits.rows(); ++c) total += std::exp(static_cast<double>(logits(c, i)) - top);
    const int y = classes[static_cast<std::size_t>(i)];
    cross_entropy += top + std::log(total) - static_cast<double>(logits(y, i));
    for (Index c = 0; c < logits.rows(); ++c)
      d_logits(c, i) =
          static_cast<S>((std::exp(static_cast<double>(logits(c, i)) - top) / total - (c == y ? 1.0 : 0.0)) /
                         static_cast<double>(batch));
  }
  const double entries = static_cast<double>(bits) * static_cast<double>(batch);
  double penalty = 0;
  for (Index i = 0; i < batch; ++i)
    for (Index k = 0; k < bits; ++k)
      penalty += std::pow(std::abs(std::abs(static_cast<double>(u(k, i))) - 1), 3);
  if (du != nullptr) {
    *du = weights.transpose() * d_logits;
    for (Index i = 0; i < batch; ++i)
      for (Index k = 0; k < bits; ++k) {
        const double x = u(k, i), gap = std::abs(x) - 1;
        (*du)(k, i) += static_cast<S>(alpha * 3 * gap * std::abs(gap) * detail::sign(x) / entries);
      }
  }
  if (dweights != nullptr) *dweights = d_logits * codes.transpose();
  return cross_entropy / static_cast<double>(batch) + alpha * penalty / entries;
}

}  // namespace rlhash::nn
