// attnplay platform: the web app (SDL2 + WebGL2 + Dear ImGui) and the exports behind window.attnplay
// (web/app/shell.mjs). The app itself is src/ui (init/frame/shutdown); only this file knows emscripten.
//
// Exports (the whole surface; CMakeLists.txt ATTNPLAY_APP_EXPORTS):
//   ap_app_set_config(json, len)  deep-merge a partial config (SPEC §6 setConfig); 1 ok, 0 refused (state unchanged)
//   ap_app_load_url(query, len)   apply URL state (?cfg=... or plain parameters); 1 ok, 0 refused
//   ap_app_config / ap_app_result / ap_app_layout / ap_app_stats   JSON of the state, the result, widget rects, timings
//   ap_app_result_part(part, len, layer, head)   the result a part at a time (meta, head, output, logits)
//   ap_app_result_matrix(part, len, layer, head) / ap_app_matrix_ptr()   one matrix as float32 ([rows, cols] answered)
//   ap_app_take_changed()         1 once after each config change (drives on("change"))
//   ap_app_set_font(bytes, len)   the CJK font, fetched by the page once ap_app_needs_cjk() returns 1
//   ap_app_set_latin_font(b, len) the Latin cut of the same face, fetched in parallel with the wasm
//   ap_app_pointer(touch)         the last pointer was a finger (1) or a mouse/pen (0)
//   ap_app_wants_drag(x, y) / ap_app_wants_wheel(x, y)  does a drag / the wheel at (x, y) belong to the app (else
//                                 an embedding page scrolls)
//   ap_app_zoom(factor, x, y)     pinch over a heatmap
//   ap_app_set_view(name, len)    show the view of that name (view_table.h); 1 ok, 0 refused (the message lists them)
//   ap_app_views()                the table of views as JSON (app_views_json): what JS, the .d.ts and Python read
//   ap_app_train_update(generation, params, count, progress, len, state, state_len)   the training worker's update
//   ap_app_pretrained_update(id, ok, bytes, len) / _progress(id, done, total)   the model worker's answer, progress
//   ap_app_pretrained_wanted() / _outcome(id)   the request a setConfig waits on; 0 pending, 1 shown, 2 refused
//   ap_app_open_model(key, len)   files the page opened ("local:<folder>"): mode pretrained on them
//   ap_app_notice(text, len)      a one-shot message from the page
//   ap_app_restore(bytes, len)    a saved workspace record (model/workspace.h) back; 1 ok, 0 refused by name
//   ap_app_autosave_start / _done(ok, why, len) / _flush()   autosave on; a write finished; write now (pagehide)
//   ap_app_start_fresh()          back to the state the URL opened (the saved record stays until the next save)
//   ap_app_a11y()                 the DOM mirror's content (summary, focused head's weights, walkthrough)
//   ap_app_wants_text()           1 while a text box is active: the page then focuses its hidden <textarea>
//   ap_app_add_text(utf8, len)    text committed there (IME composition, insertText): SDL2's emscripten backend
//                                 only turns keypress into text, so CJK input would otherwise never arrive
//   ap_app_import(text, len, name, name_len)  a config file the user picked or dropped; 1 ok, 0 refused (noticed)
//   ap_app_link(url, len, ok)     the page copied the share link (ok) or could not: tell the user
//   ap_app_highlight(query, key)  select and explain one cell (an article pointing at it)
//   ap_app_share_query()          the share link's query (the page keeps its address bar in sync with it)
//   ap_result_ptr / ap_result_len the last answer's text (valid until the next call)
// The app calls back into the page through Module.onDownload(name, mime, bytes), Module.onCopyLink(query) and
// Module.onOpenConfig(): downloads, the clipboard and the file picker belong to the page.
// After every drawn frame the module calls Module.onFrameDrawn(frameNumber): setConfig's promise resolves then.
#include "core/gemm.h"
#include "platform/capture.h"
#include "platform/frame.h"
#include "platform/events.h"
#include "render/heatmap_renderer.h"
#include "ui/app.h"
#include "ui/panels.h"
#include "ui/i18n.h"
#include "ui/share.h"

#include <SDL.h>
#include <emscripten/emscripten.h>
#include <emscripten/heap.h>
#include <emscripten/html5.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#include <GLES3/gl3.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <string>

