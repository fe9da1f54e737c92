// attnplay model: the Train panel's unit of work, a training session. The panel opens one (its config, task and seeded
// start weights) and steps it inside the frame, or hands the same three to a Web Worker, which opens an identical
// session in its own engine (same rng stream: the same batches, the same steps) and streams the weights back.
//
// Index
//   TrainSessionSpec, TrainSession            the task and optimiser settings; the model, its state and batch stream
//   train_session_begin / _step               open one, take one step
//   train_params_pack / _unpack               every trainable tensor as one float array (what a worker sends back)
//   train_session_snapshot / _restore         the whole state as bytes (a workspace, a worker's answer)
//   train_session_spec_json / _parse          the spec as JSON, refused by field name
#pragma once

#include "model/translation.h"

#include <optional>

namespace attnplay {

struct TrainSessionSpec {
  std::optional<TranslationTask> translation;  // a translation task (mode seq2seq), or none: task
  TrainTask task = TRAIN_TASK_REVERSE;
  int length = 8, vocab = 10, batch = 16;  // task sequences (unused by translation tasks); sequences per step
  TrainOptimizer optimizer = TRAIN_OPTIMIZER_ADAM;
  float lr = 3e-3f;
};
struct TrainSession {
  Config config;                           // the model's config (as the panel made it)
  TrainSessionSpec spec;
  TrainState state;
  Rng rng;
};
bool        train_session_spec_equal(const TrainSessionSpec& a, const TrainSessionSpec& b);  // every field the same
const char* train_session_task_name(const TrainSessionSpec& spec);  // "copy" ... or "date" ... (translation)
// Checks that c can train the task (train_check_config, translation_check), seeds the start weights (the task's
// vocabulary, or translation_task_weights) and the batch stream. false: *error names what is refused.
bool        train_session_begin(TrainSession* s, const Config& c, const TrainSessionSpec& spec, std::string* error);
TrainResult train_session_step(TrainSession* s);  // a fresh batch, one optimiser step; alignment for translation
// Every trainable tensor, concatenated in weights_params order: what a Web Worker sends back ten times a second.
std::vector<float> train_params_pack(const ModelWeights& w);
bool               train_params_unpack(const float* data, size_t count, ModelWeights* w);  // false: count differs
// A session's whole state as bytes (rng u64, step i64, then params, adam_m, adam_v as float32, little-endian): what a
// Web Worker hands the page so a save holds the optimiser state it trains with, and what it resumes from. Nothing
// outside this file reads the layout: a restored session's step is its state.step (core.createTrainer's step()).
std::vector<uint8_t> train_session_snapshot(const TrainSession& s);
// Into a session begun with the same config and spec; false (session unchanged): *error says the sizes differ.
bool                 train_session_restore(TrainSession* s, const uint8_t* bytes, size_t size, std::string* error);
// The spec as JSON and back: {"task": name, "length", "vocab", "batch", "optimizer": "sgd"|"adam", "lr"}; refused by
// field name (task unknown, length 2..64, vocab 2..100, batch 1..256, lr finite and > 0).
std::string train_session_spec_json(const TrainSessionSpec& spec);
bool        train_session_spec_parse(const std::string& text, TrainSessionSpec* out, std::string* error);

}  // namespace attnplay
