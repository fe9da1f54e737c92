// attnplay ui: fonts. A Latin cut of the face loads first (small), the CJK face when a glyph in use needs it; the
// atlas holds only the glyphs in use and is rebuilt when they or the UI scale change. Contracts: app.h.
//
// Index
//   app_set_font, app_set_latin_font, app_needs_cjk   the faces the platform hands over
//   collect_glyphs                                    the code points the UI shows this frame
//   app_fonts_build_if_needed                         the atlas, before NewFrame
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
#include <imgui_internal.h>
#include <imgui_stdlib.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>

namespace attnplay {

void app_set_font(App* app, const uint8_t* data, size_t size, const std::string& name) {
  app->cjk_font.assign(data, data + size);
  app->font_name = name;
  app->ui.fonts_dirty = true;
}

void app_set_latin_font(App* app, const uint8_t* data, size_t size) {
  app->latin_font.assign(data, data + size);
  app->ui.fonts_dirty = true;
}

// What the Latin font (build.sh's latin cut) covers; everything else waits for the CJK font.
static bool latin_covers(uint32_t cp) {
  return cp < 0x0250 || (cp >= 0x0370 && cp <= 0x03FF) || (cp >= 0x1D00 && cp <= 0x1DBF) || (cp >= 0x2000 && cp <= 0x206F) ||
         (cp >= 0x2070 && cp <= 0x209F) || (cp >= 0x2190 && cp <= 0x22FF) || (cp >= 0x2500 && cp <= 0x25FF);
}

bool app_needs_cjk(const App& app) {
  if (!app.cjk_font.empty()) return false;
  if (app.lang != LANG_EN) return true;
  for (uint32_t cp : app.glyphs)
    if (!latin_covers(cp)) return true;
  return false;
}

// Code points beyond Latin that the current text, tokens and messages use: rasterised on demand so the atlas
// stays small however large the font.
static bool collect_glyphs(App* app) {
  const AppState& s = app->state;
  if (app->ui.glyphs_generation == s.generation && !s.changed && app->ui.glyphs_lang == app->lang && app->notices.empty() &&
      !app->ui.view_menu_open)
    return false;
  app->ui.glyphs_lang = app->lang;
  app->ui.glyphs_generation = s.generation;
  const size_t before = app->glyphs.size();
  auto scan = [app](const std::string& text) {
    for (uint32_t cp : utf8_decode(text, nullptr))
      if (cp >= 0x0250 && cp <= 0xFFFF) app->glyphs.insert(cp);  // ImWchar is 16-bit in this build
  };
  for (const auto& t : app_state_tokens(s)) scan(t);
  for (const auto& t : app_state_key_tokens(s)) scan(t);
  scan(app->ui.text_edit);
  scan(app->ui.key_text_edit);
  scan(s.error);
  for (const auto& w : s.trace.warnings) scan(w);
  if (s.trace.imported) {  // an imported file's own labels
    for (const auto& t : s.trace.tokens) scan(t);
    for (const auto& t : s.trace.key_tokens) scan(t);
  }
  for (const auto& n : app->notices) scan(n);
  // Tokens the model may write (next-token list, greedy decoding): a trained vocabulary holds more than the text.
  // (Capped: a large loaded vocabulary would fill the atlas with glyphs nobody sees.)
  for (const std::vector<std::string>* v : {&s.trace.vocab, &s.full.tgt_vocab})
    if (v->size() <= 4096)
      for (const auto& t : *v) scan(t);
  if (app->lang != LANG_EN)  // the whole UI table, once: menus and popups appear before they are drawn
    for (int id = 0; id < S_COUNT; ++id)
      if (const char* t = tr_lang(Lang(app->lang), StrId(id))) scan(t);
  scan(app->link);
  if (app->ui.view_menu_open) scan(kZhMenuLabel);
  return app->glyphs.size() != before;
}

bool app_fonts_build_if_needed(App* app) {
  if (collect_glyphs(app)) app->ui.fonts_dirty = true;
  if (app->ui_scale != app->ui.applied_scale) app->ui.fonts_dirty = true;
  if (!app->ui.fonts_dirty) return false;
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  const float scale = app->ui_scale;
  const std::vector<uint8_t>& face = app->cjk_font.empty() ? app->latin_font : app->cjk_font;
  if (!face.empty()) {
    ImFontGlyphRangesBuilder b;
    b.AddRanges(io.Fonts->GetGlyphRangesDefault());  // Basic Latin + Latin-1
    static const ImWchar extra[] = {0x0100, 0x024F, 0x2000, 0x206F, 0x2190, 0x21FF, 0x2200, 0x22FF,
                                    0x2500, 0x25FF, 0x3000, 0x303F, 0xFF00, 0xFFEF, 0};
    b.AddRanges(extra);
    for (uint32_t cp : app->glyphs) b.AddChar(ImWchar(cp));
    app->ui.glyph_ranges.clear();
    b.BuildRanges(&app->ui.glyph_ranges);
    ImFontConfig cfg;
    cfg.FontDataOwnedByAtlas = false;  // the bytes live in app->cjk_font / latin_font
    cfg.OversampleH = 2;
    cfg.OversampleV = 1;
    cfg.PixelSnapH = true;
    io.Fonts->AddFontFromMemoryTTF(const_cast<uint8_t*>(face.data()), int(face.size()), 16.0f * scale, &cfg,
                                   app->ui.glyph_ranges.Data);
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
  app->ui.applied_scale = scale;
  app->ui.fonts_dirty = false;
  return true;
}

}  // namespace attnplay
