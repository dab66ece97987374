#pragma once
/// \file
/// Progress reporting. The library never prints: long work calls a user callback.
#include <functional>
#include <string>

namespace rlhash {

/// One progress report. `done` out of `total` units of `stage`; `metrics` holds the latest
/// named values (loss, reward, validation mAP) as "name=value" pairs for display.
struct Progress {
  std::string stage;
  long long done = 0;
  long long total = 0;
  std::string metrics;
};

/// Called by long-running library functions; return false to ask them to stop early.
using ProgressCallback = std::function<bool(const Progress&)>;

/// Calls `callback` when set; true when the work should go on.
inline bool report(const ProgressCallback& callback, const Progress& progress) {
  return !callback || callback(progress);
}

}  // namespace rlhash
