// attnplay model: forward pass and result JSON. Contracts: model.h; semantics: ../shared/SPEC.md §7.
//
// Index
//   trace_params, trace_head_*, trace_weight   a trace's kernel parameters; a lean trace's heads
//   model_compute                  explicit inputs, the attention block, or the Transformer (network.h's net_forward)
//   [Result] model_result_json     SPEC §3, written straight to text (shortest float32 round trip)
//   model_compute_json, model_weights_json   the engine entry points of the CLI and the WASM bindings
#include "model/model.h"

#include "core/assert.h"
#include "model/pretrained.h"

#include <nlohmann/json.hpp>

#include <cfloat>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace attnplay {

ModelWeights model_weights_for(const Config& c) { return weights_seeded(c); }

static void note_overflow(const LayerTrace& lt, int layer, std::vector<std::string>* warnings) {
  for (size_t h = 0; h < lt.heads.size(); ++h)
    if (lt.heads[h].attn.overflowed)
      warnings->push_back("layer " + std::to_string(layer) + " head " + std::to_string(h) +
                          ": scores overflowed float32 and were computed in double; they are shown saturated at ±3.4e38");
}

AttentionParams trace_params(const Trace& t, const HeadTrace& h) {
  AttentionParams p = trace_params(t);
  p.alibi_slope = h.alibi_slope;
  return p;
}

AttentionParams trace_params(const Trace& t) {
  const TraceAttention& a = t.attention;
  return attention_params_make(a.spec.kind, a.scale_divisor, a.spec.temperature, a.kind_weights);
}

// Lean-trace heads: indices in range (the header's precondition).
static void check_head(const Trace& t, int layer, int head) {
  ATTNPLAY_ASSERT(layer >= 0 && layer < int(t.layers.size()));
  ATTNPLAY_ASSERT(head >= 0 && head < int(t.layers[size_t(layer)].heads.size()));
}

bool trace_head_has_matrices(const Trace& t, int layer, int head) {
  check_head(t, layer, head);
  return !t.lean || t.layers[size_t(layer)].heads[size_t(head)].attn.weights.size() > 0;
}

void trace_head_materialize(Trace* t, int layer, int head) {
  if (trace_head_has_matrices(*t, layer, head)) return;
  HeadTrace& h = t->layers[size_t(layer)].heads[size_t(head)];
  AttentionOutput full;
  attention_forward(h.q, h.k, h.v, trace_params(*t, h), t->attention.mask.size() ? &t->attention.mask : nullptr, &full);
  h.attn.scores = std::move(full.scores);
  h.attn.weights = std::move(full.weights);
}

void trace_head_release(Trace* t, int layer, int head) {
  if (!t->lean) return;
  AttentionOutput& a = t->layers[size_t(layer)].heads[size_t(head)].attn;
  if (a.overflowed || a.row_lse.size() == 0) return;  // the double path keeps its matrices (row_lse saturates)
  a.scores = Mat();
  a.weights = Mat();
}

float trace_weight(const Trace& t, int layer, int head, int i, int j) {
  check_head(t, layer, head);
  const HeadTrace& h = t.layers[size_t(layer)].heads[size_t(head)];
  if (h.attn.weights.size() > 0) return h.attn.weights(i, j);
  return attention_weight_at(h.q, h.k, trace_params(t, h), t.attention.mask.size() ? &t.attention.mask : nullptr, h.attn.row_lse, i, j);
}

// Explicit matrices (config inputs): the heads' contexts side by side, no projections. details [heads].
static void compute_inputs(const Config& c, const std::vector<AttentionDetail>& details, const MaskMat* mp, Trace* out) {
  Trace& t = *out;
  ModelWeights extra;
  weights_seed_extra(c, &extra);
  if (c.inputs.has_w) (attention_kind_info(c.attention.kind).extras == ATTENTION_EXTRA_W ? extra.general_w : extra.additive_w) = c.inputs.w;
  if (c.inputs.has_u) extra.additive_u = c.inputs.u;
  if (c.inputs.has_v_a) extra.additive_v = c.inputs.v_a;
  t.attention.kind_weights = extra;
  const NetSpec spec = net_spec(c, t.attention.kind_weights);
  LayerTrace lt;
  lt.heads.resize(size_t(c.heads));
  lt.concat.resize(c.n_q(), c.heads * c.d_v);
  for (int h = 0; h < c.heads; ++h) {
    HeadTrace& ht = lt.heads[size_t(h)];
    ht.q = c.inputs.q[size_t(h)];
    ht.k = c.inputs.k[size_t(h)];
    ht.v = c.inputs.v[size_t(h)];
    if (spec.rope_base > 0) {  // positions inside attention apply to given q, k as well
      rope_apply(&ht.q, spec.rope_base);
      rope_apply(&ht.k, spec.rope_base);
    }
    AttentionParams ph = spec.attention;
    ph.alibi_slope = spec.alibi.empty() ? 0.0f : spec.alibi[size_t(h)];
    ht.alibi_slope = ph.alibi_slope;
    attention_forward(ht.q, ht.k, ht.v, ph, mp, &ht.attn, details[size_t(h)]);
    lt.concat.middleCols(h * c.d_v, c.d_v) = ht.attn.context;
  }
  lt.output = lt.concat;
  note_overflow(lt, 0, &t.warnings);
  t.layers.push_back(std::move(lt));
}

