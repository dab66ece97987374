#pragma once
// Output paths are checked before any work: each folder exists and is writable, no two outputs
// are the same file, and no output is one of the inputs. A mistake costs a one-line message,
// not a training run followed by a failed write.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "rlhash/core/message.hpp"

namespace rlhash::cli {

struct NamedPath {
  std::string option;  // e.g. "--out"
  std::string path;
};

namespace detail {
/// The path with its folder resolved (symlinks, "..", "."), so two spellings of one file compare
/// equal; the folder must exist.
inline std::filesystem::path resolved(const std::string& path) {
  const std::filesystem::path p(path);
  std::error_code error;
  const auto folder = std::filesystem::canonical(p.has_parent_path() ? p.parent_path() : ".", error);
  if (error) return std::filesystem::absolute(p, error).lexically_normal();
  return folder / p.filename();
}
inline bool same_file(const std::string& a, const std::string& b) {
  std::error_code error;
  if (std::filesystem::equivalent(a, b, error)) return true;
  return resolved(a) == resolved(b);
}
}  // namespace detail

/// InvalidArgument naming the option when an output cannot be written or collides with another
/// output or an input; empty paths are skipped.
inline void validate_outputs(const std::vector<NamedPath>& outputs,
                             const std::vector<NamedPath>& inputs = {}) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [option, path] = outputs[i];
    if (path.empty()) continue;
    const std::filesystem::path p(path);
    const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
    std::error_code error;
    check(!p.filename().empty() && p.filename() != "." && p.filename() != "..", option, " '", path,
          "': expected a file name, found a folder");
    check(std::filesystem::is_directory(folder, error), option, " '", path, "': the folder '", folder,
          "' does not exist");
    check(!std::filesystem::is_directory(p, error), option, " '", path,
          "' is a folder, expected a file name");
    check(::access(folder.c_str(), W_OK) == 0, option, " '", path, "': the folder '", folder,
          "' is not writable");
    for (std::size_t j = 0; j < i; ++j)
      check(outputs[j].path.empty() || !detail::same_file(outputs[j].path, path), option, " '", path,
            "' is the same file as ", outputs[j].option, "; give each output its own path");
    for (const auto& input : inputs)
      check(input.path.empty() || !detail::same_file(input.path, path), option, " '", path,
            "' is the same file as the input ", input.option, "; refusing to overwrite an input");
  }
}

}  // namespace rlhash::cli
