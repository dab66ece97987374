// rlhash::mpi against the single-process reference, run under mpirun at 1, 2 and 4 ranks: the
// sharded kNN and range search, the shared output file and the distributed evaluation must be
// bit for bit what one process computes; failures must be agreed and name the failing rank.
#include <catch.hpp>
#include <catch_runner.hpp>
#include <test_util.hpp>

#include "shared_dir.hpp"

#include <cstring>
#include <filesystem>

#include "rlhash/bch/code_families.hpp"
#include "rlhash/dist/distributed_evaluate.hpp"
#include "rlhash/dist/shared_file.hpp"
#include "rlhash/dist/sharded_search.hpp"

using namespace rlhash;
using rlhash::dist::Communicator;

namespace {

/// `count` random codes with many duplicates (few distinct values), so ties are common.
BinaryCodes codes_with_ties(Index count, int bits, std::uint64_t seed) {
  Rng rng(seed);
  const BinaryCodes pool = random_codes(std::max<Index>(1, count / 8), bits, rng);
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i)
    std::memcpy(codes.row(i), pool.row(static_cast<Index>(rng() % static_cast<std::uint64_t>(pool.size()))),
                static_cast<std::size_t>(codes.words()) * 8);
  return codes;
}

/// Writes `codes` on rank 0 and waits until every rank can read them.
void write_on_rank0(const Communicator& comm, const std::string& path, const BinaryCodes& codes) {
  if (comm.rank() == 0) write_codes(path, codes, CodeFormat::packed);
  comm.barrier();
}

template <class T>
void require_rows_equal(const std::vector<T>& owned, const std::vector<T>& whole, Index first_row, Index width) {
  const auto begin = whole.begin() + static_cast<std::ptrdiff_t>(first_row * width);
  REQUIRE(std::equal(owned.begin(), owned.end(), begin, begin + static_cast<std::ptrdiff_t>(owned.size())));
}

}  // namespace

TEST_CASE("sharded kNN equals the single-process search, ties included") {
  const Communicator comm;
  const test::SharedDir dir(comm);
  for (const int bits : {12, 100}) {
    const BinaryCodes database = codes_with_ties(997, bits, 1);
    const BinaryCodes queries = codes_with_ties(37, bits, 2);
    write_on_rank0(comm, dir.file("database.npy"), database);
    const dist::CodeShard shard = dist::read_code_shard(comm, dir.file("database.npy"), bits, CodeFormat::packed);
    REQUIRE(shard.total == database.size());
    for (const Index k : {Index{1}, Index{10}, Index{2000}}) {
      const KnnResult whole = knn_search(queries, database, k, 1);
      const dist::OwnedKnn owned = dist::sharded_knn_search(comm, queries, shard, k, 1);
      REQUIRE(owned.first_query == dist::shard_rows(queries.size(), comm.size(), comm.rank()).begin);
      require_rows_equal(owned.result.indices, whole.indices, owned.first_query, k);
      require_rows_equal(owned.result.distances, whole.distances, owned.first_query, k);
    }
  }
}

