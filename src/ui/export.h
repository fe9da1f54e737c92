// attnplay ui: what File -> Export writes, and Import reads back.
//
//   export_csv             the focused head's matrices in one tidy table:
//                          matrix,row,row_token,col,col_token,value (scores, weights, context, q, k, v; masked = empty)
//   export_matrices_json   {layer, head, tokens, key_tokens, scores (null = masked), weights, context, q, k, v}
//   export_config_json     the config (re-importable: import gives back the same state)
//   export_weights         the model the views show (trained or loaded weights, else seeded) as safetensors (SPEC §5)
//   import_weights         a safetensors file -> the weights the views use (they must fit the current config)
//   import_config          a config file's text -> the state (all or nothing)
#pragma once

#include "ui/app.h"

#include <string>

namespace attnplay {

std::string export_csv(const App& app);
std::string export_matrices_json(const App& app);
std::string export_config_json(const App& app);
bool        export_weights(const App& app, std::string* bytes, std::string* error);
std::string export_basename(const App& app);   // "attnplay-L0-H1" for file names
bool        import_config(App* app, const std::string& text, std::string* error);
bool        import_weights(App* app, const std::string& bytes, std::string* error);

}  // namespace attnplay
