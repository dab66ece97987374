#pragma once
/// \file
/// Packed binary codes: N codes of 1..1024 bits, bit j of a code in bit j%64 of word j/64 (LSB
/// first), rows contiguous with a stride of ceil(bits/64) words, unused tail bits always zero, the
/// buffer 64-byte aligned. In bytes this is faiss's IndexBinary layout.
#include <Eigen/Core>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

class BinaryCodes {
 public:
  static constexpr int max_bits = 1024;

  BinaryCodes() = default;
  /// `count` all-zero codes of `bits` bits.
  BinaryCodes(Index count, int bits) : count_(count), bits_(bits), words_((bits + 63) / 64) {
    if (bits < 1 || bits > max_bits)
      throw InvalidArgument("binary codes: bits = " + std::to_string(bits) + ", expected 1.." +
                            std::to_string(max_bits));
    if (count < 0) throw InvalidArgument("binary codes: negative count " + std::to_string(count));
    allocate();
  }
  BinaryCodes(const BinaryCodes& other) : BinaryCodes() { *this = other; }
  BinaryCodes& operator=(const BinaryCodes& other) {
    if (this == &other) return *this;
    count_ = other.count_;
    bits_ = other.bits_;
    words_ = other.words_;
    allocate();
    if (total_words() > 0) std::memcpy(data_.get(), other.data_.get(), total_words() * sizeof(std::uint64_t));
    return *this;
  }
  BinaryCodes(BinaryCodes&&) noexcept = default;
  BinaryCodes& operator=(BinaryCodes&&) noexcept = default;

  /// bit = 1 iff value > 0, one code per column of a bits x N matrix (sign hashing).
  template <class Derived>
  static BinaryCodes from_signs(const Eigen::MatrixBase<Derived>& values) {
    return threshold(values, typename Derived::Scalar(0));
  }
  /// bit = 1 iff p > 0.5, one code per column (DRLIH eq. (7)).
  template <class Derived>
  static BinaryCodes from_probabilities(const Eigen::MatrixBase<Derived>& probabilities) {
    return threshold(probabilities, typename Derived::Scalar(0.5));
  }
  /// bit = 1 iff value > cut, one code per column of a bits x N matrix.
  template <class Derived>
  static BinaryCodes threshold(const Eigen::MatrixBase<Derived>& values, typename Derived::Scalar cut) {
    BinaryCodes codes(values.cols(), static_cast<int>(values.rows()));
    for (Index i = 0; i < codes.size(); ++i)
      for (int j = 0; j < codes.bits(); ++j)
        if (values(j, i) > cut) codes.set(i, j, true);
    return codes;
  }

  Index size() const { return count_; }
  int bits() const { return bits_; }
  /// 64-bit words per code (the row stride).
  int words() const { return words_; }
  bool empty() const { return count_ == 0; }

  std::uint64_t* row(Index i) { return data_.get() + i * words_; }
  const std::uint64_t* row(Index i) const { return data_.get() + i * words_; }
  std::uint64_t* data() { return data_.get(); }
  const std::uint64_t* data() const { return data_.get(); }

  bool get(Index i, int j) const { return (row(i)[j >> 6] >> (j & 63)) & 1U; }
  void set(Index i, int j, bool value) {
    const std::uint64_t mask = std::uint64_t{1} << (j & 63);
    if (value)
      row(i)[j >> 6] |= mask;
    else
      row(i)[j >> 6] &= ~mask;
  }
  void flip(Index i, int j) { row(i)[j >> 6] ^= std::uint64_t{1} << (j & 63); }

  /// The mask of valid bits in the last word of each code.
  std::uint64_t tail_mask() const {
    const int used = bits_ - (words_ - 1) * 64;
    return used == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << used) - 1;
  }

  /// Codes as a bits x N matrix of 0/1 or, with `signed_values`, -1/+1.
  template <class Scalar = float>
  Matrix<Scalar> unpack(bool signed_values = false) const {
    Matrix<Scalar> out(bits_, count_);
    const Scalar zero = signed_values ? Scalar(-1) : Scalar(0);
    for (Index i = 0; i < count_; ++i)
      for (int j = 0; j < bits_; ++j) out(j, i) = get(i, j) ? Scalar(1) : zero;
    return out;
  }

  /// The codes at the listed rows, in that order.
  BinaryCodes rows(const std::vector<Index>& items) const {
    BinaryCodes out(static_cast<Index>(items.size()), bits_);
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (items[k] < 0 || items[k] >= count_)
        throw InvalidArgument("binary codes: row " + std::to_string(items[k]) + " outside [0, " +
                              std::to_string(count_) + ")");
      std::memcpy(out.row(static_cast<Index>(k)), row(items[k]), sizeof(std::uint64_t) * words_);
    }
    return out;
  }

  friend bool operator==(const BinaryCodes& a, const BinaryCodes& b) {
    return a.count_ == b.count_ && a.bits_ == b.bits_ &&
           (a.total_words() == 0 ||
            std::memcmp(a.data(), b.data(), a.total_words() * sizeof(std::uint64_t)) == 0);
  }
  friend bool operator!=(const BinaryCodes& a, const BinaryCodes& b) { return !(a == b); }

 private:
  struct FreeAligned {
    void operator()(std::uint64_t* p) const { std::free(p); }
  };
  std::size_t total_words() const {
    return static_cast<std::size_t>(count_) * static_cast<std::size_t>(words_);
  }
  void allocate() {
    // Round up to whole cache lines so SIMD kernels may read full 64-byte blocks.
    const std::size_t bytes = ((total_words() * sizeof(std::uint64_t) + 63) / 64) * 64;
    data_.reset(bytes == 0 ? nullptr : static_cast<std::uint64_t*>(std::aligned_alloc(64, bytes)));
    if (bytes != 0 && !data_) throw std::bad_alloc();
    if (bytes != 0) std::memset(data_.get(), 0, bytes);
  }

  Index count_ = 0;
  int bits_ = 0;
  int words_ = 0;
  std::unique_ptr<std::uint64_t[], FreeAligned> data_;
};

}  // namespace rlhash
