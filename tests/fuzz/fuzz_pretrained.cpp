// Fuzz target: a model folder's config.json + tokenizer.json + model.safetensors through the loader (SPEC §9), then
// a compute. The input is the three files joined by "\n\x01\n" (a missing part: that file is absent). Refusals are
// fine when they say what they refuse; crashes, hangs, NaN in a result and silent failures are not.
// Seeds: tests/fuzz/corpus/pretrained (tools/make_fuzz_seeds_pretrained.py writes them from tiny folders).
#include "model/config.h"
#include "model/pretrained.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace {
void check(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size), sep = "\n\x01\n";
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    const size_t next = in.find(sep, at);
    parts.push_back(in.substr(at, next == std::string::npos ? std::string::npos : next - at));
    if (next == std::string::npos || parts.size() == 3) break;
    at = next + sep.size();
  }
  attnplay::PretrainedSource src;
  if (parts.size() > 0 && !parts[0].empty()) src.files["config.json"] = parts[0];
  if (parts.size() > 1 && !parts[1].empty()) src.files["tokenizer.json"] = parts[1];
  std::string weights = parts.size() > 2 ? parts[2] : std::string();
  if (!weights.empty()) {
    src.headers["model.safetensors"].assign(weights.begin(), weights.begin() + std::min<size_t>(weights.size(), 8 + 4096));
    src.sizes["model.safetensors"] = weights.size();
  }
  attnplay::PretrainedLimits limits;
  limits.max_bytes = 96.0 * 1048576.0;  // a small model's, so a huge config is refused by size, not allocated
  attnplay::PretrainedLoader loader;
  std::string error;
  if (!loader.begin(src, limits, &error)) {
    check(!error.empty());
    return 0;
  }
  for (size_t r = 0; r < loader.reads().size(); ++r) {
    const attnplay::PretrainedRead& read = loader.reads()[r];
    if (read.end > weights.size()) break;  // a truncated file: finish names the tensor
    if (!loader.feed(r, 0, reinterpret_cast<const uint8_t*>(weights.data()) + read.begin, size_t(read.end - read.begin), &error)) {
      check(!error.empty());
      return 0;
    }
  }
  std::shared_ptr<attnplay::PretrainedModel> model;
  if (!loader.finish(&model, &error)) {
    check(!error.empty());
    return 0;
  }
  for (const char* cfg : {R"({"mode": "pretrained", "model": "m", "token_ids": [0, 1, 0]})",
                          R"({"mode": "pretrained", "model": "m", "text": "Hi there, 你好 é", "ablate": [[0, 0]], "logits": "last"})"}) {
    attnplay::Config c;
    check(attnplay::config_parse_text(cfg, &c, &error));
    attnplay::PretrainedRequest req;
    if (!attnplay::pretrained_request(c, *model, &req, &error)) {
      check(!error.empty());
      continue;
    }
    attnplay::Trace t;
    if (!attnplay::pretrained_compute(*model, req, nullptr, &t, &error)) {
      check(!error.empty());
      continue;
    }
    for (const auto& layer : t.layers) {
      for (const auto& h : layer.heads)
        for (Eigen::Index i = 0; i < h.attn.weights.size(); ++i) check(std::isfinite(h.attn.weights.data()[i]));
      check(layer.output.allFinite());
    }
  }
  return 0;
}
