// The tests/bad-inputs corpus: crafted files and arguments, each with the exact error the rlhash
// tool must print. Every case runs in an empty folder (the corpus linked in as "in/") and must
// exit with the stated status, print exactly the stated line and leave no file behind.
#include <catch.hpp>
#include <test_util.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "rlhash/io/npy.hpp"

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

/// Runs the tool in `folder`; `shell_prefix` (e.g. "ulimit -v 1000 && ") runs before it.
Result run_in(const std::filesystem::path& folder, const std::string& arguments,
              const std::string& shell_prefix = "") {
  const std::string command = "cd '" + folder.string() + "' && " + shell_prefix + std::string(RLHASH_CLI_PATH) +
                              " " + arguments + " 2>&1";
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
  const std::string method = GENERATE(as<std::string>{}, "fc-triplet", "drlh");  // the shared trainer, DRLH's own loop
  INFO("--method " << method);
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  const std::string train = "train --method " + method + " --bits 8 --set " + method +
                            ".epochs=1 --checkpoint-every 1 --out m.rlh --resume";
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

// An allocation the system refuses names what sized it. The tool runs under a 4 GiB address-space
// limit (ulimit -v), so the refusal is certain on any machine and no memory is touched. Address
// sanitizer cannot run under such a limit (test_util.hpp).
#ifndef RLHASH_TEST_UNDER_ASAN
namespace {
Result run_limited(const std::filesystem::path& folder, const std::string& arguments) {
  return run_in(folder, arguments, "ulimit -v 4194304 && ");
}
}  // namespace

TEST_CASE("an allocation the system refuses names the option and the bytes asked for", "[cli][bad-inputs]") {
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  SECTION("a config field of the method") {
    const Result r = run_limited(
        dir.path(), "train --method drlh --bits 8 --set drlh.replay_size=2000000000 --out m.rlh" + small_data);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::StartsWith("rlhash: error: --method drlh --bits 8: drlh.replay_size = 2000000000 "
                                           "transitions: cannot allocate ") &&
                             Catch::Contains(" bytes ("));
  }
  SECTION("search --k") {
    // 200000 queries x k = 200000 results of 12 bytes: 480 GB.
    const std::vector<std::uint8_t> codes(200000, 7);
    rlhash::write_npy((dir.path() / "codes.npy").string(), codes.data(), {200000, 1});
    const Result r = run_limited(dir.path(),
                                 "search --database-codes codes.npy --query-codes codes.npy --bits 8 --k 200000 "
                                 "--index scan --indices i.npy --distances d.npy");
    CHECK(r.exit_code == 1);
    CHECK(r.output ==
          "rlhash: error: --k 200000 with 200000 queries: knn_search: 200000 queries x k = 200000 results: "
          "cannot allocate 480000000000 bytes (447.035 GiB)");
    std::filesystem::remove(dir.path() / "codes.npy");
  }
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().filename() != "in") left.push_back(entry.path().filename().string());
  CHECK(left.empty());
}
#endif

TEST_CASE("eval and encode read the model before the data and check its dimension first", "[cli][bad-inputs]") {
  rlhash::test::TempDir dir;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  REQUIRE(run_in(dir.path(), "train --method lsh --bits 8 --out m.rlh" + small_data).exit_code == 0);
  // 10^6 items of 8 dimensions declared by the header, the data a hole: refused from the header.
  const std::vector<float> row(8, 0.5f);
  rlhash::write_npy((dir.path() / "wide.npy").string(), row.data(), {1, 8});
  const auto header_bytes = std::filesystem::file_size(dir.path() / "wide.npy") - 8 * sizeof(float);
  {
    std::fstream file(dir.path() / "wide.npy", std::ios::in | std::ios::out | std::ios::binary);
    std::string header(header_bytes, '\0');
    file.read(header.data(), static_cast<std::streamsize>(header.size()));
    const auto at = header.find("(1, 8)");
    REQUIRE(at != std::string::npos);
    header.replace(at, 6, "(1000000, 8)");
    header.erase(header.find("  "), 6);  // keep the header's length (its padding shrinks)
    file.seekp(0);
    file.write(header.data(), static_cast<std::streamsize>(header.size()));
  }
  std::filesystem::resize_file(dir.path() / "wide.npy", header_bytes + 1000000 * 8 * sizeof(float));
  const std::string expected =
      "rlhash: error: --features 'wide.npy' holds features of 8 dimensions; --model 'm.rlh' was trained on 4";
  const Result eval = run_in(dir.path(), "eval --model m.rlh --features wide.npy --labels in/labels_ok.npy");
  CHECK(eval.exit_code == 1);
  CHECK(eval.output == expected);
  const Result encode = run_in(dir.path(), "encode --model m.rlh --features wide.npy --codes c.npy");
  CHECK(encode.exit_code == 1);
  CHECK(encode.output == expected);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "c.npy"));
}

TEST_CASE("SIGINT stops a training run: one line, no model, no temporary file", "[cli][bad-inputs]") {
  rlhash::test::TempDir dir, logs;
  std::filesystem::create_directory_symlink(RLHASH_BAD_INPUTS_DIR, dir.path() / "in");
  const std::string err = (logs.path() / "stderr.txt").string();
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // the tool, in the folder, its stderr to a file outside it
    const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ::dup2(fd, STDERR_FILENO) < 0 || ::chdir(dir.path().c_str()) != 0) ::_exit(127);
    ::execl(RLHASH_CLI_PATH, "rlhash", "train", "--method", "fc-triplet", "--bits", "8", "--set",
            "fc-triplet.epochs=1000000", "--checkpoint-every", "1", "--out", "m.rlh", "--features",
            "in/feat_ok.npy", "--labels", "in/labels_ok.npy", "--queries-per-class", "2", "--train-per-class",
            "8", "--val-per-class", "2", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Interrupt once training runs (its first checkpoint is written), while it writes checkpoints.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(dir.path() / "m.rlh.ckpt") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ::kill(child, SIGINT);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGINT));
  CHECK(read_text(err) == "rlhash: interrupted; files being written were removed\n");
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    if (entry.path().filename() != "in") left.push_back(entry.path().filename().string());
  CHECK(left == std::vector<std::string>{"m.rlh.ckpt"});  // complete: written atomically; no model
}
