// libFuzzer target: the model and checkpoint readers' first defences: the envelope (magic,
// version, declared size, CRC-32), the checkpoint's section table, and the length-prefixed
// strings and matrices inside sections. Only rlhash::Error may escape. (The fuzzer bypasses the
// CRC by also trying the payload with its checksum recomputed, so the parsers behind it are
// reached.)
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "rlhash/core/checksum.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/nn/checkpoint.hpp"

namespace {
void read_section(rlhash::ByteReader in) {
  const auto count = in.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < count && in.remaining() > 0; ++i) {
    (void)in.get_string();
    (void)in.get_matrix<float>();
  }
}

void read_all(const std::vector<char>& bytes) {
  try {
    const auto view = rlhash::open_envelope(bytes, "fuzz.rlh", "RLHMODEL", 1);
    rlhash::ByteReader in(bytes.data() + view.payload_offset, view.payload_size, "fuzz.rlh");
    (void)in.get_string();
    (void)in.get<std::int32_t>();
    (void)in.get_matrix<double>();
  } catch (const rlhash::Error&) {
  }
  try {
    const rlhash::nn::CheckpointReader reader(bytes, "fuzz.ckpt");
    for (const char* name : {"parameters", "module_state", "optimizer", "trainer", "method"})
      if (reader.has(name)) {
        try {
          read_section(reader.section(name));
        } catch (const rlhash::Error&) {
        }
      }
  } catch (const rlhash::Error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<char> bytes(data, data + size);
  read_all(bytes);
  // The same bytes with a correct declared size and checksum, under both magics.
  if (size >= 20) {
    for (const char* magic : {"RLHMODEL", "RLHCKPT1"}) {
      std::vector<char> fixed(bytes.begin(), bytes.end());
      std::memcpy(fixed.data(), magic, 8);
      const std::uint64_t payload = size - 20;
      std::memcpy(fixed.data() + 12, &payload, 8);
      const std::uint32_t crc = rlhash::crc32(fixed.data(), fixed.size());
      fixed.resize(fixed.size() + 4);
      std::memcpy(fixed.data() + size, &crc, 4);
      read_all(fixed);
    }
  }
  return 0;
}
