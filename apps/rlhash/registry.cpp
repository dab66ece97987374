// The one translation unit of the CLI that compiles the method registry (and with it every
// method); the others see declarations only (RLHASH_REGISTRY_EXTERN, set in CMakeLists.txt).
#define RLHASH_REGISTRY_IMPLEMENTATION
#include "rlhash/methods/registry.hpp"
