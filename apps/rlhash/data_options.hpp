#pragma once
// The data options shared by every subcommand that trains or evaluates, in three forms:
//   --dataset fashion-mnist                      the protocol on Debian's files
//   --features F --labels L                      one pool, split by the protocol
//   --train/--queries/--database + their labels  an explicit split (validation carved from --train)
#include <CLI/CLI.hpp>
#include <limits>
#include <string>

#include "output_paths.hpp"
#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/data/fashion_mnist.hpp"
#include "rlhash/data/finite.hpp"
#include "rlhash/data/label_file.hpp"
#include "rlhash/data/labels.hpp"
#include "rlhash/data/preprocess.hpp"
#include "rlhash/data/split.hpp"
#include "rlhash/io/array_spec.hpp"
#include "rlhash/io/npy.hpp"

namespace rlhash::cli {

struct DataOptions {
  std::string dataset;
  std::string features, labels;
  std::string train, train_labels, queries, query_labels, database, database_labels;
  SplitConfig split;
  bool random_split = false;
  bool no_scale = false;
  std::string save_split;
};

/// Every set the protocol defines, as D x N features and labels.
struct DataSets {
  MatrixF train, validation, queries, database;
  Labels train_labels, validation_labels, query_labels, database_labels;
  std::string description;
};

inline void add_data_options(CLI::App& app, DataOptions& o) {
  app.add_option("--dataset", o.dataset, "A built-in dataset: fashion-mnist (Debian's dataset-fashion-mnist)")
      ->check(CLI::IsMember({"fashion-mnist"}));
  app.add_option("--features", o.features, "Feature file [N, D] (.npy, file.npz:name, .fvecs, IDX)");
  app.add_option("--labels", o.labels, "Labels of --features: class ids [N] or multi-hot [N, C]");
  app.add_option("--train", o.train, "Explicit split: training feature file");
  app.add_option("--train-labels", o.train_labels, "Explicit split: training labels");
  app.add_option("--queries", o.queries, "Explicit split: query feature file");
  app.add_option("--query-labels", o.query_labels, "Explicit split: query labels");
  app.add_option("--database", o.database, "Explicit split: database feature file");
  app.add_option("--database-labels", o.database_labels, "Explicit split: database labels");
  app.add_option("--queries-per-class", o.split.queries_per_class, "Protocol: queries per class")
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()))
      ->default_val(100);
  app.add_option("--train-per-class", o.split.train_per_class,
                 "Protocol: training items per class (incl. validation)")
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()))
      ->default_val(500);
  app.add_option("--val-per-class", o.split.val_per_class,
                 "Protocol: validation items per class, carved from training")
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()))
      ->default_val(50);
  app.add_flag("--random-split", o.random_split,
               "DRLIH's protocol: random queries and training items (see --random-queries/--random-train)");
  app.add_option("--random-queries", o.split.random_queries, "Random protocol: number of queries")
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()))
      ->default_val(1000);
  app.add_option("--random-train", o.split.random_train, "Random protocol: training items (incl. validation)")
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()))
      ->default_val(5000);
  app.add_option("--random-val", o.split.random_val,
                 "Random protocol: validation items carved from --random-train")
      ->default_val(500)
      ->check(CLI::Range(Index{0}, std::numeric_limits<Index>::max()));
  app.add_flag("--no-scale", o.no_scale, "Keep uint8 features as 0..255 instead of scaling to [0, 1]");
  app.add_option("--save-split", o.save_split, "Write the chosen indices as .npy files into this folder");
}

/// The files the data options read, named by option (for output-path checks).
inline std::vector<NamedPath> data_inputs(const DataOptions& o) {
  return {{"--features", o.features}, {"--labels", o.labels},
          {"--train", o.train},       {"--train-labels", o.train_labels},
          {"--queries", o.queries},   {"--query-labels", o.query_labels},
          {"--database", o.database}, {"--database-labels", o.database_labels}};
}

/// Class ids [N] (int32/int64) or multi-hot [N, C] (uint8/bool) from a file.
inline Labels read_labels(const std::string& spec) { return read_labels_file(spec); }

/// Features as float D x N; uint8 features are scaled to [0, 1] unless `no_scale`.
inline MatrixF read_features(const std::string& spec, bool no_scale) {
  const NdArray array = read_array_spec(spec);
  MatrixF features = allocating(
      checked_bytes(array.size(), sizeof(float), spec), [&] { return array.to_matrix<float>(spec); }, "'",
      spec, "' as float features");
  if (array.dtype() == "|u1" && !no_scale) features /= 255.0f;
  require_dimensions(features, spec);
  require_finite(features, spec);
  return features;
}

inline MatrixF columns(const MatrixF& x, const std::vector<Index>& items) { return x(Eigen::all, items); }

inline void save_split_indices(const std::string& folder, const Split& split) {
  write_npy_vector(folder + "/queries.npy", split.queries);
  write_npy_vector(folder + "/database.npy", split.database);
  write_npy_vector(folder + "/train.npy", split.train);
  write_npy_vector(folder + "/validation.npy", split.validation);
}

