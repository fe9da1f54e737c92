// attnplay model: URL state. Contracts: url_state.h.
#include "model/url_state.h"

#include "model/config.h"
#include "model/config_fields.h"

#include <cstdlib>

namespace attnplay {

using json = nlohmann::json;

static constexpr size_t kMaxQueryBytes = 1 << 20;

static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(const std::string& in) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
  } else if (i + 2 == in.size()) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode(const std::string& text, std::string* out) {
  std::string s = text;
  while (!s.empty() && s.back() == '=') s.pop_back();
  if (s.size() % 4 == 1) return false;
  out->clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '-' || c == '+') v = 62;  // '+' and '/' too: links pasted from standard base64
    else if (c == '_' || c == '/') v = 63;
    else return false;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(char((acc >> bits) & 0xFF));
    }
  }
  return true;
}

std::string url_percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(uint8_t(s[i + 1])) && std::isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

static bool parse_int(const std::string& v, long long* out) {
  if (v.empty() || v.size() > 18) return false;
  size_t i = v[0] == '-' ? 1 : 0;
  if (i == v.size()) return false;
  for (size_t k = i; k < v.size(); ++k)
    if (!std::isdigit(uint8_t(v[k]))) return false;
  *out = std::atoll(v.c_str());
  return true;
}

bool url_state_decode(const std::string& query, json* partial, std::string* error) {
  auto bad = [&](const std::string& m) {
    if (error) *error = "URL " + m;
    return false;
  };
  if (query.size() > kMaxQueryBytes) return bad("is too long (at most 1 MiB)");
  json base = json::object(), plain = json::object();
  for (const auto& [key, val] : url_query_params(query)) {
    long long n = 0;
    if (key == "cfg") {
      std::string text;
      if (!base64url_decode(val, &text)) return bad("parameter cfg: not valid base64url");
      if (!json_nesting_ok(text)) return bad("parameter cfg: JSON is nested too deeply (at most 32 levels)");
      json j = json::parse(text, nullptr, false);
      if (j.is_discarded()) return bad("parameter cfg: not valid JSON after base64url decoding");
      if (!j.is_object()) return bad("parameter cfg: must encode a JSON object");
      base = std::move(j);
    } else {
      // The plain parameters: the config field table's rows with a URL name (config_fields.h).
      for (const ConfigField& f : config_fields()) {
        if (!f.url || key != f.url) continue;
        json* at = &plain;
        for (size_t start = 0;;) {  // the row's path: nested objects
          const size_t dot = f.path().find('.', start);
          at = &(*at)[f.path().substr(start, dot - start)];
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
        if (f.type == CONFIG_FIELD_TYPE_INT) {
          if (!parse_int(val, &n)) return bad("parameter " + key + ": must be an integer (got \"" + val.substr(0, 40) + "\")");
          *at = n;
        } else if (f.type == CONFIG_FIELD_TYPE_BOOL) {  // its URL spellings: false, true
          if (val != f.values[0].name && val != f.values[1].name)
            return bad("parameter " + key + ": must be \"" + f.values[1].name + "\" or \"" + f.values[0].name + "\" (got \"" + val.substr(0, 40) + "\")");
          *at = val == f.values[1].name;
        } else {
          *at = val;  // strings and spellings: the config's validation names a bad one
        }
      }
    }
  }
  // ?model=models/distilgpt2/ opens that checkpoint: a model names mode pretrained unless the link says otherwise.
  if (plain.contains("model") && !plain.contains("mode") && !base.contains("mode")) plain["mode"] = "pretrained";
  base.merge_patch(plain);
  *partial = std::move(base);
  return true;
}

std::vector<std::pair<std::string, std::string>> url_query_params(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> out;
  const size_t first = !query.empty() && query[0] == '?' ? 1 : 0;
  size_t start = first;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string::npos) end = query.size();
    const std::string pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    out.emplace_back(url_percent_decode(pair.substr(0, eq)), eq == std::string::npos ? "" : url_percent_decode(pair.substr(eq + 1)));
  }
  return out;
}

std::string url_state_encode(const json& config) { return "cfg=" + base64url_encode(config.dump()); }

}  // namespace attnplay
