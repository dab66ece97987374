#pragma once
/// \file
/// One DRLH fit (Wang et al., section 4.2): deep Q-learning with experience replay, a
/// periodically copied target network, the Huber loss and epsilon-greedy exploration guided by
/// the expert, over batched episodes; validation, early stopping and checkpoints. DrlhHasher
/// (drlh.hpp) runs it and keeps what it trained.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "rlhash/bch/label_embedding.hpp"
#include "rlhash/codes/binary_codes.hpp"
#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/progress.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/core/serialize.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/methods/drlh_mdp.hpp"
#include "rlhash/methods/hasher.hpp"
#include "rlhash/methods/training.hpp"
#include "rlhash/nn/backend.hpp"
#include "rlhash/nn/checkpoint.hpp"
#include "rlhash/nn/divergence.hpp"
#include "rlhash/nn/loss.hpp"
#include "rlhash/nn/optimizer.hpp"
#include "rlhash/nn/parameters.hpp"
#include "rlhash/nn/rng_state.hpp"
#include "rlhash/reward/bch_reward.hpp"
#include "rlhash/rl/dqn.hpp"
#include "rlhash/rl/epsilon_schedule.hpp"
#include "rlhash/rl/flip_actions.hpp"
#include "rlhash/rl/q_network.hpp"
#include "rlhash/rl/replay_memory.hpp"

namespace rlhash {

/// What the last fit did.
struct DrlhFitResult {
  int epochs_run = 0;
  long long updates = 0;      ///< gradient steps
  long long transitions = 0;  ///< environment steps (replay pushes)
  int best_epoch = -1;        ///< 0-based epoch whose parameters were kept (-1: no validation)
  double best_validation_map = 0.0;
  std::vector<double> validation_map;  ///< per epoch (empty without validation)
  std::vector<double> mean_return;     ///< per epoch: mean undiscounted episode return
  std::vector<double> terminate_rate;  ///< per epoch: episodes ended by terminate (not by the step cap)
  std::vector<double> mean_loss;       ///< per epoch: mean Huber loss of the updates
  bool stopped_early = false;
};

namespace drlh {

/// One DRLH fit (DrlhHasher::fit): the online and target Q-networks, Adam, the replay memory,
/// the exploration schedule, the counters and the epoch loop; run() leaves the trained online
/// network, the rewards and e_0 in its members for the hasher to keep.
template <class Hasher>
struct Training {
  using S = typename Hasher::S;
  using QNetwork = typename Hasher::QNetwork;
  using Backend = typename Hasher::Backend;
  using Config = typename Hasher::Config;
  static constexpr const char* method_name = Hasher::method_name;

  const Hasher& h;
  const Config& c;
  const Eigen::Ref<const MatrixF>& features;
  const Labels& labels;
  const FitOptions& options;
  bool validating;
  BchReward reward;
  rl::FlipActions actions;
  std::vector<std::uint64_t> initial;
  QNetwork online, target;
  nn::Adam<S, Backend> optimizer;
  rl::ReplayMemory<Transition> replay;
  rl::LinearEpsilon epsilon;
  Rng rng;
  Matrix<S> target_projection;  // target network's W_f f + b of every training item
  int words, bits, history;
  int epoch = 0;  // epochs completed
  int since_best = 0;
  bool q_values_finite = true;  // in the epoch being run
  std::vector<Matrix<S>> best;
  DrlhFitResult result;
  // Scratch of the acting steps, reused across steps and epochs.
  Matrix<S> acting_projection, acting_states;
  std::vector<int> expert, disagreeing;
  std::vector<std::uint64_t> before;  // e_t of the transition being played