// Mode seq2seq: encoder, decoder, logits over the target vocabulary (SPEC §8). ids: the source's, in w.vocab.
static bool compute_seq2seq(const Config& c, const ModelWeights& w, const NetSpec& spec, const std::vector<int>& ids,
                            const MaskMat* mp, Trace* out, std::string* error) {
  Trace& t = *out;
  std::vector<int> tgt_ids;
  if (!weights_tgt_token_ids(w, c.tokens, &tgt_ids, error)) return false;
  if (positional_info(c.positional).learned && w.seq2seq.tgt_pos_embedding.rows() < c.n_q()) {
    if (error) *error = "weights: tgt_pos_embedding.weight has " + std::to_string(w.seq2seq.tgt_pos_embedding.rows()) +
                        " positions but the target has " + std::to_string(c.n_q()) + " tokens";
    return false;
  }
  // memory_key_padding_mask: the source's padded keys are hidden from the cross-attention too (its spec's mask).
  const MaskSpec& pad = c.cross_attention.mask;
  const MaskMat cross_mask = mask_spec_is_empty(pad) ? MaskMat() : mask_build(pad, c.n_q(), c.n_s());
  Seq2SeqActs a;
  seq2seq_forward(spec, w, ids, tgt_ids, mp, cross_mask.size() ? &cross_mask : nullptr, NetOptions(), &a);
  t.seq2seq = true;
  t.x = std::move(a.encoder.x);
  t.layers = std::move(a.encoder.layers);
  t.decoder = std::move(a.decoder);
  t.target_logits = std::move(a.logits);
  t.target_tokens = c.tokens;
  t.tgt_vocab = w.seq2seq.tgt_vocab;
  t.cross_attention = TraceAttention{c.cross_attention, c.cross_attention.scale_divisor(c.d_k), w.seq2seq.cross_kind, cross_mask};
  for (int l = 0; l < c.layers; ++l) note_overflow(t.layers[size_t(l)], l, &t.warnings);
  for (size_t l = 0; l < t.decoder.size(); ++l) {
    note_overflow(t.decoder[l].self, int(l), &t.warnings);
    note_overflow(t.decoder[l].cross, int(l), &t.warnings);
  }
  return true;
}

Trace trace_band(const Trace& t, TraceBand band) {
  if (!t.seq2seq) return t;
  Trace b;
  if (band == TRACE_BAND_ENCODER) {  // the trace as computed, without its decoder
    b = t;
    b.seq2seq = false;
    b.target_tokens.clear();
    b.decoder.clear();
    b.target_logits = Mat();
    b.tgt_vocab.clear();
    b.cross_attention = TraceAttention();
  } else {
    const bool cross = band == TRACE_BAND_CROSS;
    const int n_t = int(t.target_tokens.size());
    b.warnings = t.warnings;
    b.tokens = t.target_tokens;
    b.key_tokens = cross ? t.tokens : t.target_tokens;
    b.cross = cross;
    b.vocab = t.tgt_vocab;
    b.logits = t.target_logits;
    b.attention = cross ? t.cross_attention : t.attention;
    if (!cross) {  // always causal (SPEC §8), with the encoder's kind, scale and temperature
      b.attention.spec.mask = MaskSpec();
      b.attention.spec.mask.causal = true;
      b.attention.mask = mask_build(b.attention.spec.mask, n_t, n_t);
    }
    for (const DecoderLayerTrace& d : t.decoder) {
      b.layers.push_back(cross ? d.cross : d.self);
      if (!cross) b.layers.back().output = d.output;  // the whole decoder layer's output, as the result's decoder_self
    }
  }
  b.fully_masked_rows.clear();  // this band's rows with no visible key
  if (!b.layers.empty() && !b.layers[0].heads.empty()) {
    const std::vector<uint8_t>& fm = b.layers[0].heads[0].attn.fully_masked;
    for (size_t i = 0; i < fm.size(); ++i)
      if (fm[i]) b.fully_masked_rows.push_back(int(i));
  }
  return b;
}

