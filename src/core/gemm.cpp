// attnplay core: vector-extension GEMM and exp. Contracts and tile choice: gemm.h.
#include "core/gemm.h"

#include "core/assert.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <tuple>

#if defined(__wasm_simd128__)
#define AP_KERNEL_RELAXED 0
#include "core/gemm_wasm_kernel.h"  // the SIMD128 kernel, shared with the relaxed-SIMD module's build
#endif

namespace attnplay {

namespace {

#if defined(__AVX512F__) && !defined(__wasm__)
constexpr int W = 16;  // AVX-512: the same per-lane arithmetic (each C element sums over k in order), twice as wide
typedef float vf __attribute__((vector_size(64)));
typedef int vi __attribute__((vector_size(64)));
#elif defined(__AVX__) && !defined(__wasm__)
constexpr int W = 8;
typedef float vf __attribute__((vector_size(32)));
typedef int vi __attribute__((vector_size(32)));
#else
constexpr int W = 4;  // SIMD128 on WebAssembly, SSE natively without AVX
typedef float vf __attribute__((vector_size(16)));
typedef int vi __attribute__((vector_size(16)));
#endif
constexpr int MR = 4;       // rows of the register tile
constexpr int NR = 2 * W;   // columns of the register tile (= the packed panel width)

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return vf{} + x; }

// C[rows <= MR, cols <= NR] (+)= A[rows, K] · panel[K, NR].
// panel rows are NR floats apart; only the first K of them are used.
template <int R>
void micro_kernel(int K, const float* A, int lda, const float* panel, float* C, int ldc, int cols, bool accumulate) {
  vf c0[R], c1[R];
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = vf{};
  const float* a[R];
  for (int r = 0; r < R; ++r) a[r] = A + size_t(r) * lda;
  for (int k = 0; k < K; ++k) {
    const vf b0 = load(panel + size_t(k) * NR), b1 = load(panel + size_t(k) * NR + W);
    for (int r = 0; r < R; ++r) {
      const vf x = splat(a[r][k]);
      c0[r] += x * b0;
      c1[r] += x * b1;
    }
  }
  for (int r = 0; r < R; ++r) {
    float* c = C + size_t(r) * ldc;
    if (cols == NR) {
      if (accumulate) {
        store(c, load(c) + c0[r]);
        store(c + W, load(c + W) + c1[r]);
      } else {
        store(c, c0[r]);
        store(c + W, c1[r]);
      }
    } else {  // right edge: through a buffer
      float buf[NR];
      store(buf, c0[r]);
      store(buf + W, c1[r]);
      for (int j = 0; j < cols; ++j) c[j] = accumulate ? c[j] + buf[j] : buf[j];
    }
  }
}

GemmKernel  g_kernel = nullptr;  // an installed whole-product kernel (gemm_kernel_install), else the built-in one
const char* g_kernel_name = nullptr;
ExpShiftSumKernel g_exp_kernel = nullptr;  // an installed softmax exp (vexp_kernel_install), else vexp_nonpos

}  // namespace

int gemm_vector_width() { return W; }

const char* gemm_builtin_kernel_name() {
#if defined(__wasm_simd128__)
  return "simd128";
#elif defined(__AVX512F__) && defined(__FMA__)
  return "avx512+fma";
#elif defined(__AVX__) && defined(__FMA__)
  return "avx+fma";
#elif defined(__AVX__)
  return "avx";
#else
  return "sse";
#endif
}

void gemm_kernel_install(GemmKernel kernel, const char* name) {
  ATTNPLAY_ASSERT(kernel == nullptr || (NR == 8 && name != nullptr));  // the external kernels read 8-wide panels
  g_kernel = kernel;
  g_kernel_name = kernel ? name : nullptr;
}

GemmKernel gemm_kernel_installed() { return g_kernel; }

void vexp_kernel_install(ExpShiftSumKernel kernel) { g_exp_kernel = kernel; }

ExpShiftSumKernel vexp_kernel_installed() { return g_exp_kernel; }

