/* attnplay: emscripten 3.1.6 has no <mmintrin.h>, and Eigen's SSE path includes it, so clang's x86 header
 * would be picked up and fail. Eigen needs nothing MMX-specific from it: route it to emscripten's
 * <xmmintrin.h> (SSE -> SIMD128). On the include path of WASM builds only. */
#pragma once
#include <xmmintrin.h>
