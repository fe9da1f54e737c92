// attnplay core: the attention kinds, one row each. Everything that differs between kinds is here: the definition of
// a pair's raw score (plain loops, double: what the kernels are tested against), how the fast path computes a head's
// scores, the gradient of the raw scores, and which extra parameters a kind reads. attention.cpp (forward, steps,
// weights) and backward.cpp (attention_backward) call these through attention_kind_info; the config's spellings,
// the UI's combo and labels, the walkthrough's formula and the tests' and fuzzers' loops over kinds read the table.
// Adding a kind: its enum value (attention.h) and its row below, plus its label in each UI string table.
//
// Index
//   [Scaled dot / dot]  q·k: the fast path multiplies q by Kᵀ on the GEMM kernels
//   [General]           qᵀ W k: q·W first, then the same product
//   [Additive]          v_aᵀ tanh(W q + U k): every pair (no product form)
//   attention_kind_info, attention_kind_from_name
#include "core/attention.h"

#include "core/assert.h"

#include <cmath>
#include <cstring>

namespace attnplay {

namespace {

// [Scaled dot / dot] ----------------------------------------------------------------------------------------
double dot_reference(const float* q, const float* k, int d_k, const AttentionParams&) {
  double acc = 0;
  for (int d = 0; d < d_k; ++d) acc += double(q[d]) * double(k[d]);
  return acc;
}

void dot_query(const Mat& q, const AttentionParams&, float scale, Mat* qt) { *qt = q * scale; }

// S = c·q·kᵀ (+ constants): d_q = c·d_S·k, d_k = c·d_Sᵀ·q
void dot_backward(const MatCRef& q, const MatCRef& k, const Mat& d_s, const AttentionParams&, float c, Mat* d_q, Mat* d_k) {
  mat_product(d_s, false, k, false, c, d_q);
  mat_product(d_s, true, q, false, c, d_k);
}

void no_extras(const AttentionParams&, int) {}

// [General] --------------------------------------------------------------------------------------------------
double general_reference(const float* q, const float* k, int d_k, const AttentionParams& p) {  // qᵀ W k
  const Mat& w = *p.w_general;
  double acc = 0;
  for (int a = 0; a < d_k; ++a) {
    double wk = 0;
    for (int b = 0; b < d_k; ++b) wk += double(w(a, b)) * double(k[b]);
    acc += double(q[a]) * wk;
  }
  return acc;
}

void general_query(const Mat& q, const AttentionParams& p, float scale, Mat* qt) { *qt = (q * *p.w_general) * scale; }

// S = c·(q·W)·kᵀ: d_q = c·d_S·k·Wᵀ, d_k = c·d_Sᵀ·(q·W)
void general_backward(const MatCRef& q, const MatCRef& k, const Mat& d_s, const AttentionParams& p, float c, Mat* d_q,
                      Mat* d_k) {
  const Mat& w = *p.w_general;
  d_q->noalias() = ((d_s * k) * w.transpose()) * c;
  d_k->noalias() = (d_s.transpose() * (q * w)) * c;
}

void general_extras(const AttentionParams& p, int d_k) {
  ATTNPLAY_ASSERT(p.w_general && p.w_general->rows() == d_k && p.w_general->cols() == d_k);
}

// [Additive] -------------------------------------------------------------------------------------------------
double additive_reference(const float* q, const float* k, int d_k, const AttentionParams& p) {  // v_aᵀ tanh(W q + U k)
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

void additive_pairs(const Mat& q, const Mat& k, const AttentionParams& p, Mat* raw) {
  const Mat wq = q * p.w_additive->transpose();  // [n_q, d_a]
  const Mat uk = k * p.u_additive->transpose();  // [n_k, d_a]
  const Vec& va = *p.v_additive;
  raw->resize(q.rows(), k.rows());
  Eigen::RowVectorXf h(wq.cols());
  for (int i = 0; i < q.rows(); ++i)
    for (int j = 0; j < k.rows(); ++j) {
      h = (wq.row(i) + uk.row(j)).array().tanh();
      (*raw)(i, j) = h.dot(va);
    }
}

// S_ij = c·v_a·tanh(W q_i + U k_j) (c = 1 / temperature: never scaled)
void additive_backward(const MatCRef& q, const MatCRef& k, const Mat& d_s, const AttentionParams& p, float c, Mat* d_q,
                       Mat* d_k) {
  const Mat& w = *p.w_additive;
  const Mat& u = *p.u_additive;
  const Vec& va = *p.v_additive;
  const Mat a = q * w.transpose(), b = k * u.transpose();  // [n_q, d_a], [n_k, d_a]
  Mat da = Mat::Zero(a.rows(), a.cols()), db = Mat::Zero(b.rows(), b.cols());
  Eigen::RowVectorXf h(a.cols());
  for (int i = 0; i < a.rows(); ++i)
    for (int j = 0; j < b.rows(); ++j) {
      const float g = d_s(i, j) * c;
      if (g == 0.0f) continue;
      h = (a.row(i) + b.row(j)).array().tanh();
      const Eigen::RowVectorXf pre = (g * va.transpose().array() * (1.0f - h.array().square())).matrix();
      da.row(i) += pre;
      db.row(j) += pre;
    }
  d_q->noalias() = da * w;
  d_k->noalias() = db * u;
}

void additive_extras(const AttentionParams& p, int d_k) {
  ATTNPLAY_ASSERT(p.w_additive && p.u_additive && p.v_additive);
  ATTNPLAY_ASSERT(p.w_additive->cols() == d_k && p.u_additive->cols() == d_k);
  ATTNPLAY_ASSERT(p.u_additive->rows() == p.w_additive->rows() && p.v_additive->size() == p.w_additive->rows());
}

// The table, in AttentionKind order.
const AttentionKindInfo kKinds[ATTENTION_KIND_COUNT] = {
    // name        formula                 known as    scaled extras                 reference           query          pairs           backward           check
    {"scaled_dot", "q·k",                  "",         true,  ATTENTION_EXTRA_NONE,  dot_reference,      dot_query,     nullptr,        dot_backward,      no_extras},
    {"dot",        "q·k",                  "",         false, ATTENTION_EXTRA_NONE,  dot_reference,      dot_query,     nullptr,        dot_backward,      no_extras},
    {"general",    "qᵀ W k",               "Luong",    true,  ATTENTION_EXTRA_W,     general_reference,  general_query, nullptr,        general_backward,  general_extras},
    {"additive",   "v_aᵀ tanh(W q + U k)", "Bahdanau", false, ATTENTION_EXTRA_W_U_V, additive_reference, nullptr,       additive_pairs, additive_backward, additive_extras},
};

}  // namespace

const AttentionKindInfo& attention_kind_info(AttentionKind kind) {
  ATTNPLAY_ASSERT(kind >= 0 && kind < ATTENTION_KIND_COUNT);
  return kKinds[kind];
}

bool attention_kind_from_name(const char* name, AttentionKind* out) {
  for (int k = 0; k < ATTENTION_KIND_COUNT; ++k)
    if (std::strcmp(name, kKinds[k].name) == 0) {
      *out = AttentionKind(k);
      return true;
    }
  return false;
}

bool attention_kind_scaled(AttentionKind kind) { return attention_kind_info(kind).scaled; }

}  // namespace attnplay