const char* gemm_kernel_name() { return g_kernel_name ? g_kernel_name : gemm_builtin_kernel_name(); }

// One 4 x 4 tile: a rows i..i+3, columns j..j+3 -> out rows j..j+3, columns i..i+3; two rounds of shuffles.
static inline void transpose_tile(const float* a, int lda, float* out, int ldo) {
  const v4f r0 = v4f_load(a), r1 = v4f_load(a + lda), r2 = v4f_load(a + 2 * size_t(lda)), r3 = v4f_load(a + 3 * size_t(lda));
  const v4f t0 = __builtin_shufflevector(r0, r1, 0, 4, 1, 5), t1 = __builtin_shufflevector(r0, r1, 2, 6, 3, 7);
  const v4f t2 = __builtin_shufflevector(r2, r3, 0, 4, 1, 5), t3 = __builtin_shufflevector(r2, r3, 2, 6, 3, 7);
  const v4f o0 = __builtin_shufflevector(t0, t2, 0, 1, 4, 5), o1 = __builtin_shufflevector(t0, t2, 2, 3, 6, 7);
  const v4f o2 = __builtin_shufflevector(t1, t3, 0, 1, 4, 5), o3 = __builtin_shufflevector(t1, t3, 2, 3, 6, 7);
  v4f_store(out, o0);
  v4f_store(out + ldo, o1);
  v4f_store(out + 2 * size_t(ldo), o2);
  v4f_store(out + 3 * size_t(ldo), o3);
}

// B(k, j) = B[k·sk + j·sj]: row-major B (sk = ldb, sj = 1) or its transpose (sk = 1, sj = ld).
static void pack_strided(int K, int N, const float* B, size_t sk, size_t sj, GemmPacked* out) {
  out->K = K;
  out->N = N;
  out->panel = NR;
  const int panels = (N + NR - 1) / NR;
  out->data.resize(size_t(panels) * K * NR);  // every float written below: no zero fill first (was 1-2 % of a step)
  for (int p = 0; p < panels; ++p) {
    const int j0 = p * NR, cols = std::min(NR, N - j0);
    float* dst = out->data.data() + size_t(p) * K * NR;
    if (sj == 1 && cols == NR) {  // a whole panel of row-major B: two vectors per row
      for (int k = 0; k < K; ++k) {
        const float* src = B + size_t(k) * sk + j0;
        store(dst + size_t(k) * NR, load(src));
        store(dst + size_t(k) * NR + W, load(src + W));
      }
      continue;
    }
    int k0 = 0;
    if (sk == 1 && cols == NR)  // a whole panel from Bᵀ (a weight for x·Wᵀ): 4 x 4 tiles transposed in registers
      for (; k0 + 4 <= K; k0 += 4)
        for (int j = 0; j < NR; j += 4) transpose_tile(B + size_t(j0 + j) * sj + k0, int(sj), dst + size_t(k0) * NR + j, NR);
    for (int k = k0; k < K; ++k) {
      float* row = dst + size_t(k) * NR;
      for (int j = 0; j < cols; ++j) row[j] = B[size_t(k) * sk + size_t(j0 + j) * sj];
      for (int j = cols; j < NR; ++j) row[j] = 0.0f;  // the last panel's padding
    }
  }
}

size_t gemm_packed_size(int K, int N) { return size_t((N + NR - 1) / NR) * size_t(K) * NR; }

void gemm_packed_resize(int K, int N, GemmPacked* out) {
  out->K = K;
  out->N = N;
  out->panel = NR;
  out->data.assign(gemm_packed_size(K, N), 0.0f);
}

void gemm_pack_b(int K, int N, const float* B, int ldb, GemmPacked* out) { pack_strided(K, N, B, size_t(ldb), 1, out); }

void gemm_pack_bt(int K, int N, const float* Bt, int ld, GemmPacked* out) { pack_strided(K, N, Bt, 1, size_t(ld), out); }

