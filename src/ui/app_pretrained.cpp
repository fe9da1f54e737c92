// attnplay ui: mode pretrained in the playground (SPEC §9; issue 27): the requests' path to the host (the in-thread
// one, for the desktop and headless: app_pretrained_local.cpp), and the panels a real checkpoint adds: its card and Open
// model, its tokens as its tokenizer made them, the download and compute status, the predictions before and after
// an ablation. State and contracts: app_state.h (AppPretrained), app.h (AppPretrainedHost), panels.h.
//
// Index
//   app_pretrained_frame       the newest request to the host
//   section_pretrained         the model card, Open model, the refusal
//   pretrained_token_chips     the tokens (tooltips: the vocabulary's string and id; a masked LM: click to mask)
//   pretrained_status          download progress with Cancel, the computing line; pretrained_dim_views
//   pretrained_predictions     top tokens at the selected row; with an ablation, before -> after
//   pretrained_ablated / _toggle_ablate   the config's "ablate" list
//   pretrained_request_sweep / _sweep_status   the ablation sweep: asked of the host, its progress and what it follows
#include "ui/panels.h"

#include "ui/grid.h"

#include "model/pretrained_pack.h"
#include "ui/i18n.h"


#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cmath>
#include <map>

namespace attnplay {

using json = nlohmann::json;

namespace {

// The model card of the trace on screen, parsed once per trace (grid.h generation_cache).
const json& card(const App* app) {
  static const json none = json::object();
  const AppState& s = app->state;
  if (!s.pretrained.on_screen) return none;
  std::map<std::string, json>& cache = generation_cache<json>(app, s.generation);
  auto it = cache.find("card");
  if (it == cache.end()) {
    json parsed = json::parse(s.pretrained.view.info_json, nullptr, false);
    it = cache.emplace("card", parsed.is_object() ? parsed : json::object()).first;
  }
  return it->second;
}

// printf into a string (the translated formats of strings_*.cpp).
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// A config's "model" as the card names it: a folder opened from files by its name ("local:gpt2" -> "gpt2").
std::string model_name(const std::string& source) { return source.rfind("local:", 0) == 0 ? source.substr(6) : source; }

std::string model_source(const AppState& s) {
  const json& c = s.pretrained.shown_config;
  return c.is_object() && c.contains("model") && c["model"].is_string() ? c["model"].get<std::string>() : std::string();
}

}  // namespace

void app_pretrained_frame(App* app) {
  AppPretrained& p = app->state.pretrained;
  if (!p.wanted_config.is_null() && p.sent < p.wanted) {
    p.sent = p.wanted;
    // A sweep answers for its text, masks and model: an edit of those stops it (toggling heads does not: it leaves
    // the config's ablation out).
    if (p.sweep.running && app_pretrained_sweep_key(p.wanted_config) != p.sweep.config) {
      if (app->pretrained_host) app->pretrained_host->cancel_sweep();
      p.sweep.running = false;
      p.sweep.stopped = true;
    }
    if (app->pretrained_host)
      app->pretrained_host->compute(p.wanted, p.wanted_config.dump(), app->state.sel.layer, app->state.sel.head);
    else
      app_pretrained_deliver(&app->state, p.wanted, false, nullptr, 0, "model: this app has no engine for real models");
  }
  if (app->pretrained_host) app->pretrained_host->frame();  // (after the request: an edit stops a sweep first)
}

// The token the next sweep at row q follows: the clicked prediction while it is among that row's, else -1 (the most
// probable).
static int followed_token(const AppState& s, int q) {
  const PretrainedTopRows& rows = s.pretrained.view.predictions;
  if (q < 0 || q >= int(rows.size())) return -1;
  for (const PretrainedTokenProb& p : rows[size_t(q)])
    if (p.id == s.pretrained.sweep_token) return p.id;
  return -1;
}

void pretrained_request_sweep(App* app, int position, int token) {
  AppPretrained& p = app->state.pretrained;
  if (!p.on_screen) return;
  if (p.sweep.running && app->pretrained_host) app->pretrained_host->cancel_sweep();
  static uint64_t next_id = 0;  // (ids only tell this App's sweeps apart: any increasing number does)
  p.sweep = AppSweep();
  p.sweep.id = ++next_id;
  p.sweep.config = app_pretrained_sweep_key(p.shown_config);
  p.sweep.running = true;
  if (app->pretrained_host)
    app->pretrained_host->sweep(p.sweep.id, p.shown_config.dump(), position, token);
  else
    app_pretrained_sweep_update(&app->state, p.sweep.id, false, true, "sweep: this app has no engine for real models");
}

void pretrained_sweep_status(App* app) {
  AppState& s = app->state;
  AppSweep& w = s.pretrained.sweep;
  const int q = std::clamp(s.sel.query, 0, std::max(0, int(s.trace.tokens.size()) - 1));
  const bool current = app_pretrained_sweep_current(s);
  if (w.state.is_object() && current) {
    const int pos = std::clamp(w.state.value("position", 0), 0, std::max(0, int(s.trace.tokens.size()) - 1));
    const std::string pos_token = s.trace.tokens.empty() ? "" : s.trace.tokens[size_t(pos)];
    ui_text_wrapped(fmt(tr(S_SW_FOLLOWS), w.state.value("display", std::string()).c_str(), pos_token.c_str(), pos,
                        100.0 * w.state.value("baseline", 0.0)).c_str());
  }
  if (w.running) {
    const int total = w.state.is_object() ? w.state.value("layers", 0) * w.state.value("heads", 0) : 0;
    const int done = w.state.is_object() ? w.state.value("done", 0) : 0;
    char line[96];
    std::snprintf(line, sizeof line, tr(S_SW_PROGRESS), done, total);
    ImGui::ProgressBar(total ? float(done) / float(total) : 0.0f, ImVec2(-ImGui::GetFontSize() * 6, 0), line);
    app_record(app, "sweep_progress");
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_PT_CANCEL, "sweep_cancel").c_str())) {
      if (app->pretrained_host) app->pretrained_host->cancel_sweep();
      w.running = false;
      w.stopped = true;
    }
    app_record(app, "sweep_cancel");
    return;
  }
  if (!w.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ui_text_wrapped(w.error.c_str());
    ImGui::PopStyleColor();
  } else if (w.stopped || (w.id && !current)) {
    ImGui::TextDisabled("%s", tr(S_SW_STALE));
  }
  if (app->page.readonly || s.pretrained.view.predictions.empty()) return;
  if (ImGui::Button(tr_id(w.id ? S_SW_AGAIN : S_SW_RUN, "sweep_run").c_str()))
    pretrained_request_sweep(app, q, followed_token(s, q));
  app_record(app, "sweep_run");
  ui_help_marker(tr(S_SW_HELP));
}

