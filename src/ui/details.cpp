// attnplay ui: the details column: the hovered pair, the preset's note, the cell walkthrough (walkthrough_lines,
// which the DOM mirror reads too), per-row statistics, next-token probabilities and About.
//
// Dimension glossary: n_q (query rows), n_k (key columns), d_k, d_v, heads, layers.
#include "core/attention.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace attnplay {

namespace {

// Step-by-step derivation of one weight, with the current numbers filled into the formula.
void walkthrough(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const int n_q = int(t.tokens.size()), n_k = int(t.key_tokens.size());
  const float w = ImGui::GetFontSize() * 8;
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo(tr_id(S_QUERY_N, "wt_query").c_str(), (std::to_string(s.sel.query) + " " + t.tokens[size_t(s.sel.query)]).c_str())) {
    for (int i = 0; i < n_q && i < 1024; ++i)
      if (ImGui::Selectable((std::to_string(i) + " " + t.tokens[size_t(i)]).c_str(), i == s.sel.query)) s.sel.query = i;
    ImGui::EndCombo();
  }
  ImGui::SetNextItemWidth(w);
  if (ImGui::BeginCombo(tr_id(S_KEY_N, "wt_key").c_str(), (std::to_string(s.sel.key) + " " + t.key_tokens[size_t(s.sel.key)]).c_str())) {
    for (int j = 0; j < n_k && j < 1024; ++j)
      if (ImGui::Selectable((std::to_string(j) + " " + t.key_tokens[size_t(j)]).c_str(), j == s.sel.key)) s.sel.key = j;
    ImGui::EndCombo();
  }
  for (const WalkLine& l : walkthrough_lines(*app)) {
    if (l.mirror_only) continue;
    if (l.dim) ImGui::TextDisabled("%s", l.text.c_str());
    else ImGui::TextUnformatted(l.text.c_str());
  }
}

}  // namespace

std::vector<WalkLine> walkthrough_lines(const App& app) {
  const AppState& s = app.state;
  const Trace& t = s.trace;
  std::vector<WalkLine> out;
  if (t.layers.empty() || t.imported) return out;
  const HeadTrace& h = app_state_focused_head(s);
  const int n_k = int(t.key_tokens.size());
  auto line = [&out](bool dim, const char* fmt, auto... args) {
    char buf[512];
    std::snprintf(buf, sizeof buf, fmt, args...);
    out.push_back({buf, dim});
  };
  const int i = s.sel.query, j = s.sel.key, d_k = int(h.q.cols());
  const auto q = h.q.row(i), k = h.k.row(j);
  // The numbers come from core's step functions, the definitions the kernels are tested against.
  const AttentionScoreSteps st = attention_score_steps(h.q, h.k, trace_params(t, h), i, j);
  const char* formula = attention_kind_info(t.attention.spec.kind).formula;  // the kind's row (attention_kinds.cpp)
  const double after_scale = st.raw / st.divisor;
  const bool masked = t.attention.mask.size() && t.attention.mask(i, j);
  line(false, "%s %d \"%s\" -> %s %d \"%s\"", tr(S_QUERY_N), i, t.tokens[size_t(i)].c_str(), tr(S_KEY_N), j, t.key_tokens[size_t(j)].c_str());
  out.back().mirror_only = true;  // on screen the two combos above say it
  line(false, tr(S_WT_KIND), kind_label(t.attention.spec.kind));
  line(false, tr(S_WT_STEP1), formula, st.raw);
  if (s.parsed.positional == POSITIONAL_KIND_ROPE) line(true, tr(S_WT_ROPE), i, j);
  if (attention_kind_info(t.attention.spec.kind).extras == ATTENTION_EXTRA_NONE) {  // q·k: its terms
    std::string terms;
    for (int d = 0; d < std::min(d_k, 3); ++d) {
      char b[64];
      std::snprintf(b, sizeof b, "%s%.3g*%.3g", d ? " + " : "", double(q[d]), double(k[d]));
      terms += b;
    }
    line(true, "   = %s%s", terms.c_str(), d_k > 3 ? " + ..." : "");
  }
  if (attention_kind_scaled(t.attention.spec.kind)) line(false, tr(S_WT_SCALE), st.divisor, after_scale);
  else line(false, tr(S_WT_NOSCALE), kind_label(t.attention.spec.kind), after_scale);
  if (h.alibi_slope != 0) line(false, tr(S_WT_ALIBI), double(h.alibi_slope), i, j, after_scale + st.bias);
  line(false, tr(S_WT_TEMP), double(t.attention.spec.temperature), st.score);
  const AttentionOutput& a = h.attn;
  if (masked) {
    line(false, "%s", tr(S_WT_MASKED));
    line(false, "%s", tr(S_WT_MASKED_EXP));
  } else {
    const AttentionSoftmaxSteps sm = attention_softmax_steps(a.scores, t.attention.mask.size() ? &t.attention.mask : nullptr, i, j);
    line(false, "%s", tr(S_WT_VISIBLE));
    line(false, tr(S_WT_EXP), sm.row_max, sm.exp);
    line(false, tr(S_WT_SUM), sm.sum, sm.weight);
  }
  line(false, tr(S_WT_WEIGHT), double(a.weights(i, j)));
  const int d_v = int(h.v.cols());
  double contrib_l1 = 0, total_l1 = 0;
  for (int d = 0; d < d_v; ++d) {
    contrib_l1 += std::fabs(double(a.weights(i, j)) * h.v(j, d));
    for (int jj = 0; jj < n_k; ++jj) total_l1 += std::fabs(double(a.weights(i, jj)) * h.v(jj, d));
  }
  std::string wv;
  for (int d = 0; d < std::min(d_v, 4); ++d) {
    char b[32];
    std::snprintf(b, sizeof b, "%s%.3g", d ? ", " : "", double(a.weights(i, j) * h.v(j, d)));
    wv += b;
  }
  line(false, tr(S_WT_WV), j, wv.c_str(), d_v > 4 ? ", ..." : "");
  line(false, tr(S_WT_SHARE), total_l1 > 0 ? 100.0 * contrib_l1 / total_l1 : 0.0);
  line(true, "%s", tr(S_WT_SHARE_HELP));
  return out;
}