void gemm_packed(int M, const float* A, int lda, const GemmPacked& B, float* C, int ldc, bool accumulate, int k_count,
                 int n_count) {
  ATTNPLAY_ASSERT(M >= 0 && k_count <= B.K && n_count <= B.N);  // the header: k_count <= K, n_count <= N (-1 = all)
  const int K = k_count < 0 ? B.K : std::min(k_count, B.K), N = n_count < 0 ? B.N : std::min(n_count, B.N);
  if (K == 0) {
    if (!accumulate)
      for (int i = 0; i < M; ++i) std::fill(C + size_t(i) * ldc, C + size_t(i) * ldc + N, 0.0f);
    return;
  }
  if (g_kernel) {
    g_kernel(M, N, K, A, lda, B.data.data(), B.K * NR, C, ldc, accumulate ? 1 : 0);
    return;
  }
#if defined(__wasm_simd128__)
  ap_kernel_gemm(M, N, K, A, lda, B.data.data(), B.K * NR, C, ldc, accumulate ? 1 : 0);
#else
  const int panels = (N + NR - 1) / NR;
  for (int i = 0; i < M; i += MR) {
    const int rows = std::min(MR, M - i);
    for (int p = 0; p < panels; ++p) {
      const int j0 = p * NR, cols = std::min(NR, N - j0);
      const float* panel = B.data.data() + size_t(p) * B.K * NR;
      const float* a = A + size_t(i) * lda;
      float* c = C + size_t(i) * ldc + j0;
      switch (rows) {
        case 4: micro_kernel<4>(K, a, lda, panel, c, ldc, cols, accumulate); break;
        case 3: micro_kernel<3>(K, a, lda, panel, c, ldc, cols, accumulate); break;
        case 2: micro_kernel<2>(K, a, lda, panel, c, ldc, cols, accumulate); break;
        default: micro_kernel<1>(K, a, lda, panel, c, ldc, cols, accumulate); break;
      }
    }
  }
#endif
}

namespace {
using WeightKey = std::tuple<const float*, int, int, int, bool>;  // source, K, N, ld, transposed
struct WeightEntry {
  GemmPacked packed;
  bool packed_in_scope = false;  // packed since the open scope began (else: a buffer kept from an earlier scope)
};
// Kept between scopes: a training step packs the same matrices (same addresses, new values) as the step before, so
// each is repacked into the buffer it had, with no allocation and no zero fill (1-2 % of a WASM step).
thread_local std::map<WeightKey, WeightEntry> t_weights;
thread_local bool t_scope_open = false;
}  // namespace

GemmWeightScope::GemmWeightScope() {
  ATTNPLAY_ASSERT(!t_scope_open);  // not nested
  t_scope_open = true;
}

GemmWeightScope::~GemmWeightScope() {
  for (auto it = t_weights.begin(); it != t_weights.end();) {  // keep what this scope packed; drop the rest (gone)
    if (!it->second.packed_in_scope) {
      it = t_weights.erase(it);
      continue;
    }
    it->second.packed_in_scope = false;
    ++it;
  }
  t_scope_open = false;
}

const GemmPacked& gemm_pack_weight(int K, int N, const float* src, int ld, bool transposed, GemmPacked* scratch) {
  GemmPacked* out = scratch;
  if (t_scope_open) {
    WeightEntry& e = t_weights[WeightKey{src, K, N, ld, transposed}];
    if (e.packed_in_scope) return e.packed;
    e.packed_in_scope = true;
    out = &e.packed;
  }
  if (transposed) gemm_pack_bt(K, N, src, ld, out);
  else gemm_pack_b(K, N, src, ld, out);
  return *out;
}

void gemm(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc) {
  GemmPacked packed;
  gemm_pack_b(K, N, B, ldb, &packed);
  gemm_packed(M, A, lda, packed, C, ldc);
}

void gemm_reference(int M, int N, int K, const float* A, int lda, const float* B, int ldb, float* C, int ldc) {
  for (int i = 0; i < M; ++i)
    for (int j = 0; j < N; ++j) {
      double acc = 0;
      for (int k = 0; k < K; ++k) acc += double(A[size_t(i) * lda + k]) * double(B[size_t(k) * ldb + j]);
      C[size_t(i) * ldc + j] = float(acc);
    }
}

