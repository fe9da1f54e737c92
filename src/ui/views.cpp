// attnplay ui: the views (centre column; the details column is details.cpp). Heatmaps are GL textures made by the host's
// renderer (shaders/heatmap.*.glsl); ImGui draws labels, colour bars, hover and selection overlays on top.
//
// Dimension glossary: n_q (query rows), n_k (key columns), d_k, d_v, heads, layers.
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
  while (!t.empty() && ImGui::CalcTextSize((t + "…").c_str()).x > max_w) {
    t.pop_back();
    while (!t.empty() && (uint8_t(t.back()) & 0xC0) == 0x80) t.pop_back();  // keep UTF-8 whole
    if (!t.empty() && uint8_t(t.back()) >= 0xC0) t.pop_back();
  }
  return t + "…";
}

const char* kind_label(AttentionKind k) {
  switch (k) {
    case ATTENTION_KIND_SCALED_DOT: return tr(S_KIND_SCALED);
    case ATTENTION_KIND_DOT: return tr(S_KIND_DOT);
    case ATTENTION_KIND_GENERAL: return tr(S_KIND_GENERAL);
    case ATTENTION_KIND_ADDITIVE: return tr(S_KIND_ADDITIVE);
  }
  return "?";
}

namespace {

constexpr float kMaskedSentinel = 3.0e38f;  // == kHeatmapMasked in src/render (the UI does not include GL code)

// Geometry shared by every n_q x n_k grid: the weights view, the scores view and the mask grid put cell (i, j)
// at the same place for the same area, so a click on one lands on the same cell of the other. When zoomed, the
// grid keeps its footprint (clip) and shows part of the matrix, bigger.
struct Grid {
  ImVec2 origin;   // top-left of cell (0, 0); left of / above the clip when zoomed and panned
  float cell = 0;  // cell side in pixels
  int rows = 0, cols = 0;
  bool labels = false;
  float label_w = 0, label_h = 0;
  ImVec2 clip_min, clip_max;  // the visible part of the grid
  ImVec2 size() const { return ImVec2(cell * cols, cell * rows); }
  bool cell_at(ImVec2 p, int* i, int* j) const {
    if (p.x < clip_min.x || p.y < clip_min.y || p.x >= clip_max.x || p.y >= clip_max.y) return false;
    const float x = (p.x - origin.x) / cell, y = (p.y - origin.y) / cell;
    if (x < 0 || y < 0 || x >= cols || y >= rows) return false;
    *i = int(y);
    *j = int(x);
    return true;
  }
  // Visible cell range [r0, r1) x [c0, c1).
  int r0() const { return std::max(0, int(std::floor((clip_min.y - origin.y) / cell))); }
  int r1() const { return std::min(rows, int(std::ceil((clip_max.y - origin.y) / cell - 1e-3f))); }
  int c0() const { return std::max(0, int(std::floor((clip_min.x - origin.x) / cell))); }
  int c1() const { return std::min(cols, int(std::ceil((clip_max.x - origin.x) / cell - 1e-3f))); }
};

// Lays a rows x cols grid into an area: square cells up to 4 font heights, labels where they are readable, centred
// across. label_need: room the row labels (x) and column labels (y) want (label_room), < 0 for the most they may
// take. zoom (may be null) is clamped to the matrix here.
Grid grid_layout(ImVec2 area_min, ImVec2 area_size, int rows, int cols, float colorbar_w, AppZoom* zoom = nullptr,
                 ImVec2 label_need = ImVec2(-1, -1)) {
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

bool is_cjk(uint32_t cp) {
  return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000;
}

std::string utf8_char(uint32_t cp) {
  std::string o;
  if (cp < 0x80) o += char(cp);
  else if (cp < 0x800) o += {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
  else if (cp < 0x10000) o += {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
  else o += {char(0xF0 | (cp >> 18)), char(0x80 | ((cp >> 12) & 0x3F)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F))};
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
void column_label(ImDrawList* dl, ImVec2 anchor, ImU32 col, const std::string& text, float max_len) {
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
  while (!t.empty() && ImGui::CalcTextSize(t.c_str()).x > max_len) t.pop_back();
  while (!t.empty() && (uint8_t(t.back()) & 0xC0) == 0x80) t.pop_back();  // keep UTF-8 whole
  if (!t.empty() && uint8_t(t.back()) >= 0xC0) t.pop_back();
  dl->AddText(ImVec2(anchor.x, anchor.y - font * 0.5f), col, t.c_str());
  // rotate around (anchor.x, anchor.y): (x, y) -> (anchor.x + (y - anchor.y), anchor.y - (x - anchor.x))
  for (int i = start; i < dl->VtxBuffer.Size; ++i) {
    ImDrawVert& v = dl->VtxBuffer[i];
    const float dx = v.pos.x - anchor.x, dy = v.pos.y - anchor.y;
    v.pos = ImVec2(anchor.x + dy, anchor.y - dx);
  }
}


// A texture of m with masked cells replaced by the sentinel, made only when (slot, generation) changes.
struct Prepared {
  uint64_t version = ~0ull;
  std::vector<float> data;
};
// Per-slot data derived from the trace, valid for one generation: emptied when the trace changes, so it holds
// only what the current frames show.
template <typename T>
std::map<std::string, T>& generation_cache(uint64_t generation) {
  static std::map<std::string, T> cache;
  static uint64_t cached_generation = ~0ull;
  if (cached_generation != generation) {
    cache.clear();
    cached_generation = generation;
  }
  return cache;
}

// A matrix's colour range (max, or max |x| over the finite entries), computed once per generation and slot.
float cached_range(const App* app, const std::string& slot, const Mat& m, bool absolute) {
  auto& cache = generation_cache<float>(app->state.generation);
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

unsigned heatmap_texture(App* app, const std::string& slot, const Mat& m, const MaskMat* mask, int style, float vmin,
                         float vmax, int max_pixels = 0) {
  if (!app->host.heatmap || m.size() == 0) return 0;
  const uint64_t version = app->state.generation;
  const float* data = m.data();
  if (mask && mask->size() == m.size()) {
    Prepared& p = generation_cache<Prepared>(version)[slot];
    if (p.version != version || p.data.size() != size_t(m.size())) {
      p.data.assign(m.data(), m.data() + m.size());
      for (Eigen::Index k = 0; k < m.size(); ++k)
        if (mask->data()[k]) p.data[size_t(k)] = kMaskedSentinel;
      p.version = version;
    }
    data = p.data.data();
  }
  return app->host.heatmap(app->host.user, slot, data, int(m.rows()), int(m.cols()), style, vmin, vmax, version, max_pixels);
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

enum GridMode {
  GRID_MODE_VIEW,    // hover and click-to-select; drag pans when zoomed
  GRID_MODE_PAINT,   // left-drag masks, right-drag unmasks
};

// Numbers printed in the cells when they are big enough to read (seaborn's annot=True), in black or white,
// whichever stands out from the cell's colour.
struct GridAnnot {
  const Mat* values = nullptr;
  int style = 0;             // HeatmapStyle: 0 viridis over [vmin, vmax], 1 diverging over [-vmax, vmax]
  float vmin = 0, vmax = 1;
};
constexpr float kAnnotMinCell = 28.0f;  // CSS px: below this a number does not fit a cell

void annotate(const Grid& g, const GridAnnot& an, const MaskMat* mask) {
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
      std::snprintf(buf, sizeof buf, an.style == 0 ? "%.2f" : "%.1f", double(v));
      const char* text = buf;
      if (text[0] == '0' && text[1] == '.' && font->CalcTextSizeA(size, FLT_MAX, 0, text).x > g.cell - 4) ++text;  // ".25"
      const ImVec2 ts = font->CalcTextSizeA(size, FLT_MAX, 0, text);
      if (ts.x > g.cell - 2) continue;
      const float range = an.vmax - an.vmin;
      const float t = an.style == 0 ? (range > 0 ? (v - an.vmin) / range : 0.0f) : 0.5f + 0.5f * v / std::max(1e-30f, an.vmax);
      const ImU32 bg = an.style == 0 ? colormap_viridis(std::clamp(t, 0.0f, 1.0f)) : colormap_diverging(std::clamp(t, 0.0f, 1.0f));
      const float lum = 0.299f * float((bg >> IM_COL32_R_SHIFT) & 0xFF) + 0.587f * float((bg >> IM_COL32_G_SHIFT) & 0xFF) +
                        0.114f * float((bg >> IM_COL32_B_SHIFT) & 0xFF);
      const ImVec2 at(g.origin.x + (j + 0.5f) * g.cell - ts.x * 0.5f, g.origin.y + (i + 0.5f) * g.cell - ts.y * 0.5f);
      dl->AddText(font, size, at, lum > 140 ? IM_COL32(20, 20, 20, 255) : IM_COL32(250, 250, 250, 255), text);
    }
}

// Draws one n_q x n_k heatmap with labels, overlays and interaction. value(i, j) gives the tooltip numbers.
void grid_view(App* app, const char* id, const Grid& g, unsigned tex, const std::vector<std::string>& rows,
               const std::vector<std::string>& cols, const MaskMat* mask, GridMode mode, const char* tooltip_what,
               const GridAnnot& annot = GridAnnot(), bool zoomable = false) {
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
                app->grid_keys ? IM_COL32(255, 40, 40, 255) : IM_COL32(255, 255, 255, 255), 0, 0, 2.0f);
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
  if (mode == GRID_MODE_PAINT || zoomed) app->drag_zones.push_back({g.clip_min.x, g.clip_min.y, vis.x, vis.y});
  const ImGuiIO& io = ImGui::GetIO();
  int i = -1, j = -1;
  const bool over = ImGui::IsItemHovered() && g.cell_at(io.MousePos, &i, &j);
  if (zoomable && ImGui::IsItemHovered() && io.KeyCtrl && io.MouseWheel != 0)
    app_zoom_at(app, std::pow(1.25f, io.MouseWheel), io.MousePos.x, io.MousePos.y);
  if (mode == GRID_MODE_PAINT) {
    if (ImGui::IsItemActivated()) {
      app->paint = ImGui::IsMouseDown(ImGuiMouseButton_Right) ? 2 : 1;
      app_state_begin_gesture(&s);
    }
    if (ImGui::IsItemActive() && app->paint) {
      int pi, pj;
      if (g.cell_at(io.MousePos, &pi, &pj)) app_state_toggle_cell(&s, pi, pj, app->paint == 1);
    }
    if (ImGui::IsItemDeactivated()) {
      app->paint = 0;
      app_state_end_gesture(&s);
    }
  } else {
    if (ImGui::IsItemClicked(ImGuiMouseButton_Left) && over) {
      s.sel.query = i;
      s.sel.key = j;
      app->grid_keys = true;
    }
    if (ImGui::IsItemFocused() && (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Enter)) || ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Space))))
      app->grid_keys = true;  // keyboard: focus the heatmap, Enter, then arrows move the cell
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
      if (i < a.weights.rows() && j < a.weights.cols()) {
        const bool masked = t.mask.size() && t.mask(i, j);
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

float head_selector_width(const App& app) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const Trace& t = app.state.trace;
  const int heads = std::min(64, int(t.layers[size_t(app.state.sel.layer)].heads.size()));
  float w = ImGui::CalcTextSize(tr(S_HEAD)).x + heads * (ImGui::GetFrameHeight() + st.ItemSpacing.x);
  if (t.layers.size() > 1) w += ImGui::GetFontSize() * 6 + ImGui::CalcTextSize(tr(S_LAYER)).x + st.ItemSpacing.x * 2;
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
    const bool on = s.sel.head == h;
    ImGui::PushStyleColor(ImGuiCol_Button, on ? colormap_head(h, 1.0f) : colormap_head(h, 0.35f));
    if (ui_small_button(*app, label)) s.sel.head = h;
    ImGui::PopStyleColor();
    app_record(app, "head_" + std::to_string(h));
  }
}

// Where the Attention view puts its heatmaps: both side by side (wide) or stacked (tall), or one alone. The Mask
// view asks the same question, so a cell is at the same place in both views.
struct AttentionSlots {
  ImVec2 each;                 // area of one heatmap (below its title line)
  bool weights = true, scores = true;
  bool side = false;           // scores right of weights (else under)
};

AttentionSlots attention_slots(const App& app, ImVec2 avail, int rows, int cols, bool has_scores, ImVec2 room) {
  const float font = ImGui::GetFontSize(), gap = font * 4.0f;  // colour bar + its labels
  AttentionSlots sl;
  sl.side = avail.x > avail.y * 1.3f;
  const ImVec2 alone(avail.x, avail.y - font * 1.6f);
  const ImVec2 both = sl.side ? ImVec2(avail.x * 0.5f, avail.y - font * 1.6f)
                              : ImVec2(avail.x, (avail.y - font * 3.2f) * 0.5f);
  int show = has_scores ? app.attention_show : 1;
  if (show == 0) {  // auto: both while each keeps readable cells (or most of the size it would have alone)
    const float c_alone = grid_layout(ImVec2(0, 0), alone, rows, cols, gap, nullptr, room).cell;
    const float c_both = grid_layout(ImVec2(0, 0), both, rows, cols, gap, nullptr, room).cell;
    show = c_both >= std::min(kAnnotMinCell, 0.75f * c_alone) ? 3 : 1;
  }
  sl.weights = show != 2;
  sl.scores = show != 1;
  sl.each = show == 3 ? both : alone;
  return sl;
}

// One heatmap of the Attention view: title, grid, colour bar.
void attention_heatmap(App* app, const char* id, const char* title, ImVec2 at, ImVec2 each, ImVec2 room, const Mat& m, int style,
                       float vmax, GridMode mode, const char* tip) {
  const Trace& t = app->state.trace;
  const float font = ImGui::GetFontSize(), gap = font * 4.0f;
  ImGui::SetCursorScreenPos(at);
  ImGui::TextUnformatted(title);
  const ImVec2 area(each.x, each.y);
  const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), area, int(m.rows()), int(m.cols()), gap, &app->zoom, room);
  const std::string slot = std::string(id) + "_" + std::to_string(app->state.sel.layer) + "_" + std::to_string(app->state.sel.head);
  const MaskMat* mask = t.mask.size() ? &t.mask : nullptr;
  const float vmin = style == 0 ? 0.0f : -vmax;
  const unsigned tex = heatmap_texture(app, slot, m, mask, style, 0.0f, vmax, shrink_pixels(g));
  GridAnnot an;
  an.values = &m;
  an.style = style;
  an.vmin = 0.0f;
  an.vmax = vmax;
  grid_view(app, id, g, tex, t.tokens, t.key_tokens, mask, mode, tip, an, true);
  app->layout[std::string(id) + "_slot"] = {at.x, at.y + font * 1.4f, area.x, area.y};
  colorbar(ImVec2(g.clip_max.x + 8, g.clip_min.y), std::max(40.0f, g.clip_max.y - g.clip_min.y), style == 1, vmin, vmax);
}

