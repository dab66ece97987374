#pragma once
/// \file
/// The training loop every iterative method shares: epochs over shuffled mini-batches, a
/// scheduled learning rate, optional global gradient clipping, progress reports, early stopping
/// on a validation metric (keeping the best parameters) and resumable checkpoints, in one
/// process or data-parallel over replicas (nn/replicas.hpp).
///
/// A method plugs in its "one step" function — given the batch's item indices, run forward and
/// backward so the model's gradients hold dLoss/dParameters, and return the loss — and,
/// through `hooks`, a validation metric and its own extra state for the checkpoint. The trainer
/// zeroes gradients before each step, clips, sets the learning rate from the schedule and
/// applies the optimizer after it.
///
/// The model may run on any backend (nn/backend.hpp, its `Backend` member): clipping and the
/// optimizer run there, the best parameters and checkpoints are host copies (the same bytes
/// as the host model's).
///
/// Resuming continues bit for bit: a checkpoint holds parameters, module state (Dropout
/// generators), optimizer state, step/epoch counters (the schedule is a function of the step),
/// the trainer's generator (shuffling and the step's sampling), the early-stopping record with
/// its best parameters, and the method's extra state.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/core/progress.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/nn/checkpoint.hpp"
#include "rlhash/nn/divergence.hpp"
#include "rlhash/nn/module.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/replicas.hpp"
#include "rlhash/nn/rng_state.hpp"

namespace rlhash::nn {

struct TrainerConfig {
  int epochs = 10;
  Index batch_size = 64;
  std::uint64_t seed = 0;  ///< seeds the trainer's generator (shuffling, the step's sampling)
  bool shuffle = true;
  bool drop_last = false;        ///< skip a last batch smaller than batch_size
  double max_grad_norm = 0.0;    ///< global gradient-norm clipping; 0: off
  int patience = 0;              ///< epochs without validation improvement before stopping; 0: never
  bool higher_is_better = true;  ///< direction of the validation metric (mAP: higher)
  double min_delta = 0.0;        ///< an improvement must exceed this
  bool restore_best = true;      ///< end with the best validated parameters
  std::string checkpoint_path;   ///< empty: no checkpoints
  int checkpoint_every = 0;      ///< epochs between checkpoints; 0: none
  bool resume = false;           ///< continue from checkpoint_path when that file exists
  /// Fingerprints of the training data (features, labels, split) and of the settings, written into
  /// checkpoints; resuming from a checkpoint whose fingerprints differ is an InvalidArgument
  /// naming which. 0: not recorded, not checked. (Not config fields: they describe a run.)
  std::uint64_t data_fingerprint = 0;
  std::uint64_t settings_fingerprint = 0;
  /// Data-parallel replicas of this run (nn/replicas.hpp), or null: one process. The step
  /// function computes its replica's part of each batch; the trainer sums the gradients over the
  /// replicas before clipping, and only replica 0 writes checkpoints. Not a config field.
  const Replicas* replicas = nullptr;

  template <class V>
  void visit(V&& field) {
    field("epochs", epochs);
    field("batch_size", batch_size);
    field("seed", seed);
    field("shuffle", shuffle);
    field("drop_last", drop_last);
    field("max_grad_norm", max_grad_norm);
    field("patience", patience);
    field("higher_is_better", higher_is_better);
    field("min_delta", min_delta);
    field("restore_best", restore_best);
    field("checkpoint_path", checkpoint_path);
    field("checkpoint_every", checkpoint_every);
    field("resume", resume);
  }
};

/// What a step function sees besides its batch.
struct StepContext {
  int epoch = 0;             ///< 0-based epoch being run
  long long step = 0;        ///< global step (optimizer updates so far)
  double learning_rate = 0;  ///< the scheduled rate for this step
  Rng* rng = nullptr;        ///< the trainer's generator: draw here to stay resumable
};

struct TrainResult {
  int epochs_done = 0;  ///< epochs completed, including those before a resume
  long long steps = 0;  ///< optimizer updates, including those before a resume
  double last_loss = std::numeric_limits<double>::quiet_NaN();  ///< mean step loss of the last epoch
  bool has_best = false;                                        ///< a validation metric was recorded
  double best_metric = 0;
  int best_epoch = -1;          ///< 1-based epoch of the best metric
  bool stopped_early = false;   ///< patience ran out
  bool stop_requested = false;  ///< the progress callback returned false
  int resumed_from_epoch = -1;  ///< epochs done in the checkpoint resumed from; -1: fresh start
};

template <class Model, class Optimizer, class Schedule>
class Trainer {
 public:
  using Scalar = typename Model::Scalar;
  using Backend = backend_of_t<Model>;
  using StepFunction = std::function<double(const std::vector<Index>& batch, StepContext& context)>;

