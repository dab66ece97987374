// Sizes from input, bounded reads and the atomic writes' temporary files under hostile input.
#include <catch.hpp>
#include <test_util.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>

#include "rlhash/core/checked_size.hpp"
#include "rlhash/core/file.hpp"
#include "rlhash/core/message.hpp"
#include "rlhash/core/serialize.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hostile_files {

namespace {
template <class E, class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  FAIL("no exception thrown");
  return {};
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

mode_t mode_of(const std::string& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

std::vector<std::string> names_in(const std::filesystem::path& folder) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(folder))
    names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

/// Sets the umask for one scope.
struct ScopedUmask {
  explicit ScopedUmask(mode_t mask) : old(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old); }
  mode_t old;
};
}  // namespace

TEST_CASE("checked sizes: overflow and negative sizes are InvalidArgument naming the input", "[core]") {
  constexpr Index big = Index{1} << 62;
  CHECK(checked_mul(4, 5, "x") == 20);
  CHECK(checked_add(4, 5, "x") == 9);
  CHECK_THAT(error_of<InvalidArgument>([&] { checked_mul(4, big, "queries x k"); }),
             Catch::Contains("queries x k") && Catch::Contains("overflows"));
  CHECK_THAT(error_of<InvalidArgument>([&] { checked_mul(3, 6148914691236517206, "queries x k"); }),
             Catch::Contains("overflows"));
  CHECK_THAT(error_of<InvalidArgument>([&] { checked_add(std::numeric_limits<Index>::max(), 1, "ids"); }),
             Catch::Contains("ids") && Catch::Contains("overflows"));
  CHECK_THAT(error_of<InvalidArgument>([&] { checked_mul(-1, 2, "rows x cols"); }),
             Catch::Contains("negative"));
  CHECK_THAT(error_of<InvalidArgument>([&] { checked_bytes(big, 8, "result"); }),
             Catch::Contains("result") && Catch::Contains("address space"));
  CHECK(checked_bytes(10, 8, "x") == 80);
}

TEST_CASE("message and check build one-line messages only on failure", "[core]") {
  CHECK(message("'", "f.npy", "': row ", 3, ", column ", 1, " is ", 0.5) ==
        "'f.npy': row 3, column 1 is 0.5");
  CHECK_NOTHROW(check(true, "never built"));
  CHECK(error_of<FormatError>([] { check<FormatError>(false, "a ", 1, " b"); }) == "a 1 b");
}

TEST_CASE("read_file_bytes is bounded: devices and oversized files are refused", "[core]") {
  test::TempDir dir;
  write_text(dir.file("ten.bin"), "0123456789");
  CHECK(read_file_bytes(dir.file("ten.bin")).size() == 10);
  CHECK(read_file_bytes(dir.file("ten.bin"), 10).size() == 10);
  CHECK_THAT(error_of<FormatError>([&] { read_file_bytes(dir.file("ten.bin"), 9); }),
             Catch::Contains("ten.bin") && Catch::Contains("at most 9"));
  CHECK_THAT(error_of<FormatError>([] { read_file_bytes("/dev/zero", 1 << 20); }),
             Catch::Contains("/dev/zero") && Catch::Contains("more than 1048576"));
  CHECK_THAT(error_of<IoError>([&] { read_file_bytes(dir.path().string()); }), Catch::Contains("directory"));
}

TEST_CASE("enveloped files: magic and declared size are checked before the payload is read", "[core]") {
  test::TempDir dir;
  // /dev/zero never ends: only a reader that checks the magic first returns.
  CHECK_THAT(error_of<FormatError>([] { read_enveloped_file("/dev/zero", "RLHMODEL", 1); }),
             Catch::Contains("'/dev/zero' is not an rlhash RLHMODEL file"));
  // A 6 GB sparse file whose header declares 16 bytes: refused from its size, never read whole.
  ByteWriter header;
  header.append("RLHMODEL", 8);
  header.put<std::uint32_t>(1);
  header.put<std::uint64_t>(16);
  const std::string sparse = dir.file("sparse.rlh");
  write_text(sparse, std::string(header.bytes().begin(), header.bytes().end()));
  std::filesystem::resize_file(sparse, std::uintmax_t{6} << 30);
  CHECK_THAT(error_of<FormatError>([&] { read_enveloped_file(sparse, "RLHMODEL", 1); }),
             Catch::Contains("sparse.rlh") && Catch::Contains("expected at most 21"));
  // An intact file round-trips.
  write_enveloped(dir.file("ok.rlh"), {"RLHMODEL", 1}, std::vector<char>{'a', 'b'});
  const auto bytes = read_enveloped_file(dir.file("ok.rlh"), "RLHMODEL", 1);
  CHECK(open_envelope(bytes, "ok.rlh", "RLHMODEL", 1).payload_size == 2);
}

