// attnplay model: real checkpoints. Contracts: pretrained.h; the architectures: pretrained_arch_*.cpp.
//
// Index
//   [Arch]     the table, ConfigReader, dims_divide, the slots
//   [Load]     the folder's names, the plan (rules x layers x the files' tensors), feed / finish, pretrained_load_dir
//   [Model]    pretrained_info_json
//   [Request]  pretrained_request: the config against the model
//   [Compute]  the forward pass over network.h's layers, the cache (a changed suffix, a changed ablation)
//   [Result]   pretrained_compute_json (pretrained_result_json: pretrained_unpack.cpp, which the page's app links alone)
#include "model/pretrained.h"

#include "core/assert.h"
#include "model/network.h"
#include "model/pretrained_arch.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

namespace attnplay {

using json = nlohmann::json;

extern const PretrainedArch kPretrainedGpt2, kPretrainedBert, kPretrainedLlama, kPretrainedQwen2;

// [Arch] --------------------------------------------------------------------------------------------------
const std::vector<const PretrainedArch*>& pretrained_archs() {
  static const std::vector<const PretrainedArch*> archs = {&kPretrainedGpt2, &kPretrainedBert, &kPretrainedLlama,
                                                           &kPretrainedQwen2};
  return archs;
}

const PretrainedArch* pretrained_arch(const std::string& model_type) {
  for (const PretrainedArch* a : pretrained_archs())
    if (model_type == a->model_type) return a;
  return nullptr;
}

static std::string supported_types() {
  std::string s;
  for (const PretrainedArch* a : pretrained_archs()) s += (s.empty() ? "" : ", ") + std::string(a->model_type);
  return s;
}

void ConfigReader::fail(const std::string& message) {
  if (ok_ && error_) *error_ = "config.json: " + message;
  ok_ = false;
}

int ConfigReader::integer(const char* key, int def) {
  if (!j_.contains(key) || j_[key].is_null()) return def;
  const json& v = j_[key];
  if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > (1 << 24)) {
    fail(std::string(key) + " must be a positive integer (got " + v.dump() + ")");
    return def;
  }
  return v.get<int>();
}

float ConfigReader::number(const char* key, double def) {
  if (!j_.contains(key) || j_[key].is_null()) return float(def);
  const json& v = j_[key];
  if (!v.is_number() || !(v.get<double>() > 0) || !std::isfinite(v.get<double>()) || v.get<double>() > 1e30) {
    fail(std::string(key) + " must be a positive number (got " + v.dump() + ")");
    return float(def);
  }
  return float(v.get<double>());
}

bool ConfigReader::boolean(const char* key, bool def) {
  if (!j_.contains(key) || j_[key].is_null()) return def;
  if (!j_[key].is_boolean()) {
    fail(std::string(key) + " must be true or false (got " + j_[key].dump() + ")");
    return def;
  }
  return j_[key].get<bool>();
}

ActivationKind ConfigReader::activation(const char* key, const char* def) {
  const std::string name = j_.contains(key) && j_[key].is_string() ? j_[key].get<std::string>() : std::string(def);
  if (j_.contains(key) && !j_[key].is_null() && !j_[key].is_string()) fail(std::string(key) + " must be a string");
  if (name == "gelu") return ACTIVATION_KIND_GELU;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return ACTIVATION_KIND_GELU_TANH;
  if (name == "relu") return ACTIVATION_KIND_RELU;
  if (name == "silu" || name == "swish") return ACTIVATION_KIND_SILU;
  fail(std::string(key) + " \"" + name + "\" is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu)");
  return ACTIVATION_KIND_GELU;
}

void ConfigReader::refuse_true(const char* key, const char* what) {
  if (j_.contains(key) && j_[key].is_boolean() && j_[key].get<bool>())
    fail(std::string(key) + " true is not supported (it " + what + ")");
}

void ConfigReader::refuse_false(const char* key, const char* what) {
  if (j_.contains(key) && j_[key].is_boolean() && !j_[key].get<bool>())
    fail(std::string(key) + " false is not supported (it " + what + ")");
}

void ConfigReader::refuse_present(const char* key, const char* what) {
  if (!j_.contains(key) || j_[key].is_null()) return;
  const json& v = j_[key];
  const std::string type = v.is_object() && v.contains("rope_type") ? v["rope_type"].dump()
                           : v.is_object() && v.contains("type")    ? v["type"].dump()
                                                                    : v.dump();
  fail(std::string(key) + " " + type + " is not supported (it " + what + ")");
}

bool dims_divide(PretrainedDims* d, std::string* error) {
  auto bad = [&](const std::string& m) {
    if (error) *error = "config.json: " + m;
    return false;
  };
  if (d->head_dim == 0) {
    if (d->hidden % d->heads)
      return bad("the attention heads must divide the hidden size (got " + std::to_string(d->hidden) + " and " +
                 std::to_string(d->heads) + " heads)");
    d->head_dim = d->hidden / d->heads;
  }
  if (d->kv_heads > d->heads || d->heads % d->kv_heads)
    return bad("the key/value heads must divide the attention heads (got " + std::to_string(d->kv_heads) + " of " +
               std::to_string(d->heads) + ")");
  if (d->rope_theta > 0 && d->head_dim % 2) return bad("RoPE needs an even head_dim (got " + std::to_string(d->head_dim) + ")");
  return true;
}

