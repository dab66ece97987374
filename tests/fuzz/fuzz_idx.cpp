// libFuzzer target: IDX parsing from memory, plain and gzip (the gzip path runs whenever the
// input starts with 1f 8b), then conversion of what it returns. Only rlhash::Error may escape.
#include <cstddef>
#include <cstdint>

#include "rlhash/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rlhash::NdArray array = rlhash::parse_idx(reinterpret_cast<const char*>(data), size, "fuzz.idx");
    (void)array.to_matrix<float>();
    (void)array.to_vector<std::uint8_t>();
  } catch (const rlhash::Error&) {
  }
  return 0;
}
