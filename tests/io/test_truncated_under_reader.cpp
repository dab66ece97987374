// A file truncated by another process while rlhash holds it: the default MappedFile owns a copy,
// so the truncation cannot turn into SIGBUS (a mapping would fault on the vanished pages).
#include <catch.hpp>
#include <test_util.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "rlhash/io/mapped_file.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_truncated_under_reader {

TEST_CASE("MappedFile: a file truncated after opening stays readable (read, not mapped)", "[io]") {
  test::TempDir dir;
  const std::string path = dir.file("features.bin");
  {
    std::ofstream out(path, std::ios::binary);
    const std::string block(1 << 16, 'x');
    for (int i = 0; i < 4; ++i) out << block;
  }
  const MappedFile file(path);
  std::filesystem::resize_file(path, 0);  // another process truncates the file
  REQUIRE(file.size() == std::size_t{4} << 16);
  long sum = 0;
  for (std::size_t i = 0; i < file.size(); i += 4096) sum += file.data()[i];
  CHECK(sum == static_cast<long>('x') * static_cast<long>(file.size() / 4096));
}

}  // namespace rlhash::test_truncated_under_reader
