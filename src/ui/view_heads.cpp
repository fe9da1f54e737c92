// attnplay ui: the Heads view: every head of a layer as lines between tokens (BertViz's head view), with thumbnails.
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
    ImGui::SliderInt(tr_id(S_FIRST_TOKEN, "first_token").c_str(), &app->ui.head_view_offset, 0, n_max - fit);
  }
  app->ui.head_view_offset = std::clamp(app->ui.head_view_offset, 0, std::max(0, n_max - fit));
  const int off = app->ui.head_view_offset;
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

}  // namespace attnplay
