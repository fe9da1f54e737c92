// attnplay model: seeded and loaded weights. Contracts and initialisation table: weights.h.
#include "model/weights.h"

#include "model/rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace attnplay {

using json = nlohmann::json;

static std::vector<std::string> distinct(std::initializer_list<const std::vector<std::string>*> lists) {
  std::vector<std::string> vocab;
  std::set<std::string> seen;
  for (const auto* list : lists)
    for (const std::string& t : *list)
      if (seen.insert(t).second) vocab.push_back(t);
  return vocab;
}

std::vector<std::string> weights_seeded_vocab(const Config& c) {
  if (c.mode == MODEL_MODE_SEQ2SEQ) return distinct({&c.source_tokens});
  return distinct({&c.tokens, &c.key_tokens});
}

std::vector<std::string> weights_seeded_tgt_vocab(const Config& c) { return distinct({&c.tokens}); }

int weights_seeded_max_len(const Config& c) { return std::max({64, c.n_q(), c.n_k(), c.n_s()}); }

static void fill_uniform(uint64_t seed, const std::string& name, float bound, float* p, size_t n) {
  Rng r = rng_stream(seed, name);
  rng_fill_uniform(&r, -bound, bound, p, n);
}

static Mat uniform_mat(uint64_t seed, const std::string& name, int rows, int cols, float bound) {
  Mat m(rows, cols);
  fill_uniform(seed, name, bound, m.data(), size_t(m.size()));
  return m;
}

static Vec uniform_vec(uint64_t seed, const std::string& name, int n, float bound) {
  Vec v(n);
  fill_uniform(seed, name, bound, v.data(), size_t(n));
  return v;
}

int weights_in_proj_rows(const Config& c) { return c.heads * c.d_k + c.kv_heads * (c.d_k + c.d_v); }

static float inv_sqrt(int fan_in) { return 1.0f / std::sqrt(float(fan_in)); }

void weights_seed_extra(const Config& c, ModelWeights* w) {
  const uint64_t s = c.seed;
  w->general_w = uniform_mat(s, "attention.general.W", c.d_k, c.d_k, inv_sqrt(c.d_k));
  w->additive_w = uniform_mat(s, "attention.additive.W", c.d_a, c.d_k, inv_sqrt(c.d_k));
  w->additive_u = uniform_mat(s, "attention.additive.U", c.d_a, c.d_k, inv_sqrt(c.d_k));
  w->additive_v = uniform_vec(s, "attention.additive.v_a", c.d_a, inv_sqrt(c.d_a));
}

// One token table N(0, 1) and, over the same vocabulary, fc_out's rows U(±1/√d): a stream per token, so editing the
// text never changes the vectors of the tokens that stay.
static void seed_token_rows(uint64_t s, const std::string& table, const std::vector<std::string>& vocab, int d, Mat* emb,
                            Mat* fc_w, Vec* fc_b) {
  const int V = int(vocab.size());
  emb->resize(V, d);
  fc_w->resize(V, d);
  fc_b->resize(V);
  for (int i = 0; i < V; ++i) {
    Rng r = rng_stream(s, table + "/" + vocab[size_t(i)]);
    rng_fill_normal(&r, emb->row(i).data(), size_t(d));
    Rng o = rng_stream(s, "fc_out/" + vocab[size_t(i)]);
    rng_fill_uniform(&o, -inv_sqrt(d), inv_sqrt(d), fc_w->row(i).data(), size_t(d));
    rng_fill_uniform(&o, -inv_sqrt(d), inv_sqrt(d), &(*fc_b)[i], 1);
  }
}

// Learned positions N(0, 1), a stream per row.
static Mat seed_positions(uint64_t s, const std::string& table, int rows, int d) {
  Mat m(rows, d);
  for (int p = 0; p < rows; ++p) {
    Rng r = rng_stream(s, table + "/" + std::to_string(p));
    rng_fill_normal(&r, m.row(p).data(), size_t(d));
  }
  return m;
}

// linear1 / linear2 of a layer (nn.Linear's initialisation).
static void seed_ffn(const Config& c, const std::string& pre, Mat* w1, Vec* b1, Mat* w2, Vec* b2) {
  const uint64_t s = c.seed;
  const int d = c.d_model;
  *w1 = uniform_mat(s, pre + "linear1.weight", c.d_ff, d, inv_sqrt(d));
  *b1 = uniform_vec(s, pre + "linear1.bias", c.d_ff, inv_sqrt(d));
  *w2 = uniform_mat(s, pre + "linear2.weight", d, c.d_ff, inv_sqrt(c.d_ff));
  *b2 = uniform_vec(s, pre + "linear2.bias", d, inv_sqrt(c.d_ff));
}

