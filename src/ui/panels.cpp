// attnplay ui: the controls column (tokens, model, attention, mask, history). Every edit goes through
// ui_edit -> app_state_edit and is recomputed in the same frame: there is no "apply" button. The Tokens section is
// panel_tokens.cpp; enum choices and limits come from the config field table (model/config_fields.h).
//
// Index
//   ui_edit, ui_small_button, ui_gesture, ui_error_for, ui_help_marker   shared by the panels
//   enum_combo, section_model                 mode, d_model, heads, kv_heads, seed, the Transformer's fields
//   kind_combo, causal_checkbox, panel_compact_bar   also in the narrow layout's bar under the view
//   section_attention, section_mask           kind, scale, temperature, d_a; causal, window, padding, cells
//   panel_controls, ui_about                  the column; the build (SIMD, GL, Eigen, build type)
#include "core/build_info.h"
#include "core/attention.h"
#include "core/gemm.h"
#include "model/config_edit.h"
#include "model/config_fields.h"
#include "ui/grid.h"
#include "ui/i18n.h"
#include "ui/panels.h"

#include <imgui_stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnplay {

using json = nlohmann::json;

bool ui_edit(App* app, const json& next) { return app_state_edit(&app->state, next); }

bool ui_small_button(const App& app, const char* label) {
  return app.layout_mode == APP_LAYOUT_NARROW ? ImGui::Button(label) : ImGui::SmallButton(label);
}

void ui_gesture(App* app) {
  if (ImGui::IsItemActivated()) app_state_begin_gesture(&app->state);
  if (ImGui::IsItemDeactivated()) app_state_end_gesture(&app->state);
}

void ui_error_for(App* app, const char* field) {
  if (const char* e = app_state_error_for(app->state, field)) {
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ui_text_wrapped(e);
    ImGui::PopStyleColor();
  }
}

void ui_item_tooltip(const char* text) {
  if (!ImGui::IsItemHovered()) return;
  ImGui::BeginTooltip();
  ImGui::PushTextWrapPos(ImGui::GetFontSize() * 28);
  ImGui::TextUnformatted(text);
  ImGui::PopTextWrapPos();
  ImGui::EndTooltip();
}

void ui_help_marker(const char* text) {
  ImGui::SameLine();
  ImGui::TextDisabled("(?)");
  ui_item_tooltip(text);
}

// A combo over an ENUM row of the config field table, editing *value (a JSON string); true when changed.
static bool enum_combo(const char* label, const char* path, nlohmann::json* value) {
  const ConfigField& f = config_field(path);
  const std::string cur = value->is_string() ? value->get<std::string>() : config_enum_name(path, f.default_value);
  bool changed = false;
  if (ImGui::BeginCombo(label, cur.c_str())) {
    for (const ConfigEnumValue& v : f.values)
      if (ImGui::Selectable(v.name, cur == v.name)) {
        *value = v.name;
        changed = true;
      }
    ImGui::EndCombo();
  }
  return changed;
}

static int config_int(const json& c, const char* key, int def) {
  const json& v = c.contains(key) ? c[key] : json();
  return v.is_number() ? v.get<int>() : def;
}

