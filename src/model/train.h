// attnplay model: training the tiny Transformer (mode "transformer") on toy tasks or given data.
//
// Dimension glossary: n (tokens of one sequence), batch (sequences per step), vocab, d_model, heads, kv_heads,
// d_k, d_ff, layers.
//
// Loss: the mean cross-entropy of the logits against the target token at every position whose target is not
// kIgnoreTarget (-100, PyTorch's ignore_index), over the whole batch (as nn.CrossEntropyLoss on the flattened batch).
// Gradients come from src/core/backward.h; SGD and Adam follow torch.optim (Adam: betas 0.9/0.999, eps 1e-8, bias
// correction, no weight decay). tests/fixtures/make_fixtures.py trains the same model with PyTorch autograd and the
// unit tests compare the weights after several steps.
//
// Index
//   [Tasks]     TrainTask, train_task_batch     copy / reverse / sort (bidirectional), induction (causal); seeded
//   [Check]     train_check_config              what training supports, refused by name otherwise
//   [Gradients] train_loss_and_grads            forward + backward over a batch
//   [Steps]     TrainState, train_state_init, train_step     one optimiser step
//   [Session]   TrainSession, train_session_*   one model on one task, stepped by the Train panel: in the frame, or in
//                                               a Web Worker through attnplay-core.mjs (core.createTrainer)
//   [Run]       train_run                       the CLI's whole job: validate, train, write safetensors
#pragma once

#include "core/backward.h"
#include "model/network.h"
#include "model/config.h"
#include "model/rng.h"
#include "model/weights.h"

#include <functional>
#include <string>
#include <vector>

