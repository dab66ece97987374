#pragma once
/// \file
/// One way to build error messages: `message("'", path, "': row ", r, " is ", x)` streams its
/// parts, so a check is one line and numbers print the same everywhere; `check<E>(condition,
/// parts...)` throws `E` with that message only when the condition fails (the text is never
/// built on the good path).
#include <sstream>
#include <string>
#include <utility>

#include "rlhash/core/error.hpp"

namespace rlhash {

/// The parts streamed one after the other (numbers as `std::ostream` prints them).
template <class... Parts>
std::string message(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

/// Throws `E` (default InvalidArgument) with message(parts...) when `condition` is false.
template <class E = InvalidArgument, class... Parts>
void check(bool condition, const Parts&... parts) {
  if (!condition) throw E(message(parts...));
}

}  // namespace rlhash
