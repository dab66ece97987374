// rlhash encode: apply a trained model (its preprocessing, then its hasher) to a feature file.
#include <cstdio>
#include <filesystem>

#include "code_options.hpp"
#include "command.hpp"
#include "data_options.hpp"
#include "device_option.hpp"
#include "distributed.hpp"
#include "json_writer.hpp"
#include "method_options.hpp"
#include "model_inputs.hpp"
#include "output_paths.hpp"
#include "rlhash/methods/model.hpp"

namespace rlhash::cli {
namespace {

struct EncodeOptions {
  std::string model, features, codes, format = "packed";
  bool no_scale = false;
  std::string device = "cpu";
  bool distributed = false;
};

void run(const EncodeOptions& o, const CommonOptions& common) {
  validate_outputs({{"--codes", o.codes}, {"--json", common.json_path}},
                   {{"--model", o.model}, {"--features", o.features}});
  if (o.distributed)
    return run_distributed_encode({o.model, o.features, o.codes, o.format, o.device, o.no_scale}, common);
  const DeviceChoice requested = select_device(o.device);
  const Model model = Model::load(o.model, model_overrides(Model::method_of(o.model), common.sets));
  const DeviceChoice device = device_for(requested, model.hasher.method());
  require_model_dims(model, o.model, {{"--features", o.features}});
  const MatrixF features = read_features(o.features, o.no_scale);
  const auto start = std::chrono::steady_clock::now();
  const BinaryCodes codes = encode_on(device, model, features);
  const double seconds = seconds_since(start);
  write_codes(o.codes, codes, parse_code_format(o.format));
  std::printf("encoded %lld items to %d-bit codes in %.3f s; wrote %s\n",
              static_cast<long long>(codes.size()), codes.bits(), seconds, o.codes.c_str());
  if (!common.json_path.empty()) {
    JsonWriter json;
    json.begin_object()
        .field("command", "encode")
        .field("model", o.model)
        .field("method", model.hasher.method())
        .field("bits", codes.bits())
        .field("features", o.features)
        .field("items", static_cast<long long>(codes.size()))
        .field("dims", static_cast<long long>(features.rows()))
        .field("codes", o.codes)
        .field("code_format", o.format)
        .field("codes_bytes", static_cast<long long>(std::filesystem::file_size(o.codes)))
        .field("encode_seconds", seconds)
        .field("device", device.text)
        .end_object();
    const std::string text = json.str() + "\n";
    write_file_atomic(common.json_path, text.data(), text.size());
  }
}

const RegisterCommand encode_command{
    {"encode", "Encode a feature file with a trained model",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<EncodeOptions>();
       app.add_option("--model", o->model, "Model file (.rlh)")->required();
       app.add_option("--features", o->features, "Feature file [N, D]")->required();
       app.add_option("--codes", o->codes, "Code file to write (.npy)")->required();
       app.add_flag("--no-scale", o->no_scale, "Keep uint8 features as 0..255 (as at training)");
       add_code_format_option(app, o->format);
       add_device_option(app, o->device, "Where the networks encode");
       add_distributed_flag(app, o->distributed);
       add_common_options(app, common);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
