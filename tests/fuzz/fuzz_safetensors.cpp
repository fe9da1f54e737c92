// Fuzz target: the safetensors reader, then the weights loader against a small config.
#include "model/config.h"
#include "model/safetensors.h"
#include "model/weights.h"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  attnplay::SafeTensorsFile f;
  std::string error;
  if (!attnplay::safetensors_read(data, size, &f, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  for (const auto& [name, t] : f.tensors)
    for (float x : t.data)
      if (!std::isfinite(x)) std::abort();  // NaN/inf must have been refused
  static const attnplay::Config config = [] {
    attnplay::Config c;
    std::string e;
    attnplay::config_parse_text(R"({"text": "a b", "d_model": 4, "heads": 2, "transformer": {"layers": 1, "d_ff": 8}})", &c, &e);
    return c;
  }();
  attnplay::ModelWeights w;
  if (!attnplay::weights_from_safetensors(f, config, &w, &error) && error.empty()) std::abort();
  return 0;
}