  struct Hooks {
    /// Validation metric after each epoch (model in evaluation mode); enables early stopping.
    std::function<double(int epoch)> validate;
    ProgressCallback progress;
    /// A method's own state, stored in the checkpoint's "method" section.
    std::function<void(ByteWriter&)> save_extra;
    std::function<void(ByteReader&)> load_extra;
    /// Called right after a checkpoint was written (epochs done, path).
    std::function<void(int, const std::string&)> on_checkpoint;
  };
  Hooks hooks;

  Trainer(Model& model, Optimizer& optimizer, Schedule schedule, TrainerConfig config)
      : model_(model),
        optimizer_(optimizer),
        schedule_(std::move(schedule)),
        config_(std::move(config)),
        rng_(config_.seed) {
    rlhash::detail::require(config_.epochs >= 0,
                            "TrainerConfig.epochs must be >= 0, got " + std::to_string(config_.epochs));
    rlhash::detail::require(config_.batch_size > 0, "TrainerConfig.batch_size must be > 0, got " +
                                                        std::to_string(config_.batch_size));
    rlhash::detail::require(config_.max_grad_norm >= 0, "TrainerConfig.max_grad_norm must be >= 0");
    rlhash::detail::require(config_.patience >= 0 && config_.checkpoint_every >= 0,
                            "TrainerConfig.patience and checkpoint_every must be >= 0");
    rlhash::detail::require(config_.checkpoint_every == 0 || !config_.checkpoint_path.empty(),
                            "TrainerConfig.checkpoint_every is set but checkpoint_path is empty");
  }

  const TrainerConfig& config() const { return config_; }
  Rng& rng() { return rng_; }

