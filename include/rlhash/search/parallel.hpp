#pragma once
/// \file
/// The search layer's threading: a fixed number of std::threads per call (no pool, no OpenMP, so
/// the header-only library imposes nothing on its users), exceptions carried back to the caller.
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"

namespace rlhash {
namespace detail {

/// `threads` as given, or the hardware concurrency for 0; negative is an InvalidArgument.
inline int resolve_threads(int threads) {
  if (threads < 0)
    throw InvalidArgument("threads = " + std::to_string(threads) +
                          ", expected >= 0 (0 = all hardware threads)");
  if (threads > 0) return threads;
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware == 0 ? 1 : static_cast<int>(hardware);
}

/// Runs fn(t) for t in [0, count) on `count` threads (the caller's thread runs t = 0) and
/// rethrows the first exception any of them threw. When the system refuses a thread, the threads
/// already started are joined and the refusal is an Error naming how many were asked for.
template <class F>
void run_parallel(int count, F&& fn) {
  if (count <= 1) {
    fn(0);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(count));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<std::size_t>(count - 1));
  const auto join_all = [&workers] {
    for (auto& worker : workers) worker.join();
  };
  try {
    for (int t = 1; t < count; ++t)
      workers.emplace_back([&fn, &errors, t] {
        try {
          fn(t);
        } catch (...) {
          errors[static_cast<std::size_t>(t)] = std::current_exception();
        }
      });
  } catch (const std::exception& e) {  // std::system_error, or std::bad_alloc for a thread's state
    join_all();
    throw Error("cannot start " + std::to_string(count) + " threads (" + e.what() +
                "); ask for fewer with threads / --threads");
  }
  try {
    fn(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  join_all();
  for (auto& error : errors)
    if (error) std::rethrow_exception(error);
}

/// The half-open share [begin, end) of part `t` of `parts` equal parts of `total` items.
inline Index share_begin(Index total, int parts, int t) {
  // Split as quotient and remainder so total * t cannot overflow.
  return (total / parts) * t + ((total % parts) * t) / parts;
}

}  // namespace detail
}  // namespace rlhash