  Training(const Hasher& hasher, const Eigen::Ref<const MatrixF>& x, const Labels& y, const FitOptions& o,
           bool validate)
      : h(hasher),
        c(hasher.config()),
        features(x),
        labels(y),
        options(o),
        validating(validate),
        reward(LabelEmbedding(y.num_classes(), hasher.config().bits, hasher.config().seed,
                              hasher.label_code_fill()),
               hasher.config().sigma, hasher.config().eta),
        actions(hasher.action_set()),
        initial(Hasher::make_initial_code(hasher.config().bits, hasher.config().seed)),
        online(hasher.make_network(x.rows())),
        target(hasher.make_network(x.rows())),
        optimizer(nn::AdamConfig{c.learning_rate, 0.9, 0.999, 1e-8, c.weight_decay, false}),
        replay(allocating(
            rl::ReplayMemory<Transition>::bytes_for(c.replay_size, (c.bits + 63) / 64),
            [&] { return rl::ReplayMemory<Transition>(c.replay_size, (c.bits + 63) / 64); }, method_name,
            ".replay_size = ", c.replay_size, " transitions")),
        epsilon(c.epsilon_start, c.epsilon_end, c.epsilon_decay_fraction * c.epochs),
        rng(c.seed ^ 0xD1B54A32D192ED03ULL),
        words((c.bits + 63) / 64),
        bits(c.bits),
        history(c.history),
        before(static_cast<std::size_t>(words)) {
    target.set_training(false);
    result.best_validation_map = -1.0;
  }

  void run() {
    if (options.resume && !options.checkpoint_path.empty() && file_exists(options.checkpoint_path))
      load_checkpoint(options.checkpoint_path);
    refresh_target_projection();
    while (epoch < c.epochs) {
      run_epoch();
      ++epoch;
      result.epochs_run = epoch;
      require_converging();  // before a diverged network is validated, checkpointed or kept
      bool stop = false;
      std::string metrics = "return=" + std::to_string(result.mean_return.back()) +
                            " terminate=" + std::to_string(result.terminate_rate.back()) +
                            " loss=" + std::to_string(result.mean_loss.back()) +
                            " epsilon=" + std::to_string(epsilon.value(epoch));
      if (validating) {
        const double map = validation_map();
        result.validation_map.push_back(map);
        metrics += " val_map=" + std::to_string(map);
        if (map > result.best_validation_map) {
          result.best_validation_map = map;
          result.best_epoch = epoch - 1;
          best = nn::copy_values(online.parameters());
          since_best = 0;
        } else if (c.patience > 0 && ++since_best >= c.patience) {
          stop = true;
        }
      }
      if (!options.checkpoint_path.empty() && options.checkpoint_every > 0 &&
          (epoch % options.checkpoint_every == 0 || epoch == c.epochs))
        save_checkpoint(options.checkpoint_path);
      if (!report(options.progress, Progress{"drlh epochs", epoch, c.epochs, metrics})) stop = true;
      if (stop) {
        result.stopped_early = epoch < c.epochs;
        break;
      }
    }
    if (validating && !best.empty()) nn::assign_values(online.parameters(), best);
    if (!validating) result.best_validation_map = 0.0;
  }

  /// TrainingDiverged when the epoch's mean loss, an acting Q-value or a parameter of the
  /// online network is not finite.
  void require_converging() {
    const double loss = result.mean_loss.back();
    std::string non_finite;
    if (!q_values_finite)
      non_finite = "Q-values are not finite";
    else if (std::isfinite(loss))
      non_finite = nn::non_finite_parameter(online.parameters());
    nn::require_converging(epoch, loss, non_finite);
  }

  // ----- the epoch: streaming batched episodes --------------------------------------------
  /// The columns of one epoch's batched episodes: each column plays one item's episode, and a
  /// finished column is refilled with the epoch's next item.
  struct Episodes {
    std::vector<Index> order;  ///< the epoch's items, shuffled
    Index next = 0;            ///< the next item of `order` to start
    int words = 1, classes = 0;
    std::vector<Index> item;
    std::vector<std::uint64_t> code;  ///< e_t, `words` words per column
    std::vector<int> dist;            ///< Hamming distance of e_t to each class's codeword
    std::vector<std::int16_t> hist;   ///< h_t, max_history actions per column
    std::vector<int> steps;
    std::vector<double> returns;
    Matrix<S> projection;  ///< W_f f + b per column

