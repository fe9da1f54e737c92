// attnplay model: the ablation sweep (issue 27). Every head of a real model ablated alone, one at a time: how much
// does that move the selected prediction (the probability of one token at one position)? Ranking heads by it finds
// the heads a prediction depends on, which no score of the weights alone can say.
//
// The sweep is stepped, a head per call, so the page's worker can report progress and answer a newer edit between
// heads, and the desktop can spread it over frames. Each step is one pretrained_compute through the model's cache:
// ablating a head of layer l recomputes layers l.. only (the incremental path), and a causal model computes only the
// tokens up to the position (later rows cannot change it). The cache is the model's own (no second trace held); the
// compute after a sweep recomputes what the sweep changed.
//
// Index
//   PretrainedSweep            what is followed, the baseline and every head's probability so far
//   pretrained_sweep_begin     config + position + token -> the baseline (the config's ablation is left out)
//   pretrained_sweep_step      one more head (layer-major order)
//   pretrained_sweep_json      {position, token_id, token, display, baseline, layers, heads, done, probs, ranking}
#pragma once

#include "model/pretrained.h"

#include <string>

namespace attnplay {

struct PretrainedSweep {
  PretrainedRequest base;          // the config's request without its ablation (a causal model: ids cut after position)
  int position = 0;                // the row whose prediction is followed (an index into the config's tokens)
  int row = 0;                     // that row in the sweep's logits
  int token = 0;                   // the token followed (id)
  std::string token_str, display;  // its vocabulary string and hf_tokenizer_display
  float baseline = 0;              // its probability with no head ablated
  Mat probs;                       // [layers, heads]: with that head alone ablated (NaN until computed)
  int done = 0, total = 0;         // heads computed, layers · heads
  bool finished() const { return done >= total; }
};

// position < 0: the last token; token < 0: the baseline's most probable token there. false: *error names the field
// (a model without an LM head, a position or token out of range) or the compute's refusal.
bool pretrained_sweep_begin(const Config& c, const PretrainedRef& ref, int position, int token, PretrainedSweep* s,
                            std::string* error);
// Computes the next head (layer-major); a finished sweep is left as it is. false: the compute's refusal.
bool pretrained_sweep_step(const PretrainedRef& ref, PretrainedSweep* s, std::string* error);
// ranking: [[layer, head, probs - baseline], ...] for the heads done, the largest |change| first (ties: layer, head).
std::string pretrained_sweep_json(const PretrainedSweep& s);

}  // namespace attnplay
