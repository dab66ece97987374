#include <catch.hpp>
#include <shell.hpp>
#include <test_util.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "rlhash/codes/code_file.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/random.hpp"
#include "rlhash/io/npy.hpp"

using namespace rlhash;

namespace {

using test::Run;

/// Runs the rlhash tool with `arguments`, capturing stdout and stderr together.
Run run_cli(const std::string& arguments) {
  return test::run_shell(std::string(RLHASH_CLI_PATH) + " " + arguments);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Two well-separated Gaussian blobs per class in 8 dimensions, written as [N, D] float32 + int32 labels.
void write_blobs(const test::TempDir& dir, Index n, int classes, std::uint64_t seed) {
  Rng rng(seed);
  MatrixF x(8, n);
  std::vector<std::int32_t> y(static_cast<std::size_t>(n));
  for (Index i = 0; i < n; ++i) {
    const int c = static_cast<int>(i % classes);
    y[static_cast<std::size_t>(i)] = c;
    for (Index d = 0; d < 8; ++d) x(d, i) = static_cast<float>((d == c ? 6.0 : 0.0) + standard_normal(rng));
  }
  write_npy_matrix(dir.file("x.npy"), x);
  write_npy_vector(dir.file("y.npy"), y);
}

}  // namespace

TEST_CASE("rlhash --help lists the subcommands; bad flags fail with one line", "[cli]") {
  const Run help = run_cli("--help");
  CHECK(help.exit_code == 0);
  for (const char* command : {"eval", "train", "encode", "search", "metrics"})
    CHECK_THAT(help.output, Catch::Contains(command));
  const Run version = run_cli("--version");
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.output, Catch::Contains("SIMD path"));

  const Run bad = run_cli("eval --no-such-flag");
  CHECK(bad.exit_code != 0);
  CHECK(std::count(bad.output.begin(), bad.output.end(), '\n') == 1);
  CHECK_THAT(bad.output, Catch::Contains("--no-such-flag"));

  const Run unknown_method = run_cli("eval --method nope --features x.npy --labels y.npy");
  CHECK(unknown_method.exit_code != 0);
  CHECK_THAT(unknown_method.output, Catch::Contains("known methods"));
}

