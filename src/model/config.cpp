// attnplay model: config parsing and validation. Contracts: config.h; the fields: ../shared/SPEC.md §2 and the
// field table (config_fields.h), which gives every known key, integer range and enum spelling used here.
//
// Index
//   check_known_keys, field, as_int, table_int, table_enum, table_bool, positive_number   one value, by the table
//   parse_tensor, tensor_heads, parse_tokens, tokenize_field   inputs and token lists
//   parse_mask, parse_inputs                  attention.mask, inputs
//   config_trace_layers / _bytes, scale_divisor   derived values
//   config_parse_or_throw, config_parse, config_parse_text   the whole config, refused by name
#include "model/config.h"

#include "model/config_fields.h"
#include "model/network.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cfloat>
#include <climits>
#include <limits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <set>

namespace attnplay {

using json = nlohmann::json;

namespace {

struct ConfigError {
  std::string message;
};

[[noreturn]] void fail(std::string message) { throw ConfigError{std::move(message)}; }

// A value as the user wrote it, cut short for messages.
std::string shown(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string got(const json& v) { return " (got " + std::string(v.type_name()) + " " + shown(v) + ")"; }

// The keys the table knows under path, in its order (the order messages list them).
void check_known_keys(const json& obj, const std::string& path) {
  if (!obj.is_object()) fail((path.empty() ? "config" : path) + " must be an object" + got(obj));
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    std::string list;
    for (const ConfigField& f : config_fields())
      if (f.parent == path) {
        ok = ok || it.key() == f.key;
        list += (list.empty() ? "" : ", ") + f.key;
      }
    if (!ok) fail("unknown field '" + (path.empty() ? "" : path + ".") + it.key() + "' (known here: " + list + ")");
  }
}

std::string join(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

const json* field(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool is_integral(const json& v) {
  if (v.is_number_integer()) return true;
  if (!v.is_number_float()) return false;
  const double d = v.get<double>();
  return std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9007199254740992.0;
}

long long as_int(const json& v, const std::string& path, long long lo, long long hi) {
  if (!is_integral(v)) fail(path + " must be an integer" + got(v));
  long long x;
  if (v.is_number_unsigned()) {
    const auto u = v.get<unsigned long long>();
    x = u > 9007199254740991ull ? 9007199254740992ll : (long long)u;
  } else {
    x = v.is_number_integer() ? v.get<long long>() : (long long)v.get<double>();
  }
  if (x < lo || x > hi)
    fail(path + " must be from " + std::to_string(lo) + " to " + std::to_string(hi) + " (got " + shown(v) + ")");
  return x;
}

bool get_bool(const json& obj, const std::string& path, const char* key, bool def) {
  const json* v = field(obj, key);
  if (!v) return def;
  if (!v->is_boolean()) fail(join(path, key) + " must be true or false" + got(*v));
  return v->get<bool>();
}

// An INT row of the table: its range; def when absent (the row's default unless derived).
int table_int(const json& obj, const std::string& path, const char* key, int def) {
  const ConfigField& f = config_field(join(path, key));
  const json* v = field(obj, key);
  return v ? int(as_int(*v, join(path, key), f.min, f.max)) : def;
}
int table_int(const json& obj, const std::string& path, const char* key) {
  return table_int(obj, path, key, config_field(join(path, key)).default_value);
}

// An ENUM row of the table: one of its spellings, its default when absent.
template <typename Enum>
Enum table_enum(const json& obj, const std::string& path, const char* key) {
  const ConfigField& f = config_field(join(path, key));
  const json* v = field(obj, key);
  if (!v) return Enum(f.default_value);
  std::string list;
  for (const ConfigEnumValue& n : f.values) list += (list.empty() ? "\"" : ", \"") + std::string(n.name) + "\"";
  if (v->is_string())
    for (const ConfigEnumValue& n : f.values)
      if (v->get<std::string>() == n.name) return Enum(n.value);
  fail(join(path, key) + " must be one of " + list + got(*v));
}

bool table_bool(const json& obj, const std::string& path, const char* key) {
  return get_bool(obj, path, key, config_field(join(path, key)).default_value != 0);
}

// A NUMBER row of the table: a positive finite number, its default when absent.
float positive_number(const json& v, const std::string& path);
float table_number(const json& obj, const std::string& path, const char* key) {
  const json* v = field(obj, key);
  return v ? positive_number(*v, join(path, key)) : config_default_json(join(path, key)).get<float>();
}

// A positive, finite number (temperature, numeric scale).
float positive_number(const json& v, const std::string& path) {
  if (!v.is_number()) fail(path + " must be a number" + got(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || d <= 0) fail(path + " must be a positive finite number (got " + shown(v) + ")");
  if (d > double(FLT_MAX) || d < double(FLT_MIN)) fail(path + " is outside the float32 range (got " + shown(v) + ")");
  return float(d);
}

// A nested array of numbers of rank 1..3 -> shape and row-major float data.
struct Tensor {
  std::vector<int> shape;
  std::vector<float> data;
};

void tensor_walk(const json& v, const std::string& path, size_t depth, Tensor* t) {
  if (v.is_array()) {
    if (v.empty()) fail(path + " must not be empty");
    if (depth == t->shape.size()) {
      if (depth >= 3) fail(path + " is nested too deeply (at most 3 dimensions)");
      if (!t->data.empty()) fail(path + " must be a number" + got(v));
      t->shape.push_back(int(v.size()));
    } else if (size_t(t->shape[depth]) != v.size()) {
      fail(path + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(t->shape[depth]) +
           " (rows must all have the same length)");
    }
    for (size_t i = 0; i < v.size(); ++i) tensor_walk(v[i], path + "[" + std::to_string(i) + "]", depth + 1, t);
    return;
  }
  if (depth != t->shape.size()) fail(path + " must be an array" + got(v));
  if (!v.is_number()) fail(path + " must be a number" + got(v));
  const double d = v.get<double>();
  if (!std::isfinite(d) || std::fabs(d) > double(FLT_MAX)) fail(path + " is outside the float32 range (got " + shown(v) + ")");
  t->data.push_back(float(d));
}

Tensor parse_tensor(const json& v, const std::string& path, int min_rank, int max_rank) {
  if (!v.is_array()) fail(path + " must be an array" + got(v));
  Tensor t;
  tensor_walk(v, path, 0, &t);
  const int rank = int(t.shape.size());
  if (rank < min_rank || rank > max_rank)
    fail(path + " must have " + (min_rank == max_rank ? std::to_string(min_rank) : std::to_string(min_rank) + " or " + std::to_string(max_rank)) +
         " dimensions (got " + std::to_string(rank) + ")");
  return t;
}

std::string shape_str(const std::vector<int>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// [heads, n, d] or [n, d] -> one matrix per head.
std::vector<Mat> tensor_heads(const Tensor& t) {
  const bool r3 = t.shape.size() == 3;
  const int H = r3 ? t.shape[0] : 1, n = t.shape[r3 ? 1 : 0], d = t.shape[r3 ? 2 : 1];
  std::vector<Mat> out;
  for (int h = 0; h < H; ++h) out.push_back(Eigen::Map<const Mat>(t.data.data() + size_t(h) * n * d, n, d));
  return out;
}

std::vector<std::string> parse_tokens(const json& v, const std::string& path) {
  if (!v.is_array()) fail(path + " must be an array of strings" + got(v));
  if (v.size() > size_t(config_limits().max_tokens))
    fail(path + " has " + std::to_string(v.size()) + " tokens (at most " + std::to_string(config_limits().max_tokens) + ")");
  std::vector<std::string> out;
  size_t bytes = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string p = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) fail(p + " must be a string" + got(v[i]));
    out.push_back(v[i].get<std::string>());
    if (out.back().empty()) fail(p + " must not be empty");
    bytes += out.back().size();
  }
  if (bytes > config_limits().max_text_bytes) fail(path + " is too long (at most 1 MiB of text)");
  return out;
}

std::vector<std::string> tokenize_field(const json& obj, const char* key, TokenizerKind kind) {
  const json& v = obj.at(key);
  if (!v.is_string()) fail(std::string(key) + " must be a string" + got(v));
  const std::string s = v.get<std::string>();
  if (s.size() > config_limits().max_text_bytes) fail(std::string(key) + " is too long (" + std::to_string(s.size()) + " bytes, at most 1 MiB)");
  std::vector<std::string> t = tokenizer_split(kind, s);
  if (t.size() > size_t(config_limits().max_tokens))
    fail(std::string(key) + " has " + std::to_string(t.size()) + " tokens (at most " + std::to_string(config_limits().max_tokens) + ")");
  return t;
}

std::vector<std::string> row_labels(const char* prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

void parse_mask(const json& m, const std::string& path, Config* c) {
  check_known_keys(m, path);
  const bool seq2seq = c->mode == MODEL_MODE_SEQ2SEQ;
  // Mode pretrained: the tokens come from the model's tokenizer later (pretrained_request checks the indices then).
  const int unknown = std::numeric_limits<int>::max();
  const int n_q = c->mode == MODEL_MODE_PRETRAINED ? unknown : seq2seq ? c->n_s() : c->n_q();
  const int n_k = c->mode == MODEL_MODE_PRETRAINED ? unknown : seq2seq ? c->n_s() : c->n_k();
  c->attention.mask.causal = table_bool(m, path, "causal");
  c->attention.mask.window = table_int(m, path, "window");
  if (const json* p = field(m, "padding")) {
    const std::string pp = join(path, "padding");
    if (!p->is_array()) fail(pp + " must be an array of key indices" + got(*p));
    for (size_t i = 0; i < p->size(); ++i) {
      const std::string ip = pp + "[" + std::to_string(i) + "]";
      const long long j = as_int((*p)[i], ip, LLONG_MIN / 2, LLONG_MAX / 2);
      if (j < 0 || j >= n_k) fail(ip + ": key index " + std::to_string(j) + " is out of range (n_k=" + std::to_string(n_k) + ")");
      c->attention.mask.padding.push_back(int(j));
    }
  }
  if (const json* cells = field(m, "cells")) {
    const std::string cp = join(path, "cells");
    if (!cells->is_array()) fail(cp + " must be an array of [query, key] pairs" + got(*cells));
    if (uint64_t(cells->size()) > uint64_t(n_q) * uint64_t(n_k) || cells->size() > size_t(config_limits().max_tokens) * 64)
      fail(cp + " has more entries than the grid has cells");
    for (size_t i = 0; i < cells->size(); ++i) {
      const std::string ip = cp + "[" + std::to_string(i) + "]";
      const json& e = (*cells)[i];
      if (!e.is_array() || e.size() != 2) fail(ip + " must be a [query, key] pair" + got(e));
      const long long qi = as_int(e[0], ip + "[0]", LLONG_MIN / 2, LLONG_MAX / 2);
      const long long kj = as_int(e[1], ip + "[1]", LLONG_MIN / 2, LLONG_MAX / 2);
      if (qi < 0 || qi >= n_q) fail(ip + ": query index " + std::to_string(qi) + " is out of range (n_q=" + std::to_string(n_q) + ")");
      if (kj < 0 || kj >= n_k) fail(ip + ": key index " + std::to_string(kj) + " is out of range (n_k=" + std::to_string(n_k) + ")");
      c->attention.mask.cells.emplace_back(int(qi), int(kj));
    }
  }
}

void parse_inputs(const json& in, Config* c, bool heads_given, bool dk_given, bool dv_given) {
  check_known_keys(in, "inputs");
  for (const char* k : {"q", "k", "v"})
    if (!field(in, k)) fail(std::string("inputs.") + k + " is required when inputs is given (q, k and v go together)");
  const Tensor q = parse_tensor(in["q"], "inputs.q", 2, 3);
  const Tensor k = parse_tensor(in["k"], "inputs.k", 2, 3);
  const Tensor v = parse_tensor(in["v"], "inputs.v", 2, 3);
  if (q.shape.size() != k.shape.size() || q.shape.size() != v.shape.size())
    fail("inputs.q, inputs.k and inputs.v must have the same number of dimensions (got " + shape_str(q.shape) + ", " +
         shape_str(k.shape) + ", " + shape_str(v.shape) + ")");
  const bool r3 = q.shape.size() == 3;
  const int H = r3 ? q.shape[0] : 1;
  if (r3 && (k.shape[0] != H || v.shape[0] != H))
    fail("inputs.k and inputs.v must have as many heads as inputs.q (got " + shape_str(q.shape) + ", " + shape_str(k.shape) +
         ", " + shape_str(v.shape) + ")");
  const int o = r3 ? 1 : 0;
  const int n_q = q.shape[o], n_k = k.shape[o], d_k = q.shape[o + 1], d_v = v.shape[o + 1];
  if (k.shape[o + 1] != d_k) fail("inputs.k must have the width of inputs.q (d_k): got " + shape_str(k.shape) + " vs " + shape_str(q.shape));
  if (v.shape[o] != n_k) fail("inputs.v must have as many rows as inputs.k (n_k): got " + shape_str(v.shape) + " vs " + shape_str(k.shape));
  const ConfigLimits& L = config_limits();
  if (H > L.max_heads) fail("inputs.q has " + std::to_string(H) + " heads (at most " + std::to_string(L.max_heads) + ")");
  if (n_q > L.max_tokens || n_k > L.max_tokens) fail("inputs: at most " + std::to_string(L.max_tokens) + " rows in q and k");
  if (d_k > L.max_head_dim || d_v > L.max_head_dim) fail("inputs: d_k and d_v must be at most " + std::to_string(L.max_head_dim));
  if (heads_given && c->heads != H)
    fail("heads (" + std::to_string(c->heads) + ") does not match the " + std::to_string(H) + " head(s) of inputs.q " + shape_str(q.shape));
  if (dk_given && c->d_k != d_k) fail("d_k (" + std::to_string(c->d_k) + ") does not match inputs.q's width " + std::to_string(d_k));
  if (dv_given && c->d_v != d_v) fail("d_v (" + std::to_string(c->d_v) + ") does not match inputs.v's width " + std::to_string(d_v));
  c->heads = H;
  c->d_k = d_k;
  c->d_v = d_v;
  c->inputs.present = true;
  c->inputs.q = tensor_heads(q);
  c->inputs.k = tensor_heads(k);
  c->inputs.v = tensor_heads(v);
  // Labels: "tokens" label query rows and "key_tokens" key rows when their lengths fit; q0…/k0… otherwise.
  if (int(c->tokens.size()) != n_q) c->tokens = row_labels("q", n_q);
  c->cross = true;  // keys are their own rows (even when n_q == n_k, k need not equal q)
  if (int(c->key_tokens.size()) != n_k) c->key_tokens = row_labels("k", n_k);

  // The kind's extra parameters (attention_kind_info: W [d_k, d_k]; or W, U [d_a, d_k] and v_a [d_a]).
  const AttentionExtras extras = attention_kind_info(c->attention.kind).extras;
  const std::string kind = attention_kind_name(c->attention.kind);
  const bool w_u_v = extras == ATTENTION_EXTRA_W_U_V;
  if (const json* w = field(in, "W")) {
    const Tensor t = parse_tensor(*w, "inputs.W", 2, 2);
    if (extras == ATTENTION_EXTRA_W && (t.shape[0] != d_k || t.shape[1] != d_k))
      fail("inputs.W must be [d_k, d_k] = [" + std::to_string(d_k) + ", " + std::to_string(d_k) + "] for kind " + kind + " (got " + shape_str(t.shape) + ")");
    if (w_u_v && t.shape[1] != d_k)
      fail("inputs.W must be [d_a, d_k] with d_k=" + std::to_string(d_k) + " for kind " + kind + " (got " + shape_str(t.shape) + ")");
    c->inputs.has_w = true;
    c->inputs.w = Eigen::Map<const Mat>(t.data.data(), t.shape[0], t.shape[1]);
    if (extras == ATTENTION_EXTRA_NONE) c->warnings.push_back("inputs.W is not used by kind " + kind);
  }
  if (const json* u = field(in, "U")) {
    const Tensor t = parse_tensor(*u, "inputs.U", 2, 2);
    if (w_u_v && t.shape[1] != d_k)
      fail("inputs.U must be [d_a, d_k] with d_k=" + std::to_string(d_k) + " (got " + shape_str(t.shape) + ")");
    c->inputs.has_u = true;
    c->inputs.u = Eigen::Map<const Mat>(t.data.data(), t.shape[0], t.shape[1]);
    if (!w_u_v) c->warnings.push_back("inputs.U is only used by kind additive");
  }
  if (const json* va = field(in, "v_a")) {
    const Tensor t = parse_tensor(*va, "inputs.v_a", 1, 1);
    c->inputs.has_v_a = true;
    c->inputs.v_a = Eigen::Map<const Vec>(t.data.data(), t.shape[0]);
    if (!w_u_v) c->warnings.push_back("inputs.v_a is only used by kind additive");
  }
  if (w_u_v) {
    // d_a comes from whichever of W, U, v_a is given; all given ones must agree.
    int d_a = -1;
    std::string from;
    auto agree = [&](bool has, int rows, const char* name) {
      if (!has) return;
      if (d_a >= 0 && rows != d_a)
        fail(std::string("inputs.") + name + " has " + std::to_string(rows) + " rows but " + from + " has " + std::to_string(d_a) + " (d_a must agree)");
      if (d_a < 0) { d_a = rows; from = std::string("inputs.") + name; }
    };
    agree(c->inputs.has_w, int(c->inputs.w.rows()), "W");
    agree(c->inputs.has_u, int(c->inputs.u.rows()), "U");
    agree(c->inputs.has_v_a, int(c->inputs.v_a.size()), "v_a");
    if (d_a > L.max_head_dim) fail("inputs: d_a must be at most " + std::to_string(L.max_head_dim));
    if (d_a >= 0) c->d_a = d_a;
  }
}

}  // namespace

const ConfigLimits& config_limits() {
  static const ConfigLimits limits;
  return limits;
}

const char* attention_kind_name(AttentionKind kind) { return attention_kind_info(kind).name; }

int config_trace_layers(const Config& c) {
  return c.mode == MODEL_MODE_TRANSFORMER ? c.layers : c.mode == MODEL_MODE_SEQ2SEQ ? c.layers + 2 * c.decoder_layers : 1;
}

double config_trace_bytes(const Config& c) {
  if (c.mode == MODEL_MODE_SEQ2SEQ) {  // encoder n_s x n_s; decoder self n_t x n_t and cross n_t x n_s
    const double s = c.n_s(), t = c.n_q();
    return (c.layers * s * s + c.decoder_layers * (t * t + t * s)) * c.heads * sizeof(float) * 2.0;
  }
  return double(config_trace_layers(c)) * c.heads * double(c.n_q()) * double(c.n_k()) * sizeof(float) * 2.0;
}

float AttentionSpec::scale_divisor(int d_k) const {
  switch (scale_kind) {
    case SCALE_KIND_SQRT_DK: return std::sqrt(float(d_k));
    case SCALE_KIND_DK: return float(d_k);
    case SCALE_KIND_NONE: return 1.0f;
    case SCALE_KIND_NUMBER: return scale_value;
  }
  return 1.0f;
}

// obj.scale (path "attention" or "cross_attention"): a spelling or a positive number; absent: a's stay (attention's
// come from the table first).
static void parse_scale(const json& obj, const char* path, AttentionSpec* a) {
  const json* s = field(obj, "scale");
  if (!s) return;
  if (s->is_number()) {
    a->scale_kind = SCALE_KIND_NUMBER;
    a->scale_value = positive_number(*s, std::string(path) + ".scale");
  } else {
    a->scale_kind = table_enum<ScaleKind>(obj, path, "scale");
  }
}

// cross_attention.* (mode seq2seq): each field defaults to attention's (already parsed into c).
static void parse_cross_attention(const json& j, Config* c) {
  const json empty = json::object();
  const bool seq2seq = c->mode == MODEL_MODE_SEQ2SEQ;
  const json* cat = field(j, "cross_attention");
  if (cat && !seq2seq) fail("cross_attention needs mode \"seq2seq\" (the decoder's attention over the source)");
  const json& ca = cat ? *cat : empty;
  check_known_keys(ca, "cross_attention");
  AttentionSpec& x = c->cross_attention;
  x = c->attention;  // every field defaults to attention's; the mask is set with attention's (its padding applies)
  if (field(ca, "kind")) x.kind = table_enum<AttentionKind>(ca, "cross_attention", "kind");
  parse_scale(ca, "cross_attention", &x);
  if (const json* tp = field(ca, "temperature")) x.temperature = positive_number(*tp, "cross_attention.temperature");
}

// Mode seq2seq's tokens: source (source_tokens) and target (target_tokens); text, tokens and inputs do not apply.
static void parse_seq2seq_tokens(const json& j, Config* c) {
  for (const char* key : {"text", "tokens", "key_text", "key_tokens", "inputs"})
    if (field(j, key)) fail(std::string(key) + " does not apply to mode \"seq2seq\" (it takes source and target)");
  auto side = [&](const char* text_key, const char* tokens_key, std::vector<std::string>* out) {
    if (const json* tk = field(j, tokens_key)) *out = parse_tokens(*tk, tokens_key);
    else if (field(j, text_key)) *out = tokenize_field(j, text_key, c->tokenizer);
    else fail(std::string("mode \"seq2seq\" needs ") + text_key + " (or " + tokens_key + ")");
    if (out->empty())
      fail(field(j, tokens_key) ? std::string(tokens_key) + " must not be empty"
                                : std::string(text_key) + " has no tokens (it is empty or only white space)");
  };
  side("source", "source_tokens", &c->source_tokens);
  side("target", "target_tokens", &c->tokens);
}

// Mode pretrained (SPEC §9): what the model fixes is refused by name; the rest is its own fields, text and the
// attention's temperature and mask (their indices checked once the text is tokenized: pretrained_request).
static void refuse_fixed(const json& obj, const std::string& path) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string p = join(path, it.key().c_str());
    const ConfigField& f = config_field(p);
    if (!config_field_applies(f, MODEL_MODE_PRETRAINED))
      fail(p + " is fixed by the model in mode \"pretrained\" (its config.json gives it; remove the field)");
    if (f.type == CONFIG_FIELD_TYPE_OBJECT && it.value().is_object()) refuse_fixed(it.value(), p);
  }
}

static void parse_pretrained(const json& j, Config* c) {
  refuse_fixed(j, "");
  ConfigPretrained& p = c->pretrained;
  if (const json* m = field(j, "model")) {
    if (m->is_string() && !m->get<std::string>().empty()) p.model = m->get<std::string>();
    else if (m->is_number_integer() && m->get<int64_t>() >= 0) p.model_handle = m->get<int64_t>();
    else fail("model must be the model folder (a path or a URL, a string)" + got(*m));
  }
  if (const json* t = field(j, "text")) {
    if (!t->is_string()) fail("text must be a string" + got(*t));
    if (t->get<std::string>().size() > config_limits().max_text_bytes) fail("text is too long (at most 1 MiB)");
    c->text = t->get<std::string>();
  }
  if (const json* ids = field(j, "token_ids")) {
    if (!ids->is_array()) fail("token_ids must be an array of token ids" + got(*ids));
    if (ids->size() > size_t(config_limits().max_tokens))
      fail("token_ids has " + std::to_string(ids->size()) + " tokens (at most " + std::to_string(config_limits().max_tokens) + ")");
    for (size_t i = 0; i < ids->size(); ++i)
      p.token_ids.push_back(as_int((*ids)[i], "token_ids[" + std::to_string(i) + "]", 0, 1 << 30));
    p.has_token_ids = true;
  }
  p.add_special_tokens = table_bool(j, "", "add_special_tokens");
  if (const json* ab = field(j, "ablate")) {
    if (!ab->is_array()) fail("ablate must be an array of [layer, head] pairs" + got(*ab));
    if (ab->size() > 4096) fail("ablate has more than 4096 entries");
    for (size_t i = 0; i < ab->size(); ++i) {
      const std::string ip = "ablate[" + std::to_string(i) + "]";
      const json& e = (*ab)[i];
      if (!e.is_array() || e.size() != 2) fail(ip + " must be a [layer, head] pair" + got(e));
      p.ablate.emplace_back(int(as_int(e[0], ip + "[0]", 0, 4096)), int(as_int(e[1], ip + "[1]", 0, 4096)));
    }
  }
  p.logits = table_enum<ConfigLogits>(j, "", "logits");
  const json empty = json::object();
  const json* att = field(j, "attention");
  const json& a = att ? *att : empty;
  check_known_keys(a, "attention");
  c->attention.temperature = table_number(a, "attention", "temperature");
  if (const json* m = field(a, "mask")) parse_mask(*m, "attention.mask", c);
}

static void config_parse_or_throw(const json& j, Config* c) {
  const ConfigLimits& L = config_limits();
  check_known_keys(j, "");
  c->tokenizer = table_enum<TokenizerKind>(j, "", "tokenizer");
  c->seed = uint64_t(field(j, "seed") ? as_int(*field(j, "seed"), "seed", 0, config_field("seed").max)
                                      : config_default_json("seed").get<long long>());
  c->text = config_default_json("text").get<std::string>();
  c->mode = table_enum<ModelMode>(j, "", "mode");
  if (c->mode == MODEL_MODE_PRETRAINED) {
    c->text = config_default_json("text").get<std::string>();
    return parse_pretrained(j, c);
  }
  c->d_model = table_int(j, "", "d_model");
  const bool heads_given = field(j, "heads") != nullptr;
  c->heads = table_int(j, "", "heads");
  const bool dk_given = field(j, "d_k") != nullptr, dv_given = field(j, "d_v") != nullptr;
  c->d_k = table_int(j, "", "d_k");
  c->d_v = table_int(j, "", "d_v");

  // attention.*
  const json empty = json::object();
  const json* att = field(j, "attention");
  const json& a = att ? *att : empty;
  check_known_keys(a, "attention");
  c->attention.kind = table_enum<AttentionKind>(a, "attention", "kind");
  c->attention.scale_kind = ScaleKind(config_field("attention.scale").default_value);
  parse_scale(a, "attention", &c->attention);
  c->attention.temperature = table_number(a, "attention", "temperature");

  // transformer.*
  const json* tr = field(j, "transformer");
  const json& t = tr ? *tr : empty;
  check_known_keys(t, "transformer");
  c->layers = table_int(t, "transformer", "layers");
  c->d_ff = table_int(t, "transformer", "d_ff");
  c->activation = table_enum<ActivationKind>(t, "transformer", "activation");
  c->norm_first = table_bool(t, "transformer", "norm_first");
  c->positional = table_enum<PositionalKind>(t, "transformer", "positional");
  c->rope_base = table_number(t, "transformer", "rope_base");
  const bool seq2seq = c->mode == MODEL_MODE_SEQ2SEQ;
  if (field(t, "decoder_layers") && !seq2seq) fail("transformer.decoder_layers needs mode \"seq2seq\" (the encoder-decoder)");
  c->decoder_layers = table_int(t, "transformer", "decoder_layers", c->layers);

  parse_cross_attention(j, c);

  // Tokens. Mode seq2seq: source and target (the decoder's input as given); the other modes: text or tokens.
  for (const char* key : {"source", "target", "source_tokens", "target_tokens"})
    if (field(j, key) && !seq2seq) fail(std::string(key) + " needs mode \"seq2seq\" (other modes take text or tokens)");
  if (seq2seq) {
    parse_seq2seq_tokens(j, c);
  } else if (const json* tk = field(j, "tokens")) {
    c->tokens = parse_tokens(*tk, "tokens");
  } else if (field(j, "text")) {
    c->text = j["text"].is_string() ? j["text"].get<std::string>() : c->text;
    c->tokens = tokenize_field(j, "text", c->tokenizer);
  } else if (!field(j, "inputs")) {
    c->tokens = tokenizer_split(c->tokenizer, c->text);
  }
  if (const json* kt = field(j, "key_tokens")) {
    c->key_tokens = parse_tokens(*kt, "key_tokens");
    c->cross = true;
  } else if (field(j, "key_text")) {
    c->key_tokens = tokenize_field(j, "key_text", c->tokenizer);
    c->cross = true;
  }

  // Dimensions.
  if (const json* in = field(j, "inputs")) {
    if (c->mode != MODEL_MODE_ATTENTION) fail("inputs: only mode \"attention\" takes explicit inputs (got mode \"transformer\")");
    if (field(j, "key_text") && !field(j, "key_tokens")) fail("key_text cannot be used with inputs (label key rows with key_tokens)");
    parse_inputs(*in, c, heads_given, dk_given, dv_given);
  } else {
    if (c->tokens.empty()) fail(field(j, "tokens") ? "tokens must not be empty" : "text has no tokens (it is empty or only white space)");
    if (c->cross && c->key_tokens.empty()) fail(field(j, "key_tokens") ? "key_tokens must not be empty" : "key_text has no tokens");
    if (c->cross && c->mode == MODEL_MODE_TRANSFORMER)
      fail("key_text/key_tokens (cross-attention) need mode \"attention\": the Transformer encoder is self-attention only");
    const bool divides = c->d_model % c->heads == 0;
    if ((!dk_given || !dv_given) && !divides)
      fail("heads must divide d_model (got d_model=" + std::to_string(c->d_model) + ", heads=" + std::to_string(c->heads) + ")");
    if (!dk_given) c->d_k = c->d_model / c->heads;
    if (!dv_given) c->d_v = c->d_model / c->heads;
    if (c->mode != MODEL_MODE_ATTENTION) {
      if (!divides)
        fail("heads must divide d_model (got d_model=" + std::to_string(c->d_model) + ", heads=" + std::to_string(c->heads) + ")");
      if (c->d_k != c->d_model / c->heads || c->d_v != c->d_model / c->heads)
        fail("d_k and d_v must equal d_model / heads in mode \"" + std::string(config_enum_name("mode", c->mode)) + "\" (got d_k=" + std::to_string(c->d_k) + ", d_v=" +
             std::to_string(c->d_v) + ", d_model / heads=" + std::to_string(c->d_model / c->heads) + ")");
    }
  }
  // Grouped-query heads, and positions inside attention.
  c->kv_heads = table_int(j, "", "kv_heads", c->heads);
  if (c->kv_heads > c->heads || c->heads % c->kv_heads != 0)
    fail("kv_heads must divide heads (got heads=" + std::to_string(c->heads) + ", kv_heads=" + std::to_string(c->kv_heads) + ")");
  if (c->inputs.present && c->kv_heads != c->heads)
    fail("kv_heads: explicit inputs give k and v for every query head (kv_heads applies to projected heads)");
  if (const std::string why = positional_info(c->positional).check(*c); !why.empty()) fail(why);
  const bool w_u_v = attention_kind_info(c->attention.kind).extras == ATTENTION_EXTRA_W_U_V;  // d_a: the rows of W and U
  c->d_a = table_int(a, "attention", "d_a", c->inputs.present && w_u_v &&
                                                                   (c->inputs.has_w || c->inputs.has_u || c->inputs.has_v_a)
                                                               ? c->d_a : c->d_k);
  if (c->inputs.present && w_u_v && field(a, "d_a") &&
      (c->inputs.has_w || c->inputs.has_u || c->inputs.has_v_a)) {
    const int from_inputs = c->inputs.has_w ? int(c->inputs.w.rows()) : c->inputs.has_u ? int(c->inputs.u.rows()) : int(c->inputs.v_a.size());
    if (from_inputs != c->d_a)
      fail("attention.d_a (" + std::to_string(c->d_a) + ") does not match the inputs' d_a (" + std::to_string(from_inputs) + ")");
  }

  // Masks (indices are checked against the resolved n_q and n_k; seq2seq: the source, n_s x n_s).
  if (const json* m = field(a, "mask")) parse_mask(*m, "attention.mask", c);
  c->cross_attention.mask = MaskSpec();
  c->cross_attention.mask.padding = c->attention.mask.padding;  // memory_key_padding_mask: the source's padded keys

  // Memory: every head's scores and weights are kept for the UI and the result.
  const int used_layers = config_trace_layers(*c);
  const double bytes = config_trace_bytes(*c);
  if (bytes > L.max_trace_bytes && c->mode == MODEL_MODE_SEQ2SEQ) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "config too large: the encoder-decoder's attention matrices (%d x %d source and %d target tokens) need %.0f MB (at most %.0f MB)",
                  c->layers, c->n_s(), c->n_q(), bytes / 1048576.0, L.max_trace_bytes / 1048576.0);
    fail(buf);
  }
  if (bytes > L.max_trace_bytes) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "config too large: %d layer(s) x %d head(s) x %d x %d attention matrices need %.0f MB (at most %.0f MB)",
                  used_layers, c->heads, c->n_q(), c->n_k(), bytes / 1048576.0, L.max_trace_bytes / 1048576.0);
    fail(buf);
  }
}

