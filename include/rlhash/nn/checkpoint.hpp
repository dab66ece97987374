#pragma once
/// \file
/// Checkpoint files: the core envelope (magic "RLHCKPT1", format version, size, crc32) around
/// a list of named sections, each an opaque byte blob:
///
///     u64 count | { string name | u64 size | bytes }*
///
/// The trainer writes "parameters" (names, shapes, values), "module_state", "optimizer",
/// "trainer" and, for a method's own state, "method"; other users may add sections of their
/// own. Reading checks the envelope first (truncation, a flipped byte, a foreign file are
/// FormatErrors before anything is parsed) and hands out bounds-checked readers per section.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/core/serialize.hpp"

namespace rlhash::nn {

inline constexpr const char* checkpoint_magic = "RLHCKPT1";
inline constexpr std::uint32_t checkpoint_version = 1;

/// Collects sections, then writes them atomically (temp file + fsync + rename).
class CheckpointWriter {
 public:
  /// Adds a section; names must be unique.
  void add(const std::string& name, const ByteWriter& section) {
    for (const auto& s : sections_)
      rlhash::detail::require(s.first != name, "CheckpointWriter: section '" + name + "' added twice");
    sections_.emplace_back(name, section.bytes());
  }
  std::vector<char> payload() const {
    ByteWriter out;
    out.put<std::uint64_t>(sections_.size());
    for (const auto& [name, bytes] : sections_) {
      out.put_string(name);
      out.put<std::uint64_t>(bytes.size());
      out.append(bytes.data(), bytes.size());
    }
    return std::move(out.bytes());
  }
  void write(const std::string& path) const {
    write_enveloped(path, Envelope{checkpoint_magic, checkpoint_version}, payload());
  }

 private:
  std::vector<std::pair<std::string, std::vector<char>>> sections_;
};

/// A checkpoint read and verified in memory.
class CheckpointReader {
 public:
  /// Reads `path`; IoError when it cannot be read, FormatError when it is not an intact
  /// checkpoint of a supported version.
  static CheckpointReader open(const std::string& path) {
    return CheckpointReader(read_enveloped_file(path, checkpoint_magic, checkpoint_version), path);
  }

  CheckpointReader(std::vector<char> bytes, std::string source)
      : bytes_(std::move(bytes)), source_(std::move(source)) {
    const auto view = open_envelope(bytes_, source_, checkpoint_magic, checkpoint_version);
    ByteReader in(bytes_.data() + view.payload_offset, view.payload_size, source_);
    const auto count = in.get<std::uint64_t>();
    if (count > in.remaining()) in.fail("a section count, found " + std::to_string(count) + " (corrupted?)");
    for (std::uint64_t i = 0; i < count; ++i) {
      Section s;
      s.name = in.get_string();
      s.size = static_cast<std::size_t>(in.get<std::uint64_t>());
      const char* data = in.take(s.size, "a section");
      s.offset = static_cast<std::size_t>(data - bytes_.data());
      sections_.push_back(std::move(s));
    }
    in.expect_end();
  }

  bool has(const std::string& name) const { return find(name) != nullptr; }

  /// A reader over section `name` (its errors name the file and the section); FormatError
  /// when the file has no such section.
  ByteReader section(const std::string& name) const {
    const Section* s = find(name);
    if (!s)
      throw FormatError("'" + source_ + "': expected a '" + name + "' section, the checkpoint has none");
    return ByteReader(bytes_.data() + s->offset, s->size, source_ + " [" + name + "]");
  }

  const std::string& source() const { return source_; }

 private:
  struct Section {
    std::string name;
    std::size_t offset = 0, size = 0;
  };
  const Section* find(const std::string& name) const {
    for (const auto& s : sections_)
      if (s.name == name) return &s;
    return nullptr;
  }
  std::vector<char> bytes_;
  std::string source_;
  std::vector<Section> sections_;
};

/// Records which run a checkpoint belongs to: fingerprints of the training data (features,
/// labels, split) and of the settings, in a "fingerprint" section. Both 0: nothing recorded.
inline void add_fingerprints(CheckpointWriter& writer, std::uint64_t data, std::uint64_t settings) {
  if (data == 0 && settings == 0) return;
  ByteWriter section;
  section.put<std::uint64_t>(data);
  section.put<std::uint64_t>(settings);
  writer.add("fingerprint", section);
}

/// Refuses to resume from a checkpoint another run wrote: an InvalidArgument naming the file and
/// whether the data or the settings differ. Unchecked when this run records no fingerprint or
/// the checkpoint holds none.
inline void require_same_run(const CheckpointReader& reader, std::uint64_t data, std::uint64_t settings) {
  if ((data == 0 && settings == 0) || !reader.has("fingerprint")) return;
  auto in = reader.section("fingerprint");
  const auto recorded_data = in.get<std::uint64_t>();
  const auto recorded_settings = in.get<std::uint64_t>();
  in.expect_end();
  const std::string& path = reader.source();
  check(recorded_data == data, "'", path, "' was written for other training data (fingerprint ", std::hex,
        recorded_data, ", this run's ", data, "); remove it or give another checkpoint path to train from scratch");
  check(recorded_settings == settings, "'", path, "' was written with other settings (fingerprint ", std::hex,
        recorded_settings, ", this run's ", settings,
        "); remove it or give another checkpoint path to train from scratch");
}

}  // namespace rlhash::nn
