#pragma once
// Code-file options shared by encode, search and metrics.
#include <CLI/CLI.hpp>
#include <string>

#include "rlhash/codes/code_file.hpp"

namespace rlhash::cli {

inline void add_code_format_option(CLI::App& app, std::string& format) {
  app.add_option("--code-format", format,
                 "Code file layout: packed (faiss IndexBinary bytes), bits01 or sign")
      ->check(CLI::IsMember({"packed", "bits01", "sign"}))
      ->default_val("packed");
}

}  // namespace rlhash::cli
