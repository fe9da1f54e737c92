// attnplay ui: app init / frame / shutdown and the layouts. Contracts: app.h. Fonts: app_fonts.cpp; the menu bar:
// app_menus.cpp; the three columns: panels.cpp, views.cpp, details.cpp.
//
// Index
//   app_init, app_record, app_deliver_file, app_import   set-up, widget rectangles, files in and out
//   app_layout_json, app_zoom_at, app_a11y_json          what the tests, pinch zoom and the DOM mirror read
//   app_layout_for_width, app_layout_name                the three layouts by CSS width
//   window_at, scrolls_at, in_drag_zone, touch_scroll    touch: which drags and wheels belong to the app
//   side_tabs, app_check_label                           the medium layout's side panel; clipped labels
//   app_frame                                            one frame: windows by layout
#include "ui/app.h"

#include "core/assert.h"

#include "model/attention_import.h"
#include "model/safetensors.h"

#include "core/build_info.h"
#include "model/tokenizer.h"
#include "ui/export.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"
#include "ui/share.h"

#include <algorithm>
#include <imgui_internal.h>
#include <imgui_stdlib.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>

namespace attnplay {


void app_init(App* app, const nlohmann::json& config, std::string* error) {
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // no settings file: the URL and the config are the state
  io.ConfigFlags |= ImGuiConfigFlags_NavEnableKeyboard;
  app_state_init(&app->state, config, error);
  app->ui.fonts_dirty = true;
}

void app_shutdown(App* app) { app->state = AppState(); }

void app_record(App* app, const std::string& name) {
  if (app->page.hidden.count(name)) return;  // a hidden control is not on screen
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  app->layout[name] = {a.x, a.y, b.x - a.x, b.y - a.y};
}

bool app_visible(const App& app, const char* name) { return app.page.hidden.count(name) == 0; }

void app_deliver_file(App* app, const std::string& name, const std::string& mime, const std::string& bytes) {
  if (app->host->save(name, mime, bytes)) return;
  const char* home = std::getenv("HOME");
  app->save_name = name;
  app->save_mime = mime;
  app->save_bytes = bytes;
  app->save_path = std::string(home ? home : ".") + "/" + name;
  app->ui.save_dialog = true;
}

bool app_import(App* app, const std::string& text, const std::string& name) {
  std::string error;
  char buf[512];
  auto ends = [&name](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
  // A workspace record (File -> Export -> workspace, or the desktop's autosave): everything, or nothing.
  if (ends(".attnplay") || (text.size() >= 8 && text.compare(0, 8, "APWKSP\r\n") == 0)) {
    Workspace ws;
    if (workspace_decode(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &ws, &error) &&
        app_workspace_apply(app, ws, &error)) {
      std::snprintf(buf, sizeof buf, tr(S_WORKSPACE_LOADED), name.c_str());
      app->notices.push_back(buf);
      return true;
    }
    std::snprintf(buf, sizeof buf, tr(S_IMPORT_FAILED), error.c_str());
    app->notices.push_back(buf);
    return false;
  }
  // Attention maps: .npy / .npz, a .safetensors file with an "attention" tensor, or JSON {"attention": [...]}.
  SafeTensorsFile probe;
  const bool st = ends(".safetensors");
  const bool has_attention = st && safetensors_read(reinterpret_cast<const uint8_t*>(text.data()), text.size(), &probe, nullptr) &&
                             probe.tensors.count("attention");
  if (ends(".npy") || ends(".npz") || has_attention || (!st && attention_import_is_json_attention(text))) {
    ImportedAttention a;
    if (attention_import(reinterpret_cast<const uint8_t*>(text.data()), text.size(), name, &a, &error)) {
      app->training.running = false;
      Trace t;
      attention_import_trace(a, &t);
      app_state_show_imported(&app->state, std::move(t), name);
      std::snprintf(buf, sizeof buf, tr(S_ATTENTION_LOADED), name.c_str());
      app->notices.push_back(buf);
      return true;
    }
    std::snprintf(buf, sizeof buf, tr(S_IMPORT_FAILED), error.c_str());
    app->notices.push_back(buf);
    return false;
  }
  const bool weights = st;
  if (weights && app->training.started) {  // loaded weights replace the model being trained
    app->training.running = app->training.started = false;
    app->training.loss.clear();
    app->training.accuracy.clear();
  }
  if (weights ? import_weights(app, text, &error) : import_config(app, text, &error)) {
    std::snprintf(buf, sizeof buf, weights ? tr(S_WEIGHTS_LOADED) : tr(S_IMPORTED), name.c_str());
    app->notices.push_back(buf);
    return true;
  }
  std::snprintf(buf, sizeof buf, tr(S_IMPORT_FAILED), error.c_str());
  app->notices.push_back(buf);
  return false;
}

std::string app_layout_json(const App& app) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, r] : app.layout) j[name] = {r[0], r[1], r[2], r[3]};
  return j.dump();
}