TEST_CASE("train, encode, search and metrics round-trip and agree with eval", "[cli]") {
  test::TempDir dir;
  write_blobs(dir, 600, 4, 3);
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 10 --train-per-class 60 --val-per-class 10 --seed 2";
  const Run eval = run_cli("eval --method lsh --bits 16,24 " + data + " --json " + dir.file("eval.json"));
  INFO(eval.output);
  REQUIRE(eval.exit_code == 0);
  const std::string json = read_text(dir.file("eval.json"));
  CHECK_THAT(json, Catch::Contains("\"protocol\""));
  CHECK_THAT(json, Catch::Contains("\"map_tie_aware\""));
  CHECK_THAT(json, Catch::Contains("\"precision_radius2\""));

  const Run train = run_cli("train --method lsh --bits 24 " + data + " --out " + dir.file("m.rlh"));
  INFO(train.output);
  REQUIRE(train.exit_code == 0);
  // A trained model evaluated on the same split scores exactly what eval's own training did.
  const Run model_eval =
      run_cli("eval --model " + dir.file("m.rlh") + " " + data + " --json " + dir.file("me.json"));
  INFO(model_eval.output);
  REQUIRE(model_eval.exit_code == 0);
  const std::string model_json = read_text(dir.file("me.json"));
  const auto map_of = [](const std::string& text, const std::string& row) {
    const auto at = text.find(row);
    return at == std::string::npos ? std::string() : text.substr(text.find("\"map\"", at), 24);
  };
  CHECK(map_of(model_json, "\"bits\": 24") == map_of(json, "\"bits\": 24"));
  CHECK_FALSE(map_of(json, "\"bits\": 24").empty());
  const Run model_with_bits = run_cli("eval --model " + dir.file("m.rlh") + " --bits 16 " + data);
  CHECK(model_with_bits.exit_code != 0);
  CHECK_THAT(model_with_bits.output, Catch::Contains("--bits"));
  const Run other_method = run_cli("eval --model " + dir.file("m.rlh") + " " + data + " --set itq.seed=1");
  CHECK(other_method.exit_code != 0);
  CHECK_THAT(other_method.output, Catch::Contains("lsh model"));

  const Run encode = run_cli("encode --model " + dir.file("m.rlh") + " --features " + dir.file("x.npy") +
                             " --codes " + dir.file("codes.npy"));
  INFO(encode.output);
  REQUIRE(encode.exit_code == 0);
  const BinaryCodes codes = read_codes(dir.file("codes.npy"), 24, CodeFormat::packed);
  CHECK(codes.size() == 600);

  const Run search = run_cli("search --database-codes " + dir.file("codes.npy") + " --query-codes " +
                             dir.file("codes.npy") + " --bits 24 --k 3 --indices " + dir.file("i.npy") +
                             " --distances " + dir.file("d.npy") + " --json " + dir.file("s.json"));
  INFO(search.output);
  REQUIRE(search.exit_code == 0);
  const auto indices = read_npy(dir.file("i.npy")).to_vector<std::int64_t>();
  const auto distances = read_npy(dir.file("d.npy")).to_vector<std::int32_t>();
  REQUIRE(indices.size() == 1800);
  for (std::size_t q = 0; q < 600; ++q) CHECK(distances[3 * q] == 0);  // each code finds an equal code first
  CHECK_THAT(read_text(dir.file("s.json")), Catch::Contains("search_seconds"));
  CHECK_THAT(read_text(dir.file("s.json")), Catch::Contains("\"search_cpu_seconds\": "));

  const Run range = run_cli("search --database-codes " + dir.file("codes.npy") + " --query-codes " +
                            dir.file("codes.npy") + " --bits 24 --radius 1 --indices " + dir.file("ri.npy") +
                            " --distances " + dir.file("rd.npy") + " --lims " + dir.file("rl.npy"));
  REQUIRE(range.exit_code == 0);
  CHECK(read_npy_vector<std::int64_t>(dir.file("rl.npy")).size() == 601);

  const Run metrics = run_cli("metrics --database-codes " + dir.file("codes.npy") + " --query-codes " +
                              dir.file("codes.npy") + " --bits 24 --database-labels " + dir.file("y.npy") +
                              " --query-labels " + dir.file("y.npy") + " --json " + dir.file("m.json"));
  INFO(metrics.output);
  REQUIRE(metrics.exit_code == 0);
  CHECK_THAT(read_text(dir.file("m.json")), Catch::Contains("\"map\""));

  const Run wrong_bits = run_cli("metrics --database-codes " + dir.file("codes.npy") + " --query-codes " +
                                 dir.file("codes.npy") + " --bits 32 --database-labels " + dir.file("y.npy") +
                                 " --query-labels " + dir.file("y.npy"));
  CHECK(wrong_bits.exit_code != 0);
  CHECK_THAT(wrong_bits.output, Catch::Contains("codes.npy"));
}

TEST_CASE("--set reaches a method's fields and rejects unknown ones", "[cli]") {
  test::TempDir dir;
  write_blobs(dir, 200, 2, 1);
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 5 --train-per-class 30 --val-per-class 5";
  const Run bad = run_cli("eval --method lsh --bits 8 " + data + " --set lsh.sed=3");
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.output, Catch::Contains("valid fields: bits, seed"));
  const Run good = run_cli("eval --method lsh --bits 8 " + data + " --set lsh.seed=3");
  CHECK(good.exit_code == 0);
  const Run missing =
      run_cli("eval --method lsh --features " + dir.file("none.npy") + " --labels " + dir.file("y.npy"));
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.output, Catch::Contains("none.npy"));
}

namespace {

/// A --device cuda run that could not use a GPU says why, naming the option: the tool was built
/// without CUDA, or the machine has no CUDA device.
void check_refused_device(const Run& run) {
  INFO(run.output);
  CHECK(run.exit_code == 1);
  CHECK_THAT(run.output, Catch::Contains("--device cuda: "));
  const bool no_device = run.output.find("no CUDA device is available") != std::string::npos;
  const bool no_cuda = run.output.find("built without CUDA") != std::string::npos;
  CHECK((no_device || no_cuda));
}

}  // namespace

