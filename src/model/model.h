// attnplay model: one config -> the trace the UI, the CLI and the JS API read (../shared/SPEC.md §3, §7).
//
// Dimension glossary: n_q / n_k (query / key rows), d_model, heads, d_k, d_v, vocab, layers.
//
// Index
//   [Trace]     Trace                     the network's activations (network.h: NetActs, LayerTrace) + what the UI needs
//   [Forward]   model_compute             attention block or tiny Transformer (net_forward), seeded, loaded or explicit inputs
//   [Decode]    model_greedy_decode       seq2seq: the emitted tokens and each step's cross-attention row
//   [Heads]     trace_head_*, trace_weight  a lean trace's heads: materialise, release, single weights
//   [Result]    model_result_json         the result JSON of SPEC §3 (masked scores are null; lean heads recomputed one at a time)
//               model_result_head_json / _matrix_json   its parts, one matrix at a time
//               model_weights_for         the weights `attnplay weights` writes for a config
#pragma once

#include "core/layers.h"
#include "model/config.h"
#include "model/network.h"
#include "model/weights.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace attnplay {

struct ConfigPretrained;
struct PretrainedRef;
using PretrainedResolver = std::function<bool(const ConfigPretrained& p, PretrainedRef* out, std::string* error)>;

// [Trace] -------------------------------------------------------------------------------------------------
// How much of the trace to keep. Every head's n² scores and weights (what the CLI and the result JSON need) do not
// fit a browser at thousands of tokens: beyond max_matrix_bytes only the focused head keeps them, the others keep
// q, k, v, context, row_lse and a thumbnail, and trace_head_materialize brings any head back on demand.
struct TraceOptions {
  double max_matrix_bytes = -1;        // budget for all heads' scores + weights; < 0: keep everything
  int    focus_layer = 0, focus_head = 0;  // the head kept whole when over budget
  int    thumb = 128;                  // thumbnail side (over budget only)
};

// One attention of a trace: the settings it was made with, and what the kernels need to redo one of its scores
// (trace_params: the walkthrough, a lean trace's heads).
struct TraceAttention {
  AttentionSpec spec;                      // kind, scale, temperature, mask spec
  float scale_divisor = 1;                 // the scale resolved for the trace's d_k
  AttentionKindWeights kind_weights;       // general's W, additive's W, U, v_a
  MaskMat mask;                            // [n_q, n_k] 1 = masked; empty when nothing is masked
};

// NetActs' x [n_q, d_model] is empty with explicit inputs; layers has 1 entry in mode attention, `layers` in mode
// transformer; logits [n_q, vocab] are there in mode transformer only.
struct Trace : NetActs {
  std::vector<std::string> tokens;     // query row labels [n_q]
  std::vector<std::string> key_tokens; // key row labels [n_k] (equal to tokens for self-attention)
  bool cross = false;
  std::vector<std::string> vocab;      // [vocab] (empty with explicit inputs)
  std::vector<int> fully_masked_rows;  // query rows with no visible key
  std::vector<std::string> warnings;
  TraceAttention attention;                // the self-attention's settings (seq2seq: the encoder's)
  bool lean = false;                       // over the budget: heads may lack scores/weights (see TraceOptions)
  // Mode seq2seq: tokens, key_tokens, x, layers and mask are the encoder's (over the source), so every view reads them
  // as an encoder; the decoder's layers and the logits over the target vocabulary are here (SPEC §8's result).
  bool seq2seq = false;
  std::vector<std::string> target_tokens;  // [n_t] the decoder's input
  std::vector<DecoderLayerTrace> decoder;  // [decoder_layers]: self-attention [n_t, n_t], cross-attention [n_t, n_s]
  Mat target_logits;                       // [n_t, tgt_vocab]
  std::vector<std::string> tgt_vocab;
  TraceAttention cross_attention;          // the cross-attention's (cross_attention in SPEC §8; mask [n_t, n_s]: the
                                           //   source's padding)
  bool imported = false;                   // attention maps from a file (attention_import.h): weights only, no q/k/v,
                                           //   scores, context, mask or logits
};

