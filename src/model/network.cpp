// attnplay model: the tiny Transformer, defined once. Contracts and shapes: network.h.
#include "model/network.h"

#include "core/assert.h"

#include <cmath>

namespace attnplay {

// [Spec] --------------------------------------------------------------------------------------------------
NetSpec net_spec(const Config& c, const AttentionKindWeights& kind_weights) {
  NetSpec s;
  s.attention = attention_params_make(c.kind, c.scale_divisor(), c.temperature, kind_weights);
  s.positional = c.positional;
  s.rope_base = c.positional == POSITIONAL_KIND_ROPE ? c.rope_base : 0.0f;
  if (c.positional == POSITIONAL_KIND_ALIBI) s.alibi = alibi_slopes(c.heads);
  s.norm_first = c.norm_first;
  s.activation = c.activation;
  s.d_model = c.d_model;
  return s;
}

MhaOptions net_mha_options(const NetSpec& s, const AttentionDetail* details) {
  MhaOptions o;
  o.rope_base = s.rope_base;
  o.alibi = s.alibi.empty() ? nullptr : &s.alibi;
  o.details = details;
  return o;
}

// [Embed] -------------------------------------------------------------------------------------------------
Mat model_positions(int n, int d_model) {
  Mat pe(n, d_model);
  std::vector<double> div(static_cast<size_t>(d_model));  // 10000^(2i/d_model) per column: the same doubles, once per column
  for (int c = 0; c < d_model; ++c) div[size_t(c)] = std::pow(10000.0, double(c - (c % 2)) / double(d_model));
  for (int p = 0; p < n; ++p)
    for (int c = 0; c < d_model; ++c) {
      const double angle = double(p) / div[size_t(c)];
      pe(p, c) = float(c % 2 == 0 ? std::sin(angle) : std::cos(angle));
    }
  return pe;
}

void embed_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, Mat* x) {
  const int n = int(ids.size());
  ATTNPLAY_ASSERT(w.embedding.cols() == s.d_model);
  x->resize(n, s.d_model);
  for (int i = 0; i < n; ++i) {
    ATTNPLAY_ASSERT(ids[size_t(i)] >= 0 && ids[size_t(i)] < w.embedding.rows());
    x->row(i) = w.embedding.row(ids[size_t(i)]);
  }
  if (s.positional == POSITIONAL_KIND_SINUSOIDAL) *x += model_positions(n, s.d_model);
  if (s.positional == POSITIONAL_KIND_LEARNED) {
    ATTNPLAY_ASSERT(w.pos_embedding.rows() >= n);
    *x += w.pos_embedding.topRows(n);
  }
}

void embed_backward(const NetSpec& s, const std::vector<int>& ids, const Mat& d_x, ModelWeights* g) {
  for (int p = 0; p < int(ids.size()); ++p) {
    g->embedding.row(ids[size_t(p)]) += d_x.row(p);
    if (s.positional == POSITIONAL_KIND_LEARNED) g->pos_embedding.row(p) += d_x.row(p);
  }
}

// [Layer] -------------------------------------------------------------------------------------------------
void encoder_layer_forward(const NetSpec& s, const LayerWeights& lw, const MaskMat* mask, const AttentionDetail* details,
                           bool for_backward, LayerTrace* lt, Mat* x) {
  const MhaOptions mo = net_mha_options(s, details);
  LayerNormCache* ln1 = for_backward ? &lt->ln1 : nullptr;
  LayerNormCache* ln2 = for_backward ? &lt->ln2 : nullptr;
  Mat sa, h, ff;
  if (for_backward) lt->x_in = *x;
  if (s.norm_first) {  // x = x + SA(LN1(x)); x = x + FF(LN2(x))
    layer_norm_forward_cached(*x, lw.norm1_w, lw.norm1_b, kNetLayerNormEps, &h, ln1);
    mha_forward(h, h, lw.self_attn, s.attention, mask, &lt->heads, &lt->concat, &sa, mo);
    if (for_backward) lt->attn_in = std::move(h);
    *x += sa;
    if (for_backward) lt->x1 = *x;
    layer_norm_forward_cached(*x, lw.norm2_w, lw.norm2_b, kNetLayerNormEps, &h, ln2);
    linear_forward(h, lw.linear1_w, lw.linear1_b, &ff);
    if (for_backward) {
      lt->ffn_in = std::move(h);
      lt->pre_act = ff;
    }
    activation_forward(s.activation, &ff);
    linear_forward(ff, lw.linear2_w, lw.linear2_b, &h);
    if (for_backward) lt->post_act = std::move(ff);
    *x += h;
  } else {  // x = LN1(x + SA(x)); x = LN2(x + FF(x))
    mha_forward(*x, *x, lw.self_attn, s.attention, mask, &lt->heads, &lt->concat, &sa, mo);
    if (for_backward) lt->attn_in = *x;
    layer_norm_forward_cached(*x + sa, lw.norm1_w, lw.norm1_b, kNetLayerNormEps, x, ln1);
    if (for_backward) lt->x1 = lt->ffn_in = *x;
    linear_forward(*x, lw.linear1_w, lw.linear1_b, &ff);
    if (for_backward) lt->pre_act = ff;
    activation_forward(s.activation, &ff);
    linear_forward(ff, lw.linear2_w, lw.linear2_b, &h);
    if (for_backward) lt->post_act = std::move(ff);
    layer_norm_forward_cached(*x + h, lw.norm2_w, lw.norm2_b, kNetLayerNormEps, x, ln2);
  }
  lt->output = *x;
}