bool pretrained_ablated(const AppState& s, int layer, int head) {
  const json& a = s.config.contains("ablate") ? s.config["ablate"] : json();
  if (!a.is_array()) return false;
  for (const json& e : a)
    if (e.is_array() && e.size() == 2 && e[0] == layer && e[1] == head) return true;
  return false;
}

void pretrained_toggle_ablate(App* app, int layer, int head) {
  json next = app->state.config;
  json kept = json::array();
  bool found = false;
  if (next.contains("ablate") && next["ablate"].is_array())
    for (const json& e : next["ablate"]) {
      if (e.is_array() && e.size() == 2 && e[0] == layer && e[1] == head) found = true;
      else kept.push_back(e);
    }
  if (!found) kept.push_back({layer, head});
  next["ablate"] = kept;
  ui_edit(app, next);
}

// A model from local files: the offer to keep it in the browser (or that it is kept, with Forget); after a restore,
// the files the workspace used (names, sizes, digests) and whether those opened again differ.
static void pretrained_local_files(App* app) {
  AppState& s = app->state;
  AppPretrained& p = s.pretrained;
  const std::string src = s.config.contains("model") && s.config["model"].is_string() ? s.config["model"].get<std::string>() : "";
  const std::string name = model_name(src);
  const nlohmann::json& r = p.restored_model;
  const auto it = p.local.find(src);
  const bool open_here = it != p.local.end() && !it->second.files.empty();
  if (!open_here && r.is_object() && r.value("source", std::string()) == src && r.contains("files") && !r["files"].empty()) {
    ImGui::TextDisabled("%s", tr(S_PT_USED_FILES));
    for (const nlohmann::json& f : r["files"])
      ImGui::TextDisabled(tr(S_PT_FILE_LINE), f.value("name", std::string()).c_str(), f.value("size", 0.0) / 1048576.0,
                          f.value("sha256", std::string("-")).c_str());
    app_record(app, "model_files");
  }
  if (!p.files_differ.empty() && open_here) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 96, 0, 255));
    ui_text_wrapped(fmt(tr(S_PT_FILES_DIFFER), p.files_differ.c_str()).c_str());
    ImGui::PopStyleColor();
    app_record(app, "model_files_differ");
  }
  if (!open_here || app->page.readonly) return;
  AppLocalModel& m = it->second;
  if (m.storing) {
    ImGui::TextDisabled(tr(S_PT_STORING), name.c_str());
  } else if (m.kept) {
    ui_text_wrapped(fmt(tr(S_PT_KEPT_HERE), name.c_str()).c_str());
    if (ui_small_button(*app, tr_id(S_PT_FORGET, "model_forget").c_str()) && app->pretrained_host) {
      m.storing = true;
      app->pretrained_host->keep_model(src, false);
    }
    app_record(app, "model_forget");
  } else if (m.can_keep && !m.declined) {
    ui_text_wrapped(fmt(tr(S_PT_KEEP_ASK), name.c_str(), m.bytes / 1048576.0).c_str());
    if (ui_small_button(*app, tr_id(S_PT_KEEP, "model_keep").c_str()) && app->pretrained_host) {
      m.storing = true;
      m.error.clear();
      app->pretrained_host->keep_model(src, true);
    }
    app_record(app, "model_keep");
    ImGui::SameLine();
    if (ui_small_button(*app, tr_id(S_PT_NOT_NOW, "model_keep_no").c_str())) m.declined = true;
  }
  if (!m.error.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ui_text_wrapped(fmt(tr(S_PT_KEEP_FAILED), m.error.c_str()).c_str());
    ImGui::PopStyleColor();
  }
}