// Mode seq2seq has three attentions; trace_band gives one of them as a trace of its own (layers, row and column
// tokens, mask, kind), so every view draws it as it draws an encoder's self-attention.
enum TraceBand {
  TRACE_BAND_ENCODER,       // the encoder's self-attention: source x source
  TRACE_BAND_DECODER_SELF,  // the decoder's causal self-attention: target x target (logits: the target's)
  TRACE_BAND_CROSS,         // the decoder's cross-attention: target rows x source columns (the alignment)
  TRACE_BAND_COUNT,
};
// t a seq2seq trace: the band (seq2seq false, decoder fields empty); any other trace: a copy of t.
Trace trace_band(const Trace& t, TraceBand band);

// [Forward] -----------------------------------------------------------------------------------------------
// weights: a loaded file (checked against the config by weights_from_safetensors) or nullptr for seeded weights.
bool model_compute(const Config& c, const ModelWeights* weights, Trace* out, std::string* error,
                   const TraceOptions& options = TraceOptions());

// [Decode] Mode seq2seq, greedy: the decoder starts from the target's first token (kTranslationStart for a trained
// translator) and emits its most probable next token, one step at a time, reading what it emitted so far.
struct DecodeStep {
  std::string token;                   // the token emitted
  float prob = 0;                      // its softmax probability
  std::vector<Mat> cross;              // [decoder_layers] of [heads, n_s]: the cross-attention row the step's query used
};
// steps: tokens to emit (1 .. the config's target length, which bounds learned positions). weights null: seeded from c.
bool model_greedy_decode(const Config& c, const ModelWeights* weights, int steps, std::vector<DecodeStep>* out,
                         std::string* error);

// [Heads] of a lean trace. Indices must be in range.
bool   trace_head_has_matrices(const Trace& t, int layer, int head);  // scores and weights present
void   trace_head_materialize(Trace* t, int layer, int head);         // recompute them from q, k, v (same numbers)
void   trace_head_release(Trace* t, int layer, int head);             // drop them again (lean traces only)
float  trace_weight(const Trace& t, int layer, int head, int i, int j);  // stored, or from row_lse in O(d_k)
AttentionParams trace_params(const Trace& t);                         // the kernel parameters the trace was made with
AttentionParams trace_params(const Trace& t, const HeadTrace& h);     // the same with that head's ALiBi slope

// [Result] ------------------------------------------------------------------------------------------------
std::string  model_result_json(const Trace& t);
// Its parts, the same text, for a reader that takes one matrix at a time (the page's lazy result()):
const AttentionOutput& model_result_head(const Trace& t, int layer, int head, AttentionOutput* scratch);  // a lean
                                                   // head's scores and weights made in scratch (its context the trace's)
std::string  model_result_head_json(const Trace& t, int layer, int head);  // {"scores": [[..null..]], "weights", "context"}
std::string  model_result_matrix_json(const Mat& m);  // [[...]] (non-finite values saturate at ±FLT_MAX)
bool         model_result_saturated(const Trace& t);  // a stored value beyond float32 (the result's warning says so)
ModelWeights model_weights_for(const Config& c);   // seeded weights (what `attnplay weights` writes)

}  // namespace attnplay

namespace attnplay {

// [Engine] The one entry point the CLI and the WASM bindings share: config JSON text (+ optional safetensors
// bytes) -> result JSON text, or false and one line naming the bad field. Nothing is partially produced.
// Mode pretrained (SPEC §9) goes to pretrained_compute_json with the caller's resolver (no resolver: refused by name).
bool model_compute_json(const std::string& config_text, const uint8_t* weights, size_t weights_size,
                        std::string* result, std::string* error, const PretrainedResolver& resolve = nullptr);
// Config JSON text -> safetensors bytes of the seeded weights (`attnplay weights`).
bool model_weights_json(const std::string& config_text, std::vector<uint8_t>* file, std::string* error);

}  // namespace attnplay
