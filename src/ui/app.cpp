// attnplay ui: app init / frame / shutdown, fonts and layout. Contracts: app.h.
#include "ui/app.h"

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
#include <imgui_stdlib.h>

#include <chrono>
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
  app->fonts_dirty = true;
}

void app_shutdown(App* app) { app->state = AppState(); }

void app_set_font(App* app, const uint8_t* data, size_t size, const std::string& name) {
  app->cjk_font.assign(data, data + size);
  app->font_name = name;
  app->fonts_dirty = true;
}

void app_record(App* app, const std::string& name) {
  if (app->page.hidden.count(name)) return;  // a hidden control is not on screen
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  app->layout[name] = {a.x, a.y, b.x - a.x, b.y - a.y};
}

bool app_visible(const App& app, const char* name) { return app.page.hidden.count(name) == 0; }

void app_deliver_file(App* app, const std::string& name, const std::string& mime, const std::string& bytes) {
  if (app->host.save) {
    app->host.save(app->host.user, name, mime, bytes);
    return;
  }
  const char* home = std::getenv("HOME");
  app->save_name = name;
  app->save_mime = mime;
  app->save_bytes = bytes;
  app->save_path = std::string(home ? home : ".") + "/" + name;
  app->save_dialog = true;
}

bool app_import(App* app, const std::string& text, const std::string& name) {
  std::string error;
  char buf[512];
  auto ends = [&name](const char* suffix) {
    const size_t n = std::strlen(suffix);
    return name.size() >= n && name.compare(name.size() - n, n, suffix) == 0;
  };
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

// Code points beyond Latin that the current text, tokens and messages use: rasterised on demand so the atlas
// stays small however large the font.
static bool collect_glyphs(App* app) {
  const AppState& s = app->state;
  if (app->glyphs_generation == s.generation && !s.changed && app->glyphs_lang == app->lang && app->notices.empty()) return false;
  app->glyphs_lang = app->lang;
  app->glyphs_generation = s.generation;
  const size_t before = app->glyphs.size();
  auto scan = [app](const std::string& text) {
    for (uint32_t cp : utf8_decode(text, nullptr))
      if (cp >= 0x0250 && cp <= 0xFFFF) app->glyphs.insert(cp);  // ImWchar is 16-bit in this build
  };
  for (const auto& t : app_state_tokens(s)) scan(t);
  for (const auto& t : app_state_key_tokens(s)) scan(t);
  scan(app->text_edit);
  scan(app->key_text_edit);
  scan(s.error);
  for (const auto& w : s.trace.warnings) scan(w);
  if (s.trace.imported) {  // an imported file's own labels
    for (const auto& t : s.trace.tokens) scan(t);
    for (const auto& t : s.trace.key_tokens) scan(t);
  }
  for (const auto& n : app->notices) scan(n);
  if (app->lang != LANG_EN)  // the whole UI table, once: menus and popups appear before they are drawn
    for (int id = 0; id < S_COUNT; ++id)
      if (const char* t = tr_lang(Lang(app->lang), StrId(id))) scan(t);
  scan(app->link);
  return app->glyphs.size() != before;
}

bool app_fonts_build_if_needed(App* app) {
  if (collect_glyphs(app)) app->fonts_dirty = true;
  if (app->ui_scale != app->applied_scale) app->fonts_dirty = true;
  if (!app->fonts_dirty) return false;
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  const float scale = app->ui_scale;
  if (!app->cjk_font.empty()) {
    ImFontGlyphRangesBuilder b;
    b.AddRanges(io.Fonts->GetGlyphRangesDefault());  // Basic Latin + Latin-1
    static const ImWchar extra[] = {0x0100, 0x024F, 0x2000, 0x206F, 0x2190, 0x21FF, 0x2200, 0x22FF,
                                    0x2500, 0x25FF, 0x3000, 0x303F, 0xFF00, 0xFFEF, 0};
    b.AddRanges(extra);
    for (uint32_t cp : app->glyphs) b.AddChar(ImWchar(cp));
    app->glyph_ranges.clear();
    b.BuildRanges(&app->glyph_ranges);
    ImFontConfig cfg;
    cfg.FontDataOwnedByAtlas = false;  // the bytes live in app->cjk_font
    cfg.OversampleH = 2;
    cfg.OversampleV = 1;
    cfg.PixelSnapH = true;
    io.Fonts->AddFontFromMemoryTTF(app->cjk_font.data(), int(app->cjk_font.size()), 16.0f * scale, &cfg,
                                   app->glyph_ranges.Data);
  } else {
    ImFontConfig cfg;
    cfg.SizePixels = 13.0f * scale;
    io.Fonts->AddFontDefault(&cfg);
  }
  io.Fonts->Build();
  ImGuiStyle& style = ImGui::GetStyle();
  style = ImGuiStyle();
  ImGui::StyleColorsLight(&style);
  style.WindowRounding = 0;
  style.FrameRounding = 3;
  style.GrabRounding = 3;
  style.WindowBorderSize = 1;
  style.ScaleAllSizes(scale);
  app->applied_scale = scale;
  app->fonts_dirty = false;
  return true;
}

static void shortcuts(App* app) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput || !io.KeyCtrl || app->page.readonly) return;  // text boxes keep Ctrl+Z for their own text
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z), false)) {
    if (io.KeyShift) app_state_redo(&app->state);
    else app_state_undo(&app->state);
  } else if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y), false)) {
    app_state_redo(&app->state);
  }
}