void section_pretrained(App* app) {
  AppState& s = app->state;
  const AppPretrained& p = s.pretrained;
  if (!p.refusal.empty()) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ImGui::TextWrapped(tr(S_PT_REFUSED), p.refusal.c_str());
    ImGui::PopStyleColor();
    ImGui::TextDisabled("%s", tr(S_PT_KEPT));
    app_record(app, "model_refusal");
  }
  const json& info = card(app);
  if (!info.empty()) {
    ImGui::Text(tr(S_PT_TYPE), info.value("model_type", std::string("?")).c_str());
    const double params = info.value("parameters", 0.0);
    char count[32];
    std::snprintf(count, sizeof count, params >= 1e9 ? "%.2f B" : params >= 1e6 ? "%.1f M" : "%.1f K",
                  params / (params >= 1e9 ? 1e9 : params >= 1e6 ? 1e6 : 1e3));
    ImGui::Text(tr(S_PT_PARAMS), count);
    ImGui::Text(tr(S_PT_SHAPE), info.value("layers", 0), info.value("heads", 0), info.value("kv_heads", 0));
    ImGui::Text(tr(S_PT_VOCAB), info.value("vocab_size", 0));
    ImGui::TextWrapped(tr(S_PT_DTYPE), info.value("dtype", std::string("?")).c_str(), info.value("bytes", 0.0) / 1048576.0);
    const std::string src = model_source(s);
    ImGui::TextWrapped(tr(S_PT_SOURCE), model_name(src).c_str());
    app_record(app, "model_card");
  }
  pretrained_local_files(app);
  if (app->page.readonly) return;
  // The page's folder picker; the desktop asks for the folder's path (File > Open model... shares the dialog).
  if (ImGui::Button(tr_id(S_PT_OPEN, "open_model").c_str()) && (!app->pretrained_host || !app->pretrained_host->open_model()))
    app->ui.import_dialog = true;
  app_record(app, "open_model");
  ui_help_marker(tr(S_PT_OPEN_HELP));
  // Ablation: what is on, and a way back.
  const json& a = s.config.contains("ablate") ? s.config["ablate"] : json();
  if (a.is_array() && !a.empty()) {
    ImGui::Text(tr(S_PT_ABLATED), int(a.size()));
    ImGui::SameLine();
    if (ui_small_button(*app, tr_id(S_PT_CLEAR_ABLATION, "clear_ablation").c_str())) {
      json next = s.config;
      next["ablate"] = json::array();
      ui_edit(app, next);
    }
    app_record(app, "clear_ablation");
  }
  ui_text_wrapped(tr(S_PT_ABLATE_HELP));
}

