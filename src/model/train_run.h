// attnplay model: what `attnplay train` (and the JS API) does, as one call: config + task or data (+ start weights) ->
// trained weights. It checks the flags, infers the vocabulary, converts the data and shuffles it; the training
// itself is train.h's (translation.h's in mode seq2seq).
#pragma once

#include "model/translation.h"

#include <functional>

namespace attnplay {

struct TrainRunOptions {
  std::string task;                  // "copy", "reverse", "sort", "induction"; or "" with data_text
  int length = 8, vocab = 10;        // task sequences: L tokens (2L for induction) from vocab ids 0..vocab-1
  std::string data_text;             // DATA.json: {"inputs": [[...]], "targets": [[...]]}: tokens (strings) or vocab ids;
                                     //   a target of null or -100 does not count
  int steps = 100, batch = 16;
  uint64_t seed = 1;                 // the task's sequences and the data's shuffling
  TrainOptimizer optimizer = TRAIN_OPTIMIZER_ADAM;
  float lr = 1e-3f;
};
// progress(step, result) after every step (step counts from 1). On failure: false, *error names the field.
bool train_run(const std::string& config_text, const uint8_t* weights, size_t weights_size, const TrainRunOptions& o,
               const std::function<void(int, const TrainResult&)>& progress, std::vector<uint8_t>* out_file,
               std::string* error);

}  // namespace attnplay