TEST_CASE("sharded range search equals the single-process search; per-rank shard files") {
  const Communicator comm;
  const test::SharedDir dir(comm);
  const int bits = 16;
  const BinaryCodes database = codes_with_ties(601, bits, 3);
  const BinaryCodes queries = codes_with_ties(23, bits, 4);
  // Uneven per-rank files: rank r holds 100 + 37 r codes of the database, in rank order.
  Index at = 0;
  for (int r = 0; r < comm.size(); ++r) {
    const Index size = r + 1 == comm.size() ? database.size() - at : 100 + 37 * r;
    BinaryCodes part(size, bits);
    std::memcpy(part.data(), database.row(at), static_cast<std::size_t>(size * database.words()) * 8);
    if (comm.rank() == 0) write_codes(dir.file("shard" + std::to_string(r) + ".npy"), part, CodeFormat::packed);
    at += size;
  }
  comm.barrier();
  const dist::CodeShard shard = dist::read_code_shard(comm, dir.file("shard{rank}.npy"), bits, CodeFormat::packed);
  REQUIRE(shard.total == database.size());
  REQUIRE(shard.offset == (comm.rank() == 0 ? 0 : 100 * comm.rank() + 37 * (comm.rank() - 1) * comm.rank() / 2));
  for (const int radius : {0, 3, 16}) {
    const RangeResult whole = range_search(queries, database, radius, 1);
    const dist::OwnedRange owned = dist::sharded_range_search(comm, queries, shard, radius, 1);
    const auto first = static_cast<std::size_t>(owned.first_query);
    for (Index q = 0; q < owned.result.queries; ++q) {
      const auto w0 = whole.lims[first + static_cast<std::size_t>(q)];
      REQUIRE(owned.result.count(q) == whole.count(owned.first_query + q));
      for (Index j = 0; j < owned.result.count(q); ++j) {
        const auto o = static_cast<std::size_t>(owned.result.lims[static_cast<std::size_t>(q)] + j);
        REQUIRE(owned.result.indices[o] == whole.indices[static_cast<std::size_t>(w0 + j)]);
        REQUIRE(owned.result.distances[o] == whole.distances[static_cast<std::size_t>(w0 + j)]);
      }
    }
  }
}

TEST_CASE("a shared file is byte-identical to the single-process .npy, and all-or-nothing") {
  const Communicator comm;
  const test::SharedDir dir(comm);
  const BinaryCodes codes = codes_with_ties(203, 24, 5);
  const NdArray array = codes_to_array(codes, CodeFormat::packed);
  const dist::RowRange mine = dist::shard_rows(codes.size(), comm.size(), comm.rank());
  const std::size_t row_bytes = 3;
  dist::write_shared_file(comm, dir.file("out.npy"), npy_header("|u1", {codes.size(), 3}),
                          static_cast<std::uint64_t>(mine.begin) * row_bytes,
                          array.bytes() + static_cast<std::size_t>(mine.begin) * row_bytes,
                          static_cast<std::size_t>(mine.size()) * row_bytes);
  const std::vector<char> expected = npy_bytes("|u1", {codes.size(), 3}, array.bytes());
  REQUIRE(read_file_bytes(dir.file("out.npy")) == expected);

  // A folder that does not exist: every rank gets the same error and nothing is left behind.
  REQUIRE_THROWS_AS(dist::write_shared_file(comm, dir.file("missing/out.npy"), "header", 0, nullptr, 0),
                    dist::DistributedError);
  REQUIRE_FALSE(std::filesystem::exists(dir.file("missing")));
}

TEST_CASE("distributed evaluation is bit for bit the single-process report") {
  const Communicator comm;
  const int bits = 16;
  const BinaryCodes database = codes_with_ties(900, bits, 6);
  const BinaryCodes queries = codes_with_ties(300, bits, 7);  // 5 blocks of 64 queries
  Rng rng(8);
  std::vector<std::int32_t> database_ids(900), query_ids(300);
  for (auto& id : database_ids) id = static_cast<std::int32_t>(rng() % 7);
  for (auto& id : query_ids) id = static_cast<std::int32_t>(rng() % 7);
  const Labels database_labels = Labels::from_class_ids(database_ids, 7);
  const Labels query_labels = Labels::from_class_ids(query_ids, 7);
  EvalOptions options;
  options.map_at = {10, 100};
  options.precision_at = {5, 50};
  const EvalReport whole = evaluate(queries, database, query_labels, database_labels, options);
  const EvalReport split = dist::distributed_evaluate(comm, queries, database, query_labels, database_labels, options);
  const auto same = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  REQUIRE(same(split.map, whole.map));
  REQUIRE(same(split.map_tie_aware, whole.map_tie_aware));
  REQUIRE(same(split.precision_radius, whole.precision_radius));
  REQUIRE(split.empty_radius == whole.empty_radius);
  for (const auto& [k, value] : whole.map_at) REQUIRE(same(split.map_at.at(k), value));
  for (const auto& [k, value] : whole.precision_at) REQUIRE(same(split.precision_at.at(k), value));
  for (const auto& [k, value] : whole.ndcg_at) REQUIRE(same(split.ndcg_at.at(k), value));
  REQUIRE(split.pr.size() == whole.pr.size());
  for (std::size_t d = 0; d < whole.pr.size(); ++d) {
    REQUIRE(same(split.pr[d].precision, whole.pr[d].precision));
    REQUIRE(same(split.pr[d].recall, whole.pr[d].recall));
  }
}

