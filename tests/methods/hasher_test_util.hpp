#pragma once
// Save/load checks shared by the hashers' tests.
#include <catch.hpp>

#include "rlhash/core/error.hpp"
#include "rlhash/core/serialize.hpp"

namespace rlhash::test {

/// The hasher saved and loaded into a fresh one of the same config; the whole payload is read.
template <class H>
H round_trip(const H& hasher) {
  ByteWriter out;
  hasher.save(out);
  H back(hasher.config());
  ByteReader in(out.bytes().data(), out.bytes().size(), "round trip");
  back.load(in);
  in.expect_end();
  return back;
}

/// Truncated parameters, and parameters of another code length, are refused with FormatError.
template <class H>
void check_damaged_parameters_rejected(const H& hasher) {
  ByteWriter out;
  hasher.save(out);
  ByteReader truncated(out.bytes().data(), out.bytes().size() - 3, "truncated");
  H back(hasher.config());
  CHECK_THROWS_AS(back.load(truncated), FormatError);
  auto other = hasher.config();
  other.bits += 1;
  H wrong_bits(other);
  ByteReader in(out.bytes().data(), out.bytes().size(), "wrong bits");
  CHECK_THROWS_AS(wrong_bits.load(in), FormatError);
}

}  // namespace rlhash::test