static void section_model(App* app) {
  AppState& s = app->state;
  json c = s.config;
  const float w = ImGui::GetFontSize() * 7;
  const std::string mode_name = c.value("mode", std::string("attention"));
  const bool s2s = mode_name == "seq2seq", tf = mode_name == "transformer" || s2s;  // seq2seq: the Transformer's fields too
  const int mode = s2s ? 2 : tf ? 1 : 0;
  if (app_visible(*app, "mode")) {
    const StrId labels[3] = {S_MODE_ATTENTION, S_MODE_TRANSFORMER, S_MODE_SEQ2SEQ};
    const char* ids[3] = {"mode_a", "mode_t", "mode_s"};
    const char* names[3] = {"mode_attention", "mode_transformer", "mode_seq2seq"};
    for (int m = 0; m < 3; ++m) {
      if (m) flow(ImGui::CalcTextSize(tr(labels[m])).x + ImGui::GetFrameHeight() + ImGui::GetStyle().ItemInnerSpacing.x);
      if (ImGui::RadioButton(tr_id(labels[m], ids[m]).c_str(), mode == m) && mode != m) ui_edit(app, config_json_switch_mode(c, ModelMode(m)));
      app_record(app, names[m]);
    }
  }
  ui_error_for(app, "mode");
  if (c.contains("inputs")) {
    ImGui::TextDisabled("%s", tr(S_DIMS_FROM_INPUTS));
    return;
  }
  int d_model = config_int(c, "d_model", 16);
  ImGui::SetNextItemWidth(w);
  if (app_visible(*app, "d_model") && ImGui::InputInt("d_model", &d_model, 1, 8)) { c["d_model"] = std::max(1, d_model); ui_edit(app, c); }
  app_record(app, "d_model");
  ui_error_for(app, "d_model");
  // heads: the divisors of d_model (the valid choices); an invalid current value is shown and explained.
  const int heads = config_int(c, "heads", 2);
  char label[32];
  std::snprintf(label, sizeof label, "%d", heads);
  ImGui::SetNextItemWidth(w);
  if (app_visible(*app, "heads") && ImGui::BeginCombo(tr_id(S_HEADS, "heads").c_str(), label)) {
    for (int h = 1; h <= std::min(int(config_field("heads").max), std::max(1, d_model)); ++h) {
      if (d_model % h) continue;
      std::snprintf(label, sizeof label, "%d", h);
      if (ImGui::Selectable(label, h == heads)) {
        c["heads"] = h;
        if (c.contains("kv_heads") && c["kv_heads"].is_number_integer() && h % c["kv_heads"].get<int>() != 0)
          c.erase("kv_heads");  // no longer a divisor: back to one key/value head per query head
        ui_edit(app, c);
      }
      app_record(app, std::string("heads_item_") + label);
    }
    ImGui::EndCombo();
  }
  app_record(app, "heads");
  ui_help_marker(tr(S_HEADS_HELP));
  ui_error_for(app, "heads");
  // kv_heads: the divisors of heads (grouped-query attention); absent means one per query head.
  if (app_visible(*app, "heads") && heads > 1) {
    const bool set = c.contains("kv_heads") && !c["kv_heads"].is_null();
    const int kv = set && c["kv_heads"].is_number_integer() ? c["kv_heads"].get<int>() : heads;
    std::snprintf(label, sizeof label, "%d", kv);
    ImGui::SetNextItemWidth(w);
    if (ImGui::BeginCombo(tr_id(S_KV_HEADS, "kv_heads").c_str(), set ? label : tr(S_KV_HEADS_ALL))) {
      if (ImGui::Selectable(tr(S_KV_HEADS_ALL), !set)) { c.erase("kv_heads"); ui_edit(app, c); }
      for (int g = 1; g < heads; ++g) {
        if (heads % g) continue;
        std::snprintf(label, sizeof label, "%d", g);
        if (ImGui::Selectable(label, set && g == kv)) { c["kv_heads"] = g; ui_edit(app, c); }
        app_record(app, std::string("kv_heads_item_") + label);
      }
      ImGui::EndCombo();
    }
    app_record(app, "kv_heads");
    ui_help_marker(tr(S_KV_HEADS_HELP));
    ui_error_for(app, "kv_heads");
  }
  bool custom = !c["d_k"].is_null() || !c["d_v"].is_null();
  if (ImGui::Checkbox(tr_id(S_CUSTOM_DKDV, "custom_dk").c_str(), &custom)) {
    if (custom) {
      c["d_k"] = s.parsed.d_k;
      c["d_v"] = s.parsed.d_v;
    } else {
      c["d_k"] = nullptr;
      c["d_v"] = nullptr;
    }
    ui_edit(app, c);
  }
  if (custom) {
    int dk = config_int(c, "d_k", s.parsed.d_k), dv = config_int(c, "d_v", s.parsed.d_v);
    ImGui::SetNextItemWidth(w);
    if (ImGui::InputInt("d_k", &dk)) { c["d_k"] = std::max(1, dk); ui_edit(app, c); }
    ui_error_for(app, "d_k");
    ImGui::SetNextItemWidth(w);
    if (ImGui::InputInt("d_v", &dv)) { c["d_v"] = std::max(1, dv); ui_edit(app, c); }
    ui_error_for(app, "d_v");
  }
  int seed = config_int(c, "seed", 1);
  if (!app_visible(*app, "seed")) goto transformer;
  ImGui::SetNextItemWidth(w);
  if (ImGui::InputInt(tr_id(S_SEED, "seed").c_str(), &seed)) { c["seed"] = std::max(0, seed); ui_edit(app, c); }
  app_record(app, "seed");
  ImGui::SameLine();
  if (ui_small_button(*app, tr_id(S_NEW_SEED, "new_seed").c_str())) { c["seed"] = (seed * 1103515245u + 12345u) % 100000u; ui_edit(app, c); }
  ui_error_for(app, "seed");
transformer:
  if (!app_visible(*app, "transformer")) return;
  if (!ImGui::TreeNodeEx(tr_id(S_TRANSFORMER, "transformer").c_str(), tf ? ImGuiTreeNodeFlags_DefaultOpen : 0)) return;
  json& t = c["transformer"];
  int layers = t.value("layers", 2);
  ImGui::SetNextItemWidth(w);
  const ConfigField& lf = config_field("transformer.layers");
  if (ImGui::SliderInt(tr_id(S_LAYERS, "layers").c_str(), &layers, int(lf.min), int(lf.max))) { ui_gesture(app); t["layers"] = layers; ui_edit(app, c); } else ui_gesture(app);
  app_record(app, "layers");
  ui_error_for(app, "transformer.layers");
  if (s2s) {  // the decoder's layers and its cross-attention's kind (cross_attention.kind; default: attention's)
    int dl = t.contains("decoder_layers") && t["decoder_layers"].is_number_integer() ? t["decoder_layers"].get<int>() : layers;
    ImGui::SetNextItemWidth(w);
    const ConfigField& df = config_field("transformer.decoder_layers");
    if (ImGui::SliderInt(tr_id(S_DECODER_LAYERS, "decoder_layers").c_str(), &dl, int(df.min), int(df.max))) { ui_gesture(app); t["decoder_layers"] = dl; ui_edit(app, c); } else ui_gesture(app);
    app_record(app, "decoder_layers");
    ui_error_for(app, "transformer.decoder_layers");
    json& ca = c["cross_attention"];
    if (!ca.is_object()) ca = json::object();
    json kind = ca.contains("kind") ? ca["kind"] : c["attention"].value("kind", json());
    ImGui::SetNextItemWidth(w);
    if (enum_combo(tr_id(S_CROSS_KIND, "cross_kind").c_str(), "cross_attention.kind", &kind)) { ca["kind"] = kind; ui_edit(app, c); }
    app_record(app, "cross_kind");
    ui_error_for(app, "cross_attention");
  }
  int d_ff = t.value("d_ff", 64);
  ImGui::SetNextItemWidth(w);
  const ConfigField& ff = config_field("transformer.d_ff");
  if (ImGui::InputInt("d_ff", &d_ff, 1, 16)) { t["d_ff"] = std::clamp<long long>(d_ff, ff.min, ff.max); ui_edit(app, c); }
  ui_error_for(app, "transformer.d_ff");
  ImGui::SetNextItemWidth(w);
  if (enum_combo(tr_id(S_ACTIVATION, "activation").c_str(), "transformer.activation", &t["activation"])) ui_edit(app, c);
  bool nf = t.value("norm_first", false);
  if (ImGui::Checkbox(tr_id(S_NORM_FIRST, "norm_first").c_str(), &nf)) { t["norm_first"] = nf; ui_edit(app, c); }
  ImGui::SetNextItemWidth(w);
  if (enum_combo(tr_id(S_POSITIONS, "positions").c_str(), "transformer.positional", &t["positional"])) ui_edit(app, c);
  app_record(app, "positions");
  ui_help_marker(tr(S_POSITIONS_HELP));
  ui_error_for(app, "transformer");
  ImGui::TreePop();
}

