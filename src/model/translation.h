// attnplay model: toy translation tasks for the encoder-decoder (mode seq2seq), and their training. Each task is seeded
// and has a non-monotonic alignment; training is teacher forcing (the decoder reads the target shifted right from
// kTranslationStart) with cross-entropy over the target. The network: network.h (seq2seq_forward / seq2seq_backward);
// the optimisers: train.h.
//
// Index
//   TranslationTask, translation_task_*       date, numbers, numbers_zh, sov: examples, vocabularies, batches
//   translation_loss_and_grads / _train_step  forward, loss, backward; one optimiser step
//   translation_alignment, translation_check  how well the cross-attention aligns; what a config can train
#pragma once

#include "model/train.h"

namespace attnplay {

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

}  // namespace attnplay
