// Fuzz target: the whole compute path on small random configs, extreme numbers included (±1e30, subnormals,
// temperatures near 0, every mask). Properties: either a refusal with a message, or a result whose weight rows
// sum to 1 (or are all 0 for a fully masked row), with every number finite.
#include "model/config_fields.h"
#include "model/model.h"
#include "model/network.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>

using json = nlohmann::json;

static float pick_value(FuzzedDataProvider& p) {
  static const float special[] = {0.0f, 1.0f, -1.0f, 1e30f, -1e30f, 1e-40f, -1e-40f, 3e38f, 1e-30f, 0.5f};
  return p.ConsumeBool() ? special[p.ConsumeIntegralInRange<int>(0, 9)] : p.ConsumeFloatingPointInRange<float>(-8.0f, 8.0f);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider p(data, size);
  json c = json::object();
  // Every kind, tokenizer and positional scheme, from their tables (a new one is fuzzed with no change here).
  const attnplay::ConfigField& tokenizers = attnplay::config_field("tokenizer");
  c["attention"]["kind"] = attnplay::attention_kind_info(attnplay::AttentionKind(p.ConsumeIntegralInRange<int>(0, attnplay::ATTENTION_KIND_COUNT - 1))).name;
  if (p.ConsumeBool()) c["attention"]["temperature"] = p.ConsumeBool() ? 1e-30 : p.ConsumeFloatingPointInRange<double>(1e-6, 100);
  if (p.ConsumeBool()) c["attention"]["scale"] = p.ConsumeBool() ? json("dk") : json("none");
  c["attention"]["mask"]["causal"] = p.ConsumeBool();
  if (p.ConsumeBool()) c["attention"]["mask"]["window"] = p.ConsumeIntegralInRange<int>(0, 4);
  const bool explicit_inputs = p.ConsumeBool();
  int n_q = 0, n_k = 0;
  if (explicit_inputs) {
    n_q = p.ConsumeIntegralInRange<int>(1, 5);
    n_k = p.ConsumeIntegralInRange<int>(1, 5);
    const int d = p.ConsumeIntegralInRange<int>(1, 4), dv = p.ConsumeIntegralInRange<int>(1, 3);
    auto mat = [&](int rows, int cols) {
      json m = json::array();
      for (int i = 0; i < rows; ++i) {
        json r = json::array();
        for (int j = 0; j < cols; ++j) r.push_back(pick_value(p));
        m.push_back(r);
      }
      return m;
    };
    c["inputs"] = {{"q", mat(n_q, d)}, {"k", mat(n_k, d)}, {"v", mat(n_k, dv)}};
  } else {
    c["text"] = p.ConsumeRandomLengthString(24);
    c["tokenizer"] = tokenizers.values[size_t(p.ConsumeIntegralInRange<int>(0, int(tokenizers.values.size()) - 1))].name;
    c["d_model"] = p.ConsumeIntegralInRange<int>(1, 12);
    c["heads"] = p.ConsumeIntegralInRange<int>(1, 4);
    c["seed"] = p.ConsumeIntegral<uint16_t>();
    if (p.ConsumeBool()) {
      c["mode"] = "transformer";
      c["transformer"] = {{"layers", p.ConsumeIntegralInRange<int>(1, 2)}, {"d_ff", p.ConsumeIntegralInRange<int>(1, 8)},
                          {"activation", p.ConsumeBool() ? "gelu" : "relu"}, {"norm_first", p.ConsumeBool()},
                          {"positional", attnplay::positional_info(attnplay::PositionalKind(
                                             p.ConsumeIntegralInRange<int>(0, attnplay::POSITIONAL_KIND_COUNT - 1))).name}};
    }
  }
  if (p.ConsumeBool()) c["attention"]["mask"]["padding"] = json::array({p.ConsumeIntegralInRange<int>(0, 5)});
  if (p.ConsumeBool()) c["attention"]["mask"]["cells"] = json::array({{p.ConsumeIntegralInRange<int>(0, 5), p.ConsumeIntegralInRange<int>(0, 5)}});
  std::string result, error;
  // Invalid UTF-8 in the random text becomes U+FFFD, as a browser would send it.
  const std::string text = c.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!attnplay::model_compute_json(text, nullptr, 0, &result, &error)) {
    if (error.empty()) std::abort();
    return 0;
  }
  const json r = json::parse(result);
  std::set<int> fully;
  for (const json& i : r["fully_masked_rows"]) fully.insert(i.get<int>());
  for (const json& layer : r["layers"])
    for (const json& head : layer["heads"]) {
      for (size_t i = 0; i < head["weights"].size(); ++i) {
        double sum = 0;
        for (const json& w : head["weights"][i]) {
          const double x = w.get<double>();
          if (!std::isfinite(x) || x < 0 || x > 1.0000001) std::abort();
          sum += x;
        }
        if (fully.count(int(i)) ? sum != 0 : std::fabs(sum - 1) > 1e-4) std::abort();
      }
      for (const json& row : head["context"])
        for (const json& x : row)
          if (!std::isfinite(x.get<double>())) std::abort();
    }
  return 0;
}
