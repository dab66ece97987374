#pragma once
/// \file
/// Run-time choice of the Hamming kernels' instruction set. The library is header-only and built
/// without -march, so the AVX2 / AVX-512 kernels are compiled with function-level target
/// attributes and selected here from what the CPU *and* the operating system support (cpuid
/// for the instructions, xgetbv for the saved register state: a CPU with AVX-512 under an OS that
/// does not save ZMM registers must not run AVX-512 code).
///
/// The environment variable RLHASH_SIMD=scalar|xsimd|avx2|avx512 forces a path (for tests and
/// benchmarks); forcing a path the machine cannot run is an InvalidArgument naming the variable.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rlhash/core/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define RLHASH_SEARCH_X86 1
#endif
// The xsimd kernels (hamming_kernels_xsimd.hpp) need xsimd and 64-bit lanes in SSE2 or NEON.
#if defined(RLHASH_HAS_XSIMD) && (defined(__SSE2__) || defined(__ARM_NEON))
#define RLHASH_SEARCH_XSIMD 1
#endif

namespace rlhash {

/// The kernel families: portable scalar code (always available), AVX2 (nibble-LUT popcount with
/// vpshufb + vpsadbw), AVX-512 (AVX512F/BW + VPOPCNTDQ), and xsimd: portable batches of the
/// compile target's instruction set (NEON on ARM, SSE2 on x86), where RLHASH_HAS_XSIMD is defined.
enum class SimdPath { scalar, avx2, avx512, xsimd };

/// What the CPU offers and the OS has enabled; everything false off x86.
struct CpuFeatures {
  bool popcnt = false;
  bool avx2 = false;  // the instructions (cpuid leaf 7)
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512vpopcntdq = false;
  bool os_avx = false;     // XCR0 saves XMM + YMM state
  bool os_avx512 = false;  // XCR0 also saves opmask + ZMM state
};

namespace detail {

inline CpuFeatures detect_cpu_features() {
  CpuFeatures f;
#if defined(RLHASH_SEARCH_X86)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return f;
  f.popcnt = (ecx >> 23) & 1U;
  const bool osxsave = (ecx >> 27) & 1U;
  const bool avx = (ecx >> 28) & 1U;
  if (osxsave && avx) {
    std::uint32_t lo = 0, hi = 0;
    // xgetbv(0) reads XCR0 (encoded as bytes so no -mxsave is needed).
    __asm__ volatile(".byte 0x0f, 0x01, 0xd0" : "=a"(lo), "=d"(hi) : "c"(0));
    const std::uint64_t xcr0 = (std::uint64_t{hi} << 32) | lo;
    f.os_avx = (xcr0 & 0x6U) == 0x6U;                   // SSE and AVX state
    f.os_avx512 = f.os_avx && (xcr0 & 0xE0U) == 0xE0U;  // opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    f.avx2 = (ebx >> 5) & 1U;
    f.avx512f = (ebx >> 16) & 1U;
    f.avx512bw = (ebx >> 30) & 1U;
    f.avx512vpopcntdq = (ecx >> 14) & 1U;
  }
#endif
  return f;
}

}  // namespace detail

/// The features of this machine, detected once.
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detail::detect_cpu_features();
  return features;
}

/// Whether this machine can run the kernels of `path`.
inline bool simd_path_supported(SimdPath path) {
  const CpuFeatures& f = cpu_features();
  switch (path) {
    case SimdPath::scalar:
      return true;
    case SimdPath::avx2:
      return f.os_avx && f.avx2 && f.popcnt;
    case SimdPath::avx512:
      return f.os_avx512 && f.avx512f && f.avx512bw && f.avx512vpopcntdq && f.popcnt;
    case SimdPath::xsimd:
#if defined(RLHASH_SEARCH_XSIMD)
      return true;  // the compile target's own instructions
#else
      return false;
#endif
  }
  return false;
}

inline const char* to_string(SimdPath path) {
  switch (path) {
    case SimdPath::scalar:
      return "scalar";
    case SimdPath::avx2:
      return "avx2";
    case SimdPath::avx512:
      return "avx512";
    case SimdPath::xsimd:
      return "xsimd";
  }
  return "unknown";
}

/// "scalar", "avx2", "avx512" or "xsimd" → the path; anything else is an InvalidArgument naming `what`.
inline SimdPath parse_simd_path(const std::string& name, const std::string& what = "SIMD path") {
  if (name == "scalar") return SimdPath::scalar;
  if (name == "avx2") return SimdPath::avx2;
  if (name == "avx512") return SimdPath::avx512;
  if (name == "xsimd") return SimdPath::xsimd;
  throw InvalidArgument(what + " = '" + name + "': expected scalar, avx2, avx512 or xsimd");
}

/// The fastest path this machine supports (ignores RLHASH_SIMD).
inline SimdPath best_simd_path() {
  if (simd_path_supported(SimdPath::avx512)) return SimdPath::avx512;
  if (simd_path_supported(SimdPath::avx2)) return SimdPath::avx2;
  // The vector path of every other CPU (NEON on 64-bit ARM). Also ahead of scalar on x86 without
  // AVX2: built without -mpopcnt, the scalar path calls a library popcount.
  if (simd_path_supported(SimdPath::xsimd)) return SimdPath::xsimd;
  return SimdPath::scalar;
}

/// Throws InvalidArgument naming `what` unless this machine supports `path`.
inline void require_simd_path(SimdPath path, const std::string& what = "SIMD path") {
  if (!simd_path_supported(path))
    throw InvalidArgument(what + " = " + to_string(path) +
                          ": this CPU (or OS) does not support it; best is " + to_string(best_simd_path()));
}

/// RLHASH_SIMD when set and non-empty (validated), else best_simd_path(). Reads the environment
/// on every call; use active_simd_path() for the cached value.
inline SimdPath simd_path_from_environment() {
  const char* forced = std::getenv("RLHASH_SIMD");
  if (forced == nullptr || *forced == '\0') return best_simd_path();
  const SimdPath path = parse_simd_path(forced, "environment variable RLHASH_SIMD");
  require_simd_path(path, "environment variable RLHASH_SIMD");
  return path;
}

/// The path the search functions use by default: simd_path_from_environment(), decided once per
/// process (a bad RLHASH_SIMD keeps throwing on every call, it is never silently ignored).
inline SimdPath active_simd_path() {
  static const SimdPath path = simd_path_from_environment();
  return path;
}

}  // namespace rlhash
