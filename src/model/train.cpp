// attnplay model: training. Contracts: train.h; the network, forward and backward: network.h (the one inference runs).
//
// Index
//   [Tasks]      train_task_*                  copy, reverse, sort, induction batches (seeded)
//   [Check]      train_check_config
//   [Gradients]  weights_params, train_loss_and_grads   net_forward, cross-entropy, net_backward per length (stacked)
//   [Steps]      train_state_init, train_optimizer_apply, train_step   SGD and Adam as torch.optim
//   [Run]        parse_data, translation_run, train_run   `attnplay train` (translation tasks: translation.cpp)
#include "model/train.h"

#include "core/gemm.h"
#include "model/model.h"
#include "model/network.h"
#include "model/weights.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace attnplay {

// [Tasks] --------------------------------------------------------------------------------------------------
// The spellings of the CLI, the JS API and the Train panel.
static const char* const kTaskNames[TRAIN_TASK_COUNT] = {"copy", "reverse", "sort", "induction"};
static const char* const kOptimizerNames[TRAIN_OPTIMIZER_COUNT] = {"sgd", "adam"};

bool train_task_from_name(const std::string& name, TrainTask* out) {
  for (int t = 0; t < TRAIN_TASK_COUNT; ++t)
    if (name == kTaskNames[t]) {
      *out = TrainTask(t);
      return true;
    }
  return false;
}

const char* train_task_name(TrainTask task) { return task >= 0 && task < TRAIN_TASK_COUNT ? kTaskNames[task] : "?"; }

const char* train_optimizer_name(TrainOptimizer opt) {
  return opt >= 0 && opt < TRAIN_OPTIMIZER_COUNT ? kOptimizerNames[opt] : "?";
}

bool train_optimizer_from_name(const std::string& name, TrainOptimizer* out) {
  for (int o = 0; o < TRAIN_OPTIMIZER_COUNT; ++o)
    if (name == kOptimizerNames[o]) {
      *out = TrainOptimizer(o);
      return true;
    }
  return false;
}

bool train_task_causal(TrainTask task) { return task == TRAIN_TASK_INDUCTION; }

std::vector<std::string> train_task_vocab(int vocab) {
  std::vector<std::string> v;
  for (int i = 0; i < vocab; ++i) v.push_back(std::to_string(i));
  return v;
}

TrainBatch train_task_batch(TrainTask task, int length, int vocab, int batch, Rng* rng) {
  TrainBatch b;
  for (int s = 0; s < batch; ++s) {
    std::vector<int> x(static_cast<size_t>(length));
    for (int& t : x) t = int(rng_next_u64(rng) % uint64_t(vocab));
    std::vector<int> in = x, target = x;
    switch (task) {
      case TRAIN_TASK_COPY:
      case TRAIN_TASK_COUNT: break;
      case TRAIN_TASK_REVERSE: std::reverse(target.begin(), target.end()); break;
      case TRAIN_TASK_SORT: std::sort(target.begin(), target.end()); break;
      case TRAIN_TASK_INDUCTION: {
        // [a_1..a_L, f_1..f_k, a_1..a_L] with k random in [0, L): position t predicts token t+1, counted over the
        // second occurrence only. The random gap k means no fixed offset finds the answer: the model has to find
        // the earlier occurrence of the current token and copy what followed it (an induction head). The a_i are
        // distinct and the fillers avoid them (when the vocabulary allows), so that earlier occurrence is unique.
        std::vector<int> pool(static_cast<size_t>(vocab));
        std::iota(pool.begin(), pool.end(), 0);
        for (int i = 0; i < vocab - 1; ++i) std::swap(pool[size_t(i)], pool[size_t(i + int(rng_next_u64(rng) % uint64_t(vocab - i)))]);
        if (length <= vocab) x.assign(pool.begin(), pool.begin() + length);
        const int k = int(rng_next_u64(rng) % uint64_t(length));
        in = x;
        for (int f = 0; f < k; ++f)
          in.push_back(length < vocab ? pool[size_t(length + int(rng_next_u64(rng) % uint64_t(vocab - length)))]
                                      : int(rng_next_u64(rng) % uint64_t(vocab)));
        const size_t second = in.size();
        in.insert(in.end(), x.begin(), x.end());
        target.assign(in.size(), kIgnoreTarget);
        for (size_t t = second; t + 1 < in.size(); ++t) target[t] = in[t + 1];
        break;
      }
    }
    b.inputs.push_back(std::move(in));
    b.targets.push_back(std::move(target));
  }
  return b;
}

