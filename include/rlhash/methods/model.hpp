#pragma once
/// \file
/// A trained model: the fitted preprocessing plus a hasher, in one `.rlh` file for every method.
///
///     envelope "RLHMODEL" v1 { string method | i32 bits | config (key=value) |
///                              preprocessing | hasher parameters }
/// written atomically; a corrupted, truncated or foreign file is a FormatError.
#include <string>
#include <utility>
#include <vector>

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

  /// Reads a model file. `overrides` (field, value) change the stored config before the
  /// parameters are read, for settings that act at encoding time (DRLH's max_steps, any
  /// method's encode_batch): a field that shapes the parameters makes their check fail
  /// (FormatError), and the code length cannot change (InvalidArgument).
  static Model load(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    const auto bytes = read_enveloped_file(path, model_magic, model_format_version);
    ByteReader in = payload(bytes, path);
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
    for (const auto& [field, value] : overrides) model.hasher.set(field, value);
    if (model.hasher.bits() != bits)
      throw InvalidArgument("'" + path + "': the code length of a trained model (" + std::to_string(bits) +
                            " bits) cannot be overridden");
    model.preprocessor.load(in);
    model.hasher.load(in);
    in.expect_end();
    return model;
  }

  /// The method a model file holds (checked like load(), nothing else read).
  static std::string method_of(const std::string& path) {
    const auto bytes = read_enveloped_file(path, model_magic, model_format_version);
    return payload(bytes, path).get_string();
  }

 private:
  static ByteReader payload(const std::vector<char>& bytes, const std::string& path) {
    const auto view = open_envelope(bytes, path, model_magic, model_format_version);
    return ByteReader(bytes.data() + view.payload_offset, view.payload_size, path);
  }
};

}  // namespace rlhash
