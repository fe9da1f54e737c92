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
// Beside it: translation.h (the encoder-decoder's toy tasks), train_session.h (the Train panel's unit of work, in the
// frame or a Web Worker) and train_run.h (`attnplay train`: the CLI's whole job).
#pragma once

#include "core/backward.h"
#include "model/network.h"
#include "model/config.h"
#include "model/rng.h"
#include "model/weights.h"

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

}  // namespace attnplay
