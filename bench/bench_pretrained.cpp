// attnplay pretrained-model benchmark (SPEC §9, issue 26): a Hugging Face folder loaded and run with every attention
// map kept, natively and in WASM under Node (the same source; bench/bench_pretrained.mjs runs it beside PyTorch and
// onnxruntime-web in interleaved rounds). One JSON line:
//   attnplay_bench_pretrained FOLDER IDS.json N ROUNDS
//   {"library": "attnplay", "kernels", "tokens", "load_ms", "forward_ms": [...] (logits "all"), "forward_last_ms":
//    [...] ("last"), "append_ms": [...] (one token appended to N-1 through the cache, logits "last"),
//    "json_ms": [...] (the result JSON of a forward, what core.compute adds), "peak_mb", "weights_f32_mb", "maps_mb"}
// peak_mb: after the load and the forwards (before any JSON), the WASM heap's size (a heap never shrinks: its
// high-water mark); natively the process's peak RSS.
#include "core/gemm.h"
#include "model/pretrained.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifdef __EMSCRIPTEN__
#include <emscripten/heap.h>
#else
#include <sys/resource.h>
#endif

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double peak_mb() {
#ifdef __EMSCRIPTEN__
  return double(emscripten_get_heap_size()) / 1048576.0;
#else
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  using namespace attnplay;
  if (argc < 5) {
    std::fprintf(stderr, "usage: attnplay_bench_pretrained FOLDER IDS.json N ROUNDS\n");
    return 2;
  }
  const std::string folder = argv[1];
  const int n = std::atoi(argv[3]), rounds = std::max(1, std::atoi(argv[4]));
  std::ifstream f(argv[2]);
  std::stringstream ss;
  ss << f.rdbuf();
  const nlohmann::json input = nlohmann::json::parse(ss.str(), nullptr, false);
  if (!input.is_object() || !input["token_ids"].contains(std::to_string(n))) {
    std::fprintf(stderr, "%s: no token_ids for %d tokens\n", argv[2], n);
    return 2;
  }
  const std::vector<int> ids = input["token_ids"][std::to_string(n)].get<std::vector<int>>();

  std::string error;
  PretrainedLimits limits;
  std::shared_ptr<PretrainedModel> m;
  const double t0 = now_ms();
  if (!pretrained_load_dir(folder, limits, &m, &error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 2;
  }
  const double load_ms = now_ms() - t0;

  auto request = [&](int count, PretrainedLogits logits) {
    PretrainedRequest r;
    r.ids.assign(ids.begin(), ids.begin() + count);
    for (int id : r.ids) r.tokens.push_back(std::to_string(id));
    r.mask.causal = m->dims.causal;
    r.logits = logits;
    return r;
  };
  auto run = [&](const PretrainedRequest& r, PretrainedCache* cache, Trace* t) {
    if (!pretrained_compute(*m, r, cache, t, &error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      std::exit(2);
    }
  };
  std::vector<double> full, last, append, json_ms;
  Trace t;
  run(request(n, PRETRAINED_LOGITS_ALL), nullptr, &t);  // warm-up: every buffer allocated once, V8's code tiered up
  for (int r = 0; r < rounds; ++r) {
    t = Trace();  // (one trace alive at a time, as core.compute keeps one per model)
    double a = now_ms();
    run(request(n, PRETRAINED_LOGITS_ALL), nullptr, &t);
    full.push_back(now_ms() - a);
    t = Trace();
    a = now_ms();
    run(request(n, PRETRAINED_LOGITS_LAST), nullptr, &t);
    last.push_back(now_ms() - a);
  }
  const double peak = peak_mb();  // load and forward (the JSON below is the JS API's, timed apart)
  for (int r = 0; r < rounds; ++r) {
    const double a = now_ms();
    const std::string j = pretrained_result_json(t, request(n, PRETRAINED_LOGITS_LAST));
    json_ms.push_back(now_ms() - a);
  }
  t = Trace();
  for (int r = 0; r < rounds; ++r) {
    auto cache = pretrained_cache_new();  // (the trace stays in the cache, as core.compute's does)
    run(request(n - 1, PRETRAINED_LOGITS_LAST), cache.get(), nullptr);
    const double a = now_ms();
    run(request(n, PRETRAINED_LOGITS_LAST), cache.get(), nullptr);
    append.push_back(now_ms() - a);
    if (pretrained_cache_stats(*cache).rows_computed != 1) {
      std::fprintf(stderr, "the appended token recomputed %d rows\n", pretrained_cache_stats(*cache).rows_computed);
      return 1;
    }
  }
  const PretrainedDims& d = m->dims;
  const double maps_mb = 2.0 * d.layers * d.heads * double(n) * n * 4.0 / 1048576.0;
  nlohmann::json out = {{"library", "attnplay"},
                        {"kernels", gemm_kernel_name()},
                        {"tokens", n},
                        {"load_ms", load_ms},
                        {"forward_ms", full},
                        {"forward_last_ms", last},
                        {"append_ms", append},
                        {"json_ms", json_ms},
                        {"peak_mb", peak},
                        {"weights_f32_mb", m->bytes / 1048576.0},
                        {"maps_mb", maps_mb}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
