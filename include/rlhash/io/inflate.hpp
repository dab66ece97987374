#pragma once
/// \file
/// Decompression for the readers, through zlib when the build has it (RLHASH_HAS_ZLIB): gzip
/// files (IDX .gz, RFC 1952, concatenated members allowed) and raw deflate streams (zip entries,
/// RFC 1951). Without zlib both are a FormatError that says so.
#include <algorithm>
#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"

#ifdef RLHASH_HAS_ZLIB
#include <zlib.h>
#endif

namespace rlhash::detail {

/// gzip's magic bytes 1f 8b.
inline bool is_gzip(const char* data, std::size_t size) {
  return size >= 2 && static_cast<unsigned char>(data[0]) == 0x1f &&
         static_cast<unsigned char>(data[1]) == 0x8b;
}

#ifdef RLHASH_HAS_ZLIB
/// Owns a z_stream for inflating; `window_bits` as for inflateInit2 (31: gzip, -15: raw deflate).
class Inflater {
 public:
  Inflater(int window_bits, const std::string& source) {
    if (inflateInit2(&stream_, window_bits) != Z_OK)
      throw Error("'" + source + "': zlib inflateInit2 failed");
  }
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() { inflateEnd(&stream_); }

  /// Inflates from `in` into `out` until the stream ends, the input is used up or `out` is full;
  /// returns zlib's status and advances both ranges.
  int step(const char*& in, std::size_t& in_left, char*& out, std::size_t& out_left) {
    // avail_in/avail_out are 32-bit: feed at most 1 GiB per call.
    const auto in_chunk = static_cast<uInt>(std::min<std::size_t>(in_left, 1U << 30));
    const auto out_chunk = static_cast<uInt>(std::min<std::size_t>(out_left, 1U << 30));
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in));
    stream_.avail_in = in_chunk;
    stream_.next_out = reinterpret_cast<Bytef*>(out);
    stream_.avail_out = out_chunk;
    const int status = inflate(&stream_, Z_NO_FLUSH);
    in += in_chunk - stream_.avail_in;
    in_left -= in_chunk - stream_.avail_in;
    out += out_chunk - stream_.avail_out;
    out_left -= out_chunk - stream_.avail_out;
    return status;
  }
  void reset() { inflateReset(&stream_); }
  std::string message() const { return stream_.msg != nullptr ? stream_.msg : "corrupted data"; }

 private:
  z_stream stream_{};
};
#endif

/// Decompresses a whole gzip file held in memory; FormatError naming `source` when it is
/// corrupted, truncated or followed by something that is not another gzip member, or when it
/// decompresses to more than `max_bytes` (a budget the caller derives from a header). With
/// `prefix`, the first `max_bytes` bytes are returned instead of that error.
inline std::vector<char> gunzip(const char* data, std::size_t size, const std::string& source,
                                std::size_t max_bytes = static_cast<std::size_t>(-1) / 2,
                                bool prefix = false) {
#ifdef RLHASH_HAS_ZLIB
  // The trailer's ISIZE (size mod 2^32) sizes the buffer; deflate cannot expand more than
  // ~1032:1, which caps what a lying trailer can make us allocate.
  std::size_t hint = 1 << 16;
  if (size >= 18) {
    std::uint32_t isize = 0;
    for (int b = 3; b >= 0; --b)
      isize = (isize << 8) | static_cast<unsigned char>(data[size - 4 + static_cast<std::size_t>(b)]);
    hint = std::max<std::size_t>(std::min<std::size_t>(isize, size * 1032), 1);
  }
  hint = std::min(hint, max_bytes + 1);
  std::vector<char> out(hint);
  Inflater inflater(15 + 16, source);
  const char* in = data;
  std::size_t in_left = size;
  std::size_t produced = 0;
  for (;;) {
    if (produced > max_bytes) {
      if (prefix) {
        out.resize(max_bytes);
        return out;
      }
      throw FormatError("'" + source + "': gzip data decompresses to more than the " +
                        std::to_string(max_bytes) + " bytes its header declares");
    }
    if (produced == out.size()) out.resize(std::min(out.size() * 2, max_bytes + 1));
    char* next = out.data() + produced;
    std::size_t out_left = out.size() - produced;
    const int status = inflater.step(in, in_left, next, out_left);
    produced = static_cast<std::size_t>(next - out.data());
    if (status == Z_STREAM_END) {
      if (in_left == 0 || (prefix && produced >= max_bytes)) break;
      if (!is_gzip(in, in_left))
        throw FormatError("'" + source + "': " + std::to_string(in_left) +
                          " bytes of trailing garbage after the gzip data");
      inflater.reset();
    } else if (status == Z_BUF_ERROR && in_left == 0) {
      throw FormatError("'" + source + "': gzip data ends early (truncated file)");
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      throw FormatError("'" + source + "': corrupted gzip data (zlib: " + inflater.message() + ")");
    }
  }
  out.resize(prefix ? std::min(produced, max_bytes) : produced);
  return out;
#else
  (void)data;
  (void)size;
  (void)max_bytes;
  (void)prefix;
  throw FormatError("'" + source +
                    "' is gzip-compressed, but this rlhash build has no zlib (RLHASH_WITH_ZLIB=OFF); "
                    "gunzip it first");
#endif
}