void pretrained_token_chips(App* app) {
  AppState& s = app->state;
  if (!s.pretrained.on_screen) return;
  const Trace& t = s.trace;
  const PretrainedView& v = s.pretrained.view;
  const bool can_mask = v.mask_token_id >= 0 && !app->page.readonly;
  const float avail = ImGui::GetContentRegionAvail().x;
  float x = 0;
  const size_t shown = std::min<size_t>(t.tokens.size(), 512);
  for (size_t i = 0; i < shown; ++i) {
    const std::string& label = t.tokens[i];
    ui_chip_flow(label.empty() ? " " : label, i == 0, avail, &x);
    ImGui::PushID(int(i));
    const bool hl = s.sel.hover_query == int(i) || s.sel.query == int(i);
    if (hl) ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(255, 196, 64, 255));
    if (hl) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(0, 0, 0, 255));
    const bool clicked = ImGui::Button(label.empty() ? " " : label.c_str());
    if (hl) ImGui::PopStyleColor(2);
    if (i < 64) app_record(app, "chip_" + std::to_string(i));
    if (ImGui::IsItemHovered()) {
      s.sel.hover_query_next = int(i);
      s.sel.hover_key_next = int(i);
      ImGui::SetTooltip(tr(S_PT_CHIP_TIP), v.tokens[i].c_str(), v.ids[i]);
    }
    if (clicked) {
      s.sel.query = int(i);
      if (can_mask && v.ids[i] != v.mask_token_id) {  // a masked LM: the token becomes the mask, the fills show
        json next = s.config;
        next["token_ids"] = v.ids;
        next["token_ids"][i] = v.mask_token_id;
        ui_edit(app, next);
      }
    }
    ImGui::PopID();
  }
  if (t.tokens.size() > shown) ImGui::TextDisabled(tr(S_MORE_TOKENS), int(t.tokens.size() - shown));
  if (can_mask) ImGui::TextDisabled(tr(S_PT_MASK_TIP), v.mask_token.c_str());
}

void pretrained_status(App* app) {
  AppState& s = app->state;
  const AppPretrained& p = s.pretrained;
  if (!p.busy()) return;
  if (p.download_done >= 0 && p.download_total > 0) {
    const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    const double secs = std::max(1e-3, (now - p.requested_at) / 1000.0);
    const float frac = float(std::clamp(p.download_done / p.download_total, 0.0, 1.0));
    char line[160];
    std::snprintf(line, sizeof line, tr(S_PT_LOADING), p.download_done / 1048576.0, p.download_total / 1048576.0,
                  p.download_done / 1048576.0 / secs);
    ImGui::ProgressBar(frac, ImVec2(-ImGui::GetFontSize() * 6, 0), line);
    app_record(app, "model_progress");
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_PT_CANCEL, "model_cancel").c_str()) && app->pretrained_host) app->pretrained_host->cancel();
    app_record(app, "model_cancel");
    return;
  }
  // A small spinner: an arc turning with time.
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float r = ImGui::GetFontSize() * 0.4f;
  const ImVec2 at = ImGui::GetCursorScreenPos();
  const ImVec2 c(at.x + r + 2, at.y + ImGui::GetFontSize() * 0.5f + 1);
  const float a0 = float(ImGui::GetTime() * 6.0);
  dl->PathArcTo(c, r, a0, a0 + 4.2f, 16);
  dl->PathStroke(ImGui::GetColorU32(ImGuiCol_Text), 0, 2.0f);
  ImGui::Dummy(ImVec2(r * 2 + 6, ImGui::GetFontSize()));
  ImGui::SameLine();
  ImGui::TextDisabled("%s", tr(p.on_screen ? S_PT_COMPUTING : S_PT_WAITING));
  app_record(app, "model_computing");
}