// [Check] --------------------------------------------------------------------------------------------------
bool train_check_config(const Config& c, std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  if (c.mode == MODEL_MODE_ATTENTION)
    return fail("train: mode must be \"transformer\" or \"seq2seq\" (training trains the tiny Transformer or the translator)");
  if (!c.mask.padding.empty() || !c.mask.cells.empty())
    return fail("train: attention.mask.padding and attention.mask.cells name positions of one text; training uses causal and window only");
  return true;
}

// [Gradients] ----------------------------------------------------------------------------------------------
ModelWeights weights_zeros_like(const ModelWeights& w) {
  ModelWeights z = w;
  for (ParamRef p : weights_params(&z)) std::fill(p.data, p.data + p.size, 0.0f);
  return z;
}

std::vector<ParamRef> weights_params(ModelWeights* w) {
  std::vector<ParamRef> out;
  auto add = [&out](auto& m) {
    if (m.size() > 0) out.push_back({m.data(), size_t(m.size())});
  };
  add(w->embedding);
  add(w->pos_embedding);
  for (LayerWeights& lw : w->layers) {
    add(lw.self_attn.in_proj_w);
    add(lw.self_attn.in_proj_b);
    add(lw.self_attn.out_proj_w);
    add(lw.self_attn.out_proj_b);
    add(lw.linear1_w);
    add(lw.linear1_b);
    add(lw.linear2_w);
    add(lw.linear2_b);
    add(lw.norm1_w);
    add(lw.norm1_b);
    add(lw.norm2_w);
    add(lw.norm2_b);
  }
  add(w->fc_out_w);
  add(w->fc_out_b);
  Seq2SeqWeights& sw = w->seq2seq;  // mode seq2seq (empty otherwise)
  add(sw.tgt_embedding);
  add(sw.tgt_pos_embedding);
  for (DecoderLayerWeights& dl : sw.decoder) {
    for (MhaWeights* m : {&dl.self_attn, &dl.cross_attn}) {
      add(m->in_proj_w);
      add(m->in_proj_b);
      add(m->out_proj_w);
      add(m->out_proj_b);
    }
    add(dl.linear1_w);
    add(dl.linear1_b);
    add(dl.linear2_w);
    add(dl.linear2_b);
    for (Vec* v : {&dl.norm1_w, &dl.norm1_b, &dl.norm2_w, &dl.norm2_b, &dl.norm3_w, &dl.norm3_b}) add(*v);
  }
  add(sw.enc_norm_w);
  add(sw.enc_norm_b);
  add(sw.dec_norm_w);
  add(sw.dec_norm_b);
  return out;
}

TrainResult train_loss_and_grads(const Config& c, const ModelWeights& w, const TrainBatch& batch, bool causal,
                                 ModelWeights* grads) {
  *grads = weights_zeros_like(w);
  TrainResult r;
  for (const auto& t : batch.targets)
    for (int v : t) r.counted += v != kIgnoreTarget ? 1 : 0;
  if (r.counted == 0) return r;
  NetSpec spec = net_spec(c, w);       // the network model_compute runs (network.h)
  const GemmWeightScope packed_once;    // w is const here: each weight matrix is packed once for all sequences
  NetOptions o;
  o.for_backward = true;
  // Kept from call to call: a step's activations (a few MB for the Train panel's model) land in the last step's
  // buffers. Natively, fresh buffers of that size are mmaps, and their page faults took 9 % of a step.
  thread_local NetActs acts;
  double loss = 0;
  int correct = 0;
  // The sequences of one length go through the network together, stacked (NetSpec::segment): one product per
  // linear layer for all of them instead of one per sequence (issue 14: the products were 24 rows tall). Toy tasks
  // have one length per batch; given data may have several.
  std::vector<int> lengths;
  for (const auto& ids : batch.inputs)
    if (std::find(lengths.begin(), lengths.end(), int(ids.size())) == lengths.end()) lengths.push_back(int(ids.size()));
  std::vector<int> ids, targets;
  Mat d_logits;
  for (const int n : lengths) {
    if (n == 0) continue;
    ids.clear();
    targets.clear();
    for (size_t s = 0; s < batch.inputs.size(); ++s)
      if (int(batch.inputs[s].size()) == n) {
        ids.insert(ids.end(), batch.inputs[s].begin(), batch.inputs[s].end());
        targets.insert(targets.end(), batch.targets[s].begin(), batch.targets[s].end());
      }
    MaskSpec mask_spec;
    mask_spec.causal = causal || c.mask.causal;
    mask_spec.window = c.mask.window;
    const bool has_mask = !mask_spec_is_empty(mask_spec);
    const MaskMat mask = has_mask ? mask_build(mask_spec, n, n) : MaskMat();
    spec.segment = n;
    net_forward(spec, w, ids, has_mask ? &mask : nullptr, o, &acts);
    loss += cross_entropy_forward_backward(acts.logits, targets, r.counted, &d_logits, &correct);
    net_backward(spec, w, ids, acts, d_logits, grads);
  }
  r.loss = loss / r.counted;
  r.accuracy = double(correct) / r.counted;
  return r;
}

