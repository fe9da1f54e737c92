// attnplay ui: the Model view: every layer x head as small heatmaps (BertViz's model view).
//
// Dimension glossary: n_q (query rows), n_k (key columns), d_k, d_v, heads, layers.
#include "ui/grid.h"
#include "ui/views.h"

#include "core/attention.h"
#include "ui/colormap.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"
#include "model/head_scores.h"
#include "model/tokenizer.h"

#include <imgui_internal.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>


namespace attnplay {

namespace {

// Layer l of a band of the trace (seq2seq: of the whole encoder-decoder trace; otherwise the trace's own layers).
const LayerTrace& band_layer(const Trace& t, int band, int l) {
  if (!t.seq2seq || band == TRACE_BAND_ENCODER) return t.layers[size_t(l)];
  return band == TRACE_BAND_CROSS ? t.decoder[size_t(l)].cross : t.decoder[size_t(l)].self;
}
int band_layers(const Trace& t, int band) {
  return !t.seq2seq || band == TRACE_BAND_ENCODER ? int(t.layers.size()) : int(t.decoder.size());
}

// The thumbnail just drawn (the last item) at layer l, head h: on a real model a shift-click or a long press ablates
// the head (a second one restores it). true: a plain click, which opens the head.
bool thumb_gesture(App* app, const std::string& id, bool clicked, int l, int h) {
  const bool pretrained = app->state.pretrained.on_screen && !app->page.readonly;
  const bool long_press = pretrained && ImGui::IsItemActive() && ImGui::GetIO().MouseDownDuration[0] >= 0.5f &&
                          app->ui.long_press_id != id;
  if (long_press) app->ui.long_press_id = id;
  if (pretrained && ((clicked && ImGui::GetIO().KeyShift) || long_press)) {
    pretrained_toggle_ablate(app, l, h);
    return false;
  }
  if (clicked && app->ui.long_press_id == id) {
    app->ui.long_press_id.clear();  // the release of a long press: not also a click
    return false;
  }
  return clicked;
}

// A red cross over the last item when head (l, h) is ablated; returns whether it is.
bool thumb_ablated_cross(App* app, int l, int h) {
  const bool ablated = app->state.pretrained.on_screen && pretrained_ablated(app->state, l, h);
  if (ablated) {
    const ImVec2 a0 = ImGui::GetItemRectMin(), a1 = ImGui::GetItemRectMax();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(a0, a1, IM_COL32(0, 0, 0, 110));
    dl->AddLine(a0, a1, IM_COL32(230, 40, 40, 255), 3.0f);
    dl->AddLine(ImVec2(a0.x, a1.y), ImVec2(a1.x, a0.y), IM_COL32(230, 40, 40, 255), 3.0f);
  }
  return ablated;
}

// One row of thumbnails per layer of the band; a click focuses that head of that band in the Attention view.
void band_thumbnails(App* app, const Trace& t, int band, float thumb) {
  AppState& s = app->state;
  const float font = ImGui::GetFontSize();
  const std::string prefix = t.seq2seq ? std::string(band == TRACE_BAND_ENCODER ? "encoder" : band == TRACE_BAND_CROSS ? "cross" : "decoder_self") + "_" : "";
  for (int l = 0; l < band_layers(t, band); ++l) {
    const LayerTrace& lt = band_layer(t, band, l);
    ImGui::Text("L%d", l);
    for (int h = 0; h < int(lt.heads.size()); ++h) {
      ImGui::SameLine(font * 2.5f + h * (thumb + 6));
      // A lean trace's thumbnails (block means) for every head, the focused one too, so all share one look; else
      // the full weights, which the renderer samples down to 128 px.
      const AttentionOutput& a = lt.heads[size_t(h)].attn;
      const Mat& w = t.lean ? a.thumb : a.weights;
      const std::string id = "thumb_" + prefix + std::to_string(l) + "_" + std::to_string(h);
      const float vmax = std::max(1e-6f, cached_range(app, id, w, false));
      const unsigned tex = heatmap_texture(app, id, w, nullptr, HEATMAP_STYLE_SEQUENTIAL, 0.0f, vmax, 128);
      ImGui::PushID(id.c_str());
      const bool focused = s.sel.layer == l && s.sel.head == h && (!t.seq2seq || s.sel.band == band);
      // Thumbnails keep the matrix's aspect (a cross-attention is n_t x n_s) inside the square slot.
      const float aspect = float(w.cols()) / float(std::max<Eigen::Index>(1, w.rows()));
      const ImVec2 size = aspect >= 1 ? ImVec2(thumb, thumb / aspect) : ImVec2(thumb * aspect, thumb);
      bool clicked;
      if (tex)
        clicked = ImGui::ImageButton(ImTextureID(uintptr_t(tex)), size, ImVec2(0, 0), ImVec2(1, 1), focused ? 3 : 1,
                                     ImVec4(0, 0, 0, 0), ImVec4(1, 1, 1, 1));
      else
        clicked = ImGui::Button("##thumb", size);
      if (thumb_gesture(app, id, clicked, l, h)) {
        if (t.seq2seq) app_state_set_band(&s, TraceBand(band));
        s.sel.layer = l;
        s.sel.head = h;
        s.sel.mean_heads = false;
        s.sel.view = APP_VIEW_ATTENTION;
      }
      app_record(app, id);
      const bool ablated = thumb_ablated_cross(app, l, h);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip(tr(ablated ? S_PT_ABLATED_TIP : S_THUMB_TIP), l, h);
      ImGui::PopID();
    }
  }
}

// The head finder's scores of the trace on screen: a real model's come with it (from every head's full weights, in the
// worker); the playground's own are computed here once per trace (grid.h generation_cache; NaN for a lean trace's
// heads without weights).
const std::vector<Mat>& scores_on_screen(App* app) {
  AppState& s = app->state;
  if (s.pretrained.on_screen && !s.pretrained.view.head_scores.empty()) return s.pretrained.view.head_scores;
  std::map<std::string, std::vector<Mat>>& cache = generation_cache<std::vector<Mat>>(app, s.generation);
  auto it = cache.find("head_scores");
  if (it == cache.end()) it = cache.emplace("head_scores", head_scores(s.trace)).first;
  return it->second;
}

// Every head ranked by score, highest first (undefined scores last), in as many columns as fit `width`; a click
// focuses. Each is labelled with its score, or with change (the sweep's signed change in percent) when given; a
// column is as wide as the widest label, and the thumbnails grow to it (a 6 x 4 model's layer grid would make them
// 24 px on a phone).
void ranked_thumbnails(App* app, const Trace& t, const Mat& score, const char* name, const Mat* change, float thumb,
                       float width) {
  AppState& s = app->state;
  std::vector<std::pair<int, int>> order;
  for (int l = 0; l < int(score.rows()); ++l)
    for (int h = 0; h < int(score.cols()); ++h) order.push_back({l, h});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    const float x = score(a.first, a.second), y = score(b.first, b.second);
    if (std::isnan(x) != std::isnan(y)) return std::isnan(y);
    return x > y;
  });
  char widest[64];
  std::snprintf(widest, sizeof widest, tr(change ? S_SW_RANK : S_HS_RANK), int(order.size()), int(score.rows()) - 1,
                int(score.cols()) - 1, -99.9);
  const float spacing = ImGui::GetStyle().ItemSpacing.x + 6;
  const float label_w = ImGui::CalcTextSize(widest).x;
  thumb = std::min(std::max(thumb, label_w - 6), std::max(24.0f, width - spacing));
  const float cell = std::max(thumb + 6, label_w) + spacing;
  const int per_row = std::max(1, int(width / cell));
  const float x0 = ImGui::GetCursorPosX();
  for (size_t r = 0; r < order.size(); ++r) {
    const auto [l, h] = order[r];
    if (r % size_t(per_row)) ImGui::SameLine(x0 + float(r % size_t(per_row)) * cell);
    ImGui::BeginGroup();
    const AttentionOutput& a = t.layers[size_t(l)].heads[size_t(h)].attn;
    const Mat& w = t.lean ? a.thumb : a.weights;
    const std::string id = "thumb_" + std::to_string(l) + "_" + std::to_string(h);
    const float vmax = std::max(1e-6f, cached_range(app, id, w, false));
    const unsigned tex = heatmap_texture(app, id, w, nullptr, HEATMAP_STYLE_SEQUENTIAL, 0.0f, vmax, 128);
    ImGui::PushID(id.c_str());
    const bool focused = s.sel.layer == l && s.sel.head == h;
    bool clicked = tex ? ImGui::ImageButton(ImTextureID(uintptr_t(tex)), ImVec2(thumb, thumb), ImVec2(0, 0), ImVec2(1, 1), focused ? 3 : 1,
                                            ImVec4(0, 0, 0, 0), ImVec4(1, 1, 1, 1))
                       : ImGui::Button("##thumb", ImVec2(thumb, thumb));
    app_record(app, id);
    const float v = change ? 100.0f * (*change)(l, h) : score(l, h);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip(tr(S_HS_TIP), l, h, name, double(v));
    if (thumb_gesture(app, id, clicked, l, h)) {
      s.sel.layer = l;
      s.sel.head = h;
      s.sel.mean_heads = false;
      s.sel.view = APP_VIEW_ATTENTION;
    }
    thumb_ablated_cross(app, l, h);
    ImGui::PopID();
    ImGui::TextDisabled(tr(change ? S_SW_RANK : S_HS_RANK), int(r) + 1, l, h, double(std::isnan(v) ? 0.0f : v));
    ImGui::EndGroup();
  }
}

}  // namespace