    std::uint64_t* code_of(std::size_t j) { return code.data() + j * static_cast<std::size_t>(words); }
    int* dist_of(std::size_t j) { return dist.data() + j * static_cast<std::size_t>(classes); }
    std::int16_t* hist_of(std::size_t j) { return hist.data() + j * static_cast<std::size_t>(max_history); }
  };

  /// What an epoch's episodes and updates add up to (DrlhFitResult's per-epoch figures).
  struct EpochTotals {
    double returns = 0, loss = 0;
    long long episodes = 0, terminated = 0, updates = 0;
  };

  void run_epoch() {
    q_values_finite = true;
    const Index n = features.cols();
    const Index width = std::min<Index>(c.episodes, n);
    Episodes e = new_episodes(width);
    std::vector<Index> active(static_cast<std::size_t>(width)), still, refill;
    for (Index j = 0; j < width; ++j) active[static_cast<std::size_t>(j)] = j;
    start_episodes(e, active);
    EpochTotals totals;
    const int limit = h.training_steps();
    while (!active.empty()) {
      const Matrix<S> q = acting_q_values(e, active);
      const double eps = epsilon.value(epoch + static_cast<double>(e.next) / static_cast<double>(n));
      still.clear();
      refill.clear();
      for (std::size_t k = 0; k < active.size(); ++k) {
        const auto j = static_cast<std::size_t>(active[k]);
        const int action = choose_action(e, j, q, static_cast<Index>(k), eps);
        if (!play(e, j, action, limit, totals))
          still.push_back(active[k]);
        else if (e.next + static_cast<Index>(refill.size()) < n)  // start_episodes() draws the items
          refill.push_back(active[k]);
      }
      start_episodes(e, refill);
      still.insert(still.end(), refill.begin(), refill.end());
      std::sort(still.begin(), still.end());
      active.swap(still);
      for (int u = 0; u < c.updates_per_step; ++u)
        if (replay.size() >= std::max<Index>(c.learning_starts, 1)) {
          totals.loss += update();
          ++totals.updates;
        }
    }
    const auto mean = [](double sum, long long count) {
      return count ? sum / static_cast<double>(count) : 0.0;
    };
    result.mean_return.push_back(mean(totals.returns, totals.episodes));
    result.terminate_rate.push_back(mean(static_cast<double>(totals.terminated), totals.episodes));
    result.mean_loss.push_back(mean(totals.loss, totals.updates));
  }

  /// `width` columns over the epoch's items in a fresh shuffled order.
  Episodes new_episodes(Index width) {
    Episodes e;
    e.order.resize(static_cast<std::size_t>(features.cols()));
    for (Index i = 0; i < features.cols(); ++i) e.order[static_cast<std::size_t>(i)] = i;
    shuffle(e.order, rng);
    const auto columns = static_cast<std::size_t>(width);
    e.words = words;
    e.classes = reward.num_classes();
    e.item.assign(columns, -1);
    e.code.resize(columns * static_cast<std::size_t>(words));
    e.dist.resize(columns * static_cast<std::size_t>(e.classes));
    e.hist.assign(columns * static_cast<std::size_t>(max_history), -1);
    e.steps.assign(columns, 0);
    e.returns.assign(columns, 0.0);
    e.projection.resize(online.hidden(), width);
    return e;
  }

  /// Starts the next items' episodes in `columns`: e_0, an empty history, and W_f f + b once per
  /// episode (the acting network lags the learner by at most one episode's updates in this
  /// part; see docs/methods/drlh.md).
  void start_episodes(Episodes& e, const std::vector<Index>& columns) {
    if (columns.empty()) return;
    Matrix<S> x(features.rows(), static_cast<Index>(columns.size()));
    for (std::size_t k = 0; k < columns.size(); ++k) {
      const auto j = static_cast<std::size_t>(columns[k]);
      e.item[j] = e.order[static_cast<std::size_t>(e.next++)];
      x.col(static_cast<Index>(k)) = features.col(e.item[j]).template cast<S>();
      std::copy(initial.begin(), initial.end(), e.code_of(j));
      reward.distances(e.code_of(j), e.dist_of(j));
      std::fill(e.hist_of(j), e.hist_of(j) + max_history, std::int16_t(-1));
      e.steps[j] = 0;
      e.returns[j] = 0;
    }
    const Matrix<S> p = Hasher::projection_of(online, x);
    for (std::size_t k = 0; k < columns.size(); ++k)
      e.projection.col(columns[k]) = p.col(static_cast<Index>(k));
  }

