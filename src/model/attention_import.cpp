// attnplay model: importing attention maps. Formats and shapes: attention_import.h. Every length and offset read
// from a file is checked against the bytes that are there before it is used.
//
// Index
//   parse_npy, npy_floats, npy_strings, parse_npz   .npy / .npz (stored or deflated members)
//   json_fill, json_array, json_strings             JSON {"attention": [...], "tokens": [...]}
//   to_layers, labels                               any rank 2..5 -> layers x heads x n_q x n_k
//   attention_import, attention_import_trace, attention_import_json
#include "model/attention_import.h"

#include "model/config.h"
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstring>
#include <map>

namespace attnplay {

namespace {

using json = nlohmann::json;

struct ImportError {
  std::string message;
};

// An n-dimensional float array, row-major.
struct Array {
  std::vector<int64_t> shape;
  std::vector<float> data;
};

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }

// ---- .npy -------------------------------------------------------------------------------------------------
// Header: "\x93NUMPY", major, minor, header length (u16 in 1.0, u32 in 2.0/3.0), then a Python dict literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 4, 6, 6), }.
struct NpyArray {
  std::string descr;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t bytes = 0;
};

std::string dict_value(const std::string& h, const std::string& key, const std::string& what) {
  const size_t k = h.find("'" + key + "'");
  if (k == std::string::npos) throw ImportError{what + ": the .npy header has no '" + key + "'"};
  size_t p = h.find(':', k);
  if (p == std::string::npos) throw ImportError{what + ": malformed .npy header"};
  ++p;
  while (p < h.size() && h[p] == ' ') ++p;
  if (p >= h.size()) throw ImportError{what + ": malformed .npy header"};
  if (h[p] == '\'') {
    const size_t e = h.find('\'', p + 1);
    if (e == std::string::npos) throw ImportError{what + ": malformed .npy header"};
    return h.substr(p + 1, e - p - 1);
  }
  if (h[p] == '(') {
    const size_t e = h.find(')', p);
    if (e == std::string::npos) throw ImportError{what + ": malformed .npy header"};
    return h.substr(p + 1, e - p - 1);
  }
  size_t e = p;
  while (e < h.size() && h[e] != ',' && h[e] != '}') ++e;
  return h.substr(p, e - p);
}

NpyArray parse_npy(const uint8_t* b, size_t n, const std::string& what) {
  if (n < 10 || std::memcmp(b, "\x93NUMPY", 6) != 0) throw ImportError{what + ": not a .npy array"};
  const int major = b[6];
  size_t hlen, off;
  if (major == 1) {
    hlen = le16(b + 8);
    off = 10;
  } else if (major == 2 || major == 3) {
    if (n < 12) throw ImportError{what + ": truncated .npy header"};
    hlen = le32(b + 8);
    off = 12;
  } else {
    throw ImportError{what + ": .npy version " + std::to_string(major) + " is not supported"};
  }
  if (hlen > n - off) throw ImportError{what + ": the .npy header runs past the end of the file"};
  const std::string h(reinterpret_cast<const char*>(b + off), hlen);
  NpyArray a;
  a.descr = dict_value(h, "descr", what);
  const std::string fortran = dict_value(h, "fortran_order", what);
  if (fortran.find("True") != std::string::npos) throw ImportError{what + ": Fortran-ordered arrays are not supported (save a C-ordered copy)"};
  const std::string shape = dict_value(h, "shape", what);
  size_t p = 0;
  while (p < shape.size()) {
    while (p < shape.size() && (shape[p] == ' ' || shape[p] == ',')) ++p;
    if (p >= shape.size()) break;
    size_t e = p;
    while (e < shape.size() && std::isdigit(static_cast<unsigned char>(shape[e]))) ++e;
    if (e == p || e - p > 12) throw ImportError{what + ": malformed .npy shape (" + shape + ")"};
    a.shape.push_back(std::stoll(shape.substr(p, e - p)));
    p = e;
  }
  a.data = b + off + hlen;
  a.bytes = n - off - hlen;
  return a;
}

size_t count_of(const std::vector<int64_t>& shape, const std::string& what) {
  double c = 1;
  for (int64_t d : shape) c *= double(d);
  if (c > double(config_limits().max_trace_bytes) / 4) throw ImportError{what + ": " + shape_str(shape) + " is too large"};
  return size_t(c);
}

Array npy_floats(const NpyArray& a, const std::string& what) {
  Array out;
  out.shape = a.shape;
  const size_t count = count_of(a.shape, what);
  const bool f4 = a.descr == "<f4" || a.descr == "=f4", f8 = a.descr == "<f8" || a.descr == "=f8";
  if (!f4 && !f8) throw ImportError{what + ": dtype '" + a.descr + "' is not supported (little-endian float32 or float64)"};
  const size_t width = f4 ? 4 : 8;
  if (a.bytes < count * width) throw ImportError{what + ": the data is shorter than its shape " + shape_str(a.shape) + " needs"};
  out.data.resize(count);
  for (size_t i = 0; i < count; ++i) {
    if (f4) {
      std::memcpy(&out.data[i], a.data + i * 4, 4);
    } else {
      double d;
      std::memcpy(&d, a.data + i * 8, 8);
      out.data[i] = float(d);
    }
  }
  return out;
}

// A 1-D unicode array ('<U7': 7 UTF-32LE code units per entry) -> UTF-8 strings.
std::vector<std::string> npy_strings(const NpyArray& a, const std::string& what) {
  if (a.descr.size() < 3 || (a.descr[0] != '<' && a.descr[0] != '|') || a.descr[1] != 'U')
    throw ImportError{what + ": dtype '" + a.descr + "' is not a unicode string array"};
  const long long w = std::atoll(a.descr.c_str() + 2);
  if (a.shape.size() != 1 || w <= 0 || w > 4096) throw ImportError{what + ": must be a 1-D array of strings"};
  const size_t count = size_t(a.shape[0]);
  if (count > size_t(config_limits().max_tokens) || a.bytes < count * size_t(w) * 4)
    throw ImportError{what + ": the data is shorter than its shape needs"};
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    std::string s;
    for (long long c = 0; c < w; ++c) {
      const uint32_t cp = le32(a.data + (i * size_t(w) + size_t(c)) * 4);
      if (cp == 0) break;
      utf8_append(cp, &s);  // surrogates and values past U+10FFFF become U+FFFD: the tokens stay well-formed UTF-8
    }
    out.push_back(s);
  }
  return out;
}

