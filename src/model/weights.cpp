// attnplay model: seeded and loaded weights. Contracts and initialisation table: weights.h.
#include "model/weights.h"

#include "model/network.h"
#include "model/rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>
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

int weights_in_proj_rows(const Config& c) { return c.heads * c.d_k + c.kv_heads * (c.d_k + c.d_v); }

static float inv_sqrt(int fan_in) { return 1.0f / std::sqrt(float(fan_in)); }

// [Tree] ------------------------------------------------------------------------------------------------------
namespace {

std::string dims(const char* what, int v) { return std::string(what) + "=" + std::to_string(v); }

// One walk of the tree. With a config (cfg) the shapes are the config's and every tensor it implies is visited; without,
// the stored shapes, every tensor of the layers there are, and the optional ones (learned tables, the kinds' extras)
// when they hold values.
struct Walk {
  ModelWeights* w;
  const Config* cfg;
  const std::function<void(const WeightTensor&)>& fn;

  void put(WeightTensor t, int rows, int cols, Mat* m, bool optional = false) {
    t.mat = m;
    if (!cfg) {
      if (optional && m->size() == 0) return;
      rows = int(m->rows()), cols = int(m->cols());
    }
    t.rows = rows;
    t.cols = cols;
    fn(t);
  }
  void put(WeightTensor t, int rows, Vec* v, bool optional = false) {
    t.vec = v;
    if (!cfg) {
      if (optional && v->size() == 0) return;
      rows = int(v->size());
    }
    t.rows = rows;
    fn(t);
  }
  static WeightTensor uniform(const std::string& name, float bound, std::string why, const std::string& stream = "") {
    WeightTensor t;
    t.name = name;
    t.init = WEIGHT_INIT_UNIFORM;
    t.bound = bound;
    t.stream = stream.empty() ? name : stream;
    t.why = std::move(why);
    return t;
  }
  static WeightTensor fixed(const std::string& name, WeightInit init, std::string why) {
    WeightTensor t;
    t.name = name;
    t.init = init;
    t.why = std::move(why);
    return t;
  }
  static WeightTensor with_hint(WeightTensor t, const std::string& hint) {
    t.missing_hint = hint;
    return t;
  }

