// The stable top k of a ranking (TopRanking) against the whole ranking (QueryRanking's int32
// form, the reference), on every SIMD path, and evaluate() with whole_ranking = false against
// the whole report: bit for bit.
#include <catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "rlhash/core/random.hpp"
#include "rlhash/eval/evaluate.hpp"
#include "rlhash/eval/metrics.hpp"
#include "rlhash/eval/ranking.hpp"
#include "rlhash/eval/top_ranking.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_top_ranking {

namespace {

const SimdPath kPaths[] = {SimdPath::scalar, SimdPath::avx2, SimdPath::avx512, SimdPath::xsimd};

// Distances on a few values (long runs of ties) or on all 0..bits, relevance of the given density.
ByteRankingInput random_input(Rng& rng, Index n, int bits, std::uint64_t relevant_per_mille,
                              std::vector<std::int32_t>& distances, std::vector<std::uint8_t>& relevant) {
  ByteRankingInput input;
  input.resize(n);
  distances.assign(static_cast<std::size_t>(n), 0);
  relevant.assign(static_cast<std::size_t>(n), 0);
  for (Index j = 0; j < n; ++j) {
    const int spread = uniform_below(rng, 4) == 0 ? bits + 1 : std::min(bits + 1, 4);
    const auto d = static_cast<std::int32_t>(uniform_below(rng, static_cast<std::uint64_t>(spread)));
    const bool hit = uniform_below(rng, 1000) < relevant_per_mille;
    distances[static_cast<std::size_t>(j)] = d;
    relevant[static_cast<std::size_t>(j)] = hit ? 1 : 0;
    input.distances()[j] = static_cast<std::uint8_t>(d);
    if (hit) input.relevant_words()[j / 64] |= std::uint64_t{1} << (j % 64);
  }
  if (n % 64 != 0) input.relevant_words()[n / 64] |= ~std::uint64_t{0} << (n % 64);  // ignored past n
  return input;
}

std::vector<Index> positions_below(const QueryRanking& ranking, Index k) {
  std::vector<Index> below;
  for (Index p : ranking.relevant_positions())
    if (p < k) below.push_back(p);
  return below;
}

}  // namespace

TEST_CASE("the top k equals the whole ranking's first k on every path", "[eval][simd]") {
  Rng rng(21);
  const Index sizes[] = {0, 1, 63, 64, 65, 1000, 5000};
  const int bit_choices[] = {1, 3, 32, 254};
  const std::uint64_t densities[] = {0, 100, 1000};  // per mille: none, some, all relevant
  std::vector<std::int32_t> distances;
  std::vector<std::uint8_t> relevant;
  for (Index n : sizes) {
    for (int bits : bit_choices) {
      for (std::uint64_t density : densities) {
        ByteRankingInput input = random_input(rng, n, bits, density, distances, relevant);
        for (Index excluded : {Index{-1}, n / 3}) {
          if (excluded >= 0 && n == 0) continue;
          if (excluded >= 0) input.leave_out(excluded);
          QueryRanking expected;
          expected.build(distances.data(), relevant.data(), n, bits, excluded);
          for (const SimdPath path : kPaths) {
            if (!simd_path_supported(path)) continue;
            TopRanking top;
            for (Index k : {Index{0}, Index{1}, Index{7}, Index{64}, n / 2, n, n + 10}) {  // k beyond N too
              INFO("n " << n << " bits " << bits << " density " << density << " excluded " << excluded
                        << " k " << k << " path " << to_string(path));
              top.build(input, bits, k, path);
              CHECK(top.size() == expected.size());
              CHECK(top.relevant_count() == expected.relevant_count());
              CHECK(top.relevant_positions() == positions_below(expected, k));
            }
          }
        }
      }
    }
  }
}

TEST_CASE("evaluate without the whole ranking gives the top-k metrics bit for bit", "[eval]") {
  Rng rng(8);
  const Index n = 3001, m = 90;
  for (int bits : {12, 32, 300}) {  // 300: the int32 form
    BinaryCodes db(n, bits), q(m, bits);
    for (Index i = 0; i < n; ++i)
      for (int w = 0; w < db.words(); ++w) db.row(i)[w] = rng() & rng();  // sparse: many ties
    for (Index i = 0; i < n; ++i)
      db.row(i)[db.words() - 1] &= bits % 64 == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << (bits % 64)) - 1;
    for (Index i = 0; i < m; ++i)
      for (int w = 0; w < q.words(); ++w) q.row(i)[w] = db.row(i * 7)[w];
    std::vector<std::int32_t> db_ids(static_cast<std::size_t>(n)), q_ids(static_cast<std::size_t>(m));
    for (auto& id : db_ids) id = static_cast<std::int32_t>(uniform_below(rng, 5));
    for (auto& id : q_ids)
      id = static_cast<std::int32_t>(uniform_below(rng, 6));  // class 5: no relevant item
    std::vector<std::uint8_t> db_hot(static_cast<std::size_t>(n) * 6, 0),
        q_hot(static_cast<std::size_t>(m) * 6, 0);
    for (Index i = 0; i < n; ++i) {
      db_hot[static_cast<std::size_t>(i * 6 + db_ids[static_cast<std::size_t>(i)])] = 1;
      db_hot[static_cast<std::size_t>(i * 6 + uniform_below(rng, 6))] = 1;  // a second label now and then
    }
    for (Index i = 0; i < m; ++i)
      q_hot[static_cast<std::size_t>(i * 6 + q_ids[static_cast<std::size_t>(i)])] = 1;
    const Labels single_q = Labels::from_class_ids(q_ids, 6), single_db = Labels::from_class_ids(db_ids, 6);
    const Labels multi_q = Labels::from_multi_hot(q_hot.data(), m, 6),
                 multi_db = Labels::from_multi_hot(db_hot.data(), n, 6);
    for (bool multi : {false, true}) {
      for (bool exclude_self : {false, true}) {
        for (bool small_k : {true, false}) {  // small k: the top k alone; else (k beyond N) the whole ranking
          INFO("bits " << bits << " multi-label " << multi << " exclude_self " << exclude_self << " small k "
                       << small_k);
          EvalOptions options;
          options.map_at = small_k ? std::vector<int>{300, 10} : std::vector<int>{1000, 10, n + 5};
          options.precision_at = {100, 1};
          options.ndcg_at = {50};
          options.exclude_self = exclude_self;
          const Labels& ql = multi ? multi_q : single_q;
          const Labels& dl = multi ? multi_db : single_db;
          const EvalReport whole = evaluate(q, db, ql, dl, options);
          options.whole_ranking = false;
          options.threads = 2;
          const EvalReport top = evaluate(q, db, ql, dl, options);
          CHECK(top.map_at == whole.map_at);
          CHECK(top.precision_at == whole.precision_at);
          CHECK(top.ndcg_at == whole.ndcg_at);
          CHECK(top.queries_without_relevant == whole.queries_without_relevant);
          if (!multi) CHECK(whole.queries_without_relevant > 0);  // class 5 has no database item
          CHECK(top.map == 0.0);
          CHECK(top.map_tie_aware == 0.0);
          CHECK(top.precision_radius == 0.0);
          CHECK(top.map_at.at(10) > 0.0);
        }
      }
    }
  }
}

}  // namespace rlhash::test_top_ranking
