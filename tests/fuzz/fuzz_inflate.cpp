// libFuzzer target: the gzip and deflate paths with their budgets: gunzip under a budget taken
// from the input, the prefix mode the IDX reader uses to read a header first, and the raw
// deflate prefix the .npz reader uses. Only rlhash::Error may escape; no output may exceed its
// budget.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "rlhash/io/inflate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  // The first two bytes choose a budget of up to 64 KiB; the rest is the compressed stream.
  const std::size_t budget = (std::size_t{data[0]} << 8 | data[1]) + 1;
  const char* in = reinterpret_cast<const char*>(data + 2);
  const std::size_t in_size = size - 2;
  for (const bool prefix : {false, true}) {
    try {
      const std::vector<char> out = rlhash::detail::gunzip(in, in_size, "fuzz.gz", budget, prefix);
      if (out.size() > budget) std::abort();
    } catch (const rlhash::Error&) {
    }
  }
  try {
    std::vector<char> out(budget);
    if (rlhash::detail::inflate_raw_prefix(in, in_size, out.data(), out.size(), "fuzz.deflate") > budget)
      std::abort();
    rlhash::detail::inflate_raw(in, in_size, out.data(), out.size(), "fuzz.deflate");
  } catch (const rlhash::Error&) {
  }
  return 0;
}
