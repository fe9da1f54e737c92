// attnplay core: attention kernels (Eigen only; no UI, GL or emscripten includes).
//
// Dimension glossary (used in every shape comment of src/core):
//   n_q      number of query rows          n_k      number of key/value rows (n_q != n_k: cross-attention)
//   d_model  width of the token vectors    heads    number of attention heads
//   d_k      query/key width of one head   d_v      value width of one head
//   d_a      hidden width of additive (Bahdanau) attention
//
// Index
//   [Types]     Mat / Vec / MaskMat / MatCRef and the enums
//   [Masks]     mask_build: causal, local window, key padding, single cells, combined
//   [Positions] rope_apply, alibi_slopes: positions that act inside attention
//   [Softmax]   softmax_rows_masked, softmax_row_fast: the one softmax row routine and its vector form
//   [Params]    AttentionKindWeights, attention_params_make: the one parameter builder
//   [Kinds]     AttentionKindInfo, attention_kind_info: one row per kind (attention_kinds.cpp)
//   [Attention] attention_forward (fast, blocked) and attention_forward_reference (plain loops, double);
//               AttentionDetail (keep the n² matrices or not), attention_weight_at, attention_thumbnail
//   [Steps]     attention_score_steps, attention_softmax_steps: one cell's arithmetic (the walkthrough)
//   [Batched]   attention_batched: raw row-major float buffers, the JS fast path
//   [Products]  mat_product: c = alpha·op(a)·op(b) on this target's fastest kernel (the backward passes')
//
// Every kernel returns its intermediates (scores, weights, context) through an output struct: the UI,
// the CLI and the tests read the same buffers.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace attnplay {

// [Types] -------------------------------------------------------------------------------------------------
using Mat     = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // row-major, as JSON/JS
using Vec     = Eigen::VectorXf;
using MatD    = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MaskMat = Eigen::Array<uint8_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;   // 1 = query may NOT see key
using MatCRef = Eigen::Ref<const Mat>;  // a block of rows or columns of a bigger matrix, read in place (no copy)

enum AttentionKind {
  ATTENTION_KIND_SCALED_DOT,  // q·k / divisor                       (divisor from the config's "scale")
  ATTENTION_KIND_DOT,         // q·k                                  (never scaled)
  ATTENTION_KIND_GENERAL,     // qᵀ W k / divisor                    (Luong "general"; W [d_k, d_k])
  ATTENTION_KIND_ADDITIVE,    // v_aᵀ tanh(W q + U k)                 (Bahdanau; W, U [d_a, d_k], v_a [d_a]; never scaled)
  ATTENTION_KIND_COUNT,       // (not a kind: the count, for tables and the loops of tests and fuzzers)
};

// [Masks] -------------------------------------------------------------------------------------------------
struct MaskSpec {
  bool causal = false;                       // query i sees keys j <= i (top-left aligned, as torch.tril)
  int window = -1;                           // >= 0: query i sees keys with |i - j| <= window; -1: no window
  std::vector<int> padding;                  // key indices no query may see (key_padding_mask)
  std::vector<std::pair<int, int>> cells;    // (i, j): query i may not see key j
};

bool    mask_spec_is_empty(const MaskSpec& spec);                  // true when the spec masks nothing
MaskMat mask_build(const MaskSpec& spec, int n_q, int n_k);          // -> [n_q, n_k]; indices must be in range (validated upstream)

// [Softmax] -----------------------------------------------------------------------------------------------
// The one softmax row routine (attention.cpp's softmax_row, any scalar: float for the kernels, double for the
// reference and the overflow path) takes every row of every path; this is its vector form, for rows whose hidden
// cells are already -inf and the rest finite (the kernels' rows): w [n] = exp(s - max) / Σ (w may be s). normalize
// false: w keeps exp(s - max) and *inv_sum gets 1/Σ (the caller scales something smaller than the row, e.g. its
// context). Returns the row's log-sum-exp (-inf, and w all 0, for a row with no visible key).
float softmax_row_fast(const float* s, float* w, int n, bool normalize = true, float* inv_sum = nullptr);
// Row-wise softmax of scores [n_q, n_k] -> weights [n_q, n_k]. Masked cells (mask != nullptr and mask=1) and
// -inf scores get weight 0. A row with +inf scores splits its weight equally among them (the limit of softmax);
// a row whose visible scores are all -inf (overflow) is uniform over its visible keys; a row with no visible key
// is all 0 and flagged in fully_masked[i]. Never produces NaN for non-NaN input.
void softmax_rows_masked(const Mat& scores, const MaskMat* mask, Mat* weights, std::vector<uint8_t>* fully_masked);

// [Attention] ---------------------------------------------------------------------------------------------
struct AttentionParams {
  AttentionKind kind = ATTENTION_KIND_SCALED_DOT;
  float scale_divisor = 1.0f;         // divides scaled_dot/general scores (√d_k, d_k, 1 or a number); ignored by dot/additive
  float temperature = 1.0f;           // divides every kind's scores (> 0)
  const Mat* w_general = nullptr;     // [d_k, d_k]   required by ATTENTION_KIND_GENERAL
  const Mat* w_additive = nullptr;    // [d_a, d_k]   applied to q; required by ATTENTION_KIND_ADDITIVE
  const Mat* u_additive = nullptr;    // [d_a, d_k]   applied to k
  const Vec* v_additive = nullptr;    // [d_a]
  float alibi_slope = 0.0f;           // ALiBi: adds -slope·|i - j| to the scaled score, before temperature (0: none)
};

