// attnplay model: the config JSON of ../shared/SPEC.md §2, parsed and validated into one struct.
//
// Every bad value is refused with one line naming the field and the reason, e.g.
//   heads must divide d_model (got d_model=10, heads=3)
//   attention.mask.padding[1]: key index 9 is out of range (n_k=6)
// Unknown fields are refused too (a typo must not be silently ignored). Limits are checked here, before any
// allocation, so a huge config is a message and never an out-of-memory abort.
//
// Index
//   [Limits]  config_limits            the caps, documented in the README
//   [Config]  AttentionSpec            kind, scale, temperature, mask: one value for every attention of a model
//             Config                   resolved values: tokens are tokenized, d_k/d_v derived, scale resolved
//   [Parse]   config_parse             JSON -> Config, or false and the message
#pragma once

#include "core/attention.h"
#include "core/layers.h"
#include "model/tokenizer.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace attnplay {

// [Limits] ------------------------------------------------------------------------------------------------
struct ConfigLimits {
  int    max_tokens = 4096;              // n_q and n_k
  int    max_d_model = 1024;
  int    max_heads = 64;
  int    max_head_dim = 1024;            // d_k, d_v, d_a
  int    max_layers = 12;
  int    max_d_ff = 8192;
  size_t max_text_bytes = 1 << 20;       // "text", and the sum of "tokens"
  double max_trace_bytes = 1536.0 * (1 << 20);  // scores + weights of every head of every layer, kept for the UI
};
const ConfigLimits& config_limits();

enum ModelMode {
  MODEL_MODE_ATTENTION,     // one attention block
  MODEL_MODE_TRANSFORMER,   // the tiny Transformer encoder with logits
  MODEL_MODE_SEQ2SEQ,       // an encoder-decoder (nn.Transformer): source -> target (SPEC §8)
  MODEL_MODE_PRETRAINED,    // a real checkpoint, a Hugging Face folder (SPEC §9: model/pretrained.h)
};

enum ConfigLogits {         // mode pretrained: which rows of logits the result holds
  CONFIG_LOGITS_ALL,
  CONFIG_LOGITS_LAST,       // the last row only, as [1, vocab]
  CONFIG_LOGITS_NONE,
};

// Mode pretrained's own fields (SPEC §9); the model itself is loaded elsewhere (pretrained.h).
struct ConfigPretrained {
  std::string model;                     // the folder (CLI: relative to the working directory), or ""
  int64_t model_handle = -1;             // >= 0: a model the JS API loaded (core.loadModel)
  bool has_token_ids = false;
  std::vector<int64_t> token_ids;        // checked against the model's vocabulary by pretrained_request
  bool add_special_tokens = true;
  std::vector<std::pair<int, int>> ablate;  // [layer, head]
  ConfigLogits logits = CONFIG_LOGITS_ALL;
};

enum ScaleKind {
  SCALE_KIND_SQRT_DK,
  SCALE_KIND_DK,
  SCALE_KIND_NONE,
  SCALE_KIND_NUMBER,
};

enum PositionalKind {     // what each means: network.h positional_info
  POSITIONAL_KIND_SINUSOIDAL,
  POSITIONAL_KIND_LEARNED,
  POSITIONAL_KIND_NONE,
  POSITIONAL_KIND_ROPE,    // rotary, on every head's q and k (nothing added to x)
  POSITIONAL_KIND_ALIBI,   // linear distance bias on the scores (nothing added to x)
  POSITIONAL_KIND_COUNT,   // (the count: network.cpp's table has a row for each)
};

// [Config] ------------------------------------------------------------------------------------------------
struct ConfigInputs {
  bool present = false;
  std::vector<Mat> q, k, v;              // one matrix per head: q [n_q, d_k], k [n_k, d_k], v [n_k, d_v]
  bool has_w = false, has_u = false, has_v_a = false;
  Mat w;                                 // general: [d_k, d_k]; additive: [d_a, d_k]
  Mat u;                                 // additive: [d_a, d_k]
  Vec v_a;                               // additive: [d_a]
};

