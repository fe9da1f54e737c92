// attnplay ui: the Tokens section of the Controls column: the text box, the tokenizer, token chips (click to edit,
// drag to reorder, x to delete) for queries and, with cross-attention, keys.
//
// Index
//   join_tokens, sync_text_boxes   the text boxes follow the config
//   ui_chip_label, apply_tokens    a token as shown; chips edits -> "tokens"
//   token_chips                    the chip row (query or key tokens)
//   ui_text_box, section_tokens    the text box (also in the narrow layout's compact bar) and the section
#include "core/build_info.h"
#include "core/attention.h"
#include "model/config_fields.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include <imgui_stdlib.h>
#include <algorithm>
#include <cmath>
#include <cstdio>

namespace attnplay {

using json = nlohmann::json;

static std::string join_tokens(const std::vector<std::string>& t) {
  std::string s;
  for (size_t i = 0; i < t.size(); ++i) s += (i ? " " : "") + t[i];
  return s;
}

// The text boxes show the config's text, or its tokens joined by spaces once chips were edited.
static void sync_text_boxes(App* app) {
  const json& c = app->state.config;
  if (c.value("mode", std::string()) == "seq2seq") {  // the boxes edit source and target
    auto text = [&c](const char* t, const char* toks) {
      if (c.contains(toks) && c[toks].is_array()) {
        std::vector<std::string> v;
        for (const json& x : c[toks]) v.push_back(x.is_string() ? x.get<std::string>() : x.dump());
        return join_tokens(v);
      }
      return c.contains(t) && c[t].is_string() ? c[t].get<std::string>() : std::string();
    };
    app->ui.text_edit = text("source", "source_tokens");
    app->ui.key_text_edit = text("target", "target_tokens");
    return;
  }
  if (c.contains("tokens") && c["tokens"].is_array()) app->ui.text_edit = join_tokens(app_state_tokens(app->state));
  else if (c.contains("text") && c["text"].is_string()) app->ui.text_edit = c["text"].get<std::string>();
  if (c.contains("key_tokens") && c["key_tokens"].is_array()) app->ui.key_text_edit = join_tokens(app_state_key_tokens(app->state));
  else if (c.contains("key_text") && c["key_text"].is_string()) app->ui.key_text_edit = c["key_text"].get<std::string>();
}

// Shown text of a token: white space made visible.
std::string ui_chip_label(const std::string& t) {
  std::string out;
  for (char ch : t) {
    if (ch == ' ') out += "\xC2\xB7";  // middle dot
    else if (ch == '\n') out += "\\n";
    else if (ch == '\t') out += "\\t";
    else out.push_back(ch);
  }
  return out;
}

void ui_chip_flow(const std::string& label, bool first, float avail, float* x) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const float w = ImGui::CalcTextSize(label.c_str()).x + st.FramePadding.x * 2;
  if (!first && *x + st.ItemSpacing.x + w <= avail) {
    ImGui::SameLine();
    *x += st.ItemSpacing.x + w;
  } else {
    *x = w;
  }
}

// Replaces the query tokens (pruning stranded mask entries) or the key tokens of the config.
static void apply_tokens(App* app, bool keys, std::vector<std::string> tokens) {
  if (tokens.empty()) tokens.push_back("?");  // the tokens field must not be empty
  if (!keys) {
    app_state_set_tokens(&app->state, tokens);
    return;
  }
  json next = app->state.config;
  next["key_tokens"] = tokens;
  ui_edit(app, next);
}

