// attnplay core: Transformer layers. Glossary and contracts: layers.h.
#include "core/layers.h"

#include "core/assert.h"
#include "core/gemm.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace attnplay {

// x [n, d_in], w [d_out, d_in] (row stride d_in), b [d_out] or nullptr -> y [n, d_out]: on the vector GEMM.
static void linear_raw(const Mat& x, const float* w, int d_out, const float* b, Mat* y) {
  const int n = int(x.rows()), d_in = int(x.cols());
  thread_local GemmPacked scratch;
  const GemmPacked& pw = gemm_pack_weight(d_in, d_out, w, d_in, true, &scratch);  // once per GemmWeightScope
  y->resize(n, d_out);
  gemm_packed(n, x.data(), d_in, pw, y->data(), d_out);
  if (b)
    for (int i = 0; i < n; ++i) {
      float* row = y->data() + size_t(i) * d_out;
      for (int c = 0; c < d_out; ++c) row[c] += b[c];
    }
}

void linear_forward(const Mat& x, const Mat& w, const Vec& b, Mat* y) {
  ATTNPLAY_ASSERT(x.cols() == w.cols() && (b.size() == 0 || b.size() == w.rows()));
  linear_raw(x, w.data(), int(w.rows()), b.size() > 0 ? b.data() : nullptr, y);
}

// Row sums in float with four partial sums, one per lane (a fixed order: the same bits every run, without
// -ffast-math); float as PyTorch's CPU nn.LayerNorm. Was double: 7 % of a training step in WebAssembly.
static inline float row_sum(const float* a, int d) {
  v4f s = v4f{};
  int c = 0;
  for (; c + 4 <= d; c += 4) s += v4f_load(a + c);
  float s0 = s[0];
  for (; c < d; ++c) s0 += a[c];
  return (s0 + s[1]) + (s[2] + s[3]);
}

static inline float row_sq_dev(const float* a, float mean, int d) {
  v4f s = v4f{};
  const v4f m = v4f_splat(mean);
  int c = 0;
  for (; c + 4 <= d; c += 4) {
    const v4f e = v4f_load(a + c) - m;
    s += e * e;
  }
  float s0 = s[0];
  for (; c < d; ++c) s0 += (a[c] - mean) * (a[c] - mean);
  return (s0 + s[1]) + (s[2] + s[3]);
}

void layer_norm_forward_cached(const Mat& x, const Vec& gamma, const Vec& beta, float eps, Mat* y, LayerNormCache* cache) {
  const int n = int(x.rows()), d = int(x.cols());
  ATTNPLAY_ASSERT(gamma.size() == d && beta.size() == d && eps > 0);
  ATTNPLAY_ASSERT(y != &x);  // y is resized before x is read
  y->resize(n, d);
  if (cache) {
    cache->xhat.resize(n, d);
    cache->rstd.resize(n);
  }
  const float* g = gamma.data();
  const float* b = beta.data();
  for (int i = 0; i < n; ++i) {
    const float* xr = x.data() + size_t(i) * d;
    const float mean = row_sum(xr, d) / float(d);
    const float var = row_sq_dev(xr, mean, d) / float(d);  // biased, as nn.LayerNorm
    const float inv = 1.0f / std::sqrt(var + eps);
    float* yr = y->data() + size_t(i) * d;
    // xhat = (x - mean)·inv, y = xhat·g + b; four lanes at a time (the same operations per element as the tail)
    float* hr = cache ? cache->xhat.data() + size_t(i) * d : nullptr;
    if (cache) cache->rstd[i] = inv;
    const v4f vm = v4f_splat(mean), vi = v4f_splat(inv);
    int c = 0;
    for (; c + 4 <= d; c += 4) {
      const v4f h = (v4f_load(xr + c) - vm) * vi;
      if (hr) v4f_store(hr + c, h);
      v4f_store(yr + c, h * v4f_load(g + c) + v4f_load(b + c));
    }
    for (; c < d; ++c) {
      const float h = (xr[c] - mean) * inv;
      if (hr) hr[c] = h;
      yr[c] = h * g[c] + b[c];
    }
  }
}

