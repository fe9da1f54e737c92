// attnplay core: attention kernels. Glossary and contracts: attention.h.
//
// Index
//   [Masks]      mask_build
//   [Positions]  rope_apply, alibi_slopes
//   [Softmax]    softmax_row (every path's rows), softmax_row_fast (its vector form), softmax_rows_masked
//   [Attention]  attention_params_make, score_reference (a kind's definition: attention_kinds.cpp), attention_score_steps,
//                attention_softmax_steps, attention_forward_reference, ThumbPool + attention_thumbnail (the one
//                thumbnail path), attention_forward_blocked (product kinds, on gemm.h), attention_forward
//   [Batched]    attention_head_fast, attention_batched
#include "core/attention.h"

#include "core/assert.h"

#include "core/gemm.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <optional>
#include <type_traits>
#include <vector>

namespace attnplay {

// [Masks] -------------------------------------------------------------------------------------------------
bool mask_spec_is_empty(const MaskSpec& spec) {
  return !spec.causal && spec.window < 0 && spec.padding.empty() && spec.cells.empty();
}

MaskMat mask_build(const MaskSpec& spec, int n_q, int n_k) {
  for (int j : spec.padding) ATTNPLAY_ASSERT(j >= 0 && j < n_k);
  for (const auto& c : spec.cells) ATTNPLAY_ASSERT(c.first >= 0 && c.first < n_q && c.second >= 0 && c.second < n_k);
  MaskMat m = MaskMat::Zero(n_q, n_k);
  for (int i = 0; i < n_q; ++i) {
    for (int j = 0; j < n_k; ++j) {
      if (spec.causal && j > i) m(i, j) = 1;
      if (spec.window >= 0 && std::abs(i - j) > spec.window) m(i, j) = 1;
    }
  }
  for (int j : spec.padding) m.col(j).setConstant(1);
  for (const auto& c : spec.cells) m(c.first, c.second) = 1;
  return m;
}

// [Positions] -----------------------------------------------------------------------------------------------
void rope_apply(Mat* x, float base, bool inverse, bool half, int offset) {
  const int n = int(x->rows()), d = int(x->cols());
  ATTNPLAY_ASSERT(d % 2 == 0 && base > 0 && offset >= 0);
  for (int i = 0; i < d / 2; ++i) {
    const double theta = std::pow(double(base), -2.0 * i / double(d));
    const int c0 = half ? i : 2 * i, c1 = half ? i + d / 2 : 2 * i + 1;  // the pair rotated together
    for (int p = 0; p < n; ++p) {
      const double a = double(p + offset) * theta * (inverse ? -1.0 : 1.0), c = std::cos(a), s = std::sin(a);
      const double x0 = (*x)(p, c0), x1 = (*x)(p, c1);
      (*x)(p, c0) = float(x0 * c - x1 * s);
      (*x)(p, c1) = float(x0 * s + x1 * c);
    }
  }
}

std::vector<float> alibi_slopes(int heads) {
  auto power_of_two = [](int n) {  // n = 2^k: start^1, start^2, ... with start = 2^(-8/n)
    std::vector<float> s(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) s[size_t(i)] = float(std::pow(2.0, -8.0 * (i + 1) / n));
    return s;
  };
  int p = 1;
  while (p * 2 <= heads) p *= 2;
  std::vector<float> s = power_of_two(p);
  if (p < heads) {
    const std::vector<float> extra = power_of_two(2 * p);
    for (int i = 0; int(s.size()) < heads; i += 2) s.push_back(extra[size_t(i)]);
  }
  return s;
}

// The ALiBi term of score (i, j) in the units of the final scores (after temperature).
static double alibi_term(const AttentionParams& p, int i, int j) {
  return p.alibi_slope == 0.0f ? 0.0 : -double(p.alibi_slope) * double(std::abs(i - j)) / double(p.temperature);
}

// [Softmax] -----------------------------------------------------------------------------------------------
// One row: s [n] scores (any scalar type), m [n] mask or nullptr -> w [n]; returns the log-sum-exp (header).
template <typename Scalar>
static double softmax_row(const Scalar* s, const uint8_t* m, int n, float* w) {
  const Scalar inf = std::numeric_limits<Scalar>::infinity();
  Scalar max_v = -inf;
  int visible = 0, n_pos_inf = 0;
  for (int j = 0; j < n; ++j) {
    if (m && m[j]) continue;
    ++visible;
    if (std::isnan(s[j])) continue;
    if (s[j] == inf) ++n_pos_inf;
    if (s[j] > max_v) max_v = s[j];
  }
  if (visible == 0) {
    std::fill(w, w + n, 0.0f);
    return -std::numeric_limits<double>::infinity();
  }
  if (n_pos_inf > 0) {  // limit of softmax as those scores grow: equal split among the +inf entries
    for (int j = 0; j < n; ++j) w[j] = (!(m && m[j]) && s[j] == inf) ? 1.0f / float(n_pos_inf) : 0.0f;
    return std::numeric_limits<double>::infinity();
  }
  if (max_v == -inf) {  // every visible score is -inf (or NaN): uniform over the visible keys
    for (int j = 0; j < n; ++j) w[j] = (m && m[j]) ? 0.0f : 1.0f / float(visible);
    return -std::numeric_limits<double>::infinity();
  }
  if constexpr (std::is_same_v<Scalar, float>) {  // the common case: the vector form
    for (int j = 0; j < n; ++j) w[j] = (m && m[j]) || std::isnan(s[j]) ? -inf : s[j];
    return softmax_row_fast(w, w, n);
  }
  Scalar sum = 0;
  for (int j = 0; j < n; ++j) {
    Scalar e = (m && m[j]) || std::isnan(s[j]) ? Scalar(0) : std::exp(s[j] - max_v);
    w[j] = float(e);
    sum += e;
  }
  const Scalar inv = Scalar(1) / sum;  // sum >= 1: the max element contributes exp(0)
  for (int j = 0; j < n; ++j) w[j] = float(Scalar(w[j]) * inv);
  return double(max_v) + std::log(double(sum));
}

float softmax_row_fast(const float* s, float* w, int n, bool normalize, float* inv_sum) {
  const float mx = vmax(s, n);
  if (mx == -std::numeric_limits<float>::infinity()) {  // no visible key (exp(-inf - max) would be NaN): weights 0
    std::fill(w, w + n, 0.0f);
    if (inv_sum) *inv_sum = 0.0f;
    return mx;
  }
  // >= 1: the max element contributes exp(0). In place through vexp_shift_sum (gemm.cpp: the two-pointer form was
  // 1.7x slower in place).
  const float sum = s == w ? vexp_shift_sum(w, n, mx) : vexp_shift_sum_to(s, w, n, mx);
  if (normalize) vscale(w, n, 1.0f / sum);
  if (inv_sum) *inv_sum = 1.0f / sum;
  return mx + std::log(sum);
}

// A mask row [n] (or nullptr: nothing masked) that hides every key.
static bool no_visible_key(const uint8_t* m, int n) {
  return m ? std::all_of(m, m + n, [](uint8_t x) { return x != 0; }) : n == 0;
}

void softmax_rows_masked(const Mat& scores, const MaskMat* mask, Mat* weights, std::vector<uint8_t>* fully_masked) {
  const int n_q = int(scores.rows()), n_k = int(scores.cols());
  ATTNPLAY_ASSERT(!mask || (mask->rows() == n_q && mask->cols() == n_k));
  weights->resize(n_q, n_k);
  fully_masked->assign(size_t(n_q), 0);
  for (int i = 0; i < n_q; ++i) {
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    float* w = weights->data() + size_t(i) * n_k;
    softmax_row(scores.data() + size_t(i) * n_k, m, n_k, w);
    (*fully_masked)[size_t(i)] = no_visible_key(m, n_k) ? 1 : 0;
  }
}

// [Attention] ---------------------------------------------------------------------------------------------
AttentionParams attention_params_make(AttentionKind kind, float scale_divisor, float temperature,
                                      const AttentionKindWeights& kw) {
  AttentionParams p;
  p.kind = kind;
  p.scale_divisor = scale_divisor;
  p.temperature = temperature;
  p.w_general = &kw.general_w;
  p.w_additive = &kw.additive_w;
  p.u_additive = &kw.additive_u;
  p.v_additive = &kw.additive_v;
  return p;
}

// The total divisor applied to a kind's raw scores (scale, then temperature).
static double score_divisor(const AttentionParams& p) {
  return (attention_kind_scaled(p.kind) ? double(p.scale_divisor) : 1.0) * double(p.temperature);
}

// A kind's extra parameters are there and fit q and k (the header's "required by").
static void check_params(const AttentionParams& p, int d_k) {
  ATTNPLAY_ASSERT(p.temperature > 0);
  attention_kind_info(p.kind).check(p, d_k);
}

// The score of one pair, double, from the kind's definition: raw / divisor + ALiBi.
static double score_reference(const Mat& q, const Mat& k, const AttentionParams& p, int i, int j) {
  return attention_kind_info(p.kind).score_reference(q.row(i).data(), k.row(j).data(), int(q.cols()), p) / score_divisor(p) +
         alibi_term(p, i, j);
}

AttentionScoreSteps attention_score_steps(const Mat& q, const Mat& k, const AttentionParams& params, int i, int j) {
  ATTNPLAY_ASSERT(i >= 0 && i < q.rows() && j >= 0 && j < k.rows() && q.cols() == k.cols());
  check_params(params, int(q.cols()));
  AttentionScoreSteps s;
  s.raw = attention_kind_info(params.kind).score_reference(q.row(i).data(), k.row(j).data(), int(q.cols()), params);
  s.divisor = attention_kind_scaled(params.kind) ? double(params.scale_divisor) : 1.0;
  s.bias = -double(params.alibi_slope) * double(std::abs(i - j));
  s.score = score_reference(q, k, params, i, j);
  return s;
}

AttentionSoftmaxSteps attention_softmax_steps(const Mat& scores, const MaskMat* mask, int i, int j) {
  ATTNPLAY_ASSERT(i >= 0 && i < scores.rows() && j >= 0 && j < scores.cols());
  ATTNPLAY_ASSERT(!mask || mask->size() == 0 || (mask->rows() == scores.rows() && mask->cols() == scores.cols()));
  const bool masking = mask && mask->size();
  AttentionSoftmaxSteps st;
  st.row_max = -std::numeric_limits<double>::infinity();
  for (int jj = 0; jj < scores.cols(); ++jj)
    if (!(masking && (*mask)(i, jj))) st.row_max = std::max(st.row_max, double(scores(i, jj)));
  for (int jj = 0; jj < scores.cols(); ++jj)
    if (!(masking && (*mask)(i, jj))) st.sum += std::exp(double(scores(i, jj)) - st.row_max);
  const bool visible = !(masking && (*mask)(i, j)) && std::isfinite(st.row_max);
  st.exp = visible ? std::exp(double(scores(i, j)) - st.row_max) : 0.0;
  st.weight = visible && st.sum > 0 ? st.exp / st.sum : 0.0;
  return st;
}

// q [n_q, d_k], k [n_k, d_k] -> scores [n_q, n_k] in double, masked = -inf.
static MatD scores_reference(const Mat& q, const Mat& k, const AttentionParams& p, const MaskMat* mask) {
  const int n_q = int(q.rows()), n_k = int(k.rows());
  MatD s(n_q, n_k);
  for (int i = 0; i < n_q; ++i)
    for (int j = 0; j < n_k; ++j)
      s(i, j) = (mask && (*mask)(i, j)) ? -std::numeric_limits<double>::infinity() : score_reference(q, k, p, i, j);
  return s;
}

// Double scores -> float scores (saturating at ±FLT_MAX, masked stay -inf), double softmax (the row's log-sum-exp
// with it), double context. scores_d [n_q, n_k], v [n_k, d_v] -> out.
static void finish_from_double(const MatD& scores_d, const Mat& v, const MaskMat* mask, AttentionOutput* out) {
  const int n_q = int(scores_d.rows()), n_k = int(scores_d.cols()), d_v = int(v.cols());
  out->scores.resize(n_q, n_k);
  out->weights.resize(n_q, n_k);
  out->fully_masked.assign(size_t(n_q), 0);
  out->row_lse.resize(n_q);
  for (int i = 0; i < n_q; ++i) {
    for (int j = 0; j < n_k; ++j) {
      const double s = scores_d(i, j);
      const bool masked = mask && (*mask)(i, j);
      out->scores(i, j) = masked ? -std::numeric_limits<float>::infinity()
                                 : float(std::max(-double(FLT_MAX), std::min(double(FLT_MAX), s)));
    }
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    out->row_lse[i] = float(softmax_row(scores_d.data() + size_t(i) * n_k, m, n_k, out->weights.data() + size_t(i) * n_k));
    out->fully_masked[size_t(i)] = no_visible_key(m, n_k) ? 1 : 0;
  }
  out->context.resize(n_q, d_v);
  for (int i = 0; i < n_q; ++i)
    for (int d = 0; d < d_v; ++d) {
      double acc = 0;
      for (int j = 0; j < n_k; ++j) acc += double(out->weights(i, j)) * double(v(j, d));
      out->context(i, d) = float(acc);
    }
}

void attention_forward_reference(const Mat& q, const Mat& k, const Mat& v, const AttentionParams& params,
                                 const MaskMat* mask, AttentionOutput* out) {
  ATTNPLAY_ASSERT(k.cols() == q.cols() && v.rows() == k.rows());
  ATTNPLAY_ASSERT(!mask || (mask->rows() == q.rows() && mask->cols() == k.rows()));
  check_params(params, int(q.cols()));
  finish_from_double(scores_reference(q, k, params, mask), v, mask, out);
  out->overflowed = false;
  for (int i = 0; i < out->scores.rows(); ++i)
    for (int j = 0; j < out->scores.cols(); ++j)
      if (!(mask && (*mask)(i, j)) && std::fabs(out->scores(i, j)) == FLT_MAX) out->overflowed = true;
}

// Largest |x| of a matrix (0 for an empty one).
static float abs_max(const Mat& m) { return m.size() ? m.cwiseAbs().maxCoeff() : 0.0f; }

// Thumbnail bins: output cell t covers input indices [⌊t·n/side⌋, ⌊(t+1)·n/side⌋).
static int bin_start(int t, int n, int side) { return int((int64_t(t) * n) / side); }

// The one thumbnail path: rows of a weights matrix [n_q, n_k], given in increasing order as they are produced (row i's
// first `cols` values; the rest are 0), mean-pooled into out [min(side, n_q), min(side, n_k)]. The rows of one bin are
// summed whole, then reduced per column bin when the next bin starts.
class ThumbPool {
 public:
  ThumbPool(int n_q, int n_k, int side, Mat* out)
      : n_q_(n_q), n_k_(n_k), tq_(std::min(side, n_q)), tk_(std::min(side, n_k)), out_(out) {
    *out_ = Mat::Zero(tq_, tk_);
  }
  void add_row(int i, const float* w, int cols) {
    const int a = int((int64_t(i + 1) * tq_ - 1) / n_q_);  // the bin of row i: the largest a with bin_start(a) <= i
    if (a != row_bin_) flush(a);
    vadd(acc_.data(), w, cols);
  }
  void finish() {
    flush(-1);
    for (int a = 0; a < tq_; ++a)
      for (int b = 0; b < tk_; ++b)
        (*out_)(a, b) /= float(bin_start(a + 1, n_q_, tq_) - bin_start(a, n_q_, tq_)) *
                         float(bin_start(b + 1, n_k_, tk_) - bin_start(b, n_k_, tk_));
  }