  /// Trains over items 0..num_items-1 (the step function maps indices to data).
  TrainResult run(Index num_items, const StepFunction& step) {
    rlhash::detail::require(num_items > 0, "Trainer::run: num_items must be > 0");
    rlhash::detail::require(static_cast<bool>(step), "Trainer::run: no step function");
    state_.num_items = num_items;
    TrainResult result;
    if (config_.resume && !config_.checkpoint_path.empty() && file_exists(config_.checkpoint_path)) {
      load_checkpoint(config_.checkpoint_path);
      result.resumed_from_epoch = state_.epochs_done;
    }
    const auto params = model_.parameters();
    std::vector<Index> order(static_cast<std::size_t>(num_items));
    bool stop = false;
    while (state_.epochs_done < config_.epochs && !stop && !patience_exhausted()) {
      const int epoch = state_.epochs_done;
      model_.set_training(true);
      std::iota(order.begin(), order.end(), Index{0});
      if (config_.shuffle) rlhash::shuffle(order, rng_);
      double loss_sum = 0;
      long long batches = 0;
      for (Index begin = 0; begin < num_items; begin += config_.batch_size) {
        const Index size = std::min(config_.batch_size, num_items - begin);
        if (config_.drop_last && size < config_.batch_size) break;
        const std::vector<Index> batch(order.begin() + begin, order.begin() + begin + size);
        StepContext context{epoch, state_.step, schedule_(state_.step), &rng_};
        optimizer_.set_learning_rate(context.learning_rate);
        zero_grad(params);
        loss_sum += step(batch, context);
        if (config_.replicas != nullptr) sum_gradients(params, *config_.replicas);
        if (config_.max_grad_norm > 0) clip_grad_norm(params, config_.max_grad_norm);
        optimizer_.step(params);
        ++state_.step;
        ++batches;
      }
      state_.epochs_done = epoch + 1;
      state_.last_loss = batches > 0 ? loss_sum / static_cast<double>(batches) : state_.last_loss;
      if (batches > 0)  // no step: nothing can have diverged
        require_converging(epoch + 1, state_.last_loss,
                           std::isfinite(state_.last_loss) ? non_finite_parameter(params) : std::string());

      std::ostringstream metrics;
      metrics << "loss=" << state_.last_loss << " lr=" << optimizer_.learning_rate();
      if (hooks.validate) {
        model_.set_training(false);
        const double metric = hooks.validate(epoch);
        model_.set_training(true);
        metrics << " val=" << metric;
        if (improves(metric)) {
          state_.has_best = true;
          state_.best_metric = metric;
          state_.best_epoch = state_.epochs_done;
          state_.since_best = 0;
          state_.best_values = copy_values(params);
        } else {
          ++state_.since_best;
        }
      }
      if (!report(hooks.progress, Progress{"train", state_.epochs_done, config_.epochs, metrics.str()})) {
        stop = true;
        result.stop_requested = true;
      }
      const bool last = stop || patience_exhausted() || state_.epochs_done == config_.epochs;
      if (config_.checkpoint_every > 0 && (state_.epochs_done % config_.checkpoint_every == 0 || last)) {
        write_once(config_.replicas, "writing checkpoint '" + config_.checkpoint_path + "'",
                   [&] { save_checkpoint(config_.checkpoint_path); });
        if (hooks.on_checkpoint) hooks.on_checkpoint(state_.epochs_done, config_.checkpoint_path);
      }
    }
    result.stopped_early = patience_exhausted();
    if (config_.restore_best && state_.has_best) assign_values(params, state_.best_values);
    model_.set_training(false);
    result.epochs_done = state_.epochs_done;
    result.steps = state_.step;
    result.last_loss = state_.last_loss;
    result.has_best = state_.has_best;
    result.best_metric = state_.best_metric;
    result.best_epoch = state_.best_epoch;
    return result;
  }

  /// Writes everything a bit-exact resume needs to `path`, atomically.
  void save_checkpoint(const std::string& path) {
    const auto params = model_.parameters();
    CheckpointWriter writer;
    ByteWriter section;
    write_parameters(section, params);
    writer.add("parameters", section);
    section = ByteWriter();
    save_module_state(section, model_);
    writer.add("module_state", section);
    section = ByteWriter();
    optimizer_.save_state(section);
    writer.add("optimizer", section);
    section = ByteWriter();
    write_trainer_state(section);
    writer.add("trainer", section);
    if (hooks.save_extra) {
      section = ByteWriter();
      hooks.save_extra(section);
      writer.add("method", section);
    }
    add_fingerprints(writer, config_.data_fingerprint, config_.settings_fingerprint);
    writer.write(path);
  }

  /// Restores a checkpoint written by save_checkpoint. All or nothing: a damaged file, another
  /// architecture or a run with other data/batch size/seed throws and changes nothing.
  void load_checkpoint(const std::string& path) {
    const auto params = model_.parameters();
    const auto reader = CheckpointReader::open(path);
    require_same_run(reader, config_.data_fingerprint, config_.settings_fingerprint);
    auto in = reader.section("parameters");
    auto values = read_parameter_values(in, params);
    in.expect_end();
    in = reader.section("trainer");
    State loaded = read_trainer_state(in, params);
    Rng loaded_rng = read_rng(in);
    in.expect_end();
    if (hooks.load_extra && !reader.has("method"))
      throw FormatError("'" + path +
                        "': expected a 'method' section (the method's own state), the checkpoint has none");

    // The remaining parts have no parse-only form: back them up and roll back on failure.
    ByteWriter optimizer_backup, module_backup, extra_backup;
    optimizer_.save_state(optimizer_backup);
    save_module_state(module_backup, model_);
    if (hooks.save_extra) hooks.save_extra(extra_backup);
    try {
      in = reader.section("optimizer");
      optimizer_.load_state(in, params);
      in.expect_end();
      in = reader.section("module_state");
      load_module_state(in, model_);
      in.expect_end();
      if (hooks.load_extra) {
        in = reader.section("method");
        hooks.load_extra(in);
        in.expect_end();
      }
    } catch (...) {
      ByteReader o(optimizer_backup.bytes().data(), optimizer_backup.bytes().size(), "optimizer backup");
      optimizer_.load_state(o, params);
      ByteReader m(module_backup.bytes().data(), module_backup.bytes().size(), "module backup");
      load_module_state(m, model_);
      if (hooks.save_extra && hooks.load_extra) {
        ByteReader e(extra_backup.bytes().data(), extra_backup.bytes().size(), "method backup");
        hooks.load_extra(e);
      }
      throw;
    }
    assign_values(params, values);
    state_ = std::move(loaded);
    rng_ = loaded_rng;
  }

