// attnplay ui: the Train panel. Steps run in the host's worker when it has one (the web page: a Web Worker with its
// own engine, AppTrainRemote), which streams the weights back ten times a second; otherwise inside the frame, a few
// milliseconds at a time (budget_ms), so the page keeps drawing. Either way the trained weights replace the state's
// ten times a second and the views recompute with them.
#include "model/config_edit.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"

#include <chrono>
#include <cmath>
#include <cstdio>

namespace attnplay {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;


// Mean of history over bucket i of `count` buckets: the plots show at most a few hundred points however long it runs.
struct Buckets {
  const std::vector<float>* v;
  int count;
};
float bucket_mean(void* data, int i) {
  const Buckets& b = *static_cast<Buckets*>(data);
  const size_t n = b.v->size(), lo = n * size_t(i) / size_t(b.count), hi = std::max(lo + 1, n * size_t(i + 1) / size_t(b.count));
  double s = 0;
  for (size_t k = lo; k < hi && k < n; ++k) s += (*b.v)[k];
  return float(s / double(hi - lo));
}

void notice(App* app, StrId id, const std::string& what) {
  char buf[512];
  std::snprintf(buf, sizeof buf, tr(id), what.c_str());
  app->notices.push_back(buf);
}

// One training step on a fresh batch of the task, in the frame.
TrainResult step_once(App* app) {
  AppTraining& t = app->training;
  t.session.spec = t.spec;
  const TrainResult r = train_session_step(&t.session);
  if (t.spec.translation) t.alignment.push_back(float(r.alignment));
  t.loss.push_back(float(r.loss));
  t.accuracy.push_back(float(r.accuracy));
  return r;
}

const char* task_label(const AppTraining& t) {
  return train_session_task_name(t.spec);
}

// The task's model on the state: config c (its example, its mask) shown, then the session begun from it.
bool session_begin(App* app, const json& c) {
  AppState& s = app->state;
  AppTraining& t = app->training;
  std::string error;
  if (!ui_edit(app, c)) {
    notice(app, S_TRAIN_STOPPED, s.error);
    return false;
  }
  if (!train_session_begin(&t.session, s.parsed, t.spec, &error)) {
    notice(app, S_TRAIN_STOPPED, error);
    return false;
  }
  t.session_config = s.config;
  return true;
}

// A translation task's model: the encoder-decoder on the task's fixed example, seeded over its vocabularies.
bool translation_begin(App* app) {
  const TranslationExample ex = translation_task_display(*app->training.spec.translation);
  return session_begin(app, config_json_reset_mask(config_json_set_input(
                                app->state.config, MODEL_MODE_SEQ2SEQ, {{"source_tokens", ex.source}, {"target_tokens", ex.target}})));
}

// The views follow the model: its weights become the state's.
bool publish(App* app) {
  std::string error;
  if (app_state_set_weights(&app->state, std::make_shared<ModelWeights>(app->training.session.state.weights), &error))
    return true;
  app->training.running = false;
  notice(app, S_TRAIN_STOPPED, error);
  return false;
}

// The session just begun runs its steps in the host's worker, when there is one.
void remote_open(App* app) {
  AppTraining& t = app->training;
  if (!t.remote) return;
  t.remote_spec = t.session.spec;
  t.remote_state.clear();
  t.remote_state_steps = 0;
  t.remote_session = t.remote->open(t.generation, app->state.config.dump(), train_session_spec_json(t.remote_spec), {});
}

}  // namespace

