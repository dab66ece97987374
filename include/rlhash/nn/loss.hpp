#pragma once
/// \file
/// Losses over batches (one sample per column). Each returns the loss value and, when `grad`
/// is not null, writes dLoss/dInput (same shape as the input) into it.
///
///   triplet_margin_loss   DRLIH eq. (3), with the sub-gradients of eq. (9) corrected
///   mse_loss, huber_loss  mean over all elements; masked_* and selected_* for the DQN
///   binary_cross_entropy, binary_cross_entropy_with_logits   mean over all elements
///   softmax_cross_entropy mean over samples (classifier baseline)
///   bit_balance_loss_*, bit_decorrelation_loss_of_probabilities   code regularisers on the
///                         relaxed code (mean over the batch)
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash::nn {

namespace detail {
template <class A, class B>
void require_same_loss_shape(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& b, const char* loss,
                             const char* what) {
  if (!(a.rows() == b.rows() && a.cols() == b.cols()))
    throw InvalidArgument(std::string(loss) + ": " + what + " is " + std::to_string(b.rows()) + " x " +
                          std::to_string(b.cols()) + ", the predictions are " + std::to_string(a.rows()) +
                          " x " + std::to_string(a.cols()));
}
inline void require_nonempty(Index size, const char* loss) {
  if (size <= 0) throw InvalidArgument(std::string(loss) + ": empty batch");
}
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Triplet ranking loss, DRLIH eq. (3)

/// Column indices into a code batch: anchor x_i, similar x_i^+, dissimilar x_i^-.
struct Triplet {
  Index anchor = 0;
  Index positive = 0;
  Index negative = 0;
};

/// J_i = max(0, margin + |a - p|^2 - |a - n|^2) for each triplet over the columns of `codes`
/// (bits x N relaxed codes). Returns the MEAN over triplets; `grad` (bits x N) receives the
/// gradient of that mean, `per_triplet` (if given) every J_i (DRLIH's rewards are -J_i).
///
/// Eq. (9) as printed swaps the labels; the derivatives of J are
///   dJ/da = 2 (n - p),  dJ/dp = 2 (p - a),  dJ/dn = 2 (a - n),
/// times the indicator that the hinge is active (the tests check them by finite differences).
/// A column that appears in several triplets accumulates all its contributions.
template <class D>
typename D::Scalar triplet_margin_loss(const Eigen::MatrixBase<D>& codes,
                                       const std::vector<Triplet>& triplets, double margin,
                                       Matrix<typename D::Scalar>* grad = nullptr,
                                       Vector<typename D::Scalar>* per_triplet = nullptr) {
  using S = typename D::Scalar;
  detail::require_nonempty(static_cast<Index>(triplets.size()), "triplet_margin_loss");
  const Index n = codes.cols();
  for (std::size_t i = 0; i < triplets.size(); ++i) {
    const auto& t = triplets[i];
    if (!(t.anchor >= 0 && t.anchor < n && t.positive >= 0 && t.positive < n && t.negative >= 0 &&
          t.negative < n))
      throw InvalidArgument("triplet_margin_loss: triplet " + std::to_string(i) + " (" +
                            std::to_string(t.anchor) + ", " + std::to_string(t.positive) + ", " +
                            std::to_string(t.negative) + ") indexes outside the " + std::to_string(n) +
                            " codes");
  }
  if (grad) grad->setZero(codes.rows(), n);
  if (per_triplet) per_triplet->resize(static_cast<Index>(triplets.size()));
  const S scale = S(2) / static_cast<S>(triplets.size());
  double total = 0;
  for (std::size_t i = 0; i < triplets.size(); ++i) {
    const auto& t = triplets[i];
    const auto a = codes.col(t.anchor);
    const auto p = codes.col(t.positive);
    const auto q = codes.col(t.negative);
    const S value = static_cast<S>(margin) + (a - p).squaredNorm() - (a - q).squaredNorm();
    const S hinge = std::max(value, S(0));
    if (per_triplet) (*per_triplet)(static_cast<Index>(i)) = hinge;
    total += static_cast<double>(hinge);
    if (grad && value > S(0)) {
      grad->col(t.anchor) += scale * (q - p);
      grad->col(t.positive) += scale * (p - a);
      grad->col(t.negative) += scale * (a - q);
    }
  }
  return static_cast<S>(total / static_cast<double>(triplets.size()));
}

// ---------------------------------------------------------------------------------------------
// Code regularisers: bit balance and bit decorrelation of a relaxed code

/// L = mean over bits k of m_k^2, m_k = mean over the batch of (2 p_k - 1), for probabilities
/// p = sigmoid(z) (bits x N): 0 when every bit is 1 for half of the batch in expectation, 1 when
/// a bit is the same for every item. A ranking reward is blind to a bit that is constant over
/// the database (it shifts every distance alike), so nothing else moves such a bit back into use;
/// this term does (the even-distribution criterion of DeepBit, Lin et al. 2016, on the
/// probabilities). `grad_logits` (bits x N), if given, receives dL/dz = (4 / (K N)) m_k p (1 - p).
template <class D>
typename D::Scalar bit_balance_loss_of_probabilities(const Eigen::MatrixBase<D>& p,
                                                     Matrix<typename D::Scalar>* grad_logits = nullptr) {
  using S = typename D::Scalar;
  detail::require_nonempty(p.size(), "bit_balance_loss");
  const Vector<S> mean = (S(2) * p.rowwise().mean().array() - S(1)).matrix();
  if (grad_logits) {
    const S scale = S(4) / static_cast<S>(p.rows() * p.cols());
    *grad_logits = (p.array() * (S(1) - p.array())).matrix();
    *grad_logits = (scale * mean).asDiagonal() * *grad_logits;
  }
  return static_cast<S>(mean.squaredNorm() / static_cast<S>(p.rows()));
}

/// bit_balance_loss_of_probabilities of sigmoid(logits).
template <class D>
typename D::Scalar bit_balance_loss_of_logits(const Eigen::MatrixBase<D>& logits,
                                              Matrix<typename D::Scalar>* grad = nullptr) {
  using S = typename D::Scalar;
  detail::require_nonempty(logits.size(), "bit_balance_loss_of_logits");
  const Matrix<S> p = (S(1) / (S(1) + (-logits.array()).exp())).matrix();
  return bit_balance_loss_of_probabilities(p, grad);
}

/// L = mean over ordered pairs of bits k != l of c_kl^2, c = M M^T / N, M = 2p - 1, for
/// probabilities p = sigmoid(z) (bits x N): 0 when every two bits are uncorrelated over the batch
/// (second moments of the centred relaxed code), 1 when every bit copies another. A triplet or
/// ranking loss whose margin is met no longer separates two bits that carry the same split of the
/// data; this term does (the independence criterion of spectral hashing and DeepBit, here on the
/// relaxed code). `grad_logits` (bits x N), if given, receives
/// dL/dz = (8 / (K (K - 1) N)) (C_offdiag M) * p (1 - p). 0, and a zero gradient, for one bit.
template <class D>
typename D::Scalar bit_decorrelation_loss_of_probabilities(
    const Eigen::MatrixBase<D>& p, Matrix<typename D::Scalar>* grad_logits = nullptr) {
  using S = typename D::Scalar;
  detail::require_nonempty(p.size(), "bit_decorrelation_loss");
  const Index bits = p.rows();
  const Index n = p.cols();
  if (bits < 2) {
    if (grad_logits) grad_logits->setZero(bits, n);
    return S(0);
  }
  const Matrix<S> m = (S(2) * p.array() - S(1)).matrix();
  Matrix<S> c = (m * m.transpose()) / static_cast<S>(n);
  c.diagonal().setZero();
  const auto pairs = static_cast<S>(bits * (bits - 1));
  if (grad_logits) {
    *grad_logits = ((c * m).array() * p.array() * (S(1) - p.array())).matrix();
    *grad_logits *= S(8) / (pairs * static_cast<S>(n));
  }
  return c.squaredNorm() / pairs;
}

// ---------------------------------------------------------------------------------------------
// Regression losses

/// mean((y - t)^2) over all elements.
template <class Dy, class Dt>
typename Dy::Scalar mse_loss(const Eigen::MatrixBase<Dy>& y, const Eigen::MatrixBase<Dt>& target,
                             Matrix<typename Dy::Scalar>* grad = nullptr) {
  using S = typename Dy::Scalar;
  detail::require_same_loss_shape(y, target, "mse_loss", "the target");
  detail::require_nonempty(y.size(), "mse_loss");
  const Matrix<S> diff = y - target;
  if (grad) *grad = diff * (S(2) / static_cast<S>(y.size()));
  return diff.squaredNorm() / static_cast<S>(y.size());
}

/// Huber (smooth L1) with threshold delta, mean over all elements:
/// r^2 / 2 for |r| <= delta, delta (|r| - delta / 2) beyond.
template <class Dy, class Dt>
typename Dy::Scalar huber_loss(const Eigen::MatrixBase<Dy>& y, const Eigen::MatrixBase<Dt>& target,
                               double delta = 1.0, Matrix<typename Dy::Scalar>* grad = nullptr) {
  using S = typename Dy::Scalar;
  detail::require_same_loss_shape(y, target, "huber_loss", "the target");
  detail::require_nonempty(y.size(), "huber_loss");
  rlhash::detail::require(delta > 0, "huber_loss: delta must be > 0, got " + std::to_string(delta));
  const S d = static_cast<S>(delta);
  const auto r = (y - target).array().eval();
  const auto abs_r = r.abs();
  const S count = static_cast<S>(y.size());
  if (grad) *grad = (r.max(-d).min(d) / count).matrix();
  return (abs_r <= d).select(S(0.5) * r.square(), d * (abs_r - S(0.5) * d)).sum() / count;
}

/// MSE over the elements where mask != 0, averaged over the number of such elements;
/// other elements get zero gradient.
template <class Dy, class Dt, class Dm>
typename Dy::Scalar masked_mse_loss(const Eigen::MatrixBase<Dy>& y, const Eigen::MatrixBase<Dt>& target,
                                    const Eigen::MatrixBase<Dm>& mask,
                                    Matrix<typename Dy::Scalar>* grad = nullptr) {
  using S = typename Dy::Scalar;
  detail::require_same_loss_shape(y, target, "masked_mse_loss", "the target");
  detail::require_same_loss_shape(y, mask, "masked_mse_loss", "the mask");
  const auto on = (mask.array() != typename Dm::Scalar(0));
  const Index count = on.count();
  detail::require_nonempty(count, "masked_mse_loss (mask selects nothing)");
  const Matrix<S> diff = on.select((y - target).array(), S(0)).matrix();
  if (grad) *grad = diff * (S(2) / static_cast<S>(count));
  return diff.squaredNorm() / static_cast<S>(count);
}

/// Huber over the elements where mask != 0, averaged over their number.
template <class Dy, class Dt, class Dm>
typename Dy::Scalar masked_huber_loss(const Eigen::MatrixBase<Dy>& y, const Eigen::MatrixBase<Dt>& target,
                                      const Eigen::MatrixBase<Dm>& mask, double delta = 1.0,
                                      Matrix<typename Dy::Scalar>* grad = nullptr) {
  using S = typename Dy::Scalar;
  detail::require_same_loss_shape(y, target, "masked_huber_loss", "the target");
  detail::require_same_loss_shape(y, mask, "masked_huber_loss", "the mask");
  rlhash::detail::require(delta > 0, "masked_huber_loss: delta must be > 0, got " + std::to_string(delta));
  const auto on = (mask.array() != typename Dm::Scalar(0));
  const Index count = on.count();
  detail::require_nonempty(count, "masked_huber_loss (mask selects nothing)");
  const S d = static_cast<S>(delta);
  const auto r = on.select((y - target).array(), S(0)).eval();
  const auto abs_r = r.abs();
  if (grad) *grad = (r.max(-d).min(d) / static_cast<S>(count)).matrix();
  return (abs_r <= d).select(S(0.5) * r.square(), d * (abs_r - S(0.5) * d)).sum() / static_cast<S>(count);
}

namespace detail {
template <class S, class Dq>
Matrix<S> selection_mask(const Eigen::MatrixBase<Dq>& q, const std::vector<Index>& actions, Index targets,
                         const char* loss) {
  rlhash::detail::require(static_cast<Index>(actions.size()) == q.cols() && targets == q.cols(),
                          std::string(loss) + ": " + std::to_string(actions.size()) + " actions and " +
                              std::to_string(targets) + " targets for " + std::to_string(q.cols()) +
                              " samples");
  Matrix<S> mask = Matrix<S>::Zero(q.rows(), q.cols());
  for (Index j = 0; j < q.cols(); ++j) {
    const Index a = actions[static_cast<std::size_t>(j)];
    rlhash::detail::require(a >= 0 && a < q.rows(), std::string(loss) + ": action " + std::to_string(a) +
                                                        " of sample " + std::to_string(j) +
                                                        " is outside 0.." + std::to_string(q.rows() - 1));
    mask(a, j) = S(1);
  }
  return mask;
}
template <class S, class Dq, class Dt>
Matrix<S> selection_target(const Eigen::MatrixBase<Dq>& q, const std::vector<Index>& actions,
                           const Eigen::MatrixBase<Dt>& targets) {
  Matrix<S> full = q;  // unselected entries: target = prediction (masked out anyway)
  for (Index j = 0; j < q.cols(); ++j)
    full(actions[static_cast<std::size_t>(j)], j) = static_cast<S>(targets(j));
  return full;
}
}  // namespace detail

/// DQN regression: only Q(s_j, a_j) of the taken action a_j is compared with targets(j);
/// mean over the N samples of (Q(s_j, a_j) - target_j)^2. `q` is actions x N.
template <class Dq, class Dt>
typename Dq::Scalar selected_mse_loss(const Eigen::MatrixBase<Dq>& q, const std::vector<Index>& actions,
                                      const Eigen::MatrixBase<Dt>& targets,
                                      Matrix<typename Dq::Scalar>* grad = nullptr) {
  using S = typename Dq::Scalar;
  const Matrix<S> mask = detail::selection_mask<S>(q, actions, targets.size(), "selected_mse_loss");
  return masked_mse_loss(q, detail::selection_target<S>(q, actions, targets), mask, grad);
}

/// As selected_mse_loss with the Huber loss (the usual DQN choice).
template <class Dq, class Dt>
typename Dq::Scalar selected_huber_loss(const Eigen::MatrixBase<Dq>& q, const std::vector<Index>& actions,
                                        const Eigen::MatrixBase<Dt>& targets, double delta = 1.0,
                                        Matrix<typename Dq::Scalar>* grad = nullptr) {
  using S = typename Dq::Scalar;
  const Matrix<S> mask = detail::selection_mask<S>(q, actions, targets.size(), "selected_huber_loss");
  return masked_huber_loss(q, detail::selection_target<S>(q, actions, targets), mask, delta, grad);
}

// ---------------------------------------------------------------------------------------------
// Classification losses

/// -mean(t log p + (1 - t) log(1 - p)) over probabilities p; p is clamped to [eps, 1 - eps]
/// (eps = 1e-7 for float, 1e-12 for double) so log never sees 0.
template <class Dp, class Dt>
typename Dp::Scalar binary_cross_entropy(const Eigen::MatrixBase<Dp>& p, const Eigen::MatrixBase<Dt>& target,
                                         Matrix<typename Dp::Scalar>* grad = nullptr) {
  using S = typename Dp::Scalar;
  detail::require_same_loss_shape(p, target, "binary_cross_entropy", "the target");
  detail::require_nonempty(p.size(), "binary_cross_entropy");
  const S eps = sizeof(S) == 4 ? S(1e-7) : S(1e-12);
  const auto pc = p.array().max(eps).min(S(1) - eps).eval();
  const auto t = target.array();
  const S count = static_cast<S>(p.size());
  if (grad) *grad = ((pc - t) / (pc * (S(1) - pc)) / count).matrix();
  return -(t * pc.log() + (S(1) - t) * (S(1) - pc).log()).sum() / count;
}

/// Binary cross-entropy from logits z (p = sigmoid(z)), stable for any z:
/// max(z, 0) - z t + log1p(exp(-|z|)); gradient (sigmoid(z) - t) / count.
template <class Dz, class Dt>
typename Dz::Scalar binary_cross_entropy_with_logits(const Eigen::MatrixBase<Dz>& z,
                                                     const Eigen::MatrixBase<Dt>& target,
                                                     Matrix<typename Dz::Scalar>* grad = nullptr) {
  using S = typename Dz::Scalar;
  detail::require_same_loss_shape(z, target, "binary_cross_entropy_with_logits", "the target");
  detail::require_nonempty(z.size(), "binary_cross_entropy_with_logits");
  const auto x = z.array();
  const auto t = target.array();
  const S count = static_cast<S>(z.size());
  if (grad) *grad = ((S(1) / (S(1) + (-x).exp()) - t) / count).matrix();
  return (x.max(S(0)) - x * t + (-x.abs()).exp().log1p()).sum() / count;
}

/// Column-wise softmax of logits (classes x N), shifted by each column's maximum.
template <class D>
Matrix<typename D::Scalar> softmax(const Eigen::MatrixBase<D>& logits) {
  using S = typename D::Scalar;
  Matrix<S> e = (logits.rowwise() - logits.colwise().maxCoeff()).array().exp().matrix();
  const RowVector<S> sums = e.colwise().sum();
  e.array().rowwise() /= sums.array();
  return e;
}

/// -mean_j log softmax(z_j)[label_j] over the N columns of `logits` (classes x N);
/// gradient (softmax - onehot) / N.
template <class D>
typename D::Scalar softmax_cross_entropy(const Eigen::MatrixBase<D>& logits, const std::vector<Index>& labels,
                                         Matrix<typename D::Scalar>* grad = nullptr) {
  using S = typename D::Scalar;
  detail::require_nonempty(logits.cols(), "softmax_cross_entropy");
  rlhash::detail::require(static_cast<Index>(labels.size()) == logits.cols(),
                          "softmax_cross_entropy: " + std::to_string(labels.size()) + " labels for " +
                              std::to_string(logits.cols()) + " samples");
  const RowVector<S> max = logits.colwise().maxCoeff();
  const Matrix<S> shifted = logits.rowwise() - max;
  const RowVector<S> log_sum = shifted.array().exp().colwise().sum().log();
  double total = 0;
  for (Index j = 0; j < logits.cols(); ++j) {
    const Index c = labels[static_cast<std::size_t>(j)];
    rlhash::detail::require(c >= 0 && c < logits.rows(),
                            "softmax_cross_entropy: label " + std::to_string(c) + " of sample " +
                                std::to_string(j) + " is outside 0.." + std::to_string(logits.rows() - 1));
    total += static_cast<double>(log_sum(j) - shifted(c, j));
  }
  const S count = static_cast<S>(logits.cols());
  if (grad) {
    *grad = (shifted.rowwise() - log_sum).array().exp().matrix();
    for (Index j = 0; j < logits.cols(); ++j) (*grad)(labels[static_cast<std::size_t>(j)], j) -= S(1);
    *grad /= count;
  }
  return static_cast<S>(total / static_cast<double>(logits.cols()));
}

}  // namespace rlhash::nn
