// attnplay core: the layers of the tiny Transformer (Eigen only).
//
// Dimension glossary: n (tokens), n_q / n_k (query / key rows), d_model, heads, d_k, d_v, d_ff (FFN width).
//
// Index
//   [Linear]     linear_forward            y = x·Wᵀ + b (PyTorch nn.Linear layout)
//   [Norm]       layer_norm_forward        nn.LayerNorm over the last dimension
//   [Activation] activation_forward        relu, gelu (exact, erf)
//   [MHA]        mha_head_rows             where head h's W_q, W_k, W_v rows sit in in_proj (the one head layout)
//                mha_forward               nn.MultiheadAttention with its trace (q, k, v and every head's attention),
//                                          plus grouped-query heads, RoPE and ALiBi (MhaOptions); its backward,
//                                          mha_backward, is in backward.h
//   [Batched]    mha_batched               x·W projections over raw buffers, the JS fast path
#pragma once

#include "core/attention.h"

#include <vector>

namespace attnplay {

enum ActivationKind {
  ACTIVATION_KIND_RELU,
  ACTIVATION_KIND_GELU,       // 0.5·x·(1 + erf(x/√2)), PyTorch's default (approximate="none")
  ACTIVATION_KIND_GELU_TANH,  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))): GPT-2's gelu_new, approximate="tanh"
  ACTIVATION_KIND_SILU,       // x·sigmoid(x): Llama's and Qwen2's gated MLP
};

// [Linear] x [n, d_in], w [d_out, d_in], b [d_out] (size 0: no bias) -> y [n, d_out].
void linear_forward(const Mat& x, const Mat& w, const Vec& b, Mat* y);

// [Norm] x [n, d], gamma [d], beta [d] -> y [n, d]; statistics in float, as nn.LayerNorm on the CPU.
void layer_norm_forward(const Mat& x, const Vec& gamma, const Vec& beta, float eps, Mat* y);
struct LayerNormCache {
  Mat xhat;   // [n, d] (x - mean) / sqrt(var + eps)
  Vec rstd;   // [n] 1 / sqrt(var + eps)
};
// The same, keeping what layer_norm_backward (backward.h) needs; cache may be nullptr.
void layer_norm_forward_cached(const Mat& x, const Vec& gamma, const Vec& beta, float eps, Mat* y, LayerNormCache* cache);

// RMSNorm (Llama's, Qwen2's): y = x / sqrt(mean(x²) + eps) · gamma, statistics in float as transformers computes them.
// x [n, d], gamma [d] -> y [n, d].
void rms_norm_forward(const Mat& x, const Vec& gamma, float eps, Mat* y);

// [Activation] in place on x [any shape].
void activation_forward(ActivationKind kind, Mat* x);

// [MHA] ---------------------------------------------------------------------------------------------------
struct MhaWeights {
  int heads = 1, d_k = 0, d_v = 0;
  int kv_heads = 0; // key/value heads (0 = heads): < heads is grouped-query attention, 1 is multi-query; query head h
                    //   uses key/value head h / (heads / kv_heads), as repeat_interleave in Llama-style code
  Mat in_proj_w;    // [heads·d_k + kv·(d_k + d_v), d_model]  rows: W_q, then W_k, then W_v (PyTorch's packed layout
                    //   when kv_heads == heads)
  Vec in_proj_b;    // [heads·d_k + kv·(d_k + d_v)]
  Mat out_proj_w;   // [d_model, heads·d_v]
  Vec out_proj_b;   // [d_model]
};

// Head h's rows of in_proj_w: its query rows [q, q + d_k), and its key/value head's key rows [k, k + d_k) and value
// rows [v, v + d_v). Query head h uses key/value head h / (heads / kv_heads). 0 <= head < heads.
struct MhaHeadRows {
  int q = 0, k = 0, v = 0;
};
MhaHeadRows mha_head_rows(const MhaWeights& w, int head);
int         mha_kv_heads(const MhaWeights& w);   // kv_heads, or heads when 0

struct HeadTrace {
  Mat q;                  // [n_q, d_k] this head's queries (after projection, and RoPE when on)
  Mat k;                  // [n_k, d_k] (its key/value group's, with grouped-query attention)
  Mat v;                  // [n_k, d_v]
  float alibi_slope = 0;  // this head's ALiBi slope (0: none)
  AttentionOutput attn;   // scores, weights, context of this head
};

// Positions that act inside attention, and how much of each head to keep.
struct MhaOptions {
  float rope_base = 0;                          // > 0: RoPE (rope_apply) on every head's q and k
  const std::vector<float>* alibi = nullptr;    // [heads] ALiBi slopes, or nullptr
  const AttentionDetail* details = nullptr;     // [heads] what to keep of each head, or nullptr (everything)
  int segment = 0;                              // > 0 (self-attention only): the rows are sequences of `segment`
                                                //   tokens one after another (a training batch, stacked so each
                                                //   projection is one product); attention, RoPE and ALiBi stay
                                                //   within each; the mask is [segment, segment]
  bool rope_half = false;                       // RoPE in the rotate-half layout (Hugging Face's Llama): pairs (i, i + d/2)
  int position_offset = 0;                      // the first row's position (RoPE, ALiBi): rows after a kept prefix
  const std::vector<HeadTrace>* past = nullptr; // [heads] keys and values of earlier rows (a kept prefix, past[h].k and
                                                //   .v already RoPE'd), attended before these rows' own; the mask is
                                                //   [n_q, past rows + n_k]; the heads' k and v then hold all the rows
  const std::vector<uint8_t>* ablated = nullptr;  // [heads] 1: the head's context is 0 before the output projection
                                                //   (its scores and weights as computed: SPEC §9's ablate)
};

// x_q [n_q, d_model], x_kv [n_k, d_model] -> heads (resized to w.heads), concat [n_q, heads·d_v] (contexts side
// by side), output [n_q, d_model] = concat·out_projᵀ + b. Self-attention passes the same matrix twice.
// With options.segment = n (B sequences, n_q = n_k = B·n): each head's q, k, v are [B·n, d] and its attn.weights
// and attn.context stack the B blocks' [n, n] and [n, d_v] (scores, row_lse, thumb: left empty).
void mha_forward(const Mat& x_q, const Mat& x_kv, const MhaWeights& w, const AttentionParams& params,
                 const MaskMat* mask, std::vector<HeadTrace>* heads, Mat* concat, Mat* output,
                 const MhaOptions& options = MhaOptions());

// [Batched] x [n, d_model], wq/wk/wv/wo [d_model, d_model] applied as x·W (no bias), scaled dot product with
// 1/√d_k, optional causal mask -> output [n, d_model] and, when weights != nullptr, weights [heads, n, n].
void mha_batched(const float* x, const float* wq, const float* wk, const float* wv, const float* wo, int n,
                 int d_model, int heads, bool causal, float* output, float* weights);

}  // namespace attnplay