  /// The online network's Q-values of the `active` columns' states, one column each.
  Matrix<S> acting_q_values(Episodes& e, const std::vector<Index>& active) {
    const auto na = static_cast<Index>(active.size());
    acting_projection.resize(online.hidden(), na);
    acting_states.resize(h.state_dim(), na);
    for (Index k = 0; k < na; ++k) {
      const auto j = static_cast<std::size_t>(active[static_cast<std::size_t>(k)]);
      acting_projection.col(k) = e.projection.col(static_cast<Index>(j));
      write_state(e.code_of(j), e.hist_of(j), actions, history, acting_states.col(k).data());
    }
    Matrix<S> q = nn::on_host<Backend>(online.infer_projected(nn::on_backend<Backend>(acting_projection),
                                                              nn::on_backend<Backend>(acting_states)));
    q_values_finite = q_values_finite && q.allFinite();
    return q;
  }

  /// Epsilon-greedy (section 4.2): with probability eps an exploring action (one of the
  /// expert's improving actions with guided exploration, else any), otherwise the action of
  /// the largest Q-value in column k of `q`.
  int choose_action(Episodes& e, std::size_t j, const Matrix<S>& q, Index k, double eps) {
    if (uniform_unit(rng) < eps) {
      if (!c.guided_exploration)
        return static_cast<int>(uniform_below(rng, static_cast<std::uint64_t>(actions.size())));
      expert_actions(reward, actions, e.code_of(j), e.dist_of(j), labels, e.item[j], disagreeing, expert);
      return expert[static_cast<std::size_t>(uniform_below(rng, expert.size()))];
    }
    Index best_action = 0;
    q.col(k).maxCoeff(&best_action);
    return static_cast<int>(best_action);
  }

  /// Plays `action` in column j and stores the transition: the reward of eq. 1 over the whole
  /// step for a flip, eq. 2 for terminate. Returns whether the episode ended (terminate, or
  /// `limit` steps).
  bool play(Episodes& e, std::size_t j, int action, int limit, EpochTotals& totals) {
    std::uint64_t* code = e.code_of(j);
    int* d = e.dist_of(j);
    Transition tr;
    tr.item = e.item[j];
    tr.action = action;
    std::copy(e.hist_of(j), e.hist_of(j) + max_history, tr.history);
    std::copy(code, code + words, before.begin());
    int pos0;
    double neg0;
    reward.pos_neg(d, labels, e.item[j], pos0, neg0);
    double r;
    if (action == actions.terminate()) {
      r = reward.terminate_reward(pos0);
      tr.terminal = 1;
    } else {
      actions.for_each_bit(action, [&](int bit) { reward.apply_flip(code, d, bit); });
      int pos1;
      double neg1;
      reward.pos_neg(d, labels, e.item[j], pos1, neg1);
      r = (pos0 - neg0) - (pos1 - neg1);
      push_history(e.hist_of(j), history, action);
    }
    tr.reward = static_cast<float>(r);
    replay.push(tr, before.data());
    ++result.transitions;
    e.returns[j] += r;
    ++e.steps[j];
    if (!tr.terminal && e.steps[j] < limit) return false;
    ++totals.episodes;
    totals.terminated += tr.terminal;
    totals.returns += e.returns[j];
    return true;
  }