TEST_CASE("atomic writes: modes follow the umask, an existing target keeps its mode", "[core]") {
  test::TempDir dir;
  {
    const ScopedUmask mask(077);
    write_file_atomic(dir.file("private.txt"), "x", 1);
  }
  CHECK(mode_of(dir.file("private.txt")) == 0600);
  {
    const ScopedUmask mask(022);
    write_file_atomic(dir.file("shared.txt"), "x", 1);
    CHECK(mode_of(dir.file("shared.txt")) == 0644);
    write_file_atomic(dir.file("private.txt"), "yy", 2);  // existing 0600 target stays 0600
  }
  CHECK(mode_of(dir.file("private.txt")) == 0600);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"private.txt", "shared.txt"});
}

TEST_CASE("atomic writes: a legal long file name works, the temporary name fits the limit", "[core]") {
  test::TempDir dir;
  const std::string name(250, 'n');
  write_file_atomic(dir.file(name), "abc", 3);
  CHECK(names_in(dir.path()) == std::vector<std::string>{name});
}

TEST_CASE("write_files_atomic: all targets or none, no temporary file left", "[core]") {
  test::TempDir dir;
  const std::vector<char> bytes{'1', '2'};
  write_files_atomic({{dir.file("a.bin"), bytes}, {dir.file("b.bin"), bytes}});
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a.bin", "b.bin"});
  CHECK_THROWS_AS(write_files_atomic({{dir.file("c.bin"), bytes}, {dir.file("missing/d.bin"), bytes}}),
                  IoError);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a.bin", "b.bin"});
}

TEST_CASE("write_files_atomic: a failed rename puts back the targets already replaced", "[core]") {
  test::TempDir dir;
  write_text(dir.file("a.bin"), "old a");
  std::filesystem::create_directory(dir.path() / "c.bin");  // renaming a file over a folder fails
  const std::vector<char> bytes{'n', 'e', 'w'};
  // a.bin is replaced, b.bin created, then c.bin fails: a.bin is put back, b.bin removed.
  CHECK_THROWS_AS(write_files_atomic(
                      {{dir.file("a.bin"), bytes}, {dir.file("b.bin"), bytes}, {dir.file("c.bin"), bytes}}),
                  IoError);
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a.bin", "c.bin"});
  CHECK(read_file_bytes(dir.file("a.bin")) == std::vector<char>{'o', 'l', 'd', ' ', 'a'});
  // Over existing targets, a success leaves no backup behind.
  write_text(dir.file("b.bin"), "old b");
  write_files_atomic({{dir.file("a.bin"), bytes}, {dir.file("b.bin"), bytes}});
  CHECK(names_in(dir.path()) == std::vector<std::string>{"a.bin", "b.bin", "c.bin"});
  CHECK(read_file_bytes(dir.file("a.bin")) == bytes);
  CHECK(read_file_bytes(dir.file("b.bin")) == bytes);
}

TEST_CASE("allocating and sized_by: a refused allocation names what sized it and the bytes", "[core]") {
  const auto refused = [] { throw std::bad_alloc(); };
  CHECK(error_of<OutOfMemory>([&] { allocating(std::size_t{3} << 30, refused, "--k ", 7); }) ==
        "--k 7: cannot allocate 3221225472 bytes (3 GiB)");
  CHECK(error_of<OutOfMemory>([&] {
          sized_by("--method drlh",
                   [&] { allocating(1 << 20, refused, "drlh.replay_size = 8 transitions"); });
        }) == "--method drlh: drlh.replay_size = 8 transitions: cannot allocate 1048576 bytes (1 MiB)");
  CHECK(error_of<OutOfMemory>([&] { sized_by("--k 3", refused); }) ==
        "--k 3: out of memory (the system refused an allocation)");
  CHECK(allocating(
            8, [] { return 5; }, "unused") == 5);
}

TEST_CASE("remove_pending_temp_files removes the temporary files of writes in progress", "[core]") {
  test::TempDir dir;
  TempFile temp(dir.file("out.bin"));
  CHECK(std::filesystem::exists(temp.path()));
  remove_pending_temp_files();
  CHECK(names_in(dir.path()).empty());
}

}  // namespace rlhash::test_hostile_files
