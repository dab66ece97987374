// rlhash search, encode and metrics with --distributed under mpirun at 1, 2 and 4 ranks: every
// output file byte for byte the single-process one, and every failure one message naming the
// failing rank, with no output file.
#include <catch.hpp>
#include <shell.hpp>
#include <test_util.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "rlhash/codes/code_file.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/io/npy.hpp"

using namespace rlhash;

namespace {

using Outcome = test::Run;

Outcome shell(const std::string& command) { return test::run_shell(command); }

Outcome rlhash_once(const std::string& arguments) { return shell(std::string(RLHASH_CLI_PATH) + " " + arguments); }

Outcome rlhash_on(int ranks, const std::string& arguments) {
  return shell(std::string(RLHASH_MPIRUN) + " -np " + std::to_string(ranks) + " " + RLHASH_CLI_PATH + " " + arguments +
               " --distributed");
}

std::vector<char> bytes(const std::string& path) { return read_file_bytes(path); }

/// Random codes with many repeats, so searches meet ties.
BinaryCodes tied_codes(Index count, int bits, std::uint64_t seed) {
  Rng rng(seed);
  BinaryCodes codes(count, bits);
  for (Index i = 0; i < count; ++i) {
    Rng pick(rng() % 40);  // 40 distinct codes
    for (int w = 0; w < codes.words(); ++w) codes.row(i)[w] = pick();
    codes.row(i)[codes.words() - 1] &= codes.tail_mask();
  }
  return codes;
}

BinaryCodes rows_of(const BinaryCodes& codes, Index begin, Index end) {
  BinaryCodes part(end - begin, codes.bits());
  std::memcpy(part.data(), codes.row(begin), static_cast<std::size_t>((end - begin) * codes.words()) * 8);
  return part;
}

const int rank_counts[] = {1, 2, 4};

/// "<stem><number>.npy", built step by step (GCC 12 misreads the one-expression form as an
/// overlapping copy under -Werror=restrict).
std::string numbered(const char* stem, int number) {
  std::string name = stem;
  name += std::to_string(number);
  name += ".npy";
  return name;
}

/// A failed run that printed exactly one error, containing `needle`.
void require_one_message(const Outcome& run, const std::string& needle) {
  INFO(run.output);
  REQUIRE(run.exit_code != 0);
  const auto first = run.output.find("rlhash: error: ");
  REQUIRE(first != std::string::npos);
  REQUIRE(run.output.find("rlhash: error: ", first + 1) == std::string::npos);
  REQUIRE_THAT(run.output, Catch::Contains(needle));
}

/// Writes `dir`/x.npy (`dims` x `items`, item i of class i % `classes`, `signal` added to the
/// dimensions d with d % classes == its class, plus standard normal noise) and `dir`/y.npy.
std::vector<std::int32_t> write_labelled_features(const test::TempDir& dir, Index dims, Index items, int classes,
                                                  double signal, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF x(dims, items);
  std::vector<std::int32_t> y(static_cast<std::size_t>(items));
  for (Index i = 0; i < items; ++i) {
    y[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i % classes);
    for (Index d = 0; d < dims; ++d)
      x(d, i) = static_cast<float>((d % classes == i % classes ? signal : 0.0) + standard_normal(rng));
  }
  write_npy_matrix(dir.file("x.npy"), x);
  write_npy_vector(dir.file("y.npy"), y);
  return y;
}

/// `text`'s lines that start with `prefix`, without the two timing columns (train and encode
/// seconds, 5th and 6th from the end) of a result table row.
std::vector<std::string> rows_without_timings(const std::string& text, const std::string& prefix) {
  std::vector<std::string> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream words(line);
    std::vector<std::string> tokens;
    for (std::string word; words >> word;) tokens.push_back(word);
    REQUIRE(tokens.size() > 6);
    tokens.erase(tokens.end() - 6, tokens.end() - 4);
    std::string row;
    for (const auto& token : tokens) row += token + " ";
    rows.push_back(row);
  }
  return rows;
}


}  // namespace