  // ----- one replay update -----------------------------------------------------------------
  double update() {
    const auto batch = replay.sample(c.batch_size, rng);
    const auto nb = static_cast<Index>(batch.size());
    const Index sdim = h.state_dim();
    Matrix<S> x(features.rows(), nb), s(sdim, nb), s_next(sdim, nb), tp(target.hidden(), nb);
    std::vector<float> rewards(batch.size());
    std::vector<unsigned char> terminal(batch.size());
    std::vector<Index> taken(batch.size());
    std::vector<std::uint64_t> next_code(static_cast<std::size_t>(words));
    std::int16_t next_hist[max_history];
    for (Index k = 0; k < nb; ++k) {
      const auto kk = static_cast<std::size_t>(k);
      const auto& tr = replay.record(batch[kk]);
      const std::uint64_t* e = replay.payload(batch[kk]);
      x.col(k) = features.col(tr.item).template cast<S>();
      tp.col(k) = target_projection.col(tr.item);
      write_state(e, tr.history, actions, history, s.col(k).data());
      std::copy(e, e + words, next_code.begin());
      std::copy(tr.history, tr.history + max_history, next_hist);
      if (!tr.terminal) {
        apply_action(next_code.data(), actions, tr.action);
        push_history(next_hist, history, tr.action);
      }
      write_state(next_code.data(), next_hist, actions, history, s_next.col(k).data());
      rewards[kk] = tr.reward;
      terminal[kk] = tr.terminal;
      taken[kk] = tr.action;
    }
    const auto& x_b = nn::on_backend<Backend>(x);
    const auto& s_next_b = nn::on_backend<Backend>(s_next);
    const Matrix<S> next_q =
        nn::on_host<Backend>(target.infer_projected(nn::on_backend<Backend>(tp), s_next_b));
    Vector<S> y;
    if (c.double_dqn)
      y = rl::double_q_learning_targets(next_q, nn::on_host<Backend>(online.infer(x_b, s_next_b)), rewards,
                                        terminal, c.gamma);
    else
      y = rl::q_learning_targets(next_q, rewards, terminal, c.gamma);
    online.set_training(true);
    online.zero_grad();
    const auto& q = Backend::to_host(online.forward(x_b, nn::on_backend<Backend>(s)));
    Matrix<S> grad;
    const double loss = static_cast<double>(nn::selected_huber_loss(q, taken, y, c.huber_delta, &grad));
    online.backward(nn::on_backend<Backend>(grad));
    const auto params = online.parameters();
    if (c.max_grad_norm > 0) nn::clip_grad_norm(params, c.max_grad_norm);
    optimizer.step(params);
    online.set_training(false);
    ++result.updates;
    if (result.updates % c.target_period == 0) {
      rl::copy_parameters(online, target);
      refresh_target_projection();
    }
    return loss;
  }

  void refresh_target_projection() {
    const Index n = features.cols();
    target_projection.resize(target.hidden(), n);
    for (Index begin = 0; begin < n; begin += 4096) {
      const Index size = std::min<Index>(4096, n - begin);
      const Matrix<S> x = features.middleCols(begin, size).template cast<S>();
      target_projection.middleCols(begin, size) = Hasher::projection_of(target, x);
    }
  }

  double validation_map() {
    const MatrixF& vx = *options.validation_features;
    BinaryCodes codes(vx.cols(), bits);
    for (Index begin = 0; begin < vx.cols(); begin += c.encode_batch) {
      const Index size = std::min<Index>(c.encode_batch, vx.cols() - begin);
      const Matrix<S> x = vx.middleCols(begin, size).template cast<S>();
      greedy_codes(online, Hasher::projection_of(online, x), initial, actions, history, h.test_steps(), codes,
                   begin);
    }
    return leave_one_out_map(codes, *options.validation_labels);
  }

