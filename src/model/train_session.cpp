// attnplay model: training sessions. Contracts: train_session.h.
#include "model/train_session.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>

namespace attnplay {

bool train_session_spec_equal(const TrainSessionSpec& a, const TrainSessionSpec& b) {
  return a.translation == b.translation && a.task == b.task && a.length == b.length && a.vocab == b.vocab &&
         a.batch == b.batch && a.optimizer == b.optimizer && a.lr == b.lr;
}

const char* train_session_task_name(const TrainSessionSpec& spec) {
  return spec.translation ? translation_task_name(*spec.translation) : train_task_name(spec.task);
}

bool train_session_begin(TrainSession* s, const Config& c, const TrainSessionSpec& spec, std::string* error) {
  if (!train_check_config(c, error)) return false;
  const std::string task = train_session_task_name(spec);
  if (spec.translation && c.mode != MODEL_MODE_SEQ2SEQ)
    return *error = "mode must be \"seq2seq\" for the translation task " + task + " (it trains an encoder-decoder)", false;
  if (!spec.translation && c.mode != MODEL_MODE_TRANSFORMER)
    return *error = "mode must be \"transformer\" for the task " + task + " (it trains the tiny Transformer)", false;
  ModelWeights start;
  if (spec.translation) {
    const TranslationTask task = *spec.translation;
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
  if (p.translation) {
    const TranslationBatch b = translation_task_batch(*p.translation, s->state.weights, p.batch, &s->rng);
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
  if (translation_task_from_name(task, &tt)) p.translation = tt;
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

}  // namespace attnplay
