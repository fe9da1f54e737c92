// attnplay ui: the Attention view: weights and scores of the focused head, side by side or stacked; the slots the Mask view shares.
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


AttentionSlots attention_slots(const App& app, ImVec2 avail, int rows, int cols, bool has_scores, ImVec2 room) {
  const float font = ImGui::GetFontSize(), gap = font * 4.0f;  // colour bar + its labels
  AttentionSlots sl;
  sl.side = avail.x > avail.y * 1.3f;
  const ImVec2 alone(avail.x, avail.y - font * 1.6f);
  const ImVec2 both = sl.side ? ImVec2(avail.x * 0.5f, avail.y - font * 1.6f)
                              : ImVec2(avail.x, (avail.y - font * 3.2f) * 0.5f);
  int show = has_scores ? app.ui.attention_show : 1;
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
void attention_heatmap(App* app, const char* id, const char* title, ImVec2 at, ImVec2 each, ImVec2 room, const Mat& m, HeatmapStyle style,
                       float vmax, GridMode mode, const char* tip, bool tooltip_values) {
  const Trace& t = app->state.trace;
  const float font = ImGui::GetFontSize(), gap = font * 4.0f;
  ImGui::SetCursorScreenPos(at);
  ImGui::TextUnformatted(title);
  const ImVec2 area(each.x, each.y);
  const Grid g = grid_layout(ImVec2(at.x, at.y + font * 1.4f), area, int(m.rows()), int(m.cols()), gap, &app->zoom, room);
  const std::string slot = std::string(id) + "_" + std::to_string(app->state.sel.layer) + "_" + std::to_string(app->state.sel.head);
  const MaskMat* mask = t.attention.mask.size() ? &t.attention.mask : nullptr;
  const float vmin = style == HEATMAP_STYLE_SEQUENTIAL ? 0.0f : -vmax;
  const unsigned tex = heatmap_texture(app, slot, m, mask, style, 0.0f, vmax, shrink_pixels(g));
  GridAnnot an;
  an.values = &m;
  an.style = style;
  an.vmin = 0.0f;
  an.vmax = vmax;
  an.tooltip_values = tooltip_values;
  grid_view(app, id, g, tex, t.tokens, t.key_tokens, mask, mode, tip, an, true);
  app->layout[std::string(id) + "_slot"] = {at.x, at.y + font * 1.4f, area.x, area.y};
  colorbar(ImVec2(g.clip_max.x + 8, g.clip_min.y), std::max(40.0f, g.clip_max.y - g.clip_min.y), style == HEATMAP_STYLE_DIVERGING, vmin, vmax);
}

// The mean over the layer's heads of their softmax weights [n_q, n_k], kept for the trace's generation.
static const Mat& mean_weights(App* app, int layer) {
  auto& cache = generation_cache<Mat>(app, app->state.generation);
  const std::string slot = "mean_" + std::to_string(layer);
  auto it = cache.find(slot);
  if (it != cache.end()) return it->second;
  const Trace& t = app->state.trace;
  const int heads = int(t.layers[size_t(layer)].heads.size()), n_q = int(t.tokens.size()), n_k = int(t.key_tokens.size());
  Mat m = Mat::Zero(n_q, n_k);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < n_q; ++i)
      for (int j = 0; j < n_k; ++j) m(i, j) += trace_weight(t, layer, h, i, j);  // (a lean trace's heads too)
  m /= float(heads);
  return cache[slot] = std::move(m);
}

