#pragma once
// Subcommands register themselves: each cmd_<name>.cpp defines a static RegisterCommand, so a new
// subcommand is one new file and main.cpp never changes.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace rlhash::cli {

/// Options every subcommand shares.
struct CommonOptions {
  std::string json_path;          // --json PATH
  std::uint64_t seed = 0;         // --seed
  int threads = 0;                // --threads (0: all cores)
  std::vector<std::string> sets;  // --set method.field=value
};

struct Command {
  std::string name;
  std::string summary;
  /// Adds the subcommand's options to `app` and returns the action run after parsing.
  std::function<std::function<void()>(CLI::App& app, CommonOptions& common)> setup;
};

inline std::vector<Command>& registered_commands() {
  static std::vector<Command> commands;
  return commands;
}

struct RegisterCommand {
  explicit RegisterCommand(Command command) { registered_commands().push_back(std::move(command)); }
};

/// --json, --seed, --threads and (when `with_set`) --set, the same on every subcommand.
inline void add_common_options(CLI::App& app, CommonOptions& common, bool with_set = true) {
  app.add_option("--json", common.json_path, "Write machine-readable results to this file");
  app.add_option("--seed", common.seed, "Random seed")->default_val(0);
  app.add_option("--threads", common.threads, "Threads to use (0: all cores)")->default_val(0);
  if (with_set)
    app.add_option("--set", common.sets, "Override a method's config field: method.field=value (repeatable)")
        ->take_all();
}

}  // namespace rlhash::cli