// One attention's settings (the config's "attention" and "cross_attention" objects), used for the self-attention, the
// cross-attention and a trace's bands alike.
struct AttentionSpec {
  AttentionKind kind = ATTENTION_KIND_SCALED_DOT;  // (defaults: the field table's; Config sets every one)
  ScaleKind scale_kind = SCALE_KIND_SQRT_DK;
  float scale_value = 0;                 // SCALE_KIND_NUMBER: the divisor given
  float temperature = 1.0f;
  MaskSpec mask;                         // cross-attention: only padding applies (the source's keys)
  float scale_divisor(int d_k) const;    // √d_k, d_k, 1 or the number given
};

// Every default comes from the field table (config_fields.h): a default-constructed Config is the parse of {} (its
// text not yet tokenized: tokens stay empty). The members below start from neutral values only.
struct Config {
  Config();                              // the table's defaults (a copy of one Config parsed once from {})
  struct Blank {};
  explicit Config(Blank) {}              // neutral values, not the defaults: what the parser starts from

  // Tokens (resolved): "tokens" if given, else "text" through the tokenizer. key_tokens: cross-attention keys.
  std::string text;
  TokenizerKind tokenizer = TOKENIZER_KIND_WORDS;
  std::vector<std::string> tokens;       // query rows
  std::vector<std::string> key_tokens;   // key rows; empty for self-attention
  bool cross = false;                    // keys differ from queries (key_text/key_tokens, or inputs with n_q != n_k or distinct k)
  // Mode seq2seq: tokens are the target (the decoder's input as given), source_tokens the encoder's input.
  std::vector<std::string> source_tokens;

  uint64_t seed = 0;
  ModelMode mode = MODEL_MODE_ATTENTION;
  int d_model = 0;
  int heads = 0;
  int kv_heads = 0;                      // key/value heads: default heads; fewer is grouped-query, 1 multi-query
  int d_k = 0, d_v = 0;                  // default d_model / heads
  int d_a = 0;                           // additive hidden width (attention.d_a), default d_k

  AttentionSpec attention;               // attention.*: the self-attention (seq2seq: the encoder's; the decoder's own is
                                         //   causal with these kind, scale and temperature)

  int layers = 0;
  int d_ff = 0;
  ActivationKind activation = ACTIVATION_KIND_RELU;
  bool norm_first = false;
  PositionalKind positional = POSITIONAL_KIND_SINUSOIDAL;
  float rope_base = 0;                   // transformer.rope_base: RoPE's θ_i = base^(-2i/d_k)

  // Mode seq2seq (SPEC §8).
  int decoder_layers = 0;                // transformer.decoder_layers (default: layers)
  AttentionSpec cross_attention;         // cross_attention.* (each defaults to attention's; mask: attention's padding)

  ConfigInputs inputs;
  ConfigPretrained pretrained;           // mode pretrained (the dimensions above then come from the model)
  std::vector<std::string> warnings;     // accepted but worth saying (unused fields)

  int n_q() const { return int(tokens.size()); }
  int n_k() const { return cross ? int(key_tokens.size()) : int(tokens.size()); }
  int n_s() const { return int(source_tokens.size()); }  // seq2seq: source length
};

// [Parse] -------------------------------------------------------------------------------------------------
bool config_parse(const nlohmann::json& j, Config* out, std::string* error);           // validated, tokens resolved
bool config_parse_text(const std::string& text, Config* out, std::string* error);      // JSON text -> config

int    config_trace_layers(const Config& c);   // layers whose attention the trace keeps: `layers` in mode transformer, else 1
double config_trace_bytes(const Config& c);    // their scores + weights, float32: layers x heads x n_q x n_k x 8 bytes

const char* attention_kind_name(AttentionKind kind);    // "scaled_dot", ... (the config's spelling)
bool        json_nesting_ok(const std::string& text, int max_depth = 32);  // bracket depth outside strings <= max
                                                                           // (checked before any recursive parse)

}  // namespace attnplay
