// attnplay model: edits of a config's JSON that the UI, the Train panel and setConfig's merge make, all through the
// field table (config_fields.h: which modes a field applies to, which fields are the model's inputs, the defaults),
// never through lists of key names of their own.
//
// Index
//   config_json_drop_inapplicable   the fields the config's mode does not take, gone (unless the caller gave them)
//   config_json_switch_mode         another mode, its sentences carried over (cross keys <-> source, queries <-> target)
//   config_json_set_input           a new input (text, tokens, source / target...) replacing every other input field
//   config_json_reset_mask          the mask back to its defaults (optionally causal)
#pragma once

#include "model/config.h"

#include <nlohmann/json.hpp>

#include <string>

namespace attnplay {

// c's mode (its "mode" field, or the default) decides; given: a partial the caller set (setConfig): its fields stay,
// right or wrong (wrong ones are refused by name later), only the fields that came from elsewhere go.
nlohmann::json config_json_drop_inapplicable(nlohmann::json c, const nlohmann::json& given = nlohmann::json::object());
nlohmann::json config_json_switch_mode(nlohmann::json c, ModelMode mode);
// input: an object of input fields ({"text": ..., "tokenizer": ...} or {"source_tokens": [...], "target_tokens": [...]})
// set in mode `mode`; every other input field is removed (tokens would override a new text, inputs every sentence).
nlohmann::json config_json_set_input(nlohmann::json c, ModelMode mode, const nlohmann::json& input);
nlohmann::json config_json_reset_mask(nlohmann::json c, bool causal = false);
const char*    config_mode_name(ModelMode mode);  // "attention", "transformer", "seq2seq" (the table's spelling)

}  // namespace attnplay
