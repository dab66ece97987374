#pragma once
/// \file
/// A read-only view of packed codes in BinaryCodes layout (LSB-first words, a stride of
/// ceil(bits/64) words per code). The search functions take views so that the same kernels run
/// on a BinaryCodes, on a growing index, or on a memory-mapped file. Converts implicitly from
/// BinaryCodes.
#include <cstdint>
#include <string>

#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

struct CodesView {
  const std::uint64_t* data = nullptr;
  Index size = 0;
  int bits = 0;
  int words = 0;

  CodesView() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): a BinaryCodes is a view's natural source.
  CodesView(const BinaryCodes& codes)
      : data(codes.data()), size(codes.size()), bits(codes.bits()), words(codes.words()) {}
  /// `size` codes of `bits` bits at `data` (size * ceil(bits/64) words, tail bits ignored).
  CodesView(const std::uint64_t* data_, Index size_, int bits_)
      : data(data_), size(size_), bits(bits_), words((bits_ + 63) / 64) {
    if (bits_ < 1 || bits_ > BinaryCodes::max_bits)
      throw InvalidArgument("codes view: bits = " + std::to_string(bits_) + ", expected 1.." +
                            std::to_string(BinaryCodes::max_bits));
    if (size_ < 0) throw InvalidArgument("codes view: negative size " + std::to_string(size_));
    if (size_ > 0 && data_ == nullptr) throw InvalidArgument("codes view: null data for a non-empty view");
  }

  const std::uint64_t* row(Index i) const { return data + i * words; }
  bool empty() const { return size == 0; }
  /// The valid bits of the last word of each code.
  std::uint64_t tail_mask() const {
    const int used = bits - (words - 1) * 64;
    return used == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << used) - 1;
  }
};

namespace detail {
/// Checks that `view` holds codes (1..max_bits bits); `what` names the argument.
inline void require_codes(const CodesView& view, const char* what) {
  if (view.bits < 1 || view.bits > BinaryCodes::max_bits || view.words != (view.bits + 63) / 64)
    throw InvalidArgument(std::string(what) + ": expected codes of 1.." +
                          std::to_string(BinaryCodes::max_bits) +
                          " bits, found bits = " + std::to_string(view.bits));
  if (view.size < 0 || (view.size > 0 && view.data == nullptr))
    throw InvalidArgument(std::string(what) + ": invalid view (negative size or null data)");
}
inline void require_same_bits(const CodesView& queries, const CodesView& database) {
  if (queries.bits != database.bits)
    throw InvalidArgument("queries have " + std::to_string(queries.bits) + " bits, the database " +
                          std::to_string(database.bits) + " bits; expected equal code lengths");
}
/// Both sides of a query-database operation (`what` names it): valid views of equal length.
inline void require_query_database(const CodesView& queries, const CodesView& database,
                                   const std::string& what) {
  require_codes(queries, (what + ": queries").c_str());
  require_codes(database, (what + ": database").c_str());
  require_same_bits(queries, database);
}
}  // namespace detail

}  // namespace rlhash
