// Mode pretrained's loader and engine on folders made here in memory (the goldens against PyTorch are
// tests/pretrained/pretrained.test.mjs): the 16-bit conversions, the head packed as the file is read in any chunking,
// refusals by name, the memory check, tied = untied with equal tensors, and the incremental path.
#include "core/gemm.h"
#include "model/pretrained.h"
#include "model/safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <random>

namespace attnplay {
namespace {

using nlohmann::json;

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
    s.files["config.json"] = json{{"model_type", "gpt2"}, {"vocab_size", vocab}, {"n_embd", hidden}, {"n_layer", layers},
                                  {"n_head", heads}, {"n_positions", positions}, {"tie_word_embeddings", !untied}}.dump();
    s.headers["model.safetensors"] = bytes;
    s.sizes["model.safetensors"] = bytes.size();
    file = bytes;
    return s;
  }
  std::vector<uint8_t> file;
};

// Loads a source, feeding each read in chunks of `chunk` bytes (a multiple of 4; 0: whole).
bool load(const PretrainedSource& src, const std::vector<uint8_t>& file, size_t chunk, std::shared_ptr<PretrainedModel>* m,
          std::string* error, double max_bytes = 1e9) {
  PretrainedLoader loader;
  PretrainedLimits limits;
  limits.max_bytes = max_bytes;
  if (!loader.begin(src, limits, error)) return false;
  for (size_t r = 0; r < loader.reads().size(); ++r) {
    const PretrainedRead& read = loader.reads()[r];
    const size_t n = size_t(read.end - read.begin);
    for (size_t off = 0; off < n;) {
      const size_t k = chunk ? std::min(chunk, n - off) : n;
      if (!loader.feed(r, off, file.data() + read.begin + off, k, error)) return false;
      off += k;
    }
  }
  return loader.finish(m, error);
}

Trace compute(const PretrainedModel& m, const std::vector<int>& ids, PretrainedCache* cache = nullptr) {
  PretrainedRequest r;
  r.ids = ids;
  for (int id : ids) r.tokens.push_back(std::to_string(id));
  r.mask.causal = true;
  Trace t;
  std::string error;
  EXPECT_TRUE(pretrained_compute(m, r, cache, &t, &error)) << error;
  return t;
}

float max_diff(const Mat& a, const Mat& b) {
  EXPECT_EQ(a.rows(), b.rows());
  EXPECT_EQ(a.cols(), b.cols());
  if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
  return a.size() ? (a - b).cwiseAbs().maxCoeff() : 0.0f;
}

TEST(Pretrained, EveryHalfConvertsExactly) {
  std::vector<uint8_t> bytes(2 * 65536);
  for (int i = 0; i < 65536; ++i) bytes[size_t(2 * i)] = uint8_t(i & 255), bytes[size_t(2 * i + 1)] = uint8_t(i >> 8);
  std::vector<float> got(65536);
  ASSERT_TRUE(safetensors_to_float("F16", bytes.data(), 65536, got.data()));
  for (int i = 0; i < 65536; ++i) {
    const int s = i >> 15, e = (i >> 10) & 31, m = i & 1023;
    float want;
    if (e == 31) {  // infinities and NaNs keep their payload
      const uint32_t b = (uint32_t(s) << 31) | 0x7F800000u | (uint32_t(m) << 13);
      std::memcpy(&want, &b, 4);
    } else {
      want = e ? std::ldexp(1.0f + float(m) / 1024.0f, e - 15) : std::ldexp(float(m) / 1024.0f, -14);
      if (s) want = -want;
    }
    uint32_t a, b;
    std::memcpy(&a, &got[size_t(i)], 4);
    std::memcpy(&b, &want, 4);
    ASSERT_EQ(a, b) << "half 0x" << std::hex << i;
  }
  const uint8_t bf16[4] = {0x80, 0x3F, 0x49, 0xC0};  // 1.0, -3.140625
  float two[2];
  ASSERT_TRUE(safetensors_to_float("BF16", bf16, 2, two));
  EXPECT_EQ(two[0], 1.0f);
  EXPECT_EQ(two[1], -3.140625f);
  EXPECT_FALSE(safetensors_to_float("I64", bf16, 0, two));
}

