#pragma once
// Save/load checks shared by the hashers' tests.
#include <catch.hpp>

#include <cstdint>
#include <vector>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/config.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/reward/triplet_sampling.hpp"

namespace rlhash::test {

/// A tiny separable supervised set: 4 classes in 12 dimensions, item i of class c = i mod 4
/// lights up dimensions 3c..3c+2, plus uniform noise of width `noise`.
struct FourBlobs {
  MatrixF x;
  Labels labels;
};
inline FourBlobs four_blobs(Index per_class, std::uint64_t seed, double noise = 0.15) {
  Rng rng(seed);
  FourBlobs t;
  t.x.resize(12, 4 * per_class);
  std::vector<std::int32_t> ids;
  for (Index i = 0; i < 4 * per_class; ++i) {
    const int c = static_cast<int>(i % 4);
    ids.push_back(c);
    for (Index r = 0; r < 12; ++r)
      t.x(r, i) = static_cast<float>((r / 3 == c ? 1.0 : 0.0) + noise * (uniform_unit(rng) - 0.5));
  }
  t.labels = Labels::from_class_ids(ids, 4);
  return t;
}

/// Fit options that validate on `validation` (which must outlive them).
inline FitOptions validating_on(const FourBlobs& validation) {
  FitOptions options;
  options.validation_features = &validation.x;
  options.validation_labels = &validation.labels;
  return options;
}

/// The same settings in another hasher's Config type, field by field (e.g. a host and a device
/// DRLIH, whose representation Configs are different types).
template <class To, class From>
To same_settings(const From& from) {
  To to;
  for (const auto& [key, value] : field_values(from)) set_field(to, key, value);
  return to;
}

/// Host copies of every gradient of a parameter list of any backend.
template <class S, class B>
std::vector<Matrix<S>> downloaded_grads(const nn::ParameterList<S, B>& params) {
  std::vector<Matrix<S>> grads;
  for (const auto& p : params) {
    Matrix<S> g(p.rows, p.cols);
    B::download(g.data(), p.grad_data, static_cast<std::size_t>(p.size()));
    grads.push_back(g);
  }
  return grads;
}

/// Every valid triplet of the items 0..N-1 of `labels` taken as one batch.
inline std::vector<nn::Triplet> every_triplet(const Labels& labels, std::uint64_t seed) {
  std::vector<Index> batch(static_cast<std::size_t>(labels.size()));
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i] = static_cast<Index>(i);
  Rng rng(seed);
  return sample_triplets(labels, batch, 0, rng);
}

/// The words of every code, in order (for comparing two encodings).
inline std::vector<std::uint64_t> words_of(const BinaryCodes& codes) {
  return std::vector<std::uint64_t>(codes.data(), codes.data() + codes.size() * codes.words());
}

/// `hasher` saved and loaded into a fresh `To` of `config`, the whole payload read: e.g. a
/// model trained on a device backend loaded into the host hasher.
template <class To, class From>
To reloaded_as(const From& hasher, const typename To::Config& config) {
  ByteWriter out;
  hasher.save(out);
  To back(config);
  ByteReader in(out.bytes().data(), out.bytes().size(), "saved model");
  back.load(in);
  in.expect_end();
  return back;
}

/// The hasher saved and loaded into a fresh one of the same config; the whole payload is read.
template <class H>
H round_trip(const H& hasher) {
  return reloaded_as<H>(hasher, hasher.config());
}

/// Truncated parameters, and parameters of another code length, are refused with FormatError.
template <class H>
void check_damaged_parameters_rejected(const H& hasher) {
  ByteWriter out;
  hasher.save(out);
  ByteReader truncated(out.bytes().data(), out.bytes().size() - 3, "truncated");
  H back(hasher.config());
  CHECK_THROWS_AS(back.load(truncated), FormatError);
  auto other = hasher.config();
  other.bits += 1;
  H wrong_bits(other);
  ByteReader in(out.bytes().data(), out.bytes().size(), "wrong bits");
  CHECK_THROWS_AS(wrong_bits.load(in), FormatError);
}

}  // namespace rlhash::test