// ---- .npz (a ZIP of .npy files) -----------------------------------------------------------------------------
std::map<std::string, NpyArray> parse_npz(const uint8_t* b, size_t n) {
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  size_t eocd = std::string::npos;
  for (size_t i = n >= 22 ? n - 22 : 0; n >= 22; --i) {
    if (le32(b + i) == 0x06054b50) {
      eocd = i;
      break;
    }
    if (i == 0 || n - i > 65557) break;
  }
  if (eocd == std::string::npos) throw ImportError{"npz: not a ZIP archive (no end of central directory)"};
  const size_t entries = le16(b + eocd + 10), cd_size = le32(b + eocd + 12), cd_off = le32(b + eocd + 16);
  if (cd_off > n || cd_size > n - cd_off) throw ImportError{"npz: the central directory lies outside the file (ZIP64 archives are not supported)"};
  std::map<std::string, NpyArray> out;
  size_t p = cd_off;
  for (size_t e = 0; e < entries; ++e) {
    if (p + 46 > cd_off + cd_size || le32(b + p) != 0x02014b50) throw ImportError{"npz: malformed central directory"};
    const int method = le16(b + p + 10);
    const size_t csize = le32(b + p + 20), usize = le32(b + p + 24);
    const size_t nlen = le16(b + p + 28), xlen = le16(b + p + 30), clen = le16(b + p + 32);
    const size_t local = le32(b + p + 42);
    if (p + 46 + nlen > n) throw ImportError{"npz: malformed central directory"};
    std::string name(reinterpret_cast<const char*>(b + p + 46), nlen);
    p += 46 + nlen + xlen + clen;
    if (method != 0)
      throw ImportError{"npz: '" + name + "' is compressed (np.savez_compressed); save it with np.savez"};
    if (csize != usize) throw ImportError{"npz: '" + name + "' has inconsistent sizes"};
    if (local + 30 > n || le32(b + local) != 0x04034b50) throw ImportError{"npz: '" + name + "' has no local header"};
    const size_t data = local + 30 + le16(b + local + 26) + le16(b + local + 28);
    if (data > n || csize > n - data) throw ImportError{"npz: '" + name + "' runs past the end of the file"};
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".npy") == 0) name.resize(name.size() - 4);
    out[name] = parse_npy(b + data, csize, "npz: '" + name + "'");
  }
  return out;
}

// ---- JSON -------------------------------------------------------------------------------------------------
// Nested lists of numbers -> shape and data. The shape comes from the first element at each level; every other
// element must have the same structure.
void json_fill(const json& j, const std::string& path, size_t depth, Array* out) {
  if (depth == out->shape.size()) {
    if (!j.is_number()) throw ImportError{path + " must be a number"};
    out->data.push_back(j.get<float>());
    return;
  }
  if (!j.is_array() || int64_t(j.size()) != out->shape[depth])
    throw ImportError{path + " must be a list of " + std::to_string(out->shape[depth]) + " (as its neighbours)"};
  for (size_t i = 0; i < j.size(); ++i) json_fill(j[i], path + "[" + std::to_string(i) + "]", depth + 1, out);
}

