// attnplay model: one config -> the trace the UI, the CLI and the JS API read (../shared/SPEC.md §3, §7).
//
// Dimension glossary: n_q / n_k (query / key rows), d_model, heads, d_k, d_v, vocab, layers.
//
// Index
//   [Trace]     Trace / LayerTrace        every layer's heads (q, k, v, scores, weights, context) and output
//   [Forward]   model_positions           sinusoidal position table
//               model_compute             attention block or tiny Transformer, seeded, loaded or explicit inputs
//   [Result]    model_result_json         the result JSON of SPEC §3 (masked scores are null)
//               model_weights_for         the weights `attnplay weights` writes for a config
#pragma once

#include "core/layers.h"
#include "model/config.h"
#include "model/weights.h"

#include <string>
#include <vector>

namespace attnplay {

// [Trace] -------------------------------------------------------------------------------------------------
struct LayerTrace {
  std::vector<HeadTrace> heads;        // [heads]
  Mat concat;                          // [n_q, heads·d_v] the heads' contexts side by side
  Mat output;                          // [n_q, d_model] (attention: concat·out_projᵀ + b; with inputs: concat)
};

struct Trace {
  std::vector<std::string> tokens;     // query row labels [n_q]
  std::vector<std::string> key_tokens; // key row labels [n_k] (equal to tokens for self-attention)
  bool cross = false;
  Mat x;                               // [n_q, d_model] embedding + positions (empty with explicit inputs)
  std::vector<LayerTrace> layers;      // [1] in mode attention, [layers] in mode transformer
  Mat logits;                          // [n_q, vocab] mode transformer only
  std::vector<std::string> vocab;      // [vocab] (empty with explicit inputs)
  std::vector<int> fully_masked_rows;  // query rows with no visible key
  std::vector<std::string> warnings;
  // What the cell walkthrough needs to redo one score by hand.
  AttentionKind kind = ATTENTION_KIND_SCALED_DOT;
  float scale_divisor = 1, temperature = 1;
  Mat general_w, additive_w, additive_u;   // [d_k, d_k], [d_a, d_k], [d_a, d_k]
  Vec additive_v;                          // [d_a]
  MaskMat mask;                            // [n_q, n_k] 1 = masked; empty when nothing is masked
};

// [Forward] -----------------------------------------------------------------------------------------------
Mat  model_positions(int n, int d_model);   // -> [n, d_model]: PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(..)

// weights: a loaded file (checked against the config by weights_from_safetensors) or nullptr for seeded weights.
bool model_compute(const Config& c, const ModelWeights* weights, Trace* out, std::string* error);

// [Result] ------------------------------------------------------------------------------------------------
std::string  model_result_json(const Trace& t);
ModelWeights model_weights_for(const Config& c);   // seeded weights (what `attnplay weights` writes)

}  // namespace attnplay

namespace attnplay {

// [Engine] The one entry point the CLI and the WASM bindings share: config JSON text (+ optional safetensors
// bytes) -> result JSON text, or false and one line naming the bad field. Nothing is partially produced.
bool model_compute_json(const std::string& config_text, const uint8_t* weights, size_t weights_size,
                        std::string* result, std::string* error);
// Config JSON text -> safetensors bytes of the seeded weights (`attnplay weights`).
bool model_weights_json(const std::string& config_text, std::vector<uint8_t>* file, std::string* error);

}  // namespace attnplay
