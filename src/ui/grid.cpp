// attnplay ui: the heatmap grid every view draws with (contracts: grid.h): layout, labels, textures, colour bars,
// numbers in cells, hover / select / paint / pan, zoom buttons and the head selector.
//
// Dimension glossary: n_q (query rows), n_k (key columns), heads.
//
// Index
//   [Text]      clip_text, kind_label, is_cjk, utf8_char, label_room, column_label
//   [Layout]    grid_layout
//   [Textures]  cached_range, shrink_pixels, heatmap_texture, colorbar
//   [Grid]      annotate, grid_view, zoom_bar
//   [Heads]     flow, head_selector_width, head_selector
#include "ui/grid.h"

#include "core/attention.h"
#include "ui/colormap.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"
#include "model/tokenizer.h"

#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>


namespace attnplay {

std::string clip_text(const std::string& s, float max_w) {
  if (ImGui::CalcTextSize(s.c_str()).x <= max_w) return s;
  std::string t = s;
  while (!t.empty() && ImGui::CalcTextSize((t + "…").c_str()).x > max_w) utf8_pop_char(&t);  // UTF-8 stays whole
  return t + "…";
}

// Ideographs, kana, hangul and full-width forms: a line may break before or after any of them. Closing punctuation
// (，。：、！？）」』) never starts a line.
static bool wraps_around(unsigned c) {
  return (c >= 0x2E80 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFF00 && c <= 0xFFEF);
}
static bool closing(unsigned c) {
  return c == 0xFF0C || c == 0x3002 || c == 0xFF1A || c == 0x3001 || c == 0xFF01 || c == 0xFF1F || c == 0xFF09 || c == 0x300D ||
         c == 0x300F || c == 0xFF1B || c == 0x201D;
}

void ui_text_wrapped(const char* text) {
  const float width = std::max(ImGui::GetFontSize() * 4, ImGui::GetContentRegionAvail().x);
  ImFont* font = ImGui::GetFont();
  const float size = ImGui::GetFontSize();
  auto measure = [&](const char* b, const char* e) { return font->CalcTextSizeA(size, FLT_MAX, 0.0f, b, e).x; };
  const char* p = text;
  while (true) {
    const char* line = p;
    const char* cut = nullptr;     // where the line may end (the last break opportunity seen)
    const char* resume = nullptr;  // and where the next one then starts
    const char* q = p;
    bool broke = false;
    while (*q && *q != '\n') {
      unsigned c = 0;
      const char* next = q + std::max(1, ImTextCharFromUtf8(&c, q, nullptr));
      if (q > line && wraps_around(c) && !closing(c)) cut = resume = q;  // before an ideograph
      if (measure(line, next) > width && cut && cut > line) {
        ImGui::TextUnformatted(line, cut);
        p = resume;
        while (*p == ' ') ++p;
        broke = true;
        break;
      }
      if (c == ' ') {
        cut = q;
        resume = next;
      } else if (wraps_around(c)) {
        cut = resume = next;  // after an ideograph (or closing punctuation)
      }
      q = next;
    }
    if (broke) continue;
    ImGui::TextUnformatted(line, q);
    if (!*q) break;
    p = q + 1;  // past the newline
  }
}

const char* kind_label(AttentionKind k) { return tr_named(std::string("kind.") + attention_kind_info(k).name); }


// Lays a rows x cols grid into an area: square cells up to 4 font heights, labels where they are readable, centred
// across. label_need: room the row labels (x) and column labels (y) want (label_room), < 0 for the most they may
// take. zoom (may be null) is clamped to the matrix here.
Grid grid_layout(ImVec2 area_min, ImVec2 area_size, int rows, int cols, float colorbar_w, AppZoom* zoom,
                 ImVec2 label_need) {
  Grid g;
  g.rows = rows;
  g.cols = cols;
  const float font = ImGui::GetFontSize();
  const float max_cell = font * 4.0f;
  const float z = zoom ? std::max(1.0f, zoom->scale) : 1.0f;
  float cell = std::min((area_size.x - colorbar_w) / std::max(cols, 1), area_size.y / std::max(rows, 1));
  g.labels = cell * z >= font * 0.9f;
  if (g.labels) {
    g.label_w = std::min(label_need.x >= 0 ? label_need.x : font * 6.0f, std::min(font * 6.0f, area_size.x * 0.25f));
    g.label_h = std::min(label_need.y >= 0 ? label_need.y : font * 5.0f, std::min(font * 5.0f, area_size.y * 0.25f));
    cell = std::min((area_size.x - colorbar_w - g.label_w) / std::max(cols, 1), (area_size.y - g.label_h) / std::max(rows, 1));
    g.labels = cell * z >= font * 0.9f;
    if (!g.labels) g.label_w = g.label_h = 0;
  }
  cell = std::max(1e-3f, std::min(cell, max_cell));  // below a pixel per cell at thousands of tokens: the GPU shrinks it
  const float used_w = g.label_w + cell * cols + colorbar_w;
  g.clip_min = ImVec2(std::floor(area_min.x + std::max(0.0f, (area_size.x - used_w) * 0.5f) + g.label_w),
                      std::floor(area_min.y + g.label_h));
  g.clip_max = ImVec2(g.clip_min.x + cell * cols, g.clip_min.y + cell * rows);
  g.cell = cell * z;
  g.origin = g.clip_min;
  if (zoom && z > 1) {
    zoom->col0 = std::clamp(zoom->col0, 0.0f, cols - cols / z);
    zoom->row0 = std::clamp(zoom->row0, 0.0f, rows - rows / z);
    g.origin = ImVec2(g.clip_min.x - zoom->col0 * g.cell, g.clip_min.y - zoom->row0 * g.cell);
  }
  return g;
}

static bool is_cjk(uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000;
}

static std::string utf8_char(uint32_t cp) {
  std::string o;
  utf8_append(cp, &o);
  return o;
}

// Room that token labels want: x for row labels (widest), y for column labels (longest rotated word, or a stack
// of CJK characters). Measures the first 512 of each: beyond that the cells are too small for labels anyway.
ImVec2 label_room(const std::vector<std::string>& rows, const std::vector<std::string>& cols) {
  const float font = ImGui::GetFontSize();
  float w = 0, h = 0;
  for (size_t i = 0; i < rows.size() && i < 512; ++i) w = std::max(w, ImGui::CalcTextSize(rows[i].c_str()).x);
  for (size_t j = 0; j < cols.size() && j < 512; ++j) {
    const std::vector<uint32_t> cps = utf8_decode(cols[j], nullptr);
    h = std::max(h, std::any_of(cps.begin(), cps.end(), is_cjk) ? cps.size() * font : ImGui::CalcTextSize(cols[j].c_str()).x);
  }
  return ImVec2(w + 10, h + 10);
}

// A column label ending at `anchor` (its bottom centre). Latin words are rotated by -90° (reading bottom-up);
// a label with CJK characters stands upright, one character under the other, as vertical Chinese is written.
static void column_label(ImDrawList* dl, ImVec2 anchor, ImU32 col, const std::string& text, float max_len) {
  const std::vector<uint32_t> cps = utf8_decode(text, nullptr);
  if (std::any_of(cps.begin(), cps.end(), is_cjk)) {
    const float font = ImGui::GetFontSize();
    const int fit = std::max(1, int(max_len / font));
    const int n = std::min(int(cps.size()), fit);
    for (int k = 0; k < n; ++k) {
      const bool cut = k == n - 1 && n < int(cps.size());
      const std::string ch = cut ? std::string("…") : utf8_char(cps[size_t(k)]);
      const float w = ImGui::CalcTextSize(ch.c_str()).x;
      dl->AddText(ImVec2(anchor.x - w * 0.5f, anchor.y - (n - k) * font), col, ch.c_str());
    }
    return;
  }
  const int start = dl->VtxBuffer.Size;
  const float font = ImGui::GetFontSize();
  std::string t = text;
  while (!t.empty() && ImGui::CalcTextSize(t.c_str()).x > max_len) utf8_pop_char(&t);  // UTF-8 stays whole
  dl->AddText(ImVec2(anchor.x, anchor.y - font * 0.5f), col, t.c_str());
  // rotate around (anchor.x, anchor.y): (x, y) -> (anchor.x + (y - anchor.y), anchor.y - (x - anchor.x))
  for (int i = start; i < dl->VtxBuffer.Size; ++i) {
    ImDrawVert& v = dl->VtxBuffer[i];
    const float dx = v.pos.x - anchor.x, dy = v.pos.y - anchor.y;
    v.pos = ImVec2(anchor.x + dy, anchor.y - dx);
  }
}


// A texture of m with masked cells replaced by the sentinel, made only when (slot, generation) changes.
namespace {
struct Prepared {
  uint64_t version = ~0ull;
  std::vector<float> data;
};
}  // namespace

// A matrix's colour range (max, or max |x| over the finite entries), computed once per generation and slot.
float cached_range(const App* app, const std::string& slot, const Mat& m, bool absolute) {
  auto& cache = generation_cache<float>(app, app->state.generation);
  auto it = cache.find(slot);
  if (it != cache.end()) return it->second;
  float v = 0;
  for (Eigen::Index k = 0; k < m.size(); ++k) {
    const float x = m.data()[k];
    if (std::isfinite(x)) v = std::max(v, absolute ? std::fabs(x) : x);
  }
  return cache[slot] = v;
}

// Pixels per side for a grid drawn smaller than one pixel per cell (the renderer then averages blocks), else 0.
int shrink_pixels(const Grid& g) {
  const float scale = std::max(1.0f, ImGui::GetIO().DisplayFramebufferScale.x);
  if (g.cell * scale >= 1.0f) return 0;
  return std::max(1, int(std::ceil(std::max(g.size().x, g.size().y) * scale)));
}

unsigned heatmap_texture(App* app, const std::string& slot, const Mat& m, const MaskMat* mask, HeatmapStyle style, float vmin,
                         float vmax, int max_pixels) {
  if (m.size() == 0) return 0;
  const uint64_t version = app->state.generation;
  const float* data = m.data();
  if (mask && mask->size() == m.size()) {
    Prepared& p = generation_cache<Prepared>(app, version)[slot];
    if (p.version != version || p.data.size() != size_t(m.size())) {
      p.data.assign(m.data(), m.data() + m.size());
      for (Eigen::Index k = 0; k < m.size(); ++k)
        if (mask->data()[k]) p.data[size_t(k)] = kHeatmapMasked;
      p.version = version;
    }
    data = p.data.data();
  }
  return app->host->heatmap(slot, data, int(m.rows()), int(m.cols()), style, vmin, vmax, version, max_pixels);
}

void colorbar(ImVec2 pos, float height, bool diverging, float vmin, float vmax) {
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float w = ImGui::GetFontSize() * 0.8f;
  const int steps = 32;
  for (int k = 0; k < steps; ++k) {
    const float t0 = 1.0f - float(k) / steps;
    const ImU32 c = diverging ? colormap_diverging(t0) : colormap_viridis(t0);
    dl->AddRectFilled(ImVec2(pos.x, pos.y + height * k / steps), ImVec2(pos.x + w, pos.y + height * (k + 1) / steps + 1), c);
  }
  dl->AddRect(pos, ImVec2(pos.x + w, pos.y + height), IM_COL32(90, 90, 90, 255));
  char buf[32];
  const ImU32 tc = ImGui::GetColorU32(ImGuiCol_Text);
  std::snprintf(buf, sizeof buf, "%.3g", vmax);
  dl->AddText(ImVec2(pos.x + w + 3, pos.y - 2), tc, buf);
  std::snprintf(buf, sizeof buf, "%.3g", diverging ? -vmax : vmin);
  dl->AddText(ImVec2(pos.x + w + 3, pos.y + height - ImGui::GetFontSize()), tc, buf);
  if (diverging) dl->AddText(ImVec2(pos.x + w + 3, pos.y + height * 0.5f - ImGui::GetFontSize() * 0.5f), tc, "0");
}


static void annotate(const Grid& g, const GridAnnot& an, const MaskMat* mask) {
  if (!an.values || g.cell < kAnnotMinCell || an.values->rows() != g.rows || an.values->cols() != g.cols) return;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float size = std::min(ImGui::GetFontSize() * 0.8f, g.cell * 0.36f);
  ImFont* font = ImGui::GetFont();
  for (int i = g.r0(); i < g.r1(); ++i)
    for (int j = g.c0(); j < g.c1(); ++j) {
      if (mask && mask->size() && (*mask)(i, j)) continue;
      const float v = (*an.values)(i, j);
      if (!std::isfinite(v)) continue;
      char buf[16];
      std::snprintf(buf, sizeof buf, an.style == HEATMAP_STYLE_SEQUENTIAL ? "%.2f" : "%.1f", double(v));
      const char* text = buf;
      if (text[0] == '0' && text[1] == '.' && font->CalcTextSizeA(size, FLT_MAX, 0, text).x > g.cell - 4) ++text;  // ".25"
      const ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, 0, text);
      if (ts.x > g.cell - 2) continue;
      const float range = an.vmax - an.vmin;
      const float t = an.style == HEATMAP_STYLE_SEQUENTIAL ? (range > 0 ? (v - an.vmin) / range : 0.0f) : 0.5f + 0.5f * v / std::max(1e-30f, an.vmax);
      const ImU32 bg = an.style == HEATMAP_STYLE_SEQUENTIAL ? colormap_viridis(std::clamp(t, 0.0f, 1.0f)) : colormap_diverging(std::clamp(t, 0.0f, 1.0f));
      const float lum = 0.299f * float((bg >> IM_COL32_R_SHIFT) & 0xFF) + 0.587f * float((bg >> IM_COL32_G_SHIFT) & 0xFF) +
                        0.114f * float((bg >> IM_COL32_B_SHIFT) & 0xFF);
      const ImVec2 at(g.origin.x + (j + 0.5f) * g.cell - ts.x * 0.5f, g.origin.y + (i + 0.5f) * g.cell - ts.y * 0.5f);
      dl->AddText(font, size, at, lum > 140 ? IM_COL32(20, 20, 20, 255) : IM_COL32(250, 250, 250, 255), text);
    }
}