Config::Config() {
  static const Config defaults = [] {
    Config d{Config::Blank{}};
    config_parse_or_throw(json::object(), &d);
    d.tokens.clear();  // the text, not yet tokenized (as before any parse)
    return d;
  }();
  *this = defaults;
}

bool config_parse(const json& j, Config* out, std::string* error) {
  Config c{Config::Blank{}};
  try {
    config_parse_or_throw(j, &c);
  } catch (const ConfigError& e) {
    if (error) *error = e.message;
    return false;
  } catch (const json::exception& e) {  // defensive: a type mismatch missed above still names nothing worse than JSON
    if (error) *error = std::string("config: ") + e.what();
    return false;
  }
  *out = std::move(c);
  return true;
}

// Deepest bracket nesting of JSON text, outside strings: refused before parsing so recursion stays bounded.
static int json_nesting_depth(const std::string& text);

bool json_nesting_ok(const std::string& text, int max_depth) { return json_nesting_depth(text) <= max_depth; }

static int json_nesting_depth(const std::string& text) {
  int depth = 0, max_depth = 0;
  bool in_str = false, esc = false;
  for (char ch : text) {
    if (in_str) {
      if (esc) esc = false;
      else if (ch == '\\') esc = true;
      else if (ch == '"') in_str = false;
    } else if (ch == '"') {
      in_str = true;
    } else if (ch == '[' || ch == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if (ch == ']' || ch == '}') {
      --depth;
    }
  }
  return max_depth;
}

bool config_parse_text(const std::string& text, Config* out, std::string* error) {
  if (!json_nesting_ok(text)) {
    if (error) *error = "config: JSON is nested too deeply (at most 32 levels)";
    return false;
  }
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 10: syntax error while parsing value - X"
    // -> "config: invalid JSON at line 1, column 10: X"
    std::string what = e.what();
    for (const char* noise : {"parse error ", "syntax error while parsing value - ", "syntax error while parsing object key - ",
                              "syntax error while parsing object separator - ", "syntax error while parsing object - ",
                              "syntax error while parsing array - "}) {
      const size_t at = what.find(noise);
      if (at != std::string::npos) what.erase(at, std::strlen(noise));
    }
    const size_t p = what.find("] ");
    if (error) *error = "config: invalid JSON " + (p == std::string::npos ? what : what.substr(p + 2));
    return false;
  } catch (const json::exception& e) {  // e.g. out_of_range.406 "number overflow parsing '1e999'" (found by fuzz_config)
    const std::string what = e.what();
    const size_t p = what.find("] ");
    if (error) *error = "config: invalid JSON: " + (p == std::string::npos ? what : what.substr(p + 2));
    return false;
  }
  if (!j.is_object()) {
    if (error) *error = std::string("config must be a JSON object (got ") + j.type_name() + ")";
    return false;
  }
  return config_parse(j, out, error);
}

}  // namespace attnplay