// The attention kind (a combo recorded as `name`); returns the current kind's index.
static int kind_combo(App* app, float w, const char* name) {
  json c = app->state.config;
  json& a = c["attention"];
  const ConfigField& kf = config_field("attention.kind");  // spellings from the table, labels in the UI language
  int ki = kf.default_value;
  if (a.contains("kind") && a["kind"].is_string()) config_enum_value("attention.kind", a["kind"].get<std::string>(), &ki);
  ImGui::SetNextItemWidth(w);
  if (app_visible(*app, "kind") && ImGui::BeginCombo(tr_id(S_KIND, "kind").c_str(), kind_label(AttentionKind(ki)))) {
    for (const ConfigEnumValue& k : kf.values)
      if (ImGui::Selectable(kind_label(AttentionKind(k.value)), k.value == ki)) { a["kind"] = k.name; ui_edit(app, c); }
    ImGui::EndCombo();
  }
  app_record(app, name);
  return ki;
}

// The causal checkbox (recorded as `name`).
static void causal_checkbox(App* app, const char* name) {
  json c = app->state.config;
  json& m = c["attention"]["mask"];
  bool causal = m.value("causal", false);
  // A causal checkpoint (GPT-2, Llama, Qwen2) is causal whatever the config says: shown ticked, not editable.
  const bool fixed = app->state.pretrained.on_screen && app->state.trace.attention.spec.mask.causal && !causal;
  ImGui::BeginDisabled(fixed);
  if (fixed) causal = true;
  if (app_visible(*app, "causal") && ImGui::Checkbox(tr_id(S_CAUSAL, "causal").c_str(), &causal) && !fixed) { m["causal"] = causal; ui_edit(app, c); }
  ImGui::EndDisabled();
  app_record(app, name);
}

