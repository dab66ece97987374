// libFuzzer target: the labels reader (rlhash::labels_from_array) on .npy bytes: class ids of
// any value, multi-hot matrices of any width, then the queries metrics make of them. Only
// rlhash::Error may escape; no id may size an allocation beyond Labels::max_classes.
#include <cstddef>
#include <cstdint>

#include "rlhash/data/label_file.hpp"
#include "rlhash/io/npy.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rlhash::NdArray array = rlhash::parse_npy(reinterpret_cast<const char*>(data), size, "fuzz.npy");
    const rlhash::Labels labels = rlhash::labels_from_array(array, "fuzz.npy");
    if (labels.size() > 0) {
      (void)labels.first_label(labels.size() - 1);
      (void)labels.relevant(0, labels, labels.size() - 1);
      (void)labels.subset({0, labels.size() - 1});
    }
  } catch (const rlhash::Error&) {
  }
  return 0;
}