void layer_norm_forward(const Mat& x, const Vec& gamma, const Vec& beta, float eps, Mat* y) {
  layer_norm_forward_cached(x, gamma, beta, eps, y, nullptr);
}

void activation_forward(ActivationKind kind, Mat* x) {
  float* p = x->data();
  const size_t n = size_t(x->size());
  switch (kind) {
    case ACTIVATION_KIND_RELU:
      for (size_t i = 0; i < n; ++i) p[i] = p[i] > 0.0f ? p[i] : 0.0f;
      break;
    case ACTIVATION_KIND_GELU:
      for (size_t i = 0; i < n; ++i) p[i] = 0.5f * p[i] * (1.0f + std::erf(p[i] * 0.70710678118654752f));
      break;
    case ACTIVATION_KIND_GELU_TANH:  // transformers' NewGELUActivation: 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
      // tanh(u) = sign(u) (1 - e) / (1 + e) with e = exp(-2|u|) from the vector exp, a block at a time: std::tanh
      // per value was ~10 % of a GPT-2 forward in WebAssembly. Error ~2e-7 relative to 1 + tanh (vexp's).
      for (size_t i0 = 0; i0 < n; i0 += 1024) {
        const int m = int(std::min<size_t>(1024, n - i0));
        float e[1024];
        for (int i = 0; i < m; ++i) {
          const float x = p[i0 + size_t(i)], u = 0.7978845608028654f * (x + 0.044715f * x * x * x);
          e[i] = -2.0f * std::fabs(u);
        }
        vexp_inplace(e, m);
        for (int i = 0; i < m; ++i) {
          float& x = p[i0 + size_t(i)];
          const float t = (1.0f - e[i]) / (1.0f + e[i]);
          x = 0.5f * x * (1.0f + (x < 0.0f ? -t : t));  // sign(u) = sign(x): u is x times a positive factor
        }
      }
      break;
    case ACTIVATION_KIND_SILU:  // x · sigmoid(x) = x / (1 + exp(-x)), the exp a vector at a time (above: why)
      for (size_t i0 = 0; i0 < n; i0 += 1024) {
        const int m = int(std::min<size_t>(1024, n - i0));
        float e[1024];
        for (int i = 0; i < m; ++i) e[i] = -p[i0 + size_t(i)];
        vexp_inplace(e, m);  // (above 88.4 it saturates at ~3.4e38: x / 3.4e38 is the 0 it should be)
        for (int i = 0; i < m; ++i) p[i0 + size_t(i)] /= 1.0f + e[i];
      }
      break;
  }
}

void rms_norm_forward(const Mat& x, const Vec& gamma, float eps, Mat* y) {
  const int n = int(x.rows()), d = int(x.cols());
  ATTNPLAY_ASSERT(gamma.size() == d && eps > 0 && y != &x);
  y->resize(n, d);
  for (int i = 0; i < n; ++i) {
    const float* xr = x.data() + size_t(i) * d;
    v4f s = v4f{};
    int c = 0;
    for (; c + 4 <= d; c += 4) {
      const v4f e = v4f_load(xr + c);
      s += e * e;
    }
    float s0 = s[0];
    for (; c < d; ++c) s0 += xr[c] * xr[c];
    const float inv = 1.0f / std::sqrt(((s0 + s[1]) + (s[2] + s[3])) / float(d) + eps);  // mean(x²), as torch.rsqrt
    float* yr = y->data() + size_t(i) * d;
    for (c = 0; c < d; ++c) yr[c] = gamma[c] * (xr[c] * inv);
  }
}

int mha_kv_heads(const MhaWeights& w) { return w.kv_heads > 0 ? w.kv_heads : w.heads; }

