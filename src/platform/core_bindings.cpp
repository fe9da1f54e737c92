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
#include "core/attention.h"
#include "core/build_info.h"
#include "core/gemm.h"
#include "core/layers.h"
#include "model/attention_import.h"
#include "model/model.h"
#include "model/train_session.h"

#include <emscripten/emscripten.h>

#include <chrono>
#include <cmath>
#include <memory>
#include <new>
#include <string>

#include <nlohmann/json.hpp>

namespace {
std::string g_result;
std::unique_ptr<attnplay::TrainSession> g_train;  // core.createTrainer's session (web/core/post.js)
}

extern "C" {

EMSCRIPTEN_KEEPALIVE int ap_compute(const char* cfg, int cfg_len, const uint8_t* weights, int weights_len) {
  std::string error;
  g_result.clear();
  try {
    if (attnplay::model_compute_json(std::string(cfg, size_t(cfg_len)), weights, size_t(weights_len), &g_result, &error))
      return 1;
  } catch (const std::bad_alloc&) {
    error = "out of memory: the config needs more than the WebAssembly heap can give (2 GB); use fewer tokens, heads or layers";
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

EMSCRIPTEN_KEEPALIVE void ap_train_close() { g_train.reset(); }

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
