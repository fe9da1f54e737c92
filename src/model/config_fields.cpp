// attnplay model: the config field table. Contracts: config_fields.h; meanings: ../shared/SPEC.md §2.
#include "model/config_fields.h"

#include "core/assert.h"
#include "model/config.h"

namespace attnplay {

namespace {

ConfigField row(const char* parent, const char* key, ConfigFieldType type, const char* default_text, const char* help) {
  ConfigField f;
  f.parent = parent;
  f.key = key;
  f.type = type;
  f.default_text = default_text;
  f.help = help;
  return f;
}

ConfigField int_row(const char* parent, const char* key, long long min, long long max, int def, const char* default_text,
                    const char* help) {
  ConfigField f = row(parent, key, CONFIG_FIELD_TYPE_INT, default_text, help);
  f.min = min;
  f.max = max;
  f.default_value = def;
  return f;
}

ConfigField enum_row(const char* parent, const char* key, std::vector<ConfigEnumValue> values, int def, const char* help) {
  ConfigField f = row(parent, key, CONFIG_FIELD_TYPE_ENUM, "", help);
  f.values = std::move(values);
  f.default_value = def;
  for (const ConfigEnumValue& v : f.values)
    if (v.value == def) f.default_text = std::string("\"") + v.name + "\"";
  return f;
}

ConfigField with_url(ConfigField f, const char* url) {
  f.url = url;
  return f;
}

std::vector<ConfigEnumValue> config_field_kind_values() {
  return {{"scaled_dot", ATTENTION_KIND_SCALED_DOT}, {"dot", ATTENTION_KIND_DOT}, {"general", ATTENTION_KIND_GENERAL},
          {"additive", ATTENTION_KIND_ADDITIVE}};
}

std::vector<ConfigField> build() {
  const ConfigLimits& L = config_limits();
  std::vector<ConfigField> t;
  // Top level, in the order "unknown field" messages list them.
  t.push_back(with_url(row("", "text", CONFIG_FIELD_TYPE_TEXT, "\"The cat sat on the mat.\"", "tokenised by `tokenizer`; `tokens` overrides it"), "text"));
  t.push_back(row("", "tokens", CONFIG_FIELD_TYPE_TOKENS, "", "the query tokens as given"));
  t.push_back(row("", "key_text", CONFIG_FIELD_TYPE_TEXT, "", "mode attention: keys and values from another text (cross-attention)"));
  t.push_back(row("", "key_tokens", CONFIG_FIELD_TYPE_TOKENS, "", "the same as tokens"));
  t.push_back(with_url(enum_row("", "tokenizer", {{"words", TOKENIZER_KIND_WORDS}, {"whitespace", TOKENIZER_KIND_WHITESPACE}, {"chars", TOKENIZER_KIND_CHARS}},
                                TOKENIZER_KIND_WORDS, "words: spaces and punctuation; chars: Unicode code points"), "tokenizer"));
  t.push_back(with_url(int_row("", "seed", 0, 9007199254740991ll, 1, "1", "every random weight and input, the same native and on the web"), "seed"));
  t.push_back(with_url(enum_row("", "mode", {{"attention", MODEL_MODE_ATTENTION}, {"transformer", MODEL_MODE_TRANSFORMER},
                                          {"seq2seq", MODEL_MODE_SEQ2SEQ}},
                                MODEL_MODE_ATTENTION, "one attention block, the tiny Transformer with logits, or an encoder-decoder"), "mode"));
  t.push_back(with_url(int_row("", "d_model", 1, L.max_d_model, 16, "16", "width of the token vectors"), "d_model"));
  t.push_back(with_url(int_row("", "heads", 1, L.max_heads, 2, "2", "attention heads"), "heads"));
  t.push_back(int_row("", "kv_heads", 1, L.max_heads, 0, "heads", "key/value heads: fewer is grouped-query, 1 multi-query; must divide heads"));
  t.push_back(int_row("", "d_k", 1, L.max_head_dim, 0, "d_model / heads", "query/key width of a head"));
  t.push_back(int_row("", "d_v", 1, L.max_head_dim, 0, "d_model / heads", "value width of a head"));
  t.push_back(row("", "source", CONFIG_FIELD_TYPE_TEXT, "", "mode seq2seq: the encoder's input, tokenised by `tokenizer`"));
  t.push_back(row("", "target", CONFIG_FIELD_TYPE_TEXT, "", "mode seq2seq: the decoder's input as given (training shifts it itself)"));
  t.push_back(row("", "source_tokens", CONFIG_FIELD_TYPE_TOKENS, "", "mode seq2seq: the source as tokens"));
  t.push_back(row("", "target_tokens", CONFIG_FIELD_TYPE_TOKENS, "", "mode seq2seq: the target as tokens"));
  t.push_back(row("", "attention", CONFIG_FIELD_TYPE_OBJECT, "", "the attention block"));
  t.push_back(row("", "cross_attention", CONFIG_FIELD_TYPE_OBJECT, "", "mode seq2seq: the decoder's attention over the source"));
  t.push_back(row("", "transformer", CONFIG_FIELD_TYPE_OBJECT, "", "the tiny Transformer (mode transformer)"));
  t.push_back(row("", "inputs", CONFIG_FIELD_TYPE_OBJECT, "", "mode attention: explicit q, k, v instead of projections"));
  // attention.*
  t.push_back(with_url(enum_row("attention", "kind", config_field_kind_values(), ATTENTION_KIND_SCALED_DOT, "q·k / scale, q·k, qᵀ W k / scale (Luong), v_aᵀ tanh(W q + U k) (Bahdanau)"), "kind"));
  ConfigField scale = enum_row("attention", "scale", {{"sqrt_dk", SCALE_KIND_SQRT_DK}, {"dk", SCALE_KIND_DK}, {"none", SCALE_KIND_NONE}},
                               SCALE_KIND_SQRT_DK, "divisor of scaled_dot and general scores, or a positive number");
  scale.type = CONFIG_FIELD_TYPE_ENUM_OR_NUMBER;
  t.push_back(scale);
  t.push_back(row("attention", "temperature", CONFIG_FIELD_TYPE_NUMBER, "1", "divides every kind's scores (> 0)"));
  t.push_back(row("attention", "mask", CONFIG_FIELD_TYPE_OBJECT, "", "which keys each query may see"));
  t.push_back(int_row("attention", "d_a", 1, L.max_head_dim, 0, "d_k", "hidden width of additive attention"));
  // attention.mask.*
  ConfigField causal = row("attention.mask", "causal", CONFIG_FIELD_TYPE_BOOL, "false", "query i sees keys j <= i");
  causal.values = {{"none", 0}, {"causal", 1}};  // the URL's spellings
  t.push_back(with_url(causal, "mask"));
  t.push_back(int_row("attention.mask", "window", 0, L.max_tokens, -1, "null", "query i sees keys with |i - j| <= window"));
  t.push_back(row("attention.mask", "padding", CONFIG_FIELD_TYPE_INDICES, "[]", "key indices no query may see"));
  t.push_back(row("attention.mask", "cells", CONFIG_FIELD_TYPE_INDICES, "[]", "[query, key] pairs that are masked"));
  // transformer.*
  t.push_back(int_row("transformer", "layers", 1, L.max_layers, 2, "2", "encoder layers"));
  t.push_back(int_row("transformer", "decoder_layers", 1, L.max_layers, 2, "layers", "mode seq2seq: decoder layers"));
  t.push_back(int_row("transformer", "d_ff", 1, L.max_d_ff, 64, "64", "feed-forward width"));
  t.push_back(enum_row("transformer", "activation", {{"relu", ACTIVATION_KIND_RELU}, {"gelu", ACTIVATION_KIND_GELU}},
                       ACTIVATION_KIND_RELU, "the feed-forward activation (gelu: exact, erf)"));
  ConfigField norm_first = row("transformer", "norm_first", CONFIG_FIELD_TYPE_BOOL, "false", "pre-norm layers instead of post-norm");
  t.push_back(norm_first);
  t.push_back(enum_row("transformer", "positional",
                       {{"sinusoidal", POSITIONAL_KIND_SINUSOIDAL}, {"learned", POSITIONAL_KIND_LEARNED}, {"none", POSITIONAL_KIND_NONE},
                        {"rope", POSITIONAL_KIND_ROPE}, {"alibi", POSITIONAL_KIND_ALIBI}},
                       POSITIONAL_KIND_SINUSOIDAL, "added to x (sinusoidal, learned) or inside attention (rope, alibi)"));
  t.push_back(row("transformer", "rope_base", CONFIG_FIELD_TYPE_NUMBER, "10000", "RoPE's base: θ_i = base^(-2i/d_k)"));
  // cross_attention.* (mode seq2seq; each defaults to attention's)
  ConfigField ck = enum_row("cross_attention", "kind", config_field_kind_values(), ATTENTION_KIND_SCALED_DOT,
                            "the kind of the decoder's attention over the source: compare additive (Bahdanau), general (Luong), scaled dot");
  ck.default_text = "attention.kind";
  t.push_back(ck);
  ConfigField cs = enum_row("cross_attention", "scale", {{"sqrt_dk", SCALE_KIND_SQRT_DK}, {"dk", SCALE_KIND_DK}, {"none", SCALE_KIND_NONE}},
                            SCALE_KIND_SQRT_DK, "as attention.scale, for the cross-attention");
  cs.type = CONFIG_FIELD_TYPE_ENUM_OR_NUMBER;
  cs.default_text = "attention.scale";
  t.push_back(cs);
  t.push_back(row("cross_attention", "temperature", CONFIG_FIELD_TYPE_NUMBER, "attention.temperature", "as attention.temperature"));
  // inputs.*
  t.push_back(row("inputs", "q", CONFIG_FIELD_TYPE_TENSOR, "", "[n_q, d_k] or [heads, n_q, d_k]"));
  t.push_back(row("inputs", "k", CONFIG_FIELD_TYPE_TENSOR, "", "[n_k, d_k] or [heads, n_k, d_k]"));
  t.push_back(row("inputs", "v", CONFIG_FIELD_TYPE_TENSOR, "", "[n_k, d_v] or [heads, n_k, d_v]"));
  t.push_back(row("inputs", "W", CONFIG_FIELD_TYPE_TENSOR, "seeded", "general: [d_k, d_k]; additive: [d_a, d_k]"));
  t.push_back(row("inputs", "U", CONFIG_FIELD_TYPE_TENSOR, "seeded", "additive: [d_a, d_k]"));
  t.push_back(row("inputs", "v_a", CONFIG_FIELD_TYPE_TENSOR, "seeded", "additive: [d_a]"));
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
    for (const char* c = f.help; *c; ++c) help += *c == '|' ? std::string("\\|") : std::string(1, *c);  // table cells
    s += "| `" + f.path() + "` | " + type_name(f) + " | " + range + " | " + def + " | " + url + " | " + help + " |\n";
  }
  return s;
}

}  // namespace attnplay
