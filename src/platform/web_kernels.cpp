// attnplay platform (web): puts the relaxed-SIMD GEMM behind gemm_packed when the page has it.
//
// Linked into every WebAssembly executable (the app, attnplay-core, the unit tests, the training benchmark) with
// web/kernels/relaxed_kernels.js as its --js-library. That library has already validated and instantiated the
// kernel module before static constructors run (a run dependency holds them), so a constructor here suffices.
#include "core/gemm.h"

extern "C" {
// From web/kernels/relaxed_kernels.js.
int  attnplay_kernels_relaxed();  // 1 when the relaxed-SIMD module loaded
void attnplay_relaxed_gemm(int M, int N, int K, const float* A, int lda, const float* panels, int panel_stride,
                           float* C, int ldc, int accumulate);
}

namespace {

bool web_kernels_install() {
  if (attnplay_kernels_relaxed() != 1) return false;
  attnplay::gemm_kernel_install(attnplay_relaxed_gemm, "relaxed-simd");
  return true;
}

const bool web_kernels_installed = web_kernels_install();

}  // namespace