void view_attention(App* app) {
  AppState& s = app->state;
  const AttentionOutput& a = app_state_focused_head(s).attn;
  const std::string lh = "_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
  const bool has_scores = a.scores.size() > 0;  // imported attention maps: no scores
  const float font = ImGui::GetFontSize();
  const ImVec2 room = label_room(s.trace.tokens, s.trace.key_tokens);
  // What to show, and zoom.
  if (has_scores) {
    const char* shows[4] = {tr(S_SHOW_BOTH), tr(S_SHOW_WEIGHTS), tr(S_SHOW_SCORES), tr(S_SHOW_BOTH)};
    const AttentionSlots now = attention_slots(*app, ImGui::GetContentRegionAvail(), int(a.weights.rows()), int(a.weights.cols()), true, room);
    const int current = now.weights && now.scores ? 3 : now.weights ? 1 : 2;
    float w = 0;
    for (int k = 1; k < 4; ++k) w = std::max(w, ImGui::CalcTextSize(shows[k]).x);
    ImGui::SetNextItemWidth(w + ImGui::GetFrameHeight() + ImGui::GetStyle().FramePadding.x * 2);
    if (ImGui::BeginCombo("##show", shows[current])) {
      for (int k = 1; k < 4; ++k)
        if (ImGui::Selectable(shows[k], k == current)) app->attention_show = k;
      ImGui::EndCombo();
    }
    app_record(app, "attention_show");
    ImGui::SameLine();
  }
  zoom_bar(app, int(a.weights.rows()), int(a.weights.cols()));
  if (app_visible(*app, "head_selector")) {
    flow(ImGui::CalcTextSize(tr(S_WEIGHTS_RANGE)).x + ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x);
    ImGui::Checkbox(tr_id(S_WEIGHTS_RANGE, "weights_range").c_str(), &app->weights_full_range);
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const AttentionSlots sl = attention_slots(*app, avail, int(a.weights.rows()), int(a.weights.cols()), has_scores, room);
  if (sl.weights) {
    // weights (viridis over [0, max] or [0, 1])
    float wmax = cached_range(app, "weights" + lh, a.weights, false);
    if (app->weights_full_range || wmax <= 0) wmax = 1.0f;
    attention_heatmap(app, "weights", tr(S_SOFTMAX_WEIGHTS), p, sl.each, room, a.weights, 0, wmax,
                      app->paint_on_weights && !app->page.readonly ? GRID_MODE_PAINT : GRID_MODE_VIEW, tr(S_CLICK_EXPLAIN));
  }
  if (sl.scores) {
    // scores (diverging around 0; masked cells grey)
    float smax = cached_range(app, "scores" + lh, a.scores, true);
    if (smax <= 0) smax = 1;
    const ImVec2 at = !sl.weights ? p : sl.side ? ImVec2(p.x + sl.each.x, p.y) : ImVec2(p.x, p.y + sl.each.y + font * 1.8f);
    attention_heatmap(app, "scores", tr(S_SCORES_TITLE), at, sl.each, room, a.scores, 1, smax, GRID_MODE_VIEW, nullptr);
  }
}

// A preset's side-by-side strip: the focused head's weights under each variant, same colour scale.
void view_compare(App* app) {
  AppState& s = app->state;
  app_state_focus(&s);  // a lean variant keeps the focused head's matrices only
  const int n = int(s.compare.size());
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float font = ImGui::GetFontSize(), gap = font;
  const float w = (avail.x - gap * (n - 1) - font * 3) / n;
  for (int v = 0; v < n; ++v) {
    const CompareVariant& cv = s.compare[size_t(v)];
    const ImVec2 at(p.x + v * (w + gap), p.y);
    ImGui::SetCursorScreenPos(at);
    ImGui::TextUnformatted(tr(StrId(cv.label)));
    app_record(app, "compare_" + std::to_string(v));
    if (cv.trace.layers.empty()) {
      ImGui::SetCursorScreenPos(ImVec2(at.x, at.y + font * 1.4f));
      ImGui::PushTextWrapPos(at.x + w);
      ImGui::TextWrapped("%s", cv.error.c_str());
      ImGui::PopTextWrapPos();
      continue;
    }
    const int l = std::min(s.sel.layer, int(cv.trace.layers.size()) - 1);
    const int h = std::min(s.sel.head, int(cv.trace.layers[size_t(l)].heads.size()) - 1);
    const AttentionOutput& a = cv.trace.layers[size_t(l)].heads[size_t(h)].attn;
    const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), ImVec2(w, avail.y - font * 1.6f), int(a.weights.rows()),
                               int(a.weights.cols()), 0);
    const std::string slot = "compare_" + std::to_string(v) + "_" + std::to_string(l) + "_" + std::to_string(h);
    const unsigned tex = heatmap_texture(app, slot, a.weights, cv.trace.mask.size() ? &cv.trace.mask : nullptr, 0, 0.0f, 1.0f,
                                         shrink_pixels(g));
    grid_view(app, slot.c_str(), g, tex, cv.trace.tokens, cv.trace.key_tokens, cv.trace.mask.size() ? &cv.trace.mask : nullptr,
              GRID_MODE_VIEW, nullptr);
  }
  colorbar(ImVec2(p.x + avail.x - font * 2.6f, p.y + font * 1.4f), std::max(40.0f, avail.y * 0.5f), false, 0.0f, 1.0f);
}

