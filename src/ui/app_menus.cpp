// attnplay ui: the menu bar (File: open, import, export, share; Edit; View: language, scale, layout; Presets; Help),
// keyboard shortcuts, the desktop's file dialogs and the one-shot notices. Declared in panels.h.
//
// Index
//   app_shortcuts      Ctrl+Z / Ctrl+Y / Ctrl+S ...
//   export_menu        File -> Export: PNG at 2x, window PNG, CSV, JSON, config, safetensors, workspace
//   app_main_menu      the menu bar
//   app_file_dialogs   save / import by path when the host has no file picker (desktop)
//   app_notices        short messages shown once
#include "ui/app.h"
#include "model/attention_import.h"
#include "model/safetensors.h"
#include "core/build_info.h"
#include "model/tokenizer.h"
#include "ui/export.h"
#include "ui/i18n.h"
#include "ui/panels.h"
#include "ui/presets.h"
#include "ui/share.h"
#include <algorithm>
#include <imgui_internal.h>
#include <imgui_stdlib.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <fstream>

#include <sys/stat.h>

namespace attnplay {

void app_shortcuts(App* app) {
  ImGuiIO& io = ImGui::GetIO();
  if (io.WantTextInput || !io.KeyCtrl || app->page.readonly) return;  // text boxes keep Ctrl+Z for their own text
  if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Z), false)) {
    if (io.KeyShift) app_state_redo(&app->state);
    else app_state_undo(&app->state);
  } else if (ImGui::IsKeyPressed(ImGui::GetKeyIndex(ImGuiKey_Y), false)) {
    app_state_redo(&app->state);
  }
}

static void export_menu(App* app) {
  std::string base = export_basename(*app);
  if (ImGui::MenuItem(tr(S_EXPORT_VIEW_PNG))) app->capture = APP_CAPTURE_VIEWS;
  app_record(app, "export_view_png");
  if (ImGui::MenuItem(tr(S_EXPORT_WINDOW_PNG))) app->capture = APP_CAPTURE_WINDOW;
  app_record(app, "export_window_png");
  if (ImGui::MenuItem(tr(S_EXPORT_CSV))) app_deliver_file(app, base + ".csv", "text/csv", export_csv(*app));
  app_record(app, "export_csv");
  if (ImGui::MenuItem(tr(S_EXPORT_JSON))) app_deliver_file(app, base + ".json", "application/json", export_matrices_json(*app));
  app_record(app, "export_json");
  if (ImGui::MenuItem(tr(S_EXPORT_CONFIG))) app_deliver_file(app, "attnplay-config.json", "application/json", export_config_json(*app));
  app_record(app, "export_config");
  if (ImGui::MenuItem(tr(S_EXPORT_WEIGHTS), nullptr, false, !app->state.parsed.inputs.present)) {
    std::string bytes, error;
    if (export_weights(*app, &bytes, &error)) app_deliver_file(app, "attnplay-weights.safetensors", "application/octet-stream", bytes);
    else app->notices.push_back(error);
  }
  app_record(app, "export_weights");
  if (ImGui::MenuItem(tr(S_EXPORT_WORKSPACE))) {
    const std::vector<uint8_t> record = workspace_encode(app_workspace_capture(*app));
    app_deliver_file(app, "attnplay-workspace.attnplay", "application/octet-stream",
                     std::string(record.begin(), record.end()));
  }
  app_record(app, "export_workspace");
}