void app_zoom_at(App* app, float factor, float x, float y) {
  for (const char* name : {"weights", "scores", "mask"}) {
    const auto item = app->layout.find(name), grid = app->layout.find(std::string(name) + "_grid");
    if (item == app->layout.end() || grid == app->layout.end()) continue;
    const auto& r = item->second;  // the visible part of the grid
    if (x < r[0] || y < r[1] || x >= r[0] + r[2] || y >= r[1] + r[3]) continue;
    const auto& g = grid->second;  // {origin x, origin y, cell, rows * 10000 + cols}
    AppZoom& z = app->zoom;
    const float cx = (x - g[0]) / g[2], cy = (y - g[1]) / g[2];  // the cell under the point stays under it
    const float nz = std::clamp(z.scale * factor, 1.0f, 64.0f);
    const float ncell = g[2] * nz / z.scale;
    z.col0 = cx - (x - r[0]) / ncell;
    z.row0 = cy - (y - r[1]) / ncell;
    z.scale = nz;
    if (nz <= 1.0f) z = AppZoom();
    return;
  }
}

std::string app_a11y_json(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  // The page asks a few times a second: the answer is remade only when the trace, the selection or the language moved.
  std::string& cached = app->ui.a11y_cached;
  std::array<uint64_t, 6>& cached_key = app->ui.a11y_key;
  const std::array<uint64_t, 6> key = {s.generation + 1, uint64_t(s.sel.layer), uint64_t(s.sel.head), uint64_t(s.sel.query),
                                       uint64_t(s.sel.key), uint64_t(app->lang)};
  if (key == cached_key && !cached.empty()) return cached;
  cached_key = key;
  nlohmann::json j = nlohmann::json::object();
  if (t.layers.empty()) return j.dump();
  char buf[512];
  std::snprintf(buf, sizeof buf, tr(S_A11Y_SUMMARY), attention_kind_name(t.attention.spec.kind), int(t.tokens.size()),
                s.pretrained.on_screen ? int(t.layers[0].output.cols()) : s.parsed.d_model, int(t.layers[0].heads.size()),
                s.sel.layer, s.sel.head);
  j["summary"] = buf;
  std::snprintf(buf, sizeof buf, tr(S_A11Y_TABLE), s.sel.layer, s.sel.head);
  j["caption"] = buf;
  j["rows"] = t.tokens;
  j["cols"] = t.key_tokens;
  j["layer"] = s.sel.layer;
  j["head"] = s.sel.head;
  const PretrainedView& pv = s.pretrained.view;
  if (s.pretrained.on_screen && !pv.predictions.empty()) {  // a real model's predictions at the selected row
    const int row = std::clamp(s.sel.query, 0, int(pv.predictions.size()) - 1);
    nlohmann::json top = nlohmann::json::array();
    for (const PretrainedTokenProb& p : pv.predictions[size_t(row)]) {
      nlohmann::json e = {{"id", p.id}, {"token", p.token}, {"display", p.display}, {"prob", p.prob}};
      if (!pv.baseline.empty()) {
        e["before"] = 0.0;
        for (const PretrainedTokenProb& b : pv.baseline[size_t(row)])
          if (b.id == p.id) e["before"] = b.prob;
      }
      top.push_back(e);
    }
    std::snprintf(buf, sizeof buf, tr(t.attention.spec.mask.causal ? S_PT_NEXT_AT : S_PT_FILL_AT), t.tokens[size_t(row)].c_str(), row);
    j["predictions"] = {{"row", row}, {"caption", buf}, {"top", top}};
  }
  const int n_q = int(t.tokens.size()), n_k = int(t.key_tokens.size());
  if (n_q <= 64 && n_k <= 64) {  // the whole table
    const Mat& w = app_state_focused_head(s).attn.weights;
    nlohmann::json rows = nlohmann::json::array();
    for (int i = 0; i < n_q; ++i) {
      nlohmann::json row = nlohmann::json::array();
      for (int k = 0; k < n_k; ++k) row.push_back(std::round(double(w(i, k)) * 1e4) / 1e4);
      rows.push_back(row);
    }
    j["weights"] = rows;
  } else {  // a summary: each query's strongest key
    std::snprintf(buf, sizeof buf, tr(S_A11Y_LARGE), n_q, n_k);
    j["large"] = buf;
    nlohmann::json top = nlohmann::json::array();
    for (int i = 0; i < n_q && i < 256; ++i) {  // the first 256 queries: a reader will not go further
      int best = 0;
      float bw = -1;
      for (int k = 0; k < n_k; ++k) {
        const float v = trace_weight(t, s.sel.layer, s.sel.head, i, k);
        if (v > bw) bw = v, best = k;
      }
      top.push_back({best, std::round(double(bw) * 1e4) / 1e4});
    }
    j["top"] = top;
  }
  nlohmann::json lines = nlohmann::json::array();
  for (const WalkLine& l : walkthrough_lines(*app)) lines.push_back(l.text);
  j["walkthrough"] = lines;
  j["cell"] = {s.sel.query, s.sel.key};
  j["hint"] = tr(S_A11Y_ARROWS);
  return cached = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const AppViewInfo& app_view_info(int view) {
  ATTNPLAY_ASSERT(view >= 0 && view < APP_VIEW_COUNT);
  return kAppViews[view];
}

const char* app_view_caption(int view) { return tr_named(std::string("view.") + app_view_info(view).name); }

const char* app_view_tab_id(int view) {
  const char* en = tr_named_lang(LANG_EN, std::string("view.") + app_view_info(view).name);
  return en ? en : app_view_info(view).name;
}

bool app_view_from_name(const std::string& name, AppView* out) {
  for (int v = 0; v < APP_VIEW_COUNT; ++v)
    if (name == kAppViews[v].name) {
      *out = AppView(v);
      return true;
    }
  return false;
}

std::string app_view_names(const char* sep) {
  std::string s;
  for (int v = 0; v < APP_VIEW_COUNT; ++v) s += (v ? sep : "") + std::string(kAppViews[v].name);
  return s;
}

std::string app_views_json(const AppState* s) {
  nlohmann::json out = nlohmann::json::array();
  for (int v = 0; v < APP_VIEW_COUNT; ++v) {
    const std::string key = std::string("view.") + kAppViews[v].name;
    const char* zh = tr_named_lang(LANG_ZH, key);
    out.push_back({{"name", kAppViews[v].name}, {"needs_qkv", kAppViews[v].needs_qkv}, {"caption_en", app_view_tab_id(v)},
                   {"caption_zh", zh ? zh : app_view_tab_id(v)}});
    if (s) out.back()["offered"] = app_view_offered(*s, v);
  }
  return out.dump();
}

bool app_view_offered(const AppState& s, int view) {
  const AppViewInfo& v = app_view_info(view);
  if (s.trace.imported && v.needs_qkv) return false;
  return !v.offered || v.offered(s);
}

AppLayout app_layout_for_width(float css_width) {
  return css_width >= 1100 ? APP_LAYOUT_WIDE : css_width >= 700 ? APP_LAYOUT_MEDIUM : APP_LAYOUT_NARROW;
}

const char* app_layout_name(AppLayout layout) {
  switch (layout) {
    case APP_LAYOUT_WIDE: return "wide";
    case APP_LAYOUT_MEDIUM: return "medium";
    case APP_LAYOUT_NARROW: return "narrow";
  }
  return "?";
}

// The window under a point (last frame's, front to back), or null.
static ImGuiWindow* window_at(float x, float y) {
  ImGuiContext* g = ImGui::GetCurrentContext();
  if (!g) return nullptr;
  for (int k = g->Windows.Size - 1; k >= 0; --k) {
    ImGuiWindow* w = g->Windows[k];
    if (w->WasActive && !w->Hidden && w->OuterRectClipped.Contains(ImVec2(x, y))) return w;
  }
  return nullptr;
}

// Something of the app's own to scroll at (x, y): the window there, or one it sits in, has a vertical scroll range.
// A figure (a window that does not scroll with the mouse, as the views) hands scrolling to the page around it.
static bool scrolls_at(float x, float y) {
  for (ImGuiWindow* w = window_at(x, y); w; w = w->ParentWindow) {
    if (w->Flags & ImGuiWindowFlags_NoScrollWithMouse) return false;
    if (w->ScrollMax.y > 0) return true;
  }
  return false;
}

static bool in_drag_zone(const App& app, float x, float y) {
  for (const auto& r : app.ui.drag_zones)
    if (x >= r[0] && y >= r[1] && x < r[0] + r[2] && y < r[1] + r[3]) return true;
  return false;
}

bool app_wants_drag(const App& app, float x, float y) { return in_drag_zone(app, x, y) || scrolls_at(x, y); }
bool app_wants_wheel(const App&, float x, float y) { return scrolls_at(x, y); }

// A finger dragged on empty space (no widget took the press) scrolls the window under it, as a page would.
static void touch_scroll(App* app) {
  ImGuiContext& g = *ImGui::GetCurrentContext();
  const ImGuiIO& io = g.IO;
  if (!app->touch || !io.MouseDown[0] || io.MouseDownDuration[0] <= 0.0f || io.MouseDelta.y == 0) return;  // not the press
  ImGuiWindow* w = g.HoveredWindow;
  if (!w || (g.ActiveId != 0 && g.ActiveId != w->MoveId && g.ActiveId != w->RootWindow->MoveId)) return;
  for (; w; w = w->ParentWindow)
    if (w->ScrollMax.y > 0 && !(w->Flags & ImGuiWindowFlags_NoScrollWithMouse)) {
      ImGui::SetScrollY(w, std::clamp(w->Scroll.y - io.MouseDelta.y, 0.0f, w->ScrollMax.y));
      return;
    }
}

// A window's own tab bar (medium layout's side panel): no label is ever cut.
static int side_tabs(App* app) {
  int shown = app->ui.side_tab;
  if (ImGui::BeginTabBar("side", ImGuiTabBarFlags_FittingPolicyScroll)) {
    const StrId names[2] = {S_CONTROLS, S_DETAILS};
    const char* ids[2] = {"side_controls", "side_details"};
    for (int k = 0; k < 2; ++k) {
      const bool open = ImGui::BeginTabItem(tr_id(names[k], ids[k]).c_str());
      app_record(app, std::string("tab_") + ids[k]);
      app_check_label(app, std::string("tab_") + ids[k], tr(names[k]));
      if (open) {
        shown = k;
        ImGui::EndTabItem();
      }
    }
    ImGui::EndTabBar();
  }
  app->ui.side_tab = AppSideTab(shown);
  return shown;
}

void app_check_label(App* app, const std::string& name, const char* label) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const float need = ImGui::CalcTextSize(label, nullptr, true).x + st.FramePadding.x * 2 - 1;
  const ImGuiTabBar* bar = ImGui::GetCurrentContext()->CurrentTabBar;  // a tab scrolled out of its bar is cut too
  const bool scrolled = bar && bar->WidthAllTabsIdeal > bar->BarRect.GetWidth() + 0.5f;
  if (ImGui::GetItemRectSize().x < need || scrolled) app->clipped.push_back(name);
}