  // ----- checkpoints -----------------------------------------------------------------------
  void save_checkpoint(const std::string& path) {
    nn::CheckpointWriter writer;
    ByteWriter meta;
    meta.put_string(method_name);
    meta.put<std::int32_t>(bits);
    meta.put<std::int64_t>(features.rows());
    meta.put<std::int64_t>(features.cols());
    meta.put<std::int32_t>(epoch);
    meta.put<std::int32_t>(since_best);
    meta.put<std::int64_t>(result.updates);
    meta.put<std::int64_t>(result.transitions);
    meta.put<std::int32_t>(result.best_epoch);
    meta.put<double>(result.best_validation_map);
    meta.put_vector(result.validation_map);
    meta.put_vector(result.mean_return);
    meta.put_vector(result.terminate_rate);
    meta.put_vector(result.mean_loss);
    nn::write_rng(meta, rng);
    writer.add("method", meta);
    ByteWriter params, state, tparams, opt, mem, best_values;
    nn::write_parameters(params, online.parameters());
    online.save_state(state);
    nn::write_parameters(tparams, target.parameters());
    optimizer.save_state(opt);
    replay.save(mem);
    best_values.put<std::uint64_t>(best.size());
    for (const auto& m : best) best_values.put_matrix(m);
    writer.add("parameters", params);
    writer.add("module_state", state);
    writer.add("target", tparams);
    writer.add("optimizer", opt);
    writer.add("replay", mem);
    writer.add("best", best_values);
    nn::add_fingerprints(writer, options.data_fingerprint, options.settings_fingerprint);
    writer.write(path);
  }

  void load_checkpoint(const std::string& path) {
    const auto ck = nn::CheckpointReader::open(path);
    nn::require_same_run(ck, options.data_fingerprint, options.settings_fingerprint);
    auto meta = ck.section("method");
    const std::string name = meta.get_string();
    const auto b = meta.get<std::int32_t>();
    const auto rows = meta.get<std::int64_t>();
    const auto cols = meta.get<std::int64_t>();
    if (name != method_name || b != bits || rows != features.rows() || cols != features.cols())
      meta.fail(std::string("a drlh checkpoint of ") + std::to_string(bits) + " bits over " +
                std::to_string(features.cols()) + " items of " + std::to_string(features.rows()) +
                " dimensions, found " + name + " with " + std::to_string(b) + " bits over " +
                std::to_string(cols) + " x " + std::to_string(rows));
    const auto e = meta.get<std::int32_t>();
    const auto sb = meta.get<std::int32_t>();
    const auto updates = meta.get<std::int64_t>();
    const auto transitions = meta.get<std::int64_t>();
    const auto best_epoch = meta.get<std::int32_t>();
    const auto best_map = meta.get<double>();
    auto vm = meta.get_vector<double>();
    auto mr = meta.get_vector<double>();
    auto tr = meta.get_vector<double>();
    auto ml = meta.get_vector<double>();
    Rng r = nn::read_rng(meta);
    if (e < 0 || e > c.epochs)
      meta.fail("an epoch count in [0, " + std::to_string(c.epochs) + "], found " + std::to_string(e));
    auto params = ck.section("parameters");
    nn::read_parameters(params, online.parameters());
    auto state = ck.section("module_state");
    online.load_state(state);
    auto tparams = ck.section("target");
    nn::read_parameters(tparams, target.parameters());
    auto opt = ck.section("optimizer");
    optimizer.load_state(opt, online.parameters());
    auto mem = ck.section("replay");
    replay.load(mem);
    auto bv = ck.section("best");
    const auto count = bv.get<std::uint64_t>();
    std::vector<Matrix<S>> best_values;
    const auto plist = online.parameters();
    if (count != 0 && count != plist.size())
      bv.fail("best parameters for " + std::to_string(plist.size()) + " tensors");
    for (std::uint64_t i = 0; i < count; ++i) {
      best_values.push_back(bv.template get_matrix<S>());
      if (best_values.back().rows() != plist[i].rows || best_values.back().cols() != plist[i].cols)
        bv.fail("best parameter '" + plist[i].name + "' of the network's shape");
    }
    epoch = e;
    since_best = sb;
    result.updates = updates;
    result.transitions = transitions;
    result.best_epoch = best_epoch;
    result.best_validation_map = best_map;
    result.validation_map = std::move(vm);
    result.mean_return = std::move(mr);
    result.terminate_rate = std::move(tr);
    result.mean_loss = std::move(ml);
    result.epochs_run = epoch;
    rng = r;
    best = std::move(best_values);
  }
};

}  // namespace drlh
}  // namespace rlhash
