#pragma once
/// \file
/// Saving and restoring an Rng (std::mt19937_64) through its standard text form, which the
/// C++ standard specifies exactly, so a checkpoint resumes the same random stream anywhere.
#include <sstream>
#include <string>

#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"

namespace rlhash::nn {

inline std::string rng_to_text(const Rng& rng) {
  std::ostringstream out;
  out << rng;
  return out.str();
}

/// Parses rng_to_text's output; FormatError naming `source` when it is not a valid state.
inline Rng rng_from_text(const std::string& text, const std::string& source) {
  std::istringstream in(text);
  Rng rng;
  in >> rng;
  if (in.fail() || !(in >> std::ws).eof())
    throw FormatError("'" + source + "': expected a random generator state (mt19937_64 text form)");
  return rng;
}

inline void write_rng(ByteWriter& out, const Rng& rng) { out.put_string(rng_to_text(rng)); }

inline Rng read_rng(ByteReader& in) { return rng_from_text(in.get_string(), in.source()); }

}  // namespace rlhash::nn
