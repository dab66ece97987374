// rlhash info: what a model file holds — method, code length, format version, every config field,
// the preprocessing and what it was trained on — without data.
#include <cstdio>

#include "command.hpp"
#include "json_writer.hpp"
#include "report.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/methods/model.hpp"

namespace rlhash::cli {
namespace {

struct InfoOptions {
  std::string model;
};

std::string preprocessing_of(const Preprocessor& p) {
  const PreprocessConfig& c = p.config();
  std::string text = std::to_string(p.input_dims()) + " dims";
  if (c.center) text += ", centred";
  if (c.pca_dims > 0) text += ", PCA to " + std::to_string(c.pca_dims);
  if (c.l2_normalize) text += ", L2-normalised";
  return text + " -> " + std::to_string(p.output_dims()) + " dims";
}

void run(const InfoOptions& o, const CommonOptions& common) {
  const Model model = Model::load(o.model);
  std::printf("model: %s\nmethod: %s\nbits: %d\nformat version: %u\npreprocessing: %s\nconfig:\n",
              o.model.c_str(), model.hasher.method().c_str(), model.hasher.bits(), model.format_version,
              preprocessing_of(model.preprocessor).c_str());
  const auto config = model.hasher.config();
  for (const auto& [field, value] : config) std::printf("  %s = %s\n", field.c_str(), value.c_str());
  std::printf("trained on:%s\n", model.training.empty() ? " (not recorded: a format version 1 file)" : "");
  for (const auto& [key, value] : model.training) std::printf("  %s = %s\n", key.c_str(), value.c_str());
  if (common.json_path.empty()) return;
  JsonWriter json;
  json.begin_object();
  json.field("model", o.model).field("method", model.hasher.method()).field("bits", model.hasher.bits());
  json.field("format_version", static_cast<long long>(model.format_version));
  json.field("preprocessing", preprocessing_of(model.preprocessor));
  write_config(json, config);
  json.key("trained_on").begin_object();
  for (const auto& [key, value] : model.training) json.field(key, value);
  json.end_object().end_object();
  const std::string text = json.str() + "\n";
  write_file_atomic(common.json_path, text.data(), text.size());
}

const RegisterCommand info_command{
    {"info", "Describe a model file: method, bits, config, format version, what it was trained on",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<InfoOptions>();
       app.add_option("--model,model", o->model, "Model file (.rlh)")->required();
       add_common_options(app, common, false);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