// Draws one n_q x n_k heatmap with labels, overlays and interaction. value(i, j) gives the tooltip numbers.
void grid_view(App* app, const char* id, const Grid& g, unsigned tex, const std::vector<std::string>& rows,
               const std::vector<std::string>& cols, const MaskMat* mask, GridMode mode, const char* tooltip_what,
               const GridAnnot& annot, bool zoomable) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 size = g.size(), end(g.origin.x + size.x, g.origin.y + size.y);
  const int r0 = g.r0(), r1 = g.r1(), c0 = g.c0(), c1 = g.c1();
  dl->PushClipRect(g.clip_min, g.clip_max, true);
  if (tex) dl->AddImage(ImTextureID(uintptr_t(tex)), g.origin, end);
  else dl->AddRectFilled(g.origin, end, IM_COL32(220, 220, 220, 255));
  // Masked-cell hatching where cells are big enough to see it.
  if (mask && mask->size() && g.cell >= 8) {
    for (int i = r0; i < r1; ++i)
      for (int j = c0; j < c1; ++j)
        if ((*mask)(i, j)) {
          const ImVec2 a(g.origin.x + j * g.cell, g.origin.y + i * g.cell);
          dl->AddLine(a, ImVec2(a.x + g.cell, a.y + g.cell), IM_COL32(255, 255, 255, 110), 1.0f);
        }
  }
  annotate(g, annot, mask);
  // Hover row/column highlight from anywhere (token chips, other views).
  if (s.sel.hover_query >= 0 && s.sel.hover_query < g.rows)
    dl->AddRect(ImVec2(g.origin.x, g.origin.y + s.sel.hover_query * g.cell),
                ImVec2(end.x, g.origin.y + (s.sel.hover_query + 1) * g.cell), IM_COL32(255, 170, 0, 255), 0, 0, 2.0f);
  if (s.sel.hover_key >= 0 && s.sel.hover_key < g.cols)
    dl->AddRect(ImVec2(g.origin.x + s.sel.hover_key * g.cell, g.origin.y),
                ImVec2(g.origin.x + (s.sel.hover_key + 1) * g.cell, end.y), IM_COL32(255, 170, 0, 255), 0, 0, 2.0f);
  if (s.sel.query < g.rows && s.sel.key < g.cols && g.cell >= 4)
    dl->AddRect(ImVec2(g.origin.x + s.sel.key * g.cell, g.origin.y + s.sel.query * g.cell),
                ImVec2(g.origin.x + (s.sel.key + 1) * g.cell, g.origin.y + (s.sel.query + 1) * g.cell),
                app->ui.grid_keys ? IM_COL32(255, 40, 40, 255) : IM_COL32(255, 255, 255, 255), 0, 0, 2.0f);
  dl->PopClipRect();
  const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);
  if (g.labels) {
    const float font = ImGui::GetFontSize();
    dl->PushClipRect(ImVec2(g.clip_min.x - g.label_w, g.clip_min.y), ImVec2(g.clip_min.x, g.clip_max.y), true);
    for (int i = r0; i < r1 && i < int(rows.size()); ++i) {
      const std::string lab = clip_text(rows[size_t(i)], g.label_w - 6);
      const float w = ImGui::CalcTextSize(lab.c_str()).x;
      const bool hl = s.sel.hover_query == i;
      dl->AddText(ImVec2(g.clip_min.x - w - 4, g.origin.y + i * g.cell + (g.cell - font) * 0.5f),
                  hl ? IM_COL32(200, 100, 0, 255) : text_col, lab.c_str());
    }
    dl->PopClipRect();
    dl->PushClipRect(ImVec2(g.clip_min.x, g.clip_min.y - g.label_h), ImVec2(g.clip_max.x, g.clip_min.y), true);
    for (int j = c0; j < c1 && j < int(cols.size()); ++j) {
      const bool hl = s.sel.hover_key == j;
      column_label(dl, ImVec2(g.origin.x + j * g.cell + g.cell * 0.5f, g.clip_min.y - 4), hl ? IM_COL32(200, 100, 0, 255) : text_col,
                   cols[size_t(j)], g.label_h - 6);
    }
    dl->PopClipRect();
  }
  // Interaction.
  const ImVec2 vis(g.clip_max.x - g.clip_min.x, g.clip_max.y - g.clip_min.y);
  ImGui::SetCursorScreenPos(g.clip_min);
  ImGui::InvisibleButton(id, ImVec2(std::max(1.0f, vis.x), std::max(1.0f, vis.y)),
                         ImGuiButtonFlags_MouseButtonLeft | ImGuiButtonFlags_MouseButtonRight);
  app_record(app, id);
  app->layout[std::string(id) + "_grid"] = {g.origin.x, g.origin.y, g.cell, float(g.rows * 10000 + g.cols)};
  app->layout[std::string(id) + "_range"] = {float(r0), float(c0), float(r1 - r0), float(c1 - c0)};  // visible cells
  const bool zoomed = zoomable && app->zoom.scale > 1.0f;
  if (mode == GRID_MODE_PAINT || zoomed) app->ui.drag_zones.push_back({g.clip_min.x, g.clip_min.y, vis.x, vis.y});
  const ImGuiIO& io = ImGui::GetIO();
  int i = -1, j = -1;
  const bool over = ImGui::IsItemHovered() && g.cell_at(io.MousePos, &i, &j);
  if (zoomable && ImGui::IsItemHovered() && io.KeyCtrl && io.MouseWheel != 0)
    app_zoom_at(app, std::pow(1.25f, io.MouseWheel), io.MousePos.x, io.MousePos.y);
  if (mode == GRID_MODE_PAINT) {
    if (ImGui::IsItemActivated()) {
      app->ui.paint = ImGui::IsMouseDown(ImGuiMouseButton_Right) ? APP_PAINT_UNMASK : APP_PAINT_MASK;
      app_state_begin_gesture(&s);
    }
    if (ImGui::IsItemActive() && app->ui.paint) {
      int pi, pj;
      if (g.cell_at(io.MousePos, &pi, &pj)) app_state_toggle_cell(&s, pi, pj, app->ui.paint == APP_PAINT_MASK);
    }
    if (ImGui::IsItemDeactivated()) {
      app->ui.paint = APP_PAINT_NONE;
      app_state_end_gesture(&s);
    }
  } else {
    if (ImGui::IsItemClicked(ImGuiMouseButton_Left) && over) {
      s.sel.query = i;
      s.sel.key = j;
      app->ui.grid_keys = true;
    }
    if (ImGui::IsItemFocused() && (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Space))))
      app->ui.grid_keys = true;  // keyboard: focus the heatmap, Enter, then arrows move the cell
    if (zoomed && ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left, 2.0f)) {  // pan
      app->zoom.col0 -= io.MouseDelta.x / g.cell;
      app->zoom.row0 -= io.MouseDelta.y / g.cell;
    }
  }
  if (over) {
    s.sel.hover_query_next = i;
    s.sel.hover_key_next = j;
    if (!t.layers.empty() && i < int(rows.size()) && j < int(cols.size())) {
      const AttentionOutput& a = app_state_focused_head(s).attn;
      ImGui::BeginTooltip();
      ImGui::Text(tr(S_TIP_PAIR), i, rows[size_t(i)].c_str(), j, cols[size_t(j)].c_str());
      if (annot.tooltip_values && annot.values && i < annot.values->rows() && j < annot.values->cols()) {
        ImGui::Text(tr(S_TIP_WEIGHT), double((*annot.values)(i, j)));
      } else if (i < a.weights.rows() && j < a.weights.cols()) {
        const bool masked = t.attention.mask.size() && t.attention.mask(i, j);
        if (masked) ImGui::TextUnformatted(tr(S_TIP_SCORE_MASKED));
        else if (a.scores.size() > 0) ImGui::Text(tr(S_TIP_SCORE), double(a.scores(i, j)));
        ImGui::Text(tr(S_TIP_WEIGHT), double(a.weights(i, j)));
      }
      if (tooltip_what) ImGui::TextDisabled("%s", tooltip_what);
      ImGui::EndTooltip();
    }
  }
}