void view_model(App* app) {
  AppState& s = app->state;
  const bool seq2seq = s.full.seq2seq;
  const Trace& t = seq2seq ? s.full : s.trace;  // seq2seq: three bands, encoder self / decoder self / cross
  ui_text_wrapped(tr(S_MODEL_HELP));
  if (s.pretrained.on_screen && !app->page.readonly) ui_text_wrapped(tr(S_PT_ABLATE_HELP));
  const float font = ImGui::GetFontSize();
  // The head finder (not for seq2seq's three bands): sort every head by a score of its weights.
  int& sort = app->ui.model_sort;
  if (!seq2seq && app_visible(*app, "head_finder")) {
    ImGui::SetNextItemWidth(font * 11);
    const bool real = s.pretrained.on_screen && !s.pretrained.view.predictions.empty();  // the sweep needs an LM head
    if (sort == HEAD_SORT_SWEEP && !real) sort = -1;
    const char* shown = sort < 0 ? tr(S_HS_ORDER) : sort == HEAD_SORT_SWEEP ? tr(S_SW_SORT)
                                                                             : tr_named(std::string("score.") + kHeadScores[sort].name);
    if (ImGui::BeginCombo(tr_id(S_HS_SORT, "head_sort").c_str(), shown)) {
      if (ImGui::Selectable(tr(S_HS_ORDER), sort < 0)) sort = -1;
      for (int k = 0; k < HEAD_SCORE_COUNT; ++k) {
        if (ImGui::Selectable(tr_named(std::string("score.") + kHeadScores[k].name), sort == k)) sort = k;
        app_record(app, std::string("head_sort_") + kHeadScores[k].name);
      }
      if (real) {
        if (ImGui::Selectable(tr(S_SW_SORT), sort == HEAD_SORT_SWEEP)) sort = HEAD_SORT_SWEEP;
        app_record(app, "head_sort_sweep");
      }
      ImGui::EndCombo();
    }
    app_record(app, "head_sort");
    std::string help = tr(S_HS_HELP);
    for (int k = 0; k < HEAD_SCORE_COUNT; ++k)
      help += std::string("\n") + tr_named(std::string("score.") + kHeadScores[k].name) + ": " + kHeadScores[k].formula;
    ui_help_marker(help.c_str());
  } else {
    sort = -1;
  }
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const int bands = seq2seq ? int(TRACE_BAND_COUNT) : 1;
  int rows = 0, heads = 1;
  for (int b = 0; b < bands; ++b) {
    rows += band_layers(t, b);
    heads = std::max(heads, int(band_layer(t, b, 0).heads.size()));
  }
  const float titles = seq2seq ? bands * font * 1.6f : 0.0f;
  const float label = sort >= 0 ? font * 1.4f : 0.0f;  // the ranked grid's lines under each thumbnail
  const float by_width = (avail.x - font * 4) / heads, by_height = (avail.y - font * 2 - titles) / rows - label;
  const float row_gap = ImGui::GetStyle().ItemSpacing.y + 6;  // (the image button's frame and the spacing to the next row)
  const float thumb = std::clamp(std::min(by_width - 6, by_height - row_gap), 24.0f, 200.0f);
  // A phone's one column: when the width bounds the thumbnails, the view's slot need not be taller than they are
  // (a one-layer model would leave it half empty); app.cpp reads this next frame (two lines' margin keeps it stable).
  struct NeedHeight {
    App* app;
    bool width_bound;
    ~NeedHeight() { if (width_bound) app->ui.view_need_h_next = ImGui::GetCursorPosY() + ImGui::GetFontSize() * 2; }
  } need{app, by_width - 6 <= by_height - row_gap};
  const float ranked_w = avail.x - font;
  if (sort == HEAD_SORT_SWEEP) {  // the ablation sweep's ranking: |change| of the followed prediction
    pretrained_sweep_status(app);
    const AppSweep& w = s.pretrained.sweep;
    if (app_pretrained_sweep_current(s) && w.change.rows() == int(t.layers.size()) && w.change.size()) {
      const Mat magnitude = w.change.cwiseAbs();
      ranked_thumbnails(app, t, magnitude, tr(S_SW_SORT), &w.change, thumb, ranked_w);
    }
    ImGui::TextDisabled("%s", tr(S_MODEL_LEGEND));
    return;
  }
  if (sort >= 0) {
    const std::vector<Mat>& sc = scores_on_screen(app);
    ranked_thumbnails(app, t, sc[size_t(sort)], tr_named(std::string("score.") + kHeadScores[sort].name), nullptr, thumb, ranked_w);
    ImGui::TextDisabled("%s", tr(S_MODEL_LEGEND));
    return;
  }
  static const StrId kTitles[TRACE_BAND_COUNT] = {S_BAND_ENCODER, S_BAND_DECODER_SELF, S_BAND_CROSS};
  for (int b = 0; b < bands; ++b) {
    if (seq2seq) {
      ImGui::TextDisabled("%s", tr(kTitles[b]));
      app_record(app, std::string("model_band_") + std::to_string(b));
    }
    band_thumbnails(app, t, b, thumb);
  }
  ImGui::TextDisabled("%s", tr(S_MODEL_LEGEND));
}

}  // namespace attnplay
