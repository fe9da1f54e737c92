// attnplay core: backward passes. Contracts and shapes: backward.h.
#include "core/backward.h"

#include "core/assert.h"
#include "core/gemm.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnplay {

// d_x = d_y·W and d_w += d_yᵀ·x. On WebAssembly through the packed GEMM the forward uses (gemm.h): it beats Eigen's
// SIMD128 product there (bench_train: the Train panel's steps ~15 % faster). Natively Eigen's product keeps the
// backward: with FMA and AVX-512 it is faster than the 8-wide mul+add kernel, which the forward keeps so that native
// and WASM forwards give the same numbers.
void linear_backward(const Mat& x, const Mat& w, const Mat& d_y, Mat* d_x, Mat* d_w, Vec* d_b) {
  const int n = int(x.rows()), d_in = int(x.cols()), d_out = int(w.rows());
  ATTNPLAY_ASSERT(w.cols() == d_in && d_y.rows() == n && d_y.cols() == d_out);
  ATTNPLAY_ASSERT(!d_w || (d_w->rows() == d_out && d_w->cols() == d_in));
  ATTNPLAY_ASSERT(!d_b || d_b->size() == d_out);
#if defined(__wasm__)
  thread_local GemmPacked pb, scratch;
  if (d_x) {
    d_x->resize(n, d_in);
    const GemmPacked& pw = gemm_pack_weight(d_out, d_in, w.data(), d_in, false, &scratch);  // once per GemmWeightScope
    gemm_packed(n, d_y.data(), d_out, pw, d_x->data(), d_in);
  }
  if (d_w && n > 0) {
    thread_local Mat d_yt;
    d_yt.resize(d_out, n);
    vtranspose(n, d_out, d_y.data(), d_out, d_yt.data(), n);  // [d_out, n]
    gemm_pack_b(n, d_in, x.data(), d_in, &pb);
    gemm_packed(d_out, d_yt.data(), n, pb, d_w->data(), d_in, true);
  }
#else
  if (d_x) d_x->noalias() = d_y * w;
  if (d_w) d_w->noalias() += d_y.transpose() * x;
#endif
  if (d_b) {  // Σ over rows, row by row (contiguous; Eigen's colwise sum of a row-major matrix walks it by column)
    float* db = d_b->data();
    for (int i = 0; i < n; ++i) {
      const float* row = d_y.data() + size_t(i) * d_out;
      for (int c = 0; c < d_out; ++c) db[c] += row[c];
    }
  }
}

void layer_norm_backward(const LayerNormCache& cache, const Vec& gamma, const Mat& d_y, Mat* d_x, Vec* d_gamma, Vec* d_beta) {
  const int n = int(d_y.rows()), d = int(d_y.cols());
  ATTNPLAY_ASSERT(gamma.size() == d && cache.xhat.rows() == n && cache.xhat.cols() == d);
  d_x->resize(n, d);
  const float* gm = gamma.data();
  float* dg = d_gamma ? d_gamma->data() : nullptr;
  float* db = d_beta ? d_beta->data() : nullptr;
  for (int i = 0; i < n; ++i) {
    const float* dy = d_y.data() + size_t(i) * d;
    const float* xh = cache.xhat.data() + size_t(i) * d;
    float* dx = d_x->data() + size_t(i) * d;
    // Σ dxhat and Σ dxhat⊙xhat (dxhat = dy⊙gamma), four partial sums each, one per lane (a fixed order, see layers.cpp)
    v4f g = v4f{}, h = v4f{};
    int c = 0;
    for (; c + 4 <= d; c += 4) {
      const v4f a = v4f_load(dy + c) * v4f_load(gm + c);
      g += a;
      h += a * v4f_load(xh + c);
    }
    float g0 = g[0], h0 = h[0];
    for (; c < d; ++c) {
      g0 += dy[c] * gm[c];
      h0 += dy[c] * gm[c] * xh[c];
    }
    const float sum_g = (g0 + g[1]) + (g[2] + g[3]), sum_gx = (h0 + h[1]) + (h[2] + h[3]);
    // dx = rstd / d · (d·dxhat − Σ dxhat − xhat·Σ dxhat⊙xhat); d_gamma += dy⊙xhat; d_beta += dy
    const float k = cache.rstd[i] / float(d), fd = float(d);
    const v4f vk = v4f_splat(k), vfd = v4f_splat(fd), vg = v4f_splat(sum_g), vgx = v4f_splat(sum_gx);
    for (c = 0; c + 4 <= d; c += 4) {
      const v4f y = v4f_load(dy + c), x = v4f_load(xh + c);
      v4f_store(dx + c, vk * (vfd * y * v4f_load(gm + c) - vg - x * vgx));
      if (dg) v4f_store(dg + c, v4f_load(dg + c) + y * x);
      if (db) v4f_store(db + c, v4f_load(db + c) + y);
    }
    for (; c < d; ++c) {
      dx[c] = k * (fd * dy[c] * gm[c] - sum_g - xh[c] * sum_gx);
      if (dg) dg[c] += dy[c] * xh[c];
      if (db) db[c] += dy[c];
    }
  }
}

