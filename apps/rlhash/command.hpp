#pragma once
// Subcommands register themselves: each cmd_<name>.cpp defines a static RegisterCommand, so a new
// subcommand is one new file and main.cpp never changes.
#include <CLI/CLI.hpp>
#include <algorithm>
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

/// Accepts a decimal integer in [0, 2^64 - 1] only: CLI11 would read "-1" (and an overflowing
/// number) as 2^64 - 1 without a word.
inline CLI::Validator seed_range() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::string max = "18446744073709551615";
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        if (digits) {
          const std::string trimmed = text.substr(std::min(text.find_first_not_of('0'), text.size() - 1));
          if (trimmed.size() < max.size() || (trimmed.size() == max.size() && trimmed <= max)) return {};
        }
        return "expected an integer in [0, " + max + "], found '" + text + "'";
      },
      "UINT64");
}

/// --json, --seed, --threads and (when `with_set`) --set, the same on every subcommand.
inline void add_common_options(CLI::App& app, CommonOptions& common, bool with_set = true) {
  app.add_option("--json", common.json_path, "Write machine-readable results to this file");
  app.add_option("--seed", common.seed, "Random seed")->default_val(0)->check(seed_range());
  app.add_option("--threads", common.threads, "Threads to use (0: all cores)")
      ->default_val(0)
      ->check(CLI::Range(0, 4096));
  if (with_set)
    app.add_option("--set", common.sets, "Override a method's config field: method.field=value (repeatable)")
        ->take_all();
}

}  // namespace rlhash::cli
