// attnplay platform (web): puts the relaxed-SIMD GEMM and exp behind gemm_packed and vexp_shift_sum when the page
// has them.
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
float attnplay_relaxed_exp_shift_sum(const float* x, float* y, int n, float shift) noexcept;
}

namespace {

bool web_kernels_install() {
  if (attnplay_kernels_relaxed() != 1) return false;
  attnplay::gemm_kernel_install(attnplay_relaxed_gemm, "relaxed-simd");
  attnplay::vexp_kernel_install(attnplay_relaxed_exp_shift_sum);
  return true;
}

const bool web_kernels_installed = web_kernels_install();

}  // namespace
