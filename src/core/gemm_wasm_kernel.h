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
 * Also the softmax's exp (ap_kernel_exp_shift_sum): with relaxed SIMD its polynomial is one fused multiply-add per
 * term.
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
  /* Panels in blocks of ~128 KB (they stay in L2 while every 4 rows of A pass over them), rows outer within a block
   * (4 rows of A stay in L1 while the block streams). Without the blocks a weight matrix larger than L2 (GPT-2's
   * 768 x 3072: 9.4 MB; its 50257-word head: 154 MB) came from memory once per 4 rows. */
  const int block = (32768 / K > 1 ? 32768 / K : 1) * 8; /* columns per block */
  for (int jb = 0; jb < N; jb += block) {
  const int jend = N - jb < block ? N : jb + block;
  for (int i = 0; i < M4; i += 4) {
    const float* a0 = A + (long)i * lda;
    const float* a1 = a0 + lda;
    const float* a2 = a1 + lda;
    const float* a3 = a2 + lda;
    for (int j0 = jb; j0 < jend; j0 += 8) {
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

/* exp(v) for v <= 0 (or -inf), the softmax's exponent: below -87.34 exactly 0. The polynomial and range reduction of
 * gemm.cpp's vexp (Cephes expf's degree-5 polynomial, n = round(v·log2 e) by the 1.5·2^23 trick), with every
 * multiply-add a single AP_MADD: under relaxed SIMD ~7 fewer roundings and operations per vector. */
static inline v128_t ap_kernel_exp_nonpos(v128_t v) {
  const v128_t lo = wasm_f32x4_splat(-87.3365447504f), magic = wasm_f32x4_splat(12582912.0f);
  const v128_t under = wasm_f32x4_lt(v, lo);
  const v128_t t = wasm_v128_bitselect(lo, v, under);
  const v128_t z = AP_MADD(t, wasm_f32x4_splat(1.44269504088896341f), magic);
  const v128_t n = wasm_i32x4_sub(z, magic); /* the rounded exponent, in the low mantissa bits */
  const v128_t fn = wasm_f32x4_sub(z, magic);
  v128_t r = AP_MADD(fn, wasm_f32x4_splat(-0.693359375f), t);
  r = AP_MADD(fn, wasm_f32x4_splat(2.12194440e-4f), r);
  v128_t y = AP_MADD(wasm_f32x4_splat(1.9875691500e-4f), r, wasm_f32x4_splat(1.3981999507e-3f));
  y = AP_MADD(y, r, wasm_f32x4_splat(8.3334519073e-3f));
  y = AP_MADD(y, r, wasm_f32x4_splat(4.1665795894e-2f));
  y = AP_MADD(y, r, wasm_f32x4_splat(1.6666665459e-1f));
  y = AP_MADD(y, r, wasm_f32x4_splat(5.0000001201e-1f));
  y = wasm_f32x4_add(AP_MADD(y, wasm_f32x4_mul(r, r), r), wasm_f32x4_splat(1.0f));
  const v128_t pow2 = wasm_i32x4_shl(wasm_i32x4_add(n, wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(y, pow2), under);
}

/* y[i] = exp(x[i] - shift) for n values, shift >= every x[i] (the row max); returns their sum. x == y is allowed.
 * The last n % 4 values go through lanes built one by one (-inf padding: exp 0), not a buffer (no stack). */
static inline float ap_kernel_exp_shift_sum(const float* x, float* y, int n, float shift) {
  const v128_t s = wasm_f32x4_splat(shift);
  v128_t acc = wasm_f32x4_splat(0.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t e = ap_kernel_exp_nonpos(wasm_f32x4_sub(wasm_v128_load(x + i), s));
    wasm_v128_store(y + i, e);
    acc = wasm_f32x4_add(acc, e);
  }
  if (i < n) {
    const float ninf = -__builtin_inff();
    const int left = n - i;
    const v128_t v = wasm_f32x4_make(x[i], left > 1 ? x[i + 1] : ninf, left > 2 ? x[i + 2] : ninf, ninf);
    const v128_t e = ap_kernel_exp_nonpos(wasm_f32x4_sub(v, s));
    y[i] = wasm_f32x4_extract_lane(e, 0);
    if (left > 1) y[i + 1] = wasm_f32x4_extract_lane(e, 1);
    if (left > 2) y[i + 2] = wasm_f32x4_extract_lane(e, 2);
    acc = wasm_f32x4_add(acc, e);
  }
  return (wasm_f32x4_extract_lane(acc, 0) + wasm_f32x4_extract_lane(acc, 1)) +
         (wasm_f32x4_extract_lane(acc, 2) + wasm_f32x4_extract_lane(acc, 3));
}

#undef AP_MADD
#endif