TEST_CASE("distributed search writes the single-process files", "[mpi]") {
  test::TempDir dir;
  const int bits = 20;
  const BinaryCodes database = tied_codes(503, bits, 1);
  write_codes(dir.file("db.npy"), database, CodeFormat::packed);
  write_codes(dir.file("q.npy"), tied_codes(29, bits, 2), CodeFormat::packed);
  const auto search = [&](const std::string& db) {
    return "search --database-codes " + db + " --query-codes " + dir.file("q.npy") + " --bits 20 --threads 1 ";
  };
  for (const bool knn : {true, false}) {
    const std::vector<std::string> names = knn ? std::vector<std::string>{"I", "D"} : std::vector<std::string>{"I", "D", "L"};
    const auto outputs = [&](const std::string& tag) {
      std::string text = knn ? "--k 7" : "--radius 6";
      const char* options[] = {" --indices ", " --distances ", " --lims "};
      for (std::size_t j = 0; j < names.size(); ++j) text += options[j] + dir.file(tag + names[j] + ".npy");
      return text;
    };
    const Outcome once = rlhash_once(search(dir.file("db.npy")) + outputs("one"));
    INFO(once.output);
    REQUIRE(once.exit_code == 0);
    for (const int ranks : rank_counts) {
      // One shared file, then one file per rank (uneven sizes).
      Index at = 0;
      for (int r = 0; r < ranks; ++r) {
        const Index end = r + 1 == ranks ? database.size() : at + 60 + 50 * r;
        write_codes(dir.file(numbered("shard", r)), rows_of(database, at, end), CodeFormat::packed);
        at = end;
      }
      // Per-rank files at more than one rank only (at one rank they are the shared file).
      for (const std::string& db : {dir.file("db.npy"), dir.file("shard{rank}.npy")}) {
        if (ranks == 1 && db != dir.file("db.npy")) continue;
        const Outcome run = rlhash_on(ranks, search(db) + outputs("dist"));
        INFO(ranks << " ranks, database " << db << (knn ? ", knn\n" : ", range\n") << run.output);
        REQUIRE(run.exit_code == 0);
        for (const auto& name : names) REQUIRE(bytes(dir.file("dist" + name + ".npy")) == bytes(dir.file("one" + name + ".npy")));
      }
    }
  }
}

TEST_CASE("distributed encode and metrics match one process byte for byte", "[mpi]") {
  test::TempDir dir;
  const std::vector<std::int32_t> y = write_labelled_features(dir, 96, 1000, 5, 2.0, 3);  // 1000 items, 96 dims
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 10 --train-per-class 60 --val-per-class 10 --seed 2";
  for (const std::string method : {"lsh", "drlih"}) {
    const std::string sets = method == "drlih" ? " --set drlih.epochs=1" : "";
    const Outcome trained =
        rlhash_once("train --method " + method + " --bits 24 " + data + sets + " --out " + dir.file(method + ".rlh"));
    INFO(trained.output);
    REQUIRE(trained.exit_code == 0);
    const std::string encode = "encode --model " + dir.file(method + ".rlh") + " --features " + dir.file("x.npy") + " --codes ";
    REQUIRE(rlhash_once(encode + dir.file(method + "-one.npy")).exit_code == 0);
    for (const int ranks : rank_counts) {
      const Outcome run = rlhash_on(ranks, encode + dir.file(method + "-dist.npy"));
      INFO(method << " at " << ranks << " ranks\n" << run.output);
      REQUIRE(run.exit_code == 0);
      REQUIRE(bytes(dir.file(method + "-dist.npy")) == bytes(dir.file(method + "-one.npy")));
    }
  }
  // Metrics of the drlih codes, queries = the first 300 items (5 blocks of 64, uneven at 4 ranks).
  const BinaryCodes codes = read_codes(dir.file("drlih-one.npy"), 24, CodeFormat::packed);
  write_codes(dir.file("queries.npy"), rows_of(codes, 0, 300), CodeFormat::packed);
  write_npy_vector(dir.file("qy.npy"), std::vector<std::int32_t>(y.begin(), y.begin() + 300));
  const std::string metrics = "metrics --database-codes " + dir.file("drlih-one.npy") + " --query-codes " +
                              dir.file("queries.npy") + " --bits 24 --database-labels " + dir.file("y.npy") +
                              " --query-labels " + dir.file("qy.npy") + " --top-k 10,100 --json ";
  const Outcome once = rlhash_once(metrics + dir.file("one.json"));
  REQUIRE(once.exit_code == 0);
  for (const int ranks : rank_counts) {
    const Outcome run = rlhash_on(ranks, metrics + dir.file("dist.json"));
    INFO(ranks << " ranks\n" << run.output);
    REQUIRE(run.exit_code == 0);
    REQUIRE(run.output == once.output);
    REQUIRE(bytes(dir.file("dist.json")) == bytes(dir.file("one.json")));
  }
}

