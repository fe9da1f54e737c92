// attnplay core: the float32 matrix kernel behind the fast attention paths (Eigen-free inner loops).
//
// Dimension glossary: M x K times K x N -> M x N, all row-major with leading dimensions (lda, ldb, ldc).
//
// One source for both targets: GCC/Clang vector extensions, 4 floats wide on WebAssembly (SIMD128) and 8 wide
// natively (AVX). The micro-kernel keeps a 4 x (2 vectors) tile of C in registers (4 x 8 on WASM: larger tiles spill
// under V8). B is packed once into panels of 2 vectors' width so the inner loop streams it; A is read in place.
//
// Index
//   GemmPacked / gemm_pack_b     pack B [K, N] (reused for many A: K^T of a head, V of a head, a weight matrix)
//   gemm_packed_resize / _index  panels filled value by value (a model's head, packed as its file is read)
//   gemm_pack_bt                 pack B from its transpose (nn.Linear's W [d_out, d_in] for x·Wᵀ)
//   gemm_packed                  C = A · B  (or C += A · B) with a packed B
//   gemm                         pack + multiply, for one-off products
//   gemm_reference               plain loops, double accumulation: what the kernel is tested against
//   gemm_kernel_install / _name  swap in a whole-product kernel from elsewhere (the browser's relaxed-SIMD module)
//   GemmWeightScope / gemm_pack_weight   pack each weight matrix once per scope (a training step's sequences)
//   vexp_inplace / vexp_shift_sum / vmax / vscale / vsum / vadd    the softmax's vector passes (exp: Cephes-style)
//   vtranspose / vrelu_backward  a training step's copies and selects, vectorised
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

namespace attnplay {

int gemm_vector_width();  // floats per vector on this target (4 on WASM, 8 with AVX, 4 with SSE)

// Four float lanes on every target (a GCC/Clang vector extension). Lane l of a running sum adds elements l, l + 4,
// ...: fixed-order partial sums whatever the target's vector width, so a reduction gives the same bits every run.
typedef float v4f __attribute__((vector_size(16)));
inline v4f  v4f_load(const float* p) { v4f v; std::memcpy(&v, p, sizeof v); return v; }  // unaligned
inline void v4f_store(float* p, v4f v) { std::memcpy(p, &v, sizeof v); }
inline v4f  v4f_splat(float x) { return v4f{x, x, x, x}; }

struct GemmPacked {
  int K = 0, N = 0, panel = 0;  // panel = floats per packed row (2 vectors)
  std::vector<float> data;      // ceil(N / panel) panels of K x panel, zero-padded
};

// Panels for B [K, N], zeroed, to be filled value by value (gemm_packed_index: a matrix arriving in pieces, as a
// model file's tensor does). gemm_packed_size: the floats they take.
void   gemm_packed_resize(int K, int N, GemmPacked* out);
size_t gemm_packed_size(int K, int N);
inline size_t gemm_packed_index(const GemmPacked& p, int k, int j) {  // where B[k][j] is held
  return size_t(j / p.panel) * size_t(p.K) * size_t(p.panel) + size_t(k) * size_t(p.panel) + size_t(j % p.panel);
}
void gemm_pack_b(int K, int N, const float* B, int ldb, GemmPacked* out);
// Same packing of B = Btᵀ from Bt [N, K] (row stride ld): a weight matrix W [d_out, d_in] for x·Wᵀ (nn.Linear).
void gemm_pack_bt(int K, int N, const float* Bt, int ld, GemmPacked* out);
// A [M, K] (lda), packed B [K, N] -> C [M, N] (ldc). accumulate: C += A·B instead of C = A·B.
// k_count / n_count (<= K / N, -1 = all) use only the first rows / columns of B: a causal block needs only the
// keys up to its last query.
void gemm_packed(int M, const float* A, int lda, const GemmPacked& B, float* C, int ldc, bool accumulate = false,
                 int k_count = -1, int n_count = -1);
void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc);
void gemm_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc);

