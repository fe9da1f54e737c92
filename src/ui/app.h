// attnplay ui: the playground app over one AppState. The platform owns the loop and the window; the app
// never does (init / frame / shutdown, as sokol_app): main_native.cpp, main_web.cpp and the headless tests
// differ only in what they put around app_frame.
//
//   app_init(&app, config)                   once, after ImGui::CreateContext
//   each frame:
//     if (app_fonts_build_if_needed(&app))   before NewFrame; true -> the renderer backend re-uploads the atlas
//     ImGui::NewFrame(); app_frame(&app); ImGui::Render(); ...draw...
//   app_shutdown(&app)
//
// Index
//   AppHost      what the platform lends: heatmap textures (null when headless), GL strings for About
//   App          state + UI-local state + the named widget rectangles tests click on (layout)
//   app_*        the calls above; app_layout_json for the tests' view of the screen
#pragma once

#include "ui/app_state.h"

#include <imgui.h>

#include <array>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace attnplay {

struct AppHost {
  void* user = nullptr;
  // Colour-mapped texture of data [rows, cols] (style: HeatmapStyle), cached by (slot, version); 0 if none.
  unsigned (*heatmap)(void* user, const std::string& slot, const float* data, int rows, int cols, int style, float vmin,
                      float vmax, uint64_t version, int max_pixels) = nullptr;
  std::string platform = "headless";     // shown in About
  std::string gl_version = "none", glsl_version = "none", gl_renderer = "none";
};

struct App {
  AppState state;
  AppHost host;
  float ui_scale = 1.0f;                   // the high-DPI setting (View menu); fonts and sizes scale with it
  float applied_scale = 0.0f;
  bool fonts_dirty = true;
  std::vector<uint8_t> cjk_font;           // a CJK-capable TrueType font (empty: ImGui's default font)
  std::string font_name;
  std::set<uint32_t> glyphs;               // non-Latin code points in use, rasterised on demand
  ImVector<ImWchar> glyph_ranges;
  uint64_t glyphs_generation = ~0ull;
  std::map<std::string, std::array<float, 4>> layout;  // name -> {x, y, w, h} of widgets this frame
  double frame_ms = 0;                     // last frame's CPU time in app_frame
  uint64_t frame_count = 0;
  // UI-local state
  std::string text_edit, key_text_edit;    // text boxes (kept while a draft is invalid)
  int chip_edit = -1;                      // token chip being edited (-1 none)
  bool chip_edit_keys = false;
  std::string chip_buf;
  int paint = 0;                           // mask painting drag: 0 none, 1 mask, 2 unmask
  bool paint_on_weights = false;           // paint directly on the weights heatmap too
  bool weights_full_range = false;         // colour weights over [0, 1] instead of [0, max]
  int head_view_offset = 0;                // first token shown in the head view
  int shown_view = -1;                     // the tab the tab bar showed last frame (state.sel.view may request another)
  bool show_about = false;
};

void        app_init(App* app, const nlohmann::json& config, std::string* error);  // false config -> defaults + error
bool        app_fonts_build_if_needed(App* app);  // (re)builds ImGui's font atlas when glyphs or scale changed
void        app_frame(App* app);                  // all windows; reads io.DisplaySize
void        app_shutdown(App* app);
void        app_set_font(App* app, const uint8_t* data, size_t size, const std::string& name);
std::string app_layout_json(const App& app);      // {"name": [x, y, w, h], ...} in ImGui coordinates
void        app_record(App* app, const std::string& name);  // records the last item's rectangle

}  // namespace attnplay