// Zoom buttons for the main grids: + / - / whole, with the visible range; touch-sized in the narrow layout.
void zoom_bar(App* app, int rows, int cols) {
  ImGui::PushID("zoom");
  const float z = app->zoom.scale;
  const ImVec2 square(ImGui::GetFrameHeight(), 0);  // touch-sized in the narrow layout (frame height 40 px)
  if (ImGui::Button("-", square)) app->zoom.scale = std::max(1.0f, z / 1.5f);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_ZOOM_OUT));
  app_record(app, "zoom_out");
  ImGui::SameLine(0, 2);
  if (ImGui::Button("+", square)) {
    const float nz = std::min(64.0f, z * 1.5f);  // about the centre of what is visible
    app->zoom.col0 += cols / z * 0.5f - cols / nz * 0.5f;
    app->zoom.row0 += rows / z * 0.5f - rows / nz * 0.5f;
    app->zoom.scale = nz;
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_ZOOM_IN));
  app_record(app, "zoom_in");
  if (z > 1) {
    ImGui::SameLine(0, 2);
    if (ImGui::Button("1:1")) app->zoom = AppZoom();
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_ZOOM_RESET));
    app_record(app, "zoom_reset");
  }
  ImGui::PopID();
}

// Continue the line with an item of width w if it fits, else start a new line.
void flow(float w) {
  ImGui::SameLine();
  if (ImGui::GetContentRegionAvail().x < w) ImGui::NewLine();
}