void train_remote_update(App* app, uint64_t generation, const float* params, size_t count, const std::string& progress_json,
                         const std::vector<uint8_t>& state) {
  AppTraining& t = app->training;
  if (!t.started || !t.remote_session || generation != t.generation) return;  // Reset or a newer session since
  const json p = json::parse(progress_json, nullptr, false);
  if (!p.is_object()) return;
  if (p.contains("unavailable")) {  // the worker could not start: this page trains in the frame from now on
    t.remote_session = false;
    t.remote = nullptr;
    return;
  }
  const auto append = [&](const char* key, std::vector<float>* to) {
    if (p.contains(key) && p[key].is_array())
      for (const json& v : p[key]) to->push_back(v.is_number() ? v.get<float>() : NAN);
  };
  append("loss", &t.loss);
  append("accuracy", &t.accuracy);
  append("alignment", &t.alignment);
  if (p.contains("step") && p["step"].is_number_integer()) t.session.state.step = p["step"].get<int64_t>();
  if (p.contains("steps_per_s") && p["steps_per_s"].is_number()) t.steps_per_s = p["steps_per_s"].get<double>();
  if (params && !train_params_unpack(params, count, &t.session.state.weights)) {
    t.running = false;
    t.remote->run(t.generation, false);
    notice(app, S_TRAIN_STOPPED, "the training worker sent weights of another model");
    return;
  }
  if (!state.empty()) {
    t.remote_state = state;
    t.remote_state_steps = t.loss.size();
  }
  if (p.contains("error") && p["error"].is_string()) {
    t.running = false;
    notice(app, S_TRAIN_STOPPED, p["error"].get<std::string>());
  }
  publish(app);
}

bool train_begin(App* app) {
  AppState& s = app->state;
  AppTraining& t = app->training;
  std::string error;
  app_state_set_weights(&s, nullptr, &error);  // seeded again: the example's tokens must not meet an old vocabulary
  t.loss.clear();
  t.accuracy.clear();
  t.alignment.clear();
  t.steps_per_s = 0;
  if (t.remote && t.remote_session) t.remote->close(t.generation);
  t.remote_session = false;
  ++t.generation;
  if (t.spec.translation) {
    if (!translation_begin(app)) return false;
    t.started = true;
    remote_open(app);
    return publish(app);
  }
  // The task's model: the tiny Transformer on one example sequence, with the task's mask.
  Rng ex = rng_stream(7, "train/example");
  const TrainBatch example = train_task_batch(t.spec.task, t.spec.length, t.spec.vocab, 1, &ex);
  std::string text;
  for (int id : example.inputs[0]) text += (text.empty() ? "" : " ") + std::to_string(id);
  if (!session_begin(app, config_json_reset_mask(config_json_set_input(s.config, MODEL_MODE_TRANSFORMER,
                                                                       {{"text", text}, {"tokenizer", "whitespace"}}),
                                                 train_task_causal(t.spec.task))))
    return false;
  t.started = true;
  remote_open(app);
  return publish(app);
}

void train_reset(App* app) {
  AppTraining& t = app->training;
  if (t.remote && t.remote_session) t.remote->close(t.generation);
  t.remote_session = false;
  ++t.generation;  // whatever the worker still sends is dropped
  t.running = false;
  t.started = false;
  t.loss.clear();
  t.accuracy.clear();
  t.alignment.clear();
  t.session = TrainSession();
  t.session_config = nlohmann::json();
  std::string error;
  app_state_set_weights(&app->state, nullptr, &error);
}

void train_tick(App* app) {
  AppTraining& t = app->training;
  // A preset with a train task (the translation presets) selects it, unless a model is being trained.
  if (app->state.preset_id != t.preset_seen) {
    t.preset_seen = app->state.preset_id;
    const Preset* p = preset_find(app->state.preset_id);
    TranslationTask task;
    if (p && !t.started && translation_task_from_name(p->train_task, &task)) {
      t.spec.translation = task;
      app->state.sel.mean_heads = true;  // the alignment figure: the mean of the heads
    }
  }
  const double now = std::chrono::duration<double, std::milli>(Clock::now().time_since_epoch()).count();
  if (t.last_frame_at >= 0) {
    const double period = now - t.last_frame_at;
    t.frame_period_ms = t.frame_period_ms > 0 ? 0.8 * t.frame_period_ms + 0.2 * period : period;
  }
  t.last_frame_at = now;
  if (t.remote_session) {  // the worker steps; the panel only forwards edits of the optimiser, lr and batch
    if (!train_session_spec_equal(t.spec, t.remote_spec)) {  // a field compare each frame, JSON only on an edit
      t.remote_spec = t.spec;
      t.remote->set(t.generation, train_session_spec_json(t.spec));
    }
    return;
  }
  if (!t.running || !t.started) return;
  // The page keeps 30 frames per second: the slice shrinks while frames run long and grows while they are short.
  if (t.frame_period_ms > 32.0) t.budget_ms = std::max(1.0, t.budget_ms * 0.85);
  else if (t.frame_period_ms > 0 && t.frame_period_ms < 28.0) t.budget_ms = std::min(16.0, t.budget_ms * 1.1);
  // Each frame adds its slice to a credit that steps spend: when one step takes longer than a slice, frames with a
  // step and frames without alternate, and the average frame still keeps its budget.
  t.credit_ms = std::min(t.credit_ms + t.budget_ms, t.budget_ms);
  int steps = 0;
  while (t.credit_ms > 0 && steps < 10000) {
    const auto s0 = Clock::now();
    const TrainResult r = step_once(app);
    ++steps;
    t.credit_ms -= std::chrono::duration<double, std::milli>(Clock::now() - s0).count();
    if (!std::isfinite(r.loss)) {
      t.running = false;
      notice(app, S_TRAIN_STOPPED, "the loss is not finite (try a smaller learning rate)");
      break;
    }
  }
  const double rate = t.frame_period_ms > 0 ? steps * 1000.0 / t.frame_period_ms : 0;  // steps per second of wall time
  t.steps_per_s = t.steps_per_s > 0 ? 0.9 * t.steps_per_s + 0.1 * rate : rate;
  // The views follow ten times a second (each publish recomputes the trace and its textures), and when paused.
  if (!t.running || t.last_publish_at < 0 || now - t.last_publish_at >= 100.0) {
    t.last_publish_at = now;
    publish(app);
  }
}

