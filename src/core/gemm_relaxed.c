/* attnplay core: the relaxed-SIMD module: GEMM and the softmax's exp (f32x4.relaxed_madd, fused under V8).
 *
 * Built apart from everything else, by Debian's clang-19 and wasm-ld-19 (emscripten 3.1.6's clang 14 and binaryen
 * cannot emit or read the final relaxed opcodes: ../shared/TOOLCHAIN.md). It imports the emscripten module's
 * memory, so its pointers are that module's pointers; web/kernels/relaxed_kernels.js loads it when
 * WebAssembly.validate accepts it and src/platform/web_kernels.cpp installs it behind gemm_packed (gemm.h).
 *
 * Dimensions and the kernel itself: gemm_wasm_kernel.h (the same source the SIMD128 path compiles).
 */
#define AP_KERNEL_RELAXED 1
#include "gemm_wasm_kernel.h"

/* C [M, N] (+)= A [M, K] (lda) · packed B (panels, panel_stride floats apart) into C (ldc). K >= 1. */
__attribute__((export_name("gemm"))) void ap_relaxed_gemm(int M, int N, int K, const float* A, int lda,
                                                         const float* panels, int panel_stride, float* C, int ldc,
                                                         int accumulate) {
  ap_kernel_gemm(M, N, K, A, lda, panels, panel_stride, C, ldc, accumulate);
}

/* y[i] = exp(x[i] - shift), shift >= every x[i]; returns the sum (x == y allowed). */
__attribute__((export_name("exp_shift_sum"))) float ap_relaxed_exp_shift_sum(const float* x, float* y, int n,
                                                                             float shift) {
  return ap_kernel_exp_shift_sum(x, y, n, shift);
}