void app_frame(App* app) {
  const auto t0 = std::chrono::steady_clock::now();
  ++app->frame_count;
  app->layout.clear();
  app->ui.drag_zones.clear();
  app->clipped.clear();
  train_tick(app);                // a few milliseconds of training while playing; the views follow
  app_pretrained_frame(app);      // mode pretrained: the newest request to the host (in-thread: answered now)
  app_state_focus(&app->state);  // the API may have moved the selection since the last frame
  ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y, s = app->ui_scale;
  i18n_set_lang(Lang(app->lang));
  app_shortcuts(app);
  touch_scroll(app);
  const AppLayout mode = app->layout_mode = app_layout_for_width(W / s);
  // Touch targets of at least 40 CSS px in the phone layout: every frame, button, checkbox and tab grows.
  int styles = 0;
  if (mode == APP_LAYOUT_NARROW) {
    const float pad_y = std::max(ImGui::GetStyle().FramePadding.y, (40.0f * s - ImGui::GetFontSize()) * 0.5f);
    ImGui::PushStyleVar(ImGuiStyleVar_FramePadding, ImVec2(10 * s, pad_y));
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(8 * s, 6 * s));
    styles = 2;
  }
  app_main_menu(app);
  const float top = app_visible(*app, "menu") ? ImGui::GetFrameHeight() : 0.0f;
  const bool show_left = app_visible(*app, "controls"), show_right = app_visible(*app, "details");
  ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                           ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  if (app->page.embed) fixed |= ImGuiWindowFlags_NoTitleBar;  // a figure in an article: no window chrome
  const ImGuiWindowFlags views_flags = fixed | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse;
  auto record_window = [app](const char* name) {  // call before End(); also ends begin()'s text wrapping
    const ImVec2 p = ImGui::GetWindowPos(), z = ImGui::GetWindowSize();
    app->layout[name] = {p.x, p.y, z.x, z.y};
    ImGui::PopTextWrapPos();
  };
  // Begin, with help texts and notes wrapping at the window's edge instead of being cut (any width, any language).
  auto begin = [](const char* name, ImGuiWindowFlags flags) {
    const bool open = ImGui::Begin(name, nullptr, flags);
    ImGui::PushTextWrapPos(0.0f);
    return open;
  };
  auto controls = [app]() {
    ImGui::BeginDisabled(app->page.readonly);
    panel_controls(app);
    ImGui::EndDisabled();
  };
  auto views = [app](ImVec2 pos, ImVec2 size) {
    panel_views(app);
    app->capture_rect = {pos.x, pos.y, size.x, size.y};
    app->layout["views_panel"] = app->capture_rect;
  };
  if (mode == APP_LAYOUT_WIDE) {  // controls | views | details
    const float left = show_left ? std::clamp(W * 0.26f, 260 * s, 420 * s) : 0.0f;
    const float right = show_right ? std::clamp(W * 0.24f, 250 * s, 440 * s) : 0.0f;
    const float centre = std::max(100.0f, W - left - right);
    if (show_left) {
      ImGui::SetNextWindowPos(ImVec2(0, top));
      ImGui::SetNextWindowSize(ImVec2(left, H - top));
      if (begin(tr_id(S_CONTROLS, "Controls").c_str(), fixed)) controls();
      record_window("win_controls");
      ImGui::End();
    }
    ImGui::SetNextWindowPos(ImVec2(left, top));
    ImGui::SetNextWindowSize(ImVec2(centre, H - top));
    if (begin(tr_id(S_VIEWS, "Views").c_str(), views_flags)) views(ImVec2(left, top), ImVec2(centre, H - top));
    record_window("win_views");
    ImGui::End();
    if (show_right) {
      ImGui::SetNextWindowPos(ImVec2(left + centre, top));
      ImGui::SetNextWindowSize(ImVec2(right, H - top));
      if (begin(tr_id(S_DETAILS, "Details").c_str(), fixed)) panel_details(app);
      record_window("win_details");
      ImGui::End();
    }
  } else if (mode == APP_LAYOUT_MEDIUM) {  // views | side panel (Controls / Details tabs)
    const bool side_on = show_left || show_right;
    const float side = side_on ? std::clamp(W * 0.36f, 260 * s, 420 * s) : 0.0f;
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(W - side, H - top));
    if (begin(tr_id(S_VIEWS, "Views").c_str(), views_flags)) views(ImVec2(0, top), ImVec2(W - side, H - top));
    record_window("win_views");
    ImGui::End();
    if (side_on) {
      ImGui::SetNextWindowPos(ImVec2(W - side, top));
      ImGui::SetNextWindowSize(ImVec2(side, H - top));
      if (begin("###Side", fixed | ImGuiWindowFlags_NoTitleBar)) {
        const int tab = show_left && show_right ? side_tabs(app) : show_left ? 0 : 1;
        if (tab == 0) controls();
        else panel_details(app);
      }
      record_window("win_side");
      ImGui::End();
    }
  } else {  // one column: the view at full width, the compact bar, then Controls and Details as sections
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(W, H - top));
    if (begin("###Page", fixed | ImGuiWindowFlags_NoTitleBar)) {
      const float pad = ImGui::GetStyle().WindowPadding.y * 2;
      const float view_h = show_left || show_right ? std::clamp(W * 1.2f, std::min(240 * s, H - top - pad), std::max(240 * s, (H - top) * 0.72f))
                                                   : H - top - pad;
      const ImVec2 at = ImGui::GetCursorScreenPos();
      const float view_w = ImGui::GetContentRegionAvail().x;
      const float slot_h = app->ui.view_need_h > 0 ? std::min(view_h, std::max(120 * s, app->ui.view_need_h)) : view_h;
      app->ui.view_need_h_next = 0;
      if (ImGui::BeginChild("views_child", ImVec2(0, slot_h), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse)) {
        ImGui::PushTextWrapPos(0.0f);  // a child window starts without the page's wrapping
        views(at, ImVec2(view_w, slot_h));
        ImGui::PopTextWrapPos();
      }
      ImGui::EndChild();
      app->ui.view_need_h = app->ui.view_need_h_next;
      if (show_left && !app->page.readonly) panel_compact_bar(app);
      if (show_left && ImGui::CollapsingHeader(tr_id(S_CONTROLS, "h_controls").c_str())) controls();
      if (show_left) app_record(app, "h_controls");
      if (show_right && ImGui::CollapsingHeader(tr_id(S_DETAILS, "h_details").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) panel_details(app);
      if (show_right) app_record(app, "h_details");
    }
    record_window("win_page");
    ImGui::End();
  }
  if (app->ui.show_about) {
    // Pinned by its top edge: an auto-resized window's first frame is taller than its last (wrapped text before the
    // width settles), so centring it on that height put its title above the screen.
    ImGui::SetNextWindowPos(ImVec2(W * 0.5f, H * 0.08f), ImGuiCond_Appearing, ImVec2(0.5f, 0.0f));
    ImGui::SetNextWindowSizeConstraints(ImVec2(std::min(W - 16.0f, 320.0f), 0.0f), ImVec2(W - 16.0f, H * 0.88f));
    if (ImGui::Begin(tr_id(S_ABOUT_MENU, "About").c_str(), &app->ui.show_about, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings))
      ui_about(app);
    ImGui::End();
  }
  app_file_dialogs(app);
  app_notices(app);
  ImGui::PopStyleVar(styles);
  // Hover is whatever a widget reported under the mouse this frame (-1 if none): highlights follow it next frame.
  // A finger cannot hover: after a tap the selected cell stands in for the hover until the next tap.
  AppSelection& sel = app->state.sel;
  const bool tapped = app->touch && sel.hover_query_next < 0 && sel.hover_key_next < 0;
  sel.hover_query = tapped ? sel.query : sel.hover_query_next;
  sel.hover_key = tapped ? sel.key : sel.hover_key_next;
  sel.hover_query_next = sel.hover_key_next = -1;
  app->frame_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace attnplay