// A/B: the focused head's weights under A and under B, and A - B (diverging), one hover for all three.
void view_ab(App* app) {
  AppState& s = app->state;
  app_state_focus(&s);
  const Trace& ta = app_state_ab_trace(s, false);
  const Trace& tb = app_state_ab_trace(s, true);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float font = ImGui::GetFontSize(), gap = font * 3.5f;
  const float w = (avail.x - 2 * gap - font * 3) / 3;
  auto head_of = [&s](const Trace& t) -> const AttentionOutput& {
    const int l = std::min(s.sel.layer, int(t.layers.size()) - 1);
    const int h = std::min(s.sel.head, int(t.layers[size_t(l)].heads.size()) - 1);
    return t.layers[size_t(l)].heads[size_t(h)].attn;
  };
  const AttentionOutput& a = head_of(ta);
  const AttentionOutput& b = head_of(tb);
  const bool same = a.weights.rows() == b.weights.rows() && a.weights.cols() == b.weights.cols();
  auto panel = [&](int k, const char* title, const Mat& m, const Trace& t, int style, float vmin, float vmax) {
    const ImVec2 at(p.x + k * (w + gap), p.y);
    ImGui::SetCursorScreenPos(at);
    ImGui::TextUnformatted(title);
    const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), ImVec2(w, avail.y - font * 1.6f), int(m.rows()), int(m.cols()), 0);
    const std::string slot = std::string("ab_") + std::to_string(k) + "_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
    const unsigned tex = heatmap_texture(app, slot, m, k < 2 && t.mask.size() ? &t.mask : nullptr, style, vmin, vmax, shrink_pixels(g));
    grid_view(app, slot.c_str(), g, tex, t.tokens, t.key_tokens, k < 2 && t.mask.size() ? &t.mask : nullptr, GRID_MODE_VIEW, nullptr);
    colorbar(ImVec2(g.origin.x + g.size().x + 6, g.origin.y), std::max(40.0f, g.size().y), style == 1, vmin, vmax);
    return g;
  };
  panel(0, tr(S_AB_TITLE_A), a.weights, ta, 0, 0.0f, 1.0f);
  panel(1, tr(S_AB_TITLE_B), b.weights, tb, 0, 0.0f, 1.0f);
  if (!same) {
    ImGui::SetCursorScreenPos(ImVec2(p.x + 2 * (w + gap), p.y + font * 1.4f));
    ImGui::PushTextWrapPos(p.x + 2 * (w + gap) + w);
    ImGui::TextWrapped(tr(S_AB_SHAPES), int(a.weights.rows()), int(a.weights.cols()), int(b.weights.rows()), int(b.weights.cols()));
    ImGui::PopTextWrapPos();
    return;
  }
  auto& diffs = generation_cache<Mat>(s.generation);
  const std::string key = "ab_diff_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
  auto it = diffs.find(key);
  if (it == diffs.end()) it = diffs.emplace(key, Mat(a.weights - b.weights)).first;
  const Mat& d = it->second;
  float dmax = cached_range(app, key, d, true);
  if (dmax <= 0) dmax = 1e-6f;
  panel(2, tr(S_AB_DIFF), d, ta, 1, -dmax, dmax);
  const int i = s.sel.hover_query, j = s.sel.hover_key;
  if (i >= 0 && j >= 0 && i < d.rows() && j < d.cols()) {
    ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + avail.y - font * 1.2f));
    ImGui::Text(tr(S_AB_TIP), double(a.weights(i, j)), double(b.weights(i, j)), double(d(i, j)));
    app_record(app, "ab_values");
  }
}

