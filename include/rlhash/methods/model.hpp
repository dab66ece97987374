#pragma once
/// \file
/// A trained model: the fitted preprocessing plus a hasher, in one `.rlh` file for every method.
///
///     envelope "RLHMODEL" v2 { string method | i32 bits | config (key=value) |
///                              preprocessing | hasher parameters |
///                              u32 n, n x (string key, string value): what it was trained on }
/// written atomically; a corrupted, truncated or foreign file is a FormatError. Version 1 files
/// (without the training record) are still read; their record is empty.
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/serialize.hpp"
#include "rlhash/data/preprocess.hpp"
#include "rlhash/methods/registry.hpp"

namespace rlhash {

inline constexpr const char* model_magic = "RLHMODEL";
inline constexpr std::uint32_t model_format_version = 2;

struct Model {
  Preprocessor preprocessor;
  AnyHasher hasher;
  /// What the model was trained on, as (key, value) text chosen by the program that trained it
  /// (e.g. the data, the item counts, the seed); empty when unknown.
  std::vector<std::pair<std::string, std::string>> training;
  /// The format version of the file it was loaded from (model_format_version for a new model).
  std::uint32_t format_version = model_format_version;

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
    out.put<std::uint32_t>(static_cast<std::uint32_t>(training.size()));
    for (const auto& [key, value] : training) {
      out.put_string(key);
      out.put_string(value);
    }
    write_enveloped(path, {model_magic, model_format_version}, out.bytes());
  }

  /// Reads a model file. `overrides` (field, value) change the stored config before the
  /// parameters are read, for settings that act at encoding time (DRLH's max_steps, any
  /// method's encode_batch): a field that shapes the parameters makes their check fail
  /// (FormatError), and the code length cannot change (InvalidArgument).
  template <int = 0>  // a template, so that only a program that loads models compiles the registry
  static Model load(const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& overrides = {}) {
    const auto bytes = read_enveloped_file(path, model_magic, model_format_version);
    Model model;
    ByteReader in = payload(bytes, path, &model.format_version);
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
    if (model.format_version >= 2) {
      const auto entries = in.get<std::uint32_t>();
      if (entries > in.remaining() / (2 * sizeof(std::uint64_t)))
        in.fail("a training record that fits the file");
      for (std::uint32_t i = 0; i < entries; ++i) {
        std::string key = in.get_string();
        model.training.emplace_back(std::move(key), in.get_string());
      }
    }
    in.expect_end();
    return model;
  }

  /// The method a model file holds (checked like load(), nothing else read).
  static std::string method_of(const std::string& path) {
    const auto bytes = read_enveloped_file(path, model_magic, model_format_version);
    return payload(bytes, path).get_string();
  }

 private:
  static ByteReader payload(const std::vector<char>& bytes, const std::string& path,
                            std::uint32_t* version = nullptr) {
    const auto view = open_envelope(bytes, path, model_magic, model_format_version);
    if (version != nullptr) *version = view.version;
    return ByteReader(bytes.data() + view.payload_offset, view.payload_size, path);
  }
};

}  // namespace rlhash
