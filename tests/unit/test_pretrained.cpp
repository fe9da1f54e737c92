// Mode pretrained's loader and engine on folders made here in memory (the goldens against PyTorch are
// tests/pretrained/pretrained.test.mjs): the 16-bit conversions, the head packed as the file is read in any chunking,
// refusals by name, the memory check, tied = untied with equal tensors, and the incremental path.
#include "core/gemm.h"
#include "model/pretrained.h"
#include "model/head_scores.h"
#include "model/pretrained_pack.h"
#include "model/safetensors.h"
#include "tiny_gpt2.h"
#include "model/pretrained_sweep.h"
#include "model/sha256.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

namespace attnplay {
namespace {

using nlohmann::json;

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

// The page's worker packs a compute and the app unpacks it (pretrained_pack.h): every matrix arrives as computed, the
// predictions are the softmax of the logits in order, the baseline is the unablated compute's, and a lean pack keeps
// the focused head whole and lets the app redo any other from q, k, v.
TEST(Pretrained, PackedComputeUnpacksToTheSameTrace) {
  TinyGpt2 g;
  std::shared_ptr<PretrainedModel> m;
  std::string error;
  ASSERT_TRUE(load(g.source(), g.file, 0, &m, &error)) << error;
  Config c;
  ASSERT_TRUE(config_parse(json{{"mode", "pretrained"}, {"model", "tiny"}, {"token_ids", {3, 1, 4, 1, 5, 9}},
                                {"ablate", {{1, 0}}}, {"attention", {{"mask", {{"cells", {{4, 2}}}}}}}},
                           &c, &error)) << error;
  PretrainedRef ref{m, pretrained_cache_new()};
  PretrainedPackOptions o;
  o.top = 4;
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(pretrained_compute_packed(c, ref, o, &bytes, &error)) << error;
  PretrainedView v;
  ASSERT_TRUE(pretrained_unpack(bytes.data(), bytes.size(), &v, &error)) << error;

  PretrainedRequest r;
  ASSERT_TRUE(pretrained_request(c, *m, &r, &error)) << error;
  Trace want;
  ASSERT_TRUE(pretrained_compute(*m, r, nullptr, &want, &error)) << error;
  EXPECT_EQ(v.ids, r.ids);
  EXPECT_EQ(v.tokens, want.tokens);
  EXPECT_EQ(v.trace.tokens, want.tokens) << "no tokenizer: ids as strings, shown as they are";
  EXPECT_FALSE(v.trace.lean);
  ASSERT_EQ(v.trace.layers.size(), want.layers.size());
  for (size_t l = 0; l < want.layers.size(); ++l) {
    EXPECT_EQ(max_diff(v.trace.layers[l].output, want.layers[l].output), 0.0f) << l;
    for (size_t h = 0; h < want.layers[l].heads.size(); ++h) {
      const HeadTrace &a = v.trace.layers[l].heads[h], &b = want.layers[l].heads[h];
      EXPECT_EQ(max_diff(a.attn.weights, b.attn.weights), 0.0f) << l << "/" << h;
      EXPECT_EQ(max_diff(a.attn.context, b.attn.context), 0.0f) << l << "/" << h;
      EXPECT_EQ(max_diff(a.q, b.q), 0.0f);
      EXPECT_TRUE((a.attn.scores.array().isInf() == b.attn.scores.array().isInf()).all()) << "masked cells stay -inf";
    }
  }
  EXPECT_TRUE(v.trace.layers[1].heads[0].attn.context.isZero()) << "the ablated head's context is 0";
  EXPECT_TRUE(v.trace.attention.mask.cwiseEqual(want.attention.mask).all());
  EXPECT_EQ(v.trace.attention.mask(4, 2), 1) << "the painted cell";
  EXPECT_EQ(max_diff(v.trace.logits, want.logits), 0.0f);
  // Predictions: the softmax of each row's logits, most probable first.
  ASSERT_EQ(v.predictions.size(), r.ids.size());
  for (size_t i = 0; i < r.ids.size(); ++i) {
    const Eigen::VectorXd row = want.logits.row(Eigen::Index(i)).cast<double>();
    const Eigen::VectorXd p = (row.array() - row.maxCoeff()).exp() / (row.array() - row.maxCoeff()).exp().sum();
    std::vector<int> order(size_t(p.size()));
    for (size_t j = 0; j < order.size(); ++j) order[j] = int(j);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p(a) > p(b); });
    ASSERT_EQ(v.predictions[i].size(), 4u);
    for (int k = 0; k < 4; ++k) {
      EXPECT_EQ(v.predictions[i][size_t(k)].id, order[size_t(k)]) << i << "/" << k;
      EXPECT_NEAR(v.predictions[i][size_t(k)].prob, p(order[size_t(k)]), 1e-6) << i << "/" << k;
    }
  }
  // The baseline: the same text without the ablation.
  PretrainedRequest plain = r;
  plain.ablate.clear();
  Trace base;
  ASSERT_TRUE(pretrained_compute(*m, plain, nullptr, &base, &error)) << error;
  const PretrainedTopRows want_base = pretrained_top(*m, base.logits, 4);
  ASSERT_EQ(v.baseline.size(), want_base.size());
  for (size_t i = 0; i < want_base.size(); ++i)
    for (size_t k = 0; k < 4; ++k) {
      EXPECT_EQ(v.baseline[i][k].id, want_base[i][k].id);
      EXPECT_FLOAT_EQ(v.baseline[i][k].prob, want_base[i][k].prob);
    }