// Token chips: click to edit, right-click for delete/insert, drag to reorder; hover highlights everywhere.
static void token_chips(App* app, bool keys) {
  AppState& s = app->state;
  std::vector<std::string> tokens = keys ? app_state_key_tokens(s) : app_state_tokens(s);
  const bool editable = !s.config.contains("inputs");
  const float avail = ImGui::GetContentRegionAvail().x;
  float x = 0;
  const int hover = keys ? s.sel.hover_key : s.sel.hover_query;
  int& hover_next = keys ? s.sel.hover_key_next : s.sel.hover_query_next;
  const size_t shown = std::min<size_t>(tokens.size(), 512);  // beyond this, the text box is the editor
  for (size_t i = 0; i < shown; ++i) {
    const std::string label = ui_chip_label(tokens[i]);
    ui_chip_flow(label, i == 0, avail, &x);
    ImGui::PushID(int(i) + (keys ? 100000 : 0));
    const bool hl = hover == int(i);
    if (hl) ImGui::PushStyleColor(ImGuiCol_Button, IM_COL32(255, 196, 64, 255));
    if (ImGui::Button(label.c_str()) && editable) {
      app->ui.chip_edit = int(i);
      app->ui.chip_edit_keys = keys;
      app->ui.chip_buf = tokens[i];
      ImGui::OpenPopup("chip");
    }
    if (hl) ImGui::PopStyleColor();
    if (i < 64) app_record(app, std::string(keys ? "key_chip_" : "chip_") + std::to_string(i));
    if (ImGui::IsItemHovered()) {
      hover_next = int(i);
      if (!keys && !s.parsed.cross) s.sel.hover_key_next = int(i);  // self-attention: the token is a row and a column
    }
    if (editable && ImGui::BeginDragDropSource()) {
      const int payload[2] = {int(i), keys ? 1 : 0};
      ImGui::SetDragDropPayload("ATTNPLAY_TOKEN", payload, sizeof payload);
      ImGui::TextUnformatted(label.c_str());
      ImGui::EndDragDropSource();
    }
    if (editable && ImGui::BeginDragDropTarget()) {
      if (const ImGuiPayload* p = ImGui::AcceptDragDropPayload("ATTNPLAY_TOKEN")) {
        const int* from = static_cast<const int*>(p->Data);
        if ((from[1] == 1) == keys && from[0] != int(i) && from[0] < int(tokens.size())) {
          const std::string moved = tokens[size_t(from[0])];
          tokens.erase(tokens.begin() + from[0]);
          tokens.insert(tokens.begin() + int(i), moved);
          apply_tokens(app, keys, tokens);
        }
      }
      ImGui::EndDragDropTarget();
    }
    if (editable && ImGui::BeginPopupContextItem("chip_menu")) {
      auto apply = [&](const std::vector<std::string>& t) { apply_tokens(app, keys, t); };
      if (ImGui::MenuItem(tr(S_DELETE))) {
        tokens.erase(tokens.begin() + int(i));
        apply(tokens);
      }
      if (ImGui::MenuItem(tr(S_INSERT_BEFORE))) {
        tokens.insert(tokens.begin() + int(i), "new");
        apply(tokens);
      }
      if (ImGui::MenuItem(tr(S_INSERT_AFTER))) {
        tokens.insert(tokens.begin() + int(i) + 1, "new");
        apply(tokens);
      }
      ImGui::EndPopup();
    }
    if (app->ui.chip_edit == int(i) && app->ui.chip_edit_keys == keys && ImGui::BeginPopup("chip")) {
      ImGui::TextDisabled(tr(S_TOKEN_N), int(i));
      if (ImGui::IsWindowAppearing()) ImGui::SetKeyboardFocusHere();
      const bool enter = ImGui::InputText("##chip", &app->ui.chip_buf, ImGuiInputTextFlags_EnterReturnsTrue);
      app_record(app, "chip_editor");
      if (ImGui::IsItemActive()) app_record(app, "active_text");
      if ((enter || ImGui::Button(tr_id(S_OK, "ok").c_str())) && !app->ui.chip_buf.empty()) {
        tokens[i] = app->ui.chip_buf;
        apply_tokens(app, keys, tokens);
        ImGui::CloseCurrentPopup();
      }
      ImGui::SameLine();
      if (ImGui::Button(tr_id(S_DELETE, "del").c_str()) && tokens.size() > 1) {
        tokens.erase(tokens.begin() + int(i));
        apply_tokens(app, keys, tokens);
        ImGui::CloseCurrentPopup();
      }
      ImGui::EndPopup();
    }
    ImGui::PopID();
  }
  if (tokens.size() > shown) ImGui::TextDisabled(tr(S_MORE_TOKENS), int(tokens.size() - shown));
  if (editable) {
    if (x + 30 <= avail && !tokens.empty()) ImGui::SameLine();
    ImGui::PushID(keys ? "add_key" : "add");
    if (ImGui::Button("+")) {
      tokens.push_back("new");
      apply_tokens(app, keys, tokens);
    }
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", tr(S_APPEND_TOKEN));
    ImGui::PopID();
  }
}

