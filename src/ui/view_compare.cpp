// attnplay ui: the Compare view (presets' variants side by side) and the A/B view (two configs and their difference).
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
      ui_text_wrapped(cv.error.c_str());
      ImGui::PopTextWrapPos();
      continue;
    }
    const int l = std::min(s.sel.layer, int(cv.trace.layers.size()) - 1);
    const int h = std::min(s.sel.head, int(cv.trace.layers[size_t(l)].heads.size()) - 1);
    const AttentionOutput& a = cv.trace.layers[size_t(l)].heads[size_t(h)].attn;
    const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), ImVec2(w, avail.y - font * 1.6f), int(a.weights.rows()),
                               int(a.weights.cols()), 0);
    const std::string slot = "compare_" + std::to_string(v) + "_" + std::to_string(l) + "_" + std::to_string(h);
    const unsigned tex = heatmap_texture(app, slot, a.weights, cv.trace.attention.mask.size() ? &cv.trace.attention.mask : nullptr, HEATMAP_STYLE_SEQUENTIAL, 0.0f, 1.0f,
                                         shrink_pixels(g));
    grid_view(app, slot.c_str(), g, tex, cv.trace.tokens, cv.trace.key_tokens, cv.trace.attention.mask.size() ? &cv.trace.attention.mask : nullptr,
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
  auto panel = [&](int k, const char* title, const Mat& m, const Trace& t, HeatmapStyle style, float vmin, float vmax) {
    const ImVec2 at(p.x + k * (w + gap), p.y);
    ImGui::SetCursorScreenPos(at);
    ImGui::TextUnformatted(title);
    const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), ImVec2(w, avail.y - font * 1.6f), int(m.rows()), int(m.cols()), 0);
    const std::string slot = std::string("ab_") + std::to_string(k) + "_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
    const unsigned tex = heatmap_texture(app, slot, m, k < 2 && t.attention.mask.size() ? &t.attention.mask : nullptr, style, vmin, vmax, shrink_pixels(g));
    grid_view(app, slot.c_str(), g, tex, t.tokens, t.key_tokens, k < 2 && t.attention.mask.size() ? &t.attention.mask : nullptr, GRID_MODE_VIEW, nullptr);
    colorbar(ImVec2(g.origin.x + g.size().x + 6, g.origin.y), std::max(40.0f, g.size().y), style == HEATMAP_STYLE_DIVERGING, vmin, vmax);
    return g;
  };
  panel(0, tr(S_AB_TITLE_A), a.weights, ta, HEATMAP_STYLE_SEQUENTIAL, 0.0f, 1.0f);
  panel(1, tr(S_AB_TITLE_B), b.weights, tb, HEATMAP_STYLE_SEQUENTIAL, 0.0f, 1.0f);
  if (!same) {
    ImGui::SetCursorScreenPos(ImVec2(p.x + 2 * (w + gap), p.y + font * 1.4f));
    ImGui::PushTextWrapPos(p.x + 2 * (w + gap) + w);
    ImGui::TextWrapped(tr(S_AB_SHAPES), int(a.weights.rows()), int(a.weights.cols()), int(b.weights.rows()), int(b.weights.cols()));
    ImGui::PopTextWrapPos();
    return;
  }
  auto& diffs = generation_cache<Mat>(app, s.generation);
  const std::string key = "ab_diff_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
  auto it = diffs.find(key);
  if (it == diffs.end()) it = diffs.emplace(key, Mat(a.weights - b.weights)).first;
  const Mat& d = it->second;
  float dmax = cached_range(app, key, d, true);
  if (dmax <= 0) dmax = 1e-6f;
  panel(2, tr(S_AB_DIFF), d, ta, HEATMAP_STYLE_DIVERGING, -dmax, dmax);
  const int i = s.sel.hover_query, j = s.sel.hover_key;
  if (i >= 0 && j >= 0 && i < d.rows() && j < d.cols()) {
    ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + avail.y - font * 1.2f));
    ImGui::Text(tr(S_AB_TIP), double(a.weights(i, j)), double(b.weights(i, j)), double(d(i, j)));
    app_record(app, "ab_values");
  }
}

}  // namespace attnplay
