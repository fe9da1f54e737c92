/* attnplay core: the WebAssembly GEMM kernel, one source for both of its builds (C and C++ alike).
 *
 * Dimension glossary: C [M, N] (+)= A [M, K] · B [K, N]; B arrives packed (gemm.h): ceil(N / 8) panels of
 * K x 8 floats, zero-padded on the right, panel_stride floats apart (a panel may hold more than K rows: a causal
 * block uses the first K).
 *
 * Built twice:
 *   - into the emscripten module by em++ (clang 14), from gemm.cpp, with AP_KERNEL_RELAXED 0: SIMD128 mul + add;
 *   - into a module of its own by Debian's clang-19 (src/core/gemm_relaxed.c, AP_KERNEL_RELAXED 1):
 *     f32x4.relaxed_madd, which V8 lowers to a fused multiply-add. That module shares the emscripten module's
 *     memory but not its stack pointer, so nothing here may use the C stack: no arrays, no address-taken
 *     locals, no calls that are not inlined (src/core/CMakeLists checks the module has no data and touches no
 *     global).
 *
 * Tile: 4 rows x 8 columns of C in 8 registers, A broadcast with v128.load32_splat, two panel vectors per k.
 * Measured in Node 20 on the CI machine kind (256 x 256 x 240): 28-30 GFLOP/s with mul + add, 36 with
 * relaxed_madd; 6 x 8 tiles and XNNPACK's load-4-then-shuffle broadcast were slower under V8 (23-26 / 22).
 */
#ifndef ATTNPLAY_GEMM_WASM_KERNEL_H
#define ATTNPLAY_GEMM_WASM_KERNEL_H

#include <wasm_simd128.h>

#if AP_KERNEL_RELAXED
#define AP_MADD(a, b, c) wasm_f32x4_relaxed_madd((a), (b), (c))
#else
#define AP_MADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul((a), (b)), (c))
#endif

/* c[0..cols) (+)= lanes of (v0, v1); cols < 8: the right edge, lane by lane (no buffer: no stack). */
static inline void ap_kernel_store_row(float* c, v128_t v0, v128_t v1, int cols, int accumulate) {
  if (cols == 8) {
    if (accumulate) {
      v0 = wasm_f32x4_add(wasm_v128_load(c), v0);
      v1 = wasm_f32x4_add(wasm_v128_load(c + 4), v1);
    }
    wasm_v128_store(c, v0);
    wasm_v128_store(c + 4, v1);
    return;
  }
#define AP_LANE(j, v, l) \
  if (cols > (j)) c[j] = (accumulate ? c[j] : 0.0f) + wasm_f32x4_extract_lane((v), (l));
  AP_LANE(0, v0, 0) AP_LANE(1, v0, 1) AP_LANE(2, v0, 2) AP_LANE(3, v0, 3)
  AP_LANE(4, v1, 0) AP_LANE(5, v1, 1) AP_LANE(6, v1, 2)
#undef AP_LANE
}

/* C[M, N] (+)= A[M, K] (lda) · packed B (panels, panel_stride) into C (ldc). K >= 1. */
static inline void ap_kernel_gemm(int M, int N, int K, const float* A, int lda, const float* panels, int panel_stride,
                                  float* C, int ldc, int accumulate) {
  const int M4 = M - M % 4;
  /* Rows outer, panels inner (4 rows of A stay in L1 while B streams): 2-5 % faster than panels outer here. */
  for (int i = 0; i < M4; i += 4) {
    const float* a0 = A + (long)i * lda;
    const float* a1 = a0 + lda;
    const float* a2 = a1 + lda;
    const float* a3 = a2 + lda;
    for (int j0 = 0; j0 < N; j0 += 8) {
      const float* p = panels + (long)(j0 / 8) * panel_stride;
      const int cols = N - j0 < 8 ? N - j0 : 8;
      v128_t c00 = wasm_f32x4_splat(0.0f), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00,
             c31 = c00;
      for (int k = 0; k < K; ++k, p += 8) {
        const v128_t b0 = wasm_v128_load(p), b1 = wasm_v128_load(p + 4);
        v128_t x = wasm_v128_load32_splat(a0 + k);
        c00 = AP_MADD(x, b0, c00);
        c01 = AP_MADD(x, b1, c01);
        x = wasm_v128_load32_splat(a1 + k);
        c10 = AP_MADD(x, b0, c10);
        c11 = AP_MADD(x, b1, c11);
        x = wasm_v128_load32_splat(a2 + k);
        c20 = AP_MADD(x, b0, c20);
        c21 = AP_MADD(x, b1, c21);
        x = wasm_v128_load32_splat(a3 + k);
        c30 = AP_MADD(x, b0, c30);
        c31 = AP_MADD(x, b1, c31);
      }
      float* c = C + (long)i * ldc + j0;
      ap_kernel_store_row(c, c00, c01, cols, accumulate);
      ap_kernel_store_row(c + ldc, c10, c11, cols, accumulate);
      ap_kernel_store_row(c + 2 * ldc, c20, c21, cols, accumulate);
      ap_kernel_store_row(c + 3 * ldc, c30, c31, cols, accumulate);
    }
  }
  for (int i = M4; i < M; ++i) { /* the last M % 4 rows, one at a time; two chains per half-tile */
    const float* a = A + (long)i * lda;
    for (int j0 = 0; j0 < N; j0 += 8) {
      const float* p = panels + (long)(j0 / 8) * panel_stride;
      const int cols = N - j0 < 8 ? N - j0 : 8;
      v128_t c0 = wasm_f32x4_splat(0.0f), c1 = c0, d0 = c0, d1 = c0;
      int k = 0;
      for (; k + 2 <= K; k += 2, p += 16) {
        const v128_t x = wasm_v128_load32_splat(a + k), y = wasm_v128_load32_splat(a + k + 1);
        c0 = AP_MADD(x, wasm_v128_load(p), c0);
        c1 = AP_MADD(x, wasm_v128_load(p + 4), c1);
        d0 = AP_MADD(y, wasm_v128_load(p + 8), d0);
        d1 = AP_MADD(y, wasm_v128_load(p + 12), d1);
      }
      if (k < K) {
        const v128_t x = wasm_v128_load32_splat(a + k);
        c0 = AP_MADD(x, wasm_v128_load(p), c0);
        c1 = AP_MADD(x, wasm_v128_load(p + 4), c1);
      }
      ap_kernel_store_row(C + (long)i * ldc + j0, wasm_f32x4_add(c0, d0), wasm_f32x4_add(c1, d1), cols, accumulate);
    }
  }
}

#undef AP_MADD
#endif
