#pragma once
/// \file
/// A trained model: the fitted preprocessing plus a hasher, in one `.rlh` file for every method.
///
///     envelope "RLHMODEL" v1 { string method | i32 bits | config (key=value) |
///                              preprocessing | hasher parameters }
/// written atomically; a corrupted, truncated or foreign file is a FormatError.
#include <string>

#include "rlhash/core/serialize.hpp"
#include "rlhash/data/preprocess.hpp"
#include "rlhash/methods/registry.hpp"

namespace rlhash {

inline constexpr const char* model_magic = "RLHMODEL";
inline constexpr std::uint32_t model_format_version = 1;

struct Model {
  Preprocessor preprocessor;
  AnyHasher hasher;

  /// Preprocesses raw features (D x N, as given to training) and encodes them.
  BinaryCodes encode(const Eigen::Ref<const MatrixF>& raw_features) const {
    return hasher.encode(preprocessor.apply(raw_features));
  }

  void save(const std::string& path) const {
    ByteWriter out;
    out.put_string(hasher.method());
    out.put<std::int32_t>(hasher.bits());
    hasher.save_config(out);
    preprocessor.save(out);
    hasher.save(out);
    write_enveloped(path, {model_magic, model_format_version}, out.bytes());
  }

  static Model load(const std::string& path) {
    const auto bytes = read_file_bytes(path);
    const auto view = open_envelope(bytes, path, model_magic, model_format_version);
    ByteReader in(bytes.data() + view.payload_offset, view.payload_size, path);
    Model model;
    const std::string method = in.get_string();
    const auto bits = in.get<std::int32_t>();
    try {
      model.hasher = make_hasher(method, bits);
    } catch (const InvalidArgument& e) {
      throw FormatError("'" + path + "': " + e.what());
    }
    model.hasher.load_config(in);
    if (model.hasher.bits() != bits) in.fail("a config of " + std::to_string(bits) + " bits");
    model.preprocessor.load(in);
    model.hasher.load(in);
    in.expect_end();
    return model;
  }
};

}  // namespace rlhash
