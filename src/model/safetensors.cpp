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

int safetensors_dtype_bytes(const std::string& dtype) {
  static const std::pair<const char*, int> kSizes[] = {{"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
                                                       {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U64", 8},  {"U32", 4},
                                                       {"U16", 2}, {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  for (const auto& [name, size] : kSizes)
    if (dtype == name) return size;
  return 0;
}

bool safetensors_read_header(const uint8_t* bytes, size_t available, uint64_t file_size, const std::string& what,
                             SafeTensorsHeader* out, std::string* error, bool f32_only) {
  auto bad = [&](const std::string& m) {
    if (error) *error = what + ": " + m;
    return false;
  };
  if (available < 8 || file_size < 8) return bad("file too short for a safetensors header (" + std::to_string(file_size) + " bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[i];
  if (n > kMaxHeaderBytes) return bad("header length " + std::to_string(n) + " is larger than 100 MiB");
  if (n > file_size - 8) return bad("header length " + std::to_string(n) + " runs past the end of the file (" + std::to_string(file_size) + " bytes)");
  if (n > available - 8) return bad("the header was cut short (" + std::to_string(available) + " of its " + std::to_string(8 + n) + " bytes)");
  const uint64_t data_start = 8 + n, data_size = file_size - data_start;

  if (!json_nesting_ok(std::string(reinterpret_cast<const char*>(bytes + 8), size_t(n)), 8))
    return bad("header is nested too deeply");
  // Parse the header, refusing duplicate names (nlohmann would silently keep the last one).
  std::string dup;
  std::vector<std::string> seen;
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + n, [&](int d, json::parse_event_t ev, json& parsed) {
      if (ev == json::parse_event_t::key && d == 1) {
        const std::string k = parsed.get<std::string>();
        if (std::find(seen.begin(), seen.end(), k) != seen.end() && dup.empty()) dup = k;
        seen.push_back(k);
      }
      return true;
    });
  } catch (const json::exception& e) {
    std::string w = e.what();
    const size_t p = w.find("] ");
    return bad("header is not valid JSON: " + (p == std::string::npos ? w : w.substr(p + 2)));
  }
  if (!dup.empty()) return bad("tensor '" + dup + "' appears twice in the header");
  if (!header.is_object()) return bad("header must be a JSON object");

  struct Span { uint64_t begin, end; std::string name; };
  std::vector<Span> spans;
  SafeTensorsHeader h;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) return bad("__metadata__ must be an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (m.value().is_string()) h.metadata[m.key()] = m.value().get<std::string>();
        else h.metadata[m.key()] = m.value().dump();  // tolerate a raw JSON value (e.g. "vocab": [...])
      }
      continue;
    }
    const std::string tn = "tensor '" + name + "'";
    if (!e.is_object()) return bad(tn + ": entry must be an object");
    if (!e.contains("dtype") || !e["dtype"].is_string()) return bad(tn + ": missing dtype");
    SafeTensorEntry t;
    t.dtype = e["dtype"].get<std::string>();
    const int esize = safetensors_dtype_bytes(t.dtype);
    if (!esize) return bad(tn + ": dtype " + t.dtype + " is not a safetensors dtype");
    if (f32_only && t.dtype != "F32") return bad(tn + ": dtype " + t.dtype + " is not supported (only F32)");
    if (!e.contains("shape") || !e["shape"].is_array()) return bad(tn + ": missing shape");
    uint64_t count = 1;
    for (const json& d : e["shape"]) {
      if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) return bad(tn + ": shape must hold non-negative integers");
      const uint64_t v = d.get<uint64_t>();
      if (v > (1ull << 31) || (v && count > (1ull << 40) / v)) return bad(tn + ": shape is too large");
      count *= v;
      t.shape.push_back(int64_t(v));
    }
    if (t.shape.size() > 8) return bad(tn + ": too many dimensions");
    if (!e.contains("data_offsets") || !e["data_offsets"].is_array() || e["data_offsets"].size() != 2 ||
        !e["data_offsets"][0].is_number_unsigned() || !e["data_offsets"][1].is_number_unsigned())
      return bad(tn + ": data_offsets must be [begin, end]");
    const uint64_t b = e["data_offsets"][0].get<uint64_t>(), en = e["data_offsets"][1].get<uint64_t>();
    if (b > en || en > data_size)
      return bad(tn + ": data_offsets [" + std::to_string(b) + ", " + std::to_string(en) + "] are outside the data (" +
                 std::to_string(data_size) + " bytes)");
    if (en - b != count * uint64_t(esize))
      return bad(tn + ": holds " + std::to_string(en - b) + " bytes but its shape needs " + std::to_string(count * uint64_t(esize)));
    for (auto c = e.begin(); c != e.end(); ++c)
      if (c.key() != "dtype" && c.key() != "shape" && c.key() != "data_offsets") return bad(tn + ": unknown entry field '" + c.key() + "'");
    spans.push_back({b, en, name});
    t.begin = data_start + b;
    t.end = data_start + en;
    h.tensors[name] = std::move(t);
  }
  std::sort(spans.begin(), spans.end(), [](const Span& x, const Span& y) { return x.begin < y.begin; });
  for (size_t i = 1; i < spans.size(); ++i)
    if (spans[i].begin < spans[i - 1].end && spans[i].begin != spans[i].end)
      return bad("tensors '" + spans[i - 1].name + "' and '" + spans[i].name + "' overlap");
  *out = std::move(h);
  return true;
}