void panel_compact_bar(App* app) {
  ui_text_box(app);
  if (app->state.config.contains("inputs")) return;
  const AppView v = app->state.sel.view;
  ImGui::PushID("bar");  // the same controls may also be open in the Controls section below
  if (v == APP_VIEW_ATTENTION || v == APP_VIEW_MASK || v == APP_VIEW_HEADS) causal_checkbox(app, "bar_causal");
  if (v == APP_VIEW_ATTENTION) {  // on the same line where the longest kind's name fits whole
    const ImGuiStyle& st = ImGui::GetStyle();
    float name_w = 0;
    for (int k = 0; k < ATTENTION_KIND_COUNT; ++k) name_w = std::max(name_w, ImGui::CalcTextSize(kind_label(AttentionKind(k))).x);
    const float combo_w = name_w + ImGui::GetFrameHeight() + st.FramePadding.x * 2;
    const float label_w = ImGui::CalcTextSize(tr(S_KIND)).x + st.ItemInnerSpacing.x;
    ImGui::SameLine();
    if (ImGui::GetContentRegionAvail().x < combo_w + label_w) ImGui::NewLine();
    kind_combo(app, combo_w, "bar_kind");
  }
  ImGui::PopID();
}

// Temperature divides every kind's scores (and a real model's).
static void temperature_slider(App* app, json c, float w) {
  json& a = c["attention"];
  float temp = a.value("temperature", 1.0f);
  ImGui::SetNextItemWidth(w);
  if (!app_visible(*app, "temperature")) {
  } else if (ImGui::SliderFloat(tr_id(S_TEMPERATURE, "temperature").c_str(), &temp, 0.01f, 100.0f, "%.3g", ImGuiSliderFlags_Logarithmic)) {
    ui_gesture(app);
    a["temperature"] = std::max(1e-6f, temp);
    ui_edit(app, c);
  } else {
    ui_gesture(app);
  }
  app_record(app, "temperature");
  ui_help_marker(tr(S_TEMPERATURE_HELP));
  ui_error_for(app, "attention.temperature");
}

