// attnplay ui: the playground app over one AppState. The platform owns the loop and the window; the app
// never does (init / frame / shutdown, as sokol_app): main_native.cpp, main_web.cpp and the headless tests
// differ only in what they put around app_frame.
//
//   app_init(&app, config)                   once, after ImGui::CreateContext
//   each frame:
//     if (app_fonts_build_if_needed(&app))   before NewFrame; true -> the renderer backend re-uploads the atlas
//     ImGui::NewFrame(); app_frame(&app); ImGui::Render(); ...draw...
//   app_shutdown(&app)
//
// Index
//   AppHost      what the platform lends: heatmap textures (null when headless), GL strings for About
//   App          state + UI-local state + the named widget rectangles tests click on (layout)
//   app_*        the calls above; app_layout_json for the tests' view of the screen
#pragma once

#include "model/train_session.h"
#include "model/workspace.h"
#include "ui/app_state.h"
#include "render/heatmap_style.h"
#include "ui/i18n.h"

#include <imgui.h>

#include <array>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace attnplay {

// What the platform lends the app, as one interface (the training worker, AppTrainRemote below, is the other one;
// both are virtual interfaces the platform implements). This base is the headless host: no textures, no downloads.
struct AppHost {
  virtual ~AppHost() = default;
  // Colour-mapped texture of data [rows, cols], cached by (slot, version); 0 if none (headless).
  virtual unsigned heatmap(const std::string& slot, const float* data, int rows, int cols, HeatmapStyle style, float vmin,
                           float vmax, uint64_t version, int max_pixels) { return 0; }
  // Hand a file to the user (web: a browser download). false: the app asks for a path (desktop).
  virtual bool save(const std::string& name, const std::string& mime, const std::string& bytes) { return false; }
  // Copy the share link (query part, no '?'); the web host prefixes the page address. false: ImGui's clipboard.
  virtual bool copy_link(const std::string& query) { return false; }
  // Ask the user for a config file (web: a file picker). false: the app asks for a path (desktop).
  virtual bool open_config() { return false; }
  std::string platform = "headless";     // shown in About
  std::string gl_version = "none", glsl_version = "none", gl_renderer = "none";
};

// Page options (embed.html's hide= / readonly= / view=; also accepted by index.html).
struct AppPageOptions {
  std::set<std::string> hidden;            // panels and controls not drawn (share_hide_names)
  bool readonly = false;                   // nothing can be edited from the UI (the JS API still can)
  bool single_view = false;                // draw state.sel.view alone, no tab bar (embed.html with view=)
  bool embed = false;                      // embed.html: no page chrome
};

// Layouts, chosen by the canvas's width in CSS pixels (divided by the UI scale), never by the device:
enum AppLayout {
  APP_LAYOUT_WIDE,     // >= 1100: controls | views | details
  APP_LAYOUT_MEDIUM,   // 700..1100: views | one side panel with Controls / Details tabs
  APP_LAYOUT_NARROW,   // < 700 (phones, narrow embeds): one scrolling column: view, compact bar, Controls, Details
};
AppLayout   app_layout_for_width(float css_width);  // the thresholds above
const char* app_layout_name(AppLayout layout);      // "wide", "medium", "narrow"

// Zoom and pan of the main n_q x n_k grids (weights, scores, mask share them, so a cell stays put between views).
struct AppZoom {
  float scale = 1;                         // 1 = the whole matrix; up to 64
  float row0 = 0, col0 = 0;                // first visible row / column (fractional cells) when zoomed
};

enum AppSideTab { APP_SIDE_TAB_CONTROLS, APP_SIDE_TAB_DETAILS };  // the medium layout's side panel
enum AppAttentionShow {                    // what the Attention view shows
  APP_ATTENTION_SHOW_AUTO,                 // both while each keeps readable cells, else weights
  APP_ATTENTION_SHOW_WEIGHTS,
  APP_ATTENTION_SHOW_SCORES,
  APP_ATTENTION_SHOW_BOTH,
};
enum AppPaint { APP_PAINT_NONE, APP_PAINT_MASK, APP_PAINT_UNMASK };     // a mask-painting drag in progress
enum AppCapture { APP_CAPTURE_NONE, APP_CAPTURE_VIEWS, APP_CAPTURE_WINDOW };  // PNG export: views at 2x, or the window

