// attnplay ui: the Decode view (mode seq2seq). Greedy decoding step by step: from the target's first token the
// decoder emits its most probable token, reads it back, and emits the next; each revealed row is one step, the token
// it emitted and the cross-attention over the source that step used (model_greedy_decode). Unrevealed steps are grey.
//
// Dimension glossary: n_t (target tokens: steps), n_s (source tokens), heads, decoder layers.
#include "ui/grid.h"
#include "ui/views.h"

#include "ui/i18n.h"
#include "ui/panels.h"

#include <algorithm>
#include <cstdio>

namespace attnplay {

namespace {

// The steps for the state's current config and weights (recomputed when the trace's generation changes).
void decode_refresh(App* app) {
  AppState& s = app->state;
  AppUiLocal& u = app->ui;
  if (u.decode_generation == s.generation) return;
  u.decode_generation = s.generation;
  u.decode_error.clear();
  if (!model_greedy_decode(s.parsed, s.weights.get(), s.parsed.n_q(), &u.decode, &u.decode_error)) u.decode.clear();
  u.decode_shown = std::clamp(u.decode_shown, 0, int(u.decode.size()));
}

}  // namespace

void view_decode(App* app) {
  AppState& s = app->state;
  AppUiLocal& u = app->ui;
  decode_refresh(app);
  const Trace& t = s.trace;
  ImGui::PushTextWrapPos(0.0f);
  ImGui::Text(tr(S_DECODE_HELP), t.tokens.empty() ? "" : t.tokens[0].c_str());
  ImGui::PopTextWrapPos();
  if (!u.decode_error.empty()) {
    ImGui::TextColored(ImVec4(0.75f, 0.1f, 0.1f, 1), tr(S_DECODE_FAILED), u.decode_error.c_str());
    return;
  }
  const int steps = int(u.decode.size());
  ImGui::BeginDisabled(u.decode_shown >= steps);
  if (ui_small_button(*app, tr_id(S_DECODE_STEP, "decode_step").c_str())) ++u.decode_shown;
  ImGui::EndDisabled();
  app_record(app, "decode_step");
  ImGui::SameLine();
  ImGui::BeginDisabled(u.decode_shown <= 0);
  if (ui_small_button(*app, tr_id(S_DECODE_BACK, "decode_back").c_str())) --u.decode_shown;
  ImGui::EndDisabled();
  app_record(app, "decode_back");
  ImGui::SameLine();
  ImGui::BeginDisabled(u.decode_shown >= steps);
  if (ui_small_button(*app, tr_id(S_DECODE_ALL, "decode_all").c_str())) u.decode_shown = steps;
  ImGui::EndDisabled();
  app_record(app, "decode_all");
  u.decode_shown = std::clamp(u.decode_shown, 0, steps);
  if (u.decode_shown == 0) {
    ImGui::TextDisabled("%s", tr(S_DECODE_NONE));
  } else {
    const DecodeStep& d = u.decode[size_t(u.decode_shown - 1)];
    ImGui::Text(tr(S_DECODE_STATUS), u.decode_shown, steps, d.token.c_str(), double(d.prob));
  }
  app_record(app, "decode_status");
  // Rows: the steps (label: the token emitted), columns: the source; the focused head's or the heads' mean row.
  const int layer = std::clamp(s.sel.layer, 0, int(t.layers.size()) - 1);
  const int n_s = int(t.key_tokens.size());
  Mat m = Mat::Zero(steps, n_s);
  MaskMat hidden = MaskMat::Zero(steps, n_s);
  std::vector<std::string> rows(size_t(steps), "?");
  for (int k = 0; k < steps; ++k) {
    if (k >= u.decode_shown) {
      hidden.row(k).setOnes();
      continue;
    }
    const Mat& c = u.decode[size_t(k)].cross[size_t(layer)];  // [heads, n_s]
    m.row(k) = s.sel.mean_heads ? Mat(c.colwise().mean()) : Mat(c.row(std::min(s.sel.head, int(c.rows()) - 1)));
    rows[size_t(k)] = u.decode[size_t(k)].token;
  }
  char title[160];
  if (s.sel.mean_heads) std::snprintf(title, sizeof title, tr(S_MEAN_TITLE), int(t.layers[size_t(layer)].heads.size()), layer);
  else std::snprintf(title, sizeof title, "%s: L%d H%d", tr(S_DECODE_ROWS), layer, s.sel.head);
  ImGui::TextUnformatted(title);
  const float font = ImGui::GetFontSize(), gap = font * 4.0f;
  const ImVec2 avail = ImGui::GetContentRegionAvail(), at = ImGui::GetCursorScreenPos();
  const Grid g = grid_layout(at, ImVec2(avail.x, avail.y - font * 0.5f), steps, n_s, gap, nullptr, label_room(rows, t.key_tokens));
  const unsigned tex = heatmap_texture(app, "decode_" + std::to_string(u.decode_shown) + "_" + std::to_string(layer) + "_" +
                                                std::to_string(s.sel.mean_heads ? -1 : s.sel.head),
                                       m, &hidden, HEATMAP_STYLE_SEQUENTIAL, 0.0f, 1.0f, shrink_pixels(g));
  GridAnnot an;
  an.values = &m;
  an.vmax = 1.0f;
  an.tooltip_values = true;
  grid_view(app, "decode", g, tex, rows, t.key_tokens, &hidden, GRID_MODE_VIEW, nullptr, an);
  colorbar(ImVec2(g.clip_max.x + 8, g.clip_min.y), std::max(40.0f, g.clip_max.y - g.clip_min.y), false, 0.0f, 1.0f);
}

}  // namespace attnplay