namespace {

using attnplay::App;

struct WebApp {
  SDL_Window* window = nullptr;
  SDL_GLContext gl = nullptr;
  attnplay::Renderer renderer;
  App app;
  int css_w = 0, css_h = 0;
  double dpr = 1;
  uint64_t frame = 0;
  double frame_ms = 0, render_ms = 0;
  attnplay::EventPump pump;
  bool gl_lost = false;          // the browser took the WebGL context away (tab in the background, GPU reset)
  int gl_restores = 0;           // contexts given back and rebuilt (stats; tests)
  // Autosave (web/attnplay.mjs keeps the records in IndexedDB): off until the page has opened its store.
  bool autosave_on = false;
  bool autosave_busy = false;    // a write is running: no second one starts before it reports back
  attnplay::AppAutosave autosave;
  std::vector<uint8_t> fresh;    // the workspace as the page opened it (URL and defaults): "Start fresh" returns here
  int autosaves = 0;             // records written (stats; tests)
  std::string autosave_error;    // why autosave stopped ("" while it works)
};

WebApp* g_web = nullptr;
std::string g_result;

// The Train panel's steps in a Web Worker with an engine of its own: web/attnplay.mjs holds the worker
// (Module.attnplayTrain), web/app/train_worker.mjs runs the session; updates come back through ap_app_train_update.
EM_JS(int, train_worker_open, (double generation, const char* config, const char* spec, const uint8_t* state, int n), {
  return Module.attnplayTrain && Module.attnplayTrain.open(generation, UTF8ToString(config), UTF8ToString(spec),
                                                           n > 0 ? HEAPU8.slice(state, state + n) : null) ? 1 : 0;
});
EM_JS(void, train_worker_post, (const char* type, double generation, int running, const char* spec), {
  if (Module.attnplayTrain) Module.attnplayTrain.post(UTF8ToString(type), generation, running !== 0, spec ? UTF8ToString(spec) : null);
});

struct WebTrainRemote : attnplay::AppTrainRemote {
  bool open(uint64_t g, const std::string& config_json, const std::string& spec_json,
            const std::vector<uint8_t>& state) override {
    return train_worker_open(double(g), config_json.c_str(), spec_json.c_str(), state.data(), int(state.size())) == 1;
  }
  void run(uint64_t g, bool running) override { train_worker_post("run", double(g), running ? 1 : 0, nullptr); }
  void step(uint64_t g) override { train_worker_post("step", double(g), 0, nullptr); }
  void set(uint64_t g, const std::string& spec_json) override { train_worker_post("set", double(g), 0, spec_json.c_str()); }
  void close(uint64_t g) override { train_worker_post("close", double(g), 0, nullptr); }
};
WebTrainRemote g_train_remote;

// Mode pretrained in a Web Worker with an engine of its own: web/attnplay.mjs (pretrained.mjs) holds the worker
// (Module.attnplayModel), web/app/model_worker.mjs computes; answers come back through ap_app_pretrained_update.
EM_JS(void, model_worker_compute, (double id, const char* config, int layer, int head), {
  if (Module.attnplayModel) Module.attnplayModel.compute(id, UTF8ToString(config), layer, head);
  else Module._ap_app_pretrained_update(id, 0, 0, 0);
});
EM_JS(void, model_worker_cancel, (), { if (Module.attnplayModel) Module.attnplayModel.cancel(); });
EM_JS(void, model_worker_sweep, (double id, const char* config, int position, int token), {
  if (Module.attnplayModel) Module.attnplayModel.sweep(id, UTF8ToString(config), position, token);
  else Module._ap_app_pretrained_sweep(id, 0, 1, 0, 0);
});
EM_JS(void, model_worker_cancel_sweep, (), { if (Module.attnplayModel) Module.attnplayModel.cancelSweep(); });
EM_JS(void, model_keep, (const char* key, int keep), {
  if (Module.attnplayModel) Module.attnplayModel.keepModel(UTF8ToString(key), keep !== 0);
});
EM_JS(int, model_picker_open, (), { if (!Module.attnplayModel) return 0; Module.attnplayModel.openModel(); return 1; });

struct WebPretrainedHost : attnplay::AppPretrainedHost {
  void compute(uint64_t id, const std::string& config_json, int layer, int head) override {
    model_worker_compute(double(id), config_json.c_str(), layer, head);
  }
  void cancel() override { model_worker_cancel(); }
  bool open_model() override { return model_picker_open() == 1; }
  void sweep(uint64_t id, const std::string& config_json, int position, int token) override {
    model_worker_sweep(double(id), config_json.c_str(), position, token);
  }
  void cancel_sweep() override { model_worker_cancel_sweep(); }
  void keep_model(const std::string& key, bool keep) override { model_keep(key.c_str(), keep ? 1 : 0); }
};
WebPretrainedHost g_pretrained_host;

// The canvas follows its CSS box; the drawing buffer is CSS size x devicePixelRatio.
void fit_canvas(WebApp* w) {
  double cw = 0, ch = 0;
  emscripten_get_element_css_size("#canvas", &cw, &ch);
  const double dpr = emscripten_get_device_pixel_ratio();
  if (int(cw) != w->css_w || int(ch) != w->css_h || dpr != w->dpr) {
    w->css_w = std::max(1, int(cw));
    w->css_h = std::max(1, int(ch));
    w->dpr = dpr;
    SDL_SetWindowSize(w->window, w->css_w, w->css_h);
    emscripten_set_canvas_element_size("#canvas", int(w->css_w * dpr), int(w->css_h * dpr));
  }
}

// A lost WebGL context is not a lost page: drawing pauses (the state and the API keep working; setConfig resolves
// once a frame is drawn again), and when the browser gives the context back every GL resource is rebuilt: the
// ImGui backend with its font texture, the heatmap shaders and every cached heatmap texture.
EM_BOOL on_context_lost(int, const void*, void*) {
  g_web->gl_lost = true;
  EM_ASM({ if (Module.onGraphicsLost) Module.onGraphicsLost(); });
  return EM_TRUE;  // preventDefault: without it the browser never restores the context
}

EM_BOOL on_context_restored(int, const void*, void*) {
  WebApp* w = g_web;
  ImGui_ImplOpenGL3_Shutdown();  // its old names are gone with the old context; new ones are made on the next frame
  ImGui_ImplOpenGL3_Init("#version 300 es");
  attnplay::renderer_shutdown(&w->renderer);
  if (!attnplay::renderer_init(&w->renderer, true)) std::printf("attnplay: heatmap renderer: %s\n", w->renderer.error.c_str());
  w->gl_lost = false;
  ++w->gl_restores;
  EM_ASM({ if (Module.onGraphicsRestored) Module.onGraphicsRestored(); });
  return EM_TRUE;
}

// Autosave: the record goes to the page (Module.attnplayAutosave.write), which stores it in IndexedDB and answers
// through ap_app_autosave_done. One write at a time; a failure (quota, private mode) turns autosave off, with one notice.
EM_JS(int, autosave_write, (const uint8_t* bytes, int n), {
  if (!Module.attnplayAutosave) return 0;
  Module.attnplayAutosave.write(HEAPU8.slice(bytes, bytes + n));
  return 1;
});

void autosave_now(WebApp* w) {
  const std::vector<uint8_t> record = attnplay::app_autosave_record(&w->app, &w->autosave);
  w->autosave_busy = autosave_write(record.data(), int(record.size())) == 1;
}

void frame() {
  WebApp* w = g_web;
  if (w->autosave_on && !w->autosave_busy) {  // (also while the GL context is lost: the state still changes)
    const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
    if (attnplay::app_autosave_due(&w->autosave, w->app, now)) autosave_now(w);
  }
  if (w->gl_lost) return;  // nothing can be drawn until the context is back
  const auto t0 = std::chrono::steady_clock::now();
  fit_canvas(w);
  events_pump(&w->pump, [](const SDL_Event&) {});
  attnplay::PlatformFrameSize size;
  size.fb_w = int(w->css_w * w->dpr);
  size.fb_h = int(w->css_h * w->dpr);
  size.display_w = float(w->css_w);
  size.display_h = float(w->css_h);
  size.fb_scale = float(w->dpr);
  size.set_display = true;  // the canvas's CSS box, not SDL's idea of the window
  attnplay::platform_frame(&w->app, &w->renderer, size);
  ++w->frame;
  w->frame_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  EM_ASM({ if (Module.onFrameDrawn) Module.onFrameDrawn($0); }, double(w->frame));
}

// The URL state the page gave mount() (its location.search, or an author's query), read once at start-up.
EM_JS(char*, page_query, (), {
  const q = typeof Module.attnplayQuery === 'string' ? Module.attnplayQuery : '';
  const n = lengthBytesUTF8(q) + 1;
  const p = _malloc(n);
  stringToUTF8(q, p, n);
  return p;
});

bool apply_url(WebApp* w, const std::string& query, std::string* error) { return attnplay::share_apply(&w->app, query, error); }

// embed.html sets Module.attnplayEmbed before the app starts.
EM_JS(int, page_is_embed, (), { return Module.attnplayEmbed ? 1 : 0; });

// The page's host: the GL one, and downloads, the clipboard and the file picker through the page (Module.on*).
struct WebHost : attnplay::PlatformGlHost {
  using PlatformGlHost::PlatformGlHost;
  bool save(const std::string& name, const std::string& mime, const std::string& bytes) override {
    EM_ASM({ if (Module.onDownload) Module.onDownload(UTF8ToString($0), UTF8ToString($1), HEAPU8.slice($2, $2 + $3)); },
           name.c_str(), mime.c_str(), bytes.data(), int(bytes.size()));
    return true;
  }
  bool copy_link(const std::string& query) override {
    EM_ASM({ if (Module.onCopyLink) Module.onCopyLink(UTF8ToString($0)); }, query.c_str());
    return true;
  }
  bool open_config() override {
    EM_ASM({ if (Module.onOpenConfig) Module.onOpenConfig(); });
    return true;
  }
};

int answer(bool ok, std::string text) {
  g_result = std::move(text);
  return ok ? 1 : 0;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE int ap_app_set_config(const char* json_text, int len) {
  const std::string text(json_text, size_t(len));
  if (!attnplay::json_nesting_ok(text)) return answer(false, "config: JSON is nested too deeply (at most 32 levels)");
  nlohmann::json partial = nlohmann::json::parse(text, nullptr, false);
  if (partial.is_discarded()) return answer(false, "setConfig: not valid JSON");
  std::string error;
  try {
    if (!attnplay::app_state_merge(&g_web->app.state, partial, &error)) return answer(false, error);
  } catch (const std::bad_alloc&) {
    return answer(false, "out of memory: this config needs more than the WebAssembly heap can give");
  }
  return answer(true, "");
}

EMSCRIPTEN_KEEPALIVE int ap_app_load_url(const char* query, int len) {
  std::string error;
  if (!apply_url(g_web, std::string(query, size_t(len)), &error)) return answer(false, error);
  return answer(true, "");
}

EMSCRIPTEN_KEEPALIVE int ap_app_import(const char* text, int len, const char* name, int name_len) {
  return attnplay::app_import(&g_web->app, std::string(text, size_t(len)), std::string(name, size_t(name_len))) ? 1 : 0;
}

// The page copied (ok=1) or could not copy (ok=0) the share link: say so, in the UI's language.
EMSCRIPTEN_KEEPALIVE void ap_app_link(const char* url, int len, int ok) {
  App& app = g_web->app;
  app.link.assign(url, size_t(len));
  app.notices.push_back(std::string(attnplay::tr(ok ? attnplay::S_LINK_COPIED : attnplay::S_LINK_MANUAL)) + "\n" + app.link);
}

// An article points at a cell (embed.html's attnplay:highlight message): select it and explain it.
EMSCRIPTEN_KEEPALIVE void ap_app_highlight(int query, int key) {
  attnplay::AppSelection& sel = g_web->app.state.sel;
  const attnplay::Trace& t = g_web->app.state.trace;  // the rows and columns on screen (a real model's: its tokenizer's)
  sel.query = std::max(0, std::min(query, int(t.tokens.size()) - 1));
  sel.key = std::max(0, std::min(key, int(t.key_tokens.size()) - 1));
}

EMSCRIPTEN_KEEPALIVE int ap_app_share_query() { return answer(true, attnplay::share_query(g_web->app)); }

EMSCRIPTEN_KEEPALIVE int ap_app_config() { return answer(true, g_web->app.state.config.dump()); }
EMSCRIPTEN_KEEPALIVE int ap_app_result() { return answer(true, attnplay::app_state_result_json(g_web->app.state)); }
// The result a part at a time (app_state_result_part: the page's lazy result()), and one matrix as float32.
EMSCRIPTEN_KEEPALIVE int ap_app_result_part(const char* part, int len, int layer, int head) {
  std::string out;
  const bool ok = attnplay::app_state_result_part(g_web->app.state, std::string(part, size_t(len)), layer, head, &out);
  return answer(ok, std::move(out));
}
std::vector<float> g_matrix;
int g_matrix_rows = 0, g_matrix_cols = 0;
EMSCRIPTEN_KEEPALIVE int ap_app_result_matrix(const char* part, int len, int layer, int head) {
  attnplay::Mat m;
  std::string error;
  if (!attnplay::app_state_result_matrix(g_web->app.state, std::string(part, size_t(len)), layer, head, &m, &error))
    return answer(false, error);
  g_matrix.assign(m.data(), m.data() + m.size());
  g_matrix_rows = int(m.rows());
  g_matrix_cols = int(m.cols());
  return answer(true, "[" + std::to_string(g_matrix_rows) + "," + std::to_string(g_matrix_cols) + "]");
}
EMSCRIPTEN_KEEPALIVE const float* ap_app_matrix_ptr() { return g_matrix.data(); }
EMSCRIPTEN_KEEPALIVE int ap_app_layout() { return answer(true, attnplay::app_layout_json(g_web->app)); }

EMSCRIPTEN_KEEPALIVE int ap_app_stats() {
  const attnplay::AppState& s = g_web->app.state;
  nlohmann::json j = {{"frame", g_web->frame},          {"frame_ms", g_web->frame_ms},  {"ui_ms", g_web->app.frame_ms},
                      {"compute_ms", s.last_compute_ms}, {"stale", s.stale},            {"error", s.error},
                      {"tokens", s.trace.tokens.size()}, {"gl_version", g_web->renderer.gl_version},
                      {"lang", attnplay::i18n_lang_code(attnplay::Lang(g_web->app.lang))}, {"glyphs", g_web->app.glyphs.size()},
                      {"preset", s.preset_id}, {"readonly", g_web->app.page.readonly}, {"notices", g_web->app.link},
                      {"heap_bytes", emscripten_get_heap_size()}, {"lean", s.trace.lean}, {"kernels", attnplay::gemm_kernel_name()},
                      {"layout", attnplay::app_layout_name(g_web->app.layout_mode)}, {"clipped", g_web->app.clipped},
                      {"touch", g_web->app.touch}, {"gl_lost", g_web->gl_lost}, {"gl_restores", g_web->gl_restores},
                      {"autosave", {{"on", g_web->autosave_on}, {"writes", g_web->autosaves}, {"busy", g_web->autosave_busy},
                                    {"error", g_web->autosave_error}}},
                      {"model_record", attnplay::app_pretrained_model_record(s)},
                      {"model_local", [&]() {
                         const nlohmann::json rec = attnplay::app_pretrained_model_record(s);
                         const auto it = rec.is_null() ? s.pretrained.local.end() : s.pretrained.local.find(rec["source"].get<std::string>());
                         if (it == s.pretrained.local.end()) return nlohmann::json(nullptr);
                         return nlohmann::json{{"bytes", it->second.bytes}, {"can_keep", it->second.can_keep}, {"kept", it->second.kept},
                                               {"storing", it->second.storing}, {"error", it->second.error}};
                       }()},
                      {"files_differ", s.pretrained.files_differ},
                      {"gpu_bytes", g_web->renderer.bytes}, {"gpu_budget", g_web->renderer.budget_bytes}, {"zoom", g_web->app.zoom.scale}, {"cjk_font", !g_web->app.cjk_font.empty()},
                      {"sel", {{"query", s.sel.query}, {"key", s.sel.key}, {"layer", s.sel.layer}, {"head", s.sel.head},
                               {"view", int(s.sel.view)}, {"hover_query", s.sel.hover_query}, {"hover_key", s.sel.hover_key}}},
                      {"train", {{"running", g_web->app.training.running}, {"step", g_web->app.training.session.state.step}, {"worker", g_web->app.training.remote_session},
                                 {"loss", g_web->app.training.loss.empty() ? 0.0f : g_web->app.training.loss.back()},
                                 {"accuracy", g_web->app.training.accuracy.empty() ? 0.0f : g_web->app.training.accuracy.back()},
                                 {"alignment", g_web->app.training.alignment.empty() ? -1.0f : g_web->app.training.alignment.back()},
                                 {"steps_per_s", g_web->app.training.steps_per_s}, {"curve", g_web->app.training.loss.size()}}}};
  return answer(true, j.dump());
}

EMSCRIPTEN_KEEPALIVE int ap_app_take_changed() {
  const bool c = g_web->app.state.changed;
  g_web->app.state.changed = false;
  return c ? 1 : 0;
}

EMSCRIPTEN_KEEPALIVE void ap_app_set_font(const uint8_t* data, int len) {
  attnplay::app_set_font(&g_web->app, data, size_t(len), "WenQuanYi Micro Hei (GB2312 subset)");
}

// The Latin cut of the font, fetched with the app; the CJK font is fetched only once ap_app_needs_cjk() says so.
EMSCRIPTEN_KEEPALIVE void ap_app_set_latin_font(const uint8_t* data, int len) { attnplay::app_set_latin_font(&g_web->app, data, size_t(len)); }
EMSCRIPTEN_KEEPALIVE int ap_app_needs_cjk() { return attnplay::app_needs_cjk(g_web->app) ? 1 : 0; }

// Pointer and scrolling questions the page asks before a gesture (CSS px in the canvas):
EMSCRIPTEN_KEEPALIVE void ap_app_pointer(int touch) { g_web->app.touch = touch != 0; }  // the last pointer was a finger
EMSCRIPTEN_KEEPALIVE int ap_app_wants_drag(float x, float y) { return attnplay::app_wants_drag(g_web->app, x, y) ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE int ap_app_wants_wheel(float x, float y) { return attnplay::app_wants_wheel(g_web->app, x, y) ? 1 : 0; }
EMSCRIPTEN_KEEPALIVE void ap_app_zoom(float factor, float x, float y) { attnplay::app_zoom_at(&g_web->app, factor, x, y); }
// params: count floats (train_params_pack), or null with a progress that says why there is none; state: the worker's
// whole state (train_session_snapshot bytes) or null.
EMSCRIPTEN_KEEPALIVE void ap_app_train_update(double generation, const float* params, int count, const char* progress, int len,
                                              const uint8_t* state, int state_len) {
  attnplay::train_remote_update(&g_web->app, uint64_t(generation), params, size_t(std::max(count, 0)),
                                std::string(progress, size_t(std::max(len, 0))),
                                state_len > 0 ? std::vector<uint8_t>(state, state + state_len) : std::vector<uint8_t>());
}

// Mode pretrained: the worker's answer to request id (ok: pretrained_pack.h's bytes; else the refusal's text), its
// download progress, the request a setConfig waits for (0: none) and that request's outcome (0 pending, 1 shown,
// 2 refused: the answer holds why).
EMSCRIPTEN_KEEPALIVE void ap_app_pretrained_update(double id, int ok, const uint8_t* bytes, int len) {
  const std::string text = ok || !bytes ? std::string(ok ? "" : "model: no model worker in this page") : std::string(reinterpret_cast<const char*>(bytes), size_t(len));
  try {
    attnplay::app_pretrained_deliver(&g_web->app.state, uint64_t(id), ok != 0, bytes, size_t(std::max(len, 0)), text);
  } catch (const std::bad_alloc&) {
    attnplay::app_pretrained_deliver(&g_web->app.state, uint64_t(id), false, nullptr, 0,
                                     "out of memory: the page cannot hold this result; use fewer tokens");
  }
}
// The worker's sweep answers (ok: pretrained_sweep_json so far; finished: the last for this id), else the refusal.
EMSCRIPTEN_KEEPALIVE void ap_app_pretrained_sweep(double id, int ok, int finished, const char* text, int len) {
  const std::string t = text ? std::string(text, size_t(std::max(len, 0))) : std::string("sweep: no model worker in this page");
  attnplay::app_pretrained_sweep_update(&g_web->app.state, uint64_t(id), ok != 0, finished != 0, t);
}
// The sweep as the page's api.sweep() reads it: null when none was asked; else pretrained_sweep_json so far with
// running, stopped, error and current (it answers the config on screen).
EMSCRIPTEN_KEEPALIVE int ap_app_sweep() {
  const attnplay::AppState& s = g_web->app.state;
  const attnplay::AppSweep& w = s.pretrained.sweep;
  if (!w.id) return answer(true, "null");
  nlohmann::json j = w.state.is_object() ? w.state : nlohmann::json::object();
  j["running"] = w.running;
  j["stopped"] = w.stopped;
  j["error"] = w.error;
  j["current"] = attnplay::app_pretrained_sweep_current(s);
  return answer(true, j.dump());
}
EMSCRIPTEN_KEEPALIVE void ap_app_pretrained_progress(double id, double done, double total) {
  attnplay::AppPretrained& p = g_web->app.state.pretrained;
  if (uint64_t(id) != p.wanted) return;
  p.download_done = done;
  p.download_total = total;
}
EMSCRIPTEN_KEEPALIVE double ap_app_pretrained_wanted() {
  const attnplay::AppPretrained& p = g_web->app.state.pretrained;
  return p.busy() ? double(p.wanted) : 0.0;
}
EMSCRIPTEN_KEEPALIVE int ap_app_pretrained_outcome(double id) {
  std::string error;
  const int o = attnplay::app_pretrained_outcome(g_web->app.state, uint64_t(id), &error);
  g_result = error;
  return o;
}
// A model folder the page opened (files under "local:<folder>"): mode pretrained on it; 1 ok, 0 refused (noticed).
EMSCRIPTEN_KEEPALIVE int ap_app_open_model(const char* key, int len) {
  std::string error;
  if (attnplay::app_state_merge(&g_web->app.state, nlohmann::json{{"mode", "pretrained"}, {"model", std::string(key, size_t(len))}}, &error))
    return answer(true, "");
  g_web->app.notices.push_back(error);
  return answer(false, error);
}
// The page's news of a model opened from files (app_pretrained_local_update): {key, bytes, files, can_keep, kept, ...}.
EMSCRIPTEN_KEEPALIVE void ap_app_model_local(const char* text, int len) {
  attnplay::app_pretrained_local_update(&g_web->app.state, nlohmann::json::parse(std::string(text, size_t(std::max(len, 0))), nullptr, false));
}
EMSCRIPTEN_KEEPALIVE void ap_app_notice(const char* text, int len) { g_web->app.notices.push_back(std::string(text, size_t(len))); }

// Autosave (web/attnplay.mjs): the page restores the saved record (or not), then turns autosave on.
// Restore: 1 restored; 0 refused (the answer names why: "saved state is corrupt (checksum)"; nothing was applied).
EMSCRIPTEN_KEEPALIVE int ap_app_restore(const uint8_t* bytes, int len) {
  WebApp* w = g_web;
  attnplay::Workspace ws;
  std::string error;
  char buf[512];
  if (attnplay::workspace_decode(bytes, size_t(std::max(len, 0)), &ws, &error) &&
      attnplay::app_workspace_apply(&w->app, ws, &error)) {
    std::snprintf(buf, sizeof buf, attnplay::tr(attnplay::S_WORKSPACE_RESTORED_STEP), std::to_string(ws.training.state.step).c_str());
    const std::string text = ws.training.present ? buf : attnplay::tr(attnplay::S_WORKSPACE_RESTORED);
    return answer(true, nlohmann::json{{"notice", text}, {"fresh", attnplay::tr(attnplay::S_WORKSPACE_START_FRESH)}}.dump());
  }
  std::snprintf(buf, sizeof buf, attnplay::tr(attnplay::S_WORKSPACE_NOT_RESTORED), error.c_str());
  w->app.notices.push_back(buf);
  return answer(false, nlohmann::json{{"notice", buf}, {"error", error}}.dump());
}

// Autosave on (the store is open): the current state counts as saved. Called after ap_app_restore (or instead).
EMSCRIPTEN_KEEPALIVE void ap_app_autosave_start() {
  WebApp* w = g_web;
  w->autosave_on = true;
  w->autosave_busy = false;
  attnplay::app_autosave_start(&w->autosave, w->app);
}

// The page's write finished: ok, or failed with why (quota, storage denied): autosave then stops, with one notice.
EMSCRIPTEN_KEEPALIVE void ap_app_autosave_done(int ok, const char* why, int len) {
  WebApp* w = g_web;
  w->autosave_busy = false;
  if (ok) {
    ++w->autosaves;
    return;
  }
  w->autosave_on = false;
  w->autosave_error.assign(why, size_t(std::max(len, 0)));
  char buf[512];
  std::snprintf(buf, sizeof buf, attnplay::tr(attnplay::S_WORKSPACE_NOT_SAVED), w->autosave_error.c_str());
  w->app.notices.push_back(buf);
}

// pagehide / visibilitychange: unsaved changes are written now rather than a second later.
EMSCRIPTEN_KEEPALIVE int ap_app_autosave_flush() {
  WebApp* w = g_web;
  if (!w->autosave_on || w->autosave_busy || !attnplay::app_autosave_due(&w->autosave, w->app, 1e300)) return 0;
  autosave_now(w);
  return 1;
}

// "Start fresh": back to the page as its URL opened it. The saved record stays until the next save replaces it.
EMSCRIPTEN_KEEPALIVE void ap_app_start_fresh() {
  WebApp* w = g_web;
  attnplay::Workspace ws;
  std::string error;
  if (attnplay::workspace_decode(w->fresh.data(), w->fresh.size(), &ws, &error)) attnplay::app_workspace_apply(&w->app, ws, &error);
  attnplay::app_autosave_start(&w->autosave, w->app);
}

// An author's page (or a test) switching the shown view, by name: the enum's order never crosses into JS.
EMSCRIPTEN_KEEPALIVE int ap_app_set_view(const char* name, int len) {
  const std::string n(name, size_t(len));
  attnplay::AppView v;
  if (!attnplay::app_view_from_name(n, &v))
    return answer(false, "setView: view must be one of " + attnplay::app_view_names(", ") + " (got \"" + n + "\")");
  g_web->app.state.sel.view = v;
  return answer(true, "");
}
EMSCRIPTEN_KEEPALIVE int ap_app_views() { return answer(true, attnplay::app_views_json(&g_web->app.state)); }
EMSCRIPTEN_KEEPALIVE int ap_app_a11y() { return answer(true, attnplay::app_a11y_json(&g_web->app)); }

EMSCRIPTEN_KEEPALIVE int ap_app_wants_text() { return ImGui::GetCurrentContext() && ImGui::GetIO().WantTextInput ? 1 : 0; }

EMSCRIPTEN_KEEPALIVE void ap_app_add_text(const char* utf8, int len) {
  // Through SDL's own queue, one code point per event, so the order with keypress text is kept.
  int i = 0;
  while (i < len) {
    int n = 1;
    const unsigned char c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0xF0) n = 4;
    else if (c >= 0xE0) n = 3;
    else if (c >= 0xC0) n = 2;
    n = std::min(n, len - i);
    SDL_Event e{};
    e.type = SDL_TEXTINPUT;
    e.text.windowID = g_web->window ? SDL_GetWindowID(g_web->window) : 0;
    std::memcpy(e.text.text, utf8 + i, size_t(n));
    e.text.text[n] = 0;
    SDL_PushEvent(&e);
    i += n;
  }
}

EMSCRIPTEN_KEEPALIVE const char* ap_result_ptr() { return g_result.data(); }
EMSCRIPTEN_KEEPALIVE int ap_result_len() { return int(g_result.size()); }

}  // extern "C"

int main() {
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
    std::printf("attnplay: SDL_Init failed: %s\n", SDL_GetError());
    return 1;
  }
  g_web = new WebApp();
  WebApp* w = g_web;
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_FLAGS, 0);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  w->window = SDL_CreateWindow("attnplay", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED, 1280, 720,
                               SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE);
  w->gl = w->window ? SDL_GL_CreateContext(w->window) : nullptr;
  if (!w->gl) {
    EM_ASM({ if (Module.onFatal) Module.onFatal('WebGL2 is not available: ' + UTF8ToString($0)); }, SDL_GetError());
    return 1;
  }
  SDL_GL_MakeCurrent(w->window, w->gl);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplSDL2_InitForOpenGL(w->window, w->gl);
  ImGui_ImplOpenGL3_Init("#version 300 es");
  if (!attnplay::renderer_init(&w->renderer, true)) std::printf("attnplay: heatmap renderer: %s\n", w->renderer.error.c_str());
  emscripten_set_webglcontextlost_callback("#canvas", nullptr, EM_FALSE, on_context_lost);
  emscripten_set_webglcontextrestored_callback("#canvas", nullptr, EM_FALSE, on_context_restored);
  w->app.host = std::make_shared<WebHost>(&w->renderer, "web (SDL2 + WebGL2, WebAssembly SIMD128)");
  w->app.page.embed = page_is_embed() != 0;
  std::string error;
  attnplay::app_init(&w->app, nlohmann::json::object(), &error);
  w->app.training.remote = &g_train_remote;
  w->app.pretrained_host = &g_pretrained_host;
  char* q = page_query();
  const std::string query = q;
  free(q);
  if (!apply_url(w, query, &error)) {
    w->app.state.error = error;  // shown in the UI; the defaults stay
    EM_ASM({ console.warn('attnplay: ' + UTF8ToString($0)); }, error.c_str());
  }
  if (w->app.state.preset_id.empty()) w->app.state.preset = w->app.state.config;
  w->app.state.undo.clear();
  w->fresh = attnplay::workspace_encode(attnplay::app_workspace_capture(w->app));
  emscripten_set_main_loop(frame, 0, 0);
  return 0;
}
