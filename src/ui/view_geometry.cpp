// attnplay ui: the geometry view. The focused head's query and key vectors on their two main directions (PCA of
// all q and k rows together), lines for each query's strongest weights, and dragging: moving a point moves that
// token's embedding by the smallest change that moves its q (or k) that way, and everything recomputes. The
// arithmetic (PCA, the least-norm edit) is model/geometry.h's; this file draws and routes the mouse.
//
// Dimension glossary: n_q, n_k, d_k (this head), d_model.
#include "model/geometry.h"
#include "ui/colormap.h"
#include "ui/i18n.h"
#include "ui/panels.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnplay {

void view_geometry(App* app) {
  AppState& s = app->state;
  const Trace& t = s.trace;
  const HeadTrace& h = app_state_focused_head(s);
  const float font = ImGui::GetFontSize();
  ui_text_wrapped(tr(S_GEO_HELP));
  if (h.q.size() == 0 || h.k.size() == 0) return;  // imported attention maps have no q or k
  const int n_q = std::min<int>(int(h.q.rows()), 1024), n_k = std::min<int>(int(h.k.rows()), 1024), d_k = int(h.q.cols());
  Mat all(n_q + n_k, d_k);
  all.topRows(n_q) = h.q.topRows(n_q);
  all.bottomRows(n_k) = h.k.topRows(n_k);
  const GeometryPca p = geometry_pca(all);
  ImGui::TextDisabled(tr(S_GEO_AXES), 100.0 * p.share1, 100.0 * p.share2);
  const bool can_drag = !s.parsed.inputs.present && s.sel.layer == 0 && !app->page.readonly;
  if (!can_drag && s.parsed.inputs.present) {
    ImGui::SameLine();
    ImGui::TextDisabled("%s", tr(S_GEO_NO_DRAG));
  }
  if (app->ui.geo_moved) {
    ImGui::SameLine();
    if (ui_small_button(*app, tr_id(S_GEO_RESET, "geo_reset").c_str())) {
      std::string error;
      app_state_set_weights(&s, app->ui.geo_base, &error);
      app->ui.geo_moved = false;
      app->ui.geo_base.reset();
    }
    app_record(app, "geo_reset");
  }
  // Canvas: fit every point with a margin; y up.
  const ImVec2 origin = ImGui::GetCursorScreenPos();
  const ImVec2 size(ImGui::GetContentRegionAvail().x, std::max(120.0f, ImGui::GetContentRegionAvail().y - font * 0.5f));
  std::vector<ImVec2> pts(size_t(n_q + n_k));
  float lo1 = 1e30f, hi1 = -1e30f, lo2 = 1e30f, hi2 = -1e30f;
  std::vector<std::pair<float, float>> coords(pts.size());
  for (int r = 0; r < n_q + n_k; ++r) {
    const Eigen::RowVectorXf x = all.row(r) - p.mean;
    const float c1 = x.dot(p.v1.transpose()), c2 = x.dot(p.v2.transpose());
    coords[size_t(r)] = {c1, c2};
    lo1 = std::min(lo1, c1), hi1 = std::max(hi1, c1), lo2 = std::min(lo2, c2), hi2 = std::max(hi2, c2);
  }
  const float span = std::max({hi1 - lo1, hi2 - lo2, 1e-6f});
  const float scale = std::min(size.x, size.y) * 0.85f / span;
  const ImVec2 centre(origin.x + size.x * 0.5f, origin.y + size.y * 0.5f);
  const float m1 = 0.5f * (lo1 + hi1), m2 = 0.5f * (lo2 + hi2);
  for (size_t r = 0; r < pts.size(); ++r)
    pts[r] = ImVec2(centre.x + (coords[r].first - m1) * scale, centre.y - (coords[r].second - m2) * scale);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), IM_COL32(200, 200, 200, 255));
  const ImU32 qcol = colormap_head(s.sel.head, 1.0f), kcol = IM_COL32(90, 90, 90, 255);
  // Lines: each query's two strongest keys (only the hovered query's when there are many).
  const int only = s.sel.hover_query;
  for (int i = 0; i < n_q; ++i) {
    if (n_q > 64 && i != only) continue;
    int best[2] = {-1, -1};
    float bw[2] = {0, 0};
    for (int j = 0; j < n_k; ++j) {
      const float v = trace_weight(t, s.sel.layer, s.sel.head, i, j);
      if (v > bw[0]) { best[1] = best[0]; bw[1] = bw[0]; best[0] = j; bw[0] = v; }
      else if (v > bw[1]) { best[1] = j; bw[1] = v; }
    }
    for (int k = 0; k < 2; ++k)
      if (best[k] >= 0 && bw[k] > 0.05f)
        dl->AddLine(pts[size_t(i)], pts[size_t(n_q + best[k])], colormap_head(s.sel.head, 0.15f + 0.85f * bw[k]), 0.5f + 3.0f * bw[k]);
  }
  // Points and labels; the nearest point under the mouse is hovered (linked with every other view).
  const ImVec2 mouse = ImGui::GetIO().MousePos;
  int near = -1;
  float near_d = font * 0.6f;
  for (size_t r = 0; r < pts.size(); ++r) {
    const float dx = mouse.x - pts[r].x, dy = mouse.y - pts[r].y, dd = std::sqrt(dx * dx + dy * dy);
    if (dd < near_d) near_d = dd, near = int(r);
  }
  for (int r = 0; r < n_q + n_k; ++r) {
    const bool key = r >= n_q;
    const int idx = key ? r - n_q : r;
    const bool hl = key ? s.sel.hover_key == idx : s.sel.hover_query == idx;
    const float rad = hl ? font * 0.42f : font * 0.3f;
    if (key) dl->AddRectFilled(ImVec2(pts[size_t(r)].x - rad, pts[size_t(r)].y - rad), ImVec2(pts[size_t(r)].x + rad, pts[size_t(r)].y + rad), kcol);
    else dl->AddCircleFilled(pts[size_t(r)], rad, qcol);
    if (hl) dl->AddCircle(pts[size_t(r)], rad + 3, IM_COL32(255, 170, 0, 255), 0, 2.0f);
    if (n_q + n_k <= 128 || hl) {
      const std::string& label = key ? t.key_tokens[size_t(idx)] : t.tokens[size_t(idx)];
      dl->AddText(ImVec2(pts[size_t(r)].x + rad + 2, pts[size_t(r)].y - font * 0.5f), key ? kcol : qcol, label.c_str());
    }
  }
  ImGui::SetCursorScreenPos(origin);
  ImGui::InvisibleButton("geometry", size);
  app_record(app, "geometry");
  app->layout["geometry_scale"] = {centre.x, centre.y, scale, float(n_q)};
  if (ImGui::IsItemHovered() && near >= 0) {
    const bool key = near >= n_q;
    const int idx = key ? near - n_q : near;
    if (key) s.sel.hover_key_next = idx;
    else s.sel.hover_query_next = idx;
    ImGui::SetTooltip(tr(S_GEO_TIP), key ? tr(S_KEY_N) : tr(S_QUERY_N), idx,
                      (key ? t.key_tokens : t.tokens)[size_t(idx)].c_str(), double(coords[size_t(near)].first),
                      double(coords[size_t(near)].second));
  }
  for (int r = 0; r < n_q + n_k; ++r)  // exact point positions for the tests (ImGui coordinates)
    app->layout[std::string(r < n_q ? "geo_q_" : "geo_k_") + std::to_string(r < n_q ? r : r - n_q)] =
        {pts[size_t(r)].x, pts[size_t(r)].y, 0, 0};
  // Dragging: the point follows the mouse; its token's embedding moves by the least-norm change that does that.
  if (can_drag && ImGui::IsItemActivated() && near >= 0) {
    app->ui.geo_drag = near >= n_q ? near - n_q : near;
    app->ui.geo_drag_key = near >= n_q;
    app_state_begin_gesture(&s);
  }
  if (app->ui.geo_drag >= 0 && ImGui::IsItemActive()) {
    const ImVec2 d = ImGui::GetIO().MouseDelta;
    if (d.x != 0 || d.y != 0) {
      const Eigen::VectorXf delta = p.v1 * (d.x / scale) + p.v2 * (-d.y / scale);  // pixels -> PCA -> d_k space
      if (!app->ui.geo_moved) {
        app->ui.geo_base = s.weights;
        app->ui.geo_moved = true;
      }
      auto w = std::make_shared<ModelWeights>(s.weights ? *s.weights : weights_seeded(s.parsed));
      const std::string& token = app->ui.geo_drag_key ? t.key_tokens[size_t(app->ui.geo_drag)] : t.tokens[size_t(app->ui.geo_drag)];
      std::string error;
      if (geometry_move_token(s.parsed, w.get(), token, s.sel.head, app->ui.geo_drag_key, app->ui.geo_drag, delta, &error))
        app_state_set_weights(&s, std::move(w), &error);
    }
  }
  if (ImGui::IsItemDeactivated() && app->ui.geo_drag >= 0) {
    app->ui.geo_drag = -1;
    app_state_end_gesture(&s);
  }
}

}  // namespace attnplay