// exp(t) for t in [-87.34, 88.38] = 2^n · exp(r): n = round(t·log2 e) by the 1.5·2^23 rounding trick (n lands in
// the low mantissa bits), r = t - n·ln2 with ln 2 split in two (exact first product), exp(r) by Cephes expf's
// degree-5 polynomial, 2^n written into the exponent bits.
static inline vf vexp_clamped(vf t) {
  const vf magic = splat(12582912.0f);
  const vf z = t * splat(1.44269504088896341f) + magic;
  vi zi, mi;
  std::memcpy(&zi, &z, sizeof zi);
  const vf m = magic;
  std::memcpy(&mi, &m, sizeof mi);
  const vi n = zi - mi;
  const vf fn = z - magic;
  const vf r = t - fn * splat(0.693359375f) - fn * splat(-2.12194440e-4f);
  const vf r2 = r * r;
  vf y = ((((splat(1.9875691500e-4f) * r + splat(1.3981999507e-3f)) * r + splat(8.3334519073e-3f)) * r +
           splat(4.1665795894e-2f)) * r + splat(1.6666665459e-1f)) * r + splat(5.0000001201e-1f);
  y = y * r2 + r + splat(1.0f);
  const vi bits = (n + 127) << 23;
  vf pow2;
  std::memcpy(&pow2, &bits, sizeof pow2);
  return y * pow2;
}

// Inputs below -87.34 (and -inf) give exactly 0; above 88.38 saturate at ~3.4e38.
static inline vf vexp(vf x) {
  const vf lo = splat(-87.3365447504f), hi = splat(88.3762626647949f);
  const vf t = x < lo ? lo : (x > hi ? hi : x);
  return x < lo ? vf{} : vexp_clamped(t);
}

// The softmax's exp: its arguments are x - (row max) <= 0 (or -inf), so only the lower clamp remains; the same
// values as vexp there, two vector operations fewer.
static inline vf vexp_nonpos(vf x) {
  const vf lo = splat(-87.3365447504f);
  return x < lo ? vf{} : vexp_clamped(x < lo ? lo : x);
}

static inline float hsum(vf v) {
  float b[W];
  store(b, v);
  float s = 0;
  for (int i = 0; i < W; ++i) s += b[i];
  return s;
}

void vexp_inplace(float* x, int n) {
  int i = 0;
  for (; i + W <= n; i += W) store(x + i, vexp(load(x + i)));
  if (i < n) {  // tail through a padded vector (padding is -inf: exp 0)
    float b[W];
    for (int j = 0; j < W; ++j) b[j] = i + j < n ? x[i + j] : -std::numeric_limits<float>::infinity();
    store(b, vexp(load(b)));
    for (int j = 0; i + j < n; ++j) x[i + j] = b[j];
  }
}

float vmax(const float* x, int n) {
  float m = -std::numeric_limits<float>::infinity();
  int i = 0;
  if (n >= 4 * W) {  // four independent accumulators: one would chain every compare-select on the one before
    vf a0 = load(x), a1 = load(x + W), a2 = load(x + 2 * W), a3 = load(x + 3 * W);
    for (i = 4 * W; i + 4 * W <= n; i += 4 * W) {
      const vf v0 = load(x + i), v1 = load(x + i + W), v2 = load(x + i + 2 * W), v3 = load(x + i + 3 * W);
      a0 = v0 > a0 ? v0 : a0;
      a1 = v1 > a1 ? v1 : a1;
      a2 = v2 > a2 ? v2 : a2;
      a3 = v3 > a3 ? v3 : a3;
    }
    a0 = a1 > a0 ? a1 : a0;
    a2 = a3 > a2 ? a3 : a2;
    a0 = a2 > a0 ? a2 : a0;
    float b[W];
    store(b, a0);
    for (int j = 0; j < W; ++j) m = std::max(m, b[j]);
  }
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

// In place; kept apart from vexp_shift_sum_to on purpose: forwarding to it (x, x) measured 1.7x slower in the model
// benchmark at 2048 tokens (BM_ModelComputeTransformer).
float vexp_shift_sum(float* x, int n, float shift) {
  if (g_exp_kernel) return g_exp_kernel(x, x, n, shift);
  const vf s = splat(shift);
  vf acc = vf{};
  int i = 0;
  for (; i + W <= n; i += W) {
    const vf e = vexp_nonpos(load(x + i) - s);
    store(x + i, e);
    acc += e;
  }
  float sum = hsum(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - shift);
    sum += x[i];
  }
  return sum;
}

