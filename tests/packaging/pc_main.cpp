// Built with nothing but pkg-config's flags (tools/ci-packaging.sh, tools/ci-conan.sh): compiles,
// links (zlib when the package has it) and runs.
#include <cstdio>
#include <rlhash/io/idx.hpp>
#include <rlhash/version.hpp>

int main() {
#ifdef RLHASH_HAS_ZLIB
  std::printf("rlhash %s via pkg-config, with gzip\n", RLHASH_VERSION_STRING);
#else
  std::printf("rlhash %s via pkg-config, without gzip\n", RLHASH_VERSION_STRING);
#endif
  return 0;
}