float* slot_embedding(PretrainedWeights* w, int) { return w->embedding.size() ? w->embedding.data() : w->head.data.data(); }
float* slot_positions(PretrainedWeights* w, int) { return w->positions.data(); }
float* slot_token_type(PretrainedWeights* w, int) { return w->token_type.data(); }
float* slot_emb_norm_w(PretrainedWeights* w, int) { return w->emb_norm_w.data(); }
float* slot_emb_norm_b(PretrainedWeights* w, int) { return w->emb_norm_b.data(); }
float* slot_final_norm_w(PretrainedWeights* w, int) { return w->final_norm_w.data(); }
float* slot_final_norm_b(PretrainedWeights* w, int) { return w->final_norm_b.data(); }
float* slot_lm_head(PretrainedWeights* w, int) { return w->head.data.data(); }
float* slot_mlm_dense_w(PretrainedWeights* w, int) { return w->mlm_dense_w.data(); }
float* slot_mlm_dense_b(PretrainedWeights* w, int) { return w->mlm_dense_b.data(); }
float* slot_mlm_norm_w(PretrainedWeights* w, int) { return w->mlm_norm_w.data(); }
float* slot_mlm_norm_b(PretrainedWeights* w, int) { return w->mlm_norm_b.data(); }
float* slot_mlm_bias(PretrainedWeights* w, int) { return w->mlm_bias.data(); }
static MhaWeights& attn(PretrainedWeights* w, int l) { return w->layers[size_t(l)].self_attn; }
float* slot_in_proj_w(PretrainedWeights* w, int l) { return attn(w, l).in_proj_w.data(); }
float* slot_q_w(PretrainedWeights* w, int l) { return attn(w, l).in_proj_w.data(); }
float* slot_k_w(PretrainedWeights* w, int l) {
  return attn(w, l).in_proj_w.data() + size_t(attn(w, l).heads) * attn(w, l).d_k * attn(w, l).in_proj_w.cols();
}
float* slot_v_w(PretrainedWeights* w, int l) {
  const MhaWeights& m = attn(w, l);
  return attn(w, l).in_proj_w.data() + size_t(m.heads + m.kv_heads) * m.d_k * m.in_proj_w.cols();
}
float* slot_in_proj_b(PretrainedWeights* w, int l) { return attn(w, l).in_proj_b.data(); }
float* slot_q_b(PretrainedWeights* w, int l) { return attn(w, l).in_proj_b.data(); }
float* slot_k_b(PretrainedWeights* w, int l) { return attn(w, l).in_proj_b.data() + size_t(attn(w, l).heads) * attn(w, l).d_k; }
float* slot_v_b(PretrainedWeights* w, int l) {
  const MhaWeights& m = attn(w, l);
  return attn(w, l).in_proj_b.data() + size_t(m.heads + m.kv_heads) * m.d_k;
}
float* slot_out_proj_w(PretrainedWeights* w, int l) { return attn(w, l).out_proj_w.data(); }
float* slot_out_proj_b(PretrainedWeights* w, int l) { return attn(w, l).out_proj_b.data(); }
float* slot_norm1_w(PretrainedWeights* w, int l) { return w->layers[size_t(l)].norm1_w.data(); }
float* slot_norm1_b(PretrainedWeights* w, int l) { return w->layers[size_t(l)].norm1_b.data(); }
float* slot_norm2_w(PretrainedWeights* w, int l) { return w->layers[size_t(l)].norm2_w.data(); }
float* slot_norm2_b(PretrainedWeights* w, int l) { return w->layers[size_t(l)].norm2_b.data(); }
float* slot_up_w(PretrainedWeights* w, int l) { return w->layers[size_t(l)].linear1_w.data(); }
float* slot_up_b(PretrainedWeights* w, int l) { return w->layers[size_t(l)].linear1_b.data(); }
float* slot_gate_w(PretrainedWeights* w, int l) { return w->layers[size_t(l)].gate_w.data(); }
float* slot_down_w(PretrainedWeights* w, int l) { return w->layers[size_t(l)].linear2_w.data(); }
float* slot_down_b(PretrainedWeights* w, int l) { return w->layers[size_t(l)].linear2_b.data(); }