// One nn.MultiheadAttention, PyTorch's initialisation (xavier_uniform_ in_proj, zero biases).
static MhaWeights seeded_mha(const Config& c, const std::string& pre) {
  const uint64_t s = c.seed;
  const int d = c.d_model, H = c.heads, proj_rows = weights_in_proj_rows(c);
  MhaWeights m;
  m.heads = H;
  m.d_k = c.d_k;
  m.d_v = c.d_v;
  m.kv_heads = c.kv_heads;
  m.in_proj_w = uniform_mat(s, pre + "in_proj_weight", proj_rows, d, std::sqrt(6.0f / float(d + proj_rows)));
  m.in_proj_b = Vec::Zero(proj_rows);
  m.out_proj_w = uniform_mat(s, pre + "out_proj.weight", d, H * c.d_v, inv_sqrt(H * c.d_v));
  m.out_proj_b = Vec::Zero(d);
  return m;
}

// The cross-attention kind's extra parameters (general W; additive W, U, v_a), from the seed.
static void seed_cross_kind(const Config& c, Seq2SeqWeights* sw) {
  const uint64_t s = c.seed;
  sw->cross_kind.general_w = uniform_mat(s, "cross_attention.general.W", c.d_k, c.d_k, inv_sqrt(c.d_k));
  sw->cross_kind.additive_w = uniform_mat(s, "cross_attention.additive.W", c.d_a, c.d_k, inv_sqrt(c.d_k));
  sw->cross_kind.additive_u = uniform_mat(s, "cross_attention.additive.U", c.d_a, c.d_k, inv_sqrt(c.d_k));
  sw->cross_kind.additive_v = uniform_vec(s, "cross_attention.additive.v_a", c.d_a, inv_sqrt(c.d_a));
}

// The decoder side of mode seq2seq: target embedding, decoder layers, the two final norms, cross-kind extras.
static void seed_seq2seq(const Config& c, ModelWeights* w) {
  const uint64_t s = c.seed;
  const int d = c.d_model;
  Seq2SeqWeights& sw = w->seq2seq;
  sw.tgt_vocab = weights_seeded_tgt_vocab(c);
  seed_token_rows(s, "tgt_embedding.weight", sw.tgt_vocab, d, &sw.tgt_embedding, &w->fc_out_w, &w->fc_out_b);  // fc_out: over the target
  if (c.positional == POSITIONAL_KIND_LEARNED) sw.tgt_pos_embedding = seed_positions(s, "tgt_pos_embedding.weight", weights_seeded_max_len(c), d);
  for (int l = 0; l < c.decoder_layers; ++l) {
    const std::string pre = "transformer.decoder.layers." + std::to_string(l) + ".";
    DecoderLayerWeights dl;
    dl.self_attn = seeded_mha(c, pre + "self_attn.");
    dl.cross_attn = seeded_mha(c, pre + "multihead_attn.");
    seed_ffn(c, pre, &dl.linear1_w, &dl.linear1_b, &dl.linear2_w, &dl.linear2_b);
    for (Vec* v : {&dl.norm1_w, &dl.norm2_w, &dl.norm3_w}) *v = Vec::Ones(d);
    for (Vec* v : {&dl.norm1_b, &dl.norm2_b, &dl.norm3_b}) *v = Vec::Zero(d);
    sw.decoder.push_back(std::move(dl));
  }
  sw.enc_norm_w = sw.dec_norm_w = Vec::Ones(d);
  sw.enc_norm_b = sw.dec_norm_b = Vec::Zero(d);
  seed_cross_kind(c, &sw);
}

ModelWeights weights_seeded(const Config& c) {
  const uint64_t s = c.seed;
  const int d = c.d_model;
  ModelWeights w;
  w.vocab = weights_seeded_vocab(c);
  seed_token_rows(s, "embedding.weight", w.vocab, d, &w.embedding, &w.fc_out_w, &w.fc_out_b);
  if (c.positional == POSITIONAL_KIND_LEARNED) w.pos_embedding = seed_positions(s, "pos_embedding.weight", weights_seeded_max_len(c), d);
  for (int l = 0; l < c.layers; ++l) {
    const std::string pre = "encoder.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.self_attn = seeded_mha(c, pre + "self_attn.");
    seed_ffn(c, pre, &lw.linear1_w, &lw.linear1_b, &lw.linear2_w, &lw.linear2_b);
    lw.norm1_w = Vec::Ones(d);
    lw.norm1_b = Vec::Zero(d);
    lw.norm2_w = Vec::Ones(d);
    lw.norm2_b = Vec::Zero(d);
    w.layers.push_back(std::move(lw));
  }
  weights_seed_extra(c, &w);
  if (c.mode == MODEL_MODE_SEQ2SEQ) seed_seq2seq(c, &w);
  return w;
}

