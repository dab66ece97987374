// rlhash train: fit one method on the training set (validation carved as the protocol says) and
// write a model file holding the preprocessing and the hasher.
#include <cstdio>

#include "command.hpp"
#include "data_options.hpp"
#include "device_option.hpp"
#include "method_options.hpp"
#include "progress_bar.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/version.hpp"

namespace rlhash::cli {
namespace {

struct TrainOptions {
  DataOptions data;
  PreprocessConfig preprocess;
  std::string method;
  int bits = 32;
  std::string out;
  std::string checkpoint;
  int checkpoint_every = 0;
  bool resume = false;
  std::string device = "cpu";
};

void run(const TrainOptions& o, const CommonOptions& common) {
  for (const auto& text : common.sets) parse_set(text);
  const DeviceChoice requested = select_device(o.device);
  Model model;
  model.hasher = configured_hasher(o.method, o.bits, common.seed, common.sets);
  const DeviceChoice device = device_for(requested, o.method);
  const DataSets d = load_data(o.data, common.seed);
  model.preprocessor = Preprocessor(o.preprocess);
  model.preprocessor.fit(d.train);
  const MatrixF validation = model.preprocessor.apply(d.validation);

  ProgressBar bar(o.method + "@" + std::to_string(o.bits));
  FitOptions fit;
  fit.progress = bar.callback();
  fit.validation_features = &validation;
  fit.validation_labels = &d.validation_labels;
  fit.checkpoint_path = o.checkpoint.empty() ? o.out + ".ckpt" : o.checkpoint;
  fit.checkpoint_every = o.checkpoint_every;
  fit.resume = o.resume;
  fit.threads = common.threads;
  const auto start = std::chrono::steady_clock::now();
  fit_on(device, model.hasher, model.preprocessor.apply(d.train), d.train_labels, fit);
  const double seconds = seconds_since(start);
  bar.finish();
  model.training = {{"data", d.description},
                    {"train_items", std::to_string(d.train.cols())},
                    {"validation_items", std::to_string(d.validation.cols())},
                    {"dims", std::to_string(d.train.rows())},
                    {"seed", std::to_string(common.seed)},
                    {"device", o.device},
                    {"train_seconds", std::to_string(seconds)},
                    {"rlhash_version", RLHASH_VERSION_STRING}};
  model.save(o.out);
  std::printf("trained %s at %d bits on %lld items in %.2f s; wrote %s\n", o.method.c_str(), o.bits,
              static_cast<long long>(d.train.cols()), seconds, o.out.c_str());
}

const RegisterCommand train_command{
    {"train", "Train one hasher and write a model file (.rlh)",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<TrainOptions>();
       app.add_option("--method", o->method, "The method (see rlhash eval --help)")->required();
       app.add_option("--bits", o->bits, "Code length")->default_val(32);
       app.add_option("--out", o->out, "Model file to write")->required();
       app.add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: <out>.ckpt)");
       app.add_option("--checkpoint-every", o->checkpoint_every, "Epochs between checkpoints (0: none)")
           ->default_val(0);
       app.add_flag("--resume", o->resume, "Continue from the checkpoint when it exists");
       add_device_option(app, o->device, "Where the networks train");
       add_data_options(app, o->data);
       add_preprocess_options(app, o->preprocess);
       add_common_options(app, common);
       return [o, &common] { run(*o, common); };
     }}};

}  // namespace
}  // namespace rlhash::cli