static void section_attention(App* app) {
  json c = app->state.config;
  json& a = c["attention"];
  const float w = ImGui::GetFontSize() * 9;
  if (app_state_is_pretrained(app->state)) {  // the model fixes kind and scale (SPEC §9)
    ImGui::TextDisabled("%s", tr(S_PT_KIND_FIXED));
    temperature_slider(app, c, w);
    return;
  }
  const std::string kind = a.value("kind", std::string(config_enum_name("attention.kind", config_field("attention.kind").default_value)));
  const int ki = kind_combo(app, w, "kind");
  ui_help_marker(tr(S_KIND_HELP));
  ui_error_for(app, "attention.kind");
  // scale: sqrt_dk | dk | none | a number
  const json sc = a.contains("scale") ? a["scale"] : json("sqrt_dk");
  int si = sc.is_number() ? 3 : sc == "dk" ? 1 : sc == "none" ? 2 : 0;
  const char* scales[] = {tr(S_SCALE_SQRT), tr(S_SCALE_DK), tr(S_SCALE_NONE), tr(S_SCALE_NUMBER)};
  ImGui::SetNextItemWidth(w);
  if (app_visible(*app, "scale") && ImGui::BeginCombo(tr_id(S_SCALE, "scale").c_str(), scales[si])) {
    for (int i = 0; i < 4; ++i)
      if (ImGui::Selectable(scales[i], i == si)) {
        a["scale"] = i == 0 ? json("sqrt_dk") : i == 1 ? json("dk") : i == 2 ? json("none") : json(std::sqrt(double(app->state.parsed.d_k)));
        ui_edit(app, c);
      }
    ImGui::EndCombo();
  }
  app_record(app, "scale");
  if (si == 3) {
    float v = sc.get<float>();
    ImGui::SetNextItemWidth(w);
    if (ImGui::InputFloat(tr_id(S_DIVISOR, "divisor").c_str(), &v, 0.1f, 1.0f, "%.4g")) { a["scale"] = v; ui_edit(app, c); }
  }
  if (!attention_kind_scaled(AttentionKind(ki))) ImGui::TextDisabled(tr(S_NEVER_SCALED), kind_label(AttentionKind(ki)));
  ui_error_for(app, "attention.scale");
  temperature_slider(app, c, w);
  AttentionKind kind_value = ATTENTION_KIND_SCALED_DOT;
  if (attention_kind_from_name(kind.c_str(), &kind_value) && attention_kind_info(kind_value).extras == ATTENTION_EXTRA_W_U_V) {  // d_a
    int d_a = a.contains("d_a") && a["d_a"].is_number() ? a["d_a"].get<int>() : app->state.parsed.d_a;
    ImGui::SetNextItemWidth(w);
    const ConfigField& da = config_field("attention.d_a");  // the slider stops at 64; typing allows the table's max
    if (ImGui::SliderInt("d_a", &d_a, int(da.min), std::min(64, int(da.max)))) { ui_gesture(app); a["d_a"] = d_a; ui_edit(app, c); } else ui_gesture(app);
    ui_error_for(app, "attention.d_a");
  }
}

static void section_mask(App* app) {
  AppState& s = app->state;
  json c = s.config;
  json& m = c["attention"]["mask"];
  causal_checkbox(app, "causal");
  ui_error_for(app, "attention.mask.causal");
  bool windowed = m.contains("window") && m["window"].is_number();
  if (!app_visible(*app, "window")) windowed = false;
  else if (ImGui::Checkbox(tr_id(S_WINDOW, "window").c_str(), &windowed)) { m["window"] = windowed ? json(2) : json(nullptr); ui_edit(app, c); }
  app_record(app, "window_on");
  if (windowed) {
    int wv = m["window"].get<int>();
    ImGui::SameLine();
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 7);
    if (ImGui::SliderInt("##window", &wv, 0, std::max(1, std::max(int(s.trace.tokens.size()), int(s.trace.key_tokens.size()))))) {
      ui_gesture(app);
      m["window"] = wv;
      ui_edit(app, c);
    } else {
      ui_gesture(app);
    }
    app_record(app, "window");
  }
  ui_error_for(app, "attention.mask.window");
  if (app_visible(*app, "padding")) {
  ImGui::TextUnformatted(tr(S_PADDING_HELP));
  const std::vector<std::string> keys = app_state_key_tokens(s);
  std::vector<int> pad;
  if (m["padding"].is_array())
    for (const json& p : m["padding"])
      if (p.is_number_integer()) pad.push_back(p.get<int>());
  const float avail = ImGui::GetContentRegionAvail().x;
  float x = 0;
  for (size_t j = 0; j < keys.size() && j < 256; ++j) {
    const std::string label = ui_chip_label(keys[j]);
    const float bw = ImGui::CalcTextSize(label.c_str()).x + ImGui::GetStyle().FramePadding.x * 2;
    if (j > 0 && x + ImGui::GetStyle().ItemSpacing.x + bw <= avail) {
      ImGui::SameLine();
      x += ImGui::GetStyle().ItemSpacing.x + bw;
    } else {
      x = bw;
    }
    const bool padded = std::find(pad.begin(), pad.end(), int(j)) != pad.end();
    ImGui::PushID(int(j) + 200000);
    if (padded) ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(110, 110, 110, 255));
    if (padded) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(235, 235, 235, 255));
    if (ui_small_button(*app, label.c_str())) app_state_toggle_padding(&s, int(j));
    if (padded) ImGui::PopStyleColor(2);
    if (ImGui::IsItemHovered()) s.sel.hover_key_next = int(j);
    if (j < 64) app_record(app, "pad_" + std::to_string(j));
    ImGui::PopID();
  }
  }
  ui_error_for(app, "attention.mask.padding");
  if (!app_visible(*app, "cells")) return;
  const size_t n_cells = m["cells"].is_array() ? m["cells"].size() : 0;
  ImGui::Text(tr(S_PAINTED_CELLS), int(n_cells));
  ImGui::SameLine();
  if (ui_small_button(*app, tr_id(S_CLEAR, "clear_cells").c_str())) { m["cells"] = json::array(); ui_edit(app, c); }
  ui_error_for(app, "attention.mask.cells");
  ImGui::TextDisabled("%s", tr(S_PAINT_HINT));
  ImGui::Checkbox(tr_id(S_PAINT_ON_WEIGHTS, "paint_on_weights").c_str(), &app->ui.paint_on_weights);
}