// [Steps] --------------------------------------------------------------------------------------------------
void train_state_init(TrainState* s, ModelWeights weights) {
  s->weights = std::move(weights);
  s->adam_m = weights_zeros_like(s->weights);
  s->adam_v = weights_zeros_like(s->weights);
  s->step = 0;
}

// One tensor's Adam update. The four arrays never overlap (separate ModelWeights): __restrict lets the compiler
// vectorise the loop (sqrt and division stay IEEE per element, so the numbers are the scalar loop's).
constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;  // torch.optim.Adam's defaults
static void adam_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, size_t n,
                        float step_size, float bc2_sqrt) {
  for (size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    m[i] = m[i] * kAdamBeta1 + gi * (1.0f - kAdamBeta1);
    v[i] = v[i] * kAdamBeta2 + gi * gi * (1.0f - kAdamBeta2);
    const float denom = std::sqrt(v[i]) / bc2_sqrt + kAdamEps;
    p[i] -= step_size * (m[i] / denom);
  }
}

void train_optimizer_apply(TrainState* s, ModelWeights* g, TrainOptimizer opt, float lr) {
  ++s->step;
  const std::vector<ParamRef> ps = weights_params(&s->weights), gs = weights_params(g);
  if (opt == TRAIN_OPTIMIZER_SGD) {
    for (size_t t = 0; t < ps.size(); ++t)
      for (size_t i = 0; i < ps[t].size; ++i) ps[t].data[i] -= lr * gs[t].data[i];  // torch.optim.SGD: p.add_(g, alpha=-lr)
    return;
  }
  // torch.optim.Adam (single-tensor path): m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
  // p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
  const std::vector<ParamRef> ms = weights_params(&s->adam_m), vs = weights_params(&s->adam_v);
  const double bc1 = 1.0 - std::pow(double(kAdamBeta1), double(s->step)), bc2 = 1.0 - std::pow(double(kAdamBeta2), double(s->step));
  const float step_size = float(lr / bc1), bc2_sqrt = float(std::sqrt(bc2));
  for (size_t t = 0; t < ps.size(); ++t) adam_update(ps[t].data, gs[t].data, ms[t].data, vs[t].data, ps[t].size, step_size, bc2_sqrt);
}

TrainResult train_step(const Config& c, TrainState* s, const TrainBatch& batch, bool causal, TrainOptimizer opt, float lr) {
  ModelWeights g;
  const TrainResult r = train_loss_and_grads(c, s->weights, batch, causal, &g);
  train_optimizer_apply(s, &g, opt, lr);
  return r;
}

// [Session] ------------------------------------------------------------------------------------------------
bool train_session_spec_equal(const TrainSessionSpec& a, const TrainSessionSpec& b) {
  return a.translation == b.translation && a.task == b.task && a.length == b.length && a.vocab == b.vocab &&
         a.batch == b.batch && a.optimizer == b.optimizer && a.lr == b.lr;
}

const char* train_session_task_name(const TrainSessionSpec& spec) {
  return spec.translation >= 0 ? translation_task_name(TranslationTask(spec.translation)) : train_task_name(spec.task);
}

