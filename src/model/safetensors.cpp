// attnplay model: safetensors read/write. Contracts: safetensors.h.
#include "model/safetensors.h"

#include "model/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace attnplay {

using json = nlohmann::json;

static constexpr uint64_t kMaxHeaderBytes = 100u << 20;  // the Python library's own cap

bool safetensors_read(const uint8_t* bytes, size_t size, SafeTensorsFile* out, std::string* error) {
  auto bad = [&](const std::string& m) {
    if (error) *error = "weights: " + m;
    return false;
  };
  if (size < 8) return bad("file too short for a safetensors header (" + std::to_string(size) + " bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeaderBytes) return bad("header length " + std::to_string(n) + " is larger than 100 MiB");
  if (n > size - 8) return bad("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(size) + " bytes)");
  const size_t data_size = size - 8 - size_t(n);
  const uint8_t* data = bytes + 8 + n;

  if (!json_nesting_ok(std::string(reinterpret_cast<const char*>(bytes + 8), size_t(n)), 8))
    return bad("header is nested too deeply");
  // Parse the header, refusing duplicate names (nlohmann would silently keep the last one).
  std::string dup;
  int depth = 0;
  std::vector<std::string> seen;
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + n, [&](int d, json::parse_event_t ev, json& parsed) {
      depth = d;
      if (ev == json::parse_event_t::key && d == 1) {
        const std::string k = parsed.get<std::string>();
        if (std::find(seen.begin(), seen.end(), k) != seen.end() && dup.empty()) dup = k;
        seen.push_back(k);
      }
      return true;
    });
  } catch (const json::exception& e) {
    std::string what = e.what();
    const size_t p = what.find("] ");
    return bad("header is not valid JSON: " + (p == std::string::npos ? what : what.substr(p + 2)));
  }
  (void)depth;
  if (!dup.empty()) return bad("tensor '" + dup + "' appears twice in the header");
  if (!header.is_object()) return bad("header must be a JSON object");

  struct Span { size_t begin, end; std::string name; };
  std::vector<Span> spans;
  SafeTensorsFile file;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) return bad("__metadata__ must be an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (m.value().is_string()) file.metadata[m.key()] = m.value().get<std::string>();
        else file.metadata[m.key()] = m.value().dump();  // tolerate a raw JSON value (e.g. "vocab": [...])
      }
      continue;
    }
    const std::string tn = "tensor '" + name + "'";
    if (!e.is_object()) return bad(tn + ": entry must be an object");
    if (!e.contains("dtype") || !e["dtype"].is_string()) return bad(tn + ": missing dtype");
    const std::string dtype = e["dtype"].get<std::string>();
    if (dtype != "F32") return bad(tn + ": dtype " + dtype + " is not supported (only F32)");
    if (!e.contains("shape") || !e["shape"].is_array()) return bad(tn + ": missing shape");
    std::vector<int64_t> shape;
    uint64_t count = 1;
    for (const json& d : e["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) return bad(tn + ": shape must hold non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      if (v > (1ull << 31) || (v && count > (1ull << 40) / v)) return bad(tn + ": shape is too large");
      count *= v;
      shape.push_back(int64_t(v));
    }
    if (shape.size() > 8) return bad(tn + ": too many dimensions");
    if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2 ||
        !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
      return bad(tn + ": data_offsets must be [begin, end]");
    const uint64_t b = e["data_offsets"][0].get<uint64_t>(), en = e["data_offsets"][1].get<uint64_t>();
    if (b > en || en > data_size)
      return bad(tn + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) + "] are outside the data (" +
                 std::to_string(data_size) + " bytes)");
    if (en - b != count * 4)
      return bad(tn + ": holds " + std::to_string(en - b) + " bytes but its shape needs " + std::to_string(count * 4));
    for (auto c = e.begin(); c != e.end(); ++c)
      if (c.key() != "dtype" && c.key() != "shape" && c.key() != "data_offsets") return bad(tn + ": unknown entry field '" + c.key() + "'");
    spans.push_back({size_t(b), size_t(en), name});
    SafeTensor t;
    t.shape = std::move(shape);
    t.data.resize(size_t(count));
    if (count) std::memcpy(t.data.data(), data + b, size_t(count) * 4);  // little-endian hosts only (x86, wasm)
    for (size_t i = 0; i < t.data.size(); ++i)
      if (!std::isfinite(t.data[i])) return bad(tn + ": value " + std::to_string(i) + " is NaN or infinite");
    file.tensors[name] = std::move(t);
  }
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) { return x.begin < y.begin; });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end && spans[i].begin != spans[i].end)
      return bad("tensors '" + spans[i - 1].name + "' and '" + spans[i].name + "' overlap");
  *out = std::move(file);
  return true;
}

std::vector<uint8_t> safetensors_write(const SafeTensorsFile& file) {
  json header = json::object();
  size_t offset = 0;
  for (const auto& [name, t] : file.tensors) {
    const size_t bytes = t.data.size() * 4;
    header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  if (!file.metadata.empty()) header["__metadata__"] = file.metadata;
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');  // data starts 8-byte aligned, as the Python library pads
  std::vector<uint8_t> out(8 + h.size() + offset);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* p = out.data() + 8 + h.size();
  for (const auto& [name, t] : file.tensors) {
    if (!t.data.empty()) std::memcpy(p, t.data.data(), t.data.size() * 4);
    p += t.data.size() * 4;
  }
  return out;
}

}  // namespace attnplay
