// attnplay platform: the exports of attnplay-core.wasm, wrapped by web/core/post.js into the JS API of
// ../shared/SPEC.md §6. The listed exports (CMakeLists.txt ATTNPLAY_CORE_EXPORTS) are the whole surface.
//
//   ap_compute(cfg, cfg_len, weights, weights_len) -> 1 ok | 0 error; the result JSON or the error line in ap_result_*
//   ap_weights(cfg, cfg_len)                       -> 1 ok | 0 error; safetensors bytes or the error line in ap_result_*
//   ap_result_ptr() / ap_result_len()              the last answer's bytes (valid until the next call)
//   ap_attention(...)                              attention_batched over caller-owned heap buffers (no JSON)
//   ap_mha(...)                                    mha_batched over caller-owned heap buffers (no JSON)
//   ap_version() / ap_simd()                       build summary / 1 when built with SIMD128
//   ap_kernels()                                   the matrix kernels in use: "relaxed-simd" or "simd128"
//   ap_train_open(cfg, len, spec, len)             -> 1 | 0: a training session (one per module; replaces the last)
//   ap_train_run(budget_ms, max_steps)             -> steps taken; JSON {step, loss[], accuracy[], alignment[], error?}
//   ap_train_params()                              -> 1 | 0: every trainable tensor, concatenated (float32 bytes)
//   ap_train_set(spec, len)                        -> 1 | 0: optimizer, lr, batch changed mid-run (the task stays)
//   ap_train_state()                               -> 1 | 0: the whole state, train_session_snapshot's bytes
//   ap_train_restore(bytes, len)                   -> 1 | 0: continue from such a state (same config and spec)
//   ap_train_close()                               the session's memory back
//   [Models] (SPEC §9; post.js's core.loadModel drives them in this order)
//   ap_model_file(name, len, bytes, len)           a small file of the folder, whole (config.json, tokenizer.json, ...)
//   ap_model_header(name, len, bytes, len, size)   a .safetensors file's first bytes (8 + its header) and its size
//   ap_model_begin(max_mb)                         -> 1 | 0: checked and planned; the reads as JSON [[file, begin, end]]
//   ap_model_feed(r, offset, bytes, len)           -> 1 | 0: bytes [offset, offset + len) of read r (offset from its begin)
//   ap_model_finish()                              -> handle > 0 | 0: the model card (its info JSON) in ap_result_*
//   ap_model_abort()                               drops a load under way (the loaded models stay)
//   ap_model_info(handle) / ap_model_free(handle)  -> 1 | 0; a compute's config names a model by its handle
//   ap_model_stats(handle)                         -> 1 | 0: the last compute's incremental path as JSON
#include "core/attention.h"
#include "core/build_info.h"
#include "core/gemm.h"
#include "core/layers.h"
#include "model/attention_import.h"
#include "model/model.h"
#include "model/pretrained.h"
#include "model/pretrained_pack.h"
#include "model/pretrained_sweep.h"
#include "model/sha256.h"
#include "model/train_session.h"

#include <emscripten/emscripten.h>

#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <new>
#include <string>

#include <nlohmann/json.hpp>

