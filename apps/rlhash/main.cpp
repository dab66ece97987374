// rlhash: learn binary codes, encode, search and evaluate from the command line. A thin shell over
// the library: every subcommand is what a user can do in a few lines of C++.
#include <Eigen/Core>
#include <cstdio>
#include <exception>

#include "command.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/search/cpu_features.hpp"
#include "rlhash/version.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

std::string version_text() {
  return std::string("rlhash ") + RLHASH_VERSION_STRING +
         " (SIMD path: " + rlhash::to_string(rlhash::active_simd_path()) + ")";
}

void apply_threads(int threads) {
  if (threads <= 0) return;
  Eigen::setNbThreads(threads);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rlhash: binary codes learned with deep reinforcement learning, and fast Hamming search"};
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough(false);

  rlhash::cli::CommonOptions common;
  std::function<void()> action;
  for (const auto& command : rlhash::cli::registered_commands()) {
    CLI::App* sub = app.add_subcommand(command.name, command.summary);
    auto run = command.setup(*sub, common);
    sub->callback([&action, run] { action = run; });
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "rlhash: error: %s (see rlhash --help)\n", e.what());
    return e.get_exit_code() != 0 ? e.get_exit_code() : 2;
  }

  try {
    apply_threads(common.threads);
    if (action) action();
  } catch (const rlhash::Error& e) {
    std::fprintf(stderr, "rlhash: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rlhash: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
