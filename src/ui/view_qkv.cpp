// attnplay ui: the Q K V view: the focused head's q, k, v and context as labelled matrices, and the selected query's
// context as bars with a value axis.
//
// Dimension glossary: n_q (query rows), n_k (key columns), d_k, d_v, heads, layers.
#include "ui/grid.h"
#include "ui/views.h"

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

namespace {

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
  const unsigned tex = heatmap_texture(app, tex_slot, m, nullptr, HEATMAP_STYLE_DIVERGING, 0.0f, vmax, shrink_pixels(g));
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

}  // namespace

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

}  // namespace attnplay
