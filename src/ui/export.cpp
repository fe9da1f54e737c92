// attnplay ui: exports and config import. Contracts: export.h.
#include "ui/export.h"

#include "model/safetensors.h"
#include "model/weights.h"

#include <cmath>
#include <cstdio>

namespace attnplay {

using json = nlohmann::json;

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string num(float v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.9g", double(v));
  return b;
}

json matrix_json(const Mat& m, bool null_inf) {
  json rows = json::array();
  for (int i = 0; i < m.rows(); ++i) {
    json r = json::array();
    for (int j = 0; j < m.cols(); ++j) {
      const float v = m(i, j);
      if (null_inf && std::isinf(v)) r.push_back(nullptr);
      else r.push_back(std::isfinite(v) ? double(v) : 0.0);
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::vector<std::string> labels(const char* prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

}  // namespace

std::string export_basename(const App& app) {
  return "attnplay-L" + std::to_string(app.state.sel.layer) + "-H" + std::to_string(app.state.sel.head);
}

std::string export_csv(const App& app) {
  const Trace& t = app.state.trace;
  const HeadTrace& h = app_state_focused_head(app.state);
  std::string out = "matrix,row,row_token,col,col_token,value\n";
  auto emit = [&](const char* name, const Mat& m, const std::vector<std::string>& rows, const std::vector<std::string>& cols) {
    for (int i = 0; i < m.rows(); ++i)
      for (int j = 0; j < m.cols(); ++j) {
        out += name;
        out += "," + std::to_string(i) + "," + csv_field(i < int(rows.size()) ? rows[size_t(i)] : "") + "," + std::to_string(j) +
               "," + csv_field(j < int(cols.size()) ? cols[size_t(j)] : "") + ",";
        if (!std::isinf(m(i, j))) out += num(m(i, j));  // a masked score is an empty field
        out += "\n";
      }
  };
  const int d_k = int(h.q.cols()), d_v = int(h.v.cols());
  emit("scores", h.attn.scores, t.tokens, t.key_tokens);
  emit("weights", h.attn.weights, t.tokens, t.key_tokens);
  emit("context", h.attn.context, t.tokens, labels("d", d_v));
  emit("q", h.q, t.tokens, labels("d", d_k));
  emit("k", h.k, t.key_tokens, labels("d", d_k));
  emit("v", h.v, t.key_tokens, labels("d", d_v));
  return out;
}

std::string export_matrices_json(const App& app) {
  const Trace& t = app.state.trace;
  const HeadTrace& h = app_state_focused_head(app.state);
  json j = {{"layer", app.state.sel.layer}, {"head", app.state.sel.head}, {"tokens", t.tokens}, {"key_tokens", t.key_tokens},
            {"scores", matrix_json(h.attn.scores, true)}, {"weights", matrix_json(h.attn.weights, false)},
            {"context", matrix_json(h.attn.context, false)}, {"q", matrix_json(h.q, false)}, {"k", matrix_json(h.k, false)},
            {"v", matrix_json(h.v, false)}};
  return j.dump(1, ' ', false, json::error_handler_t::replace);
}

std::string export_config_json(const App& app) { return app.state.config.dump(2, ' ', false, json::error_handler_t::replace) + "\n"; }

bool export_weights(const App& app, std::string* bytes, std::string* error) {
  if (app.state.parsed.inputs.present) {
    *error = "explicit Q/K/V inputs have no model weights";
    return false;
  }
  const std::vector<uint8_t> b =
      safetensors_write(weights_to_safetensors(app.state.weights ? *app.state.weights : weights_seeded(app.state.parsed)));
  bytes->assign(b.begin(), b.end());
  return true;
}

bool import_weights(App* app, const std::string& bytes, std::string* error) {
  if (app->state.parsed.inputs.present) {
    *error = "explicit Q/K/V inputs have no model weights: choose a model first";
    return false;
  }
  SafeTensorsFile f;
  auto w = std::make_shared<ModelWeights>();
  if (!safetensors_read(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &f, error)) return false;
  if (!weights_from_safetensors(f, app->state.parsed, w.get(), error)) return false;
  return app_state_set_weights(&app->state, std::move(w), error);
}

bool import_config(App* app, const std::string& text, std::string* error) {
  if (text.size() > (64u << 20)) {
    *error = "the file is larger than 64 MiB";
    return false;
  }
  Config probe;
  if (!config_parse_text(text, &probe, error)) return false;  // same checks (and messages) as the CLI, depth included
  const json j = json::parse(text);
  app->state.preset_id.clear();
  app->state.compare.clear();
  return app_state_set(&app->state, j, error);
}

}  // namespace attnplay