bool train_session_begin(TrainSession* s, const Config& c, const TrainSessionSpec& spec, std::string* error) {
  if (!train_check_config(c, error)) return false;
  const std::string task = train_session_task_name(spec);
  if (spec.translation >= 0 && c.mode != MODEL_MODE_SEQ2SEQ)
    return *error = "mode must be \"seq2seq\" for the translation task " + task + " (it trains an encoder-decoder)", false;
  if (spec.translation < 0 && c.mode != MODEL_MODE_TRANSFORMER)
    return *error = "mode must be \"transformer\" for the task " + task + " (it trains the tiny Transformer)", false;
  ModelWeights start;
  if (spec.translation >= 0) {
    const TranslationTask task = TranslationTask(spec.translation);
    start = translation_task_weights(task, c);
    if (!translation_check(task, c, start, error)) return false;
  } else {
    Config vc = c;  // seeded over the task's vocabulary ("0" .. "vocab-1"), not the example's tokens
    vc.tokens = train_task_vocab(spec.vocab);
    vc.cross = false;
    start = weights_seeded(vc);
  }
  s->config = c;
  s->spec = spec;
  train_state_init(&s->state, std::move(start));
  s->rng = rng_stream(1, std::string("train/ui/") + train_session_task_name(spec));  // the panel's stream since issue 7
  return true;
}

std::vector<float> train_params_pack(const ModelWeights& w) {
  std::vector<float> out;
  for (const ParamRef& p : weights_params(const_cast<ModelWeights*>(&w))) out.insert(out.end(), p.data, p.data + p.size);
  return out;
}

bool train_params_unpack(const float* data, size_t count, ModelWeights* w) {
  const std::vector<ParamRef> params = weights_params(w);
  size_t total = 0;
  for (const ParamRef& p : params) total += p.size;
  if (total != count) return false;
  for (const ParamRef& p : params) {
    std::copy(data, data + p.size, p.data);
    data += p.size;
  }
  return true;
}

TrainResult train_session_step(TrainSession* s) {
  const TrainSessionSpec& p = s->spec;
  if (p.translation >= 0) {
    const TranslationBatch b = translation_task_batch(TranslationTask(p.translation), s->state.weights, p.batch, &s->rng);
    return translation_train_step(s->config, &s->state, b, p.optimizer, p.lr);
  }
  const TrainBatch b = train_task_batch(p.task, p.length, p.vocab, p.batch, &s->rng);
  return train_step(s->config, &s->state, b, train_task_causal(p.task), p.optimizer, p.lr);
}

std::vector<uint8_t> train_session_snapshot(const TrainSession& s) {
  const std::vector<float> w = train_params_pack(s.state.weights), m = train_params_pack(s.state.adam_m),
                           v = train_params_pack(s.state.adam_v);
  std::vector<uint8_t> out(16 + 4 * (w.size() + m.size() + v.size()));
  const uint64_t head[2] = {s.rng.state, uint64_t(s.state.step)};
  std::memcpy(out.data(), head, 16);  // (WebAssembly and every native target here are little-endian)
  uint8_t* p = out.data() + 16;
  for (const std::vector<float>* part : {&w, &m, &v}) {
    std::memcpy(p, part->data(), 4 * part->size());
    p += 4 * part->size();
  }
  return out;
}

bool train_session_restore(TrainSession* s, const uint8_t* bytes, size_t size, std::string* error) {
  const size_t n = train_params_pack(s->state.weights).size();
  if (size != 16 + 12 * n)
    return *error = "training state: " + std::to_string(size) + " bytes, this model's is " + std::to_string(16 + 12 * n), false;
  uint64_t head[2];
  std::memcpy(head, bytes, 16);
  if (int64_t(head[1]) < 0) return *error = "training state: negative step", false;
  std::vector<float> f(3 * n);
  std::memcpy(f.data(), bytes + 16, 12 * n);
  for (float x : f)
    if (!std::isfinite(x)) return *error = "training state: a value is not finite", false;
  TrainState st = s->state;
  train_params_unpack(f.data(), n, &st.weights);
  train_params_unpack(f.data() + n, n, &st.adam_m);
  train_params_unpack(f.data() + 2 * n, n, &st.adam_v);
  st.step = int64_t(head[1]);
  s->state = std::move(st);
  s->rng.state = head[0];
  return true;
}

std::string train_session_spec_json(const TrainSessionSpec& p) {
  return nlohmann::json{{"task", train_session_task_name(p)}, {"length", p.length},  {"vocab", p.vocab},
                        {"batch", p.batch}, {"optimizer", train_optimizer_name(p.optimizer)}, {"lr", p.lr}}
      .dump();
}

