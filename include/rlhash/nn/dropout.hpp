#pragma once
/// \file
/// Inverted dropout: in training mode each element is kept with probability 1 - rate and
/// scaled by 1 / (1 - rate), so evaluation mode is the identity. The layer owns its generator
/// (seeded), saves it with the checkpoint, and backward reuses the forward's mask.
///
/// On a device backend (nn/backend.hpp) the mask is drawn on the host from the same generator
/// and uploaded, so the host and device layers drop the same elements.
#include <cstdint>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/rng_state.hpp"

namespace rlhash::nn {

template <class S, class B = CpuBackend>
class Dropout {
 public:
  using Scalar = S;
  using Backend = B;
  using Matrix = typename B::template Matrix<S>;
  using ConstRef = typename B::template ConstRef<S>;

  /// `rate` in [0, 1): the probability of dropping an element.
  Dropout(double rate, std::uint64_t seed) : rate_(rate), rng_(seed) {
    rlhash::detail::require(rate >= 0 && rate < 1,
                            "Dropout: rate must be in [0, 1), got " + std::to_string(rate));
  }

  double rate() const { return rate_; }
  bool training() const { return training_; }
  void set_training(bool training) { training_ = training; }

  /// With the mask frozen, forward reuses the last mask while the batch shape stays the same
  /// (finite-difference gradient checks need a fixed mask); no new draws are made.
  void freeze_mask(bool frozen) { frozen_ = frozen; }
  /// The last mask (a host matrix on every backend).
  const rlhash::Matrix<S>& mask() const { return host_mask_; }

  const Matrix& forward(const ConstRef& x) {
    active_ = training_ && rate_ > 0;
    if (!active_) {
      B::copy(output_, x);
      return output_;
    }
    if (!(frozen_ && host_mask_.rows() == x.rows() && host_mask_.cols() == x.cols()))
      draw_mask(x.rows(), x.cols());
    B::multiply(output_, x, mask_);
    return output_;
  }

  Matrix infer(const ConstRef& x) const {
    Matrix y;
    B::copy(y, x);
    return y;
  }

  const Matrix& backward(const ConstRef& dy) {
    rlhash::detail::require_shape("Dropout::backward", "dY", dy.rows(), dy.cols(), output_.rows(),
                                  output_.cols());
    if (active_)
      B::multiply(input_grad_, dy, mask_);
    else
      B::copy(input_grad_, dy);
    return input_grad_;
  }

  ParameterList<S, B> parameters() { return {}; }
  void zero_grad() {}

  /// The generator's state: a resumed run draws the same masks as an uninterrupted one.
  void save_state(ByteWriter& out) const { write_rng(out, rng_); }
  void load_state(ByteReader& in) { rng_ = read_rng(in); }

 private:
  void draw_mask(Index rows, Index cols) {
    host_mask_.resize(rows, cols);
    const S keep_scale = static_cast<S>(1.0 / (1.0 - rate_));
    S* m = host_mask_.data();
    for (Index i = 0; i < host_mask_.size(); ++i) m[i] = uniform_unit(rng_) >= rate_ ? keep_scale : S(0);
    mask_ = B::from_host(host_mask_);
  }

  double rate_;
  Rng rng_;
  bool training_ = true;
  bool frozen_ = false;
  bool active_ = false;
  rlhash::Matrix<S> host_mask_;
  Matrix mask_, output_, input_grad_;
};

}  // namespace rlhash::nn