void panel_controls(App* app) {
  AppState& s = app->state;
  if (!s.error.empty()) {  // an invalid edit, or a refused URL at start-up
    ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(192, 32, 32, 255));
    ImGui::TextWrapped(tr(S_INVALID), s.error.c_str());
    ImGui::PopStyleColor();
    ImGui::TextDisabled("%s", tr(S_LAST_VALID));
    app_record(app, "error_banner");
    ImGui::Separator();
  }
  const App& a = *app;
  if (app_visible(a, "tokens") && ImGui::CollapsingHeader(tr_id(S_TOKENS, "h_tokens").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) section_tokens(app);
  const bool pretrained = app_state_is_pretrained(s);
  if (app_visible(a, "model") && ImGui::CollapsingHeader(tr_id(S_MODEL, "h_model").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
    if (pretrained) section_pretrained(app);
    else section_model(app);
  }
  if (app_visible(a, "attention") && ImGui::CollapsingHeader(tr_id(S_ATTENTION, "h_attention").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) section_attention(app);
  if (app_visible(a, "mask") && ImGui::CollapsingHeader(tr_id(S_MASK, "h_mask").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) section_mask(app);
  if (!pretrained && app_visible(a, "train") && ImGui::CollapsingHeader(tr_id(S_TRAIN, "h_train").c_str(), app->training.started ? ImGuiTreeNodeFlags_DefaultOpen : 0)) {
    app_record(app, "h_train");
    section_train(app);
  } else if (!pretrained) {
    app_record(app, "h_train");
  }
  if (app_visible(a, "history") && ImGui::CollapsingHeader(tr_id(S_HISTORY, "h_history").c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
    ImGui::BeginDisabled(s.undo.empty());
    if (ImGui::Button(tr_id(S_UNDO, "undo").c_str())) app_state_undo(&s);
    ImGui::EndDisabled();
    app_record(app, "undo");
    ImGui::SameLine();
    ImGui::BeginDisabled(s.redo.empty());
    if (ImGui::Button(tr_id(S_REDO, "redo").c_str())) app_state_redo(&s);
    ImGui::EndDisabled();
    app_record(app, "redo");
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_RESET, "reset").c_str())) app_state_reset(&s);
    app_record(app, "reset");
    ImGui::TextDisabled("%s", tr(S_SHORTCUTS));
  }
}

void ui_about(App* app) {
  ImGui::Text(tr(S_VERSION), build_version());
  ImGui::Text(tr(S_BUILD_TYPE), build_type());
  ImGui::Text(tr(S_PLATFORM), app->host->platform.c_str());
  ImGui::Text(tr(S_SIMD), core_simd_enabled() ? tr(S_ON) : tr(S_OFF));
  // Which GEMM runs the products: relaxed SIMD (fused multiply-add) where the browser validates it, else SIMD128.
  ImGui::Text(tr(S_KERNELS), gemm_kernel_name());
  ImGui::TextWrapped(tr(S_EIGEN), EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION,
                     core_simd_instruction_sets().c_str());
  ImGui::TextWrapped(tr(S_GL), app->host->gl_version.c_str());
  ImGui::TextWrapped(tr(S_GLSL), app->host->glsl_version.c_str());
  ImGui::TextWrapped(tr(S_RENDERER), app->host->gl_renderer.c_str());
  ImGui::Text(tr(S_IMGUI), IMGUI_VERSION);
  ImGui::TextWrapped(tr(S_FONT), app->cjk_font.empty() ? tr(S_FONT_DEFAULT) : app->font_name.c_str());
  ImGui::Text(tr(S_TIMINGS), app->state.last_compute_ms, app->frame_ms);
}

}  // namespace attnplay
