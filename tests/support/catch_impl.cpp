// Catch2 compiled once and shared by every test executable: v2's implementation lives here (v3
// ships it as a library), behind one function the mains call.
#if defined(RLHASH_CATCH3)
#include <catch2/catch_session.hpp>
#else
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#endif

#include "catch_runner.hpp"

int rlhash::test::run_catch(int argc, char** argv) { return Catch::Session().run(argc, argv); }
