// attnplay model: the config's fields, in one table (../shared/SPEC.md §2). Everything that knows a field reads it
// from here: the parser and validator (config.cpp: known keys, integer ranges, enum spellings, every default: a
// default Config is the parse of {}), the app's explicit config (config_default_json: what app_default_config
// writes), the UI controls (their limits, defaults and combo entries), the URL parameters (url_state.cpp) and the
// README's field table (config_fields_markdown; a unit test keeps the README equal to it). A new field or spelling
// is one row here plus what it means (config.cpp stores it in Config).
//
// Index
//   ConfigFieldType, ConfigField      one row: where, type, range, default, spellings, URL name, modes, help
// Edits of a config's JSON that go through this table (switching modes, a new sentence): config_edit.h.
//   config_fields                     every row, in the order the error messages list them
//   config_field                      a row by path ("attention.kind"); the path must exist
//   config_enum_name / _value         spelling <-> enum value of an ENUM row
//   config_default_json               a row's default as JSON (null: derived from other fields, or none)
//   config_explicit_defaults          the object of every row the app writes explicitly (ConfigField::in_app)
//   config_fields_for_mode            the paths a mode takes / does not take (switching modes)
//   config_fields_markdown            the README table
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace attnplay {

enum ConfigFieldType {
  CONFIG_FIELD_TYPE_TEXT,            // a string
  CONFIG_FIELD_TYPE_TOKENS,          // a non-empty list of strings
  CONFIG_FIELD_TYPE_INT,             // an integer in [min, max]
  CONFIG_FIELD_TYPE_NUMBER,          // a positive finite float32
  CONFIG_FIELD_TYPE_BOOL,            // true / false
  CONFIG_FIELD_TYPE_ENUM,            // one of the spellings
  CONFIG_FIELD_TYPE_ENUM_OR_NUMBER,  // one of the spellings, or a positive number (attention.scale)
  CONFIG_FIELD_TYPE_INDICES,         // key indices (mask.padding) or pairs (mask.cells: [query, key]; ablate: [layer, head])
  CONFIG_FIELD_TYPE_IDS,             // a list of non-negative integers (token_ids)
  CONFIG_FIELD_TYPE_MODEL,           // a folder (a string), or a loaded model's handle (an integer: the JS API's)
  CONFIG_FIELD_TYPE_TENSOR,          // nested lists of numbers (inputs)
  CONFIG_FIELD_TYPE_OBJECT,          // an object of the rows whose parent it is
};

struct ConfigEnumValue {
  const char* name;                  // the JSON spelling
  int value;                         // the C++ enum's value
};

// Which modes a field applies to, one bit per ModelMode (switching modes: the fields of the mode left behind go; mode
// pretrained: a field the model fixes is refused by name).
enum ConfigFieldModes {
  CONFIG_FIELD_MODES_ATTENTION = 1 << 0,
  CONFIG_FIELD_MODES_TRANSFORMER = 1 << 1,
  CONFIG_FIELD_MODES_SEQ2SEQ = 1 << 2,
  CONFIG_FIELD_MODES_PRETRAINED = 1 << 3,
  CONFIG_FIELD_MODES_TEXT = CONFIG_FIELD_MODES_ATTENTION | CONFIG_FIELD_MODES_TRANSFORMER,  // text or tokens
  CONFIG_FIELD_MODES_SEEDED = CONFIG_FIELD_MODES_TEXT | CONFIG_FIELD_MODES_SEQ2SEQ,  // the models attnplay makes itself
  CONFIG_FIELD_MODES_ALL = CONFIG_FIELD_MODES_SEEDED | CONFIG_FIELD_MODES_PRETRAINED,
};
bool config_field_applies(const struct ConfigField& f, int mode);  // mode: a ModelMode

struct ConfigField {
  std::string parent;                // "" (top level), "attention", "attention.mask", "transformer", "inputs"
  std::string key;
  ConfigFieldType type = CONFIG_FIELD_TYPE_TEXT;
  long long min = 0, max = 0;        // INT: the accepted range
  int default_value = 0;             // INT, BOOL, ENUM: the default (the enum's value), from default_json
  std::string default_json = "null"; // the default as JSON text ("null": derived from other fields, or none)
  std::vector<ConfigEnumValue> values;  // ENUM spellings; BOOL with a URL parameter: its URL spellings (false, true)
  std::string default_text;          // the default as the README shows it
  bool in_app = false;               // the app's config writes it explicitly, its default included (app_default_config)
  bool input = false;                // one of the model's inputs (text, tokens, source, inputs, ...): a new sentence
                                     //   replaces all of them (config_json_set_input)
  int modes = CONFIG_FIELD_MODES_ALL;  // ConfigFieldModes bits
  const char* url = nullptr;         // the plain URL parameter that sets it, or nullptr
  std::string help;
  std::string path() const { return parent.empty() ? key : parent + "." + key; }
};

const std::vector<ConfigField>& config_fields();                       // built once, limits from config_limits()
const ConfigField&              config_field(const std::string& path);  // asserts the path exists
const char* config_enum_name(const std::string& path, int value);       // "?" for a value the row does not have
bool        config_enum_value(const std::string& path, const std::string& name, int* out);
const nlohmann::json& config_default_json(const std::string& path);     // the row's default (asserts the path exists)
const nlohmann::json& config_explicit_defaults();                       // {"text": ..., "attention": {...}, ...}
std::vector<std::string> config_fields_for_mode(int mode, bool applies);  // paths whose modes do / do not include it
std::string config_fields_markdown();                                   // | Field | Type | Range / values | Default | URL | Meaning |

}  // namespace attnplay