 private:
  void flush(int next) {
    if (row_bin_ >= 0)
      for (int b = 0; b < tk_; ++b) {
        const int j0 = bin_start(b, n_k_, tk_);
        (*out_)(row_bin_, b) = vsum(acc_.data() + j0, bin_start(b + 1, n_k_, tk_) - j0);
      }
    acc_.assign(size_t(n_k_), 0.0f);
    row_bin_ = next;
  }
  int n_q_, n_k_, tq_, tk_;
  Mat* out_;
  int row_bin_ = -1;
  std::vector<float> acc_;  // [n_k] the current row bin's column sums
};

Mat attention_thumbnail(const Mat& m, int side) {
  Mat t;
  ThumbPool pool(int(m.rows()), int(m.cols()), side, &t);
  for (int i = 0; i < m.rows(); ++i) pool.add_row(i, m.data() + size_t(i) * m.cols(), int(m.cols()));
  pool.finish();
  return t;
}

// From whole matrices (the pairwise and double paths): the thumbnail, and the matrices dropped if asked.
static void finish_detail(const AttentionDetail& detail, AttentionOutput* out) {
  out->thumb = detail.thumb > 0 ? attention_thumbnail(out->weights, detail.thumb) : Mat();
  if (!detail.keep_matrices && !out->overflowed) {
    out->scores = Mat();
    out->weights = Mat();
  }
}

float attention_weight_at(const Mat& q, const Mat& k, const AttentionParams& params, const MaskMat* mask,
                          const Vec& row_lse, int i, int j) {
  ATTNPLAY_ASSERT(i >= 0 && i < q.rows() && j >= 0 && j < k.rows() && i < row_lse.size());
  if ((mask && mask->size() && (*mask)(i, j)) || !std::isfinite(row_lse[i])) return 0.0f;
  return float(std::exp(score_reference(q, k, params, i, j) - double(row_lse[i])));
}

// The product kinds (AttentionKindInfo::query) on the vector kernels, a block of 64 queries at a time whose scores
// stay in cache. q' = query(q) / (divisor·temperature) [n_q, d_k]; out as attention_forward's.
static void attention_forward_blocked(const Mat& qs, const Mat& k, const Mat& v, const AttentionParams& params,
                                      const MaskMat* mask, AttentionOutput* out, const AttentionDetail& detail) {
  const int n_q = int(qs.rows()), n_k = int(k.rows()), d_k = int(qs.cols()), d_v = int(v.cols());
  const float neg_inf = -std::numeric_limits<float>::infinity();
  const float slope_t = params.alibi_slope / params.temperature;  // ALiBi in final-score units
  constexpr int kBlock = 64;
  thread_local GemmPacked pk, pv;
  thread_local std::vector<float> block;
  gemm_pack_bt(d_k, n_k, k.data(), d_k, &pk);  // Kᵀ [d_k, n_k], packed straight from K
  gemm_pack_b(n_k, d_v, v.data(), d_v, &pv);
  const bool keep = detail.keep_matrices;
  if (keep) {
    out->scores.resize(n_q, n_k);
    out->weights.resize(n_q, n_k);
  } else {
    out->scores = Mat();
    out->weights = Mat();
  }
  out->context.resize(n_q, d_v);
  out->fully_masked.assign(size_t(n_q), 0);
  out->row_lse.resize(n_q);
  if (!keep) block.resize(size_t(kBlock) * n_k);
  std::optional<ThumbPool> pool;
  if (detail.thumb > 0) pool.emplace(n_q, n_k, detail.thumb, &out->thumb);
  else out->thumb = Mat::Zero(0, 0);
  // Nobody reads the weights themselves (not kept, no thumbnail): leave each row's exponentials unnormalised and
  // scale its context row by 1/sum instead, one pass over d_v values instead of kv (~4 % at n = 2048).
  const bool defer_scale = !keep && !pool;
  float row_inv[kBlock];
  for (int r0 = 0; r0 < n_q; r0 += kBlock) {
    const int rows = std::min(kBlock, n_q - r0);
    // Keys any row of this block may see: up to the last unmasked column (all of them without a mask).
    int kv = n_k;
    if (mask) {
      kv = 0;
      for (int i = r0; i < r0 + rows; ++i) {
        const uint8_t* m = mask->data() + size_t(i) * n_k;
        int last = n_k - 1;
        while (last >= kv && m[last]) --last;
        kv = std::max(kv, last + 1);
      }
    }
    // Scores [rows, kv] straight into the kept matrix (row stride n_k), or into the block buffer (stride kv) where
    // the weights then replace them.
    float* sb = keep ? out->scores.data() + size_t(r0) * n_k : block.data();
    const int lds = keep ? n_k : kv;
    if (kv > 0) gemm_packed(rows, qs.data() + size_t(r0) * d_k, d_k, pk, sb, lds, false, -1, kv);
    for (int r = 0; r < rows; ++r) {
      const int i = r0 + r;
      float* row = sb + size_t(r) * lds;
      float* wrow = keep ? out->weights.data() + size_t(i) * n_k : row;
      if (slope_t != 0.0f)
        for (int j = 0; j < kv; ++j) row[j] -= slope_t * float(std::abs(i - j));
      if (mask) {
        const uint8_t* m = mask->data() + size_t(i) * n_k;
        for (int j = 0; j < kv; ++j)
          if (m[j]) row[j] = neg_inf;
      }
      if (keep) std::fill(row + kv, row + n_k, neg_inf);  // keys past the block's last visible one: masked
      out->row_lse[i] = softmax_row_fast(row, wrow, kv, !defer_scale, &row_inv[size_t(r)]);
      if (out->row_lse[i] == neg_inf) out->fully_masked[size_t(i)] = 1;
      if (keep) std::fill(wrow + kv, wrow + n_k, 0.0f);
      if (pool) pool->add_row(i, wrow, kv);
    }
    float* ctx = out->context.data() + size_t(r0) * d_v;
    const float* wb = keep ? out->weights.data() + size_t(r0) * n_k : block.data();
    if (kv > 0) gemm_packed(rows, wb, lds, pv, ctx, d_v, false, kv, -1);
    else std::fill(ctx, ctx + size_t(rows) * d_v, 0.0f);
    if (defer_scale && kv > 0)
      for (int r = 0; r < rows; ++r) vscale(ctx + size_t(r) * d_v, d_v, row_inv[size_t(r)]);
  }
  if (pool) pool->finish();
}

void attention_forward(const Mat& q, const Mat& k, const Mat& v, const AttentionParams& params, const MaskMat* mask,
                       AttentionOutput* out, const AttentionDetail& detail) {
  const int n_q = int(q.rows()), n_k = int(k.rows()), d_k = int(q.cols());
  ATTNPLAY_ASSERT(k.cols() == d_k && v.rows() == n_k);
  ATTNPLAY_ASSERT(!mask || (mask->rows() == n_q && mask->cols() == n_k));
  check_params(params, d_k);
  const AttentionKindInfo& kind = attention_kind_info(params.kind);
  const float inv_div = float(1.0 / score_divisor(params));
  const float neg_inf = -std::numeric_limits<float>::infinity();
  out->overflowed = false;
  auto from_double = [&] {  // float32 would overflow: this head in double, its scores saturated
    finish_from_double(scores_reference(q, k, params, mask), v, mask, out);
    out->overflowed = true;
    finish_detail(detail, out);
  };
  if (kind.query) {
    // A bound decides overflow up front, in O(n·d) instead of scanning n² scores: |score| <= d_k · max|q'| · max|k|.
    Mat qs;
    kind.query(q, params, inv_div, &qs);
    const double bound = double(d_k) * double(abs_max(qs)) * double(abs_max(k)) +
                         std::fabs(double(params.alibi_slope) / double(params.temperature)) * double(std::max(n_q, n_k));
    if (!(bound < 1e37) || !std::isfinite(abs_max(v))) return from_double();
    attention_forward_blocked(qs, k, v, params, mask, out, detail);
    return;
  }
  // Pairwise kinds (additive): every pair's raw score, then scale, ALiBi and mask.
  kind.pairs(q, k, params, &out->scores);
  // Masked cells become -inf; any other non-finite score means float32 overflowed (inputs near ±1e30, or a
  // temperature near 0): redo this head in double so no NaN or arbitrary inf reaches the weights.
  bool finite = true;
  for (int i = 0; i < n_q; ++i) {
    float* row = out->scores.data() + size_t(i) * n_k;
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    for (int j = 0; j < n_k; ++j) {
      row[j] = row[j] * inv_div + float(alibi_term(params, i, j));
      if (m && m[j]) row[j] = neg_inf;
      else if (!std::isfinite(row[j])) finite = false;
    }
  }
  if (!finite) return from_double();
  out->weights.resize(n_q, n_k);
  out->fully_masked.assign(size_t(n_q), 0);
  out->row_lse.resize(n_q);
  for (int i = 0; i < n_q; ++i) {
    out->row_lse[i] = softmax_row_fast(out->scores.data() + size_t(i) * n_k, out->weights.data() + size_t(i) * n_k, n_k);
    if (out->row_lse[i] == neg_inf) out->fully_masked[size_t(i)] = 1;
  }
  out->context.noalias() = out->weights * v;
  finish_detail(detail, out);
}

// [Batched] ---------------------------------------------------------------------------------------------
// One head, blocked by queries so a block's scores stay in cache; Kᵀ and V are packed once per head; under a causal
// mask a block multiplies only the keys up to its last query (the masked rest is never computed).
// q [n_q, d_k] (row stride ldq), k [n_k, d_k] (ldk), v [n_k, d_v] (ldv) -> out [n_q, d_v] (ldo), weights [n_q, n_k]
// (row stride n_k) or nullptr.
void attention_head_fast(const float* q, int ldq, const float* k, int ldk, const float* v, int ldv, int n_q, int n_k,
                         int d_k, int d_v, bool causal, float scale, float* out, int ldo, float* weights) {
  constexpr int kBlock = 64;
  thread_local std::vector<float> qs, scores, inv;
  thread_local GemmPacked pk, pv;
  gemm_pack_bt(d_k, n_k, k, ldk, &pk);  // Kᵀ [d_k, n_k], packed straight from K
  gemm_pack_b(n_k, d_v, v, ldv, &pv);
  qs.resize(size_t(kBlock) * d_k);
  scores.resize(size_t(kBlock) * n_k);
  inv.resize(kBlock);
  for (int r0 = 0; r0 < n_q; r0 += kBlock) {
    const int rows = std::min(kBlock, n_q - r0);
    const int kv = causal ? std::min(n_k, r0 + rows) : n_k;  // keys any row of this block may see
    for (int i = 0; i < rows; ++i)
      for (int d = 0; d < d_k; ++d) qs[size_t(i) * d_k + d] = q[size_t(r0 + i) * ldq + d] * scale;
    gemm_packed(rows, qs.data(), d_k, pk, scores.data(), kv, false, -1, kv);  // scores [rows, kv]
    for (int i = 0; i < rows; ++i) {
      float* row = scores.data() + size_t(i) * kv;
      const int visible = causal ? std::min(kv, r0 + i + 1) : kv;
      softmax_row_fast(row, row, visible, false, &inv[size_t(i)]);
      std::fill(row + visible, row + kv, 0.0f);  // masked inside the diagonal block: weight 0
      if (weights) {
        float* w = weights + size_t(r0 + i) * n_k;
        vscale_to(row, w, kv, inv[size_t(i)]);
        std::fill(w + kv, w + n_k, 0.0f);
      }
    }
    float* o = out + size_t(r0) * ldo;
    gemm_packed(rows, scores.data(), kv, pv, o, ldo, false, kv, -1);  // unnormalised P · V ...
    for (int i = 0; i < rows; ++i)                                      // ... then each row / its sum
      for (int d = 0; d < d_v; ++d) o[size_t(i) * ldo + d] *= inv[size_t(i)];
  }
}

void attention_batched(const float* q, const float* k, const float* v, int heads, int n_q, int n_k, int d_k, int d_v,
                       bool causal, float scale, float* context, float* weights) {
  for (int h = 0; h < heads; ++h)
    attention_head_fast(q + size_t(h) * n_q * d_k, d_k, k + size_t(h) * n_k * d_k, d_k, v + size_t(h) * n_k * d_v, d_v, n_q,
                        n_k, d_k, d_v, causal, scale, context + size_t(h) * n_q * d_v, d_v,
                        weights ? weights + size_t(h) * n_q * n_k : nullptr);
}

std::string core_simd_instruction_sets() {
#if defined(__wasm_simd128__)
  std::string s = "WASM SIMD128";
#if defined(EIGEN_VECTORIZE)
  s += " (Eigen ";
  s += Eigen::SimdInstructionSetsInUse();
  s += " path through emscripten's SIMD128 headers)";
#endif
  return s;
#elif defined(EIGEN_VECTORIZE)
  return Eigen::SimdInstructionSetsInUse();
#else
  return "none (scalar)";
#endif
}

bool core_simd_enabled() {
#if defined(EIGEN_VECTORIZE) || defined(__wasm_simd128__)
  return true;
#else
  return false;
#endif
}

}  // namespace attnplay