// IEEE half -> float: normals, subnormals (scaled exactly), ±0, ±inf, NaN.
// IEEE half -> float, exact, without branches (so the loop below vectorises): the half's exponent and mantissa moved
// to a float's bits are the value times 2^-112 (a subnormal half lands on a subnormal float, also exactly), so one
// multiply by 2^112 puts it right; infinities and NaNs (exponent 31) take the float's top exponent instead.
static inline float half_to_float(uint16_t h) {
  const uint32_t a = uint32_t(h & 0x7FFF) << 13;
  float f;
  std::memcpy(&f, &a, 4);
  f *= 0x1p112f;
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits = (h & 0x7C00) == 0x7C00 ? a | 0x7F800000u : bits;
  bits |= uint32_t(h & 0x8000) << 16;
  std::memcpy(&f, &bits, 4);
  return f;
}

bool safetensors_to_float(const std::string& dtype, const uint8_t* src, size_t count, float* dst) {
  if (dtype == "F32") {
    if (count) std::memcpy(dst, src, count * 4);  // little-endian hosts only (x86, wasm)
  } else if (dtype == "F16") {  // little-endian; 4 at a time in vector registers (half_to_float's steps, lane-wise)
    typedef uint32_t v4u __attribute__((vector_size(16)));
    typedef float v4f __attribute__((vector_size(16)));
    size_t i = 0;
    for (; i + 4 <= count; i += 4) {
      uint16_t h4[4];
      std::memcpy(h4, src + 2 * i, 8);
      const v4u h = {h4[0], h4[1], h4[2], h4[3]};
      const v4u a = (h & 0x7FFFu) << 13;
      v4f f;
      std::memcpy(&f, &a, 16);
      f *= 0x1p112f;
      v4u bits;
      std::memcpy(&bits, &f, 16);
      const v4u special = (v4u)((h & 0x7C00u) == 0x7C00u);  // all ones where the exponent is 31
      bits = (bits & ~special) | ((a | 0x7F800000u) & special);
      bits |= (h & 0x8000u) << 16;
      std::memcpy(dst + i, &bits, 16);
    }
    for (; i < count; ++i) dst[i] = half_to_float(uint16_t(src[2 * i] | (src[2 * i + 1] << 8)));
  } else if (dtype == "BF16") {  // the top 16 bits of a float
    for (size_t i = 0; i < count; ++i) {
      const uint32_t bits = uint32_t(src[2 * i] | (src[2 * i + 1] << 8)) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else {
    return false;
  }
  return true;
}

bool safetensors_read(const uint8_t* bytes, size_t size, SafeTensorsFile* out, std::string* error) {
  SafeTensorsHeader h;
  if (!safetensors_read_header(bytes, size, size, "weights", &h, error, true)) return false;
  SafeTensorsFile file;
  file.metadata = std::move(h.metadata);
  for (auto& [name, e] : h.tensors) {
    const std::string tn = "tensor '" + name + "'";
    SafeTensor t;
    t.shape = std::move(e.shape);
    t.data.resize(size_t((e.end - e.begin) / 4));
    safetensors_to_float("F32", bytes + e.begin, t.data.size(), t.data.data());
    for (size_t i = 0; i < t.data.size(); ++i)
      if (!std::isfinite(t.data[i])) {
        if (error) *error = "weights: " + tn + ": value " + std::to_string(i) + " is NaN or infinite";
        return false;
      }
    file.tensors[name] = std::move(t);
  }
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
