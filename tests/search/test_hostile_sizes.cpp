// Sizes from hostile arguments: result buffers sized by a checked product, thread-creation
// failure turned into an error after joining what started.
#include <catch.hpp>
#include <test_util.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "rlhash/search/knn.hpp"
#include "rlhash/search/parallel.hpp"
#include "search_test_util.hpp"

// Each file's tests and helpers in a namespace of their own: the layer compiles as one unity
// translation unit (tests/CMakeLists.txt).
namespace rlhash::test_hostile_sizes {

TEST_CASE("knn_search: queries x k that overflows is an InvalidArgument, not a wrapped buffer",
          "[search][knn]") {
  Rng rng(5);
  const BinaryCodes queries = test::random_codes(4, 64, rng);
  const BinaryCodes database = test::random_codes(10, 64, rng);
  for (const Index k : {Index{1} << 62, Index{1} << 61, Index{6148914691236517206}}) {
    try {
      knn_search(queries, database, k, 1);
      FAIL("no exception for k = " << k);
    } catch (const InvalidArgument& e) {
      CHECK_THAT(std::string(e.what()), Catch::Contains("knn_search"));
    }
  }
}

TEST_CASE("run_parallel: a refused thread is an Error after the started threads are joined", "[search]") {
#ifdef RLHASH_TEST_UNDER_ASAN
  SUCCEED("AddressSanitizer reserves terabytes of address space: an address-space limit cannot be tested");
#else
  // In a child process (the limit must not touch the test runner): an address space too small for
  // 300 thread stacks of 8 MiB, so thread creation fails part-way.
  std::fflush(nullptr);  // the child must not repeat the runner's buffered output
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    rlimit limit{};
    ::getrlimit(RLIMIT_AS, &limit);
    limit.rlim_cur = rlim_t{512} << 20;
    ::setrlimit(RLIMIT_AS, &limit);
    std::atomic<int> ran{0};
    int code = 1;
    try {
      detail::run_parallel(300, [&ran](int) { ran.fetch_add(1); });
      code = 2;  // every thread started: the limit did not bite
    } catch (const Error& e) {
      code = std::string(e.what()).find("cannot start 300 threads") != std::string::npos ? 0 : 3;
    } catch (...) {
      code = 4;
    }
    ::_exit(code);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));  // before the fix: terminate() without an active exception, SIGABRT
  const int code = WEXITSTATUS(status);
  if (code == 2) SUCCEED("this system started 300 threads within 512 MiB; the failure path was not reached");
  CHECK((code == 0 || code == 2));
#endif
}

}  // namespace rlhash::test_hostile_sizes
