#pragma once
// Catch2 v2 (Debian) and v3 (Conan, vcpkg) behind one include.
#if defined(RLHASH_CATCH3)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif

#if defined(RLHASH_CATCH3)
namespace Catch {
// v2's spelling of the substring matcher, for tests written against both versions.
inline Matchers::StringContainsMatcher Contains(const std::string& text) {
  return Matchers::ContainsSubstring(text);
}
}  // namespace Catch
#endif