// The token text box (with its errors): the Tokens section's first line, or the narrow layout's compact bar.
// Mode seq2seq: a sentence box (source or target) with its label; edits set the text and drop the explicit tokens.
static void seq2seq_box(App* app, StrId label, StrId hint, const char* id, const char* field, std::string* buf) {
  ImGui::AlignTextToFramePadding();
  ImGui::TextDisabled("%s", tr(label));
  ImGui::SameLine();
  ImGui::SetNextItemWidth(-1);
  if (ImGui::InputTextWithHint((std::string("##") + id).c_str(), tr(hint), buf)) {
    ui_gesture(app);
    json next = app->state.config;
    next[field] = *buf;
    next.erase(std::string(field) + "_tokens");
    ui_edit(app, next);
  } else {
    ui_gesture(app);
  }
  app_record(app, std::string(id) + "_input");
  if (ImGui::IsItemActive()) app_record(app, "active_text");
  ui_error_for(app, field);
  ui_error_for(app, (std::string(field) + "_tokens").c_str());
}

void ui_text_box(App* app) {
  AppState& s = app->state;
  if (!ImGui::IsAnyItemActive()) sync_text_boxes(app);
  if (s.config.value("mode", std::string()) == "seq2seq") {
    if (app_visible(*app, "text")) {
      seq2seq_box(app, S_SOURCE, S_SOURCE_HINT, "source", "source", &app->ui.text_edit);
      seq2seq_box(app, S_TARGET, S_TARGET_HINT, "target", "target", &app->ui.key_text_edit);
    }
    ui_error_for(app, "text");
    return;
  }
  if (app_visible(*app, "text")) {
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##text", tr(S_TYPE_SENTENCE), &app->ui.text_edit)) {
      ui_gesture(app);
      app_state_set_text(&s, app->ui.text_edit);
    } else {
      ui_gesture(app);
    }
    app_record(app, "text_input");
    if (ImGui::IsItemActive()) app_record(app, "active_text");
  }
  ui_error_for(app, "text");
  ui_error_for(app, "tokens");
}

void section_tokens(App* app) {
  AppState& s = app->state;
  json& c = s.config;
  if (c.contains("inputs")) {
    ui_text_wrapped(tr(S_INPUTS_LABELLED));
    token_chips(app, false);
    return;
  }
  if (app->layout_mode != APP_LAYOUT_NARROW) ui_text_box(app);  // the narrow layout has it in the compact bar
  if (app_state_is_pretrained(s)) {  // the model's own tokenizer: its tokens, not chips to edit
    if (app_visible(*app, "chips")) pretrained_token_chips(app);
    return;
  }
  const ConfigField& tok = config_field("tokenizer");  // spellings from the config field table
  const std::string cur = c.value("tokenizer", std::string(config_enum_name("tokenizer", tok.default_value)));
  if (app_visible(*app, "tokenizer")) {
  ImGui::SetNextItemWidth(ImGui::GetFontSize() * 8);
  if (ImGui::BeginCombo(tr_id(S_TOKENIZER, "tokenizer").c_str(), cur.c_str())) {
    for (const ConfigEnumValue& t : tok.values)
      if (ImGui::Selectable(t.name, cur == t.name)) {
        json next = c;
        next["tokenizer"] = t.name;
        ui_edit(app, next);
      }
    ImGui::EndCombo();
  }
  app_record(app, "tokenizer");
  ui_help_marker(tr(S_TOKENIZER_HELP));
  }
  if (c.value("mode", std::string()) == "seq2seq") return;  // no chips or keys: source and target are the boxes above
  if (app_visible(*app, "chips")) {
    token_chips(app, false);
    ImGui::TextDisabled("%s", tr(S_CHIPS_HELP));
  }
  if (!app_visible(*app, "cross")) return;
  bool cross = c.contains("key_text") || c.contains("key_tokens");
  if (ImGui::Checkbox(tr_id(S_CROSS, "cross").c_str(), &cross)) {
    json next = c;
    if (cross) next["key_text"] = tr(S_CROSS_DEFAULT);
    else {
      next.erase("key_text");
      next.erase("key_tokens");
    }
    ui_edit(app, next);
  }
  app_record(app, "cross");
  if (cross) {
    ImGui::SetNextItemWidth(-1);
    if (ImGui::InputTextWithHint("##key_text", tr(S_KEY_TEXT_HINT), &app->ui.key_text_edit)) {
      ui_gesture(app);
      json next = c;
      next["key_text"] = app->ui.key_text_edit;
      next.erase("key_tokens");
      ui_edit(app, next);
    } else {
      ui_gesture(app);
    }
    app_record(app, "key_text_input");
    if (ImGui::IsItemActive()) app_record(app, "active_text");
    ui_error_for(app, "key_text");
    ui_error_for(app, "key_tokens");
    token_chips(app, true);
  }
}

}  // namespace attnplay
