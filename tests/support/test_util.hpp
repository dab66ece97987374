#pragma once
// Helpers shared by the tests: temporary folders and finite-difference gradient checks.
#include <cstdlib>
#include <filesystem>
#include <string>

// RLHASH_TEST_UNDER_ASAN: defined when AddressSanitizer is on. It reserves terabytes of address
// space at start, so tests that run under an address-space limit (ulimit -v) cannot run with it.
#if defined(__SANITIZE_ADDRESS__)
#define RLHASH_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RLHASH_TEST_UNDER_ASAN 1
#endif
#endif

namespace rlhash::test {

/// A fresh folder under the system temp dir, removed with its contents when destroyed.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "rlhash-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace rlhash::test