namespace {
std::string g_result;
std::unique_ptr<attnplay::TrainSession> g_train;  // core.createTrainer's session (web/core/post.js)

// [Models] The loaded models by handle (each with the cache its computes share), and the one load under way.
std::map<int64_t, attnplay::PretrainedRef> g_models;
int64_t g_next_model = 1;
attnplay::PretrainedSource g_source;
std::unique_ptr<attnplay::PretrainedLoader> g_loader;
// The ablation sweep under way (core.sweep; one at a time: a new one replaces it) and the model it runs on.
attnplay::PretrainedSweep g_sweep;
attnplay::PretrainedRef g_sweep_ref;
attnplay::Sha256 g_sha;  // core.sha256's digest under way (one at a time: post.js queues them)

// The heap this module may still grow to (4 GB, the wasm32 ceiling) and the bytes it holds: a model must fit between.
double heap_room_bytes() {
  const double max_heap = 4294967296.0;  // -sMAXIMUM_MEMORY=4GB
  double held = 0;
  for (const auto& [h, ref] : g_models) held += ref.model->bytes;
  return max_heap - held - 256.0 * 1048576.0;  // the module's own code, stack and buffers
}

bool resolve_model(const attnplay::ConfigPretrained& p, attnplay::PretrainedRef* out, std::string* error) {
  if (p.model_handle < 0)
    return *error = "model: in the JS API give the model core.loadModel returned (load a folder's URL or files with it)", false;
  const auto it = g_models.find(p.model_handle);
  if (it == g_models.end()) return *error = "model: this model was freed (model.free()) or never loaded", false;
  *out = it->second;
  return true;
}

// A mode-pretrained config's text -> the config and its loaded model; false: *error names the field, the model, or
// (wrong_mode: the refusal of another mode) the mode.
bool pretrained_config(const char* cfg, int cfg_len, const char* wrong_mode, attnplay::Config* c, attnplay::PretrainedRef* ref,
                       std::string* error) {
  if (!attnplay::config_parse_text(std::string(cfg, size_t(cfg_len)), c, error)) return false;
  if (c->mode != attnplay::MODEL_MODE_PRETRAINED) return *error = wrong_mode, false;
  return resolve_model(c->pretrained, ref, error);
}
}

