// attnplay model: the config field table. Contracts: config_fields.h; meanings: ../shared/SPEC.md §2.
#include "model/config_fields.h"

#include "core/assert.h"
#include "model/config.h"
#include "model/network.h"

#include <nlohmann/json.hpp>

namespace attnplay {

namespace {

using json = nlohmann::json;

// A row. default_json: the default as JSON text ("null": derived or none); default_text: the README's words for a
// derived default (empty: default_json itself).
ConfigField row(const char* parent, const char* key, ConfigFieldType type, const char* default_json, const char* help,
                const char* default_text = "") {
  ConfigField f;
  f.parent = parent;
  f.key = key;
  f.type = type;
  f.default_json = default_json;
  f.default_text = *default_text ? default_text : (f.default_json == "null" ? "" : f.default_json);
  f.help = help;
  const json d = json::parse(f.default_json);
  if (d.is_number_integer()) f.default_value = d.get<int>();
  if (d.is_boolean()) f.default_value = d.get<bool>() ? 1 : 0;
  return f;
}

ConfigField int_row(const char* parent, const char* key, long long min, long long max, const char* default_json,
                    const char* help, const char* default_text = "") {
  ConfigField f = row(parent, key, CONFIG_FIELD_TYPE_INT, default_json, help, default_text);
  f.min = min;
  f.max = max;
  return f;
}

// default_name: the default's spelling (its enum value becomes default_value).
ConfigField enum_row(const char* parent, const char* key, std::vector<ConfigEnumValue> values, const char* default_name,
                     const char* help) {
  ConfigField f = row(parent, key, CONFIG_FIELD_TYPE_ENUM, json(default_name).dump().c_str(), help);
  f.values = std::move(values);
  bool found = false;
  for (const ConfigEnumValue& v : f.values)
    if (std::string(v.name) == default_name) f.default_value = v.value, found = true;
  ATTNPLAY_ASSERT(found);
  return f;
}

ConfigField with_url(ConfigField f, const char* url) {
  f.url = url;
  return f;
}

ConfigField input(ConfigField f) {
  f.input = true;
  return f;
}

ConfigField in_app(ConfigField f) {
  f.in_app = true;
  return f;
}

ConfigField modes(ConfigField f, int m) {
  f.modes = m;
  return f;
}

// The kinds' spellings: core's kind table (attention_kinds.cpp), in its order.
std::vector<ConfigEnumValue> config_field_kind_values() {
  std::vector<ConfigEnumValue> v;
  for (int k = 0; k < ATTENTION_KIND_COUNT; ++k) v.push_back({attention_kind_info(AttentionKind(k)).name, k});
  return v;
}

// attention.kind's help: every kind's score, as its row defines it.
std::string kind_help() {
  std::string h;
  for (int k = 0; k < ATTENTION_KIND_COUNT; ++k) {
    const AttentionKindInfo& i = attention_kind_info(AttentionKind(k));
    h += std::string(k ? ", " : "") + i.formula + (i.scaled ? " / scale" : "") + (*i.known_as ? std::string(" (") + i.known_as + ")" : "");
  }
  return h;
}

// The positional schemes' spellings and help: network.cpp's table (positional_info), in its order.
std::vector<ConfigEnumValue> positional_kind_values() {
  std::vector<ConfigEnumValue> v;
  for (int k = 0; k < POSITIONAL_KIND_COUNT; ++k) v.push_back({positional_info(PositionalKind(k)).name, k});
  return v;
}

std::string positional_help() {
  std::string in_x, inside;
  for (int k = 0; k < POSITIONAL_KIND_COUNT; ++k) {
    const PositionalInfo& p = positional_info(PositionalKind(k));
    std::string& list = std::string(p.where) == "x" ? in_x : inside;
    if (*p.where) list += (list.empty() ? "" : ", ") + std::string(p.name);
  }
  return "added to x (" + in_x + ") or inside attention (" + inside + ")";
}

std::vector<ConfigEnumValue> scale_values() {
  return {{"sqrt_dk", SCALE_KIND_SQRT_DK}, {"dk", SCALE_KIND_DK}, {"none", SCALE_KIND_NONE}};
}

std::vector<ConfigField> build() {
  const ConfigLimits& L = config_limits();
  std::vector<ConfigField> t;
  const int text_modes = CONFIG_FIELD_MODES_TEXT, s2s = CONFIG_FIELD_MODES_SEQ2SEQ, seeded = CONFIG_FIELD_MODES_SEEDED,
            pt = CONFIG_FIELD_MODES_PRETRAINED;
  // Top level, in the order "unknown field" messages list them.
  t.push_back(input(in_app(modes(with_url(row("", "text", CONFIG_FIELD_TYPE_TEXT, "\"The cat sat on the mat.\"", "tokenised by `tokenizer` (mode pretrained: the model's tokenizer.json); `tokens` overrides it"), "text"), text_modes | pt))));
  t.push_back(input(modes(row("", "tokens", CONFIG_FIELD_TYPE_TOKENS, "null", "the query tokens as given"), text_modes)));
  t.push_back(input(modes(row("", "key_text", CONFIG_FIELD_TYPE_TEXT, "null", "mode attention: keys and values from another text (cross-attention)"), text_modes)));
  t.push_back(input(modes(row("", "key_tokens", CONFIG_FIELD_TYPE_TOKENS, "null", "the same as tokens"), text_modes)));
  t.push_back(in_app(modes(with_url(enum_row("", "tokenizer", {{"words", TOKENIZER_KIND_WORDS}, {"whitespace", TOKENIZER_KIND_WHITESPACE}, {"chars", TOKENIZER_KIND_CHARS}},
                                             "words", "words: spaces and punctuation; chars: Unicode code points"), "tokenizer"), seeded)));
  t.push_back(in_app(modes(with_url(int_row("", "seed", 0, 9007199254740991ll, "1", "every random weight and input, the same native and on the web"), "seed"), seeded)));
  t.push_back(in_app(with_url(enum_row("", "mode", {{"attention", MODEL_MODE_ATTENTION}, {"transformer", MODEL_MODE_TRANSFORMER},
                                                    {"seq2seq", MODEL_MODE_SEQ2SEQ}, {"pretrained", MODEL_MODE_PRETRAINED}},
                                       "attention", "one attention block, the tiny Transformer with logits, an encoder-decoder, or a real checkpoint (SPEC §9)"), "mode")));
  t.push_back(in_app(modes(with_url(int_row("", "d_model", 1, L.max_d_model, "16", "width of the token vectors"), "d_model"), seeded)));
  t.push_back(in_app(modes(with_url(int_row("", "heads", 1, L.max_heads, "2", "attention heads"), "heads"), seeded)));
  t.push_back(modes(int_row("", "kv_heads", 1, L.max_heads, "null", "key/value heads: fewer is grouped-query, 1 multi-query; must divide heads", "heads"), seeded));
  t.push_back(in_app(modes(int_row("", "d_k", 1, L.max_head_dim, "null", "query/key width of a head", "d_model / heads"), seeded)));
  t.push_back(in_app(modes(int_row("", "d_v", 1, L.max_head_dim, "null", "value width of a head", "d_model / heads"), seeded)));
  t.push_back(input(modes(row("", "source", CONFIG_FIELD_TYPE_TEXT, "null", "mode seq2seq: the encoder's input, tokenised by `tokenizer`"), s2s)));
  t.push_back(input(modes(row("", "target", CONFIG_FIELD_TYPE_TEXT, "null", "mode seq2seq: the decoder's input as given (training shifts it itself)"), s2s)));
  t.push_back(input(modes(row("", "source_tokens", CONFIG_FIELD_TYPE_TOKENS, "null", "mode seq2seq: the source as tokens"), s2s)));
  t.push_back(input(modes(row("", "target_tokens", CONFIG_FIELD_TYPE_TOKENS, "null", "mode seq2seq: the target as tokens"), s2s)));
  t.push_back(row("", "attention", CONFIG_FIELD_TYPE_OBJECT, "null", "the attention block"));
  t.push_back(modes(row("", "cross_attention", CONFIG_FIELD_TYPE_OBJECT, "null", "mode seq2seq: the decoder's attention over the source"), s2s));
  t.push_back(modes(row("", "transformer", CONFIG_FIELD_TYPE_OBJECT, "null", "the tiny Transformer (mode transformer)"), seeded));
  t.push_back(input(modes(row("", "inputs", CONFIG_FIELD_TYPE_OBJECT, "null", "mode attention: explicit q, k, v instead of projections"), text_modes)));
  // Mode pretrained (SPEC §9)
  t.push_back(modes(with_url(row("", "model", CONFIG_FIELD_TYPE_MODEL, "null", "mode pretrained: the Hugging Face model folder (CLI: a path; the page: a URL relative to it, or files opened); `?model=` alone implies mode pretrained"), "model"), pt));
  t.push_back(input(modes(row("", "token_ids", CONFIG_FIELD_TYPE_IDS, "null", "mode pretrained: the input as token ids (overrides text)"), pt)));
  t.push_back(modes(row("", "add_special_tokens", CONFIG_FIELD_TYPE_BOOL, "true", "mode pretrained: text gets the tokenizer's special tokens ([CLS] ... [SEP], <s>)"), pt));
  t.push_back(modes(row("", "ablate", CONFIG_FIELD_TYPE_INDICES, "[]", "mode pretrained: [layer, head] pairs whose context is 0 before the output projection"), pt));
  t.push_back(modes(enum_row("", "logits", {{"all", CONFIG_LOGITS_ALL}, {"last", CONFIG_LOGITS_LAST}, {"none", CONFIG_LOGITS_NONE}},
                             "all", "mode pretrained: every row's logits, the last row's ([1, vocab]), or none"), pt));
  // attention.*
  t.push_back(in_app(modes(with_url(enum_row("attention", "kind", config_field_kind_values(), "scaled_dot", kind_help().c_str()), "kind"), seeded)));
  ConfigField scale = enum_row("attention", "scale", scale_values(), "sqrt_dk", "divisor of scaled_dot and general scores, or a positive number");
  scale.type = CONFIG_FIELD_TYPE_ENUM_OR_NUMBER;
  t.push_back(in_app(modes(scale, seeded)));
  t.push_back(in_app(row("attention", "temperature", CONFIG_FIELD_TYPE_NUMBER, "1.0", "divides every kind's scores (> 0)", "1")));
  t.push_back(row("attention", "mask", CONFIG_FIELD_TYPE_OBJECT, "null", "which keys each query may see"));
  t.push_back(modes(int_row("attention", "d_a", 1, L.max_head_dim, "null", "hidden width of additive attention", "d_k"), seeded));
  // attention.mask.*
  ConfigField causal = row("attention.mask", "causal", CONFIG_FIELD_TYPE_BOOL, "false", "query i sees keys j <= i");
  causal.values = {{"none", 0}, {"causal", 1}};  // the URL's spellings
  t.push_back(in_app(with_url(causal, "mask")));
  ConfigField window = int_row("attention.mask", "window", 0, L.max_tokens, "null", "query i sees keys with |i - j| <= window", "null");
  window.default_value = -1;  // no window (MaskSpec::window)
  t.push_back(in_app(window));
  t.push_back(in_app(row("attention.mask", "padding", CONFIG_FIELD_TYPE_INDICES, "[]", "key indices no query may see")));
  t.push_back(in_app(row("attention.mask", "cells", CONFIG_FIELD_TYPE_INDICES, "[]", "[query, key] pairs that are masked")));
  // transformer.*
  t.push_back(in_app(int_row("transformer", "layers", 1, L.max_layers, "2", "encoder layers")));
  t.push_back(modes(int_row("transformer", "decoder_layers", 1, L.max_layers, "null", "mode seq2seq: decoder layers", "layers"), s2s));
  t.push_back(in_app(int_row("transformer", "d_ff", 1, L.max_d_ff, "64", "feed-forward width")));
  t.push_back(in_app(enum_row("transformer", "activation", {{"relu", ACTIVATION_KIND_RELU}, {"gelu", ACTIVATION_KIND_GELU}},
                              "relu", "the feed-forward activation (gelu: exact, erf)")));
  t.push_back(in_app(row("transformer", "norm_first", CONFIG_FIELD_TYPE_BOOL, "false", "pre-norm layers instead of post-norm")));
  t.push_back(in_app(enum_row("transformer", "positional", positional_kind_values(), "sinusoidal", positional_help().c_str())));
  t.push_back(row("transformer", "rope_base", CONFIG_FIELD_TYPE_NUMBER, "10000", "RoPE's base: θ_i = base^(-2i/d_k)"));
  // cross_attention.* (mode seq2seq; each defaults to attention's)
  ConfigField ck = enum_row("cross_attention", "kind", config_field_kind_values(), "scaled_dot",
                            "the kind of the decoder's attention over the source: compare additive (Bahdanau), general (Luong), scaled dot");
  ck.default_json = "null";
  ck.default_text = "attention.kind";
  t.push_back(ck);
  ConfigField cs = enum_row("cross_attention", "scale", scale_values(), "sqrt_dk", "as attention.scale, for the cross-attention");
  cs.type = CONFIG_FIELD_TYPE_ENUM_OR_NUMBER;
  cs.default_json = "null";
  cs.default_text = "attention.scale";
  t.push_back(cs);
  t.push_back(row("cross_attention", "temperature", CONFIG_FIELD_TYPE_NUMBER, "null", "as attention.temperature", "attention.temperature"));
  // inputs.*
  t.push_back(row("inputs", "q", CONFIG_FIELD_TYPE_TENSOR, "null", "[n_q, d_k] or [heads, n_q, d_k]"));
  t.push_back(row("inputs", "k", CONFIG_FIELD_TYPE_TENSOR, "null", "[n_k, d_k] or [heads, n_k, d_k]"));
  t.push_back(row("inputs", "v", CONFIG_FIELD_TYPE_TENSOR, "null", "[n_k, d_v] or [heads, n_k, d_v]"));
  t.push_back(row("inputs", "W", CONFIG_FIELD_TYPE_TENSOR, "null", "general: [d_k, d_k]; additive: [d_a, d_k]", "seeded"));
  t.push_back(row("inputs", "U", CONFIG_FIELD_TYPE_TENSOR, "null", "additive: [d_a, d_k]", "seeded"));
  t.push_back(row("inputs", "v_a", CONFIG_FIELD_TYPE_TENSOR, "null", "additive: [d_a]", "seeded"));
  return t;
}

const char* type_name(const ConfigField& f) {
  switch (f.type) {
    case CONFIG_FIELD_TYPE_TEXT: return "string";
    case CONFIG_FIELD_TYPE_TOKENS: return "list of strings";
    case CONFIG_FIELD_TYPE_INT: return "integer";
    case CONFIG_FIELD_TYPE_NUMBER: return "number";
    case CONFIG_FIELD_TYPE_BOOL: return "boolean";
    case CONFIG_FIELD_TYPE_ENUM: return "string";
    case CONFIG_FIELD_TYPE_ENUM_OR_NUMBER: return "string or number";
    case CONFIG_FIELD_TYPE_INDICES: return "list";
    case CONFIG_FIELD_TYPE_IDS: return "list of integers";
    case CONFIG_FIELD_TYPE_MODEL: return "string";
    case CONFIG_FIELD_TYPE_TENSOR: return "nested lists";
    case CONFIG_FIELD_TYPE_OBJECT: return "object";
  }
  return "?";
}

}  // namespace

const std::vector<ConfigField>& config_fields() {
  static const std::vector<ConfigField> table = build();
  return table;
}

const ConfigField& config_field(const std::string& path) {
  for (const ConfigField& f : config_fields())
    if (f.path() == path) return f;
  ATTNPLAY_ASSERT(!"config_field: no such path");
  static const ConfigField none;
  return none;
}

const char* config_enum_name(const std::string& path, int value) {
  for (const ConfigEnumValue& v : config_field(path).values)
    if (v.value == value) return v.name;
  return "?";
}

bool config_enum_value(const std::string& path, const std::string& name, int* out) {
  for (const ConfigEnumValue& v : config_field(path).values)
    if (name == v.name) {
      *out = v.value;
      return true;
    }
  return false;
}

const nlohmann::json& config_default_json(const std::string& path) {
  static const std::vector<json> defaults = [] {
    std::vector<json> d;
    for (const ConfigField& f : config_fields()) d.push_back(json::parse(f.default_json));
    return d;
  }();
  const std::vector<ConfigField>& t = config_fields();
  for (size_t i = 0; i < t.size(); ++i)
    if (t[i].path() == path) return defaults[i];
  ATTNPLAY_ASSERT(!"config_default_json: no such path");
  return defaults[0];
}

const nlohmann::json& config_explicit_defaults() {
  static const json d = [] {
    json out = json::object();
    for (const ConfigField& f : config_fields()) {
      if (!f.in_app) continue;
      json* at = &out;  // the row's parent objects, made on the way
      for (size_t b = 0, e; !f.parent.empty() && b <= f.parent.size(); b = e + 1) {
        e = f.parent.find('.', b);
        if (e == std::string::npos) e = f.parent.size();
        at = &(*at)[f.parent.substr(b, e - b)];
      }
      (*at)[f.key] = json::parse(f.default_json);
    }
    return out;
  }();
  return d;
}

bool config_field_applies(const ConfigField& f, int mode) { return (f.modes & (1 << mode)) != 0; }

std::vector<std::string> config_fields_for_mode(int mode, bool applies) {
  std::vector<std::string> out;
  for (const ConfigField& f : config_fields())
    if (config_field_applies(f, mode) == applies) out.push_back(f.path());
  return out;
}

std::string config_fields_markdown() {
  std::string s = "| Field | Type | Range / values | Default | URL | Meaning |\n|---|---|---|---|---|---|\n";
  for (const ConfigField& f : config_fields()) {
    std::string range;
    if (f.type == CONFIG_FIELD_TYPE_INT) range = std::to_string(f.min) + " … " + std::to_string(f.max);
    if (f.type == CONFIG_FIELD_TYPE_NUMBER) range = "> 0";
    if (f.type == CONFIG_FIELD_TYPE_ENUM || f.type == CONFIG_FIELD_TYPE_ENUM_OR_NUMBER) {
      for (const ConfigEnumValue& v : f.values) range += (range.empty() ? "`" : ", `") + std::string(v.name) + "`";
      if (f.type == CONFIG_FIELD_TYPE_ENUM_OR_NUMBER) range += ", > 0";
    }
    std::string url = f.url ? std::string("`") + f.url + "`" : "";
    if (f.url && f.type == CONFIG_FIELD_TYPE_BOOL && f.values.size() == 2)
      url += std::string(" (`") + f.values[0].name + "` / `" + f.values[1].name + "`)";
    const std::string def = f.default_text.empty() ? "" : "`" + f.default_text + "`";
    std::string help;
    for (const char c : f.help) help += c == '|' ? std::string("\\|") : std::string(1, c);  // table cells
    s += "| `" + f.path() + "` | " + type_name(f) + " | " + range + " | " + def + " | " + url + " | " + help + " |\n";
  }
  return s;
}

}  // namespace attnplay