  // A token table (N(0, 1) rows, a stream per token) and, over the same vocabulary, the output layer fc_out: its row i
  // and then bias[i] from the stream "fc_out/<token>", so editing the text never moves the tokens that stay.
  void token_table(const std::string& name, const std::vector<std::string>& vocab, int d, const std::string& why) {
    WeightTensor t = fixed(name, WEIGHT_INIT_ROWS_NORMAL, why);
    t.stream = name;
    t.labels = &vocab;
    put(t, int(vocab.size()), d, name == "embedding.weight" ? &w->embedding : &w->seq2seq.tgt_embedding);
  }
  void fc_out(const std::vector<std::string>& vocab, int d, const std::string& why) {
    WeightTensor t = fixed("fc_out.weight", WEIGHT_INIT_ROWS_UNIFORM, why);
    t.bound = inv_sqrt(d);
    t.stream = "fc_out";
    t.labels = &vocab;
    put(t, int(vocab.size()), d, &w->fc_out_w);
    t.name = "fc_out.bias";
    t.skip = d;  // after the row's weights
    put(t, int(vocab.size()), &w->fc_out_b);
  }
  // Learned positions N(0, 1), a stream per row; any table of at least `need` rows loads.
  void positions(const std::string& name, Mat* m, int rows, int need, int d, const std::vector<std::string>& labels,
                 const std::string& why) {
    WeightTensor t = fixed(name, WEIGHT_INIT_ROWS_NORMAL, why);
    t.stream = name;
    t.labels = &labels;
    t.min_rows = need;
    t.missing_hint = " (transformer.positional is \"learned\")";
    put(t, rows, d, m, true);
  }
  // One nn.MultiheadAttention (PyTorch's initialisation: xavier_uniform_ in_proj, zero biases). stream: the seed
  // streams' prefix (name unless kept from an older layout).
  void mha(const std::string& pre, const std::string& stream, MhaWeights* m, const std::string& hint) {
    if (cfg) {
      m->heads = cfg->heads;
      m->d_k = cfg->d_k;
      m->d_v = cfg->d_v;
      m->kv_heads = cfg->kv_heads;
    }
    const int d = cfg ? cfg->d_model : 0, rows = cfg ? weights_in_proj_rows(*cfg) : 0, hv = m->heads * m->d_v;
    const std::string dm = cfg ? dims("d_model", d) : "";
    const std::string rows_hint = cfg && cfg->kv_heads != cfg->heads ? "(heads + 2·kv_heads)·d_k" : "3·d_model";
    put(with_hint(uniform(pre + "in_proj_weight", std::sqrt(6.0f / float(d + rows)), rows_hint + " rows, " + dm,
                          stream + "in_proj_weight"), hint), rows, d, &m->in_proj_w);
    put(with_hint(fixed(pre + "in_proj_bias", WEIGHT_INIT_ZEROS, rows_hint + ", " + dm), hint), rows, &m->in_proj_b);
    put(with_hint(uniform(pre + "out_proj.weight", inv_sqrt(hv), dm, stream + "out_proj.weight"), hint), d, hv, &m->out_proj_w);
    put(with_hint(fixed(pre + "out_proj.bias", WEIGHT_INIT_ZEROS, dm), hint), d, &m->out_proj_b);
  }
  // linear1 / linear2 of a layer (nn.Linear's initialisation).
  void ffn(const std::string& pre, const std::string& stream, Mat* w1, Vec* b1, Mat* w2, Vec* b2, const std::string& hint) {
    const int d = cfg ? cfg->d_model : 0, f = cfg ? cfg->d_ff : 0;
    const std::string ff = cfg ? dims("d_ff", f) + ", " + dims("d_model", d) : "";
    put(with_hint(uniform(pre + "linear1.weight", inv_sqrt(d), ff, stream + "linear1.weight"), hint), f, d, w1);
    put(with_hint(uniform(pre + "linear1.bias", inv_sqrt(d), ff, stream + "linear1.bias"), hint), f, b1);
    put(with_hint(uniform(pre + "linear2.weight", inv_sqrt(f), ff, stream + "linear2.weight"), hint), d, f, w2);
    put(with_hint(uniform(pre + "linear2.bias", inv_sqrt(f), ff, stream + "linear2.bias"), hint), d, b2);
  }
  void norm(const std::string& name, Vec* g, Vec* b, const std::string& hint = "") {
    const int d = cfg ? cfg->d_model : 0;
    const std::string dm = cfg ? dims("d_model", d) : "";
    put(with_hint(fixed(name + ".weight", WEIGHT_INIT_ONES, dm), hint), d, g);
    put(with_hint(fixed(name + ".bias", WEIGHT_INIT_ZEROS, dm), hint), d, b);
  }
  // The extra parameters of kinds general and additive: seeded, never in the file, never trained (SPEC §5).
  void kind_extras(const std::string& prefix, AttentionKindWeights* k) {
    const int dk = cfg ? cfg->d_k : 0, da = cfg ? cfg->d_a : 0;
    auto extra = [&](const char* what, float bound) {
      WeightTensor t = uniform(prefix + what, bound, "");
      t.in_file = t.trainable = false;
      return t;
    };
    put(extra(".general.W", inv_sqrt(dk)), dk, dk, &k->general_w, true);
    put(extra(".additive.W", inv_sqrt(dk)), da, dk, &k->additive_w, true);
    put(extra(".additive.U", inv_sqrt(dk)), da, dk, &k->additive_u, true);
    put(extra(".additive.v_a", inv_sqrt(da)), da, &k->additive_v, true);
  }

