// The method registry compiled once for the project's own programs: the CLI and the tests link
// this library and see declarations only (RLHASH_REGISTRY_EXTERN), so every method is
// instantiated here instead of in each file that names a method.
#define RLHASH_REGISTRY_IMPLEMENTATION
#include "rlhash/methods/registry.hpp"