  // Lean: only the focused head's matrices travel; every other head is redone in the app to the same numbers.
  o.max_matrix_bytes = 0;
  o.focus_layer = 1;
  o.focus_head = 1;
  ASSERT_TRUE(pretrained_compute_packed(c, ref, o, &bytes, &error)) << error;
  PretrainedView lean;
  ASSERT_TRUE(pretrained_unpack(bytes.data(), bytes.size(), &lean, &error)) << error;
  EXPECT_TRUE(lean.trace.lean);
  EXPECT_TRUE(trace_head_has_matrices(lean.trace, 1, 1));
  EXPECT_FALSE(trace_head_has_matrices(lean.trace, 0, 0));
  EXPECT_GT(lean.trace.layers[0].heads[0].attn.thumb.size(), 0);
  for (int l = 0; l < g.layers; ++l)
    for (int h = 0; h < g.heads; ++h) {
      trace_head_materialize(&lean.trace, l, h);
      EXPECT_LE(max_diff(lean.trace.layers[size_t(l)].heads[size_t(h)].attn.weights, want.layers[size_t(l)].heads[size_t(h)].attn.weights), 1e-6f)
          << l << "/" << h;
    }

  // The head finder's scores travel with it, from every head's full weights (also when the pack is lean).
  const std::vector<Mat> want_scores = head_scores(want);
  ASSERT_EQ(lean.head_scores.size(), size_t(HEAD_SCORE_COUNT));
  for (int k = 0; k < HEAD_SCORE_COUNT; ++k)
    for (int l = 0; l < g.layers; ++l)
      for (int h = 0; h < g.heads; ++h) {
        const float a = lean.head_scores[size_t(k)](l, h), b = want_scores[size_t(k)](l, h);
        if (std::isnan(b)) EXPECT_TRUE(std::isnan(a));
        else EXPECT_NEAR(a, b, 1e-6f) << kHeadScores[k].name << " " << l << "/" << h;
      }

  // A damaged buffer is refused by what is wrong, never read past its end.
  PretrainedView bad;
  EXPECT_FALSE(pretrained_unpack(bytes.data(), bytes.size() / 2, &bad, &error));
  std::vector<uint8_t> renamed = bytes;
  const size_t at = std::string(renamed.begin(), renamed.end()).find("layers.0.heads.0.q\"");
  ASSERT_NE(at, std::string::npos);
  renamed[at + 17] = 'x';
  EXPECT_FALSE(pretrained_unpack(renamed.data(), renamed.size(), &bad, &error));
  EXPECT_NE(error.find("layers.0.heads.0.q is missing"), std::string::npos) << error;
}