MhaHeadRows mha_head_rows(const MhaWeights& w, int head) {
  ATTNPLAY_ASSERT(head >= 0 && head < w.heads);
  const int H = w.heads, KV = mha_kv_heads(w), g = head / (H / KV);  // rows: W_q of every head, then W_k, then W_v
  MhaHeadRows r;
  r.q = head * w.d_k;
  r.k = H * w.d_k + g * w.d_k;
  r.v = H * w.d_k + KV * w.d_k + g * w.d_v;
  return r;
}

// One head over stacked sequences (options.segment): each block of `segment` rows is attention_forward's input of its
// own (positions from 0), so the weights are the same as one call per sequence. t->q, t->k, t->v [B·n, d] in,
// (RoPE'd in place); t->attn.weights [B·n, n] and concat's columns [col, col + d_v) out.
static void mha_head_segments(const MhaOptions& options, const AttentionParams& p, const MaskMat* mask,
                              const AttentionDetail& detail, HeadTrace* t, Mat* concat, int col) {
  const int n = options.segment, rows = int(t->q.rows()), d_v = int(t->v.cols());
  ATTNPLAY_ASSERT(rows % n == 0 && t->k.rows() == rows);
  thread_local Mat qb, kb, vb;
  thread_local AttentionOutput ob;
  t->attn = AttentionOutput();
  t->attn.weights.resize(rows, n);
  t->attn.fully_masked.assign(size_t(rows), 0);
  for (int r0 = 0; r0 < rows; r0 += n) {
    qb = t->q.middleRows(r0, n);
    kb = t->k.middleRows(r0, n);
    vb = t->v.middleRows(r0, n);
    if (options.rope_base > 0) {
      rope_apply(&qb, options.rope_base);
      rope_apply(&kb, options.rope_base);
      t->q.middleRows(r0, n) = qb;  // the backward reads q and k as attention saw them
      t->k.middleRows(r0, n) = kb;
    }
    attention_forward(qb, kb, vb, p, mask, &ob, detail);
    t->attn.weights.middleRows(r0, n) = ob.weights;
    concat->block(r0, col, n, d_v) = ob.context;
    std::copy(ob.fully_masked.begin(), ob.fully_masked.end(), t->attn.fully_masked.begin() + r0);
    t->attn.overflowed = t->attn.overflowed || ob.overflowed;
  }
}

