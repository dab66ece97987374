#pragma once
/// \file
/// Data-parallel training without a transport of its own: the replicas of one training run (one
/// per process, e.g. the ranks of an MPI job: rlhash/dist/replicas.hpp builds them), the split of
/// each mini-batch between them, and the gradient sum that leaves every replica with the same
/// parameters.
///
/// Every replica runs the same trainer with the same seed, so all draw the same shuffled batch
/// and the same triplets or samples from the trainer's generator. A step then runs
///   1. the network's forward pass on this replica's columns of the batch only (the costly part);
///   2. `gather`: the outputs of all replicas, concatenated in replica order, are the outputs of
///      the whole batch, on every replica;
///   3. the loss and its output gradient on the whole batch, on every replica alike (so a
///      triplet, pairwise or listwise loss pairs items across replicas exactly as in one process);
///   4. the backward pass of this replica's columns of the output gradient;
///   5. `sum_gradients`: each gradient summed over the replicas in replica order.
/// The summed gradient is the single-process gradient of the whole batch, up to the order of
/// floating-point additions, and bit for bit the same on every replica, so clipping and the
/// optimizer give every replica the same parameters. What differs from one process: layers
/// with their own randomness (Dropout) draw per replica, so with dropout the masks differ.
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/parameters.hpp"

namespace rlhash::nn {

/// The replicas of one training run and the collectives data-parallel training needs. Every
/// replica must call each function the same number of times, in the same order (collectives).
/// A default-constructed value is one replica: nothing to exchange.
struct Replicas {
  int rank = 0;   ///< this replica, 0 .. count - 1
  int count = 1;  ///< replicas in the run
  /// Sums each of `n` values over the replicas, in place, adding in replica order: every
  /// replica ends with the same bits.
  std::function<void(float* values, std::size_t n)> sum_floats;
  std::function<void(double* values, std::size_t n)> sum_doubles;
  /// Concatenates the replicas' blocks in replica order into `all`: this replica's block is
  /// `mine`, of `sizes[rank]` bytes; `all` has room for the sum of `sizes`.
  std::function<void(const void* mine, void* all, const std::vector<std::int64_t>& sizes)> concatenate;
  /// True on every replica when `ok` is true on every replica.
  std::function<bool(bool ok)> all_ok;

  bool single() const { return count <= 1; }
  /// Replica 0 adds the terms every replica computes alike (a classification layer's gradient
  /// from the whole batch's outputs) and writes the run's files.
  bool leader() const { return rank == 0; }

  template <class S>
  void sum(S* values, std::size_t n) const {
    if constexpr (std::is_same_v<S, float>)
      sum_floats(values, n);
    else
      sum_doubles(values, n);
  }
};

/// True when `replicas` names more than one replica.
inline bool data_parallel(const Replicas* replicas) { return replicas != nullptr && !replicas->single(); }

/// The columns [begin, end) of a batch of `size` items that `replicas`' replica computes: parts
/// in replica order, sizes differing by at most one. One replica (or none) computes them all.
class BatchSplit {
 public:
  BatchSplit(const Replicas* replicas, Index size) : replicas_(data_parallel(replicas) ? replicas : nullptr), size_(size) {
    if (replicas_ == nullptr) {
      end_ = size;
      return;
    }
    begin_ = boundary(replicas_->rank);
    end_ = boundary(replicas_->rank + 1);
  }

  Index begin() const { return begin_; }
  Index end() const { return end_; }
  bool empty() const { return end_ == begin_; }
  /// This replica adds the terms that do not pass through its columns (see Replicas::leader).
  bool leader() const { return replicas_ == nullptr || replicas_->leader(); }

  /// This replica's items of `batch`.
  std::vector<Index> mine(const std::vector<Index>& batch) const {
    return {batch.begin() + begin_, batch.begin() + end_};
  }
  /// This replica's columns of `whole` (rows x size).
  template <class S>
  Matrix<S> mine(const Matrix<S>& whole) const {
    return whole.middleCols(begin_, end_ - begin_);
  }
  /// The whole batch's `rows` x size matrix from every replica's columns (`mine`: rows x
  /// end - begin); collective.
  template <class S>
  Matrix<S> gather(const Matrix<S>& mine, Index rows) const {
    rlhash::detail::require(mine.rows() == rows && mine.cols() == end_ - begin_,
                            "BatchSplit::gather: expected " + std::to_string(rows) + " x " +
                                std::to_string(end_ - begin_) + " outputs, got " + std::to_string(mine.rows()) +
                                " x " + std::to_string(mine.cols()));
    if (replicas_ == nullptr) return mine;
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(replicas_->count));
    for (int r = 0; r < replicas_->count; ++r)
      sizes[static_cast<std::size_t>(r)] =
          static_cast<std::int64_t>((boundary(r + 1) - boundary(r)) * rows) * static_cast<std::int64_t>(sizeof(S));
    Matrix<S> whole(rows, size_);
    replicas_->concatenate(mine.data(), whole.data(), sizes);  // column-major: blocks of columns
    return whole;
  }

 private:
  Index boundary(int rank) const {
    return static_cast<Index>((static_cast<std::int64_t>(size_) * rank) / replicas_->count);
  }

  const Replicas* replicas_;
  Index size_;
  Index begin_ = 0, end_ = 0;
};

/// Sums every gradient of `params` over `replicas` (collective): after it each replica holds the
/// whole batch's gradient, the same bits everywhere. A device backend's gradients travel through
/// one host buffer.
template <class S, class B>
void sum_gradients(const ParameterList<S, B>& params, const Replicas& replicas) {
  if (replicas.single()) return;
  std::vector<S> flat(static_cast<std::size_t>(parameter_count(params)));
  std::size_t at = 0;
  for (const auto& p : params) {
    B::download(flat.data() + at, p.grad_data, static_cast<std::size_t>(p.size()));
    at += static_cast<std::size_t>(p.size());
  }
  replicas.sum(flat.data(), flat.size());
  at = 0;
  for (const auto& p : params) {
    B::upload(p.grad_data, flat.data() + at, static_cast<std::size_t>(p.size()));
    at += static_cast<std::size_t>(p.size());
  }
}

/// Runs `write` on the leader only and agrees on the outcome: when it threw there, every replica
/// throws (the leader its own error, the others an IoError naming `what`), so no replica is left
/// waiting in the next collective. One replica: just `write`.
template <class Write>
void write_once(const Replicas* replicas, const std::string& what, Write&& write) {
  if (!data_parallel(replicas)) {
    write();
    return;
  }
  std::exception_ptr error;
  if (replicas->leader()) try {
      write();
    } catch (...) {
      error = std::current_exception();
    }
  if (replicas->all_ok(error == nullptr)) return;
  if (error) std::rethrow_exception(error);
  throw IoError(what + " failed on replica 0");
}

}  // namespace rlhash::nn