namespace detail {
inline void require_pair(const std::string& a, const std::string& b, const char* a_name, const char* b_name) {
  if (a.empty() != b.empty())
    throw InvalidArgument(std::string(a.empty() ? b_name : a_name) + " given without " +
                          (a.empty() ? a_name : b_name));
}
inline void require_same_count(const MatrixF& x, const Labels& y, const std::string& what) {
  if (x.cols() != y.size())
    throw InvalidArgument(what + ": " + std::to_string(x.cols()) + " feature rows but " +
                          std::to_string(y.size()) + " labels");
}

inline DataSets from_split(const MatrixF& query_pool, const Labels& query_pool_labels,
                           const MatrixF& database_pool, const Labels& database_pool_labels,
                           const Split& split) {
  DataSets d;
  d.queries = columns(query_pool, split.queries);
  d.query_labels = query_pool_labels.subset(split.queries);
  d.database = columns(database_pool, split.database);
  d.database_labels = database_pool_labels.subset(split.database);
  d.train = columns(database_pool, split.train);
  d.train_labels = database_pool_labels.subset(split.train);
  d.validation = columns(database_pool, split.validation);
  d.validation_labels = database_pool_labels.subset(split.validation);
  return d;
}
}  // namespace detail

/// Loads and splits the data the options name; exactly one of the three forms must be given.
inline DataSets load_data(DataOptions o, std::uint64_t seed) {
  o.split.seed = seed;
  o.split.per_class = !o.random_split;
  const bool explicit_split = !o.train.empty() || !o.queries.empty() || !o.database.empty();
  const int forms = int(!o.dataset.empty()) + int(!o.features.empty()) + int(explicit_split);
  if (forms != 1)
    throw InvalidArgument(
        "give exactly one data source: --dataset, --features/--labels, or "
        "--train/--queries/--database with their labels");
  check(!o.random_split || o.split.random_val <= o.split.random_train, "--random-val ", o.split.random_val,
        " exceeds --random-train ", o.split.random_train,
        "; the validation items are carved from the training items");
  DataSets d;
  Split split;
  if (!o.dataset.empty()) {
    const FashionMnist fm = load_fashion_mnist();
    split = split_dataset(fm.test_labels, fm.train_labels, o.split);
    d = detail::from_split(fm.test_images, fm.test_labels, fm.train_images, fm.train_labels, split);
    d.description = "fashion-mnist";
  } else if (!o.features.empty()) {
    detail::require_pair(o.features, o.labels, "--features", "--labels");
    const MatrixF x = read_features(o.features, o.no_scale);
    const Labels y = read_labels(o.labels);
    detail::require_same_count(x, y, o.features);
    split = split_dataset(y, o.split);
    d = detail::from_split(x, y, x, y, split);
    d.description = o.features;
  } else {
    detail::require_pair(o.train, o.train_labels, "--train", "--train-labels");
    detail::require_pair(o.queries, o.query_labels, "--queries", "--query-labels");
    detail::require_pair(o.database, o.database_labels, "--database", "--database-labels");
    if (o.train.empty() || o.queries.empty() || o.database.empty())
      throw InvalidArgument("an explicit split needs --train, --queries and --database (each with labels)");
    const MatrixF train = read_features(o.train, o.no_scale);
    const Labels train_labels = read_labels(o.train_labels);
    detail::require_same_count(train, train_labels, o.train);
    d.queries = read_features(o.queries, o.no_scale);
    d.query_labels = read_labels(o.query_labels);
    detail::require_same_count(d.queries, d.query_labels, o.queries);
    d.database = read_features(o.database, o.no_scale);
    d.database_labels = read_labels(o.database_labels);
    detail::require_same_count(d.database, d.database_labels, o.database);
    // The validation set is carved from --train with the protocol's per-class (or random) draw.
    SplitConfig carve = o.split;
    carve.queries_per_class = 0;
    carve.random_queries = 0;
    carve.train_per_class = o.split.val_per_class;
    carve.random_train = carve.random_val = o.split.random_val;
    const Split inner = split_dataset(train_labels, carve);
    split.validation = inner.validation;
    for (Index i = 0; i < train.cols(); ++i)
      if (!std::binary_search(split.validation.begin(), split.validation.end(), i)) split.train.push_back(i);
    d.train = columns(train, split.train);
    d.train_labels = train_labels.subset(split.train);
    d.validation = columns(train, split.validation);
    d.validation_labels = train_labels.subset(split.validation);
    d.description = "explicit split";
  }
  if (d.queries.rows() != d.database.rows() || d.train.rows() != d.database.rows())
    throw InvalidArgument("feature dimensions differ: train " + std::to_string(d.train.rows()) +
                          ", queries " + std::to_string(d.queries.rows()) + ", database " +
                          std::to_string(d.database.rows()));
  if (!o.save_split.empty()) save_split_indices(o.save_split, split);
  return d;
}

}  // namespace rlhash::cli