void app_main_menu(App* app) {
  if (!app_visible(*app, "menu") || !ImGui::BeginMainMenuBar()) return;
  AppState& s = app->state;
  const bool ro = app->page.readonly;
  if (ImGui::BeginMenu(tr_id(S_MENU_FILE, "m_file").c_str())) {
    if (ImGui::MenuItem(tr(S_IMPORT_CONFIG), nullptr, false, !ro)) {
      if (!app->host->open_config()) app->ui.import_dialog = true;
    }
    app_record(app, "import_config");
    // A real checkpoint: the page's folder picker; the desktop asks for the folder's path (the same dialog).
    if (ImGui::MenuItem(tr(S_PT_OPEN), nullptr, false, !ro)) {
      if (!app->pretrained_host || !app->pretrained_host->open_model()) app->ui.import_dialog = true;
    }
    app_record(app, "menu_open_model");
    if (ImGui::BeginMenu(tr_id(S_EXPORT, "m_export").c_str())) {
      export_menu(app);
      ImGui::EndMenu();
    }
    app_record(app, "menu_export");
    if (!ro) ImGui::TextDisabled("%s", tr(S_DROP_HINT));
    ImGui::EndMenu();
  }
  app_record(app, "menu_file");
  if (ImGui::BeginMenu(tr_id(S_MENU_EDIT, "m_edit").c_str(), !ro)) {
    if (ImGui::MenuItem(tr(S_UNDO), "Ctrl+Z", false, !s.undo.empty())) app_state_undo(&s);
    if (ImGui::MenuItem(tr(S_REDO), "Ctrl+Y", false, !s.redo.empty())) app_state_redo(&s);
    if (ImGui::MenuItem(tr(S_RESET))) app_state_reset(&s);
    ImGui::EndMenu();
  }
  if (ImGui::BeginMenu(tr_id(S_MENU_PRESETS, "m_presets").c_str(), !ro)) {
    for (const Preset& p : presets()) {
      if (ImGui::MenuItem(tr(p.title), nullptr, s.preset_id == p.id)) app_state_load_preset(&s, p.id);
      app_record(app, "preset_" + p.id);
    }
    ImGui::EndMenu();
  }
  app_record(app, "menu_presets");
  app->ui.view_menu_open = false;
  if (ImGui::BeginMenu(tr_id(S_MENU_VIEW, "m_view").c_str())) {
    app->ui.view_menu_open = true;
    for (int v = 0; v < APP_VIEW_COUNT; ++v)
      if (app_view_offered(s, v) && ImGui::MenuItem(app_view_caption(v), nullptr, s.sel.view == v)) s.sel.view = AppView(v);
    ImGui::Separator();
    ImGui::TextDisabled("%s", tr(S_UI_SCALE));
    for (float f : {1.0f, 1.25f, 1.5f, 2.0f}) {
      char label[16];
      std::snprintf(label, sizeof label, "%d%%", int(f * 100 + 0.5f));
      if (ImGui::MenuItem(label, nullptr, app->ui_scale == f)) app->ui_scale = f;
    }
    ImGui::Separator();
    ImGui::TextDisabled("%s", tr(S_LANGUAGE));
    if (ImGui::MenuItem("English", nullptr, app->lang == LANG_EN)) app->lang = LANG_EN;
    app_record(app, "lang_en");
    if (ImGui::MenuItem(kZhMenuLabel, nullptr, app->lang == LANG_ZH)) app->lang = LANG_ZH;
    app_record(app, "lang_zh");
    ImGui::EndMenu();
  }
  app_record(app, "menu_view");
  if (ImGui::BeginMenu(tr_id(S_MENU_SHARE, "m_share").c_str())) {
    if (ImGui::MenuItem(tr(S_COPY_LINK))) {
      const std::string q = share_query(*app);
      if (!app->host->copy_link(q)) {
        app->link = "?" + q;
        ImGui::SetClipboardText(app->link.c_str());
        app->notices.push_back(std::string(tr(S_LINK_COPIED)) + " " + app->link.substr(0, 80) + (app->link.size() > 80 ? "..." : ""));
      }
    }
    app_record(app, "copy_link");
    ImGui::EndMenu();
  }
  app_record(app, "menu_share");
  if (ImGui::BeginMenu(tr_id(S_MENU_HELP, "m_help").c_str())) {
    if (ImGui::MenuItem(tr(S_ABOUT_MENU))) app->ui.show_about = true;
    ImGui::EndMenu();
  }
  if (ro) {
    ImGui::SameLine();
    ImGui::TextDisabled("(%s)", tr(S_READONLY));
  }
  const float version_x = ImGui::GetWindowWidth() - ImGui::CalcTextSize("attnplay 0.0.0").x - 16 * app->ui_scale;
  if (version_x > ImGui::GetCursorPosX() + 8) {  // where it fits (About always shows it)
    ImGui::SameLine(version_x);
    ImGui::TextDisabled("attnplay %s", build_version());
  }
  ImGui::EndMainMenuBar();
}

