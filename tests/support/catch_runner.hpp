#pragma once
// Runs the Catch2 session (defined in catch_impl.cpp, so no main recompiles Catch2).
namespace rlhash::test {
int run_catch(int argc, char** argv);
}