void json_array(const json& j, const std::string& path, Array* out) {
  const json* p = &j;
  while (p->is_array()) {
    if (p->empty()) throw ImportError{path + " has an empty list"};
    if (out->shape.size() == 4) throw ImportError{path + " has more than 4 levels ([layers, heads, n_q, n_k])"};
    out->shape.push_back(int64_t(p->size()));
    p = &(*p)[0];
  }
  if (out->shape.size() < 2) throw ImportError{path + " must be a nested list of numbers (2 to 4 levels)"};
  count_of(out->shape, path);
  json_fill(j, path, 0, out);
}

std::vector<std::string> json_strings(const json& j, const std::string& what) {
  if (!j.is_array()) throw ImportError{what + " must be a list of strings"};
  std::vector<std::string> out;
  for (size_t i = 0; i < j.size(); ++i) {
    if (!j[i].is_string()) throw ImportError{what + "[" + std::to_string(i) + "] must be a string"};
    out.push_back(j[i].get<std::string>());
  }
  return out;
}

// ---- shapes -----------------------------------------------------------------------------------------------
void to_layers(const Array& a, ImportedAttention* out) {
  std::vector<int64_t> s = a.shape;
  if (s.size() < 2 || s.size() > 4) throw ImportError{"attention must be [layers, heads, n_q, n_k], [heads, n_q, n_k] or [n_q, n_k] (got " + shape_str(s) + ")"};
  while (s.size() < 4) s.insert(s.begin(), 1);
  const ConfigLimits& L = config_limits();
  if (s[0] < 1 || s[0] > 64) throw ImportError{"attention: layers must be from 1 to 64 (shape " + shape_str(a.shape) + ")"};
  if (s[1] < 1 || s[1] > L.max_heads) throw ImportError{"attention: heads must be from 1 to " + std::to_string(L.max_heads) + " (shape " + shape_str(a.shape) + ")"};
  if (s[2] < 1 || s[2] > L.max_tokens || s[3] < 1 || s[3] > L.max_tokens)
    throw ImportError{"attention: n_q and n_k must be from 1 to " + std::to_string(L.max_tokens) + " (shape " + shape_str(a.shape) + ")"};
  if (size_t(s[0] * s[1] * s[2] * s[3]) != a.data.size()) throw ImportError{"attention: the data does not fill its shape"};
  const int n_q = int(s[2]), n_k = int(s[3]);
  bool off_sum = false;
  size_t k = 0;
  out->layers.assign(size_t(s[0]), std::vector<Mat>(size_t(s[1])));
  for (auto& layer : out->layers)
    for (Mat& m : layer) {
      m.resize(n_q, n_k);
      for (int i = 0; i < n_q; ++i) {
        double sum = 0;
        for (int j = 0; j < n_k; ++j, ++k) {
          const float v = a.data[k];
          if (!std::isfinite(v)) throw ImportError{"attention: value " + std::to_string(k) + " is not finite"};
          m(i, j) = v;
          sum += v;
        }
        if (std::fabs(sum - 1.0) > 1e-3 && std::fabs(sum) > 1e-6) off_sum = true;
      }
    }
  if (off_sum) out->warnings.push_back("some rows do not sum to 1: these may not be softmax weights (shown as they are)");
}

void labels(ImportedAttention* out, int n_q, int n_k) {
  if (out->tokens.empty()) {
    for (int i = 0; i < n_q; ++i) out->tokens.push_back("q" + std::to_string(i));
  } else if (int(out->tokens.size()) != n_q) {
    throw ImportError{"tokens has " + std::to_string(out->tokens.size()) + " entries but the attention has n_q = " + std::to_string(n_q)};
  }
  if (out->key_tokens.empty()) {
    if (n_k == n_q && out->tokens[0] != "q0") out->key_tokens = out->tokens;
    else
      for (int j = 0; j < n_k; ++j) out->key_tokens.push_back("k" + std::to_string(j));
  } else if (int(out->key_tokens.size()) != n_k) {
    throw ImportError{"key_tokens has " + std::to_string(out->key_tokens.size()) + " entries but the attention has n_k = " + std::to_string(n_k)};
  }
}

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

}  // namespace

bool attention_import_is_json_attention(const std::string& text) {
  if (!json_nesting_ok(text)) return false;
  const json j = json::parse(text, nullptr, false);
  return j.is_object() && j.contains("attention") && j["attention"].is_array();
}