void pretrained_dim_views(App* app, ImVec2 min, ImVec2 max) {
  if (!app->state.pretrained.busy()) return;
  ImVec4 bg = ImGui::GetStyleColorVec4(ImGuiCol_WindowBg);
  bg.w = 0.55f;
  ImGui::GetWindowDrawList()->AddRectFilled(min, max, ImGui::GetColorU32(bg));
}

void pretrained_predictions(App* app) {
  AppState& s = app->state;
  const PretrainedView& v = s.pretrained.view;
  const Trace& t = s.trace;
  if (v.predictions.empty()) {
    ui_text_wrapped(tr(S_PT_NO_HEAD));
    return;
  }
  const int n = int(v.predictions.size());
  const int q = std::clamp(s.sel.hover_query >= 0 && s.sel.hover_query < n ? s.sel.hover_query : s.sel.query, 0, n - 1);
  const bool causal = t.attention.spec.mask.causal;
  ImGui::TextWrapped(tr(causal ? S_PT_NEXT_AT : S_PT_FILL_AT), t.tokens[size_t(q)].c_str(), q);
  const bool ablated = !v.baseline.empty();
  std::map<int, float> before;
  if (ablated)
    for (const PretrainedTokenProb& b : v.baseline[size_t(q)]) before[b.id] = b.prob;
  if (ablated) ImGui::TextDisabled("%s", tr(S_PT_BEFORE_AFTER));
  const float bar = ImGui::GetFontSize() * (app->layout_mode == APP_LAYOUT_NARROW ? 4.0f : 5.0f);
  for (size_t k = 0; k < v.predictions[size_t(q)].size(); ++k) {
    const PretrainedTokenProb& p = v.predictions[size_t(q)][k];
    ImGui::ProgressBar(p.prob, ImVec2(bar, 0), "");
    ImGui::SameLine();
    if (ablated) {
      const auto it = before.find(p.id);
      if (it != before.end())
        ImGui::Text("%5.1f%% -> %5.1f%%  %s", 100.0 * it->second, 100.0 * p.prob, p.display.c_str());
      else
        ImGui::Text("  <%4.1f%% -> %5.1f%%  %s", 100.0 * v.baseline[size_t(q)].back().prob, 100.0 * p.prob, p.display.c_str());
    } else {
      ImGui::Text("%5.1f%%  %s", 100.0 * p.prob, p.display.c_str());
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip(tr(S_PT_SWEEP_TIP), p.token.c_str(), p.id);
    if (ImGui::IsItemClicked() && !app->page.readonly)  // the token the next sweep follows (again: the most probable)
      s.pretrained.sweep_token = s.pretrained.sweep_token == p.id ? -1 : p.id;
    if (s.pretrained.sweep_token == p.id) {
      const ImVec2 a0 = ImGui::GetItemRectMin(), a1 = ImGui::GetItemRectMax();
      ImGui::GetWindowDrawList()->AddRect(ImVec2(a0.x - 2, a0.y), ImVec2(a1.x + 2, a1.y), ImGui::GetColorU32(ImGuiCol_PlotHistogram));
    }
    if (k < 10) app_record(app, "prediction_" + std::to_string(k));
  }
  if (app->page.readonly) return;
  // The ablation sweep: which heads this prediction depends on (ranked in the model view).
  const PretrainedTokenProb& followed = [&]() -> const PretrainedTokenProb& {
    for (const PretrainedTokenProb& p : v.predictions[size_t(q)])
      if (p.id == s.pretrained.sweep_token) return p;
    return v.predictions[size_t(q)][0];
  }();
  // (a long token would not fit the column: the button then names it in its tooltip only)
  std::string label = fmt(tr(S_SW_BUTTON), followed.display.c_str());
  if (ImGui::CalcTextSize(label.c_str()).x + ImGui::GetStyle().FramePadding.x * 2 > ImGui::GetContentRegionAvail().x)
    label = tr(S_SW_BUTTON_SHORT);
  if (ImGui::Button((label + "##sweep_button").c_str())) {
    pretrained_request_sweep(app, q, followed_token(s, q));
    app->ui.model_sort = HEAD_SORT_SWEEP;
    s.sel.view = APP_VIEW_MODEL;
  }
  app_record(app, "sweep_button");
  ui_help_marker(tr(S_SW_HELP));
}

}  // namespace attnplay