// Loaded or trained weights were made for one config; an edit since (heads, kv heads, d_k, layers) can leave them
// for another. Refused by name here: the forward pass would otherwise index heads and layers the config does not have.
static bool weights_fit(const Config& c, const ModelWeights& w, std::string* error) {
  const bool seq2seq = c.mode == MODEL_MODE_SEQ2SEQ;
  const size_t layers = c.mode == MODEL_MODE_ATTENTION ? 1 : size_t(c.layers);
  const auto fits = [&](const MhaWeights& m, const char* what) {
    if (m.heads == c.heads && (m.kv_heads == 0 ? m.heads : m.kv_heads) == c.kv_heads && m.d_k == c.d_k && m.d_v == c.d_v)
      return true;
    if (error)
      *error = std::string("weights: ") + what + " has " + std::to_string(m.heads) + " heads (kv " +
               std::to_string(m.kv_heads == 0 ? m.heads : m.kv_heads) + ", d_k " + std::to_string(m.d_k) + ", d_v " +
               std::to_string(m.d_v) + ") but the config asks for " + std::to_string(c.heads) + " (kv " +
               std::to_string(c.kv_heads) + ", d_k " + std::to_string(c.d_k) + ", d_v " + std::to_string(c.d_v) +
               "); load or train weights for this config, or reset them";
    return false;
  };
  if (w.layers.size() < layers) {
    if (error)
      *error = "weights: they have " + std::to_string(w.layers.size()) + " layers but the config asks for " +
               std::to_string(layers) + "; load or train weights for this config, or reset them";
    return false;
  }
  for (size_t l = 0; l < layers; ++l)
    if (!fits(w.layers[l].self_attn, "a self-attention layer")) return false;
  if (seq2seq) {
    if (w.seq2seq.decoder.size() < size_t(c.decoder_layers)) {
      if (error) *error = "weights: they have " + std::to_string(w.seq2seq.decoder.size()) + " decoder layers but the config asks for " +
                          std::to_string(c.decoder_layers) + "; load or train weights for this config, or reset them";
      return false;
    }
    for (int l = 0; l < c.decoder_layers; ++l)
      if (!fits(w.seq2seq.decoder[size_t(l)].self_attn, "a decoder layer")) return false;
  }
  return true;
}

