// attnplay model: a real checkpoint's compute as bytes, for the page (../shared/SPEC.md §9; issue 27). The page's
// model worker (web/app/model_worker.mjs, over the core module) computes; the app (another module, on the page's
// thread) draws. Between them goes one transferred buffer in this format, written and read by this code on both
// sides, so the app never holds the model and the frame never waits for a forward pass.
//
// The format is a safetensors file (safetensors.h): float32 tensors by name and a JSON __metadata__.
//   layers.{l}.output                  [n, hidden]     the hidden state leaving block l
//   layers.{l}.heads.{h}.{q,k,v}       [n, head_dim]   after projection and RoPE (what a lean head is redone from)
//   layers.{l}.heads.{h}.context       [n, head_dim]   before the output projection (0 when ablated)
//   layers.{l}.heads.{h}.row_lse       [n]             log Σ exp(score) per row (weights of a lean head, one at a time)
//   layers.{l}.heads.{h}.{scores,weights}  [n, n]      every head within max_matrix_bytes, else the focused head's;
//   layers.{l}.heads.{h}.thumb         [t, t]          the others then carry a thumbnail (model.h's lean trace)
//   mask                               [n, n]          1 = masked (the model's own mask and the config's), if any
//   logits                             [n, vocab]      when n·vocab fits max_logit_bytes
//   predictions.{ids,probs}            [n, top]        every row's most probable next (or masked) tokens
//   baseline.{ids,probs}               [n, top]        the same without the ablation (only when heads are ablated)
//   metadata: tokens, display (hf_tokenizer_display of each), ids, info (pretrained_info_json), prediction_tokens / baseline_tokens ([n][top] [token, display]),
//             attention ({temperature, scale_divisor, causal, window, padding, cells}), lean, fully_masked_rows,
//             warnings, stats ({recomputed_from_layer, rows_computed}), mask_token ([id, string] or null),
//             head_scores ({name: [layers][heads]}, null for an undefined score)
//
// Index
//   PretrainedTokenProb, PretrainedView      what the app keeps of one compute
//   PretrainedPackOptions                    the budgets the worker packs under
//   pretrained_top                           logits -> each row's top tokens (softmax probabilities)
//   pretrained_compute_packed                config + loaded model -> the bytes (computes, and the baseline)
//   pretrained_unpack                        the bytes -> PretrainedView (every name, shape and count checked)
#pragma once

#include "model/model.h"
#include "model/pretrained.h"

#include <cstdint>
#include <string>
#include <vector>

namespace attnplay {

struct PretrainedTokenProb {
  int id = 0;
  float prob = 0;                  // softmax of the row's logits (a share of 1)
  std::string token;               // the vocabulary's string ("Ġcat", "##s", "<0x0A>")
  std::string display;             // as a learner reads it (hf_tokenizer_display: "·cat", "##s", "↵")
};
using PretrainedTopRows = std::vector<std::vector<PretrainedTokenProb>>;  // [n][top], most probable first

struct PretrainedView {
  Trace trace;                     // tokens (as displayed: hf_tokenizer_display), layers (q, k, v, context, output; scores and weights unless lean), logits
                                   //   (when packed), attention settings and mask: every view reads it as a trace
  std::vector<int> ids;            // [n] token ids
  std::vector<std::string> tokens; // [n] the vocabulary's strings (the result JSON's "tokens")
  std::string info_json;           // the model card (pretrained_info_json)
  PretrainedTopRows predictions;   // empty when the model has no LM head
  PretrainedTopRows baseline;      // without the ablation; empty when nothing is ablated
  PretrainedStats stats;           // what the compute computed anew (the incremental path)
  std::vector<Mat> head_scores;    // [HEAD_SCORE_COUNT] of [layers, heads] (head_scores.h), from every head's weights
  int mask_token_id = -1;          // the tokenizer's "[MASK]" / "<mask>" (-1: none): a masked-LM's fill-in token
  std::string mask_token;
};

struct PretrainedPackOptions {
  double max_matrix_bytes = 128.0 * (1 << 20);  // every head's scores + weights within this; else the focused head's
  int focus_layer = 0, focus_head = 0;          // (clamped to the model)
  int thumb = 128;                              // lean heads' thumbnail side
  int top = 10;                                 // predictions per row
  double max_logit_bytes = 64.0 * (1 << 20);    // logits [n, vocab] packed when they fit, else predictions only
};

// logits [n, vocab] -> [n][top] (ties: the lower id first).
PretrainedTopRows pretrained_top(const PretrainedModel& m, const Mat& logits, int top);

// SPEC §9's config (mode pretrained) on ref's model -> the bytes above. With heads ablated, the baseline predictions
// come from a compute without them first (the cache then recomputes from the first ablated layer only).
bool pretrained_compute_packed(const Config& c, const PretrainedRef& ref, const PretrainedPackOptions& o,
                               std::vector<uint8_t>* out, std::string* error);

// bytes -> view; false: *error names the tensor or field that is missing, misshapen or malformed.
bool pretrained_unpack(const uint8_t* bytes, size_t size, PretrainedView* out, std::string* error);

}  // namespace attnplay
