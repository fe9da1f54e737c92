// attnplay model: the tiny Transformer, defined once. Contracts and shapes: network.h.
#include "model/network.h"

#include "core/assert.h"

#include <cmath>

namespace attnplay {

// [Positions] ---------------------------------------------------------------------------------------------
namespace {

void sinusoidal_table(int n, int d_model, const Mat&, Mat* pe) {
  // The last table made, kept: training steps embed batches of one length again and again.
  thread_local Mat kept;
  if (kept.rows() != n || kept.cols() != d_model) kept = model_positions(n, d_model);
  *pe = kept;
}

void learned_table(int n, int d_model, const Mat& learned, Mat* pe) {
  ATTNPLAY_ASSERT(learned.rows() >= n && learned.cols() == d_model);
  *pe = learned.topRows(n);
}

void rope_attention(const Config& c, NetSpec* s) { s->rope_base = c.rope_base; }
void alibi_attention(const Config& c, NetSpec* s) { s->alibi = alibi_slopes(c.heads); }

std::string no_check(const Config&) { return ""; }
std::string rope_check(const Config& c) {
  return c.d_k % 2 == 0 ? "" : "transformer.positional \"rope\" rotates pairs of dimensions and needs an even d_k (got d_k=" +
                                   std::to_string(c.d_k) + ")";
}

const PositionalInfo kPositional[POSITIONAL_KIND_COUNT] = {
    // name         where        learned table             attention        check
    {"sinusoidal", "x",         false,  sinusoidal_table, nullptr,         no_check},
    {"learned",    "x",         true,   learned_table,    nullptr,         no_check},
    {"none",       "",          false,  nullptr,          nullptr,         no_check},
    {"rope",       "attention", false,  nullptr,          rope_attention,  rope_check},
    {"alibi",      "attention", false,  nullptr,          alibi_attention, no_check},
};

}  // namespace

const PositionalInfo& positional_info(PositionalKind kind) {
  ATTNPLAY_ASSERT(kind >= 0 && kind < POSITIONAL_KIND_COUNT);
  return kPositional[kind];
}

// [Spec] --------------------------------------------------------------------------------------------------
NetSpec net_spec(const Config& c, const AttentionKindWeights& kind_weights, const AttentionKindWeights* cross_kind) {
  NetSpec s;
  s.attention = attention_params_make(c.attention.kind, c.attention.scale_divisor(c.d_k), c.attention.temperature, kind_weights);
  s.cross_attention = attention_params_make(c.cross_attention.kind, c.cross_attention.scale_divisor(c.d_k),
                                            c.cross_attention.temperature, cross_kind ? *cross_kind : kind_weights);
  s.positional = c.positional;
  if (const auto inside = positional_info(c.positional).attention) inside(c, &s);
  s.norm_first = c.norm_first;
  s.activation = c.activation;
  s.d_model = c.d_model;
  return s;
}

MhaOptions net_mha_options(const NetSpec& s, const AttentionDetail* details) {
  MhaOptions o;
  o.rope_base = s.rope_base;
  o.rope_half = s.rope_half;
  o.alibi = s.alibi.empty() ? nullptr : &s.alibi;
  o.details = details;
  o.segment = s.segment;
  return o;
}

// The layer's norm: LayerNorm (kept for the backward when cache is given) or RMSNorm (forward only).
static void norm_forward(const NetSpec& s, const Mat& x, const Vec& gamma, const Vec& beta, Mat* y, LayerNormCache* cache) {
  if (s.norm == NET_NORM_RMS) {
    ATTNPLAY_ASSERT(!cache);
    rms_norm_forward(x, gamma, s.norm_eps, y);
  } else {
    layer_norm_forward_cached(x, gamma, beta, s.norm_eps, y, cache);
  }
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

// One token table and its learned positions (source: embedding / pos_embedding; target: tgt_*).
static void embed_table_forward(const NetSpec& s, const Mat& table, const Mat& positions, const std::vector<int>& ids, Mat* x) {
  const int n = int(ids.size());
  ATTNPLAY_ASSERT(table.cols() == s.d_model);
  x->resize(n, s.d_model);
  for (int i = 0; i < n; ++i) {
    ATTNPLAY_ASSERT(ids[size_t(i)] >= 0 && ids[size_t(i)] < table.rows());
    x->row(i) = table.row(ids[size_t(i)]);
  }
  const int seg = s.segment > 0 ? s.segment : n;  // positions restart every seg rows
  ATTNPLAY_ASSERT(seg == 0 || n % seg == 0);
  const auto pos_table = positional_info(s.positional).table;
  if (pos_table && n > 0) {
    thread_local Mat pe;
    pos_table(seg, s.d_model, positions, &pe);
    for (int r0 = 0; r0 < n; r0 += seg) x->middleRows(r0, seg) += pe;
  }
}

static void embed_table_backward(const NetSpec& s, const std::vector<int>& ids, const Mat& d_x, Mat* g_table, Mat* g_positions) {
  const int seg = s.segment > 0 ? s.segment : int(ids.size());
  for (int p = 0; p < int(ids.size()); ++p) {
    g_table->row(ids[size_t(p)]) += d_x.row(p);
    if (positional_info(s.positional).learned) g_positions->row(p % seg) += d_x.row(p);  // a learned table's rows
  }
}

void embed_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, Mat* x) {
  embed_table_forward(s, w.embedding, w.pos_embedding, ids, x);
}

void embed_backward(const NetSpec& s, const std::vector<int>& ids, const Mat& d_x, ModelWeights* g) {
  embed_table_backward(s, ids, d_x, &g->embedding, &g->pos_embedding);
}

// [FFN] linear1, activation, linear2 of either layer kind. in [n, d_model] -> out [n, d_model]; pre/post [n, d_ff]
// kept when for_backward.
static void ffn_forward(const NetSpec& s, const Mat& w1, const Vec& b1, const Mat& w2, const Vec& b2, const Mat& in,
                        bool for_backward, Mat* pre, Mat* post, Mat* out, const Mat* gate = nullptr) {
  Mat ff_local;
  Mat& ff = for_backward ? *post : ff_local;  // straight into the kept activations: their buffers are reused
  if (s.gated) {  // down(act(gate(x)) ⊙ up(x)): forward only
    ATTNPLAY_ASSERT(gate && gate->size() > 0 && !for_backward);
    Mat up;
    linear_forward(in, *gate, Vec(), &ff);
    activation_forward(s.activation, &ff);
    linear_forward(in, w1, b1, &up);
    ff.array() *= up.array();
    linear_forward(ff, w2, b2, out);
    return;
  }
  linear_forward(in, w1, b1, &ff);
  if (for_backward) *pre = ff;
  activation_forward(s.activation, &ff);
  linear_forward(ff, w2, b2, out);
}

// d_out [n, d_model] -> d_in [n, d_model]; the four tensors' gradients accumulate.
static void ffn_backward(const NetSpec& s, const Mat& w1, const Mat& w2, const Mat& in, const Mat& pre, const Mat& post,
                         const Mat& d_out, Mat* g_w1, Vec* g_b1, Mat* g_w2, Vec* g_b2, Mat* d_in) {
  thread_local Mat d_f, d_a;  // [n, d_ff]: kept, a training step's FFNs reuse them (natively, a fresh one that size is
                              // an mmap and its page faults every time)
  linear_backward(post, w2, d_out, &d_f, g_w2, g_b2);
  activation_backward(s.activation, pre, d_f, &d_a);
  linear_backward(in, w1, d_a, d_in, g_w1, g_b1);
}

// [Layer] -------------------------------------------------------------------------------------------------
void encoder_layer_forward(const NetSpec& s, const LayerWeights& lw, const MaskMat* mask, const AttentionDetail* details,
                           bool for_backward, LayerTrace* lt, Mat* x, const LayerExtras& extras) {
  MhaOptions mo = net_mha_options(s, details);
  mo.ablated = extras.ablated;
  mo.past = extras.past;
  mo.position_offset = extras.position_offset;
  LayerNormCache* ln1 = for_backward ? &lt->ln1 : nullptr;
  LayerNormCache* ln2 = for_backward ? &lt->ln2 : nullptr;
  Mat sa, h, ff;
  if (for_backward) lt->x_in = *x;
  if (s.norm_first) {  // x = x + SA(LN1(x)); x = x + FF(LN2(x))
    norm_forward(s, *x, lw.norm1_w, lw.norm1_b, &h, ln1);
    mha_forward(h, h, lw.self_attn, s.attention, mask, &lt->heads, &lt->concat, &sa, mo);
    if (for_backward) lt->attn_in = std::move(h);
    *x += sa;
    if (for_backward) lt->x1 = *x;
    norm_forward(s, *x, lw.norm2_w, lw.norm2_b, &h, ln2);
    ffn_forward(s, lw.linear1_w, lw.linear1_b, lw.linear2_w, lw.linear2_b, h, for_backward, &lt->pre_act, &lt->post_act, &ff,
                &lw.gate_w);
    if (for_backward) lt->ffn_in = std::move(h);
    *x += ff;
  } else {  // x = LN1(x + SA(x)); x = LN2(x + FF(x))
    mha_forward(*x, *x, lw.self_attn, s.attention, mask, &lt->heads, &lt->concat, &sa, mo);
    if (for_backward) lt->attn_in = *x;
    norm_forward(s, *x + sa, lw.norm1_w, lw.norm1_b, x, ln1);
    if (for_backward) lt->x1 = lt->ffn_in = *x;
    ffn_forward(s, lw.linear1_w, lw.linear1_b, lw.linear2_w, lw.linear2_b, *x, for_backward, &lt->pre_act, &lt->post_act, &h,
                &lw.gate_w);
    norm_forward(s, *x + h, lw.norm2_w, lw.norm2_b, x, ln2);
  }
  lt->output = *x;
}

void encoder_layer_backward(const NetSpec& s, const LayerWeights& lw, const LayerTrace& lt, LayerWeights* g, Mat* d_x) {
  ATTNPLAY_ASSERT(lt.x_in.size() > 0 && lt.pre_act.size() > 0);  // a for_backward forward
  const MhaOptions mo = net_mha_options(s);
  Mat d_x1, d_ffn_in, d_attn_in;
  if (!s.norm_first) {
    // x_out = LN2(x1 + FF(x1))
    Mat d_h2;
    layer_norm_backward(lt.ln2, lw.norm2_w, *d_x, &d_h2, &g->norm2_w, &g->norm2_b);
    ffn_backward(s, lw.linear1_w, lw.linear2_w, lt.ffn_in, lt.pre_act, lt.post_act, d_h2, &g->linear1_w, &g->linear1_b,
                 &g->linear2_w, &g->linear2_b, &d_ffn_in);
    d_x1.noalias() = d_h2 + d_ffn_in;  // the residual around the FFN
    // x1 = LN1(x_in + SA(x_in))
    Mat d_h1;
    layer_norm_backward(lt.ln1, lw.norm1_w, d_x1, &d_h1, &g->norm1_w, &g->norm1_b);
    mha_backward(lt.attn_in, lt.attn_in, lw.self_attn, s.attention, mo, lt.heads, lt.concat, d_h1, &g->self_attn,
                 &d_attn_in, nullptr);
    d_x->noalias() = d_h1 + d_attn_in;
  } else {
    // x_out = x1 + FF(LN2(x1))
    ffn_backward(s, lw.linear1_w, lw.linear2_w, lt.ffn_in, lt.pre_act, lt.post_act, *d_x, &g->linear1_w, &g->linear1_b,
                 &g->linear2_w, &g->linear2_b, &d_ffn_in);
    Mat d_ln2;
    layer_norm_backward(lt.ln2, lw.norm2_w, d_ffn_in, &d_ln2, &g->norm2_w, &g->norm2_b);
    d_x1.noalias() = *d_x + d_ln2;
    // x1 = x_in + SA(LN1(x_in))
    mha_backward(lt.attn_in, lt.attn_in, lw.self_attn, s.attention, mo, lt.heads, lt.concat, d_x1, &g->self_attn,
                 &d_attn_in, nullptr);
    Mat d_ln1;
    layer_norm_backward(lt.ln1, lw.norm1_w, d_attn_in, &d_ln1, &g->norm1_w, &g->norm1_b);
    d_x->noalias() = d_x1 + d_ln1;
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

// [Decoder] -----------------------------------------------------------------------------------------------
void decoder_layer_forward(const NetSpec& s, const DecoderLayerWeights& lw, const Mat& memory, const MaskMat* self_mask,
                           const MaskMat* cross_mask, bool for_backward, DecoderLayerTrace* lt, Mat* x) {
  const MhaOptions mo = net_mha_options(s);
  LayerNormCache* ln1 = for_backward ? &lt->ln1 : nullptr;
  LayerNormCache* ln2 = for_backward ? &lt->ln2 : nullptr;
  LayerNormCache* ln3 = for_backward ? &lt->ln3 : nullptr;
  Mat h, sa, ca, ff;
  if (for_backward) lt->x_in = *x;
  if (s.norm_first) {
    layer_norm_forward_cached(*x, lw.norm1_w, lw.norm1_b, kNetLayerNormEps, &h, ln1);
    mha_forward(h, h, lw.self_attn, s.attention, self_mask, &lt->self.heads, &lt->self.concat, &sa, mo);
    if (for_backward) lt->sa_in = std::move(h);
    *x += sa;
    if (for_backward) lt->x1 = *x;
    layer_norm_forward_cached(*x, lw.norm2_w, lw.norm2_b, kNetLayerNormEps, &h, ln2);
    mha_forward(h, memory, lw.cross_attn, s.cross_attention, cross_mask, &lt->cross.heads, &lt->cross.concat, &ca, mo);
    if (for_backward) lt->ca_in = std::move(h);
    *x += ca;
    if (for_backward) lt->x2 = *x;
    layer_norm_forward_cached(*x, lw.norm3_w, lw.norm3_b, kNetLayerNormEps, &h, ln3);
    ffn_forward(s, lw.linear1_w, lw.linear1_b, lw.linear2_w, lw.linear2_b, h, for_backward, &lt->pre_act, &lt->post_act, &ff);
    if (for_backward) lt->ffn_in = std::move(h);
    *x += ff;
  } else {
    mha_forward(*x, *x, lw.self_attn, s.attention, self_mask, &lt->self.heads, &lt->self.concat, &sa, mo);
    if (for_backward) lt->sa_in = *x;
    layer_norm_forward_cached(*x + sa, lw.norm1_w, lw.norm1_b, kNetLayerNormEps, x, ln1);
    if (for_backward) lt->x1 = lt->ca_in = *x;
    mha_forward(*x, memory, lw.cross_attn, s.cross_attention, cross_mask, &lt->cross.heads, &lt->cross.concat, &ca, mo);
    layer_norm_forward_cached(*x + ca, lw.norm2_w, lw.norm2_b, kNetLayerNormEps, x, ln2);
    if (for_backward) lt->x2 = lt->ffn_in = *x;
    ffn_forward(s, lw.linear1_w, lw.linear1_b, lw.linear2_w, lw.linear2_b, *x, for_backward, &lt->pre_act, &lt->post_act, &ff);
    layer_norm_forward_cached(*x + ff, lw.norm3_w, lw.norm3_b, kNetLayerNormEps, x, ln3);
  }
  lt->self.output = sa;
  lt->cross.output = ca;
  lt->output = *x;
}

void decoder_layer_backward(const NetSpec& s, const DecoderLayerWeights& lw, const Mat& memory, const DecoderLayerTrace& lt,
                            DecoderLayerWeights* g, Mat* d_x, Mat* d_memory) {
  ATTNPLAY_ASSERT(lt.x_in.size() > 0 && lt.pre_act.size() > 0);  // a for_backward forward
  ATTNPLAY_ASSERT(d_memory->rows() == memory.rows() && d_memory->cols() == memory.cols());
  const MhaOptions mo = net_mha_options(s);
  Mat d_x2, d_x1, d_ffn_in, d_ca_in, d_sa_in, d_mem, d_h;
  if (s.norm_first) {  // out = x2 + FF(LN3(x2)); x2 = x1 + CA(LN2(x1)); x1 = x + SA(LN1(x))
    ffn_backward(s, lw.linear1_w, lw.linear2_w, lt.ffn_in, lt.pre_act, lt.post_act, *d_x, &g->linear1_w, &g->linear1_b,
                 &g->linear2_w, &g->linear2_b, &d_ffn_in);
    layer_norm_backward(lt.ln3, lw.norm3_w, d_ffn_in, &d_h, &g->norm3_w, &g->norm3_b);
    d_x2 = *d_x + d_h;
    mha_backward(lt.ca_in, memory, lw.cross_attn, s.cross_attention, mo, lt.cross.heads, lt.cross.concat, d_x2,
                 &g->cross_attn, &d_ca_in, &d_mem);
    *d_memory += d_mem;
    layer_norm_backward(lt.ln2, lw.norm2_w, d_ca_in, &d_h, &g->norm2_w, &g->norm2_b);
    d_x1 = d_x2 + d_h;
    mha_backward(lt.sa_in, lt.sa_in, lw.self_attn, s.attention, mo, lt.self.heads, lt.self.concat, d_x1, &g->self_attn,
                 &d_sa_in, nullptr);
    layer_norm_backward(lt.ln1, lw.norm1_w, d_sa_in, &d_h, &g->norm1_w, &g->norm1_b);
    *d_x = d_x1 + d_h;
  } else {  // out = LN3(x2 + FF(x2)); x2 = LN2(x1 + CA(x1)); x1 = LN1(x + SA(x))
    Mat d_r3, d_r2, d_r1;
    layer_norm_backward(lt.ln3, lw.norm3_w, *d_x, &d_r3, &g->norm3_w, &g->norm3_b);
    ffn_backward(s, lw.linear1_w, lw.linear2_w, lt.ffn_in, lt.pre_act, lt.post_act, d_r3, &g->linear1_w, &g->linear1_b,
                 &g->linear2_w, &g->linear2_b, &d_ffn_in);
    d_x2 = d_r3 + d_ffn_in;
    layer_norm_backward(lt.ln2, lw.norm2_w, d_x2, &d_r2, &g->norm2_w, &g->norm2_b);
    mha_backward(lt.ca_in, memory, lw.cross_attn, s.cross_attention, mo, lt.cross.heads, lt.cross.concat, d_r2,
                 &g->cross_attn, &d_ca_in, &d_mem);
    *d_memory += d_mem;
    d_x1 = d_r2 + d_ca_in;
    layer_norm_backward(lt.ln1, lw.norm1_w, d_x1, &d_r1, &g->norm1_w, &g->norm1_b);
    mha_backward(lt.sa_in, lt.sa_in, lw.self_attn, s.attention, mo, lt.self.heads, lt.self.concat, d_r1, &g->self_attn,
                 &d_sa_in, nullptr);
    *d_x = d_r1 + d_sa_in;
  }
}

// [Seq2Seq] -----------------------------------------------------------------------------------------------
void seq2seq_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& src_ids, const std::vector<int>& tgt_ids,
                     const MaskMat* src_mask, const MaskMat* cross_mask, const NetOptions& o, Seq2SeqActs* a) {
  const Seq2SeqWeights& sw = w.seq2seq;
  ATTNPLAY_ASSERT(sw.enc_norm_w.size() == s.d_model && sw.dec_norm_w.size() == s.d_model);
  ATTNPLAY_ASSERT(s.segment == 0);  // one pair at a time: cross-attention has no stacked form
  // Encoder: the layers, then transformer.encoder.norm.
  embed_forward(s, w, src_ids, &a->encoder.x);
  Mat x = a->encoder.x;
  a->encoder.layers.resize(w.layers.size());
  for (size_t l = 0; l < w.layers.size(); ++l)
    encoder_layer_forward(s, w.layers[l], src_mask, nullptr, o.for_backward, &a->encoder.layers[l], &x);
  a->memory_in = std::move(x);
  layer_norm_forward_cached(a->memory_in, sw.enc_norm_w, sw.enc_norm_b, kNetLayerNormEps, &a->memory,
                            o.for_backward ? &a->enc_norm : nullptr);
  // Decoder: causal self-attention, cross-attention over the memory; then transformer.decoder.norm and fc_out.
  embed_table_forward(s, sw.tgt_embedding, sw.tgt_pos_embedding, tgt_ids, &a->tgt_x);
  const int n_t = int(tgt_ids.size());
  MaskSpec causal;
  causal.causal = true;
  const MaskMat self_mask = mask_build(causal, n_t, n_t);
  Mat y = a->tgt_x;
  a->decoder.resize(sw.decoder.size());
  for (size_t l = 0; l < sw.decoder.size(); ++l)
    decoder_layer_forward(s, sw.decoder[l], a->memory, &self_mask, cross_mask, o.for_backward, &a->decoder[l], &y);
  a->dec_in = std::move(y);
  layer_norm_forward_cached(a->dec_in, sw.dec_norm_w, sw.dec_norm_b, kNetLayerNormEps, &a->dec_out,
                            o.for_backward ? &a->dec_norm : nullptr);
  linear_forward(a->dec_out, w.fc_out_w, w.fc_out_b, &a->logits);
}

void seq2seq_backward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& src_ids, const std::vector<int>& tgt_ids,
                      const Seq2SeqActs& a, const Mat& d_logits, ModelWeights* g) {
  const Seq2SeqWeights& sw = w.seq2seq;
  Seq2SeqWeights& gs = g->seq2seq;
  ATTNPLAY_ASSERT(a.decoder.size() == sw.decoder.size() && gs.decoder.size() == sw.decoder.size());
  Mat d_dec_out, d_y;
  linear_backward(a.dec_out, w.fc_out_w, d_logits, &d_dec_out, &g->fc_out_w, &g->fc_out_b);
  layer_norm_backward(a.dec_norm, sw.dec_norm_w, d_dec_out, &d_y, &gs.dec_norm_w, &gs.dec_norm_b);
  Mat d_memory = Mat::Zero(a.memory.rows(), a.memory.cols());
  for (size_t l = sw.decoder.size(); l-- > 0;)
    decoder_layer_backward(s, sw.decoder[l], a.memory, a.decoder[l], &gs.decoder[l], &d_y, &d_memory);
  embed_table_backward(s, tgt_ids, d_y, &gs.tgt_embedding, &gs.tgt_pos_embedding);
  Mat d_x;
  layer_norm_backward(a.enc_norm, sw.enc_norm_w, d_memory, &d_x, &gs.enc_norm_w, &gs.enc_norm_b);
  for (size_t l = w.layers.size(); l-- > 0;) encoder_layer_backward(s, w.layers[l], a.encoder.layers[l], &g->layers[l], &d_x);
  embed_backward(s, src_ids, d_x, g);
}

}  // namespace attnplay