void activation_backward(ActivationKind kind, const Mat& pre, const Mat& d_y, Mat* d_x) {
  d_x->resize(pre.rows(), pre.cols());
  const float* p = pre.data();
  const float* g = d_y.data();
  float* o = d_x->data();
  const size_t n = size_t(pre.size());
  switch (kind) {
    case ACTIVATION_KIND_RELU:
      vrelu_backward(p, g, o, n);  // PyTorch: relu'(0) = 0
      break;
    case ACTIVATION_KIND_GELU:  // d/dx 0.5·x·(1 + erf(x/√2)) = Φ(x) + x·φ(x)
      for (size_t i = 0; i < n; ++i) {
        const double x = p[i];
        const double cdf = 0.5 * (1.0 + std::erf(x * 0.70710678118654752));
        const double pdf = 0.39894228040143268 * std::exp(-0.5 * x * x);
        o[i] = float(double(g[i]) * (cdf + x * pdf));
      }
      break;
    case ACTIVATION_KIND_GELU_TANH:  // u = c·(x + a·x³): d/dx 0.5·x·(1 + tanh u) = 0.5·(1 + t) + 0.5·x·(1 - t²)·c·(1 + 3a·x²)
      for (size_t i = 0; i < n; ++i) {
        const double x = p[i], c = 0.7978845608028654, a = 0.044715, t = std::tanh(c * (x + a * x * x * x));
        o[i] = float(double(g[i]) * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * a * x * x)));
      }
      break;
    case ACTIVATION_KIND_SILU:  // d/dx x·σ(x) = σ(x)·(1 + x·(1 - σ(x)))
      for (size_t i = 0; i < n; ++i) {
        const double x = p[i], s = 1.0 / (1.0 + std::exp(-x));
        o[i] = float(double(g[i]) * s * (1 + x * (1 - s)));
      }
      break;
  }
}

void mat_product(const MatCRef& a, bool ta, const MatCRef& b, bool tb, float alpha, Mat* c) {
#if defined(__wasm__)
  thread_local Mat at;
  thread_local GemmPacked pb;
  const float* lhs = a.data();
  int M = int(a.rows()), K = int(a.cols()), lda = int(a.outerStride());
  if (ta) {
    at.resize(a.cols(), a.rows());
    vtranspose(int(a.rows()), int(a.cols()), a.data(), lda, at.data(), int(a.rows()));
    lhs = at.data();
    M = int(a.cols());
    K = lda = int(a.rows());
  }
  const int N = int(tb ? b.rows() : b.cols());
  ATTNPLAY_ASSERT(K == (tb ? b.cols() : b.rows()));
  if (tb) gemm_pack_bt(K, N, b.data(), int(b.outerStride()), &pb);
  else gemm_pack_b(K, N, b.data(), int(b.outerStride()), &pb);
  c->resize(M, N);
  gemm_packed(M, lhs, lda, pb, c->data(), N);
  if (alpha != 1.0f) *c *= alpha;
#else
  if (ta && tb) c->noalias() = (a.transpose() * b.transpose()) * alpha;
  else if (ta) c->noalias() = (a.transpose() * b) * alpha;
  else if (tb) c->noalias() = (a * b.transpose()) * alpha;
  else c->noalias() = (a * b) * alpha;
#endif
}

void attention_backward(const MatCRef& q, const MatCRef& k, const MatCRef& v, const MatCRef& weights,
                        const AttentionParams& params, const MatCRef& d_out, Mat* d_q, Mat* d_k, Mat* d_v) {
  ATTNPLAY_ASSERT(k.cols() == q.cols() && v.rows() == k.rows());
  ATTNPLAY_ASSERT(weights.rows() == q.rows() && weights.cols() == k.rows() && d_out.rows() == q.rows() && d_out.cols() == v.cols());
  const double divisor = attention_kind_scaled(params.kind) ? double(params.scale_divisor) : 1.0;
  const float c = float(1.0 / (divisor * double(params.temperature)));
  // out = P·v: d_v = Pᵀ·d_out, d_P = d_out·vᵀ
  Mat d_p;
  mat_product(weights, true, d_out, false, 1.0f, d_v);
  mat_product(d_out, false, v, true, 1.0f, &d_p);
  // softmax rows: d_S = P ⊙ (d_P − rowsum(d_P ⊙ P)); masked cells have P = 0, so d_S = 0 there.
  Mat d_s(weights.rows(), weights.cols());
  for (int i = 0; i < weights.rows(); ++i) {
    const double dot = double((d_p.row(i).array() * weights.row(i).array()).sum());
    d_s.row(i) = (weights.row(i).array() * (d_p.row(i).array() - float(dot))).matrix();
  }
  attention_kind_info(params.kind).backward(q, k, d_s, params, c, d_q, d_k);  // through the kind's raw scores
}