TEST_CASE("--device cuda searches and trains on a GPU with the CPU's results, or says why it cannot",
          "[cli][cuda]") {
  test::TempDir dir;
  write_blobs(dir, 400, 4, 5);
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 10 --train-per-class 40 --val-per-class 10";
  const Run bad = run_cli(
      "search --database-codes c.npy --query-codes c.npy --bits 8 --k 1 --indices i.npy "
      "--distances d.npy --device gpu");
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.output, Catch::Contains("--device 'gpu': expected cpu, cuda or cuda:N"));

  REQUIRE(run_cli("train --method lsh --bits 24 " + data + " --out " + dir.file("m.rlh")).exit_code == 0);
  REQUIRE(run_cli("encode --model " + dir.file("m.rlh") + " --features " + dir.file("x.npy") + " --codes " +
                  dir.file("codes.npy"))
              .exit_code == 0);
  const auto search = [&](const std::string& mode, const std::string& device, const std::string& tag) {
    return run_cli("search --database-codes " + dir.file("codes.npy") + " --query-codes " +
                   dir.file("codes.npy") + " --bits 24 " + mode + " --indices " + dir.file(tag + "i.npy") +
                   " --distances " + dir.file(tag + "d.npy") + " --lims " + dir.file(tag + "l.npy") +
                   " --device " + device);
  };
  for (const std::string mode : {"--k 5", "--radius 3"}) {
    REQUIRE(search(mode, "cpu", "cpu").exit_code == 0);
    const Run gpu = search(mode, "cuda", "gpu");
    if (gpu.exit_code != 0) {
      check_refused_device(gpu);
      continue;
    }
    // The GPU index's results are the CPU's, tie order included, byte for byte.
    for (const std::string file : {"i.npy", "d.npy", "l.npy"})
      CHECK(read_text(dir.file("gpu" + file)) == read_text(dir.file("cpu" + file)));
  }

  const Run encoded = run_cli("encode --model " + dir.file("m.rlh") + " --features " + dir.file("x.npy") +
                              " --codes " + dir.file("gpucodes.npy") + " --device cuda");
  if (encoded.exit_code != 0) return check_refused_device(encoded);
  // LSH has no CUDA path: the host encodes, and says so.
  CHECK_THAT(encoded.output, Catch::Contains("lsh has no CUDA path; it trains and encodes on the host"));
  CHECK(read_text(dir.file("gpucodes.npy")) == read_text(dir.file("codes.npy")));

  const Run trained = run_cli("train --method drlih --bits 12 " + data + " --set drlih.epochs=2 --out " +
                              dir.file("d.rlh") + " --device cuda");
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  CHECK_THAT(trained.output, Catch::Contains("device: CUDA device 0"));
  for (const std::string device : {"cpu", "cuda"}) {
    const Run model = run_cli("eval --model " + dir.file("d.rlh") + " " + data + " --device " + device);
    INFO(model.output);
    CHECK(model.exit_code == 0);
    CHECK_THAT(model.output, Catch::Contains("drlih"));
  }
}

