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

}  // namespace attnplay
