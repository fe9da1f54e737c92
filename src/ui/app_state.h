// attnplay ui: the one AppState that the panels, the JS API (window.attnplay) and the URL edit.
//
// The config JSON is the state; everything the views draw (parsed Config, Trace) is derived from it by
// app_state_* right after each edit, in the same frame. Two ways to edit:
//   app_state_edit   from the UI: the edit is kept even when invalid (the control keeps what the user typed,
//                    the error is shown next to the control that the message names, and the views keep the
//                    last valid trace, marked stale)
//   app_state_set    from the API: all or nothing (an invalid config is refused and the state is unchanged)
// Undo/redo hold whole configs; a drag of one control is one undo step (app_state_begin_gesture).
//
// Index
//   [Types]    AppSelection, AppState (the views: view_table.h)
//   [Edits]    app_state_init / edit / set / merge / undo / redo / reset
//   [Helpers]  token and mask edits the panels share; app_state_error_for (the error of one control)
//   [Pretrained] app_pretrained_deliver / _outcome: mode pretrained's answers from the host
//   [Focus]    app_state_focused_head: the focused head's matrices, recomputed on demand in a lean trace
#pragma once

#include "model/config.h"
#include "model/model.h"
#include "model/pretrained_pack.h"
#include "ui/view_table.h"

#include <nlohmann/json.hpp>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnplay {

// [Types] -------------------------------------------------------------------------------------------------
struct AppSelection {
  int layer = 0, head = 0;         // the focused head (big views)
  int query = 0, key = 0;          // the pair the cell walkthrough explains
  int hover_query = -1;            // hovered row/token (-1 none): highlighted in every view
  int hover_key = -1;              // hovered column/key token
  int hover_query_next = -1;       // written by widgets under the mouse this frame; published at the frame's end
  int hover_key_next = -1;
  AppView view = APP_VIEW_ATTENTION;
  std::vector<bool> heads_shown;   // head view toggles, [heads]
  TraceBand band = TRACE_BAND_CROSS;  // mode seq2seq: the attention the views show (app_state_set_band)
  bool mean_heads = false;         // the Attention view shows the mean of the layer's heads' weights
};

// One panel of a preset's side-by-side strip: the current config with a patch over it, computed with it.
struct CompareVariant {
  int label = 0;                   // StrId of its caption
  nlohmann::json patch;
  Trace trace;                     // empty when the patched config is invalid
  std::string error;
};

// One side of the playground: a config and everything computed from it. AppState is the side being edited; with
// A/B on, AppAb::other is the second side, a value of the same type (switching sides swaps the two).
struct AppSide {
  nlohmann::json config;           // the edited config (every SPEC field explicit); may be invalid after a UI edit
  Config parsed;                   // the last valid config, parsed
  Trace trace;                     // its trace: what the views draw (mode seq2seq: the band sel.band of full)
  Trace full;                      // mode seq2seq: the whole encoder-decoder trace (the result JSON's); else empty
  std::shared_ptr<const ModelWeights> weights;  // weights the trace uses instead of the seeded ones (trained in the
                                                //   Train panel, or a loaded file); null: seeded from the config
  std::vector<nlohmann::json> undo, redo;
  bool stale = false;              // config is invalid: views show the last valid trace
  std::string error;               // why the config is invalid ("" when valid)
};
struct AppAb {
  bool on = false;
  bool editing_b = false;          // the controls edit B (AppState holds B, other holds A)
  AppSide other;                   // the side not being edited
};

// Mode pretrained (SPEC §9): the app never holds the model. Each edit becomes a request that the host computes
// elsewhere (the page: a Web Worker with an engine of its own; natively: app_pretrained.cpp, in the frame's thread)
// and answers with app_pretrained_deliver. Until then the views keep the last trace, dimmed. Only the newest request
// is shown: an older answer is dropped. A refusal returns the config to the one on screen.
// The ablation sweep on screen or under way (model/pretrained_sweep.h, run by the host): it answers for the config it
// was asked on, less its "ablate" (the sweep leaves the config's ablation out), so toggling heads keeps it.
struct AppSweep {
  uint64_t id = 0;                 // the newest sweep asked for (0: none)
  nlohmann::json config;           // its config without "ablate"
  bool running = false;
  bool stopped = false;            // an edit of the text, masks or model stopped it (run it again)
  std::string error;               // its refusal ("" none)
  nlohmann::json state;            // pretrained_sweep_json so far (null before the baseline): baseline, probs, ranking
  Mat change;                      // [layers, heads] probs - baseline (NaN: not computed yet), read by the model view
};