// [Params] ------------------------------------------------------------------------------------------------
// The extra parameters of kinds general and additive: never in the weights file (SPEC §5), from the seed or the inputs.
struct AttentionKindWeights {
  Mat general_w;                      // [d_k, d_k]
  Mat additive_w, additive_u;         // [d_a, d_k]
  Vec additive_v;                     // [d_a]
};
// The kernel parameters of a kind; the matrix pointers point into kw (valid while kw lives); alibi_slope 0 (per head).
AttentionParams attention_params_make(AttentionKind kind, float scale_divisor, float temperature,
                                      const AttentionKindWeights& kw);

// [Kinds] -------------------------------------------------------------------------------------------------
enum AttentionExtras {
  ATTENTION_EXTRA_NONE,               // the kind reads q and k only
  ATTENTION_EXTRA_W,                  // general: W [d_k, d_k]
  ATTENTION_EXTRA_W_U_V,              // additive: W, U [d_a, d_k] and v_a [d_a] (d_a: the config's attention.d_a)
};
// Everything that differs between kinds (attention_kinds.cpp): a new kind is its enum value and its row there.
struct AttentionKindInfo {
  const char* name;                   // the config's spelling: "scaled_dot", "dot", "general", "additive"
  const char* formula;                // its raw score as the walkthrough writes it: "q·k", "qᵀ W k", ...
  const char* known_as;               // whose it is, for the help text ("Luong", "Bahdanau"; "" none)
  bool scaled;                        // divides by the config's scale (scaled_dot, general); the others never
  AttentionExtras extras;             // the extra parameters it reads (AttentionParams' pointers, from kw)
  // The raw score of one pair, q [d_k] and k [d_k], in double with plain loops: the definition the kernels are tested
  // against (before scale, temperature, ALiBi and mask).
  double (*score_reference)(const float* q, const float* k, int d_k, const AttentionParams& p);
  // Product kinds (non-null): the raw scores are qt·kᵀ with qt = query(q) [n_q, d_k] (times `scale`, so the divisors
  // are folded in): the fast path multiplies on the GEMM kernels, a block of queries at a time.
  void (*query)(const Mat& q, const AttentionParams& p, float scale, Mat* qt);
  // The other kinds: raw scores [n_q, n_k] of every pair, in float.
  void (*pairs)(const Mat& q, const Mat& k, const AttentionParams& p, Mat* raw);
  // d_s [n_q, n_k] = dLoss/d(final score), c = 1 / (divisor·temperature) -> d_q [n_q, d_k], d_k [n_k, d_k] (written).
  void (*backward)(const MatCRef& q, const MatCRef& k, const Mat& d_s, const AttentionParams& p, float c, Mat* d_q,
                   Mat* d_k);
  void (*check)(const AttentionParams& p, int d_k);  // asserts the extras are there and fit d_k
};
const AttentionKindInfo& attention_kind_info(AttentionKind kind);   // 0 <= kind < ATTENTION_KIND_COUNT
bool attention_kind_from_name(const char* name, AttentionKind* out);  // the config's spelling -> kind
bool attention_kind_scaled(AttentionKind kind);                     // attention_kind_info(kind).scaled

// [Positions] inside attention (transformer.positional "rope" / "alibi"; the additive kinds go into x instead)
// RoPE, interleaved pairs as in RoFormer and Meta's Llama: row p of x [n, d] (d even), pair (x[2i], x[2i+1])
// rotated by the angle p·base^(-2i/d). Row p is position p (queries and keys alike, also for cross-attention).
void  rope_apply(Mat* x, float base, bool inverse = false, bool half = false, int offset = 0);
// inverse: by minus the angle (the transpose). half: the rotate-half layout of Hugging Face's Llama, pair (x[i],
// x[i + d/2]) by the angle p·base^(-2i/d). offset: row p is position p + offset.
// ALiBi slopes (Press et al.): heads = 2^k gives 2^(-8/heads), 2^(-16/heads), ...; other counts take the slopes of
// the power of two below and every other slope of the one above, as the paper's reference code does. -> [heads]
std::vector<float> alibi_slopes(int heads);

struct AttentionOutput {
  Mat scores;                         // [n_q, n_k] after scale, temperature and mask; masked cells = -inf
  Mat weights;                        // [n_q, n_k] softmax rows (sum 1, or all 0 for a fully masked row)
  Mat context;                        // [n_q, d_v] weights · v
  std::vector<uint8_t> fully_masked;  // [n_q] 1 where the row has no visible key
  bool overflowed = false;            // float32 scores overflowed: recomputed in double, scores saturate at ±FLT_MAX
  Vec row_lse;                        // [n_q] log Σ_j exp(score(i, j)) over visible keys (-inf: fully masked row), so
                                      //   weight(i, j) = exp(score(i, j) - row_lse(i)) without keeping the matrices
  Mat thumb;                          // [t_q, t_k] weights mean-pooled to at most detail.thumb per side (empty if 0)
};