namespace {

void row_stats(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const Mat& w = app_state_focused_head(s).attn.weights;
  const float h = std::min(ImGui::GetFontSize() * 14, std::max(ImGui::GetFontSize() * 6, ImGui::GetContentRegionAvail().y * 0.35f));
  if (!ImGui::BeginTable("rowstats", 4, ImGuiTableFlags_ScrollY | ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV, ImVec2(0, h))) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  ImGui::TableSetupColumn(tr(S_COL_QUERY));
  ImGui::TableSetupColumn(tr(S_COL_ENTROPY));
  ImGui::TableSetupColumn(tr(S_COL_MAXW));
  ImGui::TableSetupColumn(tr(S_COL_ARGMAX));
  ImGui::TableHeadersRow();
  ImGuiListClipper clip;
  clip.Begin(int(w.rows()));
  while (clip.Step())
    for (int i = clip.DisplayStart; i < clip.DisplayEnd; ++i) {
      double ent = 0;
      Eigen::Index arg = 0;
      const float mx = w.row(i).maxCoeff(&arg);
      for (int j = 0; j < w.cols(); ++j)
        if (w(i, j) > 0) ent -= double(w(i, j)) * std::log2(double(w(i, j)));
      ImGui::TableNextRow();
      if (i == s.sel.hover_query) ImGui::TableSetBgColor(ImGuiTableBgTarget_RowBg0, IM_COL32(255, 210, 120, 255));
      ImGui::TableNextColumn();
      ImGui::Text("%d %s", i, clip_text(t.tokens[size_t(i)], ImGui::GetFontSize() * 5).c_str());
      ImGui::TableNextColumn();
      ImGui::Text("%.3f", ent);
      ImGui::TableNextColumn();
      ImGui::Text("%.3f", double(mx));
      ImGui::TableNextColumn();
      ImGui::Text("%s", mx > 0 ? clip_text(t.key_tokens[size_t(arg)], ImGui::GetFontSize() * 5).c_str() : tr(S_MASKED_ROW));
    }
  ImGui::EndTable();
}

void next_token(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const int q = s.sel.hover_query >= 0 && s.sel.hover_query < t.logits.rows() ? s.sel.hover_query : s.sel.query;
  const auto row = t.logits.row(q);
  const float mx = row.maxCoeff();
  std::vector<std::pair<double, int>> p;
  double z = 0;
  for (int v = 0; v < row.size(); ++v) z += std::exp(double(row[v] - mx));
  for (int v = 0; v < row.size(); ++v) p.emplace_back(std::exp(double(row[v] - mx)) / z, v);
  std::sort(p.begin(), p.end(), [](auto& a, auto& b) { return a.first > b.first; });
  ImGui::Text(tr(S_AFTER_TOKEN), t.tokens[size_t(q)].c_str(), q);
  for (size_t k = 0; k < p.size() && k < 5; ++k) {
    ImGui::ProgressBar(float(p[k].first), ImVec2(ImGui::GetFontSize() * 6, 0), "");
    ImGui::SameLine();
    ImGui::Text("%5.1f%%  %s", 100.0 * p[k].first, t.vocab[size_t(p[k].second)].c_str());
  }
  ImGui::TextDisabled("%s", tr(S_UNTRAINED));
}

}  // namespace