/// Inflates the first bytes of a raw deflate stream, at most `out_size` of them, into `out`;
/// returns how many were produced (fewer only when the stream ends first). Lets a reader check
/// a header before it inflates, and allocates for, the whole stream.
inline std::size_t inflate_raw_prefix(const char* data, std::size_t size, char* out, std::size_t out_size,
                                      const std::string& source) {
#ifdef RLHASH_HAS_ZLIB
  Inflater inflater(-15, source);
  const char* in = data;
  std::size_t in_left = size;
  char* next = out;
  std::size_t out_left = out_size;
  while (out_left > 0) {
    const int status = inflater.step(in, in_left, next, out_left);
    if (status == Z_STREAM_END || (status == Z_BUF_ERROR && in_left == 0)) break;
    if (status != Z_OK && status != Z_BUF_ERROR)
      throw FormatError("'" + source + "': corrupted deflate data (zlib: " + inflater.message() + ")");
  }
  return out_size - out_left;
#else
  (void)data;
  (void)size;
  (void)out;
  (void)out_size;
  throw FormatError("'" + source + "' holds deflate-compressed data, but this rlhash build has no zlib");
#endif
}

/// Inflates a raw deflate stream that must decompress to exactly `out_size` bytes at `out`.
inline void inflate_raw(const char* data, std::size_t size, char* out, std::size_t out_size,
                        const std::string& source) {
#ifdef RLHASH_HAS_ZLIB
  Inflater inflater(-15, source);
  const char* in = data;
  std::size_t in_left = size;
  char* next = out;
  std::size_t out_left = out_size;
  for (;;) {
    // Once `out` is full, one more byte of room tells a longer stream from one that ends here.
    const bool full = out_left == 0;
    char scratch = 0;
    char* target = full ? &scratch : next;
    std::size_t room = full ? 1 : out_left;
    const int status = inflater.step(in, in_left, target, room);
    if (full && room == 0)
      throw FormatError("'" + source + "': deflate data decompresses to more than the declared " +
                        std::to_string(out_size) + " bytes");
    if (!full) {
      next = target;
      out_left = room;
    }
    if (status == Z_STREAM_END) {
      if (out_left == 0) return;
      throw FormatError("'" + source + "': deflate data decompresses to " +
                        std::to_string(out_size - out_left) + " bytes, expected " + std::to_string(out_size));
    }
    if (status == Z_BUF_ERROR && in_left == 0)
      throw FormatError("'" + source + "': deflate data ends early (truncated)");
    if (status != Z_OK && status != Z_BUF_ERROR)
      throw FormatError("'" + source + "': corrupted deflate data (zlib: " + inflater.message() + ")");
  }
#else
  (void)data;
  (void)size;
  (void)out;
  (void)out_size;
  throw FormatError("'" + source +
                    "' holds deflate-compressed data, but this rlhash build has no zlib "
                    "(RLHASH_WITH_ZLIB=OFF); save it with np.savez, not np.savez_compressed");
#endif
}

}  // namespace rlhash::detail