// Weight matrices are packed again for every product; a training step multiplies each one by 16 sequences (and the
// translator by more). Inside a GemmWeightScope, gemm_pack_weight packs a given (pointer, shape, layout) once and
// returns that copy after: the caller promises that no matrix packed through it changes while the scope lives
// (train_loss_and_grads: the weights are const there). Outside any scope it packs into *scratch, as gemm_pack_b(t).
// One scope per thread at a time (not nested). Each scope packs anew (the weights change between steps) but into the
// buffers the last scope used for the same matrices: the packed copies (the size of the weights) stay allocated.
class GemmWeightScope {
 public:
  GemmWeightScope();
  ~GemmWeightScope();
  GemmWeightScope(const GemmWeightScope&) = delete;
  GemmWeightScope& operator=(const GemmWeightScope&) = delete;
};
// transposed: B = Btᵀ from Bt [N, K] (as gemm_pack_bt), else B [K, N] (as gemm_pack_b). ld: the source's row stride.
const GemmPacked& gemm_pack_weight(int K, int N, const float* src, int ld, bool transposed, GemmPacked* scratch);

// A whole-product kernel with gemm_packed's contract on 8-wide packed panels (panel_stride floats apart), K >= 1:
// C [M, N] (+)= A [M, K] · B. The platform installs one when it has a faster path than this build can emit: in
// WebAssembly, the relaxed-SIMD module (gemm_relaxed.c, loaded by web/kernels/relaxed_kernels.js). Core names no
// platform: it only calls the pointer.
typedef void (*GemmKernel)(int M, int N, int K, const float* A, int lda, const float* panels, int panel_stride,
                           float* C, int ldc, int accumulate);
void        gemm_kernel_install(GemmKernel kernel, const char* name);  // nullptr: back to the built-in kernel
const char* gemm_kernel_name();          // in use: "relaxed-simd" (installed), "simd128", "avx512+fma", "avx+fma", ...
const char* gemm_builtin_kernel_name();  // this build's own kernel, whatever is installed
GemmKernel  gemm_kernel_installed();     // the installed kernel, nullptr when the built-in one is in use
// The softmax's exp from the same place, behind vexp_shift_sum / vexp_shift_sum_to: y[i] = exp(x[i] - shift) with
// shift >= every x[i] (x == y allowed), returns the sum. Its error bound is vexp's (tested on whichever is in use).
typedef float (*ExpShiftSumKernel)(const float* x, float* y, int n, float shift) noexcept;  // noexcept: no invoke_ wrapper
void              vexp_kernel_install(ExpShiftSumKernel kernel);  // nullptr: back to the built-in exp
ExpShiftSumKernel vexp_kernel_installed();                        // nullptr when the built-in exp is in use

// x[i] = exp(x[i]) for n values: below -87.34 (and -inf) exactly 0, above 88.38 saturated at ~3.4e38.
// Max relative error ~2e-7 (Cephes expf's polynomial).
void  vexp_inplace(float* x, int n);
float vmax(const float* x, int n);                        // max of n values (-inf for n = 0)
float vexp_shift_sum(float* x, int n, float shift);       // x[i] = exp(x[i] - shift), shift >= every x[i]; returns the sum
float vexp_shift_sum_to(const float* x, float* y, int n, float shift);  // y[i] = exp(x[i] - shift), shift >= every x[i]; the sum
void  vscale(float* x, int n, float f);                   // x[i] *= f
void  vscale_to(const float* x, float* y, int n, float f);  // y[i] = x[i] * f (no memcpy: in WASM a large one calls JS)
float vsum(const float* x, int n);                        // sum of n values (float accumulators, any order)
void  vadd(float* acc, const float* x, int n);            // acc[i] += x[i]
// a [rows, cols] (row stride lda) -> out [cols, rows] (ldo): 4 x 4 tiles in registers. Eigen's transposed copy of a
// row-major matrix ran scalar and strided: 4-5 % of a training step in WebAssembly.
void  vtranspose(int rows, int cols, const float* a, int lda, float* out, int ldo);
// d_x[i] = pre[i] > 0 ? d_y[i] : 0 (relu's backward, relu'(0) = 0; NaN in pre gives 0): a vector select, no branch.
void  vrelu_backward(const float* pre, const float* d_y, float* d_x, size_t n);

}  // namespace attnplay