TEST_CASE("a failing rank stops every rank with one message naming it, and no output", "[mpi]") {
  test::TempDir dir;
  write_codes(dir.file("q.npy"), tied_codes(5, 16, 2), CodeFormat::packed);
  const std::string out = " --k 3 --indices " + dir.file("i.npy") + " --distances " + dir.file("d.npy");
  const auto search = [&](const std::string& db) {
    return "search --database-codes " + db + " --query-codes " + dir.file("q.npy") + " --bits 16" + out;
  };
  for (const int ranks : {2, 4}) {
    // The last rank's shard file is missing.
    for (int r = 0; r < ranks - 1; ++r)
      write_codes(dir.file(numbered("s", r)), tied_codes(10, 16, 3), CodeFormat::packed);
    std::filesystem::remove(dir.file(numbered("s", ranks - 1)));
    const std::string last = std::to_string(ranks - 1);
    require_one_message(rlhash_on(ranks, search(dir.file("s{rank}.npy"))), "rank " + last + ": cannot open '" +
                                                                       dir.file(numbered("s", ranks - 1)));
    REQUIRE_FALSE(std::filesystem::exists(dir.file("i.npy")));
    if (ranks == 2) continue;  // the remaining cases once, at 4 ranks
    // A shard of another code length.
    write_codes(dir.file(numbered("s", ranks - 1)), tied_codes(10, 24, 3), CodeFormat::packed);
    require_one_message(rlhash_on(ranks, search(dir.file("s{rank}.npy"))), "rank " + last + ": ");
    // A database smaller than the world.
    write_codes(dir.file("tiny.npy"), tied_codes(1, 16, 3), CodeFormat::packed);
    require_one_message(rlhash_on(ranks, search(dir.file("tiny.npy"))), "expected at least one code per rank");
    // A code file cut short: its size does not match its header.
    write_codes(dir.file("cut.npy"), tied_codes(50, 16, 3), CodeFormat::packed);
    std::filesystem::resize_file(dir.file("cut.npy"), std::filesystem::file_size(dir.file("cut.npy")) - 3);
    require_one_message(rlhash_on(ranks, search(dir.file("cut.npy"))), "cut.npy");
    REQUIRE_FALSE(std::filesystem::exists(dir.file("i.npy")));
  }
  // Ranks started with different options (MPMD): refused, naming rank 1.
  write_codes(dir.file("db.npy"), tied_codes(50, 16, 3), CodeFormat::packed);
  const std::string a = std::string(RLHASH_CLI_PATH) + " " + search(dir.file("db.npy")) + " --distributed";
  std::string b = a;
  b.replace(b.find("--k 3"), 5, "--k 4");
  const Outcome mixed = shell(std::string(RLHASH_MPIRUN) + " -np 1 " + a + " : -np 1 " + b);
  require_one_message(mixed, "rank 1: search options differ from rank 0's");
  REQUIRE_FALSE(std::filesystem::exists(dir.file("i.npy")));
}