bool train_session_spec_parse(const std::string& text, TrainSessionSpec* out, std::string* error) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return *error = "trainer: the spec must be a JSON object", false;
  TrainSessionSpec p;
  const auto int_field = [&](const char* name, int lo, int hi, int* v) {
    if (!j.contains(name)) return true;
    const nlohmann::json& f = j[name];
    if (!f.is_number_integer() || f.get<int64_t>() < lo || f.get<int64_t>() > hi)
      return *error = std::string(name) + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                      " (got " + f.dump() + ")",
             false;
    *v = f.get<int>();
    return true;
  };
  const std::string task = j.value("task", std::string("reverse"));
  TranslationTask tt;
  if (translation_task_from_name(task, &tt)) p.translation = int(tt);
  else if (!train_task_from_name(task, &p.task))
    return *error = "task must be copy, reverse, sort, induction, date, numbers, numbers_zh or sov (got " + task + ")", false;
  if (!int_field("length", 2, 64, &p.length) || !int_field("vocab", 2, 100, &p.vocab) || !int_field("batch", 1, 256, &p.batch))
    return false;
  if (j.contains("optimizer") && (!j["optimizer"].is_string() || !train_optimizer_from_name(j["optimizer"].get<std::string>(), &p.optimizer)))
    return *error = "optimizer must be \"sgd\" or \"adam\" (got " + j["optimizer"].dump() + ")", false;
  if (j.contains("lr")) {
    if (!j["lr"].is_number() || !(j["lr"].get<double>() > 0) || !std::isfinite(j["lr"].get<double>()))
      return *error = "lr must be a finite number > 0 (got " + j["lr"].dump() + ")", false;
    p.lr = j["lr"].get<float>();
  }
  *out = p;
  return true;
}

// [Run] ----------------------------------------------------------------------------------------------------
namespace {

using json = nlohmann::json;

struct RunError {
  std::string message;
};

// DATA.json -> rows of tokens (strings) or ids; targets may be null / -100 (ignored).
struct DataRows {
  bool strings = false;
  std::vector<std::vector<json>> inputs, targets;
};

DataRows parse_data(const std::string& text) {
  if (!json_nesting_ok(text)) throw RunError{"data: nested deeper than 32 levels"};
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw RunError{"data: not a JSON object {\"inputs\": [[...]], \"targets\": [[...]]}"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "inputs" && it.key() != "targets") throw RunError{"data: unknown field '" + it.key() + "' (known: inputs, targets)"};
  DataRows d;
  bool seen_string = false, seen_int = false;
  for (const char* key : {"inputs", "targets"}) {
    if (!j.contains(key) || !j[key].is_array() || j[key].empty())
      throw RunError{std::string("data.") + key + " must be a non-empty list of rows"};
    auto& rows = std::string(key) == "inputs" ? d.inputs : d.targets;
    for (size_t r = 0; r < j[key].size(); ++r) {
      const json& row = j[key][r];
      const std::string where = std::string("data.") + key + "[" + std::to_string(r) + "]";
      if (!row.is_array() || row.empty()) throw RunError{where + " must be a non-empty list"};
      if (row.size() > size_t(config_limits().max_tokens))
        throw RunError{where + " has " + std::to_string(row.size()) + " tokens (at most " + std::to_string(config_limits().max_tokens) + ")"};
      for (size_t i = 0; i < row.size(); ++i) {
        const json& v = row[i];
        const bool ignore = std::string(key) == "targets" && (v.is_null() || (v.is_number_integer() && v.get<int64_t>() == kIgnoreTarget));
        if (ignore) continue;
        if (v.is_string()) seen_string = true;
        else if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < 1000000) seen_int = true;
        else throw RunError{where + "[" + std::to_string(i) + "] must be a token string or a vocabulary id >= 0" +
                            (std::string(key) == "targets" ? " (null or -100: not counted)" : "")};
      }
      rows.push_back(row.get<std::vector<json>>());
    }
  }
  if (seen_string && seen_int) throw RunError{"data: use token strings or vocabulary ids, not both"};
  d.strings = seen_string;
  if (d.inputs.size() != d.targets.size())
    throw RunError{"data: " + std::to_string(d.inputs.size()) + " input rows but " + std::to_string(d.targets.size()) + " target rows"};
  for (size_t r = 0; r < d.inputs.size(); ++r)
    if (d.inputs[r].size() != d.targets[r].size())
      throw RunError{"data.targets[" + std::to_string(r) + "] has " + std::to_string(d.targets[r].size()) + " entries but data.inputs[" +
                     std::to_string(r) + "] has " + std::to_string(d.inputs[r].size())};
  return d;
}

}  // namespace

