#pragma once
/// \file
/// Choosing between the linear scan and multi-index hashing for a batch of kNN queries.
///
/// Neither method wins everywhere. The scan costs N codes per query whatever the data; the
/// multi-index search costs its probed buckets and verified candidates, which is tiny for codes
/// that cluster like learned ones and for short codes over large databases, and more than a scan
/// for long uniformly random codes (at 128 random bits the k-th neighbour is so far away that
/// the search must enumerate huge numbers of buckets).
///
/// `automatic` decides per batch from a pilot: the first P = clamp(Q / 16, 1, 64) queries run
/// through the tables with a budget of min(1, Q / (10 P)) scans each (a query over budget is
/// scanned, so the pilot's answers are all kept; the budget is checked after every group of
/// probes), so the pilot never spends more than a tenth of the batch's scan. It runs in two
/// halves and stops after the first when every query there overran: then the tables lose, and
/// what the pilot wastes is halved. The pilot's priced work (MihCostModel) plus a whole scan for every query
/// that overran gives the expected cost of a multi-index query, E. The rest of the batch runs
/// through the tables when E is below the modelled cost of a scan, otherwise through the scan.
/// Choosing the scan wastes at most a tenth of the batch's scan, so auto stays within about
/// 1.1x of the better method when the model ranks them right.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "rlhash/core/error.hpp"
#include "rlhash/core/types.hpp"
#include "rlhash/search/codes_view.hpp"
#include "rlhash/search/knn.hpp"
#include "rlhash/search/multi_index.hpp"

namespace rlhash {

/// How a kNN batch is searched: the linear scan, the multi-index tables, or a per-batch choice.
enum class SearchMethod { scan, mih, automatic };

inline const char* to_string(SearchMethod method) {
  switch (method) {
    case SearchMethod::scan:
      return "scan";
    case SearchMethod::mih:
      return "mih";
    case SearchMethod::automatic:
      return "auto";
  }
  return "?";
}

/// "scan", "mih" or "auto"; anything else is an InvalidArgument naming the accepted values.
inline SearchMethod parse_search_method(const std::string& text) {
  if (text == "scan") return SearchMethod::scan;
  if (text == "mih") return SearchMethod::mih;
  if (text == "auto") return SearchMethod::automatic;
  throw InvalidArgument("search method '" + text + "', expected scan, mih or auto");
}

/// What a planned search did: the method that served most queries, and the pilot's estimate.
struct SearchPlan {
  SearchMethod used = SearchMethod::scan;
  Index pilot_queries = 0;
  double mih_ns_per_query = 0;   // expected multi-index cost from the pilot (auto only)
  double scan_ns_per_query = 0;  // modelled scan cost
  MultiIndexWork work;           // probes and candidates of every query the tables searched
};

namespace detail {

/// Copies rows [first, first + count) of `from` into rows of `into` starting at `at`.
inline void copy_knn_rows(const KnnResult& from, Index first, Index count, KnnResult& into, Index at) {
  const auto k = static_cast<std::ptrdiff_t>(from.k);
  std::copy_n(from.indices.begin() + first * k, count * k, into.indices.begin() + at * k);
  std::copy_n(from.distances.begin() + first * k, count * k, into.distances.begin() + at * k);
}

}  // namespace detail

/// Exact kNN by the given method; `tables` (built for `database`) may be null, and then every
/// method is the scan. The result equals knn_search's whatever the method.
inline KnnResult planned_knn(const CodesView& queries, const CodesView& database, const MultiIndex* tables,
                             Index k, SearchMethod method, int threads = 0, SearchPlan* plan = nullptr,
                             const MihCostModel& costs = MihCostModel()) {
  SearchPlan local;
  SearchPlan& p = plan != nullptr ? *plan : local;
  p = SearchPlan();
  p.scan_ns_per_query = costs.scan_ns(database.size, database.words);
  if (tables == nullptr || tables->empty() || method == SearchMethod::scan) {
    if (method == SearchMethod::mih) throw StateError("multi-index search: no tables were built");
    return knn_search(queries, database, k, threads);
  }
  if (method == SearchMethod::mih) {
    p.used = SearchMethod::mih;
    return tables->knn(queries, database, k, threads, &p.work, 1.0, costs);
  }
  detail::require_query_database(queries, database, "auto search");
  detail::require_k(k);
  const Index planned = std::clamp<Index>(queries.size / 16, std::min<Index>(queries.size, 1), 64);
  const double budget =
      planned == 0 ? 1.0
                   : std::min(1.0, 0.1 * static_cast<double>(queries.size) / static_cast<double>(planned));
  KnnResult result;
  result.queries = queries.size;
  result.k = k;
  result.indices.resize(static_cast<std::size_t>(queries.size * k));
  result.distances.resize(static_cast<std::size_t>(queries.size * k));
  MultiIndexWork work;
  Index pilot = 0;
  std::int64_t overruns = 0;
  // The pilot runs in two halves: when every query of the first half overran its budget, the
  // tables lose to the scan, and the second half would only add to what the pilot wastes.
  for (const Index end : {(planned + 1) / 2, planned}) {
    if (end <= pilot) continue;
    const CodesView part(queries.row(pilot), end - pilot, queries.bits);
    std::vector<char> overran;
    const KnnResult answers = tables->knn(part, database, k, threads, &work, budget, costs, &overran,
                                          /*stop_mid_radius=*/true);
    detail::copy_knn_rows(answers, 0, part.size, result, pilot);
    const auto part_overruns = std::count(overran.begin(), overran.end(), char{1});
    overruns += part_overruns;
    pilot = end;
    if (part_overruns == part.size) break;
  }
  p.pilot_queries = pilot;
  p.mih_ns_per_query = pilot == 0 ? 0
                                  : (costs.mih_ns(work, database.words, tables->offsets_bytes()) +
                                     static_cast<double>(overruns) * p.scan_ns_per_query) /
                                        static_cast<double>(pilot);
  p.used = p.mih_ns_per_query < p.scan_ns_per_query ? SearchMethod::mih : SearchMethod::scan;
  p.work = work;
  if (pilot == queries.size) return result;
  const CodesView rest(queries.row(pilot), queries.size - pilot, queries.bits);
  const KnnResult rest_result = p.used == SearchMethod::mih
                                    ? tables->knn(rest, database, k, threads, &p.work, 1.0, costs)
                                    : knn_search(rest, database, k, threads);
  detail::copy_knn_rows(rest_result, 0, rest.size, result, pilot);
  return result;
}

}  // namespace rlhash