// ---------------------------------------------------------------------------------------------------------
static SafeTensor to_tensor(const Mat& m) {
  SafeTensor t;
  t.shape = {m.rows(), m.cols()};
  t.data.assign(m.data(), m.data() + m.size());
  return t;
}

static SafeTensor to_tensor(const Vec& v) {
  SafeTensor t;
  t.shape = {v.size()};
  t.data.assign(v.data(), v.data() + v.size());
  return t;
}

// A layer's attention, FFN and norms under its prefix (nn.MultiheadAttention / nn.Linear / nn.LayerNorm names).
static void put_mha(SafeTensorsFile* f, const std::string& pre, const MhaWeights& m) {
  f->tensors[pre + "in_proj_weight"] = to_tensor(m.in_proj_w);
  f->tensors[pre + "in_proj_bias"] = to_tensor(m.in_proj_b);
  f->tensors[pre + "out_proj.weight"] = to_tensor(m.out_proj_w);
  f->tensors[pre + "out_proj.bias"] = to_tensor(m.out_proj_b);
}
static void put_ffn(SafeTensorsFile* f, const std::string& pre, const Mat& w1, const Vec& b1, const Mat& w2, const Vec& b2) {
  f->tensors[pre + "linear1.weight"] = to_tensor(w1);
  f->tensors[pre + "linear1.bias"] = to_tensor(b1);
  f->tensors[pre + "linear2.weight"] = to_tensor(w2);
  f->tensors[pre + "linear2.bias"] = to_tensor(b2);
}
static void put_norm(SafeTensorsFile* f, const std::string& name, const Vec& w, const Vec& b) {
  f->tensors[name + ".weight"] = to_tensor(w);
  f->tensors[name + ".bias"] = to_tensor(b);
}

SafeTensorsFile weights_to_safetensors(const ModelWeights& w) {
  SafeTensorsFile f;
  f.tensors["embedding.weight"] = to_tensor(w.embedding);
  if (w.pos_embedding.size() > 0) f.tensors["pos_embedding.weight"] = to_tensor(w.pos_embedding);
  const bool seq2seq = !w.seq2seq.decoder.empty();  // nn.Transformer's names (SPEC §8)
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const std::string pre = (seq2seq ? "transformer.encoder.layers." : "encoder.layers.") + std::to_string(l) + ".";
    const LayerWeights& lw = w.layers[l];
    put_mha(&f, pre + "self_attn.", lw.self_attn);
    put_ffn(&f, pre, lw.linear1_w, lw.linear1_b, lw.linear2_w, lw.linear2_b);
    put_norm(&f, pre + "norm1", lw.norm1_w, lw.norm1_b);
    put_norm(&f, pre + "norm2", lw.norm2_w, lw.norm2_b);
  }
  f.tensors["fc_out.weight"] = to_tensor(w.fc_out_w);
  f.tensors["fc_out.bias"] = to_tensor(w.fc_out_b);
  if (seq2seq) {
    const Seq2SeqWeights& sw = w.seq2seq;
    f.tensors["tgt_embedding.weight"] = to_tensor(sw.tgt_embedding);
    if (sw.tgt_pos_embedding.size() > 0) f.tensors["tgt_pos_embedding.weight"] = to_tensor(sw.tgt_pos_embedding);
    put_norm(&f, "transformer.encoder.norm", sw.enc_norm_w, sw.enc_norm_b);
    put_norm(&f, "transformer.decoder.norm", sw.dec_norm_w, sw.dec_norm_b);
    for (size_t l = 0; l < sw.decoder.size(); ++l) {
      const std::string pre = "transformer.decoder.layers." + std::to_string(l) + ".";
      const DecoderLayerWeights& dl = sw.decoder[l];
      put_mha(&f, pre + "self_attn.", dl.self_attn);
      put_mha(&f, pre + "multihead_attn.", dl.cross_attn);
      put_ffn(&f, pre, dl.linear1_w, dl.linear1_b, dl.linear2_w, dl.linear2_b);
      put_norm(&f, pre + "norm1", dl.norm1_w, dl.norm1_b);
      put_norm(&f, pre + "norm2", dl.norm2_w, dl.norm2_b);
      put_norm(&f, pre + "norm3", dl.norm3_w, dl.norm3_b);
    }
    f.metadata["tgt_vocab"] = json(sw.tgt_vocab).dump();
  }
  f.metadata["vocab"] = json(w.vocab).dump();
  f.metadata["format"] = "pt";
  return f;
}