// A model folder opened from files (the page) or from disk (the desktop): what the workspace records of it (names,
// sizes, SHA-256) and whether the browser keeps it for the next visit. The host fills it (app_pretrained_local_update).
struct AppLocalModel {
  double bytes = 0;                        // its files' total size
  nlohmann::json files = nlohmann::json::array();  // [{name, size, sha256}] (sha256 "" until hashed)
  bool can_keep = false;                   // the page can store it (IndexedDB, with room for it)
  bool kept = false;                       // stored: a reload reopens it without asking
  bool storing = false;                    // being stored
  bool declined = false;                   // "Not now": not offered again in this visit
  std::string error;                       // storing it failed (why)
};

struct AppPretrained {
  uint64_t wanted = 0;             // the newest request (0: none yet)
  uint64_t sent = 0;               // the newest request handed to the host
  nlohmann::json wanted_config;    // its config (null: no request outstanding)
  nlohmann::json shown_config;     // the config of the trace on screen (what a refusal returns to)
  std::string refusal;             // the last refusal, shown until a compute succeeds ("" none)
  std::map<uint64_t, std::string> outcomes;  // answered requests: "" done, else the refusal (the page's promises)
  PretrainedView view;             // the last answer: trace (moved to AppState::trace), ids, card, predictions
  bool on_screen = false;          // the trace on screen is a pretrained one (view's card and predictions apply)
  double download_done = -1, download_total = 0;  // a model being fetched and read (-1: none)
  double requested_at = 0, last_ms = 0;          // ms: the newest request's time; the last answer's round trip
  std::array<int, 4> after{-1, -1, -1, -1};      // a link's layer, head, cell query and key: applied (clamped) with
                                                 //   the answer, whose sizes the link's are (-1: not given)
  AppSweep sweep;
  std::map<std::string, AppLocalModel> local;  // by the config's "model" ("local:<folder>", the desktop's path)
  nlohmann::json restored_model;   // a restored workspace's record of its model (Workspace::model; null: none): the
                                   //   reopen notice lists its files; files opened again are checked against it
  std::string files_differ;        // those files, opened again, differ from the record (names the first that does)
  uint64_t local_generation = 0;   // bumps with every news of a local model (the autosave's signature reads it)
  int sweep_token = -1;            // the prediction the next sweep follows (a click on it; -1: the most probable)
  bool busy() const { return !wanted_config.is_null(); }
};

struct AppState : AppSide {
  nlohmann::json preset;           // what "Reset" returns to
  AppSelection sel;
  bool in_gesture = false;         // a drag in progress: one undo step for the whole drag
  bool gesture_pushed = false;     // that step is already on the undo stack
  uint64_t generation = 0;         // bumps on every recompute (renderer caches key on it)
  bool changed = false;            // config changed since the platform last looked (drives on("change"))
  double last_compute_ms = 0;      // wall time of the last recompute
  std::string preset_id;           // the preset this state came from ("" none): its explanation is shown
  std::vector<CompareVariant> compare;  // a preset's side-by-side variants, recomputed with every edit
  std::string imported_name;        // the file whose attention maps the trace shows (trace.imported), else ""
  AppAb ab;                         // A/B comparison (off by default)
  AppPretrained pretrained;         // mode pretrained's requests and the last answer
};

// [Edits] -------------------------------------------------------------------------------------------------
nlohmann::json app_default_config();                                   // SPEC §2 defaults, every field explicit
bool app_state_init(AppState* s, const nlohmann::json& config, std::string* error);  // false: defaults used
bool app_state_edit(AppState* s, const nlohmann::json& next);          // UI edit; false when next is invalid (kept)
bool app_state_set(AppState* s, const nlohmann::json& next, std::string* error);     // API: all or nothing
bool app_state_merge(AppState* s, const nlohmann::json& partial, std::string* error); // deep merge, arrays replace
void app_state_begin_gesture(AppState* s);                             // before a drag's first edit
void app_state_end_gesture(AppState* s);
bool app_state_undo(AppState* s);
bool app_state_redo(AppState* s);
void app_state_reset(AppState* s);                                     // back to the preset (undoable)
bool app_state_load_preset(AppState* s, const std::string& id);        // presets.h; false if unknown (undoable)

