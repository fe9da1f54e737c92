// attnplay core: backward passes. Contracts and shapes: backward.h.
#include "core/backward.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnplay {

void linear_backward(const Mat& x, const Mat& w, const Mat& d_y, Mat* d_x, Mat* d_w, Vec* d_b) {
  if (d_x) d_x->noalias() = d_y * w;
  if (d_w) d_w->noalias() += d_y.transpose() * x;
  if (d_b) *d_b += d_y.colwise().sum().transpose();
}

void layer_norm_backward(const LayerNormCache& cache, const Vec& gamma, const Mat& d_y, Mat* d_x, Vec* d_gamma, Vec* d_beta) {
  const int n = int(d_y.rows()), d = int(d_y.cols());
  d_x->resize(n, d);
  for (int i = 0; i < n; ++i) {
    double sum_g = 0, sum_gx = 0;
    for (int c = 0; c < d; ++c) {
      const double g = double(d_y(i, c)) * gamma[c];  // d xhat
      sum_g += g;
      sum_gx += g * cache.xhat(i, c);
      if (d_gamma) (*d_gamma)[c] += d_y(i, c) * cache.xhat(i, c);
      if (d_beta) (*d_beta)[c] += d_y(i, c);
    }
    // dx = rstd / d · (d·dxhat − Σ dxhat − xhat·Σ dxhat⊙xhat)
    for (int c = 0; c < d; ++c) {
      const double g = double(d_y(i, c)) * gamma[c];
      (*d_x)(i, c) = float(cache.rstd[i] / d * (d * g - sum_g - cache.xhat(i, c) * sum_gx));
    }
  }
}

void activation_backward(ActivationKind kind, const Mat& pre, const Mat& d_y, Mat* d_x) {
  d_x->resize(pre.rows(), pre.cols());
  const float* p = pre.data();
  const float* g = d_y.data();
  float* o = d_x->data();
  const size_t n = size_t(pre.size());
  if (kind == ACTIVATION_KIND_RELU) {
    for (size_t i = 0; i < n; ++i) o[i] = p[i] > 0.0f ? g[i] : 0.0f;  // PyTorch: relu'(0) = 0
  } else {
    // d/dx 0.5·x·(1 + erf(x/√2)) = Φ(x) + x·φ(x)
    for (size_t i = 0; i < n; ++i) {
      const double x = p[i];
      const double cdf = 0.5 * (1.0 + std::erf(x * 0.70710678118654752));
      const double pdf = 0.39894228040143268 * std::exp(-0.5 * x * x);
      o[i] = float(double(g[i]) * (cdf + x * pdf));
    }
  }
}

void attention_backward(const Mat& q, const Mat& k, const Mat& v, const Mat& weights, const AttentionParams& params,
                        const Mat& d_out, Mat* d_q, Mat* d_k, Mat* d_v) {
  const bool scaled = params.kind == ATTENTION_KIND_SCALED_DOT || params.kind == ATTENTION_KIND_GENERAL;
  const float c = float(1.0 / ((scaled ? double(params.scale_divisor) : 1.0) * double(params.temperature)));
  // out = P·v: d_v = Pᵀ·d_out, d_P = d_out·vᵀ
  d_v->noalias() = weights.transpose() * d_out;
  const Mat d_p = d_out * v.transpose();
  // softmax rows: d_S = P ⊙ (d_P − rowsum(d_P ⊙ P)); masked cells have P = 0, so d_S = 0 there.
  Mat d_s(weights.rows(), weights.cols());
  for (int i = 0; i < weights.rows(); ++i) {
    const double dot = double((d_p.row(i).array() * weights.row(i).array()).sum());
    d_s.row(i) = (weights.row(i).array() * (d_p.row(i).array() - float(dot))).matrix();
  }
  switch (params.kind) {
    case ATTENTION_KIND_SCALED_DOT:
    case ATTENTION_KIND_DOT:  // S = c·q·kᵀ (+ constants): d_q = c·d_S·k, d_k = c·d_Sᵀ·q
      d_q->noalias() = (d_s * k) * c;
      d_k->noalias() = (d_s.transpose() * q) * c;
      break;
    case ATTENTION_KIND_GENERAL: {  // S = c·(q·W)·kᵀ: d_q = c·d_S·k·Wᵀ, d_k = c·d_Sᵀ·(q·W)
      const Mat& w = *params.w_general;
      d_q->noalias() = ((d_s * k) * w.transpose()) * c;
      d_k->noalias() = (d_s.transpose() * (q * w)) * c;
      break;
    }
    case ATTENTION_KIND_ADDITIVE: {  // S_ij = v_a·tanh(W q_i + U k_j) / temperature
      const Mat& w = *params.w_additive;
      const Mat& u = *params.u_additive;
      const Vec& va = *params.v_additive;
      const Mat a = q * w.transpose(), b = k * u.transpose();  // [n_q, d_a], [n_k, d_a]
      Mat da = Mat::Zero(a.rows(), a.cols()), db = Mat::Zero(b.rows(), b.cols());
      const float inv_t = 1.0f / params.temperature;
      Eigen::RowVectorXf h(a.cols());
      for (int i = 0; i < a.rows(); ++i)
        for (int j = 0; j < b.rows(); ++j) {
          const float g = d_s(i, j) * inv_t;
          if (g == 0.0f) continue;
          h = (a.row(i) + b.row(j)).array().tanh();
          const Eigen::RowVectorXf pre = (g * va.transpose().array() * (1.0f - h.array().square())).matrix();
          da.row(i) += pre;
          db.row(j) += pre;
        }
      d_q->noalias() = da * w;
      d_k->noalias() = db * u;
      break;
    }
  }
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
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits(i, v)) - mx);
    loss += -(double(logits(i, t)) - mx - std::log(sum));
    if (correct && int(arg) == t) ++*correct;
    for (int v = 0; v < vocab; ++v)
      (*d_logits)(i, v) = float((std::exp(double(logits(i, v)) - mx) / sum - (v == t ? 1.0 : 0.0)) / count);
  }
  return loss;
}

}  // namespace attnplay