namespace {

struct LoadError {
  std::string message;
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Takes the tensor `name` of the expected shape out of `pool`; refuses it by name when missing or misshapen.
struct Taker {
  std::map<std::string, SafeTensor>* pool;
  std::string hint;  // appended to "missing" messages

  SafeTensor take(const std::string& name, std::vector<int64_t> shape, const std::string& why) {
    auto it = pool->find(name);
    if (it == pool->end()) throw LoadError{"weights: missing tensor '" + name + "'" + hint};
    if (it->second.shape != shape)
      throw LoadError{"weights: tensor '" + name + "' has shape " + shape_str(it->second.shape) + ", expected " +
                      shape_str(shape) + " (" + why + ")"};
    SafeTensor t = std::move(it->second);
    pool->erase(it);
    return t;
  }
  Mat mat(const std::string& name, int rows, int cols, const std::string& why) {
    SafeTensor t = take(name, {rows, cols}, why);
    return Eigen::Map<const Mat>(t.data.data(), rows, cols);
  }
  Vec vec(const std::string& name, int n, const std::string& why) {
    SafeTensor t = take(name, {n}, why);
    return Eigen::Map<const Vec>(t.data.data(), n);
  }
};

// The decoder side of mode seq2seq (SPEC §8 names), taken out of tk's pool.
void load_seq2seq(const SafeTensorsFile& f, const Config& c, Taker* tk, ModelWeights* w);

// __metadata__[key]: a non-empty JSON list of distinct strings.
std::vector<std::string> metadata_vocab(const SafeTensorsFile& f, const std::string& key) {
  auto vit = f.metadata.find(key);
  if (vit == f.metadata.end()) throw LoadError{"weights: __metadata__ has no \"" + key + "\" (a JSON list of the token strings)"};
  json vj = json::parse(vit->second, nullptr, false);
  if (vj.is_discarded() || !vj.is_array()) throw LoadError{"weights: __metadata__." + key + " must be a JSON list of strings"};
  std::set<std::string> seen;
  std::vector<std::string> out;
  for (const json& t : vj) {
    if (!t.is_string()) throw LoadError{"weights: __metadata__." + key + " must be a JSON list of strings"};
    if (!seen.insert(t.get<std::string>()).second) throw LoadError{"weights: __metadata__." + key + " lists '" + t.get<std::string>() + "' twice"};
    out.push_back(t.get<std::string>());
  }
  if (out.empty()) throw LoadError{"weights: __metadata__." + key + " is empty"};
  return out;
}

}  // namespace

namespace {

void load_seq2seq(const SafeTensorsFile& f, const Config& c, Taker* tk, ModelWeights* w) {
  Seq2SeqWeights& sw = w->seq2seq;
  sw.tgt_vocab = metadata_vocab(f, "tgt_vocab");
  const int d = c.d_model, H = c.heads, TV = int(sw.tgt_vocab.size()), proj_rows = weights_in_proj_rows(c);
  const std::string dm = "d_model=" + std::to_string(d);
  sw.tgt_embedding = tk->mat("tgt_embedding.weight", TV, d, "target vocab of " + std::to_string(TV) + " tokens, " + dm);
  if (c.positional == POSITIONAL_KIND_LEARNED) {
    auto it = tk->pool->find("tgt_pos_embedding.weight");
    if (it == tk->pool->end()) throw LoadError{"weights: missing tensor 'tgt_pos_embedding.weight' (transformer.positional is \"learned\")"};
    const auto& sh = it->second.shape;
    if (sh.size() != 2 || sh[1] != d || sh[0] < c.n_q())
      throw LoadError{"weights: tensor 'tgt_pos_embedding.weight' has shape " + shape_str(sh) + ", expected [max_len >= " +
                      std::to_string(c.n_q()) + ", " + std::to_string(d) + "] (the target's tokens, " + dm + ")"};
    sw.tgt_pos_embedding = tk->mat("tgt_pos_embedding.weight", int(sh[0]), d, dm);
  }
  sw.enc_norm_w = tk->vec("transformer.encoder.norm.weight", d, dm);
  sw.enc_norm_b = tk->vec("transformer.encoder.norm.bias", d, dm);
  sw.dec_norm_w = tk->vec("transformer.decoder.norm.weight", d, dm);
  sw.dec_norm_b = tk->vec("transformer.decoder.norm.bias", d, dm);
  const std::string ff = "d_ff=" + std::to_string(c.d_ff) + ", " + dm;
  tk->hint = " (the config has transformer.decoder_layers=" + std::to_string(c.decoder_layers) + ")";
  for (int l = 0; l < c.decoder_layers; ++l) {
    const std::string pre = "transformer.decoder.layers." + std::to_string(l) + ".";
    DecoderLayerWeights dl;
    for (const auto& [name, m] : {std::pair<const char*, MhaWeights*>{"self_attn.", &dl.self_attn}, {"multihead_attn.", &dl.cross_attn}}) {
      m->heads = H;
      m->d_k = c.d_k;
      m->d_v = c.d_v;
      m->kv_heads = c.kv_heads;
      m->in_proj_w = tk->mat(pre + name + "in_proj_weight", proj_rows, d, dm);
      m->in_proj_b = tk->vec(pre + name + "in_proj_bias", proj_rows, dm);
      m->out_proj_w = tk->mat(pre + name + "out_proj.weight", d, H * c.d_v, dm);
      m->out_proj_b = tk->vec(pre + name + "out_proj.bias", d, dm);
    }
    dl.linear1_w = tk->mat(pre + "linear1.weight", c.d_ff, d, ff);
    dl.linear1_b = tk->vec(pre + "linear1.bias", c.d_ff, ff);
    dl.linear2_w = tk->mat(pre + "linear2.weight", d, c.d_ff, ff);
    dl.linear2_b = tk->vec(pre + "linear2.bias", d, ff);
    dl.norm1_w = tk->vec(pre + "norm1.weight", d, dm);
    dl.norm1_b = tk->vec(pre + "norm1.bias", d, dm);
    dl.norm2_w = tk->vec(pre + "norm2.weight", d, dm);
    dl.norm2_b = tk->vec(pre + "norm2.bias", d, dm);
    dl.norm3_w = tk->vec(pre + "norm3.weight", d, dm);
    dl.norm3_b = tk->vec(pre + "norm3.bias", d, dm);
    sw.decoder.push_back(std::move(dl));
  }
  tk->hint = "";
}

}  // namespace

bool weights_from_safetensors(const SafeTensorsFile& f, const Config& c, ModelWeights* out, std::string* error) {
  try {
    ModelWeights w;
    w.vocab = metadata_vocab(f, "vocab");
    const bool seq2seq = c.mode == MODEL_MODE_SEQ2SEQ;
    const int V = int(w.vocab.size()), d = c.d_model, H = c.heads;
    std::map<std::string, SafeTensor> pool = f.tensors;
    Taker tk{&pool, ""};
    const std::string dm = "d_model=" + std::to_string(d);
    const std::string vs = "vocab of " + std::to_string(V) + " tokens, " + dm;
    w.embedding = tk.mat("embedding.weight", V, d, vs);
    if (c.positional == POSITIONAL_KIND_LEARNED) {
      auto it = pool.find("pos_embedding.weight");
      if (it == pool.end()) throw LoadError{"weights: missing tensor 'pos_embedding.weight' (transformer.positional is \"learned\")"};
      const auto& sh = it->second.shape;
      if (sh.size() != 2 || sh[1] != d)
        throw LoadError{"weights: tensor 'pos_embedding.weight' has shape " + shape_str(sh) + ", expected [max_len, " + std::to_string(d) + "] (" + dm + ")"};
      const int need = seq2seq ? c.n_s() : c.n_q();
      if (sh[0] < need)
        throw LoadError{"weights: tensor 'pos_embedding.weight' has " + std::to_string(sh[0]) + " positions but the input has " +
                        std::to_string(need) + " tokens"};
      w.pos_embedding = tk.mat("pos_embedding.weight", int(sh[0]), d, dm);
    }
    const int proj_rows = weights_in_proj_rows(c);
    const std::string rows_hint = c.kv_heads == H ? "3·d_model" : "(heads + 2·kv_heads)·d_k";
    tk.hint = " (the config has transformer.layers=" + std::to_string(c.layers) + ")";
    for (int l = 0; l < c.layers; ++l) {
      const std::string pre = (seq2seq ? "transformer.encoder.layers." : "encoder.layers.") + std::to_string(l) + ".";
      LayerWeights lw;
      lw.self_attn.heads = H;
      lw.self_attn.d_k = c.d_k;
      lw.self_attn.d_v = c.d_v;
      lw.self_attn.kv_heads = c.kv_heads;
      lw.self_attn.in_proj_w = tk.mat(pre + "self_attn.in_proj_weight", proj_rows, d, rows_hint + " rows, " + dm);
      lw.self_attn.in_proj_b = tk.vec(pre + "self_attn.in_proj_bias", proj_rows, rows_hint + ", " + dm);
      lw.self_attn.out_proj_w = tk.mat(pre + "self_attn.out_proj.weight", d, H * c.d_v, dm);
      lw.self_attn.out_proj_b = tk.vec(pre + "self_attn.out_proj.bias", d, dm);
      const std::string ff = "d_ff=" + std::to_string(c.d_ff) + ", " + dm;
      lw.linear1_w = tk.mat(pre + "linear1.weight", c.d_ff, d, ff);
      lw.linear1_b = tk.vec(pre + "linear1.bias", c.d_ff, ff);
      lw.linear2_w = tk.mat(pre + "linear2.weight", d, c.d_ff, ff);
      lw.linear2_b = tk.vec(pre + "linear2.bias", d, ff);
      lw.norm1_w = tk.vec(pre + "norm1.weight", d, dm);
      lw.norm1_b = tk.vec(pre + "norm1.bias", d, dm);
      lw.norm2_w = tk.vec(pre + "norm2.weight", d, dm);
      lw.norm2_b = tk.vec(pre + "norm2.bias", d, dm);
      w.layers.push_back(std::move(lw));
    }
    tk.hint = "";
    if (seq2seq) {
      load_seq2seq(f, c, &tk, &w);
      const int TV = int(w.seq2seq.tgt_vocab.size());
      const std::string tvs = "target vocab of " + std::to_string(TV) + " tokens, " + dm;
      w.fc_out_w = tk.mat("fc_out.weight", TV, d, tvs);
      w.fc_out_b = tk.vec("fc_out.bias", TV, tvs);
    } else {
      w.fc_out_w = tk.mat("fc_out.weight", V, d, vs);
      w.fc_out_b = tk.vec("fc_out.bias", V, vs);
    }
    if (!pool.empty()) {
      std::string why = pool.begin()->first.rfind(seq2seq ? "transformer.encoder.layers." : "encoder.layers.", 0) == 0
                            ? " (the config has transformer.layers=" + std::to_string(c.layers) + ")"
                        : pool.begin()->first == "pos_embedding.weight" ? " (transformer.positional is not \"learned\")"
                                                                        : "";
      throw LoadError{"weights: unexpected extra tensor '" + pool.begin()->first + "'" + why};
    }
    weights_seed_extra(c, &w);
    if (seq2seq) seed_cross_kind(c, &w.seq2seq);  // the cross kind's extras come from the seed, as the encoder's do
    *out = std::move(w);
    return true;
  } catch (const LoadError& e) {
    if (error) *error = e.message;
    return false;
  }
}

// tokens -> ids in vocab ("<unk>" fallback); what names the vocabulary in the message.
static bool token_ids(const std::vector<std::string>& vocab, const char* what, const std::vector<std::string>& tokens,
                      std::vector<int>* ids, std::string* error) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < vocab.size(); ++i) index.emplace(vocab[i], int(i));
  auto unk = index.find("<unk>");
  ids->clear();
  for (const std::string& t : tokens) {
    auto it = index.find(t);
    if (it != index.end()) ids->push_back(it->second);
    else if (unk != index.end()) ids->push_back(unk->second);
    else {
      if (error) *error = "token '" + t + "' is not in the weights file's " + what + " (which has no \"<unk>\")";
      return false;
    }
  }
  return true;
}

bool weights_token_ids(const ModelWeights& w, const std::vector<std::string>& tokens, std::vector<int>* ids,
                       std::string* error) {
  return token_ids(w.vocab, "vocabulary", tokens, ids, error);
}

bool weights_tgt_token_ids(const ModelWeights& w, const std::vector<std::string>& tokens, std::vector<int>* ids,
                           std::string* error) {
  return token_ids(w.seq2seq.tgt_vocab, "target vocabulary", tokens, ids, error);
}

}  // namespace attnplay