// The ablation sweep (pretrained_sweep.h) equals one ablation at a time computed afresh: every head's probability of
// the followed token, the baseline, the ranking by |change|; it leaves the config's own ablation out, a causal model's
// later tokens cannot change it, and the model's cache still answers the next compute as a fresh one would.
TEST(PretrainedSweep, EqualsEachHeadAblatedAloneAndLeavesTheCacheCorrect) {
  TinyGpt2 g;
  g.layers = 3;
  std::shared_ptr<PretrainedModel> m;
  std::string error;
  ASSERT_TRUE(load(g.source(7), g.file, 0, &m, &error)) << error;
  const std::vector<int> ids = {3, 1, 4, 1, 5, 9, 2};
  const auto prob_at = [&](const std::vector<std::pair<int, int>>& ablate, int row, int token) {
    PretrainedRequest r;
    r.ids = ids;
    for (int id : ids) r.tokens.push_back(std::to_string(id));
    r.mask.causal = true;
    r.ablate = ablate;
    Trace t;
    std::string e;
    EXPECT_TRUE(pretrained_compute(*m, r, nullptr, &t, &e)) << e;
    const auto lr = t.logits.row(row).cast<double>();
    if (token < 0) lr.maxCoeff(&token);
    return std::make_pair(token, float(std::exp(lr(token) - lr.maxCoeff()) / (lr.array() - lr.maxCoeff()).exp().sum()));
  };
  for (const int position : {4, -1}) {
    Config c;
    ASSERT_TRUE(config_parse(json{{"mode", "pretrained"}, {"model", "tiny"}, {"token_ids", ids}, {"ablate", {{1, 0}}}}, &c, &error)) << error;
    PretrainedRef ref{m, pretrained_cache_new()};
    PretrainedRequest user;
    ASSERT_TRUE(pretrained_request(c, *m, &user, &error)) << error;
    ASSERT_TRUE(pretrained_compute(*m, user, ref.cache.get(), nullptr, &error)) << error;  // the cache as the app left it
    PretrainedSweep s;
    ASSERT_TRUE(pretrained_sweep_begin(c, ref, position, -1, &s, &error)) << error;
    const int row = position < 0 ? int(ids.size()) - 1 : position;
    const auto [token, base] = prob_at({}, row, -1);
    EXPECT_EQ(s.position, row);
    EXPECT_EQ(s.token, token);
    EXPECT_NEAR(s.baseline, base, 1e-5f);
    EXPECT_EQ(s.total, g.layers * g.heads);
    while (!s.finished()) ASSERT_TRUE(pretrained_sweep_step(ref, &s, &error)) << error;
    for (int l = 0; l < g.layers; ++l)
      for (int h = 0; h < g.heads; ++h)
        EXPECT_NEAR(s.probs(l, h), prob_at({{l, h}}, row, token).second, 1e-5f) << "position " << position << " head " << l << "/" << h;
    const json j = json::parse(pretrained_sweep_json(s));
    ASSERT_EQ(j["ranking"].size(), size_t(g.layers * g.heads));
    for (size_t i = 1; i < j["ranking"].size(); ++i)
      EXPECT_GE(std::fabs(j["ranking"][i - 1][2].get<float>()), std::fabs(j["ranking"][i][2].get<float>())) << i;
    const json& top = j["ranking"][0];
    EXPECT_NEAR(top[2].get<float>(), s.probs(top[0].get<int>(), top[1].get<int>()) - s.baseline, 1e-7f);
    EXPECT_EQ(j["done"], g.layers * g.heads);
    // The next compute through the same cache (the user's ablation again) equals a fresh one.
    Trace after, fresh;
    ASSERT_TRUE(pretrained_compute(*m, user, ref.cache.get(), &after, &error)) << error;
    ASSERT_TRUE(pretrained_compute(*m, user, nullptr, &fresh, &error)) << error;
    EXPECT_LE(max_diff(after.logits, fresh.logits), 1e-5f * std::max(1.0f, fresh.logits.cwiseAbs().maxCoeff()));
  }
  // Another token than the most probable; refusals name what is out of range.
  Config c;
  ASSERT_TRUE(config_parse(json{{"mode", "pretrained"}, {"model", "tiny"}, {"token_ids", ids}}, &c, &error)) << error;
  PretrainedRef ref{m, pretrained_cache_new()};
  PretrainedSweep s;
  ASSERT_TRUE(pretrained_sweep_begin(c, ref, 2, 7, &s, &error)) << error;
  EXPECT_NEAR(s.baseline, prob_at({}, 2, 7).second, 1e-5f);
  ASSERT_TRUE(pretrained_sweep_step(ref, &s, &error)) << error;
  EXPECT_NEAR(s.probs(0, 0), prob_at({{0, 0}}, 2, 7).second, 1e-5f);
  EXPECT_FALSE(pretrained_sweep_begin(c, ref, 7, -1, &s, &error));
  EXPECT_NE(error.find("sweep: position 7"), std::string::npos) << error;
  EXPECT_FALSE(pretrained_sweep_begin(c, ref, 0, g.vocab, &s, &error));
  EXPECT_NE(error.find("sweep: token 11"), std::string::npos) << error;
}


