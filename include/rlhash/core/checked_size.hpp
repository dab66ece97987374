#pragma once
/// \file
/// Sizes computed from input (rows x cols, queries x k, class ids + 1, bytes of a payload) are
/// computed here, never with bare `*` or `+`: a negative factor or an overflow is an
/// InvalidArgument naming what was being sized, never undefined behaviour or a wrapped size
/// that an allocation then trusts. An allocation of such a size that the system refuses is an
/// OutOfMemory naming what and how much (`allocating`), not an anonymous std::bad_alloc.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>

#include "rlhash/core/message.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {

/// a * b for non-negative a, b; InvalidArgument naming `what` when negative or overflowing.
inline Index checked_mul(Index a, Index b, const std::string& what) {
  check(a >= 0 && b >= 0, what, ": negative size (", a, " x ", b, ")");
  Index product = 0;
  check(!__builtin_mul_overflow(a, b, &product), what, ": ", a, " x ", b, " overflows a 64-bit size");
  return product;
}

/// a + b for non-negative a, b; InvalidArgument naming `what` when negative or overflowing.
inline Index checked_add(Index a, Index b, const std::string& what) {
  check(a >= 0 && b >= 0, what, ": negative size (", a, " + ", b, ")");
  Index sum = 0;
  check(!__builtin_add_overflow(a, b, &sum), what, ": ", a, " + ", b, " overflows a 64-bit size");
  return sum;
}

/// count elements of `element_size` bytes as a byte count; InvalidArgument naming `what` when
/// negative or beyond what an allocation can hold.
inline std::size_t checked_bytes(Index count, std::size_t element_size, const std::string& what) {
  check(count >= 0, what, ": negative element count ", count);
  std::size_t bytes = 0;
  check(!__builtin_mul_overflow(static_cast<std::size_t>(count), element_size, &bytes) &&
            bytes <= static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()),
        what, ": ", count, " elements of ", element_size, " bytes overflow the address space");
  return bytes;
}

/// Runs `allocate()`, which allocates about `bytes` bytes; a std::bad_alloc becomes an
/// OutOfMemory whose message starts with `what...` (the file, option or config field the user
/// knows that sized it), then the bytes asked for. The message is built only on failure.
template <class Allocate, class... What>
decltype(auto) allocating(std::size_t bytes, Allocate&& allocate, const What&... what) {
  try {
    return allocate();
  } catch (const std::bad_alloc&) {
    const bool gib = bytes >= (std::size_t{1} << 30);
    throw OutOfMemory(message(what..., ": cannot allocate ", bytes, " bytes (",
                              static_cast<double>(bytes) / double(gib ? 1 << 30 : 1 << 20),
                              gib ? " GiB)" : " MiB)"));
  }
}

/// Runs `work`; an OutOfMemory or std::bad_alloc inside it is rethrown as an OutOfMemory whose
/// message starts with `context` (e.g. the option that sized the work: "--k 1000").
template <class Work>
decltype(auto) sized_by(const std::string& context, Work&& work) {
  try {
    return work();
  } catch (const OutOfMemory& e) {
    throw OutOfMemory(context + ": " + e.what());
  } catch (const std::bad_alloc&) {
    throw OutOfMemory(context + ": out of memory (the system refused an allocation)");
  }
}

}  // namespace rlhash