TEST_CASE("search --index scan|mih|auto and index build|add|search agree with the scan", "[cli][mih]") {
  test::TempDir dir;
  Rng rng(2230);
  BinaryCodes database(3000, 40), queries(20, 40);
  for (BinaryCodes* codes : {&database, &queries})
    for (Index i = 0; i < codes->size(); ++i) codes->row(i)[0] = rng() & codes->tail_mask();
  write_codes(dir.file("db.npy"), database, CodeFormat::packed);
  write_codes(dir.file("q.npy"), queries, CodeFormat::packed);
  const std::string outputs = " --indices " + dir.file("i.npy") + " --distances " + dir.file("d.npy");
  const auto knn_files = [&] {
    return std::make_pair(read_npy(dir.file("i.npy")).to_vector<std::int64_t>(),
                          read_npy(dir.file("d.npy")).to_vector<std::int32_t>());
  };
  const std::string search = "search --database-codes " + dir.file("db.npy") + " --query-codes " +
                             dir.file("q.npy") + " --bits 40 --k 7" + outputs;
  REQUIRE(run_cli(search + " --index scan").exit_code == 0);
  const auto scan = knn_files();
  for (const char* method : {"mih", "auto"}) {
    const Run run = run_cli(search + " --index " + method);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(knn_files() == scan);
  }
  CHECK_THAT(run_cli(search + " --index mih").output, Catch::Contains("built") && Catch::Contains("mih"));
  CHECK(run_cli(search + " --index hnsw").exit_code != 0);

  const std::string file = " --file " + dir.file("x.rlhi");
  REQUIRE(run_cli("index build" + file + " --bits 40 --codes " + dir.file("db.npy")).exit_code == 0);
  const std::string index_search =
      "index search" + file + " --query-codes " + dir.file("q.npy") + " --k 7" + outputs;
  for (const char* method : {"scan", "mih", "auto"}) {
    const Run run = run_cli(index_search + " --index " + method);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(knn_files() == scan);
  }
  // Adding the queries themselves: each now finds its own copy (id 3000 + q) at distance 0.
  REQUIRE(run_cli("index add" + file + " --codes " + dir.file("q.npy")).exit_code == 0);
  REQUIRE(run_cli(index_search + " --index mih").exit_code == 0);
  const auto [ids, distances] = knn_files();
  for (std::size_t q = 0; q < 20; ++q) {
    CHECK(distances[7 * q] == 0);
    CHECK(ids[7 * q] == static_cast<std::int64_t>(3000 + q));
  }
  // Refusals: a truncated file (named), tables asked of an index without them, other code widths.
  const std::vector<char> bytes = read_file_bytes(dir.file("x.rlhi"));
  std::ofstream(dir.file("cut.rlhi"), std::ios::binary).write(bytes.data(), 1000);
  const Run cut = run_cli("index search --file " + dir.file("cut.rlhi") + " --query-codes " +
                          dir.file("q.npy") + " --k 7" + outputs);
  CHECK(cut.exit_code == 1);
  CHECK_THAT(cut.output, Catch::Contains("cut.rlhi"));
  REQUIRE(run_cli("index build --no-tables --file " + dir.file("plain.rlhi") + " --bits 40 --codes " +
                  dir.file("db.npy"))
              .exit_code == 0);
  const Run no_tables = run_cli("index search --file " + dir.file("plain.rlhi") + " --query-codes " +
                                dir.file("q.npy") + " --k 7 --index mih" + outputs);
  CHECK(no_tables.exit_code == 1);
  CHECK_THAT(no_tables.output, Catch::Contains("no tables"));
  BinaryCodes wide(3, 72);
  write_codes(dir.file("wide.npy"), wide, CodeFormat::packed);
  const Run wrong_width =
      run_cli("index search" + file + " --query-codes " + dir.file("wide.npy") + " --k 7" + outputs);
  CHECK(wrong_width.exit_code == 1);
}