void vscale(float* x, int n, float f) {
  const vf s = splat(f);
  int i = 0;
  for (; i + W <= n; i += W) store(x + i, load(x + i) * s);
  for (; i < n; ++i) x[i] *= f;
}

void vscale_to(const float* x, float* y, int n, float f) {
  const vf s = splat(f);
  int i = 0;
  for (; i + W <= n; i += W) store(y + i, load(x + i) * s);
  for (; i < n; ++i) y[i] = x[i] * f;
}

void vtranspose(int rows, int cols, const float* a, int lda, float* out, int ldo) {
  // Blocks of 16 rows of a: each output row gets 16 floats (a cache line) at once. Rows of out are often 1.5 KB apart
  // (384 tokens), which maps them to few cache sets: 4 floats at a time, the lines were evicted before they filled
  // (1.6 floats/ns for 384 x 192 in Node; 2.5-3.2 blocked).
  constexpr int kRows = 16;
  const int rows4 = rows - rows % 4, cols4 = cols - cols % 4;
  for (int i0 = 0; i0 < rows4; i0 += kRows) {
    const int i1 = std::min(i0 + kRows, rows4);
    for (int j = 0; j < cols4; j += 4)
      for (int i = i0; i < i1; i += 4) transpose_tile(a + size_t(i) * lda + j, lda, out + size_t(j) * ldo + i, ldo);
    for (int j = cols4; j < cols; ++j)
      for (int i = i0; i < i1; ++i) out[size_t(j) * ldo + i] = a[size_t(i) * lda + j];
  }
  for (int i = rows4; i < rows; ++i)
    for (int j = 0; j < cols; ++j) out[size_t(j) * ldo + i] = a[size_t(i) * lda + j];
}

void vrelu_backward(const float* pre, const float* d_y, float* d_x, size_t n) {
  size_t i = 0;
  for (; i + W <= n; i += W) {  // d_y where pre > 0, else 0 (relu'(0) = 0): a select, no branch per element
    const vi keep = load(pre + i) > vf{};
    const vf g = load(d_y + i);
    vi bits;
    std::memcpy(&bits, &g, sizeof bits);
    bits &= keep;
    vf r;
    std::memcpy(&r, &bits, sizeof r);
    store(d_x + i, r);
  }
  for (; i < n; ++i) d_x[i] = pre[i] > 0.0f ? d_y[i] : 0.0f;
}

void vadd(float* acc, const float* x, int n) {
  int i = 0;
  for (; i + W <= n; i += W) store(acc + i, load(acc + i) + load(x + i));
  for (; i < n; ++i) acc[i] += x[i];
}

float vexp_shift_sum_to(const float* x, float* y, int n, float shift) {
  if (g_exp_kernel) return g_exp_kernel(x, y, n, shift);
  const vf s = splat(shift);
  vf acc = vf{};
  int i = 0;
  for (; i + W <= n; i += W) {
    const vf e = vexp_nonpos(load(x + i) - s);
    store(y + i, e);
    acc += e;
  }
  float sum = hsum(acc);
  for (; i < n; ++i) {
    y[i] = std::exp(x[i] - shift);
    sum += y[i];
  }
  return sum;
}

float vsum(const float* x, int n) {
  vf acc = vf{};
  int i = 0;
  for (; i + W <= n; i += W) acc += load(x + i);
  float sum = hsum(acc);
  for (; i < n; ++i) sum += x[i];
  return sum;
}

}  // namespace attnplay
