// attnplay model: the workspace record. Layout and contracts: workspace.h.
#include "model/workspace.h"

#include "model/safetensors.h"

#include <array>
#include <cstring>

namespace attnplay {

namespace {

using json = nlohmann::json;

constexpr char kMagic[8] = {'A', 'P', 'W', 'K', 'S', 'P', '\r', '\n'};
constexpr const char* kMetaKey = "attnplay.workspace";

std::array<uint32_t, 256> crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

SafeTensor vector_tensor(const std::vector<float>& v) {
  SafeTensor t;
  t.shape = {int64_t(v.size())};
  t.data = v;
  return t;
}

// A side's weights go in as "<prefix>/<the weights file's tensor name>", the file's own metadata into the JSON.
json put_side(SafeTensorsFile* f, const std::string& prefix, const WorkspaceSide& side) {
  json j = {{"config", side.config}, {"weights", nullptr}};
  if (side.weights) {
    const SafeTensorsFile w = weights_to_safetensors(*side.weights);
    for (const auto& [name, t] : w.tensors) f->tensors[prefix + "/" + name] = t;
    j["weights"] = w.metadata;
  }
  return j;
}

bool fail(std::string* error, const std::string& why) {
  *error = "saved state is corrupt (" + why + ")";
  return false;
}

bool get_side(const SafeTensorsFile& f, const json& j, const std::string& prefix, WorkspaceSide* out, std::string* error) {
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) return fail(error, prefix + ".config");
  Config c;
  std::string why;
  if (!config_parse(j["config"], &c, &why)) return fail(error, prefix + ".config: " + why);
  out->config = j["config"];
  out->weights = nullptr;
  if (!j.contains("weights") || j["weights"].is_null()) return true;
  if (!j["weights"].is_object()) return fail(error, prefix + ".weights");
  SafeTensorsFile w;
  for (const auto& [k, v] : j["weights"].items()) {
    if (!v.is_string()) return fail(error, prefix + ".weights." + k);
    w.metadata[k] = v.get<std::string>();
  }
  const std::string lead = prefix + "/";
  for (const auto& [name, t] : f.tensors)
    if (name.compare(0, lead.size(), lead) == 0) w.tensors[name.substr(lead.size())] = t;
  auto weights = std::make_shared<ModelWeights>();
  if (!weights_from_safetensors(w, c, weights.get(), &why)) return fail(error, prefix + " weights: " + why);
  out->weights = std::move(weights);
  return true;
}

bool get_vector(const SafeTensorsFile& f, const std::string& name, std::vector<float>* out, std::string* error) {
  out->clear();
  const auto it = f.tensors.find(name);
  if (it == f.tensors.end()) return true;  // an empty curve is left out
  if (it->second.shape.size() != 1) return fail(error, "tensor " + name + " must be 1-D");
  *out = it->second.data;
  return true;
}

bool get_params(const SafeTensorsFile& f, const std::string& name, ModelWeights* w, std::string* error) {
  const auto it = f.tensors.find(name);
  if (it == f.tensors.end()) return fail(error, "tensor " + name + " missing");
  if (!train_params_unpack(it->second.data.data(), it->second.data.size(), w))
    return fail(error, "tensor " + name + ": " + std::to_string(it->second.data.size()) +
                           " values, not the trained model's parameter count");
  return true;
}

bool get_training(const SafeTensorsFile& f, const json& j, WorkspaceTraining* out, std::string* error) {
  if (!j.is_object() || !j.contains("config") || !j["config"].is_object()) return fail(error, "training.config");
  if (!j.contains("spec") || !j["spec"].is_object()) return fail(error, "training.spec");
  if (!j.contains("step") || !j["step"].is_number_integer() || j["step"].get<int64_t>() < 0)
    return fail(error, "training.step");
  if (!j.contains("rng") || !j["rng"].is_string()) return fail(error, "training.rng");
  std::string why;
  Config c;
  if (!config_parse(j["config"], &c, &why)) return fail(error, "training.config: " + why);
  TrainSessionSpec spec;
  if (!train_session_spec_parse(j["spec"].dump(), &spec, &why)) return fail(error, "training.spec: " + why);
  TrainSession session;  // begun as the panel begins one: its shapes are what the tensors must fill
  if (!train_session_begin(&session, c, spec, &why)) return fail(error, "training: " + why);
  const std::string& rng = j["rng"].get_ref<const std::string&>();
  if (rng.empty() || rng.size() > 20 || rng.find_first_not_of("0123456789") != std::string::npos)
    return fail(error, "training.rng");
  uint64_t r = 0;
  for (char ch : rng) {
    const uint64_t next = r * 10 + uint64_t(ch - '0');
    if (next / 10 != r) return fail(error, "training.rng");  // above 2^64
    r = next;
  }
  if (!get_params(f, "train/params", &session.state.weights, error) ||
      !get_params(f, "train/adam_m", &session.state.adam_m, error) ||
      !get_params(f, "train/adam_v", &session.state.adam_v, error))
    return false;
  WorkspaceTraining t;
  if (!get_vector(f, "train/loss", &t.loss, error) || !get_vector(f, "train/accuracy", &t.accuracy, error) ||
      !get_vector(f, "train/alignment", &t.alignment, error))
    return false;
  t.present = true;
  t.config = j["config"];
  t.spec = spec;
  t.state = std::move(session.state);
  t.state.step = j["step"].get<int64_t>();
  t.rng_state = r;
  *out = std::move(t);
  return true;
}

}  // namespace

