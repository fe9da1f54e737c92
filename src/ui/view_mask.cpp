// attnplay ui: the Mask view: the mask grid, painted by drag (left masks, right unmasks).
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
  auto& grids = generation_cache<MaskGrid>(app, s.generation);
  auto found = grids.find("mask");
  if (found == grids.end()) {
    MaskGrid mg;
    mg.painted = Mat::Zero(n_q, n_k);
    MaskSpec structural = s.parsed.attention.mask;
    structural.cells.clear();
    mg.structural = mask_build(structural, n_q, n_k);
    for (const auto& c : s.parsed.attention.mask.cells)
      if (c.first < n_q && c.second < n_k) mg.painted(c.first, c.second) = 1.0f;
    found = grids.emplace("mask", std::move(mg)).first;
  }
  const unsigned tex = heatmap_texture(app, "mask", found->second.painted, &found->second.structural, HEATMAP_STYLE_DIVERGING, 0.0f, 1.0f,
                                      shrink_pixels(g));
  ImGui::SetCursorScreenPos(p);
  ImGui::Text(tr(S_MASK_TITLE), n_q, n_k);
  grid_view(app, "mask", g, tex, t.tokens, t.key_tokens, nullptr, app->page.readonly ? GRID_MODE_VIEW : GRID_MODE_PAINT,
            tr(S_MASK_TIP), GridAnnot(), true);
  ImGui::SetCursorScreenPos(ImVec2(p.x, g.clip_max.y + ImGui::GetFontSize() * 0.5f));
  ui_text_wrapped(tr(S_MASK_LEGEND));
}

}  // namespace attnplay