 private:
  struct State {
    Index num_items = 0;
    int epochs_done = 0;
    long long step = 0;
    double last_loss = std::numeric_limits<double>::quiet_NaN();
    bool has_best = false;
    double best_metric = 0;
    int best_epoch = -1;
    int since_best = 0;
    std::vector<Matrix<Scalar>> best_values;
  };

  bool patience_exhausted() const {
    return config_.patience > 0 && state_.has_best && state_.since_best >= config_.patience;
  }

  bool improves(double metric) const {
    if (!state_.has_best) return true;
    return config_.higher_is_better ? metric > state_.best_metric + config_.min_delta
                                    : metric < state_.best_metric - config_.min_delta;
  }

  void write_trainer_state(ByteWriter& out) const {
    out.put<std::int64_t>(state_.num_items);
    out.put<std::int64_t>(config_.batch_size);
    out.put<std::uint64_t>(config_.seed);
    out.put<std::int32_t>(state_.epochs_done);
    out.put<std::int64_t>(state_.step);
    out.put<double>(state_.last_loss);
    out.put<std::uint8_t>(state_.has_best ? 1 : 0);
    out.put<double>(state_.best_metric);
    out.put<std::int32_t>(state_.best_epoch);
    out.put<std::int32_t>(state_.since_best);
    out.put<std::uint64_t>(state_.best_values.size());
    for (const auto& m : state_.best_values) out.put_matrix(m);
    write_rng(out, rng_);
  }

  State read_trainer_state(ByteReader& in, const ParameterList<Scalar, Backend>& params) const {
    State s;
    s.num_items = in.get<std::int64_t>();
    const auto batch_size = in.get<std::int64_t>();
    const auto seed = in.get<std::uint64_t>();
    // num_items is known once run() started; a direct load_checkpoint takes the file's.
    const bool items_differ = state_.num_items != 0 && s.num_items != state_.num_items;
    if (items_differ || batch_size != config_.batch_size || seed != config_.seed)
      throw InvalidArgument("'" + in.source() + "': the checkpoint is of a run over " +
                            std::to_string(s.num_items) + " items, batch size " + std::to_string(batch_size) +
                            ", seed " + std::to_string(seed) + "; this run has " +
                            std::to_string(state_.num_items) + " items, batch size " +
                            std::to_string(config_.batch_size) + ", seed " + std::to_string(config_.seed));
    s.epochs_done = in.get<std::int32_t>();
    s.step = in.get<std::int64_t>();
    if (s.epochs_done < 0 || s.step < 0) in.fail("non-negative epoch and step counters");
    s.last_loss = in.get<double>();
    s.has_best = in.get<std::uint8_t>() != 0;
    s.best_metric = in.get<double>();
    s.best_epoch = in.get<std::int32_t>();
    s.since_best = in.get<std::int32_t>();
    const auto count = in.get<std::uint64_t>();
    if (count != 0 && count != params.size())
      in.fail("best parameters for " + std::to_string(params.size()) + " parameters, found " +
              std::to_string(count));
    for (std::uint64_t i = 0; i < count; ++i) {
      s.best_values.push_back(in.template get_matrix<Scalar>());
      if (s.best_values.back().rows() != params[i].rows || s.best_values.back().cols() != params[i].cols)
        in.fail("best value of '" + params[i].name + "' in the parameter's shape");
    }
    return s;
  }

  Model& model_;
  Optimizer& optimizer_;
  Schedule schedule_;
  TrainerConfig config_;
  Rng rng_;
  State state_;
};

}  // namespace rlhash::nn