void view_mask(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const int n_q = int(t.tokens.size()), n_k = int(t.key_tokens.size());
  zoom_bar(app, n_q, n_k);  // the same line as the Attention view's, so the grids below coincide
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float gap = ImGui::GetFontSize() * 4.0f;
  const bool has_scores = app_state_focused_head(s).attn.scores.size() > 0;
  // Same origin and area as the weights heatmap of the Attention tab (title line included).
  const ImVec2 room = label_room(t.tokens, t.key_tokens);
  const AttentionSlots sl = attention_slots(*app, avail, n_q, n_k, has_scores, room);
  const ImVec2 wpos(p.x, p.y + ImGui::GetFontSize() * 1.4f);
  const Grid g = grid_layout(wpos, sl.each, n_q, n_k, gap, &app->zoom, room);
  // Values: 0 visible, 1 painted; structural masks use the masked sentinel. Built once per generation.
  struct MaskGrid {
    Mat painted;
    MaskMat structural;
  };
  auto& grids = generation_cache<MaskGrid>(s.generation);
  auto found = grids.find("mask");
  if (found == grids.end()) {
    MaskGrid mg;
    mg.painted = Mat::Zero(n_q, n_k);
    MaskSpec structural = s.parsed.mask;
    structural.cells.clear();
    mg.structural = mask_build(structural, n_q, n_k);
    for (const auto& c : s.parsed.mask.cells)
      if (c.first < n_q && c.second < n_k) mg.painted(c.first, c.second) = 1.0f;
    found = grids.emplace("mask", std::move(mg)).first;
  }
  const unsigned tex = heatmap_texture(app, "mask", found->second.painted, &found->second.structural, 1, 0.0f, 1.0f,
                                      shrink_pixels(g));
  ImGui::SetCursorScreenPos(p);
  ImGui::Text(tr(S_MASK_TITLE), n_q, n_k);
  grid_view(app, "mask", g, tex, t.tokens, t.key_tokens, nullptr, app->page.readonly ? GRID_MODE_VIEW : GRID_MODE_PAINT,
            tr(S_MASK_TIP), GridAnnot(), true);
  ImGui::SetCursorScreenPos(ImVec2(p.x, g.clip_max.y + ImGui::GetFontSize() * 0.5f));
  ImGui::TextWrapped("%s", tr(S_MASK_LEGEND));
}

