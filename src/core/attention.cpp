// attnplay core: attention kernels. Glossary and contracts: attention.h.
#include "core/attention.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace attnplay {

// [Masks] -------------------------------------------------------------------------------------------------
bool mask_spec_is_empty(const MaskSpec& spec) {
  return !spec.causal && spec.window < 0 && spec.padding.empty() && spec.cells.empty();
}

MaskMat mask_build(const MaskSpec& spec, int n_q, int n_k) {
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

// [Softmax] -----------------------------------------------------------------------------------------------
// One row: s [n] scores (any scalar type), m [n] mask or nullptr -> w [n]; returns false when fully masked.
template <typename Scalar>
static bool softmax_row(const Scalar* s, const uint8_t* m, int n, float* w) {
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
    return false;
  }
  if (n_pos_inf > 0) {  // limit of softmax as those scores grow: equal split among the +inf entries
    for (int j = 0; j < n; ++j) w[j] = (!(m && m[j]) && s[j] == inf) ? 1.0f / float(n_pos_inf) : 0.0f;
    return true;
  }
  if (max_v == -inf) {  // every visible score is -inf (or NaN): uniform over the visible keys
    for (int j = 0; j < n; ++j) w[j] = (m && m[j]) ? 0.0f : 1.0f / float(visible);
    return true;
  }
  Scalar sum = 0;
  for (int j = 0; j < n; ++j) {
    Scalar e = (m && m[j]) || std::isnan(s[j]) ? Scalar(0) : std::exp(s[j] - max_v);
    w[j] = float(e);
    sum += e;
  }
  const Scalar inv = Scalar(1) / sum;  // sum >= 1: the max element contributes exp(0)
  for (int j = 0; j < n; ++j) w[j] = float(Scalar(w[j]) * inv);
  return true;
}

void softmax_rows_masked(const Mat& scores, const MaskMat* mask, Mat* weights, std::vector<uint8_t>* fully_masked) {
  const int n_q = int(scores.rows()), n_k = int(scores.cols());
  weights->resize(n_q, n_k);
  fully_masked->assign(size_t(n_q), 0);
  for (int i = 0; i < n_q; ++i) {
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    (*fully_masked)[size_t(i)] = softmax_row(scores.data() + size_t(i) * n_k, m, n_k, weights->data() + size_t(i) * n_k) ? 0 : 1;
  }
}

// [Attention] ---------------------------------------------------------------------------------------------
// Score of one (query, key) pair before scaling, in double, plain loops: the reference definition of each kind.
// q [d_k], k [d_k] -> scalar.
static double score_pair_reference(const float* q, const float* k, int d_k, const AttentionParams& p) {
  switch (p.kind) {
    case ATTENTION_KIND_SCALED_DOT:
    case ATTENTION_KIND_DOT: {
      double acc = 0;
      for (int d = 0; d < d_k; ++d) acc += double(q[d]) * double(k[d]);
      return acc;
    }
    case ATTENTION_KIND_GENERAL: {  // qᵀ W k
      const Mat& w = *p.w_general;
      double acc = 0;
      for (int a = 0; a < d_k; ++a) {
        double wk = 0;
        for (int b = 0; b < d_k; ++b) wk += double(w(a, b)) * double(k[b]);
        acc += double(q[a]) * wk;
      }
      return acc;
    }
    case ATTENTION_KIND_ADDITIVE: {  // v_aᵀ tanh(W q + U k)
      const Mat& w = *p.w_additive;
      const Mat& u = *p.u_additive;
      const Vec& va = *p.v_additive;
      double acc = 0;
      for (int a = 0; a < int(w.rows()); ++a) {
        double h = 0;
        for (int d = 0; d < d_k; ++d) h += double(w(a, d)) * double(q[d]) + double(u(a, d)) * double(k[d]);
        acc += double(va[a]) * std::tanh(h);
      }
      return acc;
    }
  }
  return 0;
}

// The total divisor applied to a kind's raw scores (scale, then temperature).
static double score_divisor(const AttentionParams& p) {
  const bool scaled = p.kind == ATTENTION_KIND_SCALED_DOT || p.kind == ATTENTION_KIND_GENERAL;
  return (scaled ? double(p.scale_divisor) : 1.0) * double(p.temperature);
}

// q [n_q, d_k], k [n_k, d_k] -> scores [n_q, n_k] in double, masked = -inf.
static MatD scores_reference(const Mat& q, const Mat& k, const AttentionParams& p, const MaskMat* mask) {
  const int n_q = int(q.rows()), n_k = int(k.rows()), d_k = int(q.cols());
  const double div = score_divisor(p);
  MatD s(n_q, n_k);
  for (int i = 0; i < n_q; ++i)
    for (int j = 0; j < n_k; ++j)
      s(i, j) = (mask && (*mask)(i, j)) ? -std::numeric_limits<double>::infinity()
                                        : score_pair_reference(q.row(i).data(), k.row(j).data(), d_k, p) / div;
  return s;
}

