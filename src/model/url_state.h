// attnplay model: URL state (../shared/SPEC.md §6) -> a partial config to merge over the defaults.
//
//   ?cfg=<base64url JSON object>                       the full state (padding optional)
//   ?text=..&tokenizer=..&heads=..&d_model=..&kind=..&mask=causal&mode=..&seed=..   hand-written links
// Plain parameters are applied over cfg. Other parameters (page options such as hide= or lang=) are ignored
// here. The URL is untrusted: sizes are capped, and values only ever become config fields, which
// config_parse then validates like any other config.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace attnplay {

bool url_state_decode(const std::string& query, nlohmann::json* partial, std::string* error);  // query: "?a=b&c=d" or "a=b"
std::string url_state_encode(const nlohmann::json& config);                                     // "cfg=<base64url>"
std::string base64url_encode(const std::string& bytes);
bool        base64url_decode(const std::string& text, std::string* bytes);                      // false on a bad alphabet/length
std::string url_percent_decode(const std::string& s);                                            // %XX and '+' -> bytes
std::vector<std::pair<std::string, std::string>> url_query_params(const std::string& query);      // "?a=b&c" -> (a,b),(c,"")

}  // namespace attnplay