  void run() {
    Seq2SeqWeights& sw = w->seq2seq;
    const bool seq2seq = cfg ? cfg->mode == MODEL_MODE_SEQ2SEQ : !sw.decoder.empty();
    const bool learned = cfg && positional_info(cfg->positional).learned;
    const int d = cfg ? cfg->d_model : 0;
    const std::string dm = dims("d_model", d);
    const std::string vs = "vocab of " + std::to_string(w->vocab.size()) + " tokens, " + dm;
    const std::string tvs = "target vocab of " + std::to_string(sw.tgt_vocab.size()) + " tokens, " + dm;
    std::vector<std::string> rows;  // learned positions' labels: "0", "1", ...
    const int max_len = cfg ? weights_seeded_max_len(*cfg) : std::max(w->pos_embedding.rows(), sw.tgt_pos_embedding.rows());
    for (int p = 0; p < max_len; ++p) rows.push_back(std::to_string(p));
    token_table("embedding.weight", w->vocab, d, vs);
    if (learned || !cfg) positions("pos_embedding.weight", &w->pos_embedding, max_len, cfg ? (seq2seq ? cfg->n_s() : cfg->n_q()) : 0,
                                   d, rows, dm);
    if (cfg) w->layers.resize(size_t(cfg->layers));
    const std::string layers_hint = cfg ? " (the config has transformer.layers=" + std::to_string(cfg->layers) + ")" : "";
    for (size_t l = 0; l < w->layers.size(); ++l) {
      // Seeded as "encoder.layers.{l}." in every mode (the streams predate seq2seq); saved under nn.Transformer's names.
      const std::string stream = "encoder.layers." + std::to_string(l) + ".";
      const std::string pre = (seq2seq ? "transformer." : "") + stream;
      LayerWeights& lw = w->layers[l];
      mha(pre + "self_attn.", stream + "self_attn.", &lw.self_attn, layers_hint);
      ffn(pre, stream, &lw.linear1_w, &lw.linear1_b, &lw.linear2_w, &lw.linear2_b, layers_hint);
      norm(pre + "norm1", &lw.norm1_w, &lw.norm1_b, layers_hint);
      norm(pre + "norm2", &lw.norm2_w, &lw.norm2_b, layers_hint);
    }
    fc_out(seq2seq ? sw.tgt_vocab : w->vocab, d, seq2seq ? tvs : vs);
    if (seq2seq) {
      token_table("tgt_embedding.weight", sw.tgt_vocab, d, tvs);
      if (learned || !cfg)
        positions("tgt_pos_embedding.weight", &sw.tgt_pos_embedding, max_len, cfg ? cfg->n_q() : 0, d, rows,
                  "max_len, " + dm);
      if (cfg) sw.decoder.resize(size_t(cfg->decoder_layers));
      const std::string hint = cfg ? " (the config has transformer.decoder_layers=" + std::to_string(cfg->decoder_layers) + ")" : "";
      for (size_t l = 0; l < sw.decoder.size(); ++l) {
        const std::string pre = "transformer.decoder.layers." + std::to_string(l) + ".";
        DecoderLayerWeights& dl = sw.decoder[l];
        mha(pre + "self_attn.", pre + "self_attn.", &dl.self_attn, hint);
        mha(pre + "multihead_attn.", pre + "multihead_attn.", &dl.cross_attn, hint);
        ffn(pre, pre, &dl.linear1_w, &dl.linear1_b, &dl.linear2_w, &dl.linear2_b, hint);
        norm(pre + "norm1", &dl.norm1_w, &dl.norm1_b, hint);
        norm(pre + "norm2", &dl.norm2_w, &dl.norm2_b, hint);
        norm(pre + "norm3", &dl.norm3_w, &dl.norm3_b, hint);
      }
      norm("transformer.encoder.norm", &sw.enc_norm_w, &sw.enc_norm_b);
      norm("transformer.decoder.norm", &sw.dec_norm_w, &sw.dec_norm_b);
    }
    kind_extras("attention", w);
    if (seq2seq) kind_extras("cross_attention", &sw.cross_kind);
  }
};

// Fills t's storage from the seed as t.init says (the shapes: t.rows x t.cols).
void seed_tensor(uint64_t seed, const WeightTensor& t) {
  float* data;
  if (t.mat) {
    t.mat->resize(t.rows, t.cols);
    data = t.mat->data();
  } else {
    t.vec->resize(t.rows);
    data = t.vec->data();
  }
  const int cols = t.mat ? t.cols : 1;
  const size_t n = size_t(t.rows) * size_t(cols);
  switch (t.init) {
    case WEIGHT_INIT_ZEROS: std::fill(data, data + n, 0.0f); break;
    case WEIGHT_INIT_ONES: std::fill(data, data + n, 1.0f); break;
    case WEIGHT_INIT_UNIFORM: {
      Rng r = rng_stream(seed, t.stream);
      rng_fill_uniform(&r, -t.bound, t.bound, data, n);
      break;
    }
    case WEIGHT_INIT_ROWS_NORMAL:
    case WEIGHT_INIT_ROWS_UNIFORM:
      for (int i = 0; i < t.rows; ++i) {
        Rng r = rng_stream(seed, t.stream + "/" + (*t.labels)[size_t(i)]);
        float* row = data + size_t(i) * size_t(cols);
        if (t.init == WEIGHT_INIT_ROWS_NORMAL) {
          rng_fill_normal(&r, row, size_t(cols));
        } else {
          for (int k = 0; k < t.skip; ++k) rng_next_u64(&r);  // one draw per uniform value
          rng_fill_uniform(&r, -t.bound, t.bound, row, size_t(cols));
        }
      }
      break;
  }
}

}  // namespace

void weights_visit(ModelWeights* w, const Config* c, const std::function<void(const WeightTensor&)>& fn) {
  Walk{w, c, fn}.run();
}

void weights_seed_extra(const Config& c, ModelWeights* w) {
  weights_visit(w, &c, [&](const WeightTensor& t) {
    if (!t.in_file && t.name.rfind("attention.", 0) == 0) seed_tensor(c.seed, t);
  });
}

ModelWeights weights_seeded(const Config& c) {
  ModelWeights w;
  w.vocab = weights_seeded_vocab(c);
  if (c.mode == MODEL_MODE_SEQ2SEQ) w.seq2seq.tgt_vocab = weights_seeded_tgt_vocab(c);
  weights_visit(&w, &c, [&](const WeightTensor& t) { seed_tensor(c.seed, t); });
  return w;
}