void view_heads(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const LayerTrace& lt = t.layers[size_t(s.sel.layer)];
  const int heads = int(lt.heads.size()), n_q = int(t.tokens.size()), n_k = int(t.key_tokens.size());
  ImGui::TextUnformatted(tr(S_SHOW_HEADS));
  for (int h = 0; h < heads && h < 64; ++h) {
    ImGui::SameLine();
    bool on = s.sel.heads_shown[size_t(h)];
    char label[16];
    std::snprintf(label, sizeof label, "%d##hv", h);
    ImGui::PushStyleColor(ImGuiCol_CheckMark, colormap_head(h, 1.0f));
    ImGui::PushStyleColor(ImGuiCol_FrameBg, colormap_head(h, 0.25f));
    if (ImGui::Checkbox(label, &on)) s.sel.heads_shown[size_t(h)] = on;
    ImGui::PopStyleColor(2);
    app_record(app, "headview_toggle_" + std::to_string(h));
  }
  const float font = ImGui::GetFontSize();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float row_h = std::clamp((avail.y - font * 2) / std::max(1, std::max(n_q, n_k)), font * 1.25f, font * 2.2f);  // fill the height
  const int fit = std::max(1, int((avail.y - font * 2) / row_h));
  const int n_max = std::max(n_q, n_k);
  if (n_max > fit) {
    ImGui::SetNextItemWidth(font * 12);
    ImGui::SliderInt(tr_id(S_FIRST_TOKEN, "first_token").c_str(), &app->head_view_offset, 0, n_max - fit);
  }
  app->head_view_offset = std::clamp(app->head_view_offset, 0, std::max(0, n_max - fit));
  const int off = app->head_view_offset;
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const float lx = p.x + avail.x * 0.28f, rx = p.x + avail.x * 0.72f;
  auto y_of = [&](int i) { return p.y + (i - off) * row_h + row_h * 0.5f; };
  int hover_q = -1, hover_k = -1;
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text);
  for (int i = off; i < n_q && i < off + fit; ++i) {
    const std::string lab = clip_text(t.tokens[size_t(i)], lx - p.x - font);
    const float w = ImGui::CalcTextSize(lab.c_str()).x;
    const ImVec2 a(lx - w - font * 0.5f, y_of(i) - font * 0.5f);
    if (ImGui::IsWindowHovered() && mouse.x >= a.x && mouse.x <= lx && std::fabs(mouse.y - y_of(i)) < row_h * 0.5f) hover_q = i;
    const bool hl = s.sel.hover_query == i;
    if (hl) dl->AddRectFilled(ImVec2(a.x - 2, a.y - 1), ImVec2(lx - font * 0.3f, a.y + font + 1), IM_COL32(255, 210, 120, 255));
    dl->AddText(a, text_col, lab.c_str());
  }
  for (int j = off; j < n_k && j < off + fit; ++j) {
    const std::string lab = clip_text(t.key_tokens[size_t(j)], p.x + avail.x - rx - font);
    const ImVec2 a(rx + font * 0.5f, y_of(j) - font * 0.5f);
    if (ImGui::IsWindowHovered() && mouse.x >= rx && mouse.x <= p.x + avail.x && std::fabs(mouse.y - y_of(j)) < row_h * 0.5f) hover_k = j;
    const bool hl = s.sel.hover_key == j;
    if (hl) dl->AddRectFilled(ImVec2(a.x - 2, a.y - 1), ImVec2(a.x + ImGui::CalcTextSize(lab.c_str()).x + 2, a.y + font + 1), IM_COL32(255, 210, 120, 255));
    dl->AddText(a, text_col, lab.c_str());
  }
  if (hover_q >= 0) s.sel.hover_query_next = hover_q;
  if (hover_k >= 0) s.sel.hover_key_next = hover_k;
  // Tooltip: the hovered token's strongest links in every shown head, with the exact weights.
  if (hover_q >= 0 || hover_k >= 0) {
    ImGui::BeginTooltip();
    const bool q_side = hover_q >= 0;
    const int idx = q_side ? hover_q : hover_k;
    ImGui::Text("%s %d \"%s\"", q_side ? tr(S_QUERY_N) : tr(S_KEY_N), idx, (q_side ? t.tokens : t.key_tokens)[size_t(idx)].c_str());
    for (int h = 0; h < heads; ++h) {
      if (!s.sel.heads_shown[size_t(h)]) continue;
      std::vector<std::pair<float, int>> top;
      const int n_other = q_side ? n_k : n_q;
      for (int o = 0; o < n_other; ++o)
        top.emplace_back(q_side ? trace_weight(t, s.sel.layer, h, idx, o) : trace_weight(t, s.sel.layer, h, o, idx), o);
      std::partial_sort(top.begin(), top.begin() + std::min<int>(3, n_other), top.end(), [](auto& a, auto& b) { return a.first > b.first; });
      std::string line;
      for (int k = 0; k < std::min(3, n_other); ++k) {
        char b[96];
        std::snprintf(b, sizeof b, "%s\"%s\" %.4f", k ? ", " : "",
                      (q_side ? t.key_tokens : t.tokens)[size_t(top[size_t(k)].second)].c_str(), double(top[size_t(k)].first));
        line += b;
      }
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(colormap_head(h, 1.0f)), tr(S_HEAD_N), h);
      ImGui::SameLine();
      ImGui::TextUnformatted(line.c_str());
    }
    ImGui::EndTooltip();
  }
  // Lines: thickness and opacity by weight; only the hovered query's (or key's) lines when one is hovered.
  const int only_q = hover_q >= 0 ? hover_q : -1, only_k = hover_k >= 0 ? hover_k : -1;
  for (int h = 0; h < heads; ++h) {
    if (!s.sel.heads_shown[size_t(h)]) continue;
    for (int i = off; i < n_q && i < off + fit; ++i) {
      if (only_q >= 0 && i != only_q) continue;
      for (int j = off; j < n_k && j < off + fit; ++j) {
        if (only_k >= 0 && j != only_k) continue;
        const float v = trace_weight(t, s.sel.layer, h, i, j);  // stored, or O(d_k) from row_lse in a lean trace
        if (v < 0.02f) continue;
        dl->AddLine(ImVec2(lx, y_of(i)), ImVec2(rx, y_of(j)), colormap_head(h, std::min(1.0f, 0.15f + 0.85f * v)), 0.5f + 4.0f * v);
      }
    }
  }
  ImGui::Dummy(ImVec2(avail.x, std::min(avail.y - font * 2, row_h * std::min(fit, n_max))));
  app_record(app, "head_view");
}

