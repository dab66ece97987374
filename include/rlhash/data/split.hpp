#pragma once
/// \file
/// The evaluation protocol's split into queries, database, training and validation sets.
///
/// Per class (DRLH §5.3): Q queries per class, the database is everything but the queries, T
/// training items per class drawn from the database, and V validation items per class carved
/// from those training items (so the training set keeps T - V per class, and nothing is ever
/// tuned on the queries). Random (DRLIH §IV-A): a fixed number of random queries and training
/// items instead. Draws use rlhash's own Fisher-Yates over std::mt19937_64, per class in
/// ascending class id over items in ascending index, so the split is the same with every standard
/// library. For multi-label data an item belongs to the first class (ascending) that draws it.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/data/labels.hpp"

namespace rlhash {

struct SplitConfig {
  bool per_class = true;  ///< false: the random protocol (DRLIH)
  Index queries_per_class = 100;
  Index train_per_class = 500;  ///< drawn from the database; includes the validation items
  Index val_per_class = 50;     ///< carved from the training items
  Index random_queries = 1000;  ///< random protocol: total queries
  Index random_train = 5000;    ///< random protocol: total training items (validation carved from it)
  Index random_val = 500;
  std::uint64_t seed = 0;
};

/// Item indices of each set, ascending. With separate query and database pools (Fashion-MNIST:
/// test split and training split) `queries` index the query pool and the rest the database pool.
struct Split {
  std::vector<Index> queries;
  std::vector<Index> database;
  std::vector<Index> train;
  std::vector<Index> validation;
};

namespace detail {

/// Draws up to `count` items per class from `pool` (ascending indices), skipping items already
/// taken; returns the drawn items grouped by class in ascending class id, each group in draw order.
inline std::vector<std::vector<Index>> draw_per_class(const Labels& labels, const std::vector<Index>& pool,
                                                      Index count, std::vector<char>& taken, Rng& rng,
                                                      const char* what) {
  std::vector<std::vector<Index>> groups(static_cast<std::size_t>(labels.num_classes()));
  for (int c = 0; c < labels.num_classes(); ++c) {
    std::vector<Index> candidates;
    for (Index item : pool)
      if (!taken[static_cast<std::size_t>(item)] && labels.has(item, c)) candidates.push_back(item);
    if (static_cast<Index>(candidates.size()) < count)
      throw InvalidArgument("split: class " + std::to_string(c) + " has " +
                            std::to_string(candidates.size()) + " items left for the " + what + ", " +
                            std::to_string(count) + " requested per class");
    for (Index k : sample_without_replacement(static_cast<Index>(candidates.size()), count, rng)) {
      const Index item = candidates[static_cast<std::size_t>(k)];
      taken[static_cast<std::size_t>(item)] = 1;
      groups[static_cast<std::size_t>(c)].push_back(item);
    }
  }
  return groups;
}

inline std::vector<Index> draw_random(const std::vector<Index>& pool, Index count, Rng& rng,
                                      const char* what) {
  if (count > static_cast<Index>(pool.size()))
    throw InvalidArgument(std::string("split: ") + what + " of " + std::to_string(count) +
                          " items requested, only " + std::to_string(pool.size()) + " available");
  std::vector<Index> drawn;
  for (Index k : sample_without_replacement(static_cast<Index>(pool.size()), count, rng))
    drawn.push_back(pool[static_cast<std::size_t>(k)]);
  return drawn;
}

inline std::vector<Index> all_items(Index n) {
  std::vector<Index> items(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) items[static_cast<std::size_t>(i)] = i;
  return items;
}

inline std::vector<Index> flatten_sorted(const std::vector<std::vector<Index>>& groups) {
  std::vector<Index> out;
  for (const auto& g : groups) out.insert(out.end(), g.begin(), g.end());
  std::sort(out.begin(), out.end());
  return out;
}

/// Draws training items from the database and carves the validation items out of them.
inline void draw_train_and_validation(const Labels& database_labels, Split& split, const SplitConfig& config,
                                      Rng& rng) {
  if (config.per_class) {
    if (config.val_per_class > config.train_per_class)
      throw InvalidArgument("split: val_per_class (" + std::to_string(config.val_per_class) +
                            ") exceeds train_per_class (" + std::to_string(config.train_per_class) + ")");
    std::vector<char> taken(static_cast<std::size_t>(database_labels.size()), 0);
    auto groups =
        draw_per_class(database_labels, split.database, config.train_per_class, taken, rng, "training set");
    std::vector<std::vector<Index>> validation(groups.size());
    for (std::size_t c = 0; c < groups.size(); ++c) {
      // The first V drawn for a class become its validation items (multi-label groups may be
      // smaller than V only when T < V, which was rejected above).
      const auto v = static_cast<std::ptrdiff_t>(
          std::min<std::size_t>(groups[c].size(), static_cast<std::size_t>(config.val_per_class)));
      validation[c].assign(groups[c].begin(), groups[c].begin() + v);
      groups[c].erase(groups[c].begin(), groups[c].begin() + v);
    }
    split.train = flatten_sorted(groups);
    split.validation = flatten_sorted(validation);
    return;
  }
  if (config.random_val > config.random_train)
    throw InvalidArgument("split: random_val exceeds random_train");
  auto drawn = draw_random(split.database, config.random_train, rng, "training set");
  split.validation.assign(drawn.begin(), drawn.begin() + static_cast<std::ptrdiff_t>(config.random_val));
  split.train.assign(drawn.begin() + static_cast<std::ptrdiff_t>(config.random_val), drawn.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
}

}  // namespace detail

/// One pool: queries are drawn from it and the database is the rest.
inline Split split_dataset(const Labels& labels, const SplitConfig& config) {
  Rng rng(config.seed);
  Split split;
  const auto everything = detail::all_items(labels.size());
  std::vector<char> is_query(static_cast<std::size_t>(labels.size()), 0);
  if (config.per_class) {
    split.queries = detail::flatten_sorted(
        detail::draw_per_class(labels, everything, config.queries_per_class, is_query, rng, "queries"));
  } else {
    split.queries = detail::draw_random(everything, config.random_queries, rng, "queries");
    std::sort(split.queries.begin(), split.queries.end());
    for (Index q : split.queries) is_query[static_cast<std::size_t>(q)] = 1;
  }
  for (Index i : everything)
    if (!is_query[static_cast<std::size_t>(i)]) split.database.push_back(i);
  detail::draw_train_and_validation(labels, split, config, rng);
  return split;
}

/// Separate pools: queries drawn from `query_pool`, the database is all of `database_pool`
/// (Fashion-MNIST: queries from the test split, the 60,000 training images as database).
inline Split split_dataset(const Labels& query_pool, const Labels& database_pool, const SplitConfig& config) {
  Rng rng(config.seed);
  Split split;
  const auto pool = detail::all_items(query_pool.size());
  if (config.per_class) {
    std::vector<char> taken(static_cast<std::size_t>(query_pool.size()), 0);
    split.queries = detail::flatten_sorted(
        detail::draw_per_class(query_pool, pool, config.queries_per_class, taken, rng, "queries"));
  } else {
    split.queries = detail::draw_random(pool, config.random_queries, rng, "queries");
    std::sort(split.queries.begin(), split.queries.end());
  }
  split.database = detail::all_items(database_pool.size());
  detail::draw_train_and_validation(database_pool, split, config, rng);
  return split;
}

}  // namespace rlhash