// Start weights from a safetensors file, checked against the config (refused by name).
static void load_start(const Config& c, const uint8_t* weights, size_t weights_size, ModelWeights* start) {
  SafeTensorsFile f;
  std::string error;
  if (!safetensors_read(weights, weights_size, &f, &error) || !weights_from_safetensors(f, c, start, &error))
    throw RunError{error};
}

// `attnplay train` in mode seq2seq: a translation task with teacher forcing.
static bool translation_run(const Config& c, const uint8_t* weights, size_t weights_size, const TrainRunOptions& o,
                            const std::function<void(int, const TrainResult&)>& progress, std::vector<uint8_t>* out_file,
                            std::string* error) {
  TranslationTask task{};
  if (o.task.empty() || !translation_task_from_name(o.task, &task))
    throw RunError{"train: mode \"seq2seq\" trains a translation task: --task date, numbers, numbers_zh or sov" +
                   std::string(o.task.empty() ? " (--data is for mode \"transformer\")" : " (got '" + o.task + "')")};
  ModelWeights start;
  if (weights) load_start(c, weights, weights_size, &start);
  else start = translation_task_weights(task, c);
  // The task's tokens in the vocabularies (a weights file made for another task is refused), positions, lengths.
  std::string e;
  if (!translation_check(task, c, start, &e)) throw RunError{e};
  TrainState st;
  train_state_init(&st, std::move(start));
  Rng rng = rng_stream(o.seed, "train/" + o.task);
  for (int step = 1; step <= o.steps; ++step) {
    const TrainResult r = translation_train_step(c, &st, translation_task_batch(task, st.weights, o.batch, &rng), o.optimizer, o.lr);
    if (!std::isfinite(r.loss)) throw RunError{"train: the loss became " + std::to_string(r.loss) + " at step " + std::to_string(step) + " (try a smaller --lr)"};
    if (progress) progress(step, r);
  }
  *out_file = safetensors_write(weights_to_safetensors(st.weights));
  return true;
}

