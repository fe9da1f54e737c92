// attnplay model: `attnplay train`, the CLI's whole job. Contracts: train_run.h.
#include "model/train_run.h"

#include "model/weights.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace attnplay {

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
    if (positional_info(c.positional).learned && start.pos_embedding.rows() < max_len)
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