bool model_compute(const Config& c, const ModelWeights* loaded, Trace* out, std::string* error,
                   const TraceOptions& options) {
  Trace t;
  // Keep every head's matrices when they fit the budget; otherwise only the focused head's, with thumbnails.
  t.lean = options.max_matrix_bytes >= 0 && config_trace_bytes(c) > options.max_matrix_bytes;
  auto details_for = [&](int layer) {
    std::vector<AttentionDetail> d(size_t(c.heads));
    if (t.lean)
      for (int h = 0; h < c.heads; ++h) {
        d[size_t(h)].keep_matrices = layer == options.focus_layer && h == options.focus_head;
        d[size_t(h)].thumb = options.thumb;
      }
    return d;
  };
  const bool seq2seq = c.mode == MODEL_MODE_SEQ2SEQ;
  if (seq2seq) t.lean = false;  // (its trace is small: config_trace_bytes bounds it; views read the encoder)
  t.tokens = seq2seq ? c.source_tokens : c.tokens;
  t.cross = c.cross;
  t.key_tokens = seq2seq ? c.source_tokens : c.cross ? c.key_tokens : c.tokens;
  t.warnings = c.warnings;
  const bool has_mask = !mask_spec_is_empty(c.attention.mask);
  const int mask_q = seq2seq ? c.n_s() : c.n_q(), mask_k = seq2seq ? c.n_s() : c.n_k();  // seq2seq: the encoder's
  t.attention.spec = c.attention;
  t.attention.scale_divisor = c.attention.scale_divisor(c.d_k);
  t.attention.mask = has_mask ? mask_build(c.attention.mask, mask_q, mask_k) : MaskMat();
  const MaskMat* mp = has_mask ? &t.attention.mask : nullptr;

  if (c.inputs.present) {
    compute_inputs(c, details_for(0), mp, &t);
  } else {
    ModelWeights seeded;
    if (!loaded) seeded = weights_seeded(c);
    else if (!weights_fit(c, *loaded, error)) return false;
    const ModelWeights& w = loaded ? *loaded : seeded;
    t.vocab = w.vocab;
    std::vector<int> ids, key_ids;  // seq2seq: ids are the source's
    if (!weights_token_ids(w, seq2seq ? c.source_tokens : c.tokens, &ids, error)) return false;
    if (c.cross && !weights_token_ids(w, c.key_tokens, &key_ids, error)) return false;
    if (positional_info(c.positional).learned) {
      const int need = seq2seq ? c.n_s() : std::max(c.n_q(), c.n_k());
      if (w.pos_embedding.rows() < need) {
        if (error) *error = "weights: pos_embedding.weight has " + std::to_string(w.pos_embedding.rows()) +
                            " positions but the input has " + std::to_string(need) + " tokens";
        return false;
      }
    }
    t.attention.kind_weights = w;
    const NetSpec spec = net_spec(c, w, &w.seq2seq.cross_kind);
    if (seq2seq) {
      if (!compute_seq2seq(c, w, spec, ids, mp, &t, error)) return false;
    } else if (c.mode == MODEL_MODE_ATTENTION) {
      embed_forward(spec, w, ids, &t.x);
      Mat x_kv;
      if (c.cross) embed_forward(spec, w, key_ids, &x_kv);
      LayerTrace lt;
      const std::vector<AttentionDetail> details = details_for(0);
      mha_forward(t.x, c.cross ? x_kv : t.x, w.layers[0].self_attn, spec.attention, mp, &lt.heads, &lt.concat, &lt.output,
                  net_mha_options(spec, details.data()));
      note_overflow(lt, 0, &t.warnings);
      t.layers.push_back(std::move(lt));
    } else {
      std::vector<std::vector<AttentionDetail>> details;
      for (int l = 0; l < c.layers; ++l) details.push_back(details_for(l));
      NetOptions o;
      o.details = &details;
      net_forward(spec, w, ids, mp, o, &t);
      for (int l = 0; l < c.layers; ++l) note_overflow(t.layers[size_t(l)], l, &t.warnings);
    }
  }
  // Rows of the result's "tokens" that see no key: the queries' (seq2seq: the target's, through the cross-attention).
  const std::vector<uint8_t>& fm = t.seq2seq ? t.decoder[0].cross.heads[0].attn.fully_masked : t.layers[0].heads[0].attn.fully_masked;
  for (size_t i = 0; i < fm.size(); ++i)
    if (fm[i]) t.fully_masked_rows.push_back(int(i));
  if (!t.fully_masked_rows.empty())
    t.warnings.push_back(std::to_string(t.fully_masked_rows.size()) +
                         " query row(s) see no key: their weights and context are 0 (PyTorch would give NaN)");
  *out = std::move(t);
  return true;
}

// [Decode] ------------------------------------------------------------------------------------------------
bool model_greedy_decode(const Config& c, const ModelWeights* weights, int steps, std::vector<DecodeStep>* out,
                         std::string* error) {
  out->clear();
  if (c.mode != MODEL_MODE_SEQ2SEQ) {
    if (error) *error = "mode: greedy decoding needs mode \"seq2seq\"";
    return false;
  }
  if (steps < 1 || steps > c.n_q()) {
    if (error) *error = "steps: " + std::to_string(steps) + " is outside 1.." + std::to_string(c.n_q()) + " (the target's length)";
    return false;
  }
  ModelWeights seeded;  // seeded once from the whole config: its target vocabulary, not the growing prefix's
  if (!weights) seeded = weights_seeded(c);
  const ModelWeights& w = weights ? *weights : seeded;
  Config step = c;
  step.tokens = {c.tokens[0]};
  for (int k = 0; k < steps; ++k) {
    Trace t;
    if (!model_compute(step, &w, &t, error)) return false;
    const int row = int(step.tokens.size()) - 1;
    const auto logits = t.target_logits.row(row);
    Eigen::Index best = 0;
    logits.maxCoeff(&best);
    const float m = logits.maxCoeff();
    const double z = (logits.array() - m).exp().sum();
    DecodeStep d;
    d.token = t.tgt_vocab[size_t(best)];
    d.prob = float(1.0 / z);
    for (const DecoderLayerTrace& l : t.decoder) {
      Mat rows(Eigen::Index(l.cross.heads.size()), Eigen::Index(t.tokens.size()));
      for (size_t h = 0; h < l.cross.heads.size(); ++h) rows.row(Eigen::Index(h)) = l.cross.heads[h].attn.weights.row(row);
      d.cross.push_back(std::move(rows));
    }
    out->push_back(std::move(d));
    step.tokens.push_back(out->back().token);
  }
  return true;
}