void mha_backward(const Mat& x_q, const Mat& x_kv, const MhaWeights& w, const AttentionParams& params,
                  const MhaOptions& options, const std::vector<HeadTrace>& heads, const Mat& concat, const Mat& d_out,
                  MhaWeights* g, Mat* d_x_q, Mat* d_x_kv) {
  const int H = w.heads, d_k = w.d_k, d_v = w.d_v;
  ATTNPLAY_ASSERT(int(heads.size()) == H && concat.cols() == H * d_v && d_out.rows() == x_q.rows());
  ATTNPLAY_ASSERT(d_x_kv || &x_q == &x_kv);  // nullptr only for self-attention
  Mat d_concat;
  linear_backward(concat, w.out_proj_w, d_out, &d_concat, &g->out_proj_w, &g->out_proj_b);
  // Gradients of the projections' outputs, laid out as in_proj's rows (mha_head_rows): one matrix for self-attention,
  // a query side and a key/value side for cross-attention.
  const int rows = int(w.in_proj_w.rows());
  Mat d_proj_q = Mat::Zero(x_q.rows(), rows), d_proj_kv;
  if (d_x_kv) d_proj_kv = Mat::Zero(x_kv.rows(), rows);
  Mat& d_kv = d_x_kv ? d_proj_kv : d_proj_q;
  // One block of rows per sequence (options.segment, stacked by mha_forward), or all of them.
  const int n = options.segment > 0 ? options.segment : int(x_q.rows());
  ATTNPLAY_ASSERT(options.segment == 0 || (x_kv.rows() == x_q.rows() && x_q.rows() % n == 0));
  thread_local Mat dq, dk, dv;
  for (int h = 0; h < H; ++h) {
    const HeadTrace& t = heads[size_t(h)];
    const bool all = options.segment == 0;
    const int n_k = all ? int(t.k.rows()) : n;
    ATTNPLAY_ASSERT(t.attn.weights.rows() == t.q.rows() && t.attn.weights.cols() == n_k);  // kept by the forward
    AttentionParams p = params;
    p.alibi_slope = t.alibi_slope;
    const MhaHeadRows r = mha_head_rows(w, h);
    for (int r0 = 0; r0 < int(x_q.rows()); r0 += n) {  // blocks of rows, read in place (MatCRef)
      const int kr0 = all ? 0 : r0;
      attention_backward(t.q.middleRows(r0, n), t.k.middleRows(kr0, n_k), t.v.middleRows(kr0, n_k),
                         t.attn.weights.middleRows(r0, n), p, d_concat.block(r0, h * d_v, n, d_v), &dq, &dk, &dv);
      if (options.rope_base > 0) {
        rope_backward(&dq, options.rope_base);
        rope_backward(&dk, options.rope_base);
      }
      d_proj_q.block(r0, r.q, n, d_k) += dq;
      d_kv.block(kr0, r.k, n_k, d_k) += dk;  // the query heads of a group share one key/value head
      d_kv.block(kr0, r.v, n_k, d_v) += dv;
    }
  }
  Vec* d_b = g->in_proj_b.size() ? &g->in_proj_b : nullptr;
  linear_backward(x_q, w.in_proj_w, d_proj_q, d_x_q, &g->in_proj_w, d_b);
  if (d_x_kv) linear_backward(x_kv, w.in_proj_w, d_proj_kv, d_x_kv, &g->in_proj_w, d_b);
}

void rope_backward(Mat* d_x, float base) { rope_apply(d_x, base, true); }  // a rotation's transpose is its inverse

double cross_entropy_forward_backward(const Mat& logits, const std::vector<int>& targets, int count, Mat* d_logits,
                                      int* correct) {
  const int n = int(logits.rows()), vocab = int(logits.cols());
  d_logits->setZero(n, vocab);
  double loss = 0;
  for (int i = 0; i < n; ++i) {
    const int t = targets[size_t(i)];
    if (t == kIgnoreTarget) continue;
    Eigen::Index arg = 0;
    const double mx = double(logits.row(i).maxCoeff(&arg));
    thread_local std::vector<double> e;  // exp(logit - max), once per logit (it was computed twice)
    e.resize(size_t(vocab));
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += e[size_t(v)] = std::exp(double(logits(i, v)) - mx);
    loss += -(double(logits(i, t)) - mx - std::log(sum));
    if (correct && int(arg) == t) ++*correct;
    for (int v = 0; v < vocab; ++v) (*d_logits)(i, v) = float((e[size_t(v)] / sum - (v == t ? 1.0 : 0.0)) / count);
  }
  return loss;
}

}  // namespace attnplay
