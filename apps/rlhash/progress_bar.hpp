#pragma once
// The CLI's progress bar: drawn on stderr only when stderr is a terminal, never into --json.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "rlhash/core/progress.hpp"

namespace rlhash::cli {

class ProgressBar {
 public:
  explicit ProgressBar(std::string label)
      : label_(std::move(label)), enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// A library ProgressCallback that draws this bar (at most ten times a second).
  ProgressCallback callback() {
    return [this](const Progress& p) {
      draw(p);
      return true;
    };
  }

  void finish() {
    if (enabled_ && drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  void draw(const Progress& p) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100) && p.done < p.total) return;
    last_ = now;
    drawn_ = true;
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double fraction = p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : 0.0;
    const int width = 24;
    const int filled = static_cast<int>(fraction * width);
    const double rate = elapsed > 0 ? static_cast<double>(p.done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : 0.0;
    std::fprintf(stderr, "\r\033[K%s %s [%s%s] %3.0f%% %lld/%lld %.1f/s ETA %02d:%02d %s", label_.c_str(),
                 p.stage.c_str(), std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), '-').c_str(), 100.0 * fraction, p.done,
                 p.total, rate, static_cast<int>(eta) / 60, static_cast<int>(eta) % 60, p.metrics.c_str());
    std::fflush(stderr);
  }

  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

}  // namespace rlhash::cli