// The views that draw the heads' mean when "mean" is picked.
static bool head_mean_offered(AppView v) { return v == APP_VIEW_ATTENTION || v == APP_VIEW_DECODE; }

float head_selector_width(const App& app) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const Trace& t = app.state.trace;
  const int heads = std::min(64, int(t.layers[size_t(app.state.sel.layer)].heads.size()));
  float w = ImGui::CalcTextSize(tr(S_HEAD)).x + heads * (ImGui::GetFrameHeight() + st.ItemSpacing.x);
  if (t.layers.size() > 1) w += ImGui::GetFontSize() * 6 + ImGui::CalcTextSize(tr(S_LAYER)).x + st.ItemSpacing.x * 2;
  if (heads > 1 && head_mean_offered(app.state.sel.view))
    w += ImGui::CalcTextSize(tr(S_MEAN_HEADS)).x + st.FramePadding.x * 2 + st.ItemSpacing.x;
  return w;
}

void head_selector(App* app) {
  AppState& s = app->state;
  const int layers = int(s.trace.layers.size()), heads = int(s.trace.layers[size_t(s.sel.layer)].heads.size());
  if (layers > 1) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 6);
    ImGui::SliderInt(tr_id(S_LAYER, "layer").c_str(), &s.sel.layer, 0, layers - 1);
    app_record(app, "layer");
    ImGui::SameLine();
  }
  ImGui::TextUnformatted(tr(S_HEAD));
  for (int h = 0; h < heads && h < 64; ++h) {
    ImGui::SameLine();
    char label[16];
    std::snprintf(label, sizeof label, "%d##head", h);
    const bool mean = s.sel.mean_heads && head_mean_offered(s.sel.view);
    const bool on = s.sel.head == h && !mean;
    ImGui::PushStyleColor(ImGuiCol_Button, on ? colormap_head(h, 1.0f) : colormap_head(h, 0.35f));
    if (ui_small_button(*app, label)) {
      s.sel.head = h;
      s.sel.mean_heads = false;
    }
    ImGui::PopStyleColor();
    app_record(app, "head_" + std::to_string(h));
  }
  // The mean of the heads (the Attention view's): the usual alignment figure of a multi-head translator.
  if (heads > 1 && head_mean_offered(s.sel.view)) {
    ImGui::SameLine();
    ImGui::PushStyleColor(ImGuiCol_Button, s.sel.mean_heads ? ImGui::GetColorU32(ImGuiCol_ButtonActive) : ImGui::GetColorU32(ImGuiCol_Button));
    if (ui_small_button(*app, tr_id(S_MEAN_HEADS, "head_mean").c_str())) s.sel.mean_heads = !s.sel.mean_heads;
    ImGui::PopStyleColor();
    app_record(app, "head_mean");
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_MEAN_HEADS_HELP));
  }
}

}  // namespace attnplay
