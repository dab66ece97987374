// rlhash: learn binary codes, encode, search and evaluate from the command line. A thin shell over
// the library: every subcommand is what a user can do in a few lines of C++.
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "command.hpp"
#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
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

/// SIGINT/SIGTERM: remove the temporary files of writes in progress, say so in one line (a
/// progress bar's line is cleared first), then die of the signal as the shell expects.
/// Async-signal-safe calls only.
volatile std::sig_atomic_t stderr_is_terminal = 0;  // set before the handler is installed
void remove_temps_and_reraise(int signal_number) {
  rlhash::remove_pending_temp_files();
  static const char interrupted[] = "\r\033[Krlhash: interrupted; files being written were removed\n";
  static const char plain[] = "rlhash: interrupted; files being written were removed\n";
  const bool terminal = stderr_is_terminal != 0;
  (void)!::write(STDERR_FILENO, terminal ? interrupted : plain,
                 (terminal ? sizeof interrupted : sizeof plain) - 1);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

/// The first argument when it names no subcommand (and is no option), else empty.
std::string unknown_command(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') return {};
  for (const auto& command : rlhash::cli::registered_commands())
    if (command.name == argv[1]) return {};
  return argv[1];
}

}  // namespace

int main(int argc, char** argv) {
  stderr_is_terminal = ::isatty(STDERR_FILENO) == 1 ? 1 : 0;
  std::signal(SIGINT, remove_temps_and_reraise);
  std::signal(SIGTERM, remove_temps_and_reraise);
  if (const std::string unknown = unknown_command(argc, argv); !unknown.empty()) {
    std::vector<std::string> names;
    for (const auto& command : rlhash::cli::registered_commands()) names.push_back(command.name);
    std::sort(names.begin(), names.end());
    std::string known;
    for (const auto& name : names) known += (known.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "rlhash: error: unknown command '%s' (commands: %s; see rlhash --help)\n",
                 unknown.c_str(), known.c_str());
    return 2;
  }
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
    return 2;  // every malformed command line, whatever CLI11's own code
  }

  try {
    apply_threads(common.threads);
    if (action) action();
  } catch (const rlhash::Error& e) {
    std::fprintf(stderr, "rlhash: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(
        stderr,
        "rlhash: error: out of memory: the inputs or options ask for more memory than is available\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rlhash: internal error: %s\n", e.what());
    return 3;
  }
  return 0;
}
