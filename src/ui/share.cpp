// attnplay ui: URL <-> UI state. Contracts: share.h.
#include "ui/share.h"

#include "model/url_state.h"
#include "ui/i18n.h"
#include "ui/presets.h"

#include <algorithm>
#include <cstdlib>

namespace attnplay {

using json = nlohmann::json;

namespace {


struct Param {
  std::string key, value;
};

std::vector<Param> split_query(const std::string& query) {
  std::vector<Param> out;
  for (auto& [k, v] : url_query_params(query)) out.push_back({std::move(k), std::move(v)});
  return out;
}

std::vector<std::string> split_list(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t end = v.find(',', start);
    if (end == std::string::npos) end = v.size();
    if (end > start) out.push_back(v.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool small_int(const std::string& v, int lo, int hi, int* out) {
  if (v.empty() || v.size() > 6) return false;
  for (char c : v)
    if (c < '0' || c > '9') return false;
  const int x = std::atoi(v.c_str());
  if (x < lo || x > hi) return false;
  *out = x;
  return true;
}

std::string shown(const std::string& v) { return "\"" + v.substr(0, 40) + (v.size() > 40 ? "..." : "") + "\""; }

}  // namespace

const std::vector<std::string>& share_hide_names() {
  static const std::vector<std::string> names = {
      "menu", "controls", "details", "tabs", "tokens", "model", "attention", "mask", "history", "text", "tokenizer",
      "chips", "cross", "mode", "d_model", "heads", "seed", "transformer", "kind", "scale", "temperature", "causal",
      "window", "padding", "cells", "head_selector", "walkthrough", "rowstats", "nexttoken", "about", "compare",
      "preset_note", "train", "ab", "head_finder"};
  return names;
}

// band= (mode seq2seq), in TraceBand order.
const char* const kBandNames[TRACE_BAND_COUNT] = {"encoder", "decoder_self", "cross"};

std::string share_query(const App& app) {
  const AppState& s = app.state;
  const AppSelection& sel = s.sel;
  std::string q;
  if (!s.preset_id.empty()) q += "preset=" + s.preset_id + "&";
  // A model opened from files stays on this device: the link carries the text and settings, not the model.
  json config = s.config;
  if (config.contains("model") && config["model"].is_string() && config["model"].get<std::string>().rfind("local:", 0) == 0) {
    config.erase("model");
    config["mode"] = "transformer";
    for (const char* k : {"token_ids", "ablate", "add_special_tokens", "logits"}) config.erase(k);
  }
  q += url_state_encode(config);
  q += std::string("&view=") + app_view_info(sel.view).name;
  if (s.full.seq2seq) q += std::string("&band=") + kBandNames[sel.band];
  q += "&layer=" + std::to_string(sel.layer) + "&head=" + std::to_string(sel.head);
  if (sel.mean_heads) q += "&mean=1";
  q += "&cell=" + std::to_string(sel.query) + "," + std::to_string(sel.key);
  if (std::find(sel.heads_shown.begin(), sel.heads_shown.end(), false) != sel.heads_shown.end()) {
    std::string list;
    for (size_t h = 0; h < sel.heads_shown.size(); ++h)
      if (sel.heads_shown[h]) list += (list.empty() ? "" : ",") + std::to_string(h);
    q += "&shown=" + (list.empty() ? std::string("none") : list);
  }
  if (app.weights_full_range) q += "&range=01";
  if (app.lang != LANG_EN) q += std::string("&lang=") + i18n_lang_code(Lang(app.lang));
  return q;
}

bool share_apply(App* app, const std::string& query, std::string* error) {
  auto bad = [&](const std::string& m) {
    if (error) *error = "URL parameter " + m;
    return false;
  };
  const std::vector<Param> params = split_query(query);
  // Validate everything first: nothing changes unless the whole URL is good.
  std::string preset;
  int view = -1, layer = -1, head = -1, cell_q = -1, cell_k = -1, lang = -1, band = -1, mean = -1;
  bool range01 = false, readonly = false, has_shown = false, ab = false;
  std::vector<int> shown_heads;
  std::set<std::string> hidden;
  for (const Param& p : params) {
    if (p.key == "preset") {
      if (!preset_find(p.value)) {
        std::string ids;
        for (const Preset& pr : presets()) ids += (ids.empty() ? "" : ", ") + pr.id;
        return bad("preset: unknown preset " + shown(p.value) + " (known: " + ids + ")");
      }
      preset = p.value;
    } else if (p.key == "view") {
      AppView v;
      if (!app_view_from_name(p.value, &v)) return bad("view: must be one of " + app_view_names(", ") + " (got " + shown(p.value) + ")");
      view = v;
    } else if (p.key == "layer") {
      if (!small_int(p.value, 0, 63, &layer)) return bad("layer: must be a layer number (got " + shown(p.value) + ")");
    } else if (p.key == "head") {
      if (!small_int(p.value, 0, 63, &head)) return bad("head: must be a head number (got " + shown(p.value) + ")");
    } else if (p.key == "cell") {
      const auto parts = split_list(p.value);
      if (parts.size() != 2 || !small_int(parts[0], 0, 4095, &cell_q) || !small_int(parts[1], 0, 4095, &cell_k))
        return bad("cell: must be QUERY,KEY (got " + shown(p.value) + ")");
    } else if (p.key == "shown") {
      has_shown = true;
      if (p.value != "none")
        for (const std::string& h : split_list(p.value)) {
          int x;
          if (!small_int(h, 0, 63, &x)) return bad("shown: must list head numbers (got " + shown(p.value) + ")");
          shown_heads.push_back(x);
        }
    } else if (p.key == "band") {
      for (int b = 0; b < TRACE_BAND_COUNT; ++b)
        if (p.value == kBandNames[b]) band = b;
      if (band < 0) return bad("band: must be encoder, decoder_self or cross (got " + shown(p.value) + ")");
    } else if (p.key == "mean") {
      if (p.value != "1" && p.value != "0") return bad("mean: must be 1 or 0 (got " + shown(p.value) + ")");
      mean = p.value == "1";
    } else if (p.key == "range") {
      if (p.value != "01" && p.value != "max") return bad("range: must be 01 or max (got " + shown(p.value) + ")");
      range01 = p.value == "01";
    } else if (p.key == "lang") {
      Lang l;
      if (!i18n_parse_lang(p.value, &l)) return bad("lang: must be en or zh (got " + shown(p.value) + ")");
      lang = l;
    } else if (p.key == "readonly") {
      if (p.value != "1" && p.value != "0" && p.value != "true" && p.value != "false")
        return bad("readonly: must be 1 or 0 (got " + shown(p.value) + ")");
      readonly = p.value == "1" || p.value == "true";
    } else if (p.key == "ab") {  // embed.html shows the A/B button only when asked for
      if (p.value != "1" && p.value != "0") return bad("ab: must be 1 or 0 (got " + shown(p.value) + ")");
      ab = p.value == "1";
    } else if (p.key == "hide") {
      for (const std::string& h : split_list(p.value)) {
        if (std::find(share_hide_names().begin(), share_hide_names().end(), h) == share_hide_names().end())
          app->notices.push_back("hide=" + h.substr(0, 40) + " is not a panel or control name; ignored");
        else
          hidden.insert(h);
      }
    }
  }
  json partial;
  if (!url_state_decode(query, &partial, error)) return false;
  // Apply: preset, then the config (cfg= and plain parameters) over it, then the view.
  AppState& s = app->state;
  const json before = s.config;
  const std::string before_preset = s.preset_id;
  const auto before_compare = s.compare;
  if (!preset.empty()) app_state_load_preset(&s, preset);
  if (!partial.empty() && !app_state_merge(&s, partial, error)) {
    // all or nothing: back to where we were
    s.preset_id = before_preset;
    s.compare = before_compare;
    std::string ignored;
    app_state_set(&s, before, &ignored);
    return false;
  }
  if (!preset.empty() || !partial.empty()) {
    s.preset = s.config;
    s.undo.clear();
    s.redo.clear();
  }
  if (view >= 0) s.sel.view = AppView(view);
  if (s.pretrained.busy()) s.pretrained.after = {layer, head, cell_q, cell_k};  // a real model's sizes come with it
  if (band >= 0) app_state_set_band(&s, TraceBand(band));  // (before layer and cell: the band's own sizes bound them)
  if (mean >= 0) s.sel.mean_heads = mean == 1;
  if (layer >= 0) s.sel.layer = std::min(layer, int(s.trace.layers.size()) - 1);
  // The trace's own head count: an imported file's differs from the config's.
  const int trace_heads = s.trace.layers.empty() ? s.parsed.heads : int(s.trace.layers[0].heads.size());
  if (head >= 0) s.sel.head = std::min(head, trace_heads - 1);
  if (cell_q >= 0) {  // the shown rows and columns (a seq2seq band's, not the config's target)
    s.sel.query = std::min(cell_q, int(s.trace.tokens.size()) - 1);
    s.sel.key = std::min(cell_k, int(s.trace.key_tokens.size()) - 1);
  }
  if (has_shown) {
    s.sel.heads_shown.assign(size_t(trace_heads), false);
    for (int h : shown_heads)
      if (h < trace_heads) s.sel.heads_shown[size_t(h)] = true;
  }
  app->weights_full_range = range01;
  if (lang >= 0) app->lang = Lang(lang);
  app->page.readonly = readonly;
  if (app->page.embed && !ab) hidden.insert("ab");
  app->page.hidden = hidden;
  app->page.single_view = app->page.embed && view >= 0;
  return true;
}

}  // namespace attnplay