void view_model(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const int layers = int(t.layers.size()), heads = int(t.layers[0].heads.size());
  ImGui::TextUnformatted(tr(S_MODEL_HELP));
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float font = ImGui::GetFontSize();
  const float thumb = std::clamp(std::min((avail.x - font * 4) / heads, (avail.y - font * 2) / layers) - 6, 24.0f, 200.0f);
  for (int l = 0; l < layers; ++l) {
    ImGui::Text("L%d", l);
    for (int h = 0; h < heads; ++h) {
      ImGui::SameLine(font * 2.5f + h * (thumb + 6));
      // A lean trace's thumbnails (block means) for every head, the focused one too, so all share one look; else
      // the full weights, which the renderer samples down to 128 px.
      const AttentionOutput& a = t.layers[size_t(l)].heads[size_t(h)].attn;
      const Mat& w = t.lean ? a.thumb : a.weights;
      const std::string slot = "thumb_" + std::to_string(l) + "_" + std::to_string(h);
      const float vmax = std::max(1e-6f, cached_range(app, slot, w, false));
      const unsigned tex = heatmap_texture(app, slot, w, nullptr, 0, 0.0f, vmax, 128);
      ImGui::PushID(l * 1000 + h);
      const bool focused = s.sel.layer == l && s.sel.head == h;
      if (tex) {
        if (ImGui::ImageButton(ImTextureID(uintptr_t(tex)), ImVec2(thumb, thumb), ImVec2(0, 0), ImVec2(1, 1), focused ? 3 : 1,
                               ImVec4(0, 0, 0, 0), ImVec4(1, 1, 1, 1))) {
          s.sel.layer = l;
          s.sel.head = h;
          s.sel.view = APP_VIEW_ATTENTION;
        }
      } else if (ImGui::Button("##thumb", ImVec2(thumb, thumb))) {
        s.sel.layer = l;
        s.sel.head = h;
        s.sel.view = APP_VIEW_ATTENTION;
      }
      app_record(app, "thumb_" + std::to_string(l) + "_" + std::to_string(h));
      if (ImGui::IsItemHovered()) ImGui::SetTooltip(tr(S_THUMB_TIP), l, h);
      ImGui::PopID();
    }
  }
  ImGui::TextDisabled("%s", tr(S_MODEL_LEGEND));
}

float abs_max(const Mat& m) {
  float v = 0;
  for (Eigen::Index k = 0; k < m.size(); ++k)
    if (std::isfinite(m.data()[k])) v = std::max(v, std::fabs(m.data()[k]));
  return v > 0 ? v : 1.0f;
}

// Dimension indices over the columns of a small matrix: every one where they fit, else every k-th.
void dimension_ticks(ImDrawList* dl, const Grid& g) {
  const float font = ImGui::GetFontSize(), size = font * 0.8f;
  ImFont* f = ImGui::GetFont();
  const float widest = f->CalcTextSizeA(size, FLT_MAX, 0, std::to_string(std::max(0, g.cols - 1)).c_str()).x + 3;
  const int step = std::max(1, int(std::ceil(widest / std::max(g.cell, 1e-3f))));
  for (int j = 0; j < g.cols; j += step) {
    const std::string n = std::to_string(j);
    const float w = f->CalcTextSizeA(size, FLT_MAX, 0, n.c_str()).x;
    dl->AddText(f, size, ImVec2(g.origin.x + (j + 0.5f) * g.cell - w * 0.5f, g.origin.y - size - 2), ImGui::GetColorU32(ImGuiCol_TextDisabled), n.c_str());
  }
}

void small_matrix(App* app, const char* title, const char* slot, const Mat& m, const std::vector<std::string>& rows, ImVec2 area) {
  const std::string tex_slot = std::string(slot) + "_" + std::to_string(app->state.sel.layer) + "_" + std::to_string(app->state.sel.head);
  const float font = ImGui::GetFontSize();
  ImGui::BeginGroup();
  ImGui::Text("%s [%d x %d]", title, int(m.rows()), int(m.cols()));
  const ImVec2 p = ImGui::GetCursorScreenPos();
  float vmax = cached_range(app, tex_slot, m, true);
  if (vmax <= 0) vmax = 1.0f;
  // Token labels left of the rows, dimension indices over the columns.
  const Grid g = grid_layout(p, ImVec2(area.x, area.y - font * 1.5f), int(m.rows()), int(m.cols()), 0, nullptr,
                             ImVec2(label_room(rows, {}).x, font * 1.1f));
  const unsigned tex = heatmap_texture(app, tex_slot, m, nullptr, 1, 0.0f, vmax, shrink_pixels(g));
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 end(g.origin.x + g.size().x, g.origin.y + g.size().y);
  if (tex) dl->AddImage(ImTextureID(uintptr_t(tex)), g.origin, end);
  if (g.labels) {
    for (int i = 0; i < g.rows && i < int(rows.size()); ++i) {
      const std::string lab = clip_text(rows[size_t(i)], g.label_w - 6);
      dl->AddText(ImVec2(g.origin.x - ImGui::CalcTextSize(lab.c_str()).x - 4, g.origin.y + i * g.cell + (g.cell - font) * 0.5f),
                  ImGui::GetColorU32(ImGuiCol_Text), lab.c_str());
    }
    dimension_ticks(dl, g);
  }
  const int hq = app->state.sel.hover_query;
  if (hq >= 0 && hq < g.rows && &rows == &app->state.trace.tokens)
    dl->AddRect(ImVec2(g.origin.x, g.origin.y + hq * g.cell), ImVec2(end.x, g.origin.y + (hq + 1) * g.cell), IM_COL32(255, 170, 0, 255), 0, 0, 2);
  ImGui::SetCursorScreenPos(g.origin);
  ImGui::InvisibleButton(slot, ImVec2(std::max(1.0f, g.size().x), std::max(1.0f, g.size().y)));
  app_record(app, std::string("qkv_") + slot);
  int i, j;
  if (ImGui::IsItemHovered() && g.cell_at(ImGui::GetIO().MousePos, &i, &j))
    ImGui::SetTooltip("%s[%d, %d] = %.6g  (row \"%s\")", title, i, j, double(m(i, j)), i < int(rows.size()) ? rows[size_t(i)].c_str() : "");
  ImGui::SetCursorScreenPos(p);
  ImGui::Dummy(ImVec2(area.x, std::max(0.0f, area.y - font * 1.5f)));
  ImGui::EndGroup();
}

