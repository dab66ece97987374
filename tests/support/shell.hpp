#pragma once
// Runs a shell command for the end-to-end tests (the CLI, mpirun), stdout and stderr together.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace rlhash::test {

struct Run {
  int exit_code;
  std::string output;
};

inline Run run_shell(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "cannot start: " + command};
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace rlhash::test