// [Result] ------------------------------------------------------------------------------------------------
namespace {

// Shortest text that reads back as the same float32; non-finite values saturate (JSON has no inf/NaN).
void put_float(std::string* s, float v, bool* saturated) {
  if (!std::isfinite(v)) {
    *saturated = true;
    v = std::isnan(v) ? 0.0f : (v > 0 ? FLT_MAX : -FLT_MAX);
  }
  char buf[32];
#if defined(__cpp_lib_to_chars) || (defined(_GLIBCXX_RELEASE) && _GLIBCXX_RELEASE >= 11)
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s->append(buf, r.ptr);
#else  // (emscripten's libc++ 14 has no float to_chars) nlohmann's Grisu2: the shortest text that reads back as v,
       // twice as fast as snprintf("%.9g") in WebAssembly and fewer digits for JSON.parse ("1.0" for whole numbers)
  s->append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));
#endif
}

void put_matrix(std::string* s, const Mat& m, const MaskMat* null_mask, bool* saturated) {
  s->push_back('[');
  for (int i = 0; i < m.rows(); ++i) {
    if (i) s->push_back(',');
    s->push_back('[');
    for (int j = 0; j < m.cols(); ++j) {
      if (j) s->push_back(',');
      if (null_mask && (*null_mask)(i, j)) s->append("null");
      else put_float(s, m(i, j), saturated);
    }
    s->push_back(']');
  }
  s->push_back(']');
}

void put_strings(std::string* s, const std::vector<std::string>& v) {
  s->append(nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// One head's {"scores" (masked = null), "weights", "context"}.
void put_head(std::string* s, const AttentionOutput& a, bool* saturated) {
  MaskMat masked = (a.scores.array() == -std::numeric_limits<float>::infinity()).cast<uint8_t>();
  s->append("{\"scores\":");
  put_matrix(s, a.scores, &masked, saturated);
  s->append(",\"weights\":");
  put_matrix(s, a.weights, nullptr, saturated);
  s->append(",\"context\":");
  put_matrix(s, a.context, nullptr, saturated);
  s->push_back('}');
}

}  // namespace

const AttentionOutput& model_result_head(const Trace& t, int layer, int head, AttentionOutput* scratch) {
  check_head(t, layer, head);
  const HeadTrace& ht = t.layers[size_t(layer)].heads[size_t(head)];
  if (trace_head_has_matrices(t, layer, head)) return ht.attn;
  attention_forward(ht.q, ht.k, ht.v, trace_params(t, ht), t.attention.mask.size() ? &t.attention.mask : nullptr, scratch);
  scratch->context = ht.attn.context;  // (the trace's: an ablated head's is 0, as the forward left it)
  return *scratch;
}

std::string model_result_head_json(const Trace& t, int layer, int head) {
  AttentionOutput scratch;
  std::string s;
  bool saturated = false;
  put_head(&s, model_result_head(t, layer, head, &scratch), &saturated);
  return s;
}

std::string model_result_matrix_json(const Mat& m) {
  std::string s;
  bool saturated = false;
  put_matrix(&s, m, nullptr, &saturated);
  return s;
}

bool model_result_saturated(const Trace& t) {
  auto beyond = [](const Mat& m, bool scores) {
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      const float v = m.data()[i];
      if (!std::isfinite(v) && !(scores && v == -std::numeric_limits<float>::infinity())) return true;
    }
    return false;
  };
  for (const LayerTrace& l : t.layers) {
    if (beyond(l.output, false)) return true;
    for (const HeadTrace& h : l.heads)
      if (beyond(h.attn.scores, true) || beyond(h.attn.weights, false) || beyond(h.attn.context, false)) return true;
  }
  return beyond(t.logits, false);
}