static void export_menu(App* app) {
  std::string base = export_basename(*app);
  if (ImGui::MenuItem(tr(S_EXPORT_VIEW_PNG))) app->capture = 1;
  app_record(app, "export_view_png");
  if (ImGui::MenuItem(tr(S_EXPORT_WINDOW_PNG))) app->capture = 2;
  app_record(app, "export_window_png");
  if (ImGui::MenuItem(tr(S_EXPORT_CSV))) app_deliver_file(app, base + ".csv", "text/csv", export_csv(*app));
  app_record(app, "export_csv");
  if (ImGui::MenuItem(tr(S_EXPORT_JSON))) app_deliver_file(app, base + ".json", "application/json", export_matrices_json(*app));
  app_record(app, "export_json");
  if (ImGui::MenuItem(tr(S_EXPORT_CONFIG))) app_deliver_file(app, "attnplay-config.json", "application/json", export_config_json(*app));
  app_record(app, "export_config");
  if (ImGui::MenuItem(tr(S_EXPORT_WEIGHTS), nullptr, false, !app->state.parsed.inputs.present)) {
    std::string bytes, error;
    if (export_weights(*app, &bytes, &error)) app_deliver_file(app, "attnplay-weights.safetensors", "application/octet-stream", bytes);
    else app->notices.push_back(error);
  }
  app_record(app, "export_weights");
}