namespace {

// "0.3", "12", "1536": megabytes as a message shows them.
std::string megabytes(double bytes) {
  char buf[32];
  const double mb = bytes / 1048576.0;
  std::snprintf(buf, sizeof buf, mb < 1 ? "%.2f" : mb < 10 ? "%.1f" : "%.0f", mb);
  return buf;
}


// The module tree for these dims: every tensor the forward reads, allocated when `allocate` (values come from the
// file; without it, only counted: the memory check comes before any allocation). Returns the float32 values held.
int64_t pretrained_alloc(const PretrainedDims& d, PretrainedWeights* w, bool allocate) {
  const int h = d.hidden, f = d.d_ff, q = d.heads * d.head_dim, kv = d.kv_heads * d.head_dim;
  int64_t n = 0;
  auto mat = [&n, allocate](Mat* m, int r, int c) { if (allocate) m->resize(r, c); n += int64_t(r) * c; };
  auto vec = [&n, allocate](Vec* v, int r) { if (allocate) v->resize(r); n += r; };
  const bool has_head = d.head != PRETRAINED_HEAD_NONE;
  if (has_head) {  // the head packed (the tied embedding with it)
    if (allocate) gemm_packed_resize(h, d.vocab, &w->head);
    n += int64_t(gemm_packed_size(h, d.vocab));
  }
  if (!has_head || !d.tie_word_embeddings) mat(&w->embedding, d.vocab, h);
  if (d.learned_positions) mat(&w->positions, d.max_positions, h);
  if (d.token_type) vec(&w->token_type, h);
  if (d.embedding_norm) vec(&w->emb_norm_w, h), vec(&w->emb_norm_b, h);
  w->layers.assign(size_t(d.layers), LayerWeights());
  for (LayerWeights& lw : w->layers) {
    MhaWeights& m = lw.self_attn;
    m.heads = d.heads;
    m.kv_heads = d.kv_heads;
    m.d_k = m.d_v = d.head_dim;
    mat(&m.in_proj_w, q + 2 * kv, h);
    if (d.attn_bias) vec(&m.in_proj_b, q + 2 * kv);
    mat(&m.out_proj_w, h, q);
    if (d.out_bias) vec(&m.out_proj_b, h);
    vec(&lw.norm1_w, h);
    vec(&lw.norm2_w, h);
    if (d.norm == PRETRAINED_NORM_LAYER) vec(&lw.norm1_b, h), vec(&lw.norm2_b, h);
    mat(&lw.linear1_w, f, h);
    if (d.gated) mat(&lw.gate_w, f, h);
    mat(&lw.linear2_w, h, f);
    if (d.out_bias) vec(&lw.linear1_b, f), vec(&lw.linear2_b, h);
  }
  if (d.final_norm) {
    vec(&w->final_norm_w, h);
    if (d.norm == PRETRAINED_NORM_LAYER) vec(&w->final_norm_b, h);
  }
  if (d.head == PRETRAINED_HEAD_MLM) {
    mat(&w->mlm_dense_w, h, h);
    vec(&w->mlm_dense_b, h), vec(&w->mlm_norm_w, h), vec(&w->mlm_norm_b, h), vec(&w->mlm_bias, d.vocab);
  }
  return n;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

std::string layer_name(const std::string& pattern, int layer) {
  std::string s = pattern;
  const size_t at = s.find("{i}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

// [Load] --------------------------------------------------------------------------------------------------
// One tensor to read: where its bytes are, and where its values go.
struct PlannedTensor {
  std::string name;                // as the name table spells it (prefix stripped)
  std::string file;
  std::string dtype;
  std::vector<int64_t> shape;      // the file's
  uint64_t begin = 0, end = 0;     // absolute offsets of the bytes read (a BERT token-type table: its row 0 only)
  float* dest = nullptr;
  PretrainedPlace place = PRETRAINED_PLACE_COPY;
  const GemmPacked* packed = nullptr;  // PRETRAINED_PLACE_PACKED: the panels dest points into
  uint64_t fed = 0;                // bytes converted so far
};

struct PretrainedLoader::State {
  std::shared_ptr<PretrainedModel> model;
  std::vector<PlannedTensor> plan;
  std::vector<PretrainedRead> reads;
};

PretrainedLoader::PretrainedLoader() = default;
PretrainedLoader::~PretrainedLoader() = default;

const std::vector<PretrainedRead>& PretrainedLoader::reads() const {
  static const std::vector<PretrainedRead> none;
  return s_ ? s_->reads : none;
}

namespace {

struct LoadFail {
  std::string message;
};

json parse_json_file(const PretrainedSource& src, const std::string& name, bool required) {
  const auto it = src.files.find(name);
  if (it == src.files.end()) {
    if (required) throw LoadFail{name + ": missing (a model folder holds config.json, model.safetensors and tokenizer.json)"};
    return json();
  }
  if (!json_nesting_ok(it->second, 64)) throw LoadFail{name + ": nested too deeply"};
  json j = json::parse(it->second, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw LoadFail{name + ": not a JSON object"};
  return j;
}

// A file's tensor name as the name tables spell it: the base model's prefix dropped, BERT's old LayerNorm names
// (gamma, beta) as weight and bias.
std::string table_name(const PretrainedArch& a, std::string name) {
  if (name.compare(0, std::strlen(a.prefix), a.prefix) == 0) name = name.substr(std::strlen(a.prefix));
  if (ends_with(name, "LayerNorm.gamma")) name = name.substr(0, name.size() - 5) + "weight";
  else if (ends_with(name, "LayerNorm.beta")) name = name.substr(0, name.size() - 4) + "bias";
  return name;
}

bool is_ignored(const PretrainedArch& a, const std::string& name) {
  for (const std::string& pattern : a.ignored)
    if (name == pattern || (pattern[0] == '.' && ends_with(name, pattern))) return true;
  return false;
}

// begin's steps (each throws LoadFail naming the file, tensor or field).

// config.json -> the architecture and its dims; tokenizer.json when present (checked against the vocabulary).
const PretrainedArch* read_config_and_tokenizer(const PretrainedSource& src, PretrainedModel* model) {
  const json config = parse_json_file(src, "config.json", true);
  if (!config.contains("model_type") || !config["model_type"].is_string())
    throw LoadFail{"config.json: model_type is missing (supported: " + supported_types() + ")"};
  const std::string type = config["model_type"].get<std::string>();
  const PretrainedArch* arch = pretrained_arch(type);
  if (!arch) throw LoadFail{"config.json: model_type \"" + type + "\" is not supported (supported: " + supported_types() + ")"};
  PretrainedDims& d = model->dims;
  d.model_type = type;
  std::string e;
  if (!arch->read_config(config, &d, &e)) throw LoadFail{e};
  const auto tok = src.files.find("tokenizer.json");  // optional: without it, only token_ids
  if (tok != src.files.end()) {
    if (!hf_tokenizer_load(tok->second, &model->tokenizer, &e)) throw LoadFail{e};
    model->has_tokenizer = true;
    const int tv = hf_tokenizer_vocab_size(model->tokenizer);
    if (tv > d.vocab)
      throw LoadFail{"tokenizer.json: its vocabulary has " + std::to_string(tv) + " tokens but config.json's vocab_size is " +
                     std::to_string(d.vocab)};
  }
  return arch;
}

// Every tensor of the model's files, by its name-table name: the one safetensors file, or the shards an index names
// (each tensor where the index says, none twice, none the index names missing).
struct FoundTensors {
  std::vector<std::string> shards;
  std::map<std::string, std::pair<std::string, SafeTensorEntry>> entries;  // table name -> (file, entry)
  std::map<std::string, std::string> file_name;                            // table name -> the file's own name
};
FoundTensors read_tensor_headers(const PretrainedSource& src, const PretrainedArch& arch) {
  FoundTensors found;
  const json index = parse_json_file(src, "model.safetensors.index.json", false);
  std::map<std::string, std::string> weight_map;
  if (!index.is_null()) {
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw LoadFail{"model.safetensors.index.json: weight_map is missing"};
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) throw LoadFail{"model.safetensors.index.json: weight_map." + it.key() + " must be a file name"};
      const std::string f = it.value().get<std::string>();
      weight_map[it.key()] = f;
      if (std::find(found.shards.begin(), found.shards.end(), f) == found.shards.end()) found.shards.push_back(f);
    }
  } else {
    found.shards.push_back("model.safetensors");
  }
  for (const std::string& f : found.shards) {
    const auto h = src.headers.find(f);
    const auto sz = src.sizes.find(f);
    if (h == src.headers.end() || sz == src.sizes.end())
      throw LoadFail{f + ": missing" + std::string(index.is_null() ? " (a model folder holds model.safetensors or model.safetensors.index.json and its shards)"
                                                                   : " (model.safetensors.index.json names it)")};
    SafeTensorsHeader header;
    std::string e;
    if (!safetensors_read_header(h->second.data(), h->second.size(), sz->second, f, &header, &e)) throw LoadFail{e};
    for (const auto& [name, entry] : header.tensors) {
      if (!weight_map.empty() && (!weight_map.count(name) || weight_map[name] != f))
        throw LoadFail{f + ": tensor '" + name + "' is not where model.safetensors.index.json says"};
      const std::string tn = table_name(arch, name);
      if (found.entries.count(tn)) throw LoadFail{f + ": tensor '" + name + "' appears twice in the model's files"};
      found.entries[tn] = {f, entry};
      found.file_name[tn] = name;
    }
  }
  for (const auto& [name, f] : weight_map)
    if (!found.entries.count(table_name(arch, name))) throw LoadFail{f + ": has no tensor '" + name + "' (model.safetensors.index.json names it)"};
  return found;
}

// The plan: every rule of the name table, every layer, against the files' tensors (missing, misshapen, of another
// dtype, or left over: refused). Counts the parameters and the dtypes.
std::vector<PlannedTensor> plan_reads(const PretrainedArch& arch, FoundTensors& found, PretrainedModel* model) {
  const PretrainedDims& d = model->dims;
  std::vector<PlannedTensor> plan;
  std::set<std::string> used, dtypes;
  for (const PretrainedTensorRule& rule : arch.rules(d)) {
    for (int l = 0; l < (rule.per_layer ? d.layers : 1); ++l) {
      const std::string name = layer_name(rule.name, l);
      const auto it = found.entries.find(name);
      if (it == found.entries.end()) {
        if (rule.optional) continue;
        const std::string where = found.shards.size() == 1 ? " (in " + found.shards[0] + ")" : "";
        const std::string why = name == "lm_head.weight" || name == "cls.predictions.decoder.weight"
                                    ? " (tie_word_embeddings is false: the head has weights of its own)" : "";
        throw LoadFail{"model: missing tensor '" + name + "'" + where + why};
      }
      const SafeTensorEntry& en = it->second.second;
      const std::string& file = it->second.first;
      const std::string shown = "tensor '" + found.file_name[name] + "' (" + file + ")";
      if (en.dtype != "F32" && en.dtype != "F16" && en.dtype != "BF16")
        throw LoadFail{"model: " + shown + " has dtype " + en.dtype + " (supported: F32, F16, BF16)"};
      std::vector<int64_t> want = rule.shape;
      const bool any_rows = !want.empty() && want[0] < 0;  // BERT's token types: any number, row 0 read
      if (any_rows) want[0] = en.shape.empty() ? 0 : std::max<int64_t>(1, en.shape[0]);
      if (en.shape != want || (any_rows && en.shape[0] < 1))
        throw LoadFail{"model: " + shown + " has shape " + shape_text(en.shape) + ", expected " +
                       shape_text(any_rows ? std::vector<int64_t>{-1, want[1]} : want) + " (" + d.model_type + " with hidden size " +
                       std::to_string(d.hidden) + ")"};
      used.insert(name);
      dtypes.insert(en.dtype);
      PlannedTensor p;
      p.name = name;
      p.file = file;
      p.dtype = en.dtype;
      p.shape = en.shape;
      p.begin = en.begin;
      p.end = any_rows ? en.begin + uint64_t(en.shape[1]) * uint64_t(safetensors_dtype_bytes(en.dtype)) : en.end;
      p.place = rule.place;  // (dest: set once the weights are allocated)
      plan.push_back(std::move(p));
      model->parameters += element_count(en.shape);  // as transformers counts it (a token-type table whole)
    }
  }
  for (const auto& [name, entry] : found.entries) {
    if (used.count(name) || is_ignored(arch, name)) continue;
    throw LoadFail{"model: unknown tensor '" + found.file_name[name] + "' in " + entry.first + " (not a " + d.model_type +
                   " tensor this build reads; a different architecture?)"};
  }
  for (const std::string& t : dtypes) model->dtype += (model->dtype.empty() ? "" : "+") + t;
  return plan;
}

}  // namespace

bool PretrainedLoader::begin(const PretrainedSource& src, const PretrainedLimits& limits, std::string* error) {
  s_.reset();
  try {
    auto state = std::make_unique<State>();
    auto model = std::make_shared<PretrainedModel>();
    const PretrainedArch* arch = read_config_and_tokenizer(src, model.get());
    FoundTensors found = read_tensor_headers(src, *arch);
    PretrainedDims& d = model->dims;
    if (arch->settle) arch->settle(&d, [&](const std::string& n) { return found.entries.count(n) > 0; });

    // The memory check, on the sizes alone: before anything is allocated.
    const double bytes = double(pretrained_alloc(d, &model->weights, false)) * 4.0;
    const double reserve = 64.0 * 1048576.0;  // a compute's activations at a few hundred tokens
    if (bytes + reserve > limits.max_bytes) {
      char buf[240];
      std::snprintf(buf, sizeof buf, "model: its %s weights need %s MB as float32 (and %s MB to compute with), more than the %s MB this engine may use",
                    d.model_type.c_str(), megabytes(bytes).c_str(), megabytes(reserve).c_str(), megabytes(limits.max_bytes).c_str());
      throw LoadFail{buf};
    }
    state->plan = plan_reads(*arch, found, model.get());
    for (const auto& [name, text] : src.files) model->files.push_back(name);
    for (const auto& [name, size] : src.sizes) model->files.push_back(name);
    std::sort(model->files.begin(), model->files.end());

    // Allocated for real now, and each planned tensor pointed at its place.
    pretrained_alloc(d, &model->weights, true);
    size_t k = 0;
    for (const PretrainedTensorRule& rule : arch->rules(d))
      for (int l = 0; l < (rule.per_layer ? d.layers : 1); ++l)
        if (k < state->plan.size() && state->plan[k].name == layer_name(rule.name, l)) {
          PlannedTensor& p = state->plan[k++];
          p.dest = rule.dest(&model->weights, l);
          if (!model->weights.head.data.empty() && p.dest == model->weights.head.data.data()) {
            ATTNPLAY_ASSERT(p.place == PRETRAINED_PLACE_COPY && p.shape.size() == 2 && p.shape[0] == model->weights.head.N);
            p.place = PRETRAINED_PLACE_PACKED;  // the head's matrix (lm_head, or the embedding it is tied to)
            p.packed = &model->weights.head;
          }
        }
    ATTNPLAY_ASSERT(k == state->plan.size());
    model->bytes = bytes;
    model->limit_bytes = limits.max_bytes;
    for (const PlannedTensor& p : state->plan) state->reads.push_back({p.file, p.begin, p.end});
    state->model = std::move(model);
    s_ = std::move(state);
    return true;
  } catch (const LoadFail& f) {
    if (error) *error = f.message;
    return false;
  } catch (const std::bad_alloc&) {
    if (error) *error = "model: out of memory while allocating its weights";
    return false;
  }
}

bool PretrainedLoader::feed(size_t r, uint64_t offset, const uint8_t* bytes, size_t n, std::string* error) {
  if (!s_ || r >= s_->plan.size()) return *error = "model: no such read", false;
  PlannedTensor& p = s_->plan[r];
  const uint64_t esize = p.dtype == "F32" ? 4 : 2, total = p.end - p.begin;
  if (offset % 4 || offset + n > total || offset != p.fed)
    return *error = "model: tensor '" + p.name + "' was fed out of order", false;
  // Converted in pieces (no buffer the size of a chunk), each checked, then put in place. A transposed tensor's
  // pieces are 32 whole rows where they can be, written column by column: each destination row then takes 32
  // adjacent values at once instead of one per cache line.
  const uint64_t K = p.shape.size() == 2 ? uint64_t(p.shape[1]) : 1, total_values = n / esize;
  const uint64_t piece = p.place == PRETRAINED_PLACE_COPY ? 4096 : std::max<uint64_t>(4096, 32 * K);
  thread_local std::vector<float> buf;
  buf.resize(size_t(std::min(piece, total_values)));
  auto put = [&](uint64_t e, float v) {  // element e of the file's tensor [rows, K] into its place
    if (p.place == PRETRAINED_PLACE_PACKED) p.dest[gemm_packed_index(*p.packed, int(e % K), int(e / K))] = v;
    else p.dest[(e % K) * uint64_t(p.shape[0]) + e / K] = v;
  };
  for (uint64_t done = 0; done < total_values;) {
    const uint64_t first = offset / esize + done, count = std::min(piece, total_values - done);
    safetensors_to_float(p.dtype, bytes + done * esize, size_t(count), buf.data());
    done += count;
    for (uint64_t k = 0; k < count; ++k)
      if (!std::isfinite(buf[size_t(k)]))
        return *error = "model: tensor '" + p.name + "' (" + p.file + "): value " + std::to_string(first + k) + " is NaN or infinite", false;
    if (p.place == PRETRAINED_PLACE_COPY) {
      std::copy(buf.begin(), buf.begin() + ptrdiff_t(count), p.dest + first);
      continue;
    }
    // The whole rows [r0, r1) of this piece column by column; the partial rows at its ends value by value.
    const uint64_t r0 = (first + K - 1) / K, r1 = (first + count) / K;
    if (r1 <= r0) {
      for (uint64_t e = first; e < first + count; ++e) put(e, buf[size_t(e - first)]);
      continue;
    }
    for (uint64_t e = first; e < r0 * K; ++e) put(e, buf[size_t(e - first)]);
    for (uint64_t e = r1 * K; e < first + count; ++e) put(e, buf[size_t(e - first)]);
    const float* rows = buf.data() + (r0 * K - first);
    for (uint64_t c = 0; c < K; ++c) {
      if (p.place == PRETRAINED_PLACE_PACKED) {
        for (uint64_t r = r0; r < r1; ++r) p.dest[gemm_packed_index(*p.packed, int(c), int(r))] = rows[(r - r0) * K + c];
      } else {
        float* dst = p.dest + c * uint64_t(p.shape[0]);
        for (uint64_t r = r0; r < r1; ++r) dst[r] = rows[(r - r0) * K + c];
      }
    }
  }
  p.fed += n;
  return true;
}

bool PretrainedLoader::finish(std::shared_ptr<PretrainedModel>* out, std::string* error) {
  if (!s_) return *error = "model: nothing was loaded", false;
  for (const PlannedTensor& p : s_->plan)
    if (p.fed != p.end - p.begin) {
      *error = "model: tensor '" + p.name + "' (" + p.file + ") is incomplete: the file ended after " + std::to_string(p.fed) +
               " of its " + std::to_string(p.end - p.begin) + " bytes";
      s_.reset();
      return false;
    }
  *out = std::move(s_->model);
  s_.reset();
  return true;
}

static bool read_file(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

bool pretrained_load_dir(const std::string& dir, const PretrainedLimits& limits, std::shared_ptr<PretrainedModel>* out,
                         std::string* error) {
  PretrainedSource src;
  const std::string base = dir.empty() ? "." : dir;
  std::string text;
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json"})
    if (read_file(base + "/" + f, &text)) src.files[f] = text;
  // model.safetensors, or where there is none the index of its shards (as core.loadModel looks for them)
  if (!std::ifstream(base + "/model.safetensors") && read_file(base + "/model.safetensors.index.json", &text))
    src.files["model.safetensors.index.json"] = text;
  if (!src.files.count("config.json")) return *error = "model: " + base + " has no config.json (is it a Hugging Face model folder?)", false;
  // The safetensors files: their headers (8 bytes, then the length they give).
  std::vector<std::string> names = {"model.safetensors"};
  if (src.files.count("model.safetensors.index.json")) {
    names.clear();
    const json idx = json::parse(src.files["model.safetensors.index.json"], nullptr, false);
    if (idx.is_object() && idx.contains("weight_map") && idx["weight_map"].is_object())
      for (const auto& f : idx["weight_map"])
        if (f.is_string() && std::find(names.begin(), names.end(), f.get<std::string>()) == names.end()) names.push_back(f.get<std::string>());
  }
  for (const std::string& f : names) {
    std::ifstream in(base + "/" + f, std::ios::binary | std::ios::ate);
    if (!in) continue;  // the loader names it
    const uint64_t size = uint64_t(in.tellg());
    in.seekg(0);
    uint8_t len[8] = {};
    in.read(reinterpret_cast<char*>(len), 8);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
    std::vector<uint8_t> h(8 + size_t(std::min<uint64_t>(n, size > 8 ? size - 8 : 0)));
    std::memcpy(h.data(), len, 8);
    if (h.size() > 8) in.read(reinterpret_cast<char*>(h.data() + 8), std::streamsize(h.size() - 8));
    h.resize(8 + size_t(in.gcount() > 0 && h.size() > 8 ? in.gcount() : 0));
    src.headers[f] = std::move(h);
    src.sizes[f] = size;
  }
  PretrainedLoader loader;
  if (!loader.begin(src, limits, error)) return false;
  std::vector<uint8_t> chunk;
  const std::vector<PretrainedRead> reads = loader.reads();
  std::map<std::string, std::ifstream> files;
  for (size_t r = 0; r < reads.size(); ++r) {
    std::ifstream& in = files[reads[r].file];
    if (!in.is_open()) in.open(base + "/" + reads[r].file, std::ios::binary);
    const uint64_t total = reads[r].end - reads[r].begin;
    in.seekg(std::streamoff(reads[r].begin));
    for (uint64_t off = 0; off < total;) {
      const size_t n = size_t(std::min<uint64_t>(total - off, 1u << 20));  // a multiple of 4 (1 MiB) until the end
      chunk.resize(n);
      in.read(reinterpret_cast<char*>(chunk.data()), std::streamsize(n));
      if (size_t(in.gcount()) != n) break;  // a truncated file: finish() names the tensor
      if (!loader.feed(r, off, chunk.data(), n, error)) return false;
      off += n;
    }
  }
  return loader.finish(out, error);
}

// [Model] -------------------------------------------------------------------------------------------------
std::string pretrained_info_json(const PretrainedModel& m) {
  const PretrainedDims& d = m.dims;
  return json{{"model_type", d.model_type}, {"layers", d.layers}, {"heads", d.heads}, {"kv_heads", d.kv_heads},
              {"hidden_size", d.hidden}, {"head_dim", d.head_dim}, {"vocab_size", d.vocab},
              {"max_positions", d.max_positions}, {"parameters", m.parameters}, {"dtype", m.dtype},
              {"bytes", int64_t(m.bytes)}, {"has_lm_head", d.head != PRETRAINED_HEAD_NONE},
              {"tie_word_embeddings", d.tie_word_embeddings}, {"tokenizer", m.has_tokenizer}}
      .dump();
}

// [Request] -----------------------------------------------------------------------------------------------
bool pretrained_request(const Config& c, const PretrainedModel& m, PretrainedRequest* out, std::string* error) {
  PretrainedRequest r;
  const PretrainedDims& d = m.dims;
  auto bad = [&](const std::string& msg) {
    if (error) *error = msg;
    return false;
  };
  if (c.pretrained.has_token_ids) {
    for (size_t i = 0; i < c.pretrained.token_ids.size(); ++i) {
      const int64_t id = c.pretrained.token_ids[i];
      if (id < 0 || id >= d.vocab)
        return bad("token_ids[" + std::to_string(i) + "]: " + std::to_string(id) + " is not an id of this model's vocabulary (vocab_size " +
                   std::to_string(d.vocab) + ")");
      r.ids.push_back(int(id));
    }
  } else {
    if (!m.has_tokenizer) return bad("text: this model folder has no tokenizer.json (give token_ids instead)");
    HfEncoding enc;
    std::string e;
    if (!hf_tokenizer_encode(m.tokenizer, c.text, c.pretrained.add_special_tokens, &enc, &e)) return bad(e);
    r.ids = enc.ids;
  }
  if (r.ids.empty()) return bad(c.pretrained.has_token_ids ? "token_ids must not be empty" : "text has no tokens (it is empty or only white space)");
  const int n = int(r.ids.size());
  if (n > d.max_positions)
    return bad("text: " + std::to_string(n) + " tokens, but the model's positions stop at " + std::to_string(d.max_positions) +
               " (max_position_embeddings)");
  // What one compute keeps (every head's scores and weights, each layer's rows, the logits) must fit beside the
  // weights under the limit the model was loaded with: refused with its size before anything is allocated.
  const double maps = 2.0 * d.layers * d.heads * double(n) * n * 4.0;
  const double rows = double(d.layers) * n * (3.0 * d.hidden + double(d.heads + 2 * d.kv_heads) * d.head_dim + d.d_ff) * 4.0;
  const double logits = c.pretrained.logits == CONFIG_LOGITS_ALL ? double(n) * d.vocab * 4.0 : double(d.vocab) * 4.0;
  if (m.bytes + maps + rows + logits > m.limit_bytes)
    return bad("text: " + std::to_string(n) + " tokens need " + megabytes(maps + rows + logits) + " MB of attention maps, rows and logits beside the " +
               megabytes(m.bytes) + " MB of weights, more than the " + megabytes(m.limit_bytes) + " MB this engine may use (shorter text, or \"logits\": \"last\")");
  if (n > config_limits().max_tokens)
    return bad("text: " + std::to_string(n) + " tokens (at most " + std::to_string(config_limits().max_tokens) + ")");
  for (int id : r.ids) {
    const std::string* t = m.has_tokenizer ? hf_tokenizer_id_to_token(m.tokenizer, id) : nullptr;
    r.tokens.push_back(t ? *t : std::to_string(id));
  }
  r.mask = c.attention.mask;
  for (size_t i = 0; i < r.mask.padding.size(); ++i)
    if (r.mask.padding[i] >= n)
      return bad("attention.mask.padding[" + std::to_string(i) + "]: key index " + std::to_string(r.mask.padding[i]) +
                 " is out of range (n_k=" + std::to_string(n) + ")");
  for (size_t i = 0; i < r.mask.cells.size(); ++i)
    if (r.mask.cells[i].first >= n || r.mask.cells[i].second >= n)
      return bad("attention.mask.cells[" + std::to_string(i) + "]: [" + std::to_string(r.mask.cells[i].first) + ", " +
                 std::to_string(r.mask.cells[i].second) + "] is out of range (n=" + std::to_string(n) + ")");
  r.mask.causal = r.mask.causal || d.causal;
  r.temperature = c.attention.temperature;
  for (size_t i = 0; i < c.pretrained.ablate.size(); ++i) {
    const auto [l, h] = c.pretrained.ablate[i];
    if (l >= d.layers) return bad("ablate[" + std::to_string(i) + "]: layer " + std::to_string(l) + " is out of range (the model has " + std::to_string(d.layers) + ")");
    if (h >= d.heads) return bad("ablate[" + std::to_string(i) + "]: head " + std::to_string(h) + " is out of range (the model has " + std::to_string(d.heads) + ")");
    r.ablate.push_back({l, h});
  }
  std::sort(r.ablate.begin(), r.ablate.end());
  r.ablate.erase(std::unique(r.ablate.begin(), r.ablate.end()), r.ablate.end());
  r.logits = d.head == PRETRAINED_HEAD_NONE ? PRETRAINED_LOGITS_NONE : c.pretrained.logits;
  *out = std::move(r);
  return true;
}

// [Compute] -----------------------------------------------------------------------------------------------
struct PretrainedCache {
  PretrainedRequest last;          // the request the trace below answers
  Trace trace;
  int logit_rows = 0;              // rows of trace.logits computed (all: every row; last: the last row only)
  PretrainedStats stats;
  bool valid = false;
};

std::shared_ptr<PretrainedCache> pretrained_cache_new() { return std::make_shared<PretrainedCache>(); }
PretrainedStats pretrained_cache_stats(const PretrainedCache& cache) { return cache.stats; }
const Trace& pretrained_cache_trace(const PretrainedCache& cache) { return cache.trace; }

namespace {

// The network's spec for a model: its norms, MLP and positions, the request's temperature; kind scaled_dot with
// √head_dim (SPEC §9: scores = q·k / √head_dim ÷ temperature).
NetSpec model_spec(const PretrainedModel& m, const PretrainedRequest& r) {
  const PretrainedDims& d = m.dims;
  static const AttentionKindWeights none;
  NetSpec s;
  s.attention = attention_params_make(ATTENTION_KIND_SCALED_DOT, std::sqrt(float(d.head_dim)), r.temperature, none);
  s.positional = POSITIONAL_KIND_NONE;  // (added to x here; RoPE below)
  s.rope_base = d.rope_theta;
  s.rope_half = true;
  s.norm_first = d.norm_first;
  s.norm = d.norm == PRETRAINED_NORM_RMS ? NET_NORM_RMS : NET_NORM_LAYER;
  s.norm_eps = d.norm_eps;
  s.gated = d.gated;
  s.activation = d.activation;
  s.d_model = d.hidden;
  return s;
}

// Rows [first, first + count) of the embeddings: token rows, learned positions, token type 0, and BERT's LayerNorm.
void embed_rows(const PretrainedModel& m, const std::vector<int>& ids, int first, Mat* x) {
  const PretrainedWeights& w = m.weights;
  const PretrainedDims& d = m.dims;
  const int count = int(ids.size()) - first;
  x->resize(count, d.hidden);
  for (int i = 0; i < count; ++i) {
    const int id = ids[size_t(first + i)];
    if (w.embedding.size()) x->row(i) = w.embedding.row(id);
    else for (int k = 0; k < d.hidden; ++k) (*x)(i, k) = w.head.data[gemm_packed_index(w.head, k, id)];  // tied
    if (d.learned_positions) x->row(i) += w.positions.row(first + i);
    if (d.token_type) x->row(i) += w.token_type.transpose();
  }
  if (d.embedding_norm) {
    Mat y;
    layer_norm_forward(*x, w.emb_norm_w, w.emb_norm_b, d.norm_eps, &y);
    *x = std::move(y);
  }
}

// A layer whose numbers left float32 (layer -1: the head; thrown by run_layers and head_rows, refused by pretrained_compute).
struct ComputeOverflow {
  int layer;
};

// The final norm and the head for rows of the last layer's output h [rows, hidden] -> logits [rows, vocab].
void head_rows(const PretrainedModel& m, const Mat& h, Mat* logits) {
  const PretrainedWeights& w = m.weights;
  const PretrainedDims& d = m.dims;
  Mat x = h, y;
  if (d.final_norm) {
    if (d.norm == PRETRAINED_NORM_RMS) rms_norm_forward(x, w.final_norm_w, d.norm_eps, &y);
    else layer_norm_forward(x, w.final_norm_w, w.final_norm_b, d.norm_eps, &y);
    x = std::move(y);
  }
  if (d.head == PRETRAINED_HEAD_MLM) {  // BertPredictionHeadTransform: dense, act, LayerNorm
    linear_forward(x, w.mlm_dense_w, w.mlm_dense_b, &y);
    activation_forward(d.activation, &y);
    layer_norm_forward(y, w.mlm_norm_w, w.mlm_norm_b, d.norm_eps, &x);
  }
  logits->resize(x.rows(), d.vocab);
  gemm_packed(int(x.rows()), x.data(), d.hidden, w.head, logits->data(), d.vocab);
  if (d.head == PRETRAINED_HEAD_MLM) logits->rowwise() += w.mlm_bias.transpose();
  if (!logits->allFinite()) throw ComputeOverflow{-1};
}

// Cuts every cached matrix of t to its first `rows` tokens (their rows; an attention map's keys too).
void truncate_trace(Trace* t, int rows) {
  for (LayerTrace& lt : t->layers) {
    lt.output.conservativeResize(rows, Eigen::NoChange);
    lt.concat.conservativeResize(rows, Eigen::NoChange);
    for (HeadTrace& h : lt.heads) {
      h.q.conservativeResize(rows, Eigen::NoChange);
      h.k.conservativeResize(rows, Eigen::NoChange);
      h.v.conservativeResize(rows, Eigen::NoChange);
      h.attn.scores = Mat(h.attn.scores.topLeftCorner(rows, rows));
      h.attn.weights = Mat(h.attn.weights.topLeftCorner(rows, rows));
      h.attn.context.conservativeResize(rows, Eigen::NoChange);
      h.attn.fully_masked.resize(size_t(rows));
      h.attn.row_lse.conservativeResize(rows);
    }
  }
  t->x.conservativeResize(rows, Eigen::NoChange);
}

// top [first, c0] over bottom [m, c]: the rows stacked; where top has fewer columns (an attention map's keys that
// came after its rows: masked, as the model is causal), they are filled with pad.
void stack_rows(Mat* top, const Mat& bottom, float pad) {
  const Eigen::Index first = top->rows(), c0 = std::min(top->cols(), bottom.cols());
  Mat all(first + bottom.rows(), bottom.cols());
  all.topLeftCorner(first, c0) = top->leftCols(c0);
  if (c0 < bottom.cols()) all.topRightCorner(first, bottom.cols() - c0).setConstant(pad);
  all.bottomRows(bottom.rows()) = bottom;
  *top = std::move(all);
}

// The layers from `from` on, for rows [first, n): layer l reads the kept rows < first (their keys and values, as its
// attention saw them) and layer l - 1's output (or the embeddings). t holds exactly `first` rows of every layer at
// and after `from` (truncate_trace), and every row of the layers before.
void run_layers(const PretrainedModel& m, const PretrainedRequest& r, int from, int first, Trace* t) {
  const PretrainedDims& d = m.dims;
  const NetSpec spec = model_spec(m, r);
  const int n = int(r.ids.size());
  const MaskMat rows_mask = mask_build(r.mask, n, n).bottomRows(n - first);
  t->layers.resize(size_t(d.layers));
  Mat x = from == 0 ? t->x.bottomRows(n - first) : t->layers[size_t(from - 1)].output.bottomRows(n - first);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int l = from; l < d.layers; ++l) {
    std::vector<uint8_t> ablated(size_t(d.heads), 0);
    for (const auto& [al, ah] : r.ablate)
      if (al == l) ablated[size_t(ah)] = 1;
    LayerTrace& lt = t->layers[size_t(l)];
    LayerExtras extras;
    extras.ablated = &ablated;
    extras.position_offset = first;
    if (first > 0) extras.past = &lt.heads;  // the kept rows' keys and values
    LayerTrace rows;
    encoder_layer_forward(spec, m.weights.layers[size_t(l)], &rows_mask, nullptr, false, &rows, &x, extras);
    // What the result, the views and the next compute read stays (heads, concat, output); the block's inner
    // activations go (GPT-2 small at 128 tokens: 50 MB of them).
    rows.x_in = rows.attn_in = rows.x1 = rows.ffn_in = rows.pre_act = rows.post_act = Mat();
    rows.ln1 = rows.ln2 = LayerNormCache();
    // Finite weights can still overflow float32 (values near 1e38 in a file): refused by layer, never drawn as NaN.
    bool finite = rows.output.allFinite();
    for (const HeadTrace& h : rows.heads) finite = finite && h.attn.weights.allFinite() && h.attn.context.allFinite();
    if (!finite) throw ComputeOverflow{l};
    if (first == 0) {
      lt = std::move(rows);
      continue;
    }
    for (size_t h = 0; h < rows.heads.size(); ++h) {  // the new rows under the kept ones
      HeadTrace& kept = lt.heads[h];
      HeadTrace& add = rows.heads[h];
      stack_rows(&kept.q, add.q, 0);
      kept.k = std::move(add.k);  // (with past: every row's keys and values)
      kept.v = std::move(add.v);
      stack_rows(&kept.attn.scores, add.attn.scores, neg_inf);
      stack_rows(&kept.attn.weights, add.attn.weights, 0);
      stack_rows(&kept.attn.context, add.attn.context, 0);
      kept.attn.fully_masked.insert(kept.attn.fully_masked.end(), add.attn.fully_masked.begin(), add.attn.fully_masked.end());
      Vec lse(n);
      lse.head(first) = kept.attn.row_lse;
      lse.tail(n - first) = add.attn.row_lse;
      kept.attn.row_lse = std::move(lse);
      kept.attn.overflowed = kept.attn.overflowed || add.attn.overflowed;
    }
    stack_rows(&lt.concat, rows.concat, 0);
    stack_rows(&lt.output, rows.output, 0);
  }
}

bool same_mask(const MaskSpec& a, const MaskSpec& b) {
  return a.causal == b.causal && a.window == b.window && a.padding == b.padding && a.cells == b.cells;
}

}  // namespace

bool pretrained_compute(const PretrainedModel& m, const PretrainedRequest& r, PretrainedCache* cache, Trace* out,
                        std::string* error) {
  const PretrainedDims& d = m.dims;
  const int n = int(r.ids.size());
  PretrainedCache scratch;
  PretrainedCache& c = cache ? *cache : scratch;
  try {
    // What the last compute still answers: the rows before the first changed token (a causal model's rows never see
    // later keys), the layers before the first one whose ablated heads changed. A mask or temperature edit changes
    // every layer.
    int first = 0, from = 0, unchanged_rows = 0;
    if (c.valid && same_mask(c.last.mask, r.mask) && c.last.temperature == r.temperature) {
      const int old_n = int(c.last.ids.size());
      int common = 0;
      while (common < n && common < old_n && c.last.ids[size_t(common)] == r.ids[size_t(common)]) ++common;
      std::vector<std::pair<int, int>> diff;
      std::set_symmetric_difference(c.last.ablate.begin(), c.last.ablate.end(), r.ablate.begin(), r.ablate.end(),
                                    std::back_inserter(diff));
      int layer = d.layers;
      for (const auto& p : diff) layer = std::min(layer, p.first);
      if (common == n && n == old_n) {  // the same tokens: from the first layer the ablation changes (or nothing)
        from = layer;
        first = 0;
        unchanged_rows = layer == d.layers ? n : 0;
      } else if (layer == d.layers && r.mask.causal && common > 0) {
        first = common;
        unchanged_rows = common;
        truncate_trace(&c.trace, common);
      }
    }
    if (unchanged_rows == 0 && from == 0) c.trace = Trace();
    Trace& t = c.trace;
    t.tokens = r.tokens;
    t.key_tokens = r.tokens;
    const bool compute = unchanged_rows < n && from < d.layers;
    if (compute && from == 0) {
      Mat x_new;
      embed_rows(m, r.ids, first, &x_new);
      stack_rows(&t.x, x_new, 0);
    }
    if (compute) run_layers(m, r, from, first, &t);
    c.stats = {compute ? from : d.layers, compute ? n - first : 0};
    // Logits: the rows asked for; those of unchanged rows are kept from the last compute.
    const Mat& h = t.layers.back().output;
    if (r.logits == PRETRAINED_LOGITS_NONE) {
      t.logits = Mat();
      c.logit_rows = 0;
    } else if (r.logits == PRETRAINED_LOGITS_LAST) {
      head_rows(m, h.bottomRows(1), &t.logits);
      c.logit_rows = 0;  // (the last row only: nothing to keep for an "all")
    } else {
      const int keep = std::min(unchanged_rows, c.logit_rows);
      Mat rows;
      head_rows(m, h.bottomRows(n - keep), &rows);
      Mat all(n, rows.cols());
      if (keep > 0) all.topRows(keep) = t.logits.topRows(keep);
      all.bottomRows(n - keep) = rows;
      t.logits = std::move(all);
      c.logit_rows = n;
    }
    t.fully_masked_rows.clear();
    const std::vector<uint8_t>& fm = t.layers[0].heads[0].attn.fully_masked;
    for (size_t i = 0; i < fm.size(); ++i)
      if (fm[i]) t.fully_masked_rows.push_back(int(i));
    t.warnings.clear();
    if (!t.fully_masked_rows.empty())
      t.warnings.push_back(std::to_string(t.fully_masked_rows.size()) +
                           " query row(s) see no key: their weights and context are 0 (transformers would spread them)");
    t.attention.spec.kind = ATTENTION_KIND_SCALED_DOT;
    t.attention.spec.temperature = r.temperature;
    t.attention.spec.mask = r.mask;
    t.attention.scale_divisor = std::sqrt(float(d.head_dim));
    t.attention.mask = mask_build(r.mask, n, n);
    c.last = r;
    c.valid = true;
    if (out) *out = cache ? t : std::move(t);  // (with a cache and no out: read it with pretrained_cache_trace)
    return true;
  } catch (const std::bad_alloc&) {
    c.valid = false;
    c.trace = Trace();
    if (error) *error = "out of memory: this text needs more memory than is available; use fewer tokens";
    return false;
  } catch (const ComputeOverflow& o) {
    c.valid = false;
    c.trace = Trace();
    if (error)
      *error = "model: " + (o.layer < 0 ? std::string("the head's logits") : "layer " + std::to_string(o.layer) + "'s numbers") +
               " overflow float32 (infinite or NaN): the model's weights hold values too large for it";
    return false;
  }
}

// [Result] ------------------------------------------------------------------------------------------------
bool pretrained_compute_json(const Config& c, const PretrainedResolver& resolve, std::string* result, std::string* error) {
  PretrainedRef ref;
  if (c.pretrained.model.empty() && c.pretrained.model_handle < 0) {
    if (error) *error = "model: mode \"pretrained\" needs the model (a Hugging Face folder: config.json, model.safetensors, tokenizer.json)";
    return false;
  }
  if (!resolve || !resolve(c.pretrained, &ref, error)) return false;
  PretrainedRequest r;
  if (!pretrained_request(c, *ref.model, &r, error)) return false;
  Trace t;  // (with a cache the trace stays there: no copy of it)
  if (!pretrained_compute(*ref.model, r, ref.cache.get(), ref.cache ? nullptr : &t, error)) return false;
  *result = pretrained_result_json(ref.cache ? pretrained_cache_trace(*ref.cache) : t, r);
  return true;
}

}  // namespace attnplay