uint32_t workspace_crc32(const uint8_t* bytes, size_t size) {
  static const std::array<uint32_t, 256> table = crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) c = table[(c ^ bytes[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::vector<uint8_t> workspace_encode(const Workspace& ws) {
  SafeTensorsFile f;
  json j = {{"a", put_side(&f, "a", ws.a)}, {"ab_on", ws.ab_on}, {"ab_editing_b", ws.ab_editing_b},
            {"preset_id", ws.preset_id}, {"view", ws.view}, {"training", nullptr}};
  if (!ws.model.is_null()) j["model"] = ws.model;
  if (ws.ab_on) j["b"] = put_side(&f, "b", ws.b);
  if (ws.training.present) {
    const WorkspaceTraining& t = ws.training;
    j["training"] = {{"config", t.config}, {"spec", json::parse(train_session_spec_json(t.spec))},
                     {"step", t.state.step}, {"rng", std::to_string(t.rng_state)}};
    f.tensors["train/params"] = vector_tensor(train_params_pack(t.state.weights));
    f.tensors["train/adam_m"] = vector_tensor(train_params_pack(t.state.adam_m));
    f.tensors["train/adam_v"] = vector_tensor(train_params_pack(t.state.adam_v));
    if (!t.loss.empty()) f.tensors["train/loss"] = vector_tensor(t.loss);
    if (!t.accuracy.empty()) f.tensors["train/accuracy"] = vector_tensor(t.accuracy);
    if (!t.alignment.empty()) f.tensors["train/alignment"] = vector_tensor(t.alignment);
  }
  f.metadata[kMetaKey] = j.dump();
  const std::vector<uint8_t> payload = safetensors_write(f);
  std::vector<uint8_t> out(kWorkspaceHeaderBytes + payload.size());
  std::memcpy(out.data(), kMagic, 8);
  put_u32(out.data() + 8, kWorkspaceVersion);
  put_u32(out.data() + 12, 0);
  put_u64(out.data() + 16, payload.size());
  put_u32(out.data() + 24, workspace_crc32(payload.data(), payload.size()));
  put_u32(out.data() + 28, workspace_crc32(out.data(), 28));
  std::memcpy(out.data() + kWorkspaceHeaderBytes, payload.data(), payload.size());
  return out;
}

bool workspace_decode(const uint8_t* bytes, size_t size, Workspace* out, std::string* error) {
  if (size < 8 || std::memcmp(bytes, kMagic, 8) != 0) return fail(error, size < 8 ? "truncated" : "not a workspace");
  if (size < kWorkspaceHeaderBytes) return fail(error, "truncated");
  if (get_u32(bytes + 28) != workspace_crc32(bytes, 28)) return fail(error, "header");
  const uint32_t version = get_u32(bytes + 8);
  if (version > kWorkspaceVersion) {
    *error = "saved state is from a newer attnplay (schema " + std::to_string(version) + "; this build reads " +
             std::to_string(kWorkspaceVersion) + ")";
    return false;
  }
  if (version == 0) return fail(error, "header");
  const uint64_t length = get_u64(bytes + 16);
  if (length > size - kWorkspaceHeaderBytes) return fail(error, "truncated");
  if (length < size - kWorkspaceHeaderBytes) return fail(error, "trailing bytes");
  const uint8_t* payload = bytes + kWorkspaceHeaderBytes;
  if (get_u32(bytes + 24) != workspace_crc32(payload, size_t(length))) return fail(error, "checksum");
  SafeTensorsFile f;
  std::string why;
  if (!safetensors_read(payload, size_t(length), &f, &why)) return fail(error, "payload: " + why);
  const auto meta = f.metadata.find(kMetaKey);
  if (meta == f.metadata.end()) return fail(error, "no " + std::string(kMetaKey) + " metadata");
  if (!json_nesting_ok(meta->second)) return fail(error, "metadata nesting");
  const json j = json::parse(meta->second, nullptr, false);
  if (!j.is_object()) return fail(error, "metadata is not a JSON object");
  Workspace ws;
  if (!get_side(f, j.value("a", json()), "a", &ws.a, error)) return false;
  if (!j.contains("ab_on") || !j["ab_on"].is_boolean()) return fail(error, "ab_on");
  ws.ab_on = j["ab_on"].get<bool>();
  ws.ab_editing_b = j.contains("ab_editing_b") && j["ab_editing_b"].is_boolean() && j["ab_editing_b"].get<bool>();
  if (ws.ab_on && !get_side(f, j.value("b", json()), "b", &ws.b, error)) return false;
  if (j.contains("preset_id")) {
    if (!j["preset_id"].is_string()) return fail(error, "preset_id");
    ws.preset_id = j["preset_id"].get<std::string>();
  }
  if (j.contains("view")) {
    if (!j["view"].is_object()) return fail(error, "view");
    ws.view = j["view"];
  }
  if (j.contains("training") && !j["training"].is_null() && !get_training(f, j["training"], &ws.training, error))
    return false;
  if (j.contains("model") && !j["model"].is_null()) {
    const json& m = j["model"];
    if (!m.is_object() || !m.contains("source") || !m["source"].is_string()) return fail(error, "model.source");
    if (m.contains("files")) {
      if (!m["files"].is_array()) return fail(error, "model.files");
      for (const json& e : m["files"]) {
        const bool hex = e.is_object() && e.contains("sha256") && e["sha256"].is_string() &&
                         (e["sha256"].get<std::string>().empty() ||
                          (e["sha256"].get<std::string>().size() == 64 &&
                           e["sha256"].get<std::string>().find_first_not_of("0123456789abcdef") == std::string::npos));
        if (!hex || !e.contains("name") || !e["name"].is_string() || !e.contains("size") || !e["size"].is_number() ||
            e["size"].get<double>() < 0)
          return fail(error, "model.files");
      }
    }
    ws.model = m;
  }
  *out = std::move(ws);
  return true;
}

}  // namespace attnplay