static void main_menu(App* app) {
  if (!app_visible(*app, "menu") || !ImGui::BeginMainMenuBar()) return;
  AppState& s = app->state;
  const bool ro = app->page.readonly;
  if (ImGui::BeginMenu(tr_id(S_MENU_FILE, "m_file").c_str())) {
    if (ImGui::MenuItem(tr(S_IMPORT_CONFIG), nullptr, false, !ro)) {
      if (app->host.open_config) app->host.open_config(app->host.user);
      else app->import_dialog = true;
    }
    app_record(app, "import_config");
    if (ImGui::BeginMenu(tr_id(S_EXPORT, "m_export").c_str())) {
      export_menu(app);
      ImGui::EndMenu();
    }
    app_record(app, "menu_export");
    if (!ro) ImGui::TextDisabled("%s", tr(S_DROP_HINT));
    ImGui::EndMenu();
  }
  app_record(app, "menu_file");
  if (ImGui::BeginMenu(tr_id(S_MENU_EDIT, "m_edit").c_str(), !ro)) {
    if (ImGui::MenuItem(tr(S_UNDO), "Ctrl+Z", false, !s.undo.empty())) app_state_undo(&s);
    if (ImGui::MenuItem(tr(S_REDO), "Ctrl+Y", false, !s.redo.empty())) app_state_redo(&s);
    if (ImGui::MenuItem(tr(S_RESET))) app_state_reset(&s);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(tr_id(S_MENU_PRESETS, "m_presets").c_str(), !ro)) {
    for (const Preset& p : presets()) {
      if (ImGui::MenuItem(tr(p.title), nullptr, s.preset_id == p.id)) app_state_load_preset(&s, p.id);
      app_record(app, "preset_" + p.id);
    }
    ImGui::EndMenu();
  }
  app_record(app, "menu_presets");
  if (ImGui::BeginMenu(tr_id(S_MENU_VIEW, "m_view").c_str())) {
    const StrId names[APP_VIEW_COUNT] = {S_ATTENTION, S_MASK, S_HEADS_TAB, S_MODEL_TAB, S_QKV_TAB, S_GEOMETRY_TAB};
    for (int v = 0; v < APP_VIEW_COUNT; ++v)
      if (ImGui::MenuItem(tr(names[v]), nullptr, s.sel.view == v)) s.sel.view = AppView(v);
    ImGui::Separator();
    ImGui::TextDisabled("%s", tr(S_UI_SCALE));
    for (float f : {1.0f, 1.25f, 1.5f, 2.0f}) {
      char label[16];
      std::snprintf(label, sizeof label, "%d%%", int(f * 100 + 0.5f));
      if (ImGui::MenuItem(label, nullptr, app->ui_scale == f)) app->ui_scale = f;
    }
    ImGui::Separator();
    ImGui::TextDisabled("%s", tr(S_LANGUAGE));
    if (ImGui::MenuItem("English", nullptr, app->lang == LANG_EN)) app->lang = LANG_EN;
    app_record(app, "lang_en");
    if (ImGui::MenuItem("中文（简体）", nullptr, app->lang == LANG_ZH)) app->lang = LANG_ZH;
    app_record(app, "lang_zh");
    ImGui::EndMenu();
  }
  app_record(app, "menu_view");
  if (ImGui::BeginMenu(tr_id(S_MENU_SHARE, "m_share").c_str())) {
    if (ImGui::MenuItem(tr(S_COPY_LINK))) {
      const std::string q = share_query(*app);
      if (app->host.copy_link) {
        app->host.copy_link(app->host.user, q);
      } else {
        app->link = "?" + q;
        ImGui::SetClipboardText(app->link.c_str());
        app->notices.push_back(std::string(tr(S_LINK_COPIED)) + " " + app->link.substr(0, 80) + (app->link.size() > 80 ? "..." : ""));
      }
    }
    app_record(app, "copy_link");
    ImGui::EndMenu();
  }
  app_record(app, "menu_share");
  if (ImGui::BeginMenu(tr_id(S_MENU_HELP, "m_help").c_str())) {
    if (ImGui::MenuItem(tr(S_ABOUT_MENU))) app->show_about = true;
    ImGui::EndMenu();
  }
  if (ro) {
    ImGui::SameLine();
    ImGui::TextDisabled("(%s)", tr(S_READONLY));
  }
  ImGui::SameLine(ImGui::GetWindowWidth() - ImGui::CalcTextSize("attnplay 0.0.0").x - 16 * app->ui_scale);
  ImGui::TextDisabled("attnplay %s", build_version());
  ImGui::EndMainMenuBar();
}

// Save-as and import-by-path dialogs of the desktop (the web hands files to the browser instead).
static void file_dialogs(App* app) {
  if (app->save_dialog) {
    ImGui::OpenPopup("###save_as");
    app->save_dialog = false;
  }
  if (ImGui::BeginPopupModal(tr_id(S_SAVE_AS, "save_as").c_str(), nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    ImGui::InputText("##path", &app->save_path);
    app_record(app, "save_path");
    const bool save = ImGui::Button(tr_id(S_SAVE, "save").c_str());
    app_record(app, "save_button");
    if (save) {
      std::ofstream f(app->save_path, std::ios::binary);
      char buf[1024];
      if (f && f.write(app->save_bytes.data(), std::streamsize(app->save_bytes.size()))) {
        std::snprintf(buf, sizeof buf, tr(S_SAVED_TO), app->save_path.c_str());
      } else {
        std::snprintf(buf, sizeof buf, tr(S_SAVE_FAILED), app->save_path.c_str(), "cannot write");
      }
      app->notices.push_back(buf);
      app->save_bytes.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_CANCEL, "cancel").c_str())) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  if (app->import_dialog) {
    ImGui::OpenPopup("###import");
    app->import_dialog = false;
  }
  if (ImGui::BeginPopupModal(tr_id(S_IMPORT_PATH, "import").c_str(), nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    ImGui::InputText("##import_path", &app->import_path);
    if (ImGui::Button(tr_id(S_LOAD, "load").c_str())) {
      std::ifstream f(app->import_path, std::ios::binary);
      std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
      if (!f.good() && text.empty()) app->notices.push_back(app->import_path + ": cannot read");
      else app_import(app, text, app->import_path);
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_CANCEL, "cancel2").c_str())) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

// The newest notices, bottom centre, for a few seconds.
static void notices(App* app) {
  static double shown_until = 0;
  static std::vector<std::string> showing;
  const double now = ImGui::GetTime();
  if (!app->notices.empty()) {
    showing = app->notices;
    app->notices.clear();
    shown_until = now + 5.0;
  }
  if (showing.empty() || now > shown_until) return;
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y - 12), ImGuiCond_Always, ImVec2(0.5f, 1.0f));
  ImGui::SetNextWindowBgAlpha(0.92f);
  if (ImGui::Begin("###notices", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize |
                                             ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
                                             ImGuiWindowFlags_NoNav)) {
    ImGui::PushTextWrapPos(io.DisplaySize.x * 0.6f);
    for (const auto& n : showing) ImGui::TextUnformatted(n.c_str());
    ImGui::PopTextWrapPos();
    app_record(app, "notice");
  }
  ImGui::End();
}

