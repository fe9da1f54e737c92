// attnplay model: seeded and loaded weights. Contracts and initialisation table: weights.h.
#include "model/weights.h"

#include "model/rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

namespace attnplay {

using json = nlohmann::json;

std::vector<std::string> weights_seeded_vocab(const Config& c) {
  std::vector<std::string> vocab;
  std::set<std::string> seen;
  for (const auto* list : {&c.tokens, &c.key_tokens})
    for (const std::string& t : *list)
      if (seen.insert(t).second) vocab.push_back(t);
  return vocab;
}

int weights_seeded_max_len(const Config& c) { return std::max({64, c.n_q(), c.n_k()}); }

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

ModelWeights weights_seeded(const Config& c) {
  const uint64_t s = c.seed;
  const int d = c.d_model, H = c.heads, proj_rows = weights_in_proj_rows(c);
  ModelWeights w;
  w.vocab = weights_seeded_vocab(c);
  const int V = int(w.vocab.size());
  w.embedding.resize(V, d);
  w.fc_out_w.resize(V, d);
  w.fc_out_b.resize(V);
  for (int i = 0; i < V; ++i) {
    Rng r = rng_stream(s, "embedding.weight/" + w.vocab[size_t(i)]);
    rng_fill_normal(&r, w.embedding.row(i).data(), size_t(d));
    Rng o = rng_stream(s, "fc_out/" + w.vocab[size_t(i)]);
    rng_fill_uniform(&o, -inv_sqrt(d), inv_sqrt(d), w.fc_out_w.row(i).data(), size_t(d));
    rng_fill_uniform(&o, -inv_sqrt(d), inv_sqrt(d), &w.fc_out_b[i], 1);
  }
  if (c.positional == POSITIONAL_KIND_LEARNED) {
    const int L = weights_seeded_max_len(c);
    w.pos_embedding.resize(L, d);
    for (int p = 0; p < L; ++p) {
      Rng r = rng_stream(s, "pos_embedding.weight/" + std::to_string(p));
      rng_fill_normal(&r, w.pos_embedding.row(p).data(), size_t(d));
    }
  }
  for (int l = 0; l < c.layers; ++l) {
    const std::string pre = "encoder.layers." + std::to_string(l) + ".";
    LayerWeights lw;
    lw.self_attn.heads = H;
    lw.self_attn.d_k = c.d_k;
    lw.self_attn.d_v = c.d_v;
    lw.self_attn.kv_heads = c.kv_heads;
    lw.self_attn.in_proj_w = uniform_mat(s, pre + "self_attn.in_proj_weight", proj_rows, d,
                                         std::sqrt(6.0f / float(d + proj_rows)));
    lw.self_attn.in_proj_b = Vec::Zero(proj_rows);
    lw.self_attn.out_proj_w = uniform_mat(s, pre + "self_attn.out_proj.weight", d, H * c.d_v, inv_sqrt(H * c.d_v));
    lw.self_attn.out_proj_b = Vec::Zero(d);
    lw.linear1_w = uniform_mat(s, pre + "linear1.weight", c.d_ff, d, inv_sqrt(d));
    lw.linear1_b = uniform_vec(s, pre + "linear1.bias", c.d_ff, inv_sqrt(d));
    lw.linear2_w = uniform_mat(s, pre + "linear2.weight", d, c.d_ff, inv_sqrt(c.d_ff));
    lw.linear2_b = uniform_vec(s, pre + "linear2.bias", d, inv_sqrt(c.d_ff));
    lw.norm1_w = Vec::Ones(d);
    lw.norm1_b = Vec::Zero(d);
    lw.norm2_w = Vec::Ones(d);
    lw.norm2_b = Vec::Zero(d);
    w.layers.push_back(std::move(lw));
  }
  weights_seed_extra(c, &w);
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

SafeTensorsFile weights_to_safetensors(const ModelWeights& w) {
  SafeTensorsFile f;
  f.tensors["embedding.weight"] = to_tensor(w.embedding);
  if (w.pos_embedding.size() > 0) f.tensors["pos_embedding.weight"] = to_tensor(w.pos_embedding);
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const std::string pre = "encoder.layers." + std::to_string(l) + ".";
    const LayerWeights& lw = w.layers[l];
    f.tensors[pre + "self_attn.in_proj_weight"] = to_tensor(lw.self_attn.in_proj_w);
    f.tensors[pre + "self_attn.in_proj_bias"] = to_tensor(lw.self_attn.in_proj_b);
    f.tensors[pre + "self_attn.out_proj.weight"] = to_tensor(lw.self_attn.out_proj_w);
    f.tensors[pre + "self_attn.out_proj.bias"] = to_tensor(lw.self_attn.out_proj_b);
    f.tensors[pre + "linear1.weight"] = to_tensor(lw.linear1_w);
    f.tensors[pre + "linear1.bias"] = to_tensor(lw.linear1_b);
    f.tensors[pre + "linear2.weight"] = to_tensor(lw.linear2_w);
    f.tensors[pre + "linear2.bias"] = to_tensor(lw.linear2_b);
    f.tensors[pre + "norm1.weight"] = to_tensor(lw.norm1_w);
    f.tensors[pre + "norm1.bias"] = to_tensor(lw.norm1_b);
    f.tensors[pre + "norm2.weight"] = to_tensor(lw.norm2_w);
    f.tensors[pre + "norm2.bias"] = to_tensor(lw.norm2_b);
  }
  f.tensors["fc_out.weight"] = to_tensor(w.fc_out_w);
  f.tensors["fc_out.bias"] = to_tensor(w.fc_out_b);
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

}  // namespace

bool weights_from_safetensors(const SafeTensorsFile& f, const Config& c, ModelWeights* out, std::string* error) {
  try {
    ModelWeights w;
    auto vit = f.metadata.find("vocab");
    if (vit == f.metadata.end()) throw LoadError{"weights: __metadata__ has no \"vocab\" (a JSON list of the token strings)"};
    json vj = json::parse(vit->second, nullptr, false);
    if (vj.is_discarded() || !vj.is_array()) throw LoadError{"weights: __metadata__.vocab must be a JSON list of strings"};
    std::set<std::string> seen;
    for (const json& t : vj) {
      if (!t.is_string()) throw LoadError{"weights: __metadata__.vocab must be a JSON list of strings"};
      if (!seen.insert(t.get<std::string>()).second) throw LoadError{"weights: __metadata__.vocab lists '" + t.get<std::string>() + "' twice"};
      w.vocab.push_back(t.get<std::string>());
    }
    if (w.vocab.empty()) throw LoadError{"weights: __metadata__.vocab is empty"};
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
      if (sh[0] < c.n_q())
        throw LoadError{"weights: tensor 'pos_embedding.weight' has " + std::to_string(sh[0]) + " positions but the input has " +
                        std::to_string(c.n_q()) + " tokens"};
      w.pos_embedding = tk.mat("pos_embedding.weight", int(sh[0]), d, dm);
    }
    const int proj_rows = weights_in_proj_rows(c);
    const std::string rows_hint = c.kv_heads == H ? "3·d_model" : "(heads + 2·kv_heads)·d_k";
    tk.hint = " (the config has transformer.layers=" + std::to_string(c.layers) + ")";
    for (int l = 0; l < c.layers; ++l) {
      const std::string pre = "encoder.layers." + std::to_string(l) + ".";
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
    w.fc_out_w = tk.mat("fc_out.weight", V, d, vs);
    w.fc_out_b = tk.vec("fc_out.bias", V, vs);
    if (!pool.empty()) {
      std::string why = pool.begin()->first.rfind("encoder.layers.", 0) == 0
                            ? " (the config has transformer.layers=" + std::to_string(c.layers) + ")"
                        : pool.begin()->first == "pos_embedding.weight" ? " (transformer.positional is not \"learned\")"
                                                                        : "";
      throw LoadError{"weights: unexpected extra tensor '" + pool.begin()->first + "'" + why};
    }
    weights_seed_extra(c, &w);
    *out = std::move(w);
    return true;
  } catch (const LoadError& e) {
    if (error) *error = e.message;
    return false;
  }
}

bool weights_token_ids(const ModelWeights& w, const std::vector<std::string>& tokens, std::vector<int>* ids,
                       std::string* error) {
  std::map<std::string, int> index;
  for (size_t i = 0; i < w.vocab.size(); ++i) index.emplace(w.vocab[i], int(i));
  auto unk = index.find("<unk>");
  ids->clear();
  for (const std::string& t : tokens) {
    auto it = index.find(t);
    if (it != index.end()) ids->push_back(it->second);
    else if (unk != index.end()) ids->push_back(unk->second);
    else {
      if (error) *error = "token '" + t + "' is not in the weights file's vocabulary (which has no \"<unk>\")";
      return false;
    }
  }
  return true;
}

}  // namespace attnplay