namespace attnplay {

// [Tasks] --------------------------------------------------------------------------------------------------
enum TrainTask {  // (TRAIN_TASK_COUNT after the last)
  TRAIN_TASK_COPY,       // targets = inputs                     (bidirectional)
  TRAIN_TASK_REVERSE,    // targets = inputs reversed            (bidirectional: a head learns the anti-diagonal)
  TRAIN_TASK_SORT,       // targets = inputs sorted              (bidirectional)
  TRAIN_TASK_INDUCTION,  // [a_1..a_L, k random fillers, a_1..a_L], causal; the second copy predicts what followed
                         //   the first time (the random gap rules out a positional shortcut)
  TRAIN_TASK_COUNT,
};
bool        train_task_from_name(const std::string& name, TrainTask* out);  // "copy", "reverse", "sort", "induction"
const char* train_task_name(TrainTask task);
bool        train_task_causal(TrainTask task);                              // induction only

struct TrainBatch {
  std::vector<std::vector<int>> inputs;   // [batch][n] vocab ids
  std::vector<std::vector<int>> targets;  // [batch][n] vocab ids or kIgnoreTarget
};
// vocab ids 0..vocab-1 (tokens "0", "1", ...); length L: sequences of L tokens (2L to 3L-1 for induction).
TrainBatch train_task_batch(TrainTask task, int length, int vocab, int batch, Rng* rng);
std::vector<std::string> train_task_vocab(int vocab);                          // "0" .. "vocab-1"

// [Check] mode "transformer"; masks causal / window only (padding and cells name positions of one text). Every kind
// trains; general's W and additive's W, U, v_a stay as seeded (they are not in the weights file).
bool train_check_config(const Config& c, std::string* error);

// [Gradients] ----------------------------------------------------------------------------------------------
struct TrainResult {
  double loss = 0;        // mean cross-entropy over the counted targets
  double accuracy = 0;    // fraction of counted targets whose argmax logit is right
  int counted = 0;        // targets that count
  double alignment = -1;  // translation: translation_alignment over the batch (-1: not measured)
};
// grads: same shapes as w, zeroed here, then the batch's gradients of the mean loss. causal: forced on (induction).
TrainResult train_loss_and_grads(const Config& c, const ModelWeights& w, const TrainBatch& batch, bool causal,
                                 ModelWeights* grads);

// [Steps] --------------------------------------------------------------------------------------------------
enum TrainOptimizer { TRAIN_OPTIMIZER_SGD, TRAIN_OPTIMIZER_ADAM, TRAIN_OPTIMIZER_COUNT };
const char* train_optimizer_name(TrainOptimizer opt);                              // "sgd", "adam"
bool        train_optimizer_from_name(const std::string& name, TrainOptimizer* out);

struct TrainState {
  ModelWeights weights;        // the model being trained
  ModelWeights adam_m, adam_v; // Adam's moments (same shapes), zero at the start
  int64_t step = 0;            // steps taken
};
void        train_state_init(TrainState* s, ModelWeights weights);
void        train_optimizer_apply(TrainState* s, ModelWeights* grads, TrainOptimizer opt, float lr);  // one step with grads
TrainResult train_step(const Config& c, TrainState* s, const TrainBatch& batch, bool causal, TrainOptimizer opt, float lr);

// [Translation] mode seq2seq: toy translation tasks, seeded, each with a non-monotonic alignment, trained with
// teacher forcing (the decoder reads the target shifted right from kTranslationStart) and cross-entropy over the target.
enum TranslationTask {
  TRANSLATION_TASK_DATE,        // "21 nov 2026" -> "2026 - 11 - 21" (the year moves to the front)
  TRANSLATION_TASK_NUMBERS,     // "three hundred twenty one" -> "3 2 1"
  TRANSLATION_TASK_NUMBERS_ZH,  // "three hundred twenty one" -> "三 百 二 十 一"
  TRANSLATION_TASK_SOV,         // subject verb adjective object -> subject adjective object verb
  TRANSLATION_TASK_COUNT,
};
constexpr const char* kTranslationStart = "<s>";  // the decoder's first input (the target vocabulary's first token)
bool        translation_task_from_name(const std::string& name, TranslationTask* out);  // "date", "numbers", "numbers_zh", "sov"
const char* translation_task_name(TranslationTask task);
struct TranslationExample {
  std::vector<std::string> source, target;
  std::vector<int> align;       // [n_t] the source position each target token came from (-1: none, e.g. "-")
};
TranslationExample       translation_task_example(TranslationTask task, Rng* rng);
std::vector<std::string> translation_task_source_vocab(TranslationTask task);
std::vector<std::string> translation_task_target_vocab(TranslationTask task);   // kTranslationStart first
struct TranslationBatch {
  std::vector<std::vector<int>> sources, decoder_inputs, targets;  // ids in w's vocab / tgt_vocab
  std::vector<std::vector<int>> align;                             // as TranslationExample::align
};
TranslationBatch translation_task_batch(TranslationTask task, const ModelWeights& w, int batch, Rng* rng);
// Forward, loss, backward over the batch; acts (optional) keeps every example's activations (alignment, views).
TrainResult translation_loss_and_grads(const Config& c, const ModelWeights& w, const TranslationBatch& b, ModelWeights* grads,
                                       std::vector<Seq2SeqActs>* acts = nullptr);
TrainResult translation_train_step(const Config& c, TrainState* s, const TranslationBatch& b, TrainOptimizer opt, float lr);
// Fraction of aligned target tokens whose cross-attention (last decoder layer, mean over heads) peaks on their source.
double      translation_alignment(const TranslationBatch& b, const std::vector<Seq2SeqActs>& acts);
// Can this config and these weights train the task? Refused by name: a vocabulary without the task's tokens, learned
// positions fewer than the task's sentences need, or (sov, a reordering) a target longer than its source.
bool        translation_check(TranslationTask task, const Config& c, const ModelWeights& w, std::string* error);
// The weights `attnplay train` and the Train panel start from: c's model, seeded over the task's vocabularies.
ModelWeights       translation_task_weights(TranslationTask task, const Config& c);
// The example the Train panel shows (fixed): target = the decoder's input, kTranslationStart + the target but its last
// token; align as the example's (decoder row i predicts target token i, which came from source align[i]).
TranslationExample translation_task_display(TranslationTask task);

// [Session] The Train panel's unit of work. The panel opens it (its config, task and seeded start weights) and steps
// it inside the frame, or hands the same three to a Web Worker, which opens an identical session in its own engine
// (same rng stream: the same batches, the same steps) and streams the weights back.
struct TrainSessionSpec {
  int translation = -1;                    // a TranslationTask (mode seq2seq), or -1: task
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
// The spec as JSON and back: {"task": name, "length", "vocab", "batch", "optimizer": "sgd"|"adam", "lr"}; refused by
// field name (task unknown, length 2..64, vocab 2..100, batch 1..256, lr finite and > 0).
// A session's whole state as bytes (rng u64, step i64, then params, adam_m, adam_v as float32, little-endian): what a
// Web Worker hands the page so a save holds the optimiser state it trains with, and what it resumes from.
std::vector<uint8_t> train_session_snapshot(const TrainSession& s);
// Into a session begun with the same config and spec; false (session unchanged): *error says the sizes differ.
bool                 train_session_restore(TrainSession* s, const uint8_t* bytes, size_t size, std::string* error);
std::string train_session_spec_json(const TrainSessionSpec& spec);
bool        train_session_spec_parse(const std::string& text, TrainSessionSpec* out, std::string* error);

// [Run] What `attnplay train` (and the JS API) does: config + task or data (+ start weights) -> trained weights.
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

// Every trainable tensor of w (the safetensors ones), in a fixed order: data pointer and element count.
struct ParamRef {
  float* data;
  size_t size;
};
std::vector<ParamRef> weights_params(ModelWeights* w);
ModelWeights          weights_zeros_like(const ModelWeights& w);

}  // namespace attnplay