// SHA-256 (the workspace's record of a model's files): FIPS 180-4's examples and the one-million-'a' vector, any
// chunking of the input, and a file read from disk.
TEST(Sha256, KnownVectorsAnyChunkingAndAFile) {
  const auto hex = [](const std::string& m) { return sha256_hex(reinterpret_cast<const uint8_t*>(m.data()), m.size()); };
  EXPECT_EQ(hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::mt19937 rng(3);
  std::vector<uint8_t> data(5000);
  for (uint8_t& b : data) b = uint8_t(rng());
  const std::string whole = sha256_hex(data.data(), data.size());
  for (int trial = 0; trial < 20; ++trial) {
    Sha256 s;
    for (size_t at = 0; at < data.size();) {
      const size_t k = std::min<size_t>(data.size() - at, rng() % 130);
      s.update(data.data() + at, k);
      at += k;
    }
    EXPECT_EQ(s.hex(), whole) << trial;
  }
  for (size_t n : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {  // the padding's edges
    Sha256 a;
    a.update(data.data(), n);
    Sha256 b;
    for (size_t i = 0; i < n; ++i) b.update(data.data() + i, 1);
    EXPECT_EQ(a.hex(), b.hex()) << n;
  }
  // (a file of this run's own: the WASM suites run side by side under ctest -j2)
  const std::string path = (std::filesystem::temp_directory_path() / ("attnplay_sha256_test_" + std::to_string(std::random_device{}()) + ".bin")).string();
  std::vector<uint8_t> big(3u << 20);
  for (uint8_t& b : big) b = uint8_t(rng());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(big.data()), std::streamsize(big.size()));
  EXPECT_EQ(sha256_file_hex(path), sha256_hex(big.data(), big.size()));
  std::filesystem::remove(path);
  EXPECT_EQ(sha256_file_hex(path), "");
}

// Each score on the pattern it names: 1 (or its extreme) there, lower elsewhere; the formulas as head_scores.h states.
TEST(HeadScores, EachScoreFindsThePatternItNames) {
  const int n = 6;
  const std::vector<std::string> tok = {"a", "b", "c", "a", "b", "c"};
  auto causal_rows = [&](auto weight) {  // row i over keys 0..i, normalised
    Mat w = Mat::Zero(n, n);
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j <= i; ++j) w(i, j) = weight(i, j);
      w.row(i) /= w.row(i).sum();
    }
    return w;
  };
  const Mat prev = causal_rows([](int i, int j) { return (i == 0 || j == i - 1) ? 1.0f : 0.0f; });
  const Mat first = causal_rows([](int, int j) { return j == 0 ? 1.0f : 0.0f; });
  const Mat diag = causal_rows([](int i, int j) { return j == i ? 1.0f : 0.0f; });
  const Mat uniform = causal_rows([](int, int) { return 1.0f; });
  // Induction: row i attends to the token after the earlier copy of tok[i] (rows 3, 4, 5 -> keys 1, 2, 3).
  const Mat induct = causal_rows([](int i, int j) { return (i >= 3 ? j == i - 2 : j == i) ? 1.0f : 0.0f; });
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_PREVIOUS, prev, tok), 1.0f);
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_PREVIOUS, first, tok), 1.0f / 5) << "only row 1's key 0 is also the previous one";
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_FIRST, first, tok), 1.0f);
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_DIAGONAL, diag, tok), 1.0f);
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_INDUCTION, induct, tok), 1.0f);
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_INDUCTION, prev, tok), 0.0f);
  EXPECT_TRUE(std::isnan(head_score(HEAD_SCORE_INDUCTION, prev, {"a", "b", "c", "d", "e", "f"}))) << "no repeated token";
  double want_h = 0;
  for (int i = 0; i < n; ++i) want_h += std::log(double(i + 1));
  EXPECT_NEAR(head_score(HEAD_SCORE_ENTROPY, uniform, tok), want_h / n, 1e-6);
  EXPECT_FLOAT_EQ(head_score(HEAD_SCORE_ENTROPY, diag, tok), 0.0f);
}

}  // namespace
}  // namespace attnplay
