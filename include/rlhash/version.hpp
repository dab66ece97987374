#pragma once
// The one place the version lives; CMake reads these three macros.
#define RLHASH_VERSION_MAJOR 0
#define RLHASH_VERSION_MINOR 1
#define RLHASH_VERSION_PATCH 0
#define RLHASH_VERSION_STRING "0.1.0"
