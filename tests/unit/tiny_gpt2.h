// attnplay tests: a tiny GPT-2 checkpoint made in memory (test_pretrained.cpp) or written as a folder (test_ui.cpp).
#pragma once

#include "model/pretrained.h"
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace attnplay {

// A tiny GPT-2 as transformers saves one: config.json and model.safetensors (F32) with GPT2LMHeadModel's names.
struct TinyGpt2 {
  int vocab = 11, hidden = 8, layers = 2, heads = 2, positions = 16;
  bool untied = false;
  std::map<std::string, std::vector<float>> values;  // name -> row-major values (kept to build variants)

  PretrainedSource source(uint32_t seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.5f);
    SafeTensorsFile f;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
      SafeTensor t;
      t.shape = shape;
      size_t n = 1;
      for (int64_t s : shape) n *= size_t(s);
      if (values.count(name)) t.data = values[name];
      else for (size_t i = 0; i < n; ++i) t.data.push_back(normal(rng));
      values[name] = t.data;
      f.tensors[name] = t;
    };
    const int64_t h = hidden;
    add("wte.weight", {vocab, h});
    add("wpe.weight", {positions, h});
    for (int l = 0; l < layers; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      add(p + "ln_1.weight", {h}), add(p + "ln_1.bias", {h});
      add(p + "attn.c_attn.weight", {h, 3 * h}), add(p + "attn.c_attn.bias", {3 * h});
      add(p + "attn.c_proj.weight", {h, h}), add(p + "attn.c_proj.bias", {h});
      add(p + "ln_2.weight", {h}), add(p + "ln_2.bias", {h});
      add(p + "mlp.c_fc.weight", {h, 4 * h}), add(p + "mlp.c_fc.bias", {4 * h});
      add(p + "mlp.c_proj.weight", {4 * h, h}), add(p + "mlp.c_proj.bias", {h});
    }
    add("ln_f.weight", {h}), add("ln_f.bias", {h});
    if (untied) {
      values["lm_head.weight"] = values["wte.weight"];  // equal values: the same logits as tied
      add("lm_head.weight", {vocab, h});
    }
    const std::vector<uint8_t> bytes = safetensors_write(f);
    PretrainedSource s;
    s.files["config.json"] = nlohmann::json{{"model_type", "gpt2"}, {"vocab_size", vocab}, {"n_embd", hidden}, {"n_layer", layers},
                                  {"n_head", heads}, {"n_positions", positions}, {"tie_word_embeddings", !untied}}.dump();
    s.headers["model.safetensors"] = bytes;
    s.sizes["model.safetensors"] = bytes.size();
    file = bytes;
    return s;
  }
  std::vector<uint8_t> file;
};

// The folder as transformers saves one (config.json, model.safetensors; no tokenizer.json: token_ids only).
inline std::string tiny_gpt2_folder(const std::string& name, TinyGpt2 g = TinyGpt2()) {
  const PretrainedSource s = g.source();
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << s.files.at("config.json");
  std::ofstream(dir / "model.safetensors", std::ios::binary).write(reinterpret_cast<const char*>(g.file.data()), std::streamsize(g.file.size()));
  return dir.string();
}

}  // namespace attnplay
