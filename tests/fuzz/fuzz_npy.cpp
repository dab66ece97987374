// libFuzzer target: .npy parsing from memory, then the conversions and code-file checks that
// run on what it returns. The library may only throw rlhash::Error; anything else (a crash, a
// sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>

#include "rlhash/codes/code_file.hpp"
#include "rlhash/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rlhash::NdArray array = rlhash::parse_npy(reinterpret_cast<const char*>(data), size, "fuzz.npy");
    try {
      (void)array.to_matrix<float>();
      (void)array.to_vector<std::int32_t>();
    } catch (const rlhash::Error&) {
    }
    for (const auto format :
         {rlhash::CodeFormat::packed, rlhash::CodeFormat::bits01, rlhash::CodeFormat::sign}) {
      try {
        (void)rlhash::codes_from_array(array, 0, format, "fuzz.npy");
      } catch (const rlhash::Error&) {
      }
    }
  } catch (const rlhash::Error&) {
  }
  return 0;
}
