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
      // A real model: shift-click or a long press ablates the head (a second one restores it).
      const bool pretrained = s.pretrained.on_screen && !app->page.readonly;
      const bool long_press = pretrained && ImGui::IsItemActive() && ImGui::GetIO().MouseDownDuration[0] >= 0.5f &&
                              app->ui.long_press_id != id;
      if (long_press) app->ui.long_press_id = id;
      if (pretrained && ((clicked && ImGui::GetIO().KeyShift) || long_press)) {
        pretrained_toggle_ablate(app, l, h);
      } else if (clicked && app->ui.long_press_id == id) {
        app->ui.long_press_id.clear();  // the release of a long press: not also a click
      } else if (clicked) {
        if (t.seq2seq) app_state_set_band(&s, TraceBand(band));
        s.sel.layer = l;
        s.sel.head = h;
        s.sel.mean_heads = false;
        s.sel.view = APP_VIEW_ATTENTION;
      }
      app_record(app, id);
      const bool ablated = s.pretrained.on_screen && pretrained_ablated(s, l, h);
      if (ablated) {  // a red cross over the thumbnail
        const ImVec2 a0 = ImGui::GetItemRectMin(), a1 = ImGui::GetItemRectMax();
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(a0, a1, IM_COL32(0, 0, 0, 110));
        dl->AddLine(a0, a1, IM_COL32(230, 40, 40, 255), 3.0f);
        dl->AddLine(ImVec2(a0.x, a1.y), ImVec2(a1.x, a0.y), IM_COL32(230, 40, 40, 255), 3.0f);
      }
      if (ImGui::IsItemHovered()) ImGui::SetTooltip(tr(ablated ? S_PT_ABLATED_TIP : S_THUMB_TIP), l, h);
      ImGui::PopID();
    }
  }
}

}  // namespace

void view_model(App* app) {
  AppState& s = app->state;
  const bool seq2seq = s.full.seq2seq;
  const Trace& t = seq2seq ? s.full : s.trace;  // seq2seq: three bands, encoder self / decoder self / cross
  ImGui::TextWrapped("%s", tr(S_MODEL_HELP));
  if (s.pretrained.on_screen && !app->page.readonly) ImGui::TextWrapped("%s", tr(S_PT_ABLATE_HELP));
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float font = ImGui::GetFontSize();
  const int bands = seq2seq ? int(TRACE_BAND_COUNT) : 1;
  int rows = 0, heads = 1;
  for (int b = 0; b < bands; ++b) {
    rows += band_layers(t, b);
    heads = std::max(heads, int(band_layer(t, b, 0).heads.size()));
  }
  const float titles = seq2seq ? bands * font * 1.6f : 0.0f;
  const float thumb = std::clamp(std::min((avail.x - font * 4) / heads, (avail.y - font * 2 - titles) / rows) - 6, 24.0f, 200.0f);
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
