// The Catch2 main, compiled once for every test executable (v2 needs it defined in one file; v3
// brings its own through Catch2WithMain, so this file is then empty).
#ifndef RLHASH_CATCH3
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
#endif
