// attnplay ui: the App <-> the workspace record (model/workspace.h). Contracts: app.h, [Workspace].
//
// The view travels as the share link's query (share.h: preset, config, view, layer, head, cell, shown, range, lang),
// so a restored page looks as a shared link of it would; the page's own options (embed, hide=, readonly) stay the
// page's. A/B: the edited side is restored first, then the other side beside it.
#include "ui/panels.h"
#include "ui/share.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace attnplay {

namespace {

using json = nlohmann::json;

WorkspaceSide side_of(const AppSide& s) { return WorkspaceSide{s.config, s.weights}; }

// The edited side := side (config, then its weights), keeping the selection the caller sets afterwards. The weights
// go first: the side before may hold weights of another shape, which the new config must not meet.
bool set_side(AppState* s, const WorkspaceSide& side, std::string* error) {
  std::string ignored;
  app_state_set_weights(s, nullptr, &ignored);
  if (!app_state_set(s, side.config, error)) return false;
  return app_state_set_weights(s, side.weights, error);
}

}  // namespace

Workspace app_workspace_capture(const App& app) {
  const AppState& s = app.state;
  Workspace ws;
  ws.a = side_of(s);
  ws.ab_on = s.ab.on;
  ws.ab_editing_b = s.ab.on && s.ab.editing_b;
  if (s.ab.on) ws.b = side_of(s.ab.other);
  ws.preset_id = s.preset_id;
  ws.view = {{"query", share_query(app)}};
  ws.model = app_pretrained_model_record(s);
  const AppTraining& t = app.training;
  if (t.started && t.session_config.is_object()) {
    WorkspaceTraining& w = ws.training;
    const auto curve = [](const std::vector<float>& v, size_t n) { return std::vector<float>(v.begin(), v.begin() + long(std::min(n, v.size()))); };
    if (!t.remote_session) {  // steps in the frame: the session is all here
      w.present = true;
      w.state = t.session.state;
      w.rng_state = t.session.rng.state;
      w.loss = t.loss;
      w.accuracy = t.accuracy;
      w.alignment = t.alignment;
    } else if (!t.remote_state.empty()) {  // in the worker: its last whole state, and the curves up to it
      Config c;
      TrainSession at;
      std::string why;
      if (config_parse(t.session_config, &c, &why) && train_session_begin(&at, c, t.session.spec, &why) &&
          train_session_restore(&at, t.remote_state.data(), t.remote_state.size(), &why)) {
        w.present = true;
        w.state = std::move(at.state);
        w.rng_state = at.rng.state;
        w.loss = curve(t.loss, t.remote_state_steps);
        w.accuracy = curve(t.accuracy, t.remote_state_steps);
        w.alignment = curve(t.alignment, t.remote_state_steps);
      }
    }
    if (w.present) {
      w.config = t.session_config;
      w.spec = t.session.spec;
    }
  }
  return ws;
}