extern "C" {

EMSCRIPTEN_KEEPALIVE int ap_compute(const char* cfg, int cfg_len, const uint8_t* weights, int weights_len) {
  std::string error;
  g_result.clear();
  try {
    if (attnplay::model_compute_json(std::string(cfg, size_t(cfg_len)), weights, size_t(weights_len), &g_result, &error,
                                     resolve_model))
      return 1;
  } catch (const std::bad_alloc&) {
    error = "out of memory: the config needs more than the WebAssembly heap can give (4 GB); use fewer tokens, heads or layers";
  }
  g_result = error;
  return 0;
}

EMSCRIPTEN_KEEPALIVE int ap_weights(const char* cfg, int cfg_len) {
  std::string error;
  std::vector<uint8_t> file;
  try {
    if (attnplay::model_weights_json(std::string(cfg, size_t(cfg_len)), &file, &error)) {
      g_result.assign(reinterpret_cast<const char*>(file.data()), file.size());
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory while making the weights";
  }
  g_result = error;
  return 0;
}

// Mode pretrained for the page's model worker (web/app/model_worker.mjs): the compute as pretrained_pack.h's bytes,
// the heads' matrices within budget_mb (else the focused head's and thumbnails).
EMSCRIPTEN_KEEPALIVE int ap_compute_packed(const char* cfg, int cfg_len, int focus_layer, int focus_head, double budget_mb) {
  std::string error;
  g_result.clear();
  try {
    attnplay::Config c;
    attnplay::PretrainedRef ref;
    std::vector<uint8_t> bytes;
    attnplay::PretrainedPackOptions o;
    o.focus_layer = focus_layer;
    o.focus_head = focus_head;
    if (budget_mb >= 0) o.max_matrix_bytes = budget_mb * 1048576.0;
    if (pretrained_config(cfg, cfg_len, "mode: computeTrace is for mode \"pretrained\" (use compute)", &c, &ref, &error) && attnplay::pretrained_compute_packed(c, ref, o, &bytes, &error)) {
      g_result.assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory: this text needs more than the WebAssembly heap can give (4 GB); use fewer tokens";
  }
  g_result = error;
  return 0;
}

// The ablation sweep (pretrained_sweep.h): begin computes the baseline; step computes up to `count` more heads. Both
// leave the sweep's JSON (pretrained_sweep_json) as the result, or the refusal.
EMSCRIPTEN_KEEPALIVE int ap_sweep_begin(const char* cfg, int cfg_len, int position, int token) {
  std::string error;
  g_sweep_ref = attnplay::PretrainedRef();
  try {
    attnplay::Config c;
    attnplay::PretrainedRef ref;
    if (pretrained_config(cfg, cfg_len, "mode: sweep is for mode \"pretrained\"", &c, &ref, &error) && attnplay::pretrained_sweep_begin(c, ref, position, token, &g_sweep, &error)) {
      g_sweep_ref = ref;
      g_result = attnplay::pretrained_sweep_json(g_sweep);
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory: this text needs more than the WebAssembly heap can give (4 GB); use fewer tokens";
  }
  g_result = error;
  return 0;
}

EMSCRIPTEN_KEEPALIVE int ap_sweep_step(int count) {
  std::string error;
  if (!g_sweep_ref.model) return g_result = "sweep: no sweep under way (begin one with core.sweep)", 0;
  for (int i = 0; i < count && !g_sweep.finished(); ++i)
    if (!attnplay::pretrained_sweep_step(g_sweep_ref, &g_sweep, &error)) {
      g_sweep_ref = attnplay::PretrainedRef();
      return g_result = error, 0;
    }
  g_result = attnplay::pretrained_sweep_json(g_sweep);
  return 1;
}

// SHA-256 a chunk at a time (core.sha256): begin, update with every chunk in order, end -> the result is the hex digest.
EMSCRIPTEN_KEEPALIVE void ap_sha256_begin() { g_sha = attnplay::Sha256(); }
EMSCRIPTEN_KEEPALIVE void ap_sha256_update(const uint8_t* bytes, int len) { g_sha.update(bytes, size_t(std::max(len, 0))); }
EMSCRIPTEN_KEEPALIVE int ap_sha256_end() {
  g_result = g_sha.hex();
  return 1;
}

// Attention maps from a file (.npy / .npz / .safetensors / JSON; the name picks nothing but .safetensors).
EMSCRIPTEN_KEEPALIVE int ap_import_attention(const uint8_t* bytes, int len, const char* name, int name_len) {
  std::string error;
  try {
    attnplay::ImportedAttention a;
    if (attnplay::attention_import(bytes, size_t(len), std::string(name, size_t(name_len)), &a, &error)) {
      g_result = attnplay::attention_import_json(a);
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory: the attention file is too large";
  }
  g_result = error;
  return 0;
}

// [Training] The Train panel's Web Worker (web/app/train_worker.mjs) and core.createTrainer run these.
EMSCRIPTEN_KEEPALIVE int ap_train_open(const char* cfg, int cfg_len, const char* spec, int spec_len) {
  std::string error;
  g_train.reset();
  try {
    attnplay::Config c;
    attnplay::TrainSessionSpec p;
    auto session = std::make_unique<attnplay::TrainSession>();
    if (attnplay::config_parse_text(std::string(cfg, size_t(cfg_len)), &c, &error) &&
        attnplay::train_session_spec_parse(std::string(spec, size_t(spec_len)), &p, &error) &&
        attnplay::train_session_begin(session.get(), c, p, &error)) {
      g_train = std::move(session);
      g_result.clear();
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory: the model to train does not fit in the WebAssembly heap";
  }
  g_result = error;
  return 0;
}

EMSCRIPTEN_KEEPALIVE int ap_train_run(double budget_ms, int max_steps) {
  nlohmann::json j = {{"loss", nlohmann::json::array()}, {"accuracy", nlohmann::json::array()}, {"alignment", nlohmann::json::array()}};
  int steps = 0;
  if (!g_train) {
    j["error"] = "no training session (createTrainer first)";
  } else {
    using Clock = std::chrono::steady_clock;
    const auto t0 = Clock::now();
    try {
      while (steps < max_steps) {  // at least one step, then until the budget is spent
        const attnplay::TrainResult r = attnplay::train_session_step(g_train.get());
        ++steps;
        j["loss"].push_back(r.loss);
        j["accuracy"].push_back(r.accuracy);
        if (g_train->spec.translation) j["alignment"].push_back(r.alignment);
        if (!std::isfinite(r.loss)) {
          j["loss"].back() = nullptr;
          j["error"] = "the loss is not finite (try a smaller learning rate)";
          break;
        }
        if (std::chrono::duration<double, std::milli>(Clock::now() - t0).count() >= budget_ms) break;
      }
    } catch (const std::bad_alloc&) {
      j["error"] = "out of memory while training";
    }
    j["step"] = g_train->state.step;
  }
  g_result = j.dump();
  return steps;
}

EMSCRIPTEN_KEEPALIVE int ap_train_params() {
  if (!g_train) return g_result = "no training session (createTrainer first)", 0;
  const std::vector<float> p = attnplay::train_params_pack(g_train->state.weights);
  g_result.assign(reinterpret_cast<const char*>(p.data()), p.size() * sizeof(float));
  return 1;
}

EMSCRIPTEN_KEEPALIVE int ap_train_state() {
  if (!g_train) return g_result = "no training session (createTrainer first)", 0;
  const std::vector<uint8_t> s = attnplay::train_session_snapshot(*g_train);
  g_result.assign(s.begin(), s.end());
  return 1;
}

EMSCRIPTEN_KEEPALIVE int ap_train_restore(const uint8_t* bytes, int len) {
  std::string error;
  if (!g_train) return g_result = "no training session (createTrainer first)", 0;
  if (!attnplay::train_session_restore(g_train.get(), bytes, size_t(std::max(len, 0)), &error)) return g_result = error, 0;
  g_result.clear();
  return 1;
}

EMSCRIPTEN_KEEPALIVE int ap_train_set(const char* spec, int spec_len) {
  std::string error;
  attnplay::TrainSessionSpec p;
  if (!g_train) return g_result = "no training session (createTrainer first)", 0;
  if (!attnplay::train_session_spec_parse(std::string(spec, size_t(spec_len)), &p, &error)) return g_result = error, 0;
  const attnplay::TrainSessionSpec& was = g_train->spec;
  if (p.translation != was.translation || (!p.translation && (p.task != was.task || p.length != was.length || p.vocab != was.vocab)))
    return g_result = "set: the task, length and vocab stay as opened (open a new trainer to change them)", 0;
  g_train->spec = p;
  g_result.clear();
  return 1;
}

// The steps the session has taken (after a restore, the restored state's): the worker reads it here instead of knowing
// where train_session_snapshot keeps it.
EMSCRIPTEN_KEEPALIVE double ap_train_step() { return g_train ? double(g_train->state.step) : 0.0; }

EMSCRIPTEN_KEEPALIVE void ap_train_close() { g_train.reset(); }

// [Models]
EMSCRIPTEN_KEEPALIVE void ap_model_abort() {
  g_loader.reset();
  g_source = attnplay::PretrainedSource();
}

EMSCRIPTEN_KEEPALIVE void ap_model_file(const char* name, int name_len, const uint8_t* bytes, int len) {
  if (g_loader) ap_model_abort();  // a new load: the old one's plan goes
  g_source.files[std::string(name, size_t(name_len))].assign(reinterpret_cast<const char*>(bytes), size_t(len));
}

EMSCRIPTEN_KEEPALIVE void ap_model_header(const char* name, int name_len, const uint8_t* bytes, int len, double size) {
  if (g_loader) ap_model_abort();
  const std::string n(name, size_t(name_len));
  g_source.headers[n].assign(bytes, bytes + len);
  g_source.sizes[n] = uint64_t(size);
}

EMSCRIPTEN_KEEPALIVE int ap_model_begin(double max_mb) {
  std::string error;
  attnplay::PretrainedLimits limits;
  limits.max_bytes = heap_room_bytes();
  if (max_mb > 0) limits.max_bytes = std::min(limits.max_bytes, max_mb * 1048576.0);
  try {
    auto loader = std::make_unique<attnplay::PretrainedLoader>();
    const bool ok = loader->begin(g_source, limits, &error);
    g_source = attnplay::PretrainedSource();  // the loader keeps what it needs
    if (ok) {
      nlohmann::json reads = nlohmann::json::array();
      for (const attnplay::PretrainedRead& r : loader->reads()) reads.push_back({r.file, double(r.begin), double(r.end)});
      g_loader = std::move(loader);
      g_result = reads.dump();
      return 1;
    }
  } catch (const std::bad_alloc&) {
    error = "out of memory: the model's weights do not fit in the WebAssembly heap (4 GB)";
  }
  g_result = error;
  return 0;
}

EMSCRIPTEN_KEEPALIVE int ap_model_feed(int r, double offset, const uint8_t* bytes, int len) {
  std::string error;
  if (!g_loader) return g_result = "no model load under way", 0;
  if (!g_loader->feed(size_t(r), uint64_t(offset), bytes, size_t(len), &error)) {
    ap_model_abort();
    return g_result = error, 0;
  }
  return 1;
}

EMSCRIPTEN_KEEPALIVE double ap_model_finish() {
  std::string error;
  if (!g_loader) return g_result = "no model load under way", 0;
  std::shared_ptr<attnplay::PretrainedModel> m;
  const bool ok = g_loader->finish(&m, &error);
  g_loader.reset();
  if (!ok) return g_result = error, 0;
  const int64_t handle = g_next_model++;
  g_models[handle] = {std::move(m), attnplay::pretrained_cache_new()};
  g_result = attnplay::pretrained_info_json(*g_models[handle].model);
  return double(handle);
}

EMSCRIPTEN_KEEPALIVE int ap_model_info(double handle) {
  const auto it = g_models.find(int64_t(handle));
  if (it == g_models.end()) return g_result = "model: this model was freed (model.free()) or never loaded", 0;
  g_result = attnplay::pretrained_info_json(*it->second.model);
  return 1;
}

EMSCRIPTEN_KEEPALIVE int ap_model_stats(double handle) {
  const auto it = g_models.find(int64_t(handle));
  if (it == g_models.end()) return g_result = "model: this model was freed (model.free()) or never loaded", 0;
  const attnplay::PretrainedStats s = attnplay::pretrained_cache_stats(*it->second.cache);
  g_result = nlohmann::json{{"recomputed_from_layer", s.recomputed_from_layer}, {"rows_computed", s.rows_computed}}.dump();
  return 1;
}

EMSCRIPTEN_KEEPALIVE int ap_model_free(double handle) { return g_models.erase(int64_t(handle)) ? 1 : 0; }

EMSCRIPTEN_KEEPALIVE const char* ap_result_ptr() { return g_result.data(); }
EMSCRIPTEN_KEEPALIVE int ap_result_len() { return int(g_result.size()); }

EMSCRIPTEN_KEEPALIVE void ap_attention(const float* q, const float* k, const float* v, int heads, int n_q, int n_k, int d_k,
                                       int d_v, int causal, float scale, float* context, float* weights) {
  attnplay::attention_batched(q, k, v, heads, n_q, n_k, d_k, d_v, causal != 0, scale, context, weights);
}

EMSCRIPTEN_KEEPALIVE void ap_mha(const float* x, const float* wq, const float* wk, const float* wv, const float* wo, int n,
                                 int d_model, int heads, int causal, float* output, float* weights) {
  attnplay::mha_batched(x, wq, wk, wv, wo, n, d_model, heads, causal != 0, output, weights);
}

EMSCRIPTEN_KEEPALIVE const char* ap_version() {
  static const std::string s = attnplay::build_summary();
  return s.c_str();
}

EMSCRIPTEN_KEEPALIVE int ap_simd() { return attnplay::core_simd_enabled() ? 1 : 0; }

EMSCRIPTEN_KEEPALIVE const char* ap_kernels() { return attnplay::gemm_kernel_name(); }

}  // extern "C"