// How much of an attention head to keep. Thousands of tokens x many heads do not fit in a browser's memory as
// n² matrices: the UI keeps the head on screen whole and the others as context, row_lse and a thumbnail.
struct AttentionDetail {
  bool keep_matrices = true;          // false: scores and weights left empty (kept anyway when overflowed)
  int  thumb = 0;                     // > 0: fill out->thumb (t_q = min(thumb, n_q), t_k = min(thumb, n_k))
};

// q [n_q, d_k], k [n_k, d_k], v [n_k, d_v], mask [n_q, n_k] or nullptr -> out (all fields resized). Queries go in
// blocks of 64 whose scores stay in cache; a block multiplies only the keys up to its last visible one (causal and
// window masks skip the masked tail instead of computing and discarding it).
void attention_forward(const Mat& q, const Mat& k, const Mat& v, const AttentionParams& params, const MaskMat* mask,
                       AttentionOutput* out, const AttentionDetail& detail = AttentionDetail());
// One weight from a head's row_lse (attention_forward's output), without the matrices: O(d_k) (O(d_a·d_k) additive).
// q, k as given to attention_forward; 0 for a masked cell or a fully masked row.
float attention_weight_at(const Mat& q, const Mat& k, const AttentionParams& params, const MaskMat* mask,
                          const Vec& row_lse, int i, int j);
// [Steps] -------------------------------------------------------------------------------------------------
// One score, step by step, from the definitions the kernels are tested against (double, plain loops).
// q [n_q, d_k], k [n_k, d_k] as given to attention_forward; i < n_q, j < n_k. Masking is the caller's (a masked
// cell's score is -inf whatever these say).
struct AttentionScoreSteps {
  double raw = 0;        // the kind's formula before any scaling: q·k, qᵀ W k or v_aᵀ tanh(W q + U k)
  double divisor = 1;    // the scale divisor applied (1 for dot and additive)
  double bias = 0;       // ALiBi: -slope·|i - j| (0 without)
  double score = 0;      // (raw / divisor + bias) / temperature: the cell of AttentionOutput::scores
};
AttentionScoreSteps attention_score_steps(const Mat& q, const Mat& k, const AttentionParams& params, int i, int j);
// Softmax of row i of scores [n_q, n_k] at column j, over the visible keys (mask [n_q, n_k] or nullptr). For a
// visible cell of a row with at least one visible key: exp = e^(s_ij − row_max), weight = exp / sum.
struct AttentionSoftmaxSteps {
  double row_max = 0, exp = 0, sum = 0, weight = 0;
};
AttentionSoftmaxSteps attention_softmax_steps(const Mat& scores, const MaskMat* mask, int i, int j);
// Mean-pools m [rows, cols] to at most side x side (each output cell averages its block) -> [min(side, rows), ..].
Mat   attention_thumbnail(const Mat& m, int side);
// Same contract, plain loops with double accumulation: the reference the fast path is tested against.
void attention_forward_reference(const Mat& q, const Mat& k, const Mat& v, const AttentionParams& params,
                                 const MaskMat* mask, AttentionOutput* out);

// [Batched] -----------------------------------------------------------------------------------------------
// Scaled dot-product attention over raw row-major buffers, as PyTorch's scaled_dot_product_attention:
// q [heads, n_q, d_k], k [heads, n_k, d_k], v [heads, n_k, d_v] -> context [heads, n_q, d_v] and, when
// weights != nullptr, weights [heads, n_q, n_k]. scores = scale · q·kᵀ (scale multiplies); causal masks j > i.
void attention_batched(const float* q, const float* k, const float* v, int heads, int n_q, int n_k, int d_k, int d_v,
                       bool causal, float scale, float* context, float* weights);
// One head over strided buffers (the kernel of attention_batched and mha_batched): q [n_q, d_k] with row stride
// ldq, k [n_k, d_k] (ldk), v [n_k, d_v] (ldv) -> out [n_q, d_v] (ldo) and weights [n_q, n_k] or nullptr.
void attention_head_fast(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, int n_q, int n_k,
                         int d_k, int d_v, bool causal, float scale, float* out, int ldo, float* weights);

// [Products] ----------------------------------------------------------------------------------------------
// c = alpha · op(a) · op(b) (op: transpose where ta / tb) -> c resized [rows, cols]. Natively Eigen's product; in
// WebAssembly the packed kernel (the relaxed-SIMD one where the page has it): Eigen's SIMD128 product took 12 % of a
// training step in attention_backward alone.
void mat_product(const MatCRef& a, bool ta, const MatCRef& b, bool tb, float alpha, Mat* c);

// Human-readable description of the build's vector units, e.g. "SSE, SSE2, ... AVX2, FMA" or "WASM SIMD128".
std::string core_simd_instruction_sets();
bool        core_simd_enabled();       // true when Eigen vectorises (SSE/AVX natively, SIMD128 on WASM)

}  // namespace attnplay
