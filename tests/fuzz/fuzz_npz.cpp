// libFuzzer target: .npz (zip) parsing from memory: central directory, zip64 fields, stored
// and deflate entries, CRCs, and the .npy inside. Only rlhash::Error may escape.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rlhash/io/npz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rlhash::NpzArchive archive(std::vector<char>(data, data + size), "fuzz.npz");
    for (const auto& name : archive.names()) {
      try {
        (void)archive.read(name).to_matrix<double>();
      } catch (const rlhash::Error&) {
      }
    }
  } catch (const rlhash::Error&) {
  }
  return 0;
}
