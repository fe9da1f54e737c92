// attnplay model: config JSON edits through the field table. Contracts: config_edit.h.
#include "model/config_edit.h"

#include "model/config_fields.h"

namespace attnplay {

using json = nlohmann::json;

namespace {

// The object at a dotted path's parent, or nullptr; the last key in *key.
json* parent_of(json* c, const std::string& path, std::string* key) {
  json* at = c;
  size_t b = 0;
  for (size_t e; (e = path.find('.', b)) != std::string::npos; b = e + 1) {
    if (!at->is_object() || !at->contains(path.substr(b, e - b))) return nullptr;
    at = &(*at)[path.substr(b, e - b)];
  }
  *key = path.substr(b);
  return at->is_object() ? at : nullptr;
}

bool has_path(const json& c, const std::string& path) {
  std::string key;
  const json* at = parent_of(const_cast<json*>(&c), path, &key);
  return at && at->contains(key);
}

void erase_path(json* c, const std::string& path) {
  std::string key;
  if (json* at = parent_of(c, path, &key)) at->erase(key);
}

int mode_of(const json& c) {
  int mode = config_field("mode").default_value;
  if (c.contains("mode") && c["mode"].is_string()) config_enum_value("mode", c["mode"].get<std::string>(), &mode);
  return mode;
}
bool is_seq2seq(const json& c) { return mode_of(c) == MODEL_MODE_SEQ2SEQ; }

}  // namespace

const char* config_mode_name(ModelMode mode) { return config_enum_name("mode", mode); }

json config_json_drop_inapplicable(json c, const json& given) {
  for (const std::string& path : config_fields_for_mode(mode_of(c), false))
    if (!has_path(given, path)) erase_path(&c, path);
  return c;
}

json config_json_switch_mode(json c, ModelMode mode) {
  const bool was_s2s = is_seq2seq(c);
  c["mode"] = config_mode_name(mode);
  const bool s2s = mode == MODEL_MODE_SEQ2SEQ;
  auto text_of = [&c](const char* text, const char* tokens) -> json {
    if (c.contains(tokens) && c[tokens].is_array()) return c[tokens];
    return c.contains(text) ? c[text] : json();
  };
  if (s2s && !was_s2s) {  // a cross-attention's keys become the source and its queries the target (the decoder's)
    const json q = text_of("text", "tokens"), k = text_of("key_text", "key_tokens");
    const json src = k.is_null() ? q : k;
    c[src.is_array() ? "source_tokens" : "source"] = src;
    c[q.is_array() ? "target_tokens" : "target"] = q;
  } else if (!s2s && was_s2s) {
    const json src = text_of("source", "source_tokens");
    c[src.is_array() ? "tokens" : "text"] = src;
  }
  return config_json_drop_inapplicable(std::move(c));
}

json config_json_set_input(json c, ModelMode mode, const json& input) {
  c["mode"] = config_mode_name(mode);
  for (const ConfigField& f : config_fields())
    if (f.input) erase_path(&c, f.path());
  for (auto it = input.begin(); it != input.end(); ++it) c[it.key()] = it.value();
  return config_json_drop_inapplicable(std::move(c));
}

json config_json_reset_mask(json c, bool causal) {
  json& m = c["attention"]["mask"];
  m = config_explicit_defaults()["attention"]["mask"];
  m["causal"] = causal;
  return c;
}

}  // namespace attnplay
