// attnplay ui: the centre column: the view tabs (or combo) and the arrow keys on heatmaps. Each view is its own file
// (view_*.cpp, declared in views.h); the heatmap grid they share is grid.h; the details column is details.cpp.
//
// Dimension glossary: n_q (query rows), n_k (key columns), heads, layers.
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

// Arrow keys move the explained cell once a heatmap was clicked (or focused and entered); Esc or a click elsewhere
// gives the arrows back to ImGui's keyboard navigation.
void grid_keys(App* app) {
  AppState& s = app->state;
  const ImGuiIO& io = ImGui::GetIO();
  if (io.MouseClicked[0] || io.MouseClicked[1]) app->ui.grid_keys = false;  // a heatmap click sets it again below
  if (!app->ui.grid_keys || io.WantTextInput) return;
  const int n_q = int(s.trace.tokens.size()), n_k = int(s.trace.key_tokens.size());
  int dq = 0, dk = 0;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_UpArrow))) dq = -1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_DownArrow))) dq = 1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_LeftArrow))) dk = -1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_RightArrow))) dk = 1;
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Escape))) app->ui.grid_keys = false;
  if (dq || dk) {
    s.sel.query = std::clamp(s.sel.query + dq, 0, std::max(0, n_q - 1));
    s.sel.key = std::clamp(s.sel.key + dk, 0, std::max(0, n_k - 1));
    ImGui::NavMoveRequestCancel();  // the arrows were the heatmap's, not a move between widgets
  }
}

namespace {

const StrId kBandLabels[TRACE_BAND_COUNT] = {S_BAND_ENCODER, S_BAND_DECODER_SELF, S_BAND_CROSS};
const char* const kBandIds[TRACE_BAND_COUNT] = {"band_encoder", "band_decoder_self", "band_cross"};

float band_selector_width() {
  float w = 0;
  for (StrId id : kBandLabels) w += ImGui::CalcTextSize(tr(id)).x + ImGui::GetFrameHeight() + ImGui::GetStyle().ItemSpacing.x * 2;
  return w;
}

void band_selector(App* app) {
  AppState& s = app->state;
  for (int b = 0; b < TRACE_BAND_COUNT; ++b) {
    if (b) flow(ImGui::CalcTextSize(tr(kBandLabels[b])).x + ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x);
    if (ImGui::RadioButton(tr_id(kBandLabels[b], kBandIds[b]).c_str(), s.sel.band == b)) {
      app_state_set_band(&s, TraceBand(b));
      if (b != TRACE_BAND_CROSS && s.sel.view == APP_VIEW_DECODE) s.sel.view = APP_VIEW_ATTENTION;  // decoding is cross's
    }
    app_record(app, kBandIds[b]);
    ui_item_tooltip(tr(S_BAND_HELP));
  }
}

}  // namespace

void view_attention_tab(App* app) {
  if (app->state.ab.on) view_ab(app);
  else if (!app->state.compare.empty() && app_visible(*app, "compare")) view_compare(app);
  else view_attention(app);
}

bool view_mask_offered(const AppState& s) { return !s.full.seq2seq || s.sel.band == TRACE_BAND_ENCODER; }
bool view_geometry_offered(const AppState& s) { return !s.full.seq2seq && !s.pretrained.on_screen; }
bool view_seq2seq_only(const AppState& s) { return s.full.seq2seq; }

static void panel_views_body(App* app);

// The views, with mode pretrained's status line over them and the last result dimmed while a newer one computes.
void panel_views(App* app) {
  pretrained_status(app);
  const ImVec2 top = ImGui::GetCursorScreenPos();
  panel_views_body(app);
  const ImVec2 pos = ImGui::GetWindowPos(), size = ImGui::GetWindowSize();
  pretrained_dim_views(app, ImVec2(pos.x, top.y), ImVec2(pos.x + size.x, std::max(top.y, pos.y + size.y)));
}