std::string model_result_json(const Trace& t) {
  std::string s;
  bool saturated = false;
  // One head's scores (masked = null), weights and context; a lean trace's heads are recomputed one at a time, so the
  // JSON never needs every matrix at once (encoder layers only: the decoder's are never lean).
  auto put_heads = [&](const std::vector<HeadTrace>& heads, int lean_layer) {
    s.append("{\"heads\":[");
    for (size_t h = 0; h < heads.size(); ++h) {
      AttentionOutput scratch;
      if (h) s.push_back(',');
      put_head(&s, lean_layer >= 0 ? model_result_head(t, lean_layer, int(h), &scratch) : heads[h].attn, &saturated);
    }
    s.append("]");
  };
  auto put_layers = [&](const std::vector<LayerTrace>& layers) {  // SPEC §3's layers (the encoder's in §8)
    s.push_back('[');
    for (size_t l = 0; l < layers.size(); ++l) {
      if (l) s.push_back(',');
      put_heads(layers[l].heads, int(l));
      s.append(",\"output\":");
      put_matrix(&s, layers[l].output, nullptr, &saturated);
      s.push_back('}');
    }
    s.push_back(']');
  };
  if (t.seq2seq) {  // SPEC §8
    s.append("{\"source_tokens\":");
    put_strings(&s, t.tokens);
    s.append(",\"tokens\":");
    put_strings(&s, t.target_tokens);
    s.append(",\"encoder\":");
    put_layers(t.layers);
    s.append(",\"decoder_self\":[");
    for (size_t l = 0; l < t.decoder.size(); ++l) {
      if (l) s.push_back(',');
      put_heads(t.decoder[l].self.heads, -1);
      s.append(",\"output\":");
      put_matrix(&s, t.decoder[l].output, nullptr, &saturated);
      s.push_back('}');
    }
    s.append("],\"cross\":[");
    for (size_t l = 0; l < t.decoder.size(); ++l) {
      if (l) s.push_back(',');
      put_heads(t.decoder[l].cross.heads, -1);
      s.push_back('}');
    }
    s.append("],\"logits\":");
    put_matrix(&s, t.target_logits, nullptr, &saturated);
    s.append(",\"vocab\":");
    put_strings(&s, t.tgt_vocab);
  } else {
    s.append("{\"tokens\":");
    put_strings(&s, t.tokens);
    if (t.cross) {
      s.append(",\"key_tokens\":");
      put_strings(&s, t.key_tokens);
    }
    s.append(",\"layers\":");
    put_layers(t.layers);
    if (t.logits.size() > 0) {
      s.append(",\"logits\":");
      put_matrix(&s, t.logits, nullptr, &saturated);
      if (!t.vocab.empty()) {  // (a real checkpoint's vocabulary is its tokenizer's: not in the result)
        s.append(",\"vocab\":");
        put_strings(&s, t.vocab);
      }
    }
  }
  s.append(",\"fully_masked_rows\":[");
  for (size_t i = 0; i < t.fully_masked_rows.size(); ++i) {
    if (i) s.push_back(',');
    s.append(std::to_string(t.fully_masked_rows[i]));
  }
  std::vector<std::string> warnings = t.warnings;
  if (saturated) warnings.push_back("some values were beyond float32 and are shown saturated at ±3.4e38");
  s.append("],\"warnings\":");
  put_strings(&s, warnings);
  s.push_back('}');
  return s;
}

}  // namespace attnplay

namespace attnplay {

bool model_compute_json(const std::string& config_text, const uint8_t* weights, size_t weights_size,
                        std::string* result, std::string* error, const PretrainedResolver& resolve) {
  Config c;
  if (!config_parse_text(config_text, &c, error)) return false;
  if (c.mode == MODEL_MODE_PRETRAINED) {
    if (weights) {
      if (error) *error = "weights: mode \"pretrained\" takes its weights from the model folder (drop --weights)";
      return false;
    }
    return pretrained_compute_json(c, resolve, result, error);
  }
  ModelWeights loaded;
  if (weights) {
    if (c.inputs.present) {
      if (error) *error = "inputs: explicit q/k/v matrices cannot be combined with a weights file";
      return false;
    }
    SafeTensorsFile f;
    if (!safetensors_read(weights, weights_size, &f, error)) return false;
    if (!weights_from_safetensors(f, c, &loaded, error)) return false;
  }
  Trace t;
  if (!model_compute(c, weights ? &loaded : nullptr, &t, error)) return false;  // (mode pretrained: above)
  *result = model_result_json(t);
  return true;
}

bool model_weights_json(const std::string& config_text, std::vector<uint8_t>* file, std::string* error) {
  Config c;
  if (!config_parse_text(config_text, &c, error)) return false;
  if (c.inputs.present) {
    if (error) *error = "inputs: a config with explicit q/k/v matrices has no model weights to write";
    return false;
  }
  *file = safetensors_write(weights_to_safetensors(weights_seeded(c)));
  return true;
}

}  // namespace attnplay