bool app_workspace_apply(App* app, const Workspace& ws, std::string* error) {
  AppState& s = app->state;
  // Everything that can refuse is checked first, on copies, so a refusal changes nothing.
  {
    AppState probe;
    std::string why;
    app_state_init(&probe, app_default_config(), &why);
    if (!set_side(&probe, ws.a, &why)) return *error = "saved state refused (config: " + why + ")", false;
    if (ws.ab_on && !set_side(&probe, ws.b, &why)) return *error = "saved state refused (side B: " + why + ")", false;
  }
  TrainSession session;
  if (ws.training.present) {
    Config c;
    std::string why;
    if (!config_parse(ws.training.config, &c, &why) || !train_session_begin(&session, c, ws.training.spec, &why))
      return *error = "saved state refused (training: " + why + ")", false;
    session.state = ws.training.state;
    session.rng.state = ws.training.rng_state;
  }
  // Apply: nothing below refuses any more.
  train_reset(app);
  if (s.ab.on) app_state_ab_stop(&s);
  const AppPageOptions page = app->page;  // the page's own options are not the saved page's
  std::string why;
  const std::string query = ws.view.is_object() && ws.view.contains("query") && ws.view["query"].is_string()
                                ? ws.view["query"].get<std::string>()
                                : std::string();
  if (query.empty() || !share_apply(app, query, &why)) app_state_set(&s, ws.a.config, &why);
  app->page = page;
  set_side(&s, ws.a, &why);
  if (ws.ab_on) {
    app_state_ab_start(&s);          // A: the edited side, B: a copy
    if (!ws.ab_editing_b) {
      app_state_ab_edit(&s, true);   // B := the other side
      set_side(&s, ws.b, &why);
      app_state_ab_edit(&s, false);
    } else {
      app_state_ab_edit(&s, true);   // the copy becomes B, the edited side; A := the other side
      app_state_ab_edit(&s, false);
      set_side(&s, ws.b, &why);
      app_state_ab_edit(&s, true);
    }
  }
  s.preset_id = ws.preset_id;
  s.pretrained.restored_model = ws.model;
  s.pretrained.files_differ.clear();
  s.undo.clear();
  s.redo.clear();
  AppTraining& t = app->training;
  t.preset_seen = s.preset_id;  // a restored preset does not re-select its train task
  if (ws.training.present) {
    t.spec = ws.training.spec;
    t.session = std::move(session);
    t.session_config = ws.training.config;
    t.loss = ws.training.loss;
    t.accuracy = ws.training.accuracy;
    t.alignment = ws.training.alignment;
    t.started = true;
    t.running = false;  // restored paused: Play continues from the saved step
    ++t.generation;
    t.remote_session = false;
    t.remote_state.clear();
    if (t.remote) {  // the worker continues from the restored state (its steps equal the frame's, bit for bit)
      t.remote_spec = t.session.spec;
      t.remote_state = train_session_snapshot(t.session);
      t.remote_state_steps = t.loss.size();
      t.remote_session = t.remote->open(t.generation, t.session_config.dump(), train_session_spec_json(t.remote_spec),
                                        t.remote_state);
    }
  }
  s.changed = true;
  return true;
}

uint64_t app_workspace_signature(const App& app) {
  const AppState& s = app.state;
  const AppTraining& t = app.training;
  uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](uint64_t v) { h = (h ^ v) * 1099511628211ull; };
  mix(s.generation);  // bumps on every config or weights change (a geometry drag included)
  mix(uint64_t(s.ab.on) | uint64_t(s.ab.editing_b) << 1 | uint64_t(app.weights_full_range) << 2 | uint64_t(app.lang) << 3);
  mix(uint64_t(s.sel.view) | uint64_t(s.sel.layer) << 8 | uint64_t(s.sel.head) << 16 | uint64_t(s.sel.band) << 24 |
      uint64_t(s.sel.mean_heads) << 32);
  mix(uint64_t(s.sel.query) | uint64_t(s.sel.key) << 32);
  for (bool b : s.sel.heads_shown) mix(b);
  mix(uint64_t(t.started) | uint64_t(t.session.state.step) << 1);
  mix(std::hash<std::string>()(s.preset_id));
  mix(s.pretrained.local_generation);  // (a local model's digests arrive after it opened)
  return h;
}

void app_autosave_start(AppAutosave* a, const App& app) {
  *a = AppAutosave();
  a->saved = a->seen = app_workspace_signature(app);
}

bool app_autosave_due(AppAutosave* a, const App& app, double now_ms) {
  const uint64_t sig = app_workspace_signature(app);
  if (sig != a->seen) {
    a->seen = sig;
    a->changed_at = now_ms;
    if (a->dirty_since < 0) a->dirty_since = now_ms;
  }
  if (sig == a->saved) {
    a->dirty_since = -1;
    return false;
  }
  return a->dirty_since >= 0 && (now_ms - a->changed_at >= 1000.0 || now_ms - a->dirty_since >= 10000.0);
}

std::vector<uint8_t> app_autosave_record(App* app, AppAutosave* a) {
  Workspace ws = app_workspace_capture(*app);
  std::vector<uint8_t> record = workspace_encode(ws);
  if (record.size() > kAutosaveMaxBytes) {  // config and view only: the weights would not fit
    ws.a.weights = nullptr;
    ws.b.weights = nullptr;
    ws.training = WorkspaceTraining();
    record = workspace_encode(ws);
    if (!a->warned_size) {
      a->warned_size = true;
      char buf[256];
      std::snprintf(buf, sizeof buf, tr(S_WORKSPACE_TOO_BIG), "64 MiB");
      app->notices.push_back(buf);
    }
  }
  a->saved = a->seen = app_workspace_signature(*app);
  a->dirty_since = -1;
  return record;
}

}  // namespace attnplay