// The context vector of one query as bars, with a value axis (left) and dimension indices (below).
void context_bars(App* app, const Mat& c, int q, ImVec2 area) {
  const float font = ImGui::GetFontSize(), small = font * 0.8f;
  ImFont* f = ImGui::GetFont();
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  const int d = int(c.cols());
  const float vmax = abs_max(c.row(q));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", -double(vmax));
  const float axis_w = f->CalcTextSizeA(small, FLT_MAX, 0, buf).x + 8;
  const ImVec2 p(p0.x + axis_w, p0.y + small * 0.5f);
  const ImVec2 plot(std::max(8.0f, area.x - axis_w), std::max(20.0f, area.y - small * 2.2f));
  const float mid = p.y + plot.y * 0.5f, bw = plot.x / std::max(d, 1), half = plot.y * 0.45f;
  const ImU32 axis_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  // value axis: +vmax, 0, -vmax with ticks
  const float ticks[3] = {1, 0, -1};
  for (float tk : ticks) {
    const float y = mid - tk * half;
    std::snprintf(buf, sizeof buf, tk == 0 ? "0" : "%.3g", double(tk * vmax));
    const ImVec2 ts = f->CalcTextSizeA(small, FLT_MAX, 0, buf);
    dl->AddText(f, small, ImVec2(p.x - ts.x - 6, y - ts.y * 0.5f), axis_col, buf);
    dl->AddLine(ImVec2(p.x - 4, y), ImVec2(p.x, y), axis_col);
    if (tk != 0) dl->AddLine(ImVec2(p.x, y), ImVec2(p.x + plot.x, y), IM_COL32(200, 200, 200, 255));
  }
  dl->AddLine(ImVec2(p.x, mid - half), ImVec2(p.x, mid + half), axis_col);
  dl->AddLine(ImVec2(p.x, mid), ImVec2(p.x + plot.x, mid), IM_COL32(120, 120, 120, 255));
  for (int k = 0; k < d; ++k) {
    const float v = c(q, k) / vmax;
    const float x0 = p.x + k * bw + 1, x1 = p.x + (k + 1) * bw - 1;
    dl->AddRectFilled(ImVec2(x0, std::min(mid, mid - v * half)), ImVec2(x1, std::max(mid, mid - v * half)),
                      v >= 0 ? IM_COL32(180, 40, 50, 255) : IM_COL32(50, 80, 190, 255));
  }
  // dimension indices under the bars
  const float widest = f->CalcTextSizeA(small, FLT_MAX, 0, std::to_string(std::max(0, d - 1)).c_str()).x + 4;
  const int step = std::max(1, int(std::ceil(widest / std::max(bw, 1e-3f))));
  for (int k = 0; k < d; k += step) {
    const std::string n = std::to_string(k);
    const float w = f->CalcTextSizeA(small, FLT_MAX, 0, n.c_str()).x;
    dl->AddText(f, small, ImVec2(p.x + (k + 0.5f) * bw - w * 0.5f, p.y + plot.y + 2), axis_col, n.c_str());
  }
  const std::string axis = tr(S_DIM_AXIS);
  const ImVec2 as = f->CalcTextSizeA(small, FLT_MAX, 0, axis.c_str());
  dl->AddText(f, small, ImVec2(p.x + plot.x - as.x, p.y + plot.y + small + 2), axis_col, axis.c_str());
  ImGui::SetCursorScreenPos(p);
  ImGui::InvisibleButton("ctx_bars", ImVec2(plot.x, plot.y));
  app_record(app, "ctx_bars");
  if (ImGui::IsItemHovered()) {
    const int k = int((ImGui::GetIO().MousePos.x - p.x) / bw);
    if (k >= 0 && k < d) ImGui::SetTooltip("context[%d][%d] = %.6g", q, k, double(c(q, k)));
  }
}

void view_qkv(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const HeadTrace& h = app_state_focused_head(s);
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const bool two = avail.x < ImGui::GetFontSize() * 48;  // 2 x 2 where one row of four would leave no room for labels
  const float gapx = ImGui::GetStyle().ItemSpacing.x;
  const ImVec2 cell(two ? (avail.x - gapx) * 0.5f : (avail.x - 3 * gapx) * 0.25f, two ? avail.y * 0.34f : avail.y * 0.6f);
  small_matrix(app, "Q", "q", h.q, t.tokens, cell);
  ImGui::SameLine();
  small_matrix(app, "K", "k", h.k, t.key_tokens, cell);
  if (!two) ImGui::SameLine();
  small_matrix(app, "V", "v", h.v, t.key_tokens, cell);
  ImGui::SameLine();
  small_matrix(app, "context", "ctx", h.attn.context, t.tokens, cell);
  // The context vector of the hovered (else selected) query as bars.
  const int q = s.sel.hover_query >= 0 && s.sel.hover_query < int(t.tokens.size()) ? s.sel.hover_query : s.sel.query;
  ImGui::Text(tr(S_CONTEXT_BARS), q, t.tokens[size_t(q)].c_str());
  context_bars(app, h.attn.context, q, ImVec2(avail.x, std::max(60.0f, ImGui::GetContentRegionAvail().y - 8)));
}

}  // namespace

// Arrow keys move the explained cell once a heatmap was clicked (or focused and entered); Esc or a click elsewhere
// gives the arrows back to ImGui's keyboard navigation.
void grid_keys(App* app) {
  AppState& s = app->state;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.MouseClicked[0] || io.MouseClicked[1]) app->grid_keys = false;  // a heatmap click sets it again below
  if (!app->grid_keys || io.WantTextInput) return;
  const int n_q = int(s.trace.tokens.size()), n_k = int(s.trace.key_tokens.size());
  int dq = 0, dk = 0;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) dq = -1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) dq = 1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) dk = -1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) dk = 1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) app->grid_keys = false;
  if (dq || dk) {
    s.sel.query = std::clamp(s.sel.query + dq, 0, std::max(0, n_q - 1));
    s.sel.key = std::clamp(s.sel.key + dk, 0, std::max(0, n_k - 1));
    ImGui::NavMoveRequestCancel();  // the arrows were the heatmap's, not a move between widgets
  }
}