void panel_details(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  if (t.layers.empty()) return;
  ImGui::Text(tr(S_DETAILS_HEADER), s.sel.layer, s.sel.head, int(t.tokens.size()), int(t.key_tokens.size()));
  if (s.sel.hover_query >= 0 && s.sel.hover_query < int(t.tokens.size())) {
    const int i = s.sel.hover_query;
    if (s.sel.hover_key >= 0 && s.sel.hover_key < int(t.key_tokens.size())) {
      const AttentionOutput& a = app_state_focused_head(s).attn;
      ImGui::Text(tr(S_HOVER_PAIR), t.tokens[size_t(i)].c_str(), t.key_tokens[size_t(s.sel.hover_key)].c_str(),
                  double(a.weights(i, s.sel.hover_key)));
    } else {
      ImGui::Text(tr(S_HOVER_ONE), t.tokens[size_t(i)].c_str());
    }
  } else {
    ImGui::TextDisabled("%s", tr(S_HOVER_HINT));
  }
  if (!t.warnings.empty())
    for (const auto& w : t.warnings) ImGui::TextWrapped(tr(S_NOTE), w.c_str());
  if (const Preset* p = preset_find(s.preset_id); p && app_visible(*app, "preset_note")) {
    ImGui::Separator();
    ImGui::TextWrapped(tr(S_PRESET_NOTE), tr(p->title));
    ui_text_wrapped(tr(p->text));
    app_record(app, "preset_note");
    ImGui::Separator();
  }
  const App& a = *app;
  if (t.imported) {  // attention maps from a file: no q, k, v or scores to walk through
    ImGui::Separator();
    ImGui::TextWrapped(tr(S_IMPORTED_NOTE), s.imported_name.c_str());
    app_record(app, "imported_note");
  }
  if (s.pretrained.on_screen && app_visible(a, "nexttoken") &&
      ImGui::CollapsingHeader(tr_id(S_PT_PREDICTIONS, "h_predictions").c_str(), ImGuiTreeNodeFlags_DefaultOpen))
    pretrained_predictions(app);
  if (!t.imported && app_visible(a, "walkthrough") && ImGui::CollapsingHeader(tr_id(S_WALKTHROUGH, "h_walkthrough").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) walkthrough(app);
  if (app_visible(a, "rowstats") && ImGui::CollapsingHeader(tr_id(S_ROW_STATS, "h_rowstats").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) row_stats(app);
  if (t.logits.size() > 0 && !s.pretrained.on_screen && app_visible(a, "nexttoken") && ImGui::CollapsingHeader(tr_id(S_NEXT_TOKEN, "h_next").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) next_token(app);
  if (app_visible(a, "about") && ImGui::CollapsingHeader(tr_id(S_ABOUT, "h_about").c_str())) ui_about(app);
}

}  // namespace attnplay
