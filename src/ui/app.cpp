// attnplay ui: app init / frame / shutdown, fonts and layout. Contracts: app.h.
#include "ui/app.h"

#include "core/build_info.h"
#include "model/tokenizer.h"
#include "ui/panels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

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
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
  app->layout[name] = {a.x, a.y, b.x - a.x, b.y - a.y};
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
  if (app->glyphs_generation == s.generation && !s.changed) return false;
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
  if (io.WantTextInput || !io.KeyCtrl) return;  // text boxes keep Ctrl+Z for their own text
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z), false)) {
    if (io.KeyShift) app_state_redo(&app->state);
    else app_state_undo(&app->state);
  } else if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y), false)) {
    app_state_redo(&app->state);
  }
}

static void main_menu(App* app) {
  if (!ImGui::BeginMainMenuBar()) return;
  AppState& s = app->state;
  if (ImGui::BeginMenu("Edit")) {
    if (ImGui::MenuItem("Undo", "Ctrl+Z", false, !s.undo.empty())) app_state_undo(&s);
    if (ImGui::MenuItem("Redo", "Ctrl+Y", false, !s.redo.empty())) app_state_redo(&s);
    if (ImGui::MenuItem("Reset to preset")) app_state_reset(&s);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("View")) {
    static const char* names[APP_VIEW_COUNT] = {"Attention", "Mask", "Heads", "Model", "Q K V"};
    for (int v = 0; v < APP_VIEW_COUNT; ++v)
      if (ImGui::MenuItem(names[v], nullptr, s.sel.view == v)) s.sel.view = AppView(v);
    ImGui::Separator();
    ImGui::TextDisabled("UI scale (high-DPI)");
    for (float f : {1.0f, 1.25f, 1.5f, 2.0f}) {
      char label[16];
      std::snprintf(label, sizeof label, "%d%%", int(f * 100 + 0.5f));
      if (ImGui::MenuItem(label, nullptr, app->ui_scale == f)) app->ui_scale = f;
    }
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu("Help")) {
    if (ImGui::MenuItem("About attnplay")) app->show_about = true;
    ImGui::EndMenu();
  }
  ImGui::SameLine(ImGui::GetWindowWidth() - ImGui::CalcTextSize("attnplay 0.0.0").x - 16 * app->ui_scale);
  ImGui::TextDisabled("attnplay %s", build_version());
  ImGui::EndMainMenuBar();
}

void app_frame(App* app) {
  const auto t0 = std::chrono::steady_clock::now();
  ++app->frame_count;
  app->layout.clear();
  ImGuiIO& io = ImGui::GetIO();
  const float W = io.DisplaySize.x, H = io.DisplaySize.y, s = app->ui_scale;
  shortcuts(app);
  main_menu(app);
  const float top = ImGui::GetFrameHeight();
  // Three fixed columns that never overlap: controls | views | details. Below 900 px the details column
  // folds under the controls.
  const bool narrow = W < 900 * s;
  const float left = std::clamp(W * 0.26f, 260 * s, 420 * s);
  const float right = narrow ? 0.0f : std::clamp(W * 0.24f, 250 * s, 440 * s);
  const float centre = std::max(100.0f, W - left - right);
  const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                 ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::SetNextWindowPos(ImVec2(0, top));
  ImGui::SetNextWindowSize(ImVec2(left, H - top));
  if (ImGui::Begin("Controls", nullptr, fixed)) {
    panel_controls(app);
    if (narrow) {
      ImGui::Separator();
      panel_details(app);
    }
  }
  ImGui::End();
  ImGui::SetNextWindowPos(ImVec2(left, top));
  ImGui::SetNextWindowSize(ImVec2(centre, H - top));
  if (ImGui::Begin("Views", nullptr, fixed | ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse)) panel_views(app);
  ImGui::End();
  if (!narrow) {
    ImGui::SetNextWindowPos(ImVec2(left + centre, top));
    ImGui::SetNextWindowSize(ImVec2(right, H - top));
    if (ImGui::Begin("Details", nullptr, fixed)) panel_details(app);
    ImGui::End();
  }
  if (app->show_about) {
    ImGui::SetNextWindowPos(ImVec2(W * 0.5f, H * 0.4f), ImGuiCond_Appearing, ImVec2(0.5f, 0.5f));
    if (ImGui::Begin("About attnplay", &app->show_about, ImGuiWindowFlags_AlwaysAutoResize | ImGuiWindowFlags_NoSavedSettings))
      ui_about(app);
    ImGui::End();
  }
  // Hover is whatever a widget reported under the mouse this frame (-1 if none): highlights follow it next frame.
  AppSelection& sel = app->state.sel;
  sel.hover_query = sel.hover_query_next;
  sel.hover_key = sel.hover_key_next;
  sel.hover_query_next = sel.hover_key_next = -1;
  app->frame_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace attnplay