TEST(Pretrained, VectorisedActivationsMatchTheirFormulas) {
  // GELU (tanh form) and SiLU through the vector exp against std::tanh / std::exp in double, over [-100, 100]
  // (saturation both ways) in 20001 steps, and a block boundary (2500 values: 1024-value blocks and a tail).
  Mat x(1, 20001);
  for (int i = 0; i < x.cols(); ++i) x(0, i) = -100.0f + 0.01f * float(i);
  for (ActivationKind kind : {ACTIVATION_KIND_GELU_TANH, ACTIVATION_KIND_SILU}) {
    Mat y = x;
    activation_forward(kind, &y);
    for (int i = 0; i < x.cols(); ++i) {
      const double v = x(0, i);
      const double want = kind == ACTIVATION_KIND_SILU ? v / (1.0 + std::exp(-v))
                                                       : 0.5 * v * (1.0 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
      ASSERT_NEAR(y(0, i), want, 1e-6 * std::max(1.0, std::fabs(want))) << (kind == ACTIVATION_KIND_SILU ? "silu" : "gelu_tanh") << " at " << v;
    }
  }
}

TEST(Pretrained, PackedIndexIsWherePackingPutsEachValue) {
  for (const auto [K, N] : {std::pair<int, int>{5, 13}, {8, 8}, {3, 17}, {1, 1}}) {
    Mat bt = Mat::Random(N, K);
    GemmPacked packed, filled;
    gemm_pack_bt(K, N, bt.data(), K, &packed);
    gemm_packed_resize(K, N, &filled);
    for (int j = 0; j < N; ++j)
      for (int k = 0; k < K; ++k) filled.data[gemm_packed_index(filled, k, j)] = bt(j, k);
    EXPECT_EQ(filled.data, packed.data) << K << " x " << N;
  }
}

TEST(Pretrained, AnyChunkingLoadsTheSameModel) {
  TinyGpt2 g;
  const PretrainedSource src = g.source();
  std::shared_ptr<PretrainedModel> whole, small;
  std::string error;
  ASSERT_TRUE(load(src, g.file, 0, &whole, &error)) << error;
  const Trace a = compute(*whole, {1, 2, 3, 4});
  // 3 values at a time (rows split across chunks), 37 and 101 (a partial row, whole rows, a partial row).
  for (size_t chunk : {12, 148, 404}) {
    ASSERT_TRUE(load(src, g.file, chunk, &small, &error)) << error;
    EXPECT_EQ(whole->weights.head.data, small->weights.head.data) << chunk;
    for (int l = 0; l < g.layers; ++l) {
      EXPECT_EQ(whole->weights.layers[size_t(l)].self_attn.in_proj_w, small->weights.layers[size_t(l)].self_attn.in_proj_w) << chunk;
      EXPECT_EQ(whole->weights.layers[size_t(l)].linear1_w, small->weights.layers[size_t(l)].linear1_w) << chunk;
    }
    EXPECT_EQ(max_diff(a.logits, compute(*small, {1, 2, 3, 4}).logits), 0.0f) << chunk;
  }
  // The tied head is wte itself: a token's embedding is gathered from the packed head.
  for (int v = 0; v < g.vocab; ++v)
    for (int k = 0; k < g.hidden; ++k)
      ASSERT_EQ(whole->weights.head.data[gemm_packed_index(whole->weights.head, k, v)], g.values["wte.weight"][size_t(v * g.hidden + k)]);
}

TEST(Pretrained, TiedAndUntiedHeadsWithEqualTensorsGiveEqualLogits) {
  TinyGpt2 tied, untied;
  untied.untied = true;
  std::shared_ptr<PretrainedModel> a, b;
  std::string error;
  ASSERT_TRUE(load(tied.source(), tied.file, 0, &a, &error)) << error;
  untied.values = tied.values;
  ASSERT_TRUE(load(untied.source(), untied.file, 0, &b, &error)) << error;
  EXPECT_TRUE(a->weights.embedding.size() == 0 && b->weights.embedding.size() > 0);
  EXPECT_EQ(max_diff(compute(*a, {0, 5, 10}).logits, compute(*b, {0, 5, 10}).logits), 0.0f);
}

TEST(Pretrained, RefusalsNameTheTensorAndLeaveNothingHalfLoaded) {
  TinyGpt2 g;
  PretrainedSource src = g.source();
  std::shared_ptr<PretrainedModel> m;
  std::string error;
  // A NaN in a tensor: named with its index.
  SafeTensorsFile f;
  ASSERT_TRUE(safetensors_read(g.file.data(), g.file.size(), &f, &error));
  f.tensors["h.1.mlp.c_fc.bias"].data[3] = NAN;
  std::vector<uint8_t> bad = safetensors_write(f);
  src.headers["model.safetensors"] = bad;
  EXPECT_FALSE(load(src, bad, 0, &m, &error));
  EXPECT_EQ(error, "model: tensor 'h.1.mlp.c_fc.bias' (model.safetensors): value 3 is NaN or infinite");
  // Finite values that overflow float32 in the forward: refused by layer (the result would hold NaN).
  {
    TinyGpt2 big;
    big.source();
    for (float& v : big.values["h.1.mlp.c_fc.weight"]) v = v < 0 ? -3e38f : 3e38f;  // finite, but 8 of them summed are not
    std::shared_ptr<PretrainedModel> huge;
    ASSERT_TRUE(load(big.source(), big.file, 0, &huge, &error)) << error;
    PretrainedRequest r;
    r.ids = {1, 2, 3};
    r.tokens = {"1", "2", "3"};
    r.mask.causal = true;
    Trace t;
    EXPECT_FALSE(pretrained_compute(*huge, r, nullptr, &t, &error));
    EXPECT_EQ(error, "model: layer 1's numbers overflow float32 (infinite or NaN): the model's weights hold values too large for it");
  }
  // The memory limit: refused with the sizes, before anything is allocated.
  src = g.source();
  EXPECT_FALSE(load(src, g.file, 0, &m, &error, 1024.0));
  EXPECT_NE(error.find("model: its gpt2 weights need"), std::string::npos) << error;
  EXPECT_NE(error.find("more than the 0.00 MB this engine may use"), std::string::npos) << error;
  // Fed out of order, and not fed whole.
  PretrainedLoader loader;
  ASSERT_TRUE(loader.begin(src, PretrainedLimits(), &error)) << error;
  EXPECT_FALSE(loader.feed(0, 4, g.file.data(), 4, &error));
  EXPECT_NE(error.find("was fed out of order"), std::string::npos) << error;
  PretrainedLoader partial;
  ASSERT_TRUE(partial.begin(src, PretrainedLimits(), &error));
  EXPECT_FALSE(partial.finish(&m, &error));
  EXPECT_NE(error.find("is incomplete: the file ended after 0 of its"), std::string::npos) << error;
}

TEST(Pretrained, AppendedTokensReuseThePrefixAndAgreeWithAFullCompute) {
  TinyGpt2 g;
  std::shared_ptr<PretrainedModel> m;
  std::string error;
  ASSERT_TRUE(load(g.source(), g.file, 0, &m, &error)) << error;
  const std::vector<int> ids = {3, 1, 4, 1, 5, 9, 2, 6};
  auto cache = pretrained_cache_new();
  compute(*m, std::vector<int>(ids.begin(), ids.begin() + 5), cache.get());
  const Trace inc = compute(*m, ids, cache.get()), full = compute(*m, ids);
  EXPECT_EQ(pretrained_cache_stats(*cache).rows_computed, 3);
  EXPECT_EQ(pretrained_cache_stats(*cache).recomputed_from_layer, 0);
  // To rounding: the GEMMs over 3 rows sum in another order than over 8.
  const float tol = 1e-5f * std::max(1.0f, full.logits.cwiseAbs().maxCoeff());
  EXPECT_LE(max_diff(inc.logits, full.logits), tol);
  for (size_t l = 0; l < full.layers.size(); ++l) {
    EXPECT_LE(max_diff(inc.layers[l].output, full.layers[l].output), tol) << l;
    for (size_t h = 0; h < full.layers[l].heads.size(); ++h)
      EXPECT_LE(max_diff(inc.layers[l].heads[h].attn.weights, full.layers[l].heads[h].attn.weights), 1e-5f) << l << "/" << h;
  }
  // The trace can stay in the cache (no copy): the same numbers.
  PretrainedRequest r;
  r.ids = ids;
  r.tokens.assign(ids.size(), "t");
  r.mask.causal = true;
  r.temperature = 2.0f;  // a new temperature: everything anew
  ASSERT_TRUE(pretrained_compute(*m, r, cache.get(), nullptr, &error)) << error;
  EXPECT_EQ(pretrained_cache_stats(*cache).rows_computed, int(ids.size()));
  EXPECT_EQ(pretrained_cache_trace(*cache).layers.size(), size_t(g.layers));
}

}  // namespace
}  // namespace attnplay
