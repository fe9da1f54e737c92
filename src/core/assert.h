// attnplay core: ATTNPLAY_ASSERT, the check behind every precondition a header states ("indices must be in range",
// "w_general required", ...).
//
// Active in debug builds and in the sanitizer and fuzz builds (CMake defines ATTNPLAY_ASSERTS=1 there); compiled out
// in release, where validation upstream (config_parse, weights_from_safetensors) has already refused bad input by
// name. A failed assert is a bug in attnplay, never a user error: it prints the condition and where, then aborts, so
// the fuzzers and sanitizers report it at the call that broke the contract rather than at a later wild read.
#pragma once

#include <cstdio>
#include <cstdlib>

#if !defined(ATTNPLAY_ASSERTS)
#if defined(NDEBUG)
#define ATTNPLAY_ASSERTS 0
#else
#define ATTNPLAY_ASSERTS 1
#endif
#endif

#if ATTNPLAY_ASSERTS
#define ATTNPLAY_ASSERT(cond)                                                                                  \
  do {                                                                                                         \
    if (!(cond)) ::attnplay::assert_fail(#cond, __FILE__, __LINE__);                                           \
  } while (0)
#else
// Compiled out, but still seen by the compiler (unevaluated): no "unused variable" for what only an assert reads.
#define ATTNPLAY_ASSERT(cond) ((void)sizeof((cond) ? 1 : 0))
#endif

namespace attnplay {

[[noreturn]] inline void assert_fail(const char* cond, const char* file, int line) {
  std::fprintf(stderr, "attnplay: assertion failed: %s (%s:%d)\n", cond, file, line);
  std::abort();
}

}  // namespace attnplay
