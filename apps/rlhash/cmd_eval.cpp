// rlhash eval: split the data, train each method at each code length, encode queries and
// database, and report the papers' retrieval metrics.
#include <cstdio>
#include <limits>
#include <optional>

#include "augment_options.hpp"
#include "command.hpp"
#include "data_options.hpp"
#include "device_option.hpp"
#include "distributed.hpp"
#include "method_options.hpp"
#include "model_inputs.hpp"
#include "output_paths.hpp"
#include "progress_bar.hpp"
#include "report.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/methods/model.hpp"

namespace rlhash::cli {
namespace {

struct EvalCommandOptions {
  DataOptions data;
  PreprocessConfig preprocess;
  AugmentOptions augment;
  std::vector<std::string> methods{"lsh"};
  std::vector<int> bits{32};
  std::vector<int> map_at{1000};
  std::vector<int> precision_at{100, 500, 1000};
  std::string model;  // evaluate this trained model instead of training
  std::string device = "cpu";
  bool distributed = false;
  std::vector<const CLI::Option*> training_options;  // options --model excludes
};

/// Encodes queries and database with `encode` and scores the codes into `row` (with --distributed
/// each rank encodes its share of the items and evaluates its share of the queries).
template <class Encode>
void score(ResultRow& row, const DataSets& d, const EvalOptions& eval_options, const Job& job,
           Encode&& encode) {
  const auto start = std::chrono::steady_clock::now();
  const BinaryCodes query_codes = job.encode(d.queries, encode);
  const BinaryCodes database_codes = job.encode(d.database, encode);
  row.encode_seconds = seconds_since(start);
  row.report = job.evaluate(query_codes, database_codes, d.query_labels, d.database_labels, eval_options);
  row.health = code_health(database_codes);
}

ResultRow run_one(const std::string& method, int bits, const DataSets& d,
                  const ImageAugmentation& augmentation, const DeviceChoice& device,
                  const CommonOptions& common, const EvalOptions& eval_options, const Job& job) {
  ResultRow row{method, bits, common.seed, {}, 0, 0, {}, {}};
  AnyHasher hasher;
  DeviceChoice where;
  FitOptions fit;
  fit.replicas = job.replicas;
  fit.augmentation = augmentation;
  job.agree([&] {
    hasher = configured_hasher(method, bits, common.seed, common.sets);
    hasher.check_fit_options(fit);
    where = device_for(device, method);
  });
  row.config = hasher.config();
  ProgressBar bar(method + "@" + std::to_string(bits));
  if (job.leader) fit.progress = bar.callback();
  fit.validation_features = &d.validation;
  fit.validation_labels = &d.validation_labels;
  fit.threads = common.threads;
  auto start = std::chrono::steady_clock::now();
  job.agree([&] { fit_on(where, hasher, d.train, d.train_labels, fit); });
  row.train_seconds = seconds_since(start);
  bar.finish();
  score(row, d, eval_options, job, [&](const MatrixF& x) { return encode_on(where, hasher, x); });
  return row;
}

/// A trained model on the raw (not yet preprocessed) data sets: its own preprocessing, no
/// training; --set changes its encoding-time settings.
ResultRow run_model(const Model& model, const DataSets& raw, const DeviceChoice& device,
                    const CommonOptions& common, const EvalOptions& eval_options, const Job& job) {
  ResultRow row{model.hasher.method(), model.hasher.bits(), common.seed, {}, 0, 0, {}, {}};
  row.config = model.hasher.config();
  DeviceChoice where;
  job.agree([&] { where = device_for(device, model.hasher.method()); });
  score(row, raw, eval_options, job, [&](const MatrixF& x) { return encode_on(where, model, x); });
  return row;
}

/// Runs as `job` says: in one process, or over the ranks of mpirun (--distributed), training
/// data-parallel, encoding and evaluating split across the ranks, rank 0 printing and writing.
void run(const EvalCommandOptions& o, const CommonOptions& common, const Job& job) {
  std::vector<std::string> methods;
  DeviceChoice device;
  DataSets d;
  std::optional<Model> model;
  ImageAugmentation augmentation;
  job.agree([&] {
    if (!o.model.empty())
      for (const CLI::Option* option : o.training_options)
        if (option->count() > 0)
          throw InvalidArgument("--model: the model fixes the method, code length and preprocessing; drop " +
                                option->get_name());
    methods = o.model.empty() ? parse_methods(o.methods) : std::vector<std::string>{};
    if (o.model.empty()) require_sets_apply(methods, common.sets);
    validate_outputs({{"--json", common.json_path}}, data_inputs(o.data));
    device = select_device(o.device);
    if (job.replicas != nullptr && device.cuda)
      throw InvalidArgument("--distributed trains and encodes on the CPU; drop --device " + o.device);
    augmentation = augmentation_of(o.augment, o.data, o.preprocess);
    FitOptions fit;
    fit.replicas = job.replicas;
    fit.augmentation = augmentation;
    // Every (method, bits) configured now: a --set value out of range, or a method without
    // data-parallel training under --distributed, is refused before any data is read.
    for (int bits : o.bits)
      for (const auto& method : methods)
        configured_hasher(method, bits, common.seed, common.sets).check_fit_options(fit);
    // The model before the data: a bad model file or dimension fails before a large file is read.
    if (!o.model.empty()) {
      model.emplace(Model::load(o.model, model_overrides(Model::method_of(o.model), common.sets)));
      require_model_dims(
          *model, o.model,
          {{"--features", o.data.features}, {"--queries", o.data.queries}, {"--database", o.data.database}});
    }
    d = load_data(o.data, common.seed);
    if (o.model.empty()) {
      require_validation_for_patience(common.sets, d.validation.cols());
      augmentation.validate(d.train.rows(), "--image-shape");
      Preprocessor preprocessor(o.preprocess);
      preprocessor.fit(d.train);
      d.train = preprocessor.apply(d.train);
      d.validation = preprocessor.apply(d.validation);
      d.queries = preprocessor.apply(d.queries);
      d.database = preprocessor.apply(d.database);
    }
  });

  EvalOptions eval_options;
  eval_options.map_at = o.map_at;
  eval_options.precision_at = o.precision_at;
  eval_options.threads = common.threads;
  if (job.leader) {
    std::printf("data: %s; %lld train, %lld validation, %lld queries, %lld database items, %lld dims\n",
                d.description.c_str(), static_cast<long long>(d.train.cols()),
                static_cast<long long>(d.validation.cols()), static_cast<long long>(d.queries.cols()),
                static_cast<long long>(d.database.cols()), static_cast<long long>(d.train.rows()));
    if (augmentation.enabled()) std::printf("augmentation: %s\n", augmentation_text(augmentation).c_str());
    print_table_header(eval_options);
  }
  std::vector<ResultRow> rows;
  const auto add = [&](ResultRow row) {
    rows.push_back(std::move(row));
    if (job.leader) print_table_row(rows.back());
  };
  if (model) add(run_model(*model, d, device, common, eval_options, job));
  for (int bits : o.model.empty() ? o.bits : std::vector<int>{})
    for (const auto& method : methods)
      add(run_one(method, bits, d, augmentation, device, common, eval_options, job));
  job.agree([&] {
    if (!job.leader || common.json_path.empty()) return;
    const ProtocolInfo protocol{common.seed,      d.train.cols(),    d.validation.cols(),
                                d.queries.cols(), d.database.cols(), augmentation_text(augmentation)};
    const std::string text = eval_json(protocol, rows);
    write_file_atomic(common.json_path, text.data(), text.size());
  });
}

const RegisterCommand eval_command{
    {"eval", "Train hashers, encode, and report retrieval metrics",
     [](CLI::App& app, CommonOptions& common) -> std::function<void()> {
       auto o = std::make_shared<EvalCommandOptions>();
       o->training_options.push_back(
           app.add_option("--method", o->methods, "Methods, comma-separated, or 'all'")
               ->delimiter(',')
               ->default_str("lsh"));
       o->training_options.push_back(app.add_option("--bits", o->bits, "Code lengths, comma-separated")
                                         ->delimiter(',')
                                         ->check(CLI::Range(1, 1024))
                                         ->default_str("32"));
       app.add_option("--model", o->model,
                      "Evaluate this trained model (.rlh) instead of training; --set changes its "
                      "encoding-time settings (e.g. drlh.max_steps)");
       app.add_option("--map-at", o->map_at, "Cutoffs k of mAP@k")
           ->delimiter(',')
           ->check(CLI::Range(1, std::numeric_limits<int>::max()))
           ->default_str("1000");
       app.add_option("--precision-at", o->precision_at, "Cutoffs k of precision@k")
           ->delimiter(',')
           ->check(CLI::Range(1, std::numeric_limits<int>::max()))
           ->default_str("100,500,1000");
       add_data_options(app, o->data);
       add_preprocess_options(app, o->preprocess);
       add_augment_options(app, o->augment);
       add_device_option(app, o->device, "Where the networks train and encode");
       for (const char* name :
            {"--center", "--pca", "--l2", "--augment-shift", "--augment-flip", "--image-shape"})
         o->training_options.push_back(app.get_option(name));
       add_common_options(app, common);
       add_distributed_flag(app, o->distributed);
       return [o, &common, &app] {
         if (!o->distributed) return run(*o, common, Job{});
         run_distributed_job("eval " + app.config_to_str(true, false),
                             [&](const Job& job) { run(*o, common, job); });
       };
     }}};

}  // namespace
}  // namespace rlhash::cli
