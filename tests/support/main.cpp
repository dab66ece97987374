// The main of the test executables. The GPU tests have a main of their own that skips without
// a device.
#include "catch_runner.hpp"

int main(int argc, char** argv) { return rlhash::test::run_catch(argc, argv); }