// Double scores -> float scores (saturating at ±FLT_MAX, masked stay -inf), double softmax, double context.
// scores_d [n_q, n_k], v [n_k, d_v] -> out.
static void finish_from_double(const MatD& scores_d, const Mat& v, const MaskMat* mask, AttentionOutput* out) {
  const int n_q = int(scores_d.rows()), n_k = int(scores_d.cols()), d_v = int(v.cols());
  out->scores.resize(n_q, n_k);
  out->weights.resize(n_q, n_k);
  out->fully_masked.assign(size_t(n_q), 0);
  for (int i = 0; i < n_q; ++i) {
    for (int j = 0; j < n_k; ++j) {
      const double s = scores_d(i, j);
      const bool masked = mask && (*mask)(i, j);
      out->scores(i, j) = masked ? -std::numeric_limits<float>::infinity()
                                 : float(std::max(-double(FLT_MAX), std::min(double(FLT_MAX), s)));
    }
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    out->fully_masked[size_t(i)] = softmax_row(scores_d.data() + size_t(i) * n_k, m, n_k, out->weights.data() + size_t(i) * n_k) ? 0 : 1;
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
  finish_from_double(scores_reference(q, k, params, mask), v, mask, out);
  out->overflowed = false;
  for (int i = 0; i < out->scores.rows(); ++i)
    for (int j = 0; j < out->scores.cols(); ++j)
      if (!(mask && (*mask)(i, j)) && std::fabs(out->scores(i, j)) == FLT_MAX) out->overflowed = true;
}

void attention_forward(const Mat& q, const Mat& k, const Mat& v, const AttentionParams& params, const MaskMat* mask,
                       AttentionOutput* out) {
  const int n_q = int(q.rows()), n_k = int(k.rows());
  const float inv_div = float(1.0 / score_divisor(params));
  switch (params.kind) {
    case ATTENTION_KIND_SCALED_DOT:
    case ATTENTION_KIND_DOT:
      out->scores.noalias() = (q * inv_div) * k.transpose();
      break;
    case ATTENTION_KIND_GENERAL:
      out->scores.noalias() = ((q * *params.w_general) * inv_div) * k.transpose();
      break;
    case ATTENTION_KIND_ADDITIVE: {
      const Mat wq = q * params.w_additive->transpose();  // [n_q, d_a]
      const Mat uk = k * params.u_additive->transpose();  // [n_k, d_a]
      const Vec& va = *params.v_additive;
      out->scores.resize(n_q, n_k);
      Eigen::RowVectorXf h(wq.cols());
      for (int i = 0; i < n_q; ++i)
        for (int j = 0; j < n_k; ++j) {
          h = (wq.row(i) + uk.row(j)).array().tanh();
          out->scores(i, j) = h.dot(va) * inv_div;
        }
      break;
    }
  }
  // Masked cells become -inf; any other non-finite score means float32 overflowed (inputs near ±1e30, or a
  // temperature near 0): redo this head in double so no NaN or arbitrary inf reaches the weights.
  bool finite = true;
  for (int i = 0; i < n_q; ++i) {
    float* row = out->scores.data() + size_t(i) * n_k;
    const uint8_t* m = mask ? mask->data() + size_t(i) * n_k : nullptr;
    for (int j = 0; j < n_k; ++j) {
      if (m && m[j]) row[j] = -std::numeric_limits<float>::infinity();
      else if (!std::isfinite(row[j])) finite = false;
    }
  }
  if (!finite) {
    finish_from_double(scores_reference(q, k, params, mask), v, mask, out);
    out->overflowed = true;
    return;
  }
  out->overflowed = false;
  softmax_rows_masked(out->scores, mask, &out->weights, &out->fully_masked);
  out->context.noalias() = out->weights * v;
}

// [Batched] -----------------------------------------------------------------------------------------------
void attention_batched(const float* q, const float* k, const float* v, int heads, int n_q, int n_k, int d_k, int d_v,
                       bool causal, float scale, float* context, float* weights) {
  using CMap = Eigen::Map<const Mat>;
  using MMap = Eigen::Map<Mat>;
  Mat scratch;
  if (!weights) scratch.resize(n_q, n_k);
  for (int h = 0; h < heads; ++h) {
    CMap qh(q + size_t(h) * n_q * d_k, n_q, d_k);
    CMap kh(k + size_t(h) * n_k * d_k, n_k, d_k);
    CMap vh(v + size_t(h) * n_k * d_v, n_k, d_v);
    MMap ch(context + size_t(h) * n_q * d_v, n_q, d_v);
    MMap p(weights ? weights + size_t(h) * n_q * n_k : scratch.data(), n_q, n_k);
    p.noalias() = (qh * scale) * kh.transpose();
    for (int i = 0; i < n_q; ++i) {
      float* row = p.data() + size_t(i) * n_k;
      const int visible = causal ? std::min(n_k, i + 1) : n_k;
      float max_v = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < visible; ++j) max_v = std::max(max_v, row[j]);
      float sum = 0;
      for (int j = 0; j < visible; ++j) {
        row[j] = std::exp(row[j] - max_v);
        sum += row[j];
      }
      const float inv = visible > 0 ? 1.0f / sum : 0.0f;
      for (int j = 0; j < visible; ++j) row[j] *= inv;
      for (int j = visible; j < n_k; ++j) row[j] = 0.0f;
    }
    ch.noalias() = p * vh;
  }
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
