// attnplay ui (private): the three columns app_frame lays out, and helpers they share.
#pragma once

#include "model/head_scores.h"
#include "ui/app.h"

namespace attnplay {

void panel_controls(App* app);   // left: tokens, model, attention, mask, history
void panel_views(App* app);      // centre: the views of view_table.h, as tabs or a combo
void panel_details(App* app);    // right: hover, cell walkthrough, row statistics, next token, context, about
void panel_compact_bar(App* app);  // narrow layout, under the view: the token text and the current view's key controls

// The Train panel (train_panel.cpp).
void section_train(App* app);    // task, hyper-parameters, play / pause / step / reset, loss and accuracy plots
void train_tick(App* app);       // each frame: a time-sliced number of steps while playing; the views follow
bool train_begin(App* app);      // switch to the task's model and example, seeded weights; false: noticed why
void train_reset(App* app);      // stop and go back to seeded weights
// The host's worker reports (AppTrainRemote): params = train_params_pack of its weights, progress = {step, loss[],
// accuracy[], alignment[], steps_per_s, error?, unavailable?}; an update of another generation is dropped.
// "unavailable": the worker could not start; training goes on in the frame. state (may be empty): the worker's whole
// state at this update's step (train_session_snapshot), kept for the workspace record.
void train_remote_update(App* app, uint64_t generation, const float* params, size_t count, const std::string& progress_json,
                         const std::vector<uint8_t>& state = {});

// Mode pretrained (app_pretrained.cpp).
void section_pretrained(App* app);       // Controls: the model card, Open model, the refusal, the ablation's summary
void pretrained_token_chips(App* app);   // the tokens as its tokenizer made them (a masked LM: a click masks one)
void pretrained_status(App* app);        // views' header while busy: download progress with Cancel, or computing
void pretrained_dim_views(App* app, ImVec2 min, ImVec2 max);  // the last result dimmed while a newer one computes
void pretrained_predictions(App* app);   // Details: the top tokens at the selected row (before -> after an ablation)
bool pretrained_ablated(const AppState& s, int layer, int head);  // in the config's "ablate"
void pretrained_toggle_ablate(App* app, int layer, int head);     // add or remove it (one edit)
// The ablation sweep (model/pretrained_sweep.h; the host runs it): what the model view ranks heads by when
// App::ui.model_sort is HEAD_SORT_SWEEP (after the head scores of head_scores.h).
constexpr int HEAD_SORT_SWEEP = HEAD_SCORE_COUNT;
void pretrained_request_sweep(App* app, int position, int token);  // on the trace on screen (token -1: the most probable)
void pretrained_sweep_status(App* app);  // what it follows, its progress with Cancel, Run (again)

void section_tokens(App* app);   // panel_tokens.cpp: the text box, tokenizer and token chips
void ui_text_box(App* app);      //   the text box alone (the narrow layout's compact bar)
constexpr const char* kZhMenuLabel = "中文（简体）";  // View menu: named in its own script, so its glyphs load with it
void app_shortcuts(App* app);    // app_menus.cpp: keyboard shortcuts
void app_main_menu(App* app);    //   the menu bar
void app_file_dialogs(App* app); //   desktop save / import dialogs
void app_notices(App* app);      //   one-shot messages
// Shared by the panels.
bool ui_edit(App* app, const nlohmann::json& next);   // app_state_edit, and keeps the text boxes in sync
void ui_gesture(App* app);                             // call right after a draggable widget: one undo step per drag
void ui_error_for(App* app, const char* field);        // the error under the control it names
void ui_about(App* app);                               // version, SIMD, GL, Eigen, build type, platform, font
void ui_help_marker(const char* text);                 // "(?)" on the same line, text as its tooltip
void ui_item_tooltip(const char* text);                // text, wrapped, as the last item's tooltip while hovered
std::string ui_chip_label(const std::string& token);   // a token as its chip shows it (white space made visible)
void ui_chip_flow(const std::string& label, bool first, float avail, float* x);  // before a chip's button: on this
                                                       //   line if it fits in avail (x: the line's width so far), else the next
void app_check_label(App* app, const std::string& name, const char* label);  // last item narrower than label -> app->clipped
bool ui_small_button(const App& app, const char* label);  // SmallButton; a touch-sized Button in the narrow layout
void ui_text_wrapped(const char* text);   // a paragraph wrapped at the available width: at spaces, and between CJK
                                          //   characters too (Chinese has no spaces; ImGui wraps at spaces only)
std::string clip_text(const std::string& s, float max_w);  // s, or its longest prefix + "…" that fits max_w pixels
const char* kind_label(AttentionKind kind);                // the attention kind's name in the UI language

// The cell walkthrough as lines of text: the Details column draws them, the DOM mirror reads them.
struct WalkLine {
  std::string text;
  bool dim = false;                                    // a secondary line (drawn disabled)
  bool mirror_only = false;                            // for the DOM mirror only (the screen shows it otherwise)
};
std::vector<WalkLine> walkthrough_lines(const App& app);  // the selected cell (state.sel.query, key) of the focused head

}  // namespace attnplay