void mha_forward(const Mat& x_q, const Mat& x_kv, const MhaWeights& w, const AttentionParams& params,
                 const MaskMat* mask, std::vector<HeadTrace>* heads, Mat* concat, Mat* output,
                 const MhaOptions& options) {
  const int H = w.heads, d_k = w.d_k, d_v = w.d_v, n_q = int(x_q.rows());
  ATTNPLAY_ASSERT(options.segment == 0 || (x_kv.rows() == n_q && n_q % options.segment == 0));
  const int KV = mha_kv_heads(w);
  const int q_rows = H * d_k, k_rows = KV * d_k, v_rows = KV * d_v;
  ATTNPLAY_ASSERT(H % KV == 0 && w.in_proj_w.rows() == q_rows + k_rows + v_rows);
  ATTNPLAY_ASSERT(x_q.cols() == w.in_proj_w.cols() && x_kv.cols() == w.in_proj_w.cols());
  ATTNPLAY_ASSERT(w.out_proj_w.cols() == H * d_v);
  ATTNPLAY_ASSERT(!options.alibi || int(options.alibi->size()) == H);
  ATTNPLAY_ASSERT(!options.alibi || options.position_offset == 0);  // (ALiBi's distances count from row 0)
  ATTNPLAY_ASSERT(options.segment == 0 || (!options.past && !options.ablated && !options.rope_half));  // training's
  ATTNPLAY_ASSERT(!options.past || int(options.past->size()) == H);
  ATTNPLAY_ASSERT(!options.ablated || int(options.ablated->size()) == H);
  // Projections for all heads at once: Q = x_q·W_qᵀ + b_q, K = x_kv·W_kᵀ + b_k, V = x_kv·W_vᵀ + b_v.
  // (in_proj_w is row-major: W_q, W_k, W_v are consecutive row ranges.)
  const int d_model = int(w.in_proj_w.cols());
  const float* wp = w.in_proj_w.data();
  const float* bp = w.in_proj_b.size() > 0 ? w.in_proj_b.data() : nullptr;
  Mat q, k, v;
  linear_raw(x_q, wp, q_rows, bp, &q);
  linear_raw(x_kv, wp + size_t(q_rows) * d_model, k_rows, bp ? bp + q_rows : nullptr, &k);
  linear_raw(x_kv, wp + size_t(q_rows + k_rows) * d_model, v_rows, bp ? bp + q_rows + k_rows : nullptr, &v);
  heads->resize(size_t(H));
  concat->resize(n_q, H * d_v);
  for (int h = 0; h < H; ++h) {
    HeadTrace& t = (*heads)[size_t(h)];
    const MhaHeadRows r = mha_head_rows(w, h);  // q, k, v hold the rows' outputs as columns, from 0 each
    t.q = q.middleCols(r.q, d_k);
    t.k = k.middleCols(r.k - q_rows, d_k);
    t.v = v.middleCols(r.v - q_rows - k_rows, d_v);
    AttentionParams p = params;
    p.alibi_slope = options.alibi ? (*options.alibi)[size_t(h)] : 0.0f;
    t.alibi_slope = p.alibi_slope;
    const AttentionDetail detail = options.details ? options.details[h] : AttentionDetail();
    if (options.segment > 0) {
      mha_head_segments(options, p, mask, detail, &t, concat, h * d_v);
      continue;
    }
    if (options.rope_base > 0) {
      rope_apply(&t.q, options.rope_base, false, options.rope_half, options.position_offset);
      rope_apply(&t.k, options.rope_base, false, options.rope_half, options.position_offset);
    }
    if (options.past) {  // the kept rows' keys and values first, then these rows'
      const HeadTrace& past = (*options.past)[size_t(h)];
      ATTNPLAY_ASSERT(past.k.cols() == d_k && past.v.cols() == d_v && past.k.rows() == past.v.rows());
      Mat k_all(past.k.rows() + t.k.rows(), d_k), v_all(past.v.rows() + t.v.rows(), d_v);
      k_all << past.k, t.k;
      v_all << past.v, t.v;
      t.k = std::move(k_all);
      t.v = std::move(v_all);
    }
    attention_forward(t.q, t.k, t.v, p, mask, &t.attn, detail);
    if (options.ablated && (*options.ablated)[size_t(h)]) t.attn.context.setZero();
    concat->middleCols(h * d_v, d_v) = t.attn.context;
  }
  linear_forward(*concat, w.out_proj_w, w.out_proj_b, output);
}

void mha_batched(const float* x, const float* wq, const float* wk, const float* wv, const float* wo, int n,
                 int d_model, int heads, bool causal, float* output, float* weights) {
  const int d = d_model, d_k = d_model / heads;
  thread_local std::vector<float> q, k, v, concat;
  thread_local GemmPacked pw;
  q.resize(size_t(n) * d);
  k.resize(size_t(n) * d);
  v.resize(size_t(n) * d);
  concat.resize(size_t(n) * d);
  // Projections x·W (row-major, no transposes), then each head straight from its columns (row stride d).
  gemm_pack_b(d, d, wq, d, &pw);
  gemm_packed(n, x, d, pw, q.data(), d);
  gemm_pack_b(d, d, wk, d, &pw);
  gemm_packed(n, x, d, pw, k.data(), d);
  gemm_pack_b(d, d, wv, d, &pw);
  gemm_packed(n, x, d, pw, v.data(), d);
  const float scale = 1.0f / std::sqrt(float(d_k));
  for (int h = 0; h < heads; ++h)
    attention_head_fast(q.data() + h * d_k, d, k.data() + h * d_k, d, v.data() + h * d_k, d, n, n, d_k, d_k, causal, scale,
                        concat.data() + h * d_k, d, weights ? weights + size_t(h) * n * n : nullptr);
  gemm_pack_b(d, d, wo, d, &pw);
  gemm_packed(n, concat.data(), d, pw, output, d);
}

}  // namespace attnplay