// The Train panel: a TrainState stepped a few milliseconds per frame; the views show its weights as it goes.
// Where the Train panel's steps can run besides the frame: the web page's Web Worker, with an engine of its own
// (src/platform/main_web.cpp, web/app/train_worker.mjs). The UI calls these on its thread; the host answers with
// train_remote_update (panels.h) whenever results arrive, tagged with the session's generation.
struct AppTrainRemote {
  virtual ~AppTrainRemote() = default;
  // Opens the same session as train_session_begin(config, spec) there, continuing from state when it is not empty
  // (train_session_snapshot: a restored workspace). false: no worker here (train in the frame).
  virtual bool open(uint64_t generation, const std::string& config_json, const std::string& spec_json,
                    const std::vector<uint8_t>& state) = 0;
  virtual void run(uint64_t generation, bool running) = 0;                  // Play / Pause (then one last update)
  virtual void step(uint64_t generation) = 0;                               // one step while paused, then an update
  virtual void set(uint64_t generation, const std::string& spec_json) = 0;  // optimizer, lr or batch edited
  virtual void close(uint64_t generation) = 0;                              // Reset, or another session begins
};

// Where mode pretrained computes (AppPretrained in app_state.h). The page's host runs a Web Worker with an engine of
// its own (src/platform/main_web.cpp, web/app/model_worker.mjs); the desktop and headless tests use the in-thread one
// (app_use_local_models: the model a folder path on disk, loaded once and kept). Either answers with
// app_pretrained_deliver, now or in a later frame.
struct AppPretrainedHost {
  virtual ~AppPretrainedHost() = default;
  // Compute request id: config_json (mode pretrained, its "model" as the config names it). The focused head's
  // matrices must come whole (the others may be lean: pretrained_pack.h).
  virtual void compute(uint64_t id, const std::string& config_json, int focus_layer, int focus_head) = 0;
  virtual void cancel() {}         // stop a model download under way (its request is then refused "cancelled")
  virtual bool open_model() { return false; }  // the page's folder picker; false: the app asks for a path
  // The ablation sweep (model/pretrained_sweep.h) of config_json at position for token (-1: the most probable):
  // answered with app_pretrained_sweep_update, progress then the whole (or the refusal). A newer one replaces it.
  virtual void sweep(uint64_t id, const std::string& config_json, int position, int token) = 0;
  virtual void cancel_sweep() {}   // stop the sweep under way (no more updates come for it)
  virtual void frame() {}          // once a frame: the in-thread host steps its sweep here (the page's runs in its worker)
  // Keep (true) or forget (false) a model opened from files in the browser's storage, so that a reload reopens it;
  // answered with app_pretrained_local_update ({key, kept, storing: false, error?}).
  virtual void keep_model(const std::string& key, bool keep) { (void)key, (void)keep; }
};

struct AppTraining {
  TrainSessionSpec spec;                   // the panel's task and optimiser settings (the next session's, and the
                                           //   running one's optimizer, lr and batch)
  double budget_ms = 6;                    // training time per frame, adapted so frames stay within ~32 ms (30 fps)
  double frame_period_ms = 0;              // measured time between frames (moving average)
  double last_frame_at = -1, last_publish_at = -1;  // ms on a steady clock
  double credit_ms = 0;                    // training time owed: a step longer than the slice runs every few frames
  bool running = false;                    // Play
  bool started = false;                    // state holds the model being trained (and AppState::weights its copy)
  TrainSession session;                    // the model, its optimiser state and batch stream (its weights: the views')
  nlohmann::json session_config;           // the config session was begun with (the workspace record keeps it)
  AppTrainRemote* remote = nullptr;        // the host's worker, if it has one (not owned); null: steps run in the frame
  bool remote_session = false;             // this session's steps run in the worker; session.state mirrors its weights
  uint64_t generation = 0;                 // sessions begun: updates from an older one are dropped
  TrainSessionSpec remote_spec;            // the spec last sent to the worker (edits of optimizer, lr, batch follow)
  std::vector<uint8_t> remote_state;       // the worker's last whole state (train_session_snapshot; on Pause, Step and
  size_t remote_state_steps = 0;           //   every 2 s): what a save holds; the curves' length when it came
  std::vector<float> loss, accuracy;       // every step's batch loss and accuracy
  std::vector<float> alignment;            // translation: every step's batch alignment (translation_alignment)
  std::string preset_seen;                 // the preset whose train task was last selected (presets.h train_task)
  double steps_per_s = 0;
};