// The Attention view with "mean" picked: the heads' mean weights alone (a mean of scores means nothing).
static void view_attention_mean(App* app) {
  AppState& s = app->state;
  const int heads = int(s.trace.layers[size_t(s.sel.layer)].heads.size());
  const Mat& m = mean_weights(app, s.sel.layer);
  const ImVec2 room = label_room(s.trace.tokens, s.trace.key_tokens);
  zoom_bar(app, int(m.rows()), int(m.cols()));
  if (app_visible(*app, "head_selector")) {
    flow(ImGui::CalcTextSize(tr(S_WEIGHTS_RANGE)).x + ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x);
    ImGui::Checkbox(tr_id(S_WEIGHTS_RANGE, "weights_range").c_str(), &app->weights_full_range);
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const AttentionSlots sl = attention_slots(*app, avail, int(m.rows()), int(m.cols()), false, room);
  float wmax = cached_range(app, "mean_weights_" + std::to_string(s.sel.layer), m, false);
  if (app->weights_full_range || wmax <= 0) wmax = 1.0f;
  char title[160];
  std::snprintf(title, sizeof title, tr(S_MEAN_TITLE), heads, s.sel.layer);
  attention_heatmap(app, "mean_weights", title, p, sl.each, room, m, HEATMAP_STYLE_SEQUENTIAL, wmax, GRID_MODE_VIEW, tr(S_CLICK_EXPLAIN), true);
}

void view_attention(App* app) {
  AppState& s = app->state;
  if (s.sel.mean_heads && s.trace.layers[size_t(s.sel.layer)].heads.size() > 1) return view_attention_mean(app);
  const AttentionOutput& a = app_state_focused_head(s).attn;
  const std::string lh = "_" + std::to_string(s.sel.layer) + "_" + std::to_string(s.sel.head);
  const bool has_scores = a.scores.size() > 0;  // imported attention maps: no scores
  const float font = ImGui::GetFontSize();
  const ImVec2 room = label_room(s.trace.tokens, s.trace.key_tokens);
  // What to show, and zoom.
  if (has_scores) {
    // The choices (AUTO is what opens, never offered): each with its caption; the current one is what is shown now.
    struct Choice {
      AppAttentionShow show;
      StrId label;
    };
    const Choice choices[] = {{APP_ATTENTION_SHOW_WEIGHTS, S_SHOW_WEIGHTS}, {APP_ATTENTION_SHOW_SCORES, S_SHOW_SCORES},
                              {APP_ATTENTION_SHOW_BOTH, S_SHOW_BOTH}};
    const AttentionSlots now = attention_slots(*app, ImGui::GetContentRegionAvail(), int(a.weights.rows()), int(a.weights.cols()), true, room);
    const AppAttentionShow current = now.weights && now.scores ? APP_ATTENTION_SHOW_BOTH
                                     : now.weights             ? APP_ATTENTION_SHOW_WEIGHTS
                                                               : APP_ATTENTION_SHOW_SCORES;
    float w = 0;
    const char* current_label = "";
    for (const Choice& c : choices) {
      w = std::max(w, ImGui::CalcTextSize(tr(c.label)).x);
      if (c.show == current) current_label = tr(c.label);
    }
    ImGui::SetNextItemWidth(w + ImGui::GetFrameHeight() + ImGui::GetStyle().FramePadding.x * 2);
    if (ImGui::BeginCombo("##show", current_label)) {
      for (const Choice& c : choices)
        if (ImGui::Selectable(tr(c.label), c.show == current)) app->ui.attention_show = c.show;
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
    attention_heatmap(app, "weights", tr(S_SOFTMAX_WEIGHTS), p, sl.each, room, a.weights, HEATMAP_STYLE_SEQUENTIAL, wmax,
                      app->ui.paint_on_weights && !app->page.readonly ? GRID_MODE_PAINT : GRID_MODE_VIEW, tr(S_CLICK_EXPLAIN));
  }
  if (sl.scores) {
    // scores (diverging around 0; masked cells grey)
    float smax = cached_range(app, "scores" + lh, a.scores, true);
    if (smax <= 0) smax = 1;
    const ImVec2 at = !sl.weights ? p : sl.side ? ImVec2(p.x + sl.each.x, p.y) : ImVec2(p.x, p.y + sl.each.y + font * 1.8f);
    attention_heatmap(app, "scores", tr(S_SCORES_TITLE), at, sl.each, room, a.scores, HEATMAP_STYLE_DIVERGING, smax, GRID_MODE_VIEW, nullptr);
  }
}

}  // namespace attnplay