void encoder_layer_backward(const NetSpec& s, const LayerWeights& lw, const LayerTrace& lt, LayerWeights* g, Mat* d_x) {
  ATTNPLAY_ASSERT(lt.x_in.size() > 0 && lt.pre_act.size() > 0);  // a for_backward forward
  const MhaOptions mo = net_mha_options(s);
  Mat d_ff = *d_x, d_x1, d_f, d_a, d_ffn_in, d_attn_in;
  if (!s.norm_first) {  // x_out = LN2(x1 + FF(x1))
    Mat d_h2;
    layer_norm_backward(lt.ln2, lw.norm2_w, *d_x, &d_h2, &g->norm2_w, &g->norm2_b);
    d_ff = d_h2;
    d_x1 = d_h2;  // residual around the FFN
  } else {  // x_out = x1 + FF(LN2(x1))
    d_x1 = *d_x;
  }
  linear_backward(lt.post_act, lw.linear2_w, d_ff, &d_f, &g->linear2_w, &g->linear2_b);
  activation_backward(s.activation, lt.pre_act, d_f, &d_a);
  linear_backward(lt.ffn_in, lw.linear1_w, d_a, &d_ffn_in, &g->linear1_w, &g->linear1_b);
  if (s.norm_first) {
    Mat d_ln2;
    layer_norm_backward(lt.ln2, lw.norm2_w, d_ffn_in, &d_ln2, &g->norm2_w, &g->norm2_b);
    d_x1 += d_ln2;
    // x1 = x_in + SA(LN1(x_in))
    mha_backward(lt.attn_in, lt.attn_in, lw.self_attn, s.attention, mo, lt.heads, lt.concat, d_x1, &g->self_attn,
                 &d_attn_in, nullptr);
    Mat d_ln1;
    layer_norm_backward(lt.ln1, lw.norm1_w, d_attn_in, &d_ln1, &g->norm1_w, &g->norm1_b);
    *d_x = d_x1 + d_ln1;
  } else {
    d_x1 += d_ffn_in;
    // x1 = LN1(x_in + SA(x_in))
    Mat d_h1;
    layer_norm_backward(lt.ln1, lw.norm1_w, d_x1, &d_h1, &g->norm1_w, &g->norm1_b);
    mha_backward(lt.attn_in, lt.attn_in, lw.self_attn, s.attention, mo, lt.heads, lt.concat, d_h1, &g->self_attn,
                 &d_attn_in, nullptr);
    *d_x = d_h1 + d_attn_in;
  }
}

// [Model] -------------------------------------------------------------------------------------------------
void net_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, const MaskMat* mask,
                 const NetOptions& o, NetActs* a) {
  ATTNPLAY_ASSERT(!o.details || o.details->size() == w.layers.size());
  embed_forward(s, w, ids, &a->x);
  Mat x = a->x;
  a->layers.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); ++l)
    encoder_layer_forward(s, w.layers[l], mask, o.details ? (*o.details)[l].data() : nullptr, o.for_backward, &a->layers[l], &x);
  linear_forward(x, w.fc_out_w, w.fc_out_b, &a->logits);
}

void net_backward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, const NetActs& a,
                  const Mat& d_logits, ModelWeights* g) {
  ATTNPLAY_ASSERT(a.layers.size() == w.layers.size() && g->layers.size() == w.layers.size());
  Mat d_x;
  const Mat& x_last = a.layers.empty() ? a.x : a.layers.back().output;
  linear_backward(x_last, w.fc_out_w, d_logits, &d_x, &g->fc_out_w, &g->fc_out_b);
  for (size_t l = w.layers.size(); l-- > 0;) encoder_layer_backward(s, w.layers[l], a.layers[l], &g->layers[l], &d_x);
  embed_backward(s, ids, d_x, g);
}

}  // namespace attnplay