void app_frame(App* app) {
  const auto t0 = std::chrono::steady_clock::now();
  ++app->frame_count;
  app->layout.clear();
  train_tick(app);                // a few milliseconds of training while playing; the views follow
  app_state_focus(&app->state);  // the API may have moved the selection since the last frame
  ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y, s = app->ui_scale;
  i18n_set_lang(Lang(app->lang));
  shortcuts(app);
  main_menu(app);
  const float top = app_visible(*app, "menu") ? ImGui::GetFrameHeight() : 0.0f;
  // Three fixed columns that never overlap: controls | views | details. Below 900 px the details column
  // folds under the controls.
  const bool show_left = app_visible(*app, "controls"), show_right = app_visible(*app, "details");
  const bool narrow = W < 900 * s && show_left;
  const float left = show_left ? std::clamp(W * 0.26f, 260 * s, 420 * s) : 0.0f;
  const float right = narrow || !show_right ? 0.0f : std::clamp(W * 0.24f, 250 * s, 440 * s);
  const float centre = std::max(100.0f, W - left - right);
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  if (show_left) {
    ImGui::SetNextWindowPos(ImVec2(0, top));
    ImGui::SetNextWindowSize(ImVec2(left, H - top));
    if (ImGui::Begin(tr_id(S_CONTROLS, "Controls").c_str(), nullptr, fixed)) {
      ImGui::BeginDisabled(app->page.readonly);
      panel_controls(app);
      ImGui::EndDisabled();
      if (narrow && show_right) {
        ImGui::Separator();
        panel_details(app);
      }
    }
    ImGui::End();
  }
  ImGui::SetNextWindowPos(ImVec2(left, top));
  ImGui::SetNextWindowSize(ImVec2(centre, H - top));
  if (ImGui::Begin(tr_id(S_VIEWS, "Views").c_str(), nullptr, fixed | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse)) panel_views(app);
  app->capture_rect = {left, top, centre, H - top};
  app->layout["views_panel"] = app->capture_rect;
  ImGui::End();
  if (!narrow && show_right) {
    ImGui::SetNextWindowPos(ImVec2(left + centre, top));
    ImGui::SetNextWindowSize(ImVec2(right, H - top));
    if (ImGui::Begin(tr_id(S_DETAILS, "Details").c_str(), nullptr, fixed)) panel_details(app);
    ImGui::End();
  }
  if (app->show_about) {
    ImGui::SetNextWindowPos(ImVec2(W * 0.5f, H * 0.4f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::Begin(tr_id(S_ABOUT_MENU, "About").c_str(), &app->show_about, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings))
      ui_about(app);
    ImGui::End();
  }
  file_dialogs(app);
  notices(app);
  // Hover is whatever a widget reported under the mouse this frame (-1 if none): highlights follow it next frame.
  AppSelection& sel = app->state.sel;
  sel.hover_query = sel.hover_query_next;
  sel.hover_key = sel.hover_key_next;
  sel.hover_query_next = sel.hover_key_next = -1;
  app->frame_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace attnplay