// [Helpers] -----------------------------------------------------------------------------------------------
std::vector<std::string> app_state_tokens(const AppState& s);        // query tokens of the edited config
std::vector<std::string> app_state_key_tokens(const AppState& s);    // key tokens (== tokens unless cross)
bool app_state_set_tokens(AppState* s, const std::vector<std::string>& tokens);  // chips edit -> "tokens"
bool app_state_set_text(AppState* s, const std::string& text);       // text box edit -> "text" (drops "tokens")
bool app_state_toggle_cell(AppState* s, int query, int key, bool masked);   // paint (true) / erase (false)
bool app_state_toggle_padding(AppState* s, int key);
const char* app_state_error_for(const AppState& s, const char* field);      // error text if it names field, else nullptr
std::string app_state_result_json(const AppState& s);               // SPEC §3 result of the current trace
// The same result a part at a time (the page's lazy result(): a 12 x 12 model at 1024 tokens is 450 M numbers):
//   "meta"    {lazy, keys (the result's keys in order), tokens, token_ids?, key_tokens?, layers: L, heads: [H..],
//              logits: bool, vocab?, fully_masked_rows, warnings}; lazy false (mode seq2seq): read the whole JSON
//   "head"    layers[layer].heads[head] as {scores, weights, context}; "output" layers[layer].output; "logits"
// false when the part or an index is out of range (*out names it).
bool app_state_result_part(const AppState& s, const std::string& part, int layer, int head, std::string* out);
// One matrix as float32, row-major: part "scores" (masked: -inf), "weights", "context", "output" or "logits".
bool app_state_result_matrix(const AppState& s, const std::string& part, int layer, int head, Mat* out, std::string* error);
// Use these weights (null: seeded again) for the current config and every later edit; recomputes now. False (and
// nothing changed) when they do not fit the config: *error names the tensor or token.
bool app_state_set_weights(AppState* s, std::shared_ptr<const ModelWeights> weights, std::string* error);
// [A/B] B starts as a copy of the current state; then either side can be edited; the A/B view shows A, B, A - B.
void app_state_ab_start(AppState* s);                               // B := current; on; edits go to A
void app_state_ab_edit(AppState* s, bool b);                        // which side the controls edit
void app_state_ab_stop(AppState* s);                                // back to the side being edited alone
const Trace& app_state_ab_trace(const AppState& s, bool b);         // A's (false) or B's (true) trace
// Mode seq2seq: which attention (encoder self, decoder self, cross) every view shows, on both A/B sides.
void app_state_set_band(AppState* s, TraceBand band);
// Show attention maps from a file (attention_import.h) until the next edit recomputes the config's own trace.
void app_state_show_imported(AppState* s, Trace trace, const std::string& name);

// [Pretrained] The host's answer to request id: bytes of pretrained_pack.h (ok), or the refusal text. An answer to an
// older request than the newest is dropped (a newer one is on its way). Returns false when the bytes are malformed
// (then it counts as a refusal naming what is wrong). A refusal returns the config to the one on screen, except
// "model: reopen …" (files of an earlier visit, which the page does not keep): that config stays, stale, until the
// folder is opened again.
bool app_pretrained_deliver(AppState* s, uint64_t id, bool ok, const uint8_t* bytes, size_t size, const std::string& error);
// The outcome of request id as the page's setConfig waits on it: 0 not yet, 1 shown, 2 refused (*error says why).
// A request a newer one replaced before it was computed takes the newer one's outcome.
int  app_pretrained_outcome(const AppState& s, uint64_t id, std::string* error);
bool app_state_is_pretrained(const AppState& s);   // the edited config's mode is "pretrained"
// The sweep's answers: ok with pretrained_sweep_json (finished: no more come), or the refusal. Another id's are dropped.
void app_pretrained_sweep_update(AppState* s, uint64_t id, bool ok, bool finished, const std::string& json_or_error);
// The host's news of a local model: {key, bytes?, files?, can_keep?, kept?, storing?, error?} merged into local[key].
void app_pretrained_local_update(AppState* s, const nlohmann::json& update);
// Workspace::model for the config on screen: {source, files?} (null when the mode is not pretrained).
nlohmann::json app_pretrained_model_record(const AppState& s);
nlohmann::json app_pretrained_sweep_key(const nlohmann::json& config);  // the config less "ablate": what a sweep answers for
bool app_pretrained_sweep_current(const AppState& s);  // the sweep (done or under way) answers the config on screen

// [Focus] Beyond kAppMatrixBytes of attention matrices the trace is lean (model.h TraceOptions): only the focused
// head keeps its n² scores and weights. Read the focused head through app_state_focused_head, which brings it back
// (one head's forward pass) when the selection moved; trace_weight reads any other head's single weights.
constexpr double kAppMatrixBytes = 128.0 * (1 << 20);
void app_state_focus(AppState* s);                                   // materialise sel's head, release the others
const HeadTrace& app_state_focused_head(const AppState& s);          // the same, then that head (a cache fill)

}  // namespace attnplay
