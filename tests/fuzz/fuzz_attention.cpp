// Fuzz target: the attention-map importer (.npy, .npz, .safetensors, JSON) and the trace made from it. Properties:
// a refusal always says why; an accepted file gives finite maps whose shapes match the labels.
#include "model/attention_import.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first byte picks the name the file arrives under (the extension decides .safetensors).
  static const char* names[] = {"a.npy", "a.npz", "a.safetensors", "a.json"};
  const std::string name = size > 0 ? names[data[0] % 4] : "a.json";
  attnplay::ImportedAttention a;
  std::string error;
  if (!attnplay::attention_import(size > 0 ? data + 1 : data, size > 0 ? size - 1 : 0, name, &a, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (a.layers.empty() || a.layers[0].empty()) std::abort();
  const auto rows = a.layers[0][0].rows(), cols = a.layers[0][0].cols();
  if (rows != long(a.tokens.size()) || cols != long(a.key_tokens.size())) std::abort();
  for (const auto& layer : a.layers)
    for (const auto& m : layer) {
      if (m.rows() != rows || m.cols() != cols) std::abort();
      for (long k = 0; k < m.size(); ++k)
        if (!std::isfinite(m.data()[k])) std::abort();
    }
  attnplay::Trace t;
  attnplay::attention_import_trace(a, &t);
  (void)attnplay::attention_import_json(a);
  return 0;
}
