# Warning flags for the project's own targets (never the global CMAKE_CXX_FLAGS).
function(rlhash_target_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${RLHASH_WARNINGS_AS_ERRORS}>>:-Werror>)
endfunction()

# OpenMP lets Eigen's GEMMs use the cores in the CLI, tests and benches; the library itself
# never forces OpenMP on its users.
find_package(OpenMP QUIET)
function(rlhash_target_openmp target)
  if(OpenMP_CXX_FOUND)
    target_link_libraries(${target} PRIVATE OpenMP::OpenMP_CXX)
  endif()
endfunction()

# Sanitizers for the project's own test and tool targets (CI: -DRLHASH_SANITIZE=address,undefined).
set(RLHASH_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list for tests and the CLI")
function(rlhash_target_sanitizers target scope)
  if(RLHASH_SANITIZE)
    # GCC documents that -fsanitize=address makes -Wmaybe-uninitialized report false positives
    # (here inside libstdc++'s <regex>, which Catch2 includes); the sanitizer itself checks
    # what that warning would.
    target_compile_options(${target} ${scope} -fsanitize=${RLHASH_SANITIZE} -fno-omit-frame-pointer
                           -fno-sanitize-recover=all
                           $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
    target_link_options(${target} ${scope} -fsanitize=${RLHASH_SANITIZE})
  endif()
endfunction()
