// attnplay ui: AppState edits. Contracts: app_state.h.
//
// Index
//   app_default_config, normalize, recompute     every field explicit; config -> trace (lean beyond the budget)
//   app_state_init / edit / set / merge          UI edits keep an invalid draft; the API is all or nothing
//   push_undo, gestures, undo / redo, presets    one undo step per edit or drag
//   tokens, text, mask cells and padding         the helpers the controls call
//   A/B: ab_swap, app_state_ab_*                 two AppSide values; the controls edit one
//   app_state_show_imported, app_state_set_weights, app_state_focus / focused_head
#include "ui/app_state.h"

#include "core/assert.h"
#include "model/config_edit.h"
#include "model/config_fields.h"
#include "ui/presets.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

namespace attnplay {

using json = nlohmann::json;

json app_default_config() { return config_explicit_defaults(); }

// Every SPEC field explicit: defaults under the given config (null and absent mean "default").
static json normalize(const json& cfg) {
  json out = app_default_config();
  out.merge_patch(cfg);  // merge_patch drops nulls: restore the fields whose default is null
  const json& d = app_default_config();
  for (const char* k : {"d_k", "d_v"})
    if (!out.contains(k)) out[k] = d[k];
  if (out["attention"].is_object() && out["attention"]["mask"].is_object() && !out["attention"]["mask"].contains("window"))
    out["attention"]["mask"]["window"] = d["attention"]["mask"]["window"];
  if (out.contains("inputs") && !out["inputs"].is_null()) {  // explicit matrices define heads, d_k and d_v
    out.erase("heads");
    out.erase("d_k");
    out.erase("d_v");
  }
  return config_json_drop_inapplicable(std::move(out), cfg);  // a default its mode does not take (seq2seq: text) goes
}

// The selection made valid for the current trace (after it changed without a recompute).
static void clamp_selection(AppState* s) {
  const int layers = int(s->trace.layers.size()), heads = int(s->trace.layers[0].heads.size());
  s->sel.layer = std::min(std::max(s->sel.layer, 0), layers - 1);
  s->sel.head = std::min(std::max(s->sel.head, 0), heads - 1);
  s->sel.query = std::min(std::max(s->sel.query, 0), int(s->trace.tokens.size()) - 1);
  s->sel.key = std::min(std::max(s->sel.key, 0), int(s->trace.key_tokens.size()) - 1);
  if (int(s->sel.heads_shown.size()) != heads) s->sel.heads_shown.assign(size_t(heads), true);
}

// A preset's comparison strip follows every edit: each variant is the new config with its patch over it.
static void compute_variants(AppState* s, const json& cfg, const TraceOptions& opt) {
  for (CompareVariant& v : s->compare) {
    json vc = cfg;
    vc.merge_patch(v.patch);
    Config c2;
    v.trace = Trace();
    v.error.clear();
    if (!config_parse(vc, &c2, &v.error) || !model_compute(c2, s->weights.get(), &v.trace, &v.error, opt)) v.trace = Trace();
    if (v.trace.seq2seq) v.trace = trace_band(v.trace, s->sel.band);
  }
}

// Parses and computes cfg; fills s->parsed/trace only on success.
static bool recompute(AppState* s, const json& cfg, std::string* error) {
  const auto t0 = std::chrono::steady_clock::now();
  Config c;
  if (!cfg.is_object()) {
    *error = "config must be a JSON object";
    return false;
  }
  if (!config_parse(cfg, &c, error)) return false;
  AppPretrained& p = s->pretrained;
  if (c.mode == MODEL_MODE_PRETRAINED) {  // the host computes it (app_pretrained_deliver brings the trace)
    if (c.pretrained.model.empty())
      return *error = "model: mode \"pretrained\" needs a model (File > Open model..., or ?model=folder/ in the URL)", false;
    p.wanted_config = cfg;
    ++p.wanted;
    p.requested_at = std::chrono::duration<double, std::milli>(t0.time_since_epoch()).count();
    return true;
  }
  Trace t;
  TraceOptions opt;
  opt.max_matrix_bytes = kAppMatrixBytes;
  opt.focus_layer = std::min(std::max(s->sel.layer, 0), (c.mode == MODEL_MODE_TRANSFORMER && !c.inputs.present ? c.layers : 1) - 1);
  opt.focus_head = std::min(std::max(s->sel.head, 0), c.heads - 1);
  try {
    if (!model_compute(c, s->weights.get(), &t, error, opt)) return false;
  } catch (const std::bad_alloc&) {
    *error = "out of memory: this config needs more memory than is available; use fewer tokens, heads or layers";
    return false;
  }
  s->parsed = std::move(c);
  if (t.seq2seq) {
    s->full = std::move(t);
    s->trace = trace_band(s->full, s->sel.band);
  } else {
    s->full = Trace();
    s->trace = std::move(t);
  }
  if (!p.wanted_config.is_null()) p.outcomes[p.wanted] = "";  // a pending request gives way to this config
  p.wanted_config = nullptr;
  p.shown_config = cfg;
  p.on_screen = false;
  p.download_done = -1;
  s->imported_name.clear();
  ++s->generation;
  clamp_selection(s);
  if (s->sel.hover_query >= int(s->trace.tokens.size())) s->sel.hover_query = -1;
  if (s->sel.hover_key >= int(s->trace.key_tokens.size())) s->sel.hover_key = -1;
  compute_variants(s, cfg, opt);
  s->last_compute_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

bool app_state_init(AppState* s, const json& config, std::string* error) {
  *s = AppState();
  std::string err;
  const json cfg = normalize(config);
  // A real model answers later (app_pretrained_deliver): until then the views draw the default config's trace.
  if (cfg.value("mode", std::string()) == "pretrained") recompute(s, app_default_config(), &err);
  if (recompute(s, cfg, &err)) {
    s->config = cfg;
    s->preset = cfg;
    return true;
  }
  if (error) *error = err;
  s->config = app_default_config();
  s->preset = s->config;
  recompute(s, s->config, &err);
  return false;
}

static void push_undo(AppState* s) {
  if (s->in_gesture && s->gesture_pushed) return;  // a drag is one undo step: its first edit pushed it
  s->gesture_pushed = s->in_gesture;
  s->undo.push_back(s->config);
  if (s->undo.size() > 500) s->undo.erase(s->undo.begin());
  s->redo.clear();
}

void app_state_begin_gesture(AppState* s) {
  s->in_gesture = true;
  s->gesture_pushed = false;
}

void app_state_end_gesture(AppState* s) { s->in_gesture = false; }

bool app_state_edit(AppState* s, const json& next_in) {
  const json next = normalize(next_in);
  if (next == s->config && !s->trace.imported) return !s->stale;  // (an imported trace gives way to any edit)
  push_undo(s);
  s->config = next;
  s->changed = true;
  std::string err;
  if (recompute(s, next, &err)) {
    s->stale = false;
    s->error.clear();
    return true;
  }
  s->stale = true;
  s->error = err;
  return false;
}

bool app_state_set(AppState* s, const json& next_in, std::string* error) {
  const json next = normalize(next_in);
  if (next == s->config && !s->stale && !s->trace.imported) return true;
  const json before = s->config;
  std::string err;
  if (!recompute(s, next, &err)) {  // recompute changes nothing unless it succeeds: a refusal leaves the state as it was
    if (error) *error = err;
    return false;
  }
  s->undo.push_back(before);
  s->redo.clear();
  s->config = next;
  s->stale = false;
  s->error.clear();
  s->changed = true;
  return true;
}

bool app_state_merge(AppState* s, const json& partial, std::string* error) {
  if (!partial.is_object()) {
    if (error) *error = std::string("setConfig takes an object (got ") + partial.type_name() + ")";
    return false;
  }
  json next = s->config;
  next.merge_patch(partial);
  // Switching between seq2seq (source/target) and the other modes (text/tokens): the fields of the mode left behind came
  // from the page's state, not from the caller, so they go (the caller's own are kept, and refused by name if wrong).
  return app_state_set(s, config_json_drop_inapplicable(std::move(next), partial), error);
}

static void restore(AppState* s, const json& cfg) {
  s->config = cfg;
  s->changed = true;
  std::string err;
  if (recompute(s, s->config, &err)) {
    s->stale = false;
    s->error.clear();
  } else {
    s->stale = true;
    s->error = err;
  }
}

bool app_state_undo(AppState* s) {
  if (s->undo.empty()) return false;
  s->redo.push_back(s->config);
  const json prev = s->undo.back();
  s->undo.pop_back();
  restore(s, prev);
  return true;
}

bool app_state_redo(AppState* s) {
  if (s->redo.empty()) return false;
  s->undo.push_back(s->config);
  const json next = s->redo.back();
  s->redo.pop_back();
  restore(s, next);
  return true;
}

void app_state_reset(AppState* s) { app_state_edit(s, s->preset); }

bool app_state_load_preset(AppState* s, const std::string& id) {
  const Preset* p = preset_find(id);
  if (!p) return false;
  json cfg = app_default_config();
  cfg.merge_patch(p->config);
  if (!p->config.contains("text")) cfg = normalize(p->config);  // (seq2seq takes source/target, not the default text)
  s->compare.clear();
  for (const PresetVariant& v : p->compare) s->compare.push_back(CompareVariant{int(v.label), v.patch, Trace(), ""});
  s->preset_id = id;
  s->sel.view = AppView(p->view);
  s->sel.layer = s->sel.head = s->sel.query = s->sel.key = 0;
  if (normalize(cfg) == s->config) {  // same config, new comparison strip: compute it
    std::string err;
    recompute(s, s->config, &err);
  } else {
    app_state_edit(s, cfg);
  }
  s->preset = s->config;
  return true;
}

// ---------------------------------------------------------------------------------------------------------
static TokenizerKind tokenizer_of(const json& cfg) {
  const std::string t = cfg.value("tokenizer", std::string("words"));
  return t == "chars" ? TOKENIZER_KIND_CHARS : t == "whitespace" ? TOKENIZER_KIND_WHITESPACE : TOKENIZER_KIND_WORDS;
}

static std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  for (const json& e : j)
    if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

std::vector<std::string> app_state_tokens(const AppState& s) {
  if ((s.config.contains("inputs") && !s.stale) || s.pretrained.on_screen) return s.trace.tokens;
  if (s.config.contains("tokens") && s.config["tokens"].is_array()) return string_list(s.config["tokens"]);
  if (s.config.contains("text") && s.config["text"].is_string())
    return tokenizer_split(tokenizer_of(s.config), s.config["text"].get<std::string>());
  return {};
}

std::vector<std::string> app_state_key_tokens(const AppState& s) {
  if (s.config.contains("inputs") && !s.stale) return s.trace.key_tokens;
  if (s.config.contains("key_tokens") && s.config["key_tokens"].is_array()) return string_list(s.config["key_tokens"]);
  if (s.config.contains("key_text") && s.config["key_text"].is_string())
    return tokenizer_split(tokenizer_of(s.config), s.config["key_text"].get<std::string>());
  return app_state_tokens(s);
}

// Drops mask indices that the new token counts put out of range (editing tokens must not strand the mask).
static void prune_mask(json* cfg, int n_q, int n_k) {
  json& m = (*cfg)["attention"]["mask"];
  if (m["padding"].is_array()) {
    json kept = json::array();
    for (const json& p : m["padding"])
      if (!p.is_number_integer() || (p.get<int>() >= 0 && p.get<int>() < n_k)) kept.push_back(p);
    m["padding"] = kept;
  }
  if (m["cells"].is_array()) {
    json kept = json::array();
    for (const json& c : m["cells"]) {
      const bool in = c.is_array() && c.size() == 2 && c[0].is_number_integer() && c[1].is_number_integer() &&
                      c[0].get<int>() < n_q && c[1].get<int>() < n_k;
      if (in || !c.is_array()) kept.push_back(c);
    }
    m["cells"] = kept;
  }
}

static bool edit_tokens(AppState* s, json next) {
  AppState probe;
  probe.config = next;
  const int n_q = int(app_state_tokens(probe).size()), n_k = int(app_state_key_tokens(probe).size());
  prune_mask(&next, n_q, n_k);
  return app_state_edit(s, next);
}

bool app_state_set_tokens(AppState* s, const std::vector<std::string>& tokens) {
  json next = s->config;
  next["tokens"] = tokens;
  return edit_tokens(s, next);
}

bool app_state_set_text(AppState* s, const std::string& text) {
  json next = s->config;
  next["text"] = text;
  next.erase("tokens");
  if (app_state_is_pretrained(*s)) {  // the model's tokenizer splits it (the engine refuses a stranded mask cell by name)
    next.erase("token_ids");
    return app_state_edit(s, next);
  }
  return edit_tokens(s, next);
}

bool app_state_toggle_cell(AppState* s, int query, int key, bool masked) {
  json next = s->config;
  json& cells = next["attention"]["mask"]["cells"];
  if (!cells.is_array()) cells = json::array();
  const json cell = {query, key};
  auto it = std::find(cells.begin(), cells.end(), cell);
  if (masked == (it != cells.end())) return false;  // nothing to change
  if (masked) cells.push_back(cell);
  else cells.erase(it);
  return app_state_edit(s, next);
}

bool app_state_toggle_padding(AppState* s, int key) {
  json next = s->config;
  json& pad = next["attention"]["mask"]["padding"];
  if (!pad.is_array()) pad = json::array();
  auto it = std::find(pad.begin(), pad.end(), json(key));
  if (it != pad.end()) pad.erase(it);
  else pad.push_back(key);
  return app_state_edit(s, next);
}

const char* app_state_error_for(const AppState& s, const char* field) {
  if (s.error.empty()) return nullptr;
  const size_t n = std::strlen(field);
  if (s.error.compare(0, n, field) != 0) return nullptr;
  const char next = s.error.size() > n ? s.error[n] : ' ';
  return (next == ' ' || next == '.' || next == '[' || next == ':' || next == ',') ? s.error.c_str() : nullptr;
}

std::string app_state_result_json(const AppState& s) {
  if (s.pretrained.on_screen) {  // SPEC §9's result: token_ids beside the tokens
    PretrainedRequest r;
    r.ids = s.pretrained.view.ids;
    std::string out = pretrained_result_json(s.trace, r);  // with the tokens as displayed: the vocabulary's instead
    const std::string shown = "\"tokens\":" + json(s.trace.tokens).dump(), raw = "\"tokens\":" + json(s.pretrained.view.tokens).dump();
    const size_t at = out.find(shown);
    ATTNPLAY_ASSERT(at != std::string::npos);
    return out.replace(at, shown.size(), raw);
  }
  return model_result_json(s.full.seq2seq ? s.full : s.trace);
}

static bool result_index(const AppState& s, const std::string& part, int layer, int head, std::string* error) {
  const Trace& t = s.trace;
  const bool per_layer = part != "logits" && part != "meta", per_head = per_layer && part != "output";
  if (per_layer && (layer < 0 || layer >= int(t.layers.size())))
    return *error = "result: layer " + std::to_string(layer) + " is out of range (" + std::to_string(t.layers.size()) + " layers)", false;
  if (per_head && (head < 0 || head >= int(t.layers[size_t(layer)].heads.size())))
    return *error = "result: head " + std::to_string(head) + " is out of range (" + std::to_string(t.layers[size_t(layer)].heads.size()) + " heads)", false;
  if (part == "logits" && t.logits.size() == 0) return *error = "result: this result has no logits", false;
  return true;
}

bool app_state_result_part(const AppState& s, const std::string& part, int layer, int head, std::string* out) {
  const Trace& t = s.trace;
  if (part == "meta") {
    json m = json::object();
    m["lazy"] = !s.full.seq2seq;
    if (s.full.seq2seq) return *out = m.dump(), true;
    json keys = json::array();
    if (s.pretrained.on_screen) {
      keys.push_back("token_ids");
      m["token_ids"] = s.pretrained.view.ids;
    }
    keys.push_back("tokens");
    m["tokens"] = s.pretrained.on_screen ? s.pretrained.view.tokens : t.tokens;
    if (t.cross) {
      keys.push_back("key_tokens");
      m["key_tokens"] = t.key_tokens;
    }
    keys.push_back("layers");
    m["layers"] = int(t.layers.size());
    json heads = json::array();
    for (const LayerTrace& l : t.layers) heads.push_back(int(l.heads.size()));
    m["heads"] = heads;
    m["logits"] = t.logits.size() > 0;
    if (t.logits.size() > 0) keys.push_back("logits");
    if (t.logits.size() > 0 && !t.vocab.empty()) {
      keys.push_back("vocab");
      m["vocab"] = t.vocab;
    }
    keys.push_back("fully_masked_rows");
    m["fully_masked_rows"] = t.fully_masked_rows;
    keys.push_back("warnings");
    json warnings = t.warnings;
    if (model_result_saturated(t)) warnings.push_back("some values were beyond float32 and are shown saturated at ±3.4e38");
    m["warnings"] = warnings;
    m["keys"] = keys;
    *out = json(m).dump(-1, ' ', false, json::error_handler_t::replace);
    return true;
  }
  if (part != "head" && part != "output" && part != "logits") return *out = "result: no part \"" + part + "\" (meta, head, output, logits)", false;
  if (!result_index(s, part, layer, head, out)) return false;
  if (part == "head") *out = model_result_head_json(t, layer, head);
  else *out = model_result_matrix_json(part == "output" ? t.layers[size_t(layer)].output : t.logits);
  return true;
}

bool app_state_result_matrix(const AppState& s, const std::string& part, int layer, int head, Mat* out, std::string* error) {
  const bool head_part = part == "scores" || part == "weights" || part == "context";
  if (!head_part && part != "output" && part != "logits")
    return *error = "result: no matrix \"" + part + "\" (scores, weights, context, output, logits)", false;
  if (!result_index(s, head_part ? "head" : part, layer, head, error)) return false;
  if (part == "output") *out = s.trace.layers[size_t(layer)].output;
  else if (part == "logits") *out = s.trace.logits;
  else {
    AttentionOutput scratch;
    const AttentionOutput& a = model_result_head(s.trace, layer, head, &scratch);
    *out = part == "scores" ? a.scores : part == "weights" ? a.weights : a.context;
  }
  return true;
}

// [Pretrained] ----------------------------------------------------------------------------------------------
bool app_state_is_pretrained(const AppState& s) { return s.config.value("mode", std::string()) == "pretrained"; }

bool app_pretrained_deliver(AppState* s, uint64_t id, bool ok, const uint8_t* bytes, size_t size, const std::string& error) {
  AppPretrained& p = s->pretrained;
  if (id != p.wanted || p.wanted_config.is_null()) return true;  // an older request's answer: a newer one is coming
  const double now = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
  p.last_ms = now - p.requested_at;
  p.download_done = -1;
  std::string err = error;
  PretrainedView v;
  Config c;
  const bool malformed = ok && !pretrained_unpack(bytes, size, &v, &err);
  if (ok && !malformed && !config_parse(p.wanted_config, &c, &err)) ok = false;
  if (!ok || malformed) {
    if (err.empty()) err = "model: the compute was refused";
    while (p.outcomes.size() > 256) p.outcomes.erase(p.outcomes.begin());
    p.outcomes[id] = err;
    p.wanted_config = nullptr;
    // Files that were opened in an earlier visit (a restored workspace, a reload): the page does not keep them. The
    // config stays, marked stale, so that everything else is restored and opening the folder again continues it.
    if (err.rfind("model: reopen ", 0) == 0) {
      s->stale = true;
      s->error = err;
      return true;
    }
    p.refusal = err;
    // The state as it was before the refused edit: the config on screen (the edit's undo step goes with it).
    if (!p.shown_config.is_null() && s->config != p.shown_config) {
      if (!s->undo.empty() && s->undo.back() == p.shown_config) s->undo.pop_back();
      s->config = p.shown_config;
      s->changed = true;
    }
    return !malformed;
  }
  s->parsed = std::move(c);
  s->full = Trace();
  s->trace = std::move(v.trace);
  p.view = std::move(v);
  p.view.trace = Trace();  // (moved to s->trace)
  p.on_screen = true;
  p.shown_config = p.wanted_config;
  p.wanted_config = nullptr;
  p.refusal.clear();
  while (p.outcomes.size() > 256) p.outcomes.erase(p.outcomes.begin());
  p.outcomes[id] = "";
  s->compare.clear();
  s->imported_name.clear();
  s->stale = false;
  s->error.clear();
  s->changed = true;
  ++s->generation;
  const std::array<int, 4> a = p.after;
  p.after = {-1, -1, -1, -1};
  if (a[0] >= 0) s->sel.layer = a[0];
  if (a[1] >= 0) s->sel.head = a[1];
  if (a[2] >= 0) s->sel.query = a[2];
  if (a[3] >= 0) s->sel.key = a[3];
  clamp_selection(s);
  if (s->sel.hover_query >= int(s->trace.tokens.size())) s->sel.hover_query = -1;
  if (s->sel.hover_key >= int(s->trace.key_tokens.size())) s->sel.hover_key = -1;
  return true;
}

namespace {
// Every file of the record opened again with the same size and digest (only once both are hashed); "" when they
// agree (or cannot be told yet), else the first file that differs or is missing.
std::string first_differing(const nlohmann::json& want, const nlohmann::json& got) {
  for (const nlohmann::json& w : want) {
    const std::string name = w.value("name", std::string());
    const nlohmann::json* g = nullptr;
    for (const nlohmann::json& e : got)
      if (e.value("name", std::string()) == name) g = &e;
    if (!g) return name + " (not among the files opened)";
    if (g->value("size", -1.0) != w.value("size", -2.0)) return name + " (another size)";
    const std::string a = w.value("sha256", std::string()), b = g->value("sha256", std::string());
    if (!a.empty() && !b.empty() && a != b) return name + " (another SHA-256)";
  }
  return "";
}
}  // namespace

void app_pretrained_local_update(AppState* s, const nlohmann::json& u) {
  if (!u.is_object() || !u.contains("key") || !u["key"].is_string()) return;
  const std::string key = u["key"].get<std::string>();
  AppLocalModel& m = s->pretrained.local[key];
  ++s->pretrained.local_generation;
  if (u.contains("bytes") && u["bytes"].is_number()) m.bytes = u["bytes"].get<double>();
  if (u.contains("files") && u["files"].is_array()) m.files = u["files"];
  for (const auto& [name, flag] : {std::pair<const char*, bool*>{"can_keep", &m.can_keep}, {"kept", &m.kept}, {"storing", &m.storing}})
    if (u.contains(name) && u[name].is_boolean()) *flag = u[name].get<bool>();
  if (u.contains("error") && u["error"].is_string()) m.error = u["error"].get<std::string>();
  const nlohmann::json& r = s->pretrained.restored_model;
  if (r.is_object() && r.value("source", std::string()) == key && r.contains("files") && r["files"].is_array())
    s->pretrained.files_differ = first_differing(r["files"], m.files);
}

nlohmann::json app_pretrained_model_record(const AppState& s) {
  if (!app_state_is_pretrained(s) || !s.config.contains("model") || !s.config["model"].is_string()) return nullptr;
  const std::string source = s.config["model"].get<std::string>();
  nlohmann::json rec = {{"source", source}};
  const auto it = s.pretrained.local.find(source);
  if (it != s.pretrained.local.end() && !it->second.files.empty()) rec["files"] = it->second.files;
  else if (s.pretrained.restored_model.is_object() && s.pretrained.restored_model.value("source", std::string()) == source &&
           s.pretrained.restored_model.contains("files"))
    rec["files"] = s.pretrained.restored_model["files"];  // not opened again yet: the record stays what it was
  return rec;
}

nlohmann::json app_pretrained_sweep_key(const nlohmann::json& config) {
  nlohmann::json k = config;
  if (k.is_object()) k.erase("ablate");
  return k;
}

bool app_pretrained_sweep_current(const AppState& s) {
  const AppSweep& w = s.pretrained.sweep;
  return w.id != 0 && s.pretrained.on_screen && w.config == app_pretrained_sweep_key(s.pretrained.shown_config);
}

void app_pretrained_sweep_update(AppState* s, uint64_t id, bool ok, bool finished, const std::string& json_or_error) {
  AppSweep& w = s->pretrained.sweep;
  if (id != w.id || !w.running) return;  // another sweep's, or a late answer to one that stopped
  if (!ok) {
    w.running = false;
    w.error = json_or_error.empty() ? "sweep: refused" : json_or_error;
    return;
  }
  nlohmann::json j = nlohmann::json::parse(json_or_error, nullptr, false);
  const auto dim = [&](const char* k) {  // a layer or head count within 1..4096 (the answer is the host's), else 0
    return j.is_object() && j.contains(k) && j[k].is_number_integer() && j[k].get<int64_t>() >= 1 && j[k].get<int64_t>() <= 4096
               ? int(j[k].get<int64_t>()) : 0;
  };
  const bool shaped = dim("layers") > 0 && dim("heads") > 0 && j.contains("probs") && j["probs"].is_array() &&
                      int(j["probs"].size()) == dim("layers") && j.contains("baseline") && j["baseline"].is_number();
  if (!shaped) {
    w.running = false;
    w.error = "sweep: the host's answer is malformed";
    return;
  }
  const int L = dim("layers"), H = dim("heads");
  const float base = j["baseline"].get<float>();
  w.change = Mat::Constant(L, H, std::numeric_limits<float>::quiet_NaN());
  for (int l = 0; l < L; ++l) {
    const nlohmann::json& row = j["probs"][size_t(l)];
    for (int h = 0; h < H && row.is_array() && h < int(row.size()); ++h)
      if (row[size_t(h)].is_number()) w.change(l, h) = row[size_t(h)].get<float>() - base;
  }
  w.state = std::move(j);
  w.error.clear();
  if (finished) w.running = false;
}

int app_pretrained_outcome(const AppState& s, uint64_t id, std::string* error) {
  const auto it = s.pretrained.outcomes.lower_bound(id);  // this request's, or that of the one that replaced it
  if (it == s.pretrained.outcomes.end()) return 0;
  if (it->second.empty()) return 1;
  if (error) *error = it->second;
  return 2;
}

void app_state_set_band(AppState* s, TraceBand band) {
  if (s->sel.band == band) return;
  s->sel.band = band;
  for (AppSide* side : {static_cast<AppSide*>(s), &s->ab.other})
    if (side->full.seq2seq) side->trace = trace_band(side->full, band);
  if (!s->compare.empty() && !s->stale) {
    TraceOptions opt;
    opt.max_matrix_bytes = kAppMatrixBytes;
    compute_variants(s, s->config, opt);
  }
  ++s->generation;
  clamp_selection(s);
}

static void ab_swap(AppState* s) {
  std::swap(static_cast<AppSide&>(*s), s->ab.other);
  s->compare.clear();
  s->preset_id.clear();
  s->changed = true;
  ++s->generation;
  clamp_selection(s);
}

void app_state_ab_start(AppState* s) {
  s->ab.other = static_cast<const AppSide&>(*s);  // B: a copy of this side, with a history of its own
  s->ab.other.undo.clear();
  s->ab.other.redo.clear();
  s->ab.on = true;
  s->ab.editing_b = false;
  ++s->generation;
}

void app_state_ab_edit(AppState* s, bool b) {
  if (!s->ab.on || s->ab.editing_b == b) return;
  ab_swap(s);
  s->ab.editing_b = b;
}

void app_state_ab_stop(AppState* s) {
  s->ab = AppAb();
  ++s->generation;
}

const Trace& app_state_ab_trace(const AppState& s, bool b) {
  return (b == s.ab.editing_b) ? s.trace : s.ab.other.trace;
}

void app_state_show_imported(AppState* s, Trace trace, const std::string& name) {
  s->ab = AppAb();  // an imported file is compared with nothing
  s->trace = std::move(trace);
  s->full = Trace();
  s->imported_name = name;
  s->compare.clear();
  s->preset_id.clear();
  ++s->generation;
  clamp_selection(s);
  s->sel.hover_query = s->sel.hover_key = -1;
  s->stale = false;
  s->error.clear();
}

bool app_state_set_weights(AppState* s, std::shared_ptr<const ModelWeights> weights, std::string* error) {
  std::shared_ptr<const ModelWeights> before = std::move(s->weights);
  s->weights = std::move(weights);
  std::string err;
  if (!recompute(s, s->config, &err)) {
    s->weights = std::move(before);
    if (error) *error = err;
    return false;
  }
  s->stale = false;
  s->error.clear();
  s->changed = true;
  return true;
}

// A lean trace keeps the matrices of one head: (layer, head) clamped to the trace.
static void focus_trace(Trace* t, int layer, int head) {
  if (!t->lean || t->layers.empty()) return;
  layer = std::min(std::max(layer, 0), int(t->layers.size()) - 1);
  head = std::min(std::max(head, 0), int(t->layers[size_t(layer)].heads.size()) - 1);
  for (int l = 0; l < int(t->layers.size()); ++l)
    for (int h = 0; h < int(t->layers[size_t(l)].heads.size()); ++h)
      if ((l != layer || h != head) && trace_head_has_matrices(*t, l, h)) trace_head_release(t, l, h);
  trace_head_materialize(t, layer, head);
}

void app_state_focus(AppState* s) {
  focus_trace(&s->trace, s->sel.layer, s->sel.head);
  if (s->ab.on) focus_trace(&s->ab.other.trace, s->sel.layer, s->sel.head);
  for (CompareVariant& v : s->compare) focus_trace(&v.trace, s->sel.layer, s->sel.head);
}

const HeadTrace& app_state_focused_head(const AppState& cs) {
  AppState& s = const_cast<AppState&>(cs);  // materialising is a cache fill: the numbers it exposes do not change
  app_state_focus(&s);
  return s.trace.layers[size_t(s.sel.layer)].heads[size_t(s.sel.head)];
}

}  // namespace attnplay
