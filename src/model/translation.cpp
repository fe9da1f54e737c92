// attnplay model: toy translation tasks and their training (mode seq2seq). Contracts: translation.h; the network:
// network.h (seq2seq_forward / seq2seq_backward).
//
// Index
//   translation_task_*             date, numbers, numbers_zh, sov: seeded examples with their alignments, vocabularies
//   translation_task_batch         ids, the decoder's input shifted right from the start token (teacher forcing)
//   translation_loss_and_grads, translation_train_step, translation_alignment
#include "model/translation.h"

#include "core/gemm.h"
#include "model/network.h"
#include "model/weights.h"

#include <cmath>

namespace attnplay {

namespace {

const char* const kTranslationNames[TRANSLATION_TASK_COUNT] = {"date", "numbers", "numbers_zh", "sov"};
const char* const kMonths[12] = {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kUnits[10] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
const char* const kTens[10] = {"", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"};
const char* const kZhDigits[10] = {"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"};
const char* const kNouns[8] = {"cat", "dog", "bird", "fish", "girl", "boy", "horse", "mouse"};
const char* const kVerbs[6] = {"sees", "eats", "likes", "chases", "finds", "hears"};
const char* const kAdjectives[5] = {"big", "small", "red", "old", "quick"};

std::string two_digits(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }
int pick(Rng* rng, int n) { return int(rng_next_u64(rng) % uint64_t(n)); }

}  // namespace

bool translation_task_from_name(const std::string& name, TranslationTask* out) {
  for (int t = 0; t < TRANSLATION_TASK_COUNT; ++t)
    if (name == kTranslationNames[t]) {
      *out = TranslationTask(t);
      return true;
    }
  return false;
}

const char* translation_task_name(TranslationTask task) {
  return task >= 0 && task < TRANSLATION_TASK_COUNT ? kTranslationNames[task] : "?";
}

TranslationExample translation_task_example(TranslationTask task, Rng* rng) {
  TranslationExample e;
  auto put = [&e](std::vector<std::string> src, std::vector<std::pair<std::string, int>> tgt) {
    e.source = std::move(src);
    for (auto& [tok, from] : tgt) {
      e.target.push_back(tok);
      e.align.push_back(from);
    }
  };
  switch (task) {
    case TRANSLATION_TASK_DATE: {  // "21 nov 2026" -> "2026 - 11 - 21": the year moves to the front
      const int day = 1 + pick(rng, 28), month = pick(rng, 12), year = 1990 + pick(rng, 40);
      put({std::to_string(day), kMonths[month], std::to_string(year)},
          {{std::to_string(year), 2}, {"-", -1}, {two_digits(month + 1), 1}, {"-", -1}, {two_digits(day), 0}});
      break;
    }
    case TRANSLATION_TASK_NUMBERS:
    case TRANSLATION_TASK_NUMBERS_ZH: {  // "three hundred twenty one" -> "3 2 1" or "三 百 二 十 一"
      const int h = 1 + pick(rng, 9), t = 2 + pick(rng, 8), u = 1 + pick(rng, 9);
      const std::vector<std::string> src = {kUnits[h], "hundred", kTens[t], kUnits[u]};
      if (task == TRANSLATION_TASK_NUMBERS)
        put(src, {{std::to_string(h), 0}, {std::to_string(t), 2}, {std::to_string(u), 3}});
      else
        put(src, {{kZhDigits[h], 0}, {"百", 1}, {kZhDigits[t], 2}, {"十", 2}, {kZhDigits[u], 3}});
      break;
    }
    case TRANSLATION_TASK_SOV: {  // subject verb adjective object -> subject adjective object verb
      const int s = pick(rng, 8), v = pick(rng, 6), a = pick(rng, 5), o = pick(rng, 8);
      put({kNouns[s], kVerbs[v], kAdjectives[a], kNouns[o]}, {{kNouns[s], 0}, {kAdjectives[a], 2}, {kNouns[o], 3}, {kVerbs[v], 1}});
      break;
    }
    case TRANSLATION_TASK_COUNT: break;
  }
  return e;
}

std::vector<std::string> translation_task_source_vocab(TranslationTask task) {
  std::vector<std::string> v;
  switch (task) {
    case TRANSLATION_TASK_DATE:
      for (int d = 1; d <= 28; ++d) v.push_back(std::to_string(d));
      for (const char* m : kMonths) v.push_back(m);
      for (int y = 1990; y < 2030; ++y) v.push_back(std::to_string(y));
      break;
    case TRANSLATION_TASK_NUMBERS:
    case TRANSLATION_TASK_NUMBERS_ZH:
      for (int u = 1; u < 10; ++u) v.push_back(kUnits[u]);
      v.push_back("hundred");
      for (int t = 2; t < 10; ++t) v.push_back(kTens[t]);
      break;
    case TRANSLATION_TASK_SOV:
      for (const char* n : kNouns) v.push_back(n);
      for (const char* n : kVerbs) v.push_back(n);
      for (const char* n : kAdjectives) v.push_back(n);
      break;
    case TRANSLATION_TASK_COUNT: break;
  }
  return v;
}

std::vector<std::string> translation_task_target_vocab(TranslationTask task) {
  std::vector<std::string> v = {kTranslationStart};
  switch (task) {
    case TRANSLATION_TASK_DATE:
      for (int y = 1990; y < 2030; ++y) v.push_back(std::to_string(y));
      v.push_back("-");
      for (int d = 1; d <= 28; ++d) v.push_back(two_digits(d));  // 01..12 are months too
      break;
    case TRANSLATION_TASK_NUMBERS:
      for (int d = 1; d < 10; ++d) v.push_back(std::to_string(d));
      break;
    case TRANSLATION_TASK_NUMBERS_ZH:
      for (int d = 1; d < 10; ++d) v.push_back(kZhDigits[d]);
      v.push_back("百");
      v.push_back("十");
      break;
    case TRANSLATION_TASK_SOV:
      for (const std::string& t : translation_task_source_vocab(task)) v.push_back(t);  // the same words, reordered
      break;
    case TRANSLATION_TASK_COUNT: break;
  }
  return v;
}

TranslationBatch translation_task_batch(TranslationTask task, const ModelWeights& w, int batch, Rng* rng) {
  TranslationBatch b;
  for (int k = 0; k < batch; ++k) {
    const TranslationExample e = translation_task_example(task, rng);
    std::vector<int> src, tgt, dec_in;
    std::string error;
    weights_token_ids(w, e.source, &src, &error);
    weights_tgt_token_ids(w, e.target, &tgt, &error);
    std::vector<int> start;
    weights_tgt_token_ids(w, {kTranslationStart}, &start, &error);
    dec_in.push_back(start.empty() ? 0 : start[0]);  // teacher forcing: the target shifted right from the start token
    dec_in.insert(dec_in.end(), tgt.begin(), tgt.end() - 1);
    b.sources.push_back(std::move(src));
    b.decoder_inputs.push_back(std::move(dec_in));
    b.targets.push_back(std::move(tgt));
    b.align.push_back(e.align);
  }
  return b;
}

TrainResult translation_loss_and_grads(const Config& c, const ModelWeights& w, const TranslationBatch& b, ModelWeights* grads,
                                       std::vector<Seq2SeqActs>* acts) {
  *grads = weights_zeros_like(w);
  TrainResult r;
  for (const auto& t : b.targets) r.counted += int(t.size());
  if (r.counted == 0) return r;
  const NetSpec spec = net_spec(c, w, &w.seq2seq.cross_kind);
  const GemmWeightScope packed_once;  // w is const here: each weight matrix is packed once for all sequences
  NetOptions o;
  o.for_backward = true;
  Seq2SeqActs local;
  if (acts) acts->resize(b.sources.size());
  double loss = 0;
  int correct = 0;
  for (size_t k = 0; k < b.sources.size(); ++k) {
    Seq2SeqActs& a = acts ? (*acts)[k] : local;
    seq2seq_forward(spec, w, b.sources[k], b.decoder_inputs[k], nullptr, nullptr, o, &a);
    Mat d_logits;
    loss += cross_entropy_forward_backward(a.logits, b.targets[k], r.counted, &d_logits, &correct);
    seq2seq_backward(spec, w, b.sources[k], b.decoder_inputs[k], a, d_logits, grads);
  }
  r.loss = loss / r.counted;
  r.accuracy = double(correct) / r.counted;
  return r;
}

TrainResult translation_train_step(const Config& c, TrainState* s, const TranslationBatch& b, TrainOptimizer opt, float lr) {
  ModelWeights g;
  std::vector<Seq2SeqActs> acts;  // the batch's own cross-attention: the alignment comes free with the step
  TrainResult r = translation_loss_and_grads(c, s->weights, b, &g, &acts);
  r.alignment = translation_alignment(b, acts);
  train_optimizer_apply(s, &g, opt, lr);
  return r;
}

bool translation_check(TranslationTask task, const Config& c, const ModelWeights& w, std::string* error) {
  const std::string name = translation_task_name(task);
  std::vector<int> ids;
  std::string e;
  if (!weights_token_ids(w, translation_task_source_vocab(task), &ids, &e) ||
      !weights_tgt_token_ids(w, translation_task_target_vocab(task), &ids, &e)) {
    if (error) *error = "train: task " + name + ": " + e;
    return false;
  }
  if (positional_info(c.positional).learned) {  // every example of a task has the same lengths
    Rng rng = rng_stream(1, "translation/check");
    const TranslationExample ex = translation_task_example(task, &rng);
    const int need_s = int(ex.source.size()), need_t = int(ex.target.size());
    if (w.pos_embedding.rows() < need_s || w.seq2seq.tgt_pos_embedding.rows() < need_t) {
      const bool src = w.pos_embedding.rows() < need_s;
      if (error)
        *error = "weights: " + std::string(src ? "pos_embedding.weight" : "tgt_pos_embedding.weight") + " has " +
                 std::to_string(src ? w.pos_embedding.rows() : w.seq2seq.tgt_pos_embedding.rows()) + " positions but task " +
                 name + " needs " + std::to_string(src ? need_s : need_t);
      return false;
    }
  }
  if (task == TRANSLATION_TASK_SOV) {  // a reordering: each target word is one source word
    const int n_t = c.n_q() - (!c.tokens.empty() && c.tokens[0] == kTranslationStart ? 1 : 0);
    if (n_t > c.n_s()) {
      if (error)
        *error = "target: " + std::to_string(n_t) + " tokens but the source has " + std::to_string(c.n_s()) +
                 ": task sov reorders the source's words, so the target cannot be longer";
      return false;
    }
  }
  return true;
}

ModelWeights translation_task_weights(TranslationTask task, const Config& c) {
  Config vc = c;
  vc.source_tokens = translation_task_source_vocab(task);
  vc.tokens = translation_task_target_vocab(task);
  return weights_seeded(vc);
}

TranslationExample translation_task_display(TranslationTask task) {
  Rng rng = rng_stream(7, std::string("translation/display/") + translation_task_name(task));
  TranslationExample e = translation_task_example(task, &rng);
  e.target.insert(e.target.begin(), kTranslationStart);
  e.target.pop_back();  // align stays: decoder row i reads target token i - 1 and predicts token i
  return e;
}

double translation_alignment(const TranslationBatch& b, const std::vector<Seq2SeqActs>& acts) {
  int hits = 0, counted = 0;
  for (size_t k = 0; k < acts.size(); ++k) {
    const DecoderLayerTrace& last = acts[k].decoder.back();
    const int n_t = int(b.targets[k].size()), n_s = int(b.sources[k].size());
    for (int t = 0; t < n_t; ++t) {
      const int from = b.align[k][size_t(t)];
      if (from < 0) continue;
      Eigen::RowVectorXf mean = Eigen::RowVectorXf::Zero(n_s);
      for (const HeadTrace& h : last.cross.heads) mean += h.attn.weights.row(t);
      Eigen::Index arg = 0;
      mean.maxCoeff(&arg);
      hits += int(arg) == from ? 1 : 0;
      ++counted;
    }
  }
  return counted ? double(hits) / counted : 0.0;
}

}  // namespace attnplay
