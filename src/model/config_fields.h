// attnplay model: the config's fields, in one table (../shared/SPEC.md §2). Everything that knows a field reads it
// from here: the parser and validator (config.cpp: known keys, integer ranges, enum spellings), the UI controls
// (their limits and combo entries), the URL parameters (url_state.cpp) and the README's field table
// (config_fields_markdown; a unit test keeps the README equal to it). A new field or spelling is one row here plus
// what it means (config.cpp stores it in Config).
//
// Index
//   ConfigFieldType, ConfigField      one row: where, type, range, default, spellings, URL name, help
//   config_fields                     every row, in the order the error messages list them
//   config_field                      a row by path ("attention.kind"); the path must exist
//   config_enum_name / _value         spelling <-> enum value of an ENUM row
//   config_fields_markdown            the README table
#pragma once

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
  CONFIG_FIELD_TYPE_INDICES,         // key indices (mask.padding) or [query, key] pairs (mask.cells)
  CONFIG_FIELD_TYPE_TENSOR,          // nested lists of numbers (inputs)
  CONFIG_FIELD_TYPE_OBJECT,          // an object of the rows whose parent it is
};

struct ConfigEnumValue {
  const char* name;                  // the JSON spelling
  int value;                         // the C++ enum's value
};

struct ConfigField {
  std::string parent;                // "" (top level), "attention", "attention.mask", "transformer", "inputs"
  std::string key;
  ConfigFieldType type = CONFIG_FIELD_TYPE_TEXT;
  long long min = 0, max = 0;        // INT: the accepted range
  int default_value = 0;             // INT, BOOL, ENUM: the default (the enum's value); derived defaults: see default_text
  std::vector<ConfigEnumValue> values;  // ENUM spellings; BOOL with a URL parameter: its URL spellings (false, true)
  std::string default_text;          // the default as the README shows it
  const char* url = nullptr;         // the plain URL parameter that sets it, or nullptr
  const char* help = "";
  std::string path() const { return parent.empty() ? key : parent + "." + key; }
};

const std::vector<ConfigField>& config_fields();                       // built once, limits from config_limits()
const ConfigField&              config_field(const std::string& path);  // asserts the path exists
const char* config_enum_name(const std::string& path, int value);       // "?" for a value the row does not have
bool        config_enum_value(const std::string& path, const std::string& name, int* out);
std::string config_fields_markdown();                                   // | Field | Type | Range / values | Default | URL | Meaning |

}  // namespace attnplay