static void panel_views_body(App* app) {
  AppState& s = app->state;
  // Decoding steps are the cross band's rows (a click selects that cell of the cross-attention).
  if (s.sel.view == APP_VIEW_DECODE && s.full.seq2seq && s.sel.band != TRACE_BAND_CROSS) app_state_set_band(&s, TRACE_BAND_CROSS);
  grid_keys(app);
  if (s.stale) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ImGui::TextWrapped(tr(S_SHOWING_LAST_VALID), s.error.c_str());
    ImGui::PopStyleColor();
  }
  if (s.trace.layers.empty()) return;
  auto offered = [&s](int v) { return app_view_offered(s, v); };
  // Tabs where every label fits whole; otherwise one combo (never a tab cut to a letter).
  float tabs_w = 0;  // as ImGui lays tabs out: label + 2 paddings + 1, spaced by the inner spacing
  for (int v = 0; v < APP_VIEW_COUNT; ++v)
    if (offered(v)) tabs_w += ImGui::CalcTextSize(app_view_caption(v)).x + ImGui::GetStyle().FramePadding.x * 2 + 1 + ImGui::GetStyle().ItemInnerSpacing.x;
  const bool tabs = app->page.single_view || !app_visible(*app, "tabs") || tabs_w + 2 <= ImGui::GetContentRegionAvail().x;
  bool first = true;
  if (!tabs) {  // the view picker opens the header line
    ImGui::AlignTextToFramePadding();
    ImGui::TextUnformatted(tr(S_VIEW_PICK));
    ImGui::SameLine();
    float w = 0;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) w = std::max(w, ImGui::CalcTextSize(app_view_caption(v)).x);
    ImGui::SetNextItemWidth(w + ImGui::GetFrameHeight() + ImGui::GetStyle().FramePadding.x * 2);
    if (ImGui::BeginCombo("##view_pick", app_view_caption(s.sel.view))) {
      for (int v = 0; v < APP_VIEW_COUNT; ++v) {
        if (!offered(v)) continue;
        if (ImGui::Selectable(app_view_caption(v), s.sel.view == v)) s.sel.view = AppView(v);
        app_record(app, std::string("pick_") + app_view_tab_id(v));
      }
      ImGui::EndCombo();
    }
    app_record(app, "view_pick");
    first = false;
  }
  if (s.full.seq2seq && app_visible(*app, "head_selector")) {  // which of the three attentions every view shows
    if (!first) flow(band_selector_width());
    band_selector(app);
    first = false;
  }
  if (app_visible(*app, "head_selector")) {
    if (!first) flow(head_selector_width(*app));
    head_selector(app);
    first = false;
  }
  // A/B: start (B = a copy of now), pick the side the controls edit, close.
  if (app_visible(*app, "ab") && !s.trace.imported && !s.pretrained.on_screen) {
    if (!first) flow(ImGui::CalcTextSize(tr(S_AB)).x + ImGui::GetStyle().FramePadding.x * 2);
    if (!s.ab.on) {
      if (ui_small_button(*app, tr_id(S_AB, "ab_start").c_str())) {
        app_state_ab_start(&s);
        s.sel.view = APP_VIEW_ATTENTION;
      }
      app_record(app, "ab_start");
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_AB_HELP));
    } else {
      if (ImGui::RadioButton(tr_id(S_AB_EDIT_A, "ab_edit_a").c_str(), !s.ab.editing_b)) app_state_ab_edit(&s, false);
      app_record(app, "ab_edit_a");
      ImGui::SameLine();
      if (ImGui::RadioButton(tr_id(S_AB_EDIT_B, "ab_edit_b").c_str(), s.ab.editing_b)) app_state_ab_edit(&s, true);
      app_record(app, "ab_edit_b");
      ImGui::SameLine();
      if (ui_small_button(*app, tr_id(S_AB_CLOSE, "ab_close").c_str())) app_state_ab_stop(&s);
      app_record(app, "ab_close");
    }
  }
  if (!offered(s.sel.view)) s.sel.view = APP_VIEW_ATTENTION;
  auto draw_view = [app](AppView v) { app_view_info(app_view_offered(app->state, v) ? v : APP_VIEW_ATTENTION).draw(app); };
  if (app->page.single_view || !app_visible(*app, "tabs")) {  // embed.html?view=...: that view alone
    draw_view(s.sel.view);
    app->ui.shown_view = s.sel.view;
    return;
  }
  if (!tabs) {
    draw_view(s.sel.view);
    app->ui.shown_view = s.sel.view;
    return;
  }
  if (ImGui::BeginTabBar("views", ImGuiTabBarFlags_FittingPolicyScroll)) {
    // state.sel.view is the requested tab (menu, model view, API); a click on a tab changes it once no request is pending.
    const bool pending = int(s.sel.view) != app->ui.shown_view;
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      if (!offered(v)) continue;
      const ImGuiTabItemFlags f = (pending && s.sel.view == v) ? ImGuiTabItemFlags_SetSelected : 0;
      const bool open = ImGui::BeginTabItem((std::string(app_view_caption(v)) + "###" + app_view_tab_id(v)).c_str(), nullptr, f);
      app_record(app, std::string("tab_") + app_view_tab_id(v));
      app_check_label(app, std::string("tab_") + app_view_tab_id(v), app_view_caption(v));
      if (!open) continue;
      if (!pending) s.sel.view = AppView(v);
      app->ui.shown_view = v;
      if (s.sel.view == v) draw_view(AppView(v));
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
}

}  // namespace attnplay