// The widgets' own state: what only the UI reads and writes from frame to frame. Tests and the JS API drive the
// App through AppState (state), the page options and the calls below, never through these.
struct AppUiLocal {
  float applied_scale = 0.0f;              // the UI scale the fonts were built for
  bool fonts_dirty = true;
  ImVector<ImWchar> glyph_ranges;          // the atlas's ranges: Latin + the glyphs in use
  uint64_t glyphs_generation = ~0ull;
  int glyphs_lang = -1;
  AppSideTab side_tab = APP_SIDE_TAB_CONTROLS;  // medium layout
  AppAttentionShow attention_show = APP_ATTENTION_SHOW_AUTO;
  bool grid_keys = false;                  // a heatmap was clicked: arrow keys move the explained cell (Esc releases)
  std::vector<std::array<float, 4>> drag_zones;  // rects where a drag belongs to the app (painting, panning, points)
  std::string text_edit, key_text_edit;    // text boxes (kept while a draft is invalid)
  int chip_edit = -1;                      // token chip being edited (-1 none)
  bool chip_edit_keys = false;
  std::string chip_buf;
  AppPaint paint = APP_PAINT_NONE;         // mask painting drag
  bool paint_on_weights = false;           // paint directly on the weights heatmap too
  int head_view_offset = 0;                // first token shown in the head view
  int shown_view = -1;                     // the tab the tab bar showed last frame (state.sel.view may request another)
  bool show_about = false;
  float train_anchor_y = -1.0f;            // Play/Step's screen y at the click (-1: none): the next frame scrolls it back
  bool view_menu_open = false;             // the View menu's 中文 item needs the CJK glyphs while it is open
  float view_need_h = 0, view_need_h_next = 0;  // the narrow layout's view slot: the height the view needs (0: all
                                               //   it can have), as the view said last frame (view_model.cpp)
  int model_sort = -1;                     // model view: heads sorted by this head score (head_scores.h), -1 layer order,
                                           //   HEAD_SORT_SWEEP (panels.h) by the ablation sweep's change
  std::string long_press_id;              // model view: the thumbnail a long press just ablated (its release is no click)
  int geo_drag = -1;                       // geometry view: the token being dragged (-1 none)
  bool geo_drag_key = false;               //   a key point (else a query point)
  bool geo_moved = false;                  //   embeddings were moved: Reset embeddings returns to geo_base
  std::shared_ptr<const ModelWeights> geo_base;
  bool save_dialog = false, import_dialog = false;  // desktop dialogs (when the host has no save/open_config)
  std::string import_path;
  std::vector<DecodeStep> decode;          // Decode view: greedy decoding of the state's config and weights
  uint64_t decode_generation = ~0ull;      //   the state generation it was made for
  std::string decode_error;
  int decode_shown = 0;                    //   steps revealed so far (Step / Back / All)
  std::vector<std::string> notices_shown;  // the notices on screen (app_notices), until notices_until (ImGui time)
  double notices_until = 0;
  std::string a11y_cached;                 // app_a11y_json's last answer, for a11y_key (generation, selection, language)
  std::array<uint64_t, 6> a11y_key{};
  // Per-slot data derived from the trace (grid.h generation_cache), one map per type, valid for one generation.
  struct Cache {
    uint64_t generation = ~0ull;
    std::shared_ptr<void> map;             // std::map<std::string, T> for the type whose name keys it
  };
  std::map<std::string, Cache> caches;
};

struct App {
  AppState state;
  AppTraining training;
  AppPretrainedHost* pretrained_host = nullptr;  // the platform's (not owned); null: real models are refused
  std::shared_ptr<AppPretrainedHost> pretrained_owned;  // app_use_local_models's
  std::shared_ptr<AppHost> host = std::make_shared<AppHost>();  // the platform's (headless unless it sets one)
  AppPageOptions page;
  Lang lang = LANG_EN;
  std::vector<std::string> notices;        // short messages to show once (link copied, file saved, ...)
  std::string link;                        // the last shared link (shown for manual copying)
  float ui_scale = 1.0f;                   // the high-DPI setting (View menu); fonts and sizes scale with it
  std::vector<uint8_t> cjk_font;           // a CJK-capable TrueType font (empty: the Latin font, else ImGui's default)
  std::string font_name;
  std::vector<uint8_t> latin_font;         // the same face cut to Latin, Greek, punctuation and symbols (web: loaded first)
  AppLayout layout_mode = APP_LAYOUT_WIDE; // this frame's layout
  bool touch = false;                      // the last pointer was a finger: hover falls back to the selection (a tap
                                           // stays until the next one), drags on empty space scroll the page column
  AppZoom zoom;
  std::vector<std::string> clipped;        // tabs and headers drawn narrower than their label this frame (tests: none)
  std::set<uint32_t> glyphs;               // non-Latin code points in use, rasterised on demand
  std::map<std::string, std::array<float, 4>> layout;  // name -> {x, y, w, h} of widgets this frame
  AppUiLocal ui;                           // the widgets' own state
  double frame_ms = 0;                     // last frame's CPU time in app_frame
  uint64_t frame_count = 0;
  bool weights_full_range = false;         // colour weights over [0, 1] instead of [0, max]
  // Export of a PNG: set by the menu, done by the platform after the frame (it re-renders offscreen).
  AppCapture capture = APP_CAPTURE_NONE;
  std::array<float, 4> capture_rect{};     // the views panel, in ImGui coordinates
  // A file to hand over (desktop: the save dialog asks for save_path)
  std::string save_name, save_mime, save_bytes, save_path;
};