TEST_CASE("eval reports code health and every config field; --val-per-class 0 trains every method; info",
          "[cli]") {
  test::TempDir dir;
  write_blobs(dir, 240, 4, 5);
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 10 --train-per-class 40 --val-per-class 0";
  // Every method with a network, one epoch, on all training items (no validation carve).
  std::string sets;
  for (const char* method : {"drlih", "drlih-ng", "fc-triplet", "dph", "drlh", "bch-classifier"})
    sets += std::string(" --set ") + method + ".epochs=1";
  const Run eval = run_cli("eval --method lsh,drlih,drlih-ng,fc-triplet,dph,drlh,bch-classifier --bits 8 " +
                           data + sets + " --json " + dir.file("e.json"));
  INFO(eval.output);
  REQUIRE(eval.exit_code == 0);
  CHECK_THAT(eval.output, Catch::Contains("0 validation"));
  CHECK_THAT(eval.output, Catch::Contains("distinct"));
  const std::string json = read_text(dir.file("e.json"));
  for (const char* key :
       {"\"distinct_codes\"", "\"constant_bits\"", "\"mean_bit_balance\"", "\"max_abs_bit_correlation\"",
        "\"config\": {", "\"policy_samples\": 4", "\"per_step_heads\": true", "\"baseline\": \"batch_mean\""})
    CHECK_THAT(json, Catch::Contains(key));

  const Run train = run_cli("train --method fc-triplet --bits 8 --set fc-triplet.epochs=1 " + data +
                            " --out " + dir.file("m.rlh"));
  INFO(train.output);
  REQUIRE(train.exit_code == 0);
  const Run info = run_cli("info " + dir.file("m.rlh") + " --json " + dir.file("i.json"));
  INFO(info.output);
  REQUIRE(info.exit_code == 0);
  CHECK_THAT(info.output, Catch::Contains("method: fc-triplet"));
  CHECK_THAT(info.output, Catch::Contains("bits: 8"));
  CHECK_THAT(info.output, Catch::Contains("format version: 2"));
  CHECK_THAT(info.output, Catch::Contains("epochs = 1"));
  CHECK_THAT(info.output, Catch::Contains("train_items = 160"));
  CHECK_THAT(read_text(dir.file("i.json")), Catch::Contains("\"trained_on\""));
  const Run missing = run_cli("info " + dir.file("none.rlh"));
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.output, Catch::Contains("none.rlh"));
}

TEST_CASE("eval and train augment the training images when asked, and refuse what cannot be augmented",
          "[cli][augmentation]") {
  test::TempDir dir;
  write_blobs(dir, 200, 4, 5);  // 8 features: 2 x 4 images
  const std::string data = "--features " + dir.file("x.npy") + " --labels " + dir.file("y.npy") +
                           " --queries-per-class 5 --train-per-class 30 --val-per-class 5";
  const std::string quick =
      " --set fc-triplet.epochs=2 --set fc-triplet.repr_hidden1=16 --set fc-triplet.repr_hidden2=8";
  const Run eval =
      run_cli("eval --method fc-triplet --bits 8 " + data + quick +
              " --augment-shift 1 --augment-flip --image-shape 2x4 --json " + dir.file("a.json"));
  INFO(eval.output);
  REQUIRE(eval.exit_code == 0);
  CHECK_THAT(eval.output, Catch::Contains("augmentation: shift 1, flip, 2x4x1"));
  CHECK_THAT(read_text(dir.file("a.json")), Catch::Contains("\"augmentation\": \"shift 1, flip, 2x4x1\""));
  const Run plain =
      run_cli("eval --method fc-triplet --bits 8 " + data + quick + " --json " + dir.file("p.json"));
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(read_text(dir.file("p.json")), Catch::Contains("\"augmentation\": \"off\""));

  const Run train = run_cli("train --method fc-triplet --bits 8 " + data + quick +
                            " --augment-flip --image-shape 2x4x1 --out " + dir.file("m.rlh"));
  INFO(train.output);
  REQUIRE(train.exit_code == 0);
  CHECK_THAT(run_cli("info " + dir.file("m.rlh")).output, Catch::Contains("flip, 2x4x1"));

  const auto fails_with = [&](const std::string& arguments, const std::string& message) {
    const Run r = run_cli(arguments);
    INFO(arguments << "\n" << r.output);
    CHECK(r.exit_code != 0);
    CHECK_THAT(r.output, Catch::Contains(message));
  };
  fails_with("eval --method lsh --bits 8 " + data + " --augment-flip --image-shape 2x4",
             "lsh does not augment its training images");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --augment-flip", "--image-shape HxW");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --augment-flip --image-shape 3x4",
             "an image of 3x4x1 has 12 values, the features have 8");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --augment-flip --image-shape 2xx4",
             "--image-shape '2xx4': expected HxW or HxWxC");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --augment-shift 1 --image-shape 2x4 --center",
             "drop --center and --pca");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --image-shape 2x4",
             "--image-shape: only used with --augment-shift or --augment-flip");
  fails_with("eval --method fc-triplet --bits 8 " + data + " --augment-shift 2 --image-shape 2x4",
             "leaves nothing of a 2x4x1 image");
}