std::vector<ParamRef> weights_params(ModelWeights* w) {
  std::vector<ParamRef> out;
  weights_visit(w, nullptr, [&out](const WeightTensor& t) {
    if (!t.trainable || (t.mat ? t.mat->size() : t.vec->size()) == 0) return;
    if (t.mat) out.push_back({t.mat->data(), size_t(t.mat->size())});
    else out.push_back({t.vec->data(), size_t(t.vec->size())});
  });
  return out;
}

ModelWeights weights_zeros_like(const ModelWeights& w) {
  ModelWeights z = w;
  for (ParamRef p : weights_params(&z)) std::fill(p.data, p.data + p.size, 0.0f);
  return z;
}

// ---------------------------------------------------------------------------------------------------------
SafeTensorsFile weights_to_safetensors(const ModelWeights& w) {
  SafeTensorsFile f;
  weights_visit(const_cast<ModelWeights*>(&w), nullptr, [&f](const WeightTensor& t) {  // (reads only)
    if (!t.in_file || (t.mat ? t.mat->size() : t.vec->size()) == 0) return;
    SafeTensor st;
    if (t.mat) {
      st.shape = {t.mat->rows(), t.mat->cols()};
      st.data.assign(t.mat->data(), t.mat->data() + t.mat->size());
    } else {
      st.shape = {t.vec->size()};
      st.data.assign(t.vec->data(), t.vec->data() + t.vec->size());
    }
    f.tensors[t.name] = std::move(st);
  });
  if (!w.seq2seq.decoder.empty()) f.metadata["tgt_vocab"] = json(w.seq2seq.tgt_vocab).dump();
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

// Takes the tensor t names out of pool, checked against t's shape (refused by name), into t's storage.
void take(std::map<std::string, SafeTensor>* pool, const WeightTensor& t) {
  auto it = pool->find(t.name);
  if (it == pool->end()) throw LoadError{"weights: missing tensor '" + t.name + "'" + t.missing_hint};
  const std::vector<int64_t>& sh = it->second.shape;
  if (t.min_rows > 0) {  // a learned table: any number of positions >= the input's tokens
    if (sh.size() != 2 || sh[1] != t.cols)
      throw LoadError{"weights: tensor '" + t.name + "' has shape " + shape_str(sh) + ", expected [max_len, " +
                      std::to_string(t.cols) + "] (" + t.why + ")"};
    if (sh[0] < t.min_rows)
      throw LoadError{"weights: tensor '" + t.name + "' has " + std::to_string(sh[0]) + " positions but the input has " +
                      std::to_string(t.min_rows) + " tokens"};
  } else {
    const std::vector<int64_t> want = t.mat ? std::vector<int64_t>{t.rows, t.cols} : std::vector<int64_t>{t.rows};
    if (sh != want)
      throw LoadError{"weights: tensor '" + t.name + "' has shape " + shape_str(sh) + ", expected " + shape_str(want) + " (" +
                      t.why + ")"};
  }
  const SafeTensor& st = it->second;
  if (t.mat) *t.mat = Eigen::Map<const Mat>(st.data.data(), Eigen::Index(sh[0]), Eigen::Index(sh[1]));
  else *t.vec = Eigen::Map<const Vec>(st.data.data(), Eigen::Index(sh[0]));
  pool->erase(it);
}

}  // namespace

bool weights_from_safetensors(const SafeTensorsFile& f, const Config& c, ModelWeights* out, std::string* error) {
  try {
    ModelWeights w;
    w.vocab = metadata_vocab(f, "vocab");
    const bool seq2seq = c.mode == MODEL_MODE_SEQ2SEQ;
    if (seq2seq) w.seq2seq.tgt_vocab = metadata_vocab(f, "tgt_vocab");
    std::map<std::string, SafeTensor> pool = f.tensors;
    weights_visit(&w, &c, [&](const WeightTensor& t) {
      if (t.in_file) take(&pool, t);
      else seed_tensor(c.seed, t);  // the kinds' extras come from the seed (SPEC §5)
    });
    if (!pool.empty()) {
      const std::string& extra = pool.begin()->first;
      std::string why = extra.rfind(seq2seq ? "transformer.encoder.layers." : "encoder.layers.", 0) == 0
                            ? " (the config has transformer.layers=" + std::to_string(c.layers) + ")"
                        : extra == "pos_embedding.weight" ? " (transformer.positional is not \"learned\")"
                                                          : "";
      throw LoadError{"weights: unexpected extra tensor '" + extra + "'" + why};
    }
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