void section_train(App* app) {
  AppTraining& t = app->training;
  const float w = ImGui::GetFontSize() * 9;
  const bool locked = t.started;  // the task's shape is fixed while a model is being trained: Reset to change it
  ImGui::BeginDisabled(locked);
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo(tr_id(S_TRAIN_TASK, "train_task").c_str(), task_label(t))) {
    for (int k = 0; k < TRAIN_TASK_COUNT; ++k) {
      if (ImGui::Selectable(train_task_name(TrainTask(k)), !t.spec.translation && t.spec.task == k)) {
        t.spec.task = TrainTask(k);
        t.spec.translation.reset();
        // Induction needs room for a real induction head: with few tokens a bag of bigrams also solves it.
        t.spec.length = k == TRAIN_TASK_INDUCTION ? 12 : 8;
        t.spec.vocab = k == TRAIN_TASK_INDUCTION ? 30 : 10;
      }
      app_record(app, std::string("train_task_") + train_task_name(TrainTask(k)));
    }
    ImGui::Separator();
    ImGui::TextDisabled("%s", tr(S_TRAIN_TRANSLATION));
    for (int k = 0; k < TRANSLATION_TASK_COUNT; ++k) {
      if (ImGui::Selectable(translation_task_name(TranslationTask(k)), t.spec.translation == TranslationTask(k)))
        t.spec.translation = TranslationTask(k);
      app_record(app, std::string("train_task_") + translation_task_name(TranslationTask(k)));
    }
    ImGui::EndCombo();
  }
  app_record(app, "train_task");
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  ui_item_tooltip(tr(S_TRAIN_TASK_HELP));
  ImGui::SetNextItemWidth(w);
  if (!t.spec.translation) {  // a translation task's sentences and vocabularies are the task's
    ImGui::SetNextItemWidth(w);
    if (ImGui::InputInt(tr_id(S_TRAIN_LENGTH, "train_length").c_str(), &t.spec.length)) t.spec.length = std::clamp(t.spec.length, 2, 64);
    ImGui::SetNextItemWidth(w);
    if (ImGui::InputInt(tr_id(S_TRAIN_VOCAB, "train_vocab").c_str(), &t.spec.vocab)) t.spec.vocab = std::clamp(t.spec.vocab, 2, 100);
  }
  ImGui::EndDisabled();
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo(tr_id(S_TRAIN_OPTIMIZER, "train_optimizer").c_str(), train_optimizer_name(t.spec.optimizer))) {
    for (int k = 0; k < TRAIN_OPTIMIZER_COUNT; ++k)
      if (ImGui::Selectable(train_optimizer_name(TrainOptimizer(k)), t.spec.optimizer == k)) t.spec.optimizer = TrainOptimizer(k);
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(w);
  ImGui::SliderFloat(tr_id(S_TRAIN_LR, "train_lr").c_str(), &t.spec.lr, 1e-4f, 1.0f, "%.4g", ImGuiSliderFlags_Logarithmic);
  ImGui::SetNextItemWidth(w);
  if (ImGui::InputInt(tr_id(S_TRAIN_BATCH, "train_batch").c_str(), &t.spec.batch)) t.spec.batch = std::clamp(t.spec.batch, 1, 256);
  // Play / Pause, Step, Reset. Play and Step switch the config to the task's example: the token chips above this
  // panel change height and would push the buttons away (off-screen on a phone, under the finger that just pressed
  // Play). The frame after the click scrolls the window by the distance they moved.
  const float buttons_y = ImGui::GetCursorScreenPos().y;
  if (app->ui.train_anchor_y >= 0.0f) {
    if (buttons_y != app->ui.train_anchor_y) ImGui::SetScrollY(ImGui::GetScrollY() + (buttons_y - app->ui.train_anchor_y));
    app->ui.train_anchor_y = -1.0f;
  }
  const bool was_started = t.started;
  if (ImGui::Button(t.running ? tr_id(S_TRAIN_PAUSE, "train_play").c_str() : tr_id(S_TRAIN_PLAY, "train_play").c_str())) {
    if (!t.running && !t.started) {
      t.running = train_begin(app);
    } else {
      t.running = !t.running;
      if (!t.running && !t.remote_session) publish(app);  // paused: the views show exactly the model at this step
    }
    // In the worker: Pause stops it after the step under way, and its last update is exactly the model at that step.
    if (t.started && t.remote_session) t.remote->run(t.generation, t.running);
  }
  app_record(app, "train_play");
  ImGui::SameLine();
  if (ImGui::Button(tr_id(S_TRAIN_STEP, "train_step").c_str())) {
    if (t.started || train_begin(app)) {
      if (t.remote_session) {
        t.running = false;
        t.remote->run(t.generation, false);
        t.remote->step(t.generation);
      } else {
        step_once(app);
        publish(app);
      }
    }
  }
  app_record(app, "train_step");
  if (!was_started && t.started) app->ui.train_anchor_y = buttons_y;  // a session began: the example replaced the text
  ImGui::SameLine();
  ImGui::BeginDisabled(!t.started);
  if (ImGui::Button(tr_id(S_TRAIN_RESET, "train_reset").c_str())) train_reset(app);
  ImGui::EndDisabled();
  app_record(app, "train_reset");
  if (!t.started) {
    ImGui::TextDisabled("%s", tr(S_TRAIN_IDLE));
    return;
  }
  const double last_acc = t.accuracy.empty() ? 0.0 : t.accuracy.back();
  ImGui::Text(tr(S_TRAIN_STATUS), (long long)t.session.state.step, t.loss.empty() ? 0.0 : double(t.loss.back()), 100.0 * last_acc,
              t.steps_per_s);
  app_record(app, "train_status");
  if (t.spec.translation && !t.alignment.empty()) {
    ImGui::Text(tr(S_TRAIN_ALIGNMENT), 100.0 * t.alignment.back());
    app_record(app, "train_alignment");
    ui_item_tooltip(tr(S_TRAIN_ALIGNMENT_HELP));
  }
  const float plot_w = ImGui::GetContentRegionAvail().x, plot_h = ImGui::GetFontSize() * 3.5f;
  if (!t.loss.empty()) {
    Buckets bl{&t.loss, int(std::min<size_t>(t.loss.size(), 240))};
    float top = 0;
    for (int i = 0; i < bl.count; ++i) top = std::max(top, bucket_mean(&bl, i));
    ImGui::PlotLines("##loss", bucket_mean, &bl, bl.count, 0, tr(S_TRAIN_LOSS), 0.0f, std::max(top, 1e-3f), ImVec2(plot_w, plot_h));
    app_record(app, "train_loss_plot");
    Buckets ba{&t.accuracy, int(std::min<size_t>(t.accuracy.size(), 240))};
    ImGui::PlotLines("##accuracy", bucket_mean, &ba, ba.count, 0, tr(S_TRAIN_ACCURACY), 0.0f, 1.0f, ImVec2(plot_w, plot_h));
    app_record(app, "train_accuracy_plot");
  }
  ImGui::TextWrapped(tr(S_TRAIN_USING), int(t.session.state.weights.vocab.size()));
}

}  // namespace attnplay