TEST_CASE("a failure on one rank is raised on every rank, naming that rank") {
  const Communicator comm;
  const test::SharedDir dir(comm);
  const int last = comm.size() - 1;
  // The last rank's shard file is missing.
  for (int r = 0; r < last; ++r)
    if (comm.rank() == 0) write_codes(dir.file("part" + std::to_string(r) + ".npy"), codes_with_ties(10, 8, 9), CodeFormat::packed);
  comm.barrier();
  try {
    dist::read_code_shard(comm, dir.file("part{rank}.npy"), 8, CodeFormat::packed);
    FAIL("no error");
  } catch (const dist::DistributedError& e) {
    REQUIRE(e.rank() == last);
    REQUIRE(std::string(e.what()).find("part" + std::to_string(last) + ".npy") != std::string::npos);
  }
  // A code file of the wrong size for its header.
  if (comm.rank() == 0) {
    write_codes(dir.file("short.npy"), codes_with_ties(10, 8, 9), CodeFormat::packed);
    std::filesystem::resize_file(dir.file("short.npy"), std::filesystem::file_size(dir.file("short.npy")) - 1);
  }
  comm.barrier();
  REQUIRE_THROWS_AS(dist::read_code_shard(comm, dir.file("short.npy"), 8, CodeFormat::packed), dist::DistributedError);
  // More ranks than codes.
  if (comm.rank() == 0) write_codes(dir.file("tiny.npy"), codes_with_ties(comm.size() - 1, 8, 9), CodeFormat::packed);
  comm.barrier();
  REQUIRE_THROWS_WITH(dist::read_code_shard(comm, dir.file("tiny.npy"), 8, CodeFormat::packed),
                      Catch::Matchers::Contains("expected at least one code per rank"));
  // Ranks that disagree on an option: the last rank is named (when there is more than one).
  try {
    dist::require_same_on_all_ranks(comm, comm.rank() == last && last > 0 ? "--k 5" : "--k 10", "options");
    REQUIRE(last == 0);
  } catch (const dist::DistributedError& e) {
    REQUIRE(e.rank() == last);
  }
}

TEST_CASE("row shards tile the rows, aligned where asked") {
  for (const int ranks : {1, 2, 3, 4, 7})
    for (const Index rows : {Index{0}, Index{1}, Index{63}, Index{64}, Index{65}, Index{1000}})
      for (const Index align : {Index{1}, Index{64}}) {
        Index next = 0;
        for (int r = 0; r < ranks; ++r) {
          const dist::RowRange range = dist::shard_rows(rows, ranks, r, align);
          REQUIRE(range.begin == next);
          REQUIRE(range.begin % align == 0);
          REQUIRE(range.end >= range.begin);
          next = range.end;
        }
        REQUIRE(next == rows);
      }
  REQUIRE(dist::shard_rows(10, 4, 0).size() == 2);
  REQUIRE(dist::shard_rows(10, 4, 3).size() == 3);
}

int main(int argc, char** argv) {
  const dist::Environment mpi(&argc, &argv);
  return test::run_catch(argc, argv);
}