TEST_CASE("distributed train and eval: data-parallel networks, split encoding and evaluation", "[mpi]") {
  test::TempDir dir;
  write_labelled_features(dir, 24, 480, 4, 1.5, 5);
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 20 --train-per-class 60 --val-per-class 10 --seed 4 --threads 1";
  const std::string sets = " --set fc-triplet.repr_hidden1=32 --set fc-triplet.repr_hidden2=16 --set fc-triplet.epochs=2";
  const std::string train = "train --method fc-triplet --bits 16 " + data + sets + " --out ";
  REQUIRE(rlhash_once(train + dir.file("one.rlh")).exit_code == 0);
  const std::string encode = "encode --features " + dir.file("x.npy") + " --codes ";
  REQUIRE(rlhash_once(encode + dir.file("one.npy") + " --model " + dir.file("one.rlh")).exit_code == 0);
  for (const int ranks : rank_counts) {
    const Outcome run = rlhash_on(ranks, train + dir.file("dist.rlh") + " --json " + dir.file("train.json"));
    INFO(ranks << " ranks\n" << run.output);
    REQUIRE(run.exit_code == 0);
    REQUIRE_THAT(run.output, Catch::Contains("on " + std::to_string(ranks) + " ranks; wrote"));
    REQUIRE(run.output.find("trained ") == run.output.rfind("trained "));  // rank 0 alone reports
    const std::vector<char> json = bytes(dir.file("train.json"));
    REQUIRE_THAT(std::string(json.begin(), json.end()), Catch::Contains("\"ranks\": " + std::to_string(ranks)));
    // The network equals the one-process network within float rounding: here every code agrees.
    REQUIRE(rlhash_once(encode + dir.file("dist.npy") + " --model " + dir.file("dist.rlh")).exit_code == 0);
    REQUIRE(bytes(dir.file("dist.npy")) == bytes(dir.file("one.npy")));
  }

  // eval of a trained model: codes encoded and queries evaluated across the ranks, every metric
  // the one-process figure.
  const std::string eval = "eval --model " + dir.file("one.rlh") + " " + data + " --map-at 10,50 --precision-at 5";
  const Outcome once = rlhash_once(eval);
  INFO(once.output);
  REQUIRE(once.exit_code == 0);
  const auto expected = rows_without_timings(once.output, "fc-triplet");
  REQUIRE(expected.size() == 1);
  for (const int ranks : rank_counts) {
    const Outcome run = rlhash_on(ranks, eval);
    INFO(ranks << " ranks\n" << run.output);
    REQUIRE(run.exit_code == 0);
    REQUIRE(rows_without_timings(run.output, "fc-triplet") == expected);
  }
  // eval training data-parallel: LSH cannot, and is refused before any work, naming it.
  const Outcome refused = rlhash_on(2, "eval --method lsh,fc-triplet --bits 16 " + data + sets);
  INFO(refused.output);
  REQUIRE(refused.exit_code != 0);
  REQUIRE_THAT(refused.output, Catch::Contains("rank 0: lsh does not train data-parallel"));
  const Outcome trained = rlhash_on(2, "eval --method fc-triplet --bits 16 " + data + sets);
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  REQUIRE(rows_without_timings(trained.output, "fc-triplet").size() == 1);
}

TEST_CASE("distributed train refuses DRLH and mismatched ranks with one message, and no model", "[mpi]") {
  test::TempDir dir;
  write_labelled_features(dir, 8, 60, 3, 0.0, 6);
  const std::string train = "train --bits 8 --features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                            " --queries-per-class 2 --train-per-class 14 --val-per-class 2 --out " + dir.file("m.rlh");
  require_one_message(rlhash_on(2, train + " --method drlh"),
              "rank 0: drlh does not train data-parallel: its deep Q-network learns from a replay memory");
  REQUIRE_FALSE(std::filesystem::exists(dir.file("m.rlh")));
  // Ranks started with different options (MPMD): refused, naming rank 1.
  const std::string a = std::string(RLHASH_CLI_PATH) + " " + train + " --method fc-triplet --distributed";
  std::string b = a;
  b.replace(b.find("--bits 8"), 8, "--bits 9");
  require_one_message(shell(std::string(RLHASH_MPIRUN) + " -np 1 " + a + " : -np 1 " + b), "rank 1: options differ from rank 0's");
  REQUIRE_FALSE(std::filesystem::exists(dir.file("m.rlh")));
}