// The view table's row (view_table.h), its caption in the UI language and whether it has something to show here.
const AppViewInfo& app_view_info(int view);          // 0 <= view < APP_VIEW_COUNT
const char*        app_view_caption(int view);        // tr_named("view.<name>")
const char*        app_view_tab_id(int view);         // its English caption: the tab's ImGui id (tests click "tab_<id>")
bool               app_view_from_name(const std::string& name, AppView* out);
std::string        app_view_names(const char* sep);   // "attention, mask, ...": for messages
// [{"name", "needs_qkv", "caption_en", "caption_zh"(, "offered")}, ...]: the table for JS, the .d.ts and Python (s: with
// "offered" for that state, as the page's views() answers)
std::string        app_views_json(const AppState* s = nullptr);
// Whether the view has something to show for this state: imported maps have no q, k, v; Decode is seq2seq's; the Mask
// view paints the config's (the encoder's) mask; Geometry moves a self-attention model's embeddings.
bool app_view_offered(const AppState& s, int view);

void        app_init(App* app, const nlohmann::json& config, std::string* error);  // false config -> defaults + error
void        app_pretrained_frame(App* app);       // hands the newest mode-pretrained request to the host (app_frame)
void        app_use_local_models(App* app);       // the in-thread host (app_pretrained_local.cpp): desktop, headless
bool        app_fonts_build_if_needed(App* app);  // (re)builds ImGui's font atlas when glyphs or scale changed
void        app_frame(App* app);                  // all windows; reads io.DisplaySize
void        app_shutdown(App* app);
void        app_set_font(App* app, const uint8_t* data, size_t size, const std::string& name);  // the CJK font
void        app_set_latin_font(App* app, const uint8_t* data, size_t size);
bool        app_needs_cjk(const App& app);        // a glyph in use (or lang=zh) that the Latin font lacks, and no CJK font yet
bool        app_wants_drag(const App& app, float x, float y);   // a drag starting here belongs to the app, not the page
bool        app_wants_wheel(const App& app, float x, float y);  // the wheel here scrolls something of the app's own
void        app_zoom_at(App* app, float factor, float x, float y);  // pinch / Ctrl+wheel over a main grid (else nothing)
std::string app_a11y_json(App* app);              // the DOM mirror: summary, focused head's table, walkthrough lines
std::string app_layout_json(const App& app);      // {"name": [x, y, w, h], ...} in ImGui coordinates
bool        app_visible(const App& app, const char* name);  // false when the page options hide this panel/control
void        app_record(App* app, const std::string& name);  // records the last item's rectangle
void        app_deliver_file(App* app, const std::string& name, const std::string& mime, const std::string& bytes);
// A picked or dropped file: a config (.json text), weights (.safetensors bytes, fitted to the current config) or a
// workspace (.attnplay record: model/workspace.h).
bool        app_import(App* app, const std::string& bytes, const std::string& name);  // notices the result

// [Workspace] The whole work as one record (model/workspace.h): configs and weights of both A/B sides, the view
// (as the share link's query), the Train panel's session with its optimiser state and curves.
Workspace   app_workspace_capture(const App& app);
// All or nothing: *error names the refusal and the App is unchanged. A restored training session is paused.
bool        app_workspace_apply(App* app, const Workspace& ws, std::string* error);
uint64_t    app_workspace_signature(const App& app);  // changes when anything a record holds changes (autosave)

// Autosave's timing, the same on every platform: a record is due a second after the last change, or every 10 s
// while changes never pause (training); the platform writes it (desktop: a file, web: IndexedDB) and says when done.
constexpr size_t kAutosaveMaxBytes = size_t(64) << 20;  // records above this are saved without weights (a notice says)
struct AppAutosave {
  uint64_t saved = 0;                      // signature of the state last saved or restored
  uint64_t seen = 0;                       // signature seen last frame
  double changed_at = -1, dirty_since = -1;  // ms: the last change, the first unsaved one (-1: none)
  bool warned_size = false;                // the over-the-cap notice was shown
};
void                 app_autosave_start(AppAutosave* a, const App& app);  // the current state counts as saved
bool                 app_autosave_due(AppAutosave* a, const App& app, double now_ms);
std::vector<uint8_t> app_autosave_record(App* app, AppAutosave* a);  // the record to write (capped), marks it saved

}  // namespace attnplay
