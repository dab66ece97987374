// The tests/bad-inputs corpus: crafted files and arguments, each with the exact error the rlhash
// tool must print. Every case runs in an empty folder (the corpus linked in as "in/") and must
// exit with the stated status, print exactly the stated line and leave no file behind.
#include <catch.hpp>
#include <test_util.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

struct Case {
  int line = 0;
  int exit_code = 0;
  std::string command, expected;
};

/// cases.tsv: "exit-status <TAB> arguments <TAB> expected output"; '#' starts a comment line.
std::vector<Case> read_cases(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  std::vector<Case> cases;
  std::string text;
  for (int line = 1; std::getline(in, text); ++line) {
    if (text.empty() || text[0] == '#') continue;
    const auto tab1 = text.find('\t');
    const auto tab2 = text.find('\t', tab1 + 1);
    REQUIRE(tab2 != std::string::npos);
    cases.push_back({line, std::stoi(text.substr(0, tab1)), text.substr(tab1 + 1, tab2 - tab1 - 1),
                     text.substr(tab2 + 1)});
  }
  return cases;
}

struct Result {
  int exit_code;
  std::string output;
};

Result run_in(const std::filesystem::path& folder, const std::string& arguments) {
  const std::string command =
      "cd '" + folder.string() + "' && " + std::string(RLHASH_CLI_PATH) + " " + arguments + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = ::pclose(pipe);
  while (!output.empty() && output.back() == '\n') output.pop_back();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), output};
}

}  // namespace

TEST_CASE("bad inputs: every crafted file and argument gets its exact one-line error", "[cli][bad-inputs]") {
  const std::string corpus = RLHASH_BAD_INPUTS_DIR;
  const auto cases = read_cases(corpus + "/cases.tsv");
  CHECK(cases.size() >= 40);
  for (const Case& c : cases) {
    rlhash::test::TempDir dir;
    std::filesystem::create_directory_symlink(corpus, dir.path() / "in");
    const Result result = run_in(dir.path(), c.command);
    INFO("cases.tsv line " << c.line << ": rlhash " << c.command);
    CHECK(result.exit_code == c.exit_code);
    CHECK(result.output == c.expected);
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
      if (entry.path().filename() != "in") left.push_back(entry.path().filename().string());
    CHECK(left.empty());
  }
}

namespace {
std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
const std::string small_data =
    " --features in/feat_ok.npy --labels in/labels_ok.npy --queries-per-class 2 --train-per-class 8"
    " --val-per-class 2";
}  // namespace

TEST_CASE("train: diverged training writes no model and says how to fix it", "[cli][bad-inputs]") {
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  const Result r = run_in(dir.path(),
                          "train --method fc-triplet --bits 8 --set fc-triplet.learning_rate=1e30 "
                          "--set fc-triplet.epochs=3 --set fc-triplet.max_grad_norm=0 --out m.rlh" +
                              small_data);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains("rlhash: error: training diverged in epoch") &&
                           Catch::Contains("lower the learning rate"));
  CHECK_FALSE(std::filesystem::exists(dir.path() / "m.rlh"));
}

TEST_CASE("train: --resume refuses a checkpoint of other data", "[cli][bad-inputs]") {
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  const std::string train =
      "train --method fc-triplet --bits 8 --set fc-triplet.epochs=1 --checkpoint-every 1 "
      "--out m.rlh --resume";
  const Result first = run_in(dir.path(), train + small_data + " --seed 1");
  REQUIRE(first.exit_code == 0);
  REQUIRE(std::filesystem::exists(dir.path() / "m.rlh.ckpt"));
  // The same data and settings resume; another split of the data (another seed) does not.
  CHECK(run_in(dir.path(), train + small_data + " --seed 1").exit_code == 0);
  const Result other = run_in(dir.path(), train + small_data + " --seed 2");
  CHECK(other.exit_code == 1);
  CHECK_THAT(other.output, Catch::Contains("'m.rlh.ckpt' was written for other training data"));
}

TEST_CASE("train and encode --json write what they did", "[cli]") {
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  REQUIRE(
      run_in(dir.path(), "train --method lsh --bits 16 --out m.rlh --json t.json" + small_data).exit_code ==
      0);
  const std::string train = read_text(dir.path() / "t.json");
  for (const char* key : {"\"command\": \"train\"", "\"method\": \"lsh\"", "\"bits\": 16", "\"model_bytes\"",
                          "\"train_seconds\"", "\"config\""})
    CHECK_THAT(train, Catch::Contains(key));
  REQUIRE(run_in(dir.path(), "encode --model m.rlh --features in/feat_ok.npy --codes c.npy --json e.json")
              .exit_code == 0);
  const std::string encode = read_text(dir.path() / "e.json");
  for (const char* key :
       {"\"command\": \"encode\"", "\"items\": 40", "\"bits\": 16", "\"codes_bytes\"", "\"encode_seconds\""})
    CHECK_THAT(encode, Catch::Contains(key));
}
