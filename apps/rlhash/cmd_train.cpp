// rlhash train: fit one method on the training set (validation carved as the protocol says) and
// write a model file holding the preprocessing and the hasher.
#include <cstdio>
#include <filesystem>

#include "augment_options.hpp"
#include "command.hpp"
#include "data_options.hpp"
#include "device_option.hpp"
#include "distributed.hpp"
#include "json_writer.hpp"
#include "method_options.hpp"
#include "output_paths.hpp"
#include "progress_bar.hpp"
#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/checksum.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/methods/model.hpp"
#include "rlhash/version.hpp"

namespace rlhash::cli {
namespace {

struct TrainOptions {
  DataOptions data;
  PreprocessConfig preprocess;
  AugmentOptions augment;
  std::string method;
  int bits = 32;
  std::string out;
  std::string checkpoint;
  int checkpoint_every = 0;
  bool resume = false;
  std::string device = "cpu";
  bool distributed = false;
};

/// CRC-32 fingerprints of what a checkpoint belongs to: the training and validation items and
/// labels after the split, and the settings (method config, code length, preprocessing,
/// augmentation, seed; not the epoch count, so a run may be resumed to train longer).
std::uint64_t data_fingerprint(const DataSets& d) {
  std::uint32_t crc = 0;
  for (const MatrixF* x : {&d.train, &d.validation}) {
    const Index shape[2] = {x->rows(), x->cols()};
    crc = crc32(shape, sizeof shape, crc);
    crc = crc32(x->data(), static_cast<std::size_t>(x->size()) * sizeof(float), crc);
  }
  for (const Labels* y : {&d.train_labels, &d.validation_labels})
    crc = crc32(y->row(0), static_cast<std::size_t>(y->size() * y->words_per_item()) * sizeof(std::uint64_t),
                crc);
  return crc | (std::uint64_t{1} << 32);  // never 0 (0: not recorded)
}

std::uint64_t settings_fingerprint(const AnyHasher& hasher, const PreprocessConfig& p,
                                   const ImageAugmentation& augmentation, std::uint64_t seed) {
  std::string text = hasher.method() + "@" + std::to_string(hasher.bits()) + ";seed=" + std::to_string(seed);
  for (const auto& [field, value] : hasher.config())
    if (field != "epochs") text += ";" + field + "=" + value;
  text += message(";center=", p.center, ";pca=", p.pca_dims, ";l2=", p.l2_normalize);
  if (augmentation.enabled()) text += ";augmentation=" + augmentation_text(augmentation);
  return crc32(text.data(), text.size()) | (std::uint64_t{1} << 32);
}

/// Trains as `job` says: in one process, or over the ranks of mpirun (--distributed), each rank
/// computing its share of every batch and rank 0 writing the model.
void run(const TrainOptions& o, const CommonOptions& common, const Job& job) {
  Model model;
  DeviceChoice device;
  DataSets d;
  MatrixF train, validation;
  FitOptions fit;
  fit.replicas = job.replicas;
  const std::string checkpoint = o.checkpoint.empty() ? o.out + ".ckpt" : o.checkpoint;
  job.agree([&] {
    require_sets_apply({o.method}, common.sets);
    validate_outputs({{"--out", o.out}, {"--checkpoint", checkpoint}, {"--json", common.json_path}},
                     data_inputs(o.data));
    const DeviceChoice requested = select_device(o.device);
    if (job.replicas != nullptr && requested.cuda)
      throw InvalidArgument("--distributed trains on the CPU; drop --device " + o.device);
    model.hasher = configured_hasher(o.method, o.bits, common.seed, common.sets);
    fit.augmentation = augmentation_of(o.augment, o.data, o.preprocess);
    model.hasher.check_fit_options(fit);  // a method without data-parallel training: refused now
    device = device_for(requested, o.method);
    d = load_data(o.data, common.seed);
    require_validation_for_patience(common.sets, d.validation.cols());
    fit.augmentation.validate(d.train.rows(), "--image-shape");
    model.preprocessor = Preprocessor(o.preprocess);
    model.preprocessor.fit(d.train);
    validation = model.preprocessor.apply(d.validation);
    train = model.preprocessor.apply(d.train);
  });

  ProgressBar bar(o.method + "@" + std::to_string(o.bits));
  if (job.leader) fit.progress = bar.callback();
  fit.validation_features = &validation;
  fit.validation_labels = &d.validation_labels;
  fit.checkpoint_path = checkpoint;
  fit.checkpoint_every = o.checkpoint_every;
  fit.resume = o.resume;
  fit.threads = common.threads;
  fit.data_fingerprint = data_fingerprint(d);
  fit.settings_fingerprint = settings_fingerprint(model.hasher, o.preprocess, fit.augmentation, common.seed);
  const auto start = std::chrono::steady_clock::now();
  job.agree([&] {
    sized_by(message("--method ", o.method, " --bits ", o.bits),
             [&] { fit_on(device, model.hasher, train, d.train_labels, fit); });
  });
  const double seconds = seconds_since(start);
  bar.finish();
  model.training = {{"data", d.description},
                    {"train_items", std::to_string(d.train.cols())},
                    {"validation_items", std::to_string(d.validation.cols())},
                    {"dims", std::to_string(d.train.rows())},
                    {"seed", std::to_string(common.seed)},
                    {"device", o.device},
                    {"augmentation", augmentation_text(fit.augmentation)},
                    {"train_seconds", std::to_string(seconds)},
                    {"rlhash_version", RLHASH_VERSION_STRING}};
  const int ranks = job.replicas != nullptr ? job.replicas->count : 1;
  if (job.replicas != nullptr) model.training.emplace_back("ranks", std::to_string(ranks));
  job.agree([&] {
    if (!job.leader) return;
    model.save(o.out);
    std::printf("trained %s at %d bits on %lld items in %.2f s", o.method.c_str(), model.hasher.bits(),
                static_cast<long long>(d.train.cols()), seconds);
    if (job.replicas != nullptr) std::printf(" on %d ranks", ranks);
    std::printf("; wrote %s\n", o.out.c_str());
    if (common.json_path.empty()) return;
    JsonWriter json;
    json.begin_object()
        .field("command", "train")
        .field("method", o.method)
        .field("bits", model.hasher.bits())
        .field("seed", static_cast<unsigned long>(common.seed))
        .field("data", d.description)
        .field("train_items", static_cast<long long>(d.train.cols()))
        .field("validation_items", static_cast<long long>(d.validation.cols()))
        .field("dims", static_cast<long long>(d.train.rows()))
        .field("train_seconds", seconds)
        .field("model", o.out)
        .field("model_bytes", static_cast<long long>(std::filesystem::file_size(o.out)))
        .field("device", device.text)
        .field("augmentation", augmentation_text(fit.augmentation));
    if (job.replicas != nullptr) json.field("ranks", ranks);
    json.key("config").begin_object();
    for (const auto& [field, value] : model.hasher.config()) json.field(field, value);
    json.end_object().end_object();
    const std::string text = json.str() + "\n";
    write_file_atomic(common.json_path, text.data(), text.size());
  });
}

const RegisterCommand train_command{
    {"train", "Train one hasher and write a model file (.rlh)",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<TrainOptions>();
       app.add_option("--method", o->method, "The method (see rlhash eval --help)")->required();
       app.add_option("--bits", o->bits, "Code length")->default_val(32)->check(CLI::Range(1, 1024));
       app.add_option("--out", o->out, "Model file to write")->required();
       app.add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: <out>.ckpt)");
       app.add_option("--checkpoint-every", o->checkpoint_every, "Epochs between checkpoints (0: none)")
           ->default_val(0)
           ->check(CLI::Range(0, 1 << 20));
       app.add_flag("--resume", o->resume, "Continue from the checkpoint when it exists");
       add_device_option(app, o->device, "Where the networks train");
       add_data_options(app, o->data);
       add_preprocess_options(app, o->preprocess);
       add_augment_options(app, o->augment);
       add_common_options(app, common);
       add_distributed_flag(app, o->distributed);
       return [o, &common, &app] {
         if (!o->distributed) return run(*o, common, Job{});
         run_distributed_job("train " + app.config_to_str(true, false),
                             [&](const Job& job) { run(*o, common, job); });
       };
     }}};

}  // namespace
}  // namespace rlhash::cli