// Save-as and import-by-path dialogs of the desktop (the web hands files to the browser instead).
void app_file_dialogs(App* app) {
  if (app->ui.save_dialog) {
    ImGui::OpenPopup("###save_as");
    app->ui.save_dialog = false;
  }
  if (ImGui::BeginPopupModal(tr_id(S_SAVE_AS, "save_as").c_str(), nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    ImGui::InputText("##path", &app->save_path);
    app_record(app, "save_path");
    const bool save = ImGui::Button(tr_id(S_SAVE, "save").c_str());
    app_record(app, "save_button");
    if (save) {
      std::ofstream f(app->save_path, std::ios::binary);
      char buf[1024];
      if (f && f.write(app->save_bytes.data(), std::streamsize(app->save_bytes.size()))) {
        std::snprintf(buf, sizeof buf, tr(S_SAVED_TO), app->save_path.c_str());
      } else {
        std::snprintf(buf, sizeof buf, tr(S_SAVE_FAILED), app->save_path.c_str(), "cannot write");
      }
      app->notices.push_back(buf);
      app->save_bytes.clear();
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_CANCEL, "cancel").c_str())) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
  if (app->ui.import_dialog) {
    ImGui::OpenPopup("###import");
    app->ui.import_dialog = false;
  }
  if (ImGui::BeginPopupModal(tr_id(S_IMPORT_PATH, "import").c_str(), nullptr, ImGuiWindowFlags_AlwaysAutoResize)) {
    ImGui::SetNextItemWidth(ImGui::GetFontSize() * 30);
    ImGui::InputText("##import_path", &app->ui.import_path);
    if (ImGui::Button(tr_id(S_LOAD, "load").c_str())) {
      struct stat st {};
      if (stat(app->ui.import_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {  // (not <filesystem>: its code would
                                                                                 //   weigh on the page's module)
        std::string error;  // a model folder (config.json, model.safetensors, tokenizer.json): mode pretrained on it
        if (!app_state_merge(&app->state, nlohmann::json{{"mode", "pretrained"}, {"model", app->ui.import_path}}, &error))
          app->notices.push_back(error);
      } else {
        std::ifstream f(app->ui.import_path, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (!f.good() && text.empty()) app->notices.push_back(app->ui.import_path + ": cannot read");
        else app_import(app, text, app->ui.import_path);
      }
      ImGui::CloseCurrentPopup();
    }
    ImGui::SameLine();
    if (ImGui::Button(tr_id(S_CANCEL, "cancel2").c_str())) ImGui::CloseCurrentPopup();
    ImGui::EndPopup();
  }
}

// The newest notices, bottom centre, for a few seconds.
void app_notices(App* app) {
  std::vector<std::string>& showing = app->ui.notices_shown;
  const double now = ImGui::GetTime();
  if (!app->notices.empty()) {
    showing = app->notices;
    app->notices.clear();
    app->ui.notices_until = now + 5.0;
  }
  if (showing.empty() || now > app->ui.notices_until) return;
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(io.DisplaySize.x * 0.5f, io.DisplaySize.y - 12), ImGuiCond_Always, ImVec2(0.5f, 1.0f));
  ImGui::SetNextWindowBgAlpha(0.92f);
  if (ImGui::Begin("###notices", nullptr, ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_AlwaysAutoResize |
                                             ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoFocusOnAppearing |
                                             ImGuiWindowFlags_NoNav)) {
    ImGui::PushTextWrapPos(io.DisplaySize.x * 0.6f);
    for (const auto& n : showing) ImGui::TextUnformatted(n.c_str());
    ImGui::PopTextWrapPos();
    app_record(app, "notice");
  }
  ImGui::End();
}

}  // namespace attnplay