bool attention_import(const uint8_t* bytes, size_t size, const std::string& name, ImportedAttention* out, std::string* error) {
  ImportedAttention a;
  try {
    Array arr;
    if (size >= 6 && std::memcmp(bytes, "\x93NUMPY", 6) == 0) {
      arr = npy_floats(parse_npy(bytes, size, "npy"), "npy");
    } else if (size >= 4 && le32(bytes) == 0x04034b50) {
      auto arrays = parse_npz(bytes, size);
      auto it = arrays.find("attention");
      if (it == arrays.end()) {
        std::string names;
        for (const auto& [k, v] : arrays) names += (names.empty() ? "" : ", ") + k;
        throw ImportError{"npz: no array named 'attention' (has: " + names + ")"};
      }
      arr = npy_floats(it->second, "npz: 'attention'");
      if (arrays.count("tokens")) a.tokens = npy_strings(arrays["tokens"], "npz: 'tokens'");
      if (arrays.count("key_tokens")) a.key_tokens = npy_strings(arrays["key_tokens"], "npz: 'key_tokens'");
    } else if (ends_with(name, ".safetensors")) {
      SafeTensorsFile f;
      if (!safetensors_read(bytes, size, &f, error)) return false;
      auto it = f.tensors.find("attention");
      if (it == f.tensors.end()) throw ImportError{"safetensors: no tensor named 'attention'"};
      arr.shape = it->second.shape;
      arr.data = std::move(it->second.data);
      for (const char* key : {"tokens", "key_tokens"}) {
        auto m = f.metadata.find(key);
        if (m == f.metadata.end()) continue;
        if (!json_nesting_ok(m->second)) throw ImportError{std::string("safetensors: __metadata__.") + key + " is nested too deeply"};
        const json j = json::parse(m->second, nullptr, false);
        (std::string(key) == "tokens" ? a.tokens : a.key_tokens) = json_strings(j, std::string("safetensors: __metadata__.") + key);
      }
    } else {
      const std::string text(reinterpret_cast<const char*>(bytes), size);
      if (!json_nesting_ok(text)) throw ImportError{"json: nested deeper than 32 levels"};
      const json j = json::parse(text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) throw ImportError{"not an attention file: expected .npy, .npz, .safetensors or a JSON object {\"attention\": [...]}"};
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "attention" && it.key() != "tokens" && it.key() != "key_tokens")
          throw ImportError{"json: unknown field '" + it.key() + "' (known: attention, tokens, key_tokens)"};
      if (!j.contains("attention")) throw ImportError{"json: no \"attention\" array"};
      json_array(j["attention"], "attention", &arr);
      if (j.contains("tokens")) a.tokens = json_strings(j["tokens"], "tokens");
      if (j.contains("key_tokens")) a.key_tokens = json_strings(j["key_tokens"], "key_tokens");
    }
    to_layers(arr, &a);
    labels(&a, int(a.layers[0][0].rows()), int(a.layers[0][0].cols()));
  } catch (const ImportError& e) {
    if (error) *error = e.message;
    return false;
  } catch (const std::bad_alloc&) {
    if (error) *error = "out of memory: the attention file is too large";
    return false;
  }
  *out = std::move(a);
  return true;
}

void attention_import_trace(const ImportedAttention& a, Trace* out) {
  Trace t;
  t.imported = true;
  t.tokens = a.tokens;
  t.key_tokens = a.key_tokens;
  t.cross = a.tokens != a.key_tokens;
  t.warnings = a.warnings;
  for (const auto& layer : a.layers) {
    LayerTrace lt;
    for (const Mat& w : layer) {
      HeadTrace h;
      h.attn.weights = w;
      h.attn.fully_masked.assign(size_t(w.rows()), 0);
      for (int i = 0; i < w.rows(); ++i) h.attn.fully_masked[size_t(i)] = w.row(i).cwiseAbs().sum() == 0 ? 1 : 0;
      lt.heads.push_back(std::move(h));
    }
    t.layers.push_back(std::move(lt));
  }
  *out = std::move(t);
}

std::string attention_import_json(const ImportedAttention& a) {
  json j;
  j["tokens"] = a.tokens;
  if (a.tokens != a.key_tokens) j["key_tokens"] = a.key_tokens;
  j["layers"] = json::array();
  for (const auto& layer : a.layers) {
    json heads = json::array();
    for (const Mat& w : layer) {
      json rows = json::array();
      for (int i = 0; i < w.rows(); ++i) rows.push_back(std::vector<float>(w.row(i).data(), w.row(i).data() + w.cols()));
      heads.push_back({{"weights", rows}});
    }
    j["layers"].push_back({{"heads", heads}});
  }
  j["warnings"] = a.warnings;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace attnplay