bool train_run(const std::string& config_text, const uint8_t* weights, size_t weights_size, const TrainRunOptions& o,
               const std::function<void(int, const TrainResult&)>& progress, std::vector<uint8_t>* out_file,
               std::string* error) {
  try {
    Config c;
    if (!config_parse_text(config_text, &c, error)) return false;
    if (!train_check_config(c, error)) return false;
    if (o.steps < 1 || o.steps > 10000000) throw RunError{"--steps must be from 1 to 10000000 (got " + std::to_string(o.steps) + ")"};
    if (o.batch < 1 || o.batch > 4096) throw RunError{"--batch must be from 1 to 4096 (got " + std::to_string(o.batch) + ")"};
    if (!(o.lr > 0) || !std::isfinite(o.lr)) throw RunError{"--lr must be a positive number"};
    if (o.task.empty() == o.data_text.empty()) throw RunError{"train needs exactly one of --task NAME and --data DATA.json"};
    if (c.mode == MODEL_MODE_SEQ2SEQ) return translation_run(c, weights, weights_size, o, progress, out_file, error);
    TrainTask task = TRAIN_TASK_COPY;
    DataRows data;
    if (!o.task.empty()) {
      if (!train_task_from_name(o.task, &task)) throw RunError{"--task must be copy, reverse, sort or induction (got '" + o.task + "')"};
      if (o.length < 1 || o.length > config_limits().max_tokens / 2)
        throw RunError{"--length must be from 1 to " + std::to_string(config_limits().max_tokens / 2) + " (got " + std::to_string(o.length) + ")"};
      if (o.vocab < 2 || o.vocab > 10000) throw RunError{"--vocab must be from 2 to 10000 (got " + std::to_string(o.vocab) + ")"};
    } else {
      data = parse_data(o.data_text);
    }
    // Start weights: the file, or seeded over the task's / data's vocabulary.
    ModelWeights start;
    if (weights) {
      load_start(c, weights, weights_size, &start);
    } else {
      std::vector<std::string> vocab;
      if (!o.task.empty()) {
        vocab = train_task_vocab(o.vocab);
      } else if (data.strings) {
        for (const auto* rows : {&data.inputs, &data.targets})
          for (const auto& row : *rows)
            for (const json& v : row)
              if (v.is_string() && std::find(vocab.begin(), vocab.end(), v.get<std::string>()) == vocab.end())
                vocab.push_back(v.get<std::string>());
      } else {
        int64_t mx = 0;
        for (const auto* rows : {&data.inputs, &data.targets})
          for (const auto& row : *rows)
            for (const json& v : row)
              if (v.is_number_integer()) mx = std::max(mx, v.get<int64_t>());
        vocab = train_task_vocab(int(mx + 1));
      }
      Config vc = c;
      vc.tokens = vocab;
      vc.cross = false;
      start = weights_seeded(vc);
    }
    const int V = int(start.vocab.size());
    // Data rows -> ids.
    TrainBatch all;
    if (o.task.empty()) {
      for (size_t r = 0; r < data.inputs.size(); ++r) {
        std::vector<int> in, tg;
        for (size_t i = 0; i < data.inputs[r].size(); ++i) {
          const json& v = data.inputs[r][i];
          const json& t = data.targets[r][i];
          auto id_of = [&](const json& x, const std::string& where) {
            if (x.is_string()) {
              std::vector<int> ids;
              std::string e;
              if (!weights_token_ids(start, {x.get<std::string>()}, &ids, &e)) throw RunError{where + ": " + e};
              return ids[0];
            }
            const int64_t id = x.get<int64_t>();
            if (id >= V) throw RunError{where + " = " + std::to_string(id) + " is not a vocabulary id (the vocabulary has " + std::to_string(V) + " tokens)"};
            return int(id);
          };
          const std::string at = "[" + std::to_string(r) + "][" + std::to_string(i) + "]";
          in.push_back(id_of(v, "data.inputs" + at));
          tg.push_back(t.is_null() || (t.is_number_integer() && t.get<int64_t>() == kIgnoreTarget) ? kIgnoreTarget : id_of(t, "data.targets" + at));
        }
        all.inputs.push_back(std::move(in));
        all.targets.push_back(std::move(tg));
      }
    }
    const int max_len = o.task.empty() ? int(std::max_element(all.inputs.begin(), all.inputs.end(), [](auto& a, auto& b) { return a.size() < b.size(); })->size())
                                       : (task == TRAIN_TASK_INDUCTION ? 3 * o.length - 1 : o.length);
    if (c.positional == POSITIONAL_KIND_LEARNED && start.pos_embedding.rows() < max_len)
      throw RunError{"train: learned positions have " + std::to_string(start.pos_embedding.rows()) + " rows but sequences have " +
                     std::to_string(max_len) + " tokens"};
    const bool causal = !o.task.empty() && train_task_causal(task);
    TrainState st;
    train_state_init(&st, std::move(start));
    Rng rng = rng_stream(o.seed, "train/" + (o.task.empty() ? std::string("data") : o.task));
    std::vector<size_t> order(all.inputs.size());
    std::iota(order.begin(), order.end(), size_t(0));
    size_t cursor = order.size();
    for (int step = 1; step <= o.steps; ++step) {
      TrainBatch b;
      if (!o.task.empty()) {
        b = train_task_batch(task, o.length, V, o.batch, &rng);
      } else if (size_t(o.batch) >= all.inputs.size()) {
        b = all;  // the whole data set every step
      } else {
        for (int k = 0; k < o.batch; ++k) {
          if (cursor >= order.size()) {  // a new epoch: reshuffle (Fisher–Yates on the seeded stream)
            for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[size_t(rng_next_u64(&rng) % i)]);
            cursor = 0;
          }
          b.inputs.push_back(all.inputs[order[cursor]]);
          b.targets.push_back(all.targets[order[cursor]]);
          ++cursor;
        }
      }
      const TrainResult r = train_step(c, &st, b, causal, o.optimizer, o.lr);
      if (!std::isfinite(r.loss)) throw RunError{"train: the loss became " + std::to_string(r.loss) + " at step " + std::to_string(step) + " (try a smaller --lr)"};
      if (progress) progress(step, r);
    }
    *out_file = safetensors_write(weights_to_safetensors(st.weights));
    return true;
  } catch (const RunError& e) {
    if (error) *error = e.message;
    return false;
  } catch (const std::bad_alloc&) {
    if (error) *error = "out of memory: use fewer or shorter sequences, or a smaller model";
    return false;
  }
}

}  // namespace attnplay