void panel_views(App* app) {
  AppState& s = app->state;
  grid_keys(app);
  if (s.stale) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ImGui::TextWrapped(tr(S_SHOWING_LAST_VALID), s.error.c_str());
    ImGui::PopStyleColor();
  }
  if (s.trace.layers.empty()) return;
  static const char* names[APP_VIEW_COUNT] = {"Attention", "Mask", "Heads", "Model", "Q K V", "Geometry"};  // ids (tests name tabs so)
  const StrId labels[APP_VIEW_COUNT] = {S_ATTENTION, S_MASK, S_HEADS_TAB, S_MODEL_TAB, S_QKV_TAB, S_GEOMETRY_TAB};
  auto offered = [&s](int v) { return !(s.trace.imported && (v == APP_VIEW_MASK || v == APP_VIEW_QKV)); };  // they need q, k, v
  // Tabs where every label fits whole; otherwise one combo (never a tab cut to a letter).
  float tabs_w = 0;  // as ImGui lays tabs out: label + 2 paddings + 1, spaced by the inner spacing
  for (int v = 0; v < APP_VIEW_COUNT; ++v)
    if (offered(v)) tabs_w += ImGui::CalcTextSize(tr(labels[v])).x + ImGui::GetStyle().FramePadding.x * 2 + 1 + ImGui::GetStyle().ItemInnerSpacing.x;
  const bool tabs = app->page.single_view || !app_visible(*app, "tabs") || tabs_w + 2 <= ImGui::GetContentRegionAvail().x;
  bool first = true;
  if (!tabs) {  // the view picker opens the header line
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(tr(S_VIEW_PICK));
    ImGui::SameLine();
    float w = 0;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) w = std::max(w, ImGui::CalcTextSize(tr(labels[v])).x);
    ImGui::SetNextItemWidth(w + ImGui::GetFrameHeight() + ImGui::GetStyle().FramePadding.x * 2);
    if (ImGui::BeginCombo("##view_pick", tr(labels[s.sel.view]))) {
      for (int v = 0; v < APP_VIEW_COUNT; ++v) {
        if (!offered(v)) continue;
        if (ImGui::Selectable(tr(labels[v]), s.sel.view == v)) s.sel.view = AppView(v);
        app_record(app, std::string("pick_") + names[v]);
      }
      ImGui::EndCombo();
    }
    app_record(app, "view_pick");
    first = false;
  }
  if (app_visible(*app, "head_selector")) {
    if (!first) flow(head_selector_width(*app));
    head_selector(app);
    first = false;
  }
  // A/B: start (B = a copy of now), pick the side the controls edit, close.
  if (app_visible(*app, "ab") && !s.trace.imported) {
    if (!first) flow(ImGui::CalcTextSize(tr(S_AB)).x + ImGui::GetStyle().FramePadding.x * 2);
    if (!s.ab.on) {
      if (ui_small_button(*app, tr_id(S_AB, "ab_start").c_str())) {
        app_state_ab_start(&s);
        s.sel.view = APP_VIEW_ATTENTION;
      }
      app_record(app, "ab_start");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_AB_HELP));
    } else {
      if (ImGui::RadioButton(tr_id(S_AB_EDIT_A, "ab_edit_a").c_str(), !s.ab.editing_b)) app_state_ab_edit(&s, false);
      app_record(app, "ab_edit_a");
      ImGui::SameLine();
      if (ImGui::RadioButton(tr_id(S_AB_EDIT_B, "ab_edit_b").c_str(), s.ab.editing_b)) app_state_ab_edit(&s, true);
      app_record(app, "ab_edit_b");
      ImGui::SameLine();
      if (ui_small_button(*app, tr_id(S_AB_CLOSE, "ab_close").c_str())) app_state_ab_stop(&s);
      app_record(app, "ab_close");
    }
  }
  if (s.trace.imported && (s.sel.view == APP_VIEW_MASK || s.sel.view == APP_VIEW_QKV)) s.sel.view = APP_VIEW_ATTENTION;
  auto draw_view = [app](AppView v) {
    if (app->state.trace.imported && (v == APP_VIEW_MASK || v == APP_VIEW_QKV)) v = APP_VIEW_ATTENTION;
    switch (v) {
      case APP_VIEW_ATTENTION:
        if (app->state.ab.on) view_ab(app);
        else if (!app->state.compare.empty() && app_visible(*app, "compare")) view_compare(app);
        else view_attention(app);
        break;
      case APP_VIEW_MASK: view_mask(app); break;
      case APP_VIEW_HEADS: view_heads(app); break;
      case APP_VIEW_MODEL: view_model(app); break;
      case APP_VIEW_QKV: view_qkv(app); break;
      case APP_VIEW_GEOMETRY: view_geometry(app); break;
      default: break;
    }
  };
  if (app->page.single_view || !app_visible(*app, "tabs")) {  // embed.html?view=...: that view alone
    draw_view(s.sel.view);
    app->shown_view = s.sel.view;
    return;
  }
  if (!tabs) {
    draw_view(s.sel.view);
    app->shown_view = s.sel.view;
    return;
  }
  if (ImGui::BeginTabBar("views", ImGuiTabBarFlags_FittingPolicyScroll)) {
    // state.sel.view is the requested tab (menu, model view, API); a click on a tab changes it once no request is pending.
    const bool pending = int(s.sel.view) != app->shown_view;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      if (!offered(v)) continue;
      const ImGuiTabItemFlags f = (pending && s.sel.view == v) ? ImGuiTabItemFlags_SetSelected : 0;
      const bool open = ImGui::BeginTabItem(tr_id(labels[v], names[v]).c_str(), nullptr, f);
      app_record(app, std::string("tab_") + names[v]);
      app_check_label(app, std::string("tab_") + names[v], tr(labels[v]));
      if (!open) continue;
      if (!pending) s.sel.view = AppView(v);
      app->shown_view = v;
      if (s.sel.view == v) draw_view(AppView(v));
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
}

}  // namespace attnplay
