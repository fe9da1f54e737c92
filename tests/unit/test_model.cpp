// attnplay tests: src/model (tokenizer, RNG, config, safetensors, weights, forward).
#include "model/attention_import.h"
#include "model/config.h"
#include "model/model.h"
#include "model/rng.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "model/weights.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <sstream>
#include <limits>
#include <set>

namespace attnplay {
namespace {

using json = nlohmann::json;
using Tokens = std::vector<std::string>;

TEST(Tokenizer, WordsSplitsPunctuation) {
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "The cat sat on the mat."),
            (Tokens{"The", "cat", "sat", "on", "the", "mat", "."}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "don't  stop!"), (Tokens{"don", "'", "t", "stop", "!"}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "  \t\n "), Tokens{});
}

TEST(Tokenizer, ChineseAndMixed) {
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_CHARS, "今天天气很好"), (Tokens{"今", "天", "天", "气", "很", "好"}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "今天天气很好。"), (Tokens{"今", "天", "天", "气", "很", "好", "。"}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "AI模型，good"), (Tokens{"AI", "模", "型", "，", "good"}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WHITESPACE, "今天 天气\u3000很好"), (Tokens{"今天", "天气", "很好"}));
}

TEST(Tokenizer, EmojiAndCombiningMarksStayWhole) {
  const std::string family = "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7";  // 👨‍👩‍👧
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "hi " + family + "!"), (Tokens{"hi", family, "!"}));
  const std::string cafe = "cafe\xCC\x81";  // e + U+0301 COMBINING ACUTE ACCENT
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, cafe + " ok"), (Tokens{cafe, "ok"}));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_CHARS, "e\xCC\x81").size(), 2u);  // code points, as the SPEC says
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_CHARS, "a b"), (Tokens{"a", " ", "b"}));
}

TEST(Tokenizer, InvalidUtf8BecomesReplacementCharacter) {
  bool bad = false;
  const auto cps = utf8_decode("a\xFF" "b\xE4\xBB" "c\xED\xA0\x80", &bad);  // stray, truncated, surrogate
  EXPECT_TRUE(bad);
  EXPECT_EQ(cps, (std::vector<uint32_t>{'a', 0xFFFD, 'b', 0xFFFD, 'c', 0xFFFD, 0xFFFD, 0xFFFD}));
  EXPECT_FALSE(utf8_is_valid("\xC0\xAF"));  // overlong '/'
  EXPECT_TRUE(utf8_is_valid("今天"));
  EXPECT_EQ(tokenizer_split(TOKENIZER_KIND_WORDS, "ab\xFF"), (Tokens{"ab\xEF\xBF\xBD"}));
}

// These constants pin the RNG: the same test runs natively and in WASM, so passing both proves the seeded
// numbers are bit-identical across the two builds.
TEST(Rng, StreamsAreFixedAndBitIdentical) {
  Rng r = rng_stream(1, "test");
  const uint64_t a = rng_next_u64(&r), b = rng_next_u64(&r);
  Rng r2 = rng_stream(1, "test");
  EXPECT_EQ(rng_next_u64(&r2), a);
  EXPECT_NE(a, b);
  Rng other = rng_stream(2, "test");
  EXPECT_NE(rng_next_u64(&other), a);
  float u[4];
  Rng r3 = rng_stream(7, "uniform");
  rng_fill_uniform(&r3, -0.5f, 0.5f, u, 4);
  for (float x : u) {
    EXPECT_GE(x, -0.5f);
    EXPECT_LT(x, 0.5f);
  }
}

uint64_t fnv_bytes(const std::vector<uint8_t>& bytes) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (uint8_t c : bytes) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

TEST(Weights, SeededFileIsPinned) {
  // The exact bytes `attnplay weights` writes for the default config; this hash is checked natively and in WASM.
  std::vector<uint8_t> file;
  std::string error;
  ASSERT_TRUE(model_weights_json("{}", &file, &error)) << error;
  EXPECT_EQ(fnv_bytes(file), 0x20b2ff9ef0690efcull) << "seeded weights changed (or differ between builds): hash 0x" << std::hex << fnv_bytes(file);
}

TEST(Weights, EditingTextKeepsOtherTokensVectors) {
  Config a, b;
  std::string error;
  ASSERT_TRUE(config_parse_text(R"({"text": "the cat sat"})", &a, &error)) << error;
  ASSERT_TRUE(config_parse_text(R"({"text": "a cat sat down"})", &b, &error)) << error;
  const ModelWeights wa = weights_seeded(a), wb = weights_seeded(b);
  EXPECT_EQ(wa.vocab, (Tokens{"the", "cat", "sat"}));
  EXPECT_TRUE(mat_near(wa.embedding.row(1), wb.embedding.row(1), 0, 0));  // "cat"
  EXPECT_TRUE(mat_near(wa.layers[0].self_attn.in_proj_w, wb.layers[0].self_attn.in_proj_w, 0, 0));
}

TEST(Weights, SafetensorsRoundTripGivesSameResult) {
  const std::string cfg = R"({"mode": "transformer", "text": "a b c a", "transformer": {"positional": "learned"}})";
  std::vector<uint8_t> file;
  std::string error, seeded, loaded;
  ASSERT_TRUE(model_weights_json(cfg, &file, &error)) << error;
  ASSERT_TRUE(model_compute_json(cfg, nullptr, 0, &seeded, &error)) << error;
  ASSERT_TRUE(model_compute_json(cfg, file.data(), file.size(), &loaded, &error)) << error;
  EXPECT_EQ(seeded, loaded);
  SafeTensorsFile f;
  ASSERT_TRUE(safetensors_read(file.data(), file.size(), &f, &error)) << error;
  EXPECT_EQ(f.tensors.at("embedding.weight").shape, (std::vector<int64_t>{3, 16}));
  EXPECT_EQ(f.tensors.at("encoder.layers.1.self_attn.in_proj_weight").shape, (std::vector<int64_t>{48, 16}));
  EXPECT_EQ(json::parse(f.metadata.at("vocab")), json({"a", "b", "c"}));
}

TEST(Weights, UnknownTokenUsesUnkOrIsRefused) {
  ModelWeights w;
  w.vocab = {"a", "<unk>"};
  std::vector<int> ids;
  std::string error;
  ASSERT_TRUE(weights_token_ids(w, {"a", "zz"}, &ids, &error));
  EXPECT_EQ(ids, (std::vector<int>{0, 1}));
  w.vocab = {"a"};
  EXPECT_FALSE(weights_token_ids(w, {"a", "zz"}, &ids, &error));
  EXPECT_NE(error.find("'zz'"), std::string::npos) << error;
}

TEST(Config, DefaultsFollowTheSpec) {
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse_text("{}", &c, &error)) << error;
  EXPECT_EQ(c.tokens, (Tokens{"The", "cat", "sat", "on", "the", "mat", "."}));
  EXPECT_EQ(c.d_model, 16);
  EXPECT_EQ(c.heads, 2);
  EXPECT_EQ(c.d_k, 8);
  EXPECT_EQ(c.d_v, 8);
  EXPECT_FLOAT_EQ(c.attention.scale_divisor(c.d_k), std::sqrt(8.0f));
  EXPECT_EQ(c.layers, 2);
  EXPECT_EQ(c.d_ff, 64);
}

TEST(Config, RefusalsNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"d_model": 10, "heads": 3})", "heads must divide d_model (got d_model=10, heads=3)"},
      {R"({"attention": {"kind": "cosine"}})", "attention.kind must be one of"},
      {R"({"attention": {"mask": {"padding": [9]}}})", "attention.mask.padding[0]: key index 9 is out of range (n_k=7)"},
      {R"({"haeds": 2})", "unknown field 'haeds'"},
      {R"({"attention": {"temperature": 0}})", "attention.temperature must be a positive finite number"},
      {R"([1, 2])", "config must be a JSON object"},
      {R"({"text": )", "config: invalid JSON"},
      // Regression (fuzz_config): a number beyond double made nlohmann throw out_of_range, which escaped.
      {R"({"attention": {"temperature": 0.5e0363779}})", "config: invalid JSON: number overflow parsing '0.5e0363779'"},
  };
  for (const auto& [cfg, expect] : cases) {
    Config c;
    std::string error;
    EXPECT_FALSE(config_parse_text(cfg, &c, &error)) << cfg;
    EXPECT_NE(error.find(expect), std::string::npos) << "config " << cfg << "\n  got: " << error << "\n  expected: " << expect;
  }
}

TEST(Model, SinusoidalPositionsFollowTheFormula) {
  const Mat pe = model_positions(5, 6);
  EXPECT_NEAR(pe(3, 0), std::sin(3.0), 1e-6);
  EXPECT_NEAR(pe(3, 1), std::cos(3.0), 1e-6);
  EXPECT_NEAR(pe(3, 4), std::sin(3.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-6);
  EXPECT_NEAR(pe(4, 5), std::cos(4.0 / std::pow(10000.0, 4.0 / 6.0)), 1e-6);
}

TEST(Model, CrossAttentionAndChineseTokens) {
  std::string result, error;
  ASSERT_TRUE(model_compute_json(R"({"text": "今天天气很好", "tokenizer": "chars", "key_tokens": ["the", "weather", "is", "nice"],
                                     "attention": {"mask": {"causal": true}}})",
                                 nullptr, 0, &result, &error))
      << error;
  const json r = json::parse(result);
  EXPECT_EQ(r["tokens"].size(), 6u);
  EXPECT_EQ(r["key_tokens"], json({"the", "weather", "is", "nice"}));
  const json& w = r["layers"][0]["heads"][1]["weights"];
  ASSERT_EQ(w.size(), 6u);
  ASSERT_EQ(w[0].size(), 4u);
  EXPECT_EQ(w[0][1], 0.0);               // causal, top-left aligned
  EXPECT_TRUE(r["layers"][0]["heads"][1]["scores"][0][1].is_null());
}

TEST(Model, FullyMaskedRowsAreZeroAndReported) {
  std::string result, error;
  ASSERT_TRUE(model_compute_json(R"({"text": "a b c", "attention": {"mask": {"cells": [[1,0],[1,1],[1,2]]}}})", nullptr, 0,
                                 &result, &error))
      << error;
  const json r = json::parse(result);
  EXPECT_EQ(r["fully_masked_rows"], json({1}));
  for (const json& x : r["layers"][0]["heads"][0]["weights"][1]) EXPECT_EQ(x, 0.0);
  for (const json& x : r["layers"][0]["heads"][0]["context"][1]) EXPECT_EQ(x, 0.0);
}

// A lean trace (over the UI's memory budget) holds the same numbers as a full one: same result JSON byte for byte,
// weights recoverable from row_lse, heads materialised and released on demand. Printed: the config of each case.
TEST(Model, LeanTraceHasTheSameNumbersAsAFullOne) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "w" + std::to_string(i % 23) + " ";
  const std::vector<std::string> cases = {
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "attention": {"mask": {"causal": true}}, "text": ")" + text + "\"}",
      R"({"mode": "attention", "d_model": 8, "heads": 2, "attention": {"kind": "additive", "mask": {"window": 4}}, "text": ")" + text + "\"}",
      R"({"mode": "attention", "d_model": 8, "heads": 2, "attention": {"kind": "general", "mask": {"padding": [3, 4]}}, "text": ")" + text + "\"}",
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "kv_heads": 2, "transformer": {"positional": "alibi"}, "text": ")" + text + "\"}",
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "kv_heads": 1, "transformer": {"positional": "rope"}, "attention": {"mask": {"window": 9}}, "text": ")" + text + "\"}"};
  for (const std::string& cfg : cases) {
    SCOPED_TRACE(cfg.substr(0, 110));
    Config c;
    std::string error;
    ASSERT_TRUE(config_parse_text(cfg, &c, &error)) << error;
    Trace full, lean;
    ASSERT_TRUE(model_compute(c, nullptr, &full, &error)) << error;
    TraceOptions opt;
    opt.max_matrix_bytes = 1;  // nothing fits: only the focused head keeps its matrices
    opt.focus_layer = int(full.layers.size()) - 1;
    opt.focus_head = 1;
    opt.thumb = 32;
    ASSERT_TRUE(model_compute(c, nullptr, &lean, &error, opt)) << error;
    EXPECT_FALSE(full.lean);
    ASSERT_TRUE(lean.lean);
    EXPECT_EQ(model_result_json(lean), model_result_json(full));
    for (int l = 0; l < int(lean.layers.size()); ++l)
      for (int h = 0; h < c.heads; ++h) {
        SCOPED_TRACE("layer " + std::to_string(l) + " head " + std::to_string(h));
        const bool focused = l == opt.focus_layer && h == opt.focus_head;
        EXPECT_EQ(trace_head_has_matrices(lean, l, h), focused);
        const AttentionOutput& a = lean.layers[size_t(l)].heads[size_t(h)].attn;
        const AttentionOutput& f = full.layers[size_t(l)].heads[size_t(h)].attn;
        EXPECT_TRUE(mat_near(a.context, f.context));
        EXPECT_TRUE(mat_near(a.thumb, attention_thumbnail(f.weights, 32)));
        Mat w(f.weights.rows(), f.weights.cols());
        for (int i = 0; i < w.rows(); ++i)
          for (int j = 0; j < w.cols(); ++j) w(i, j) = trace_weight(lean, l, h, i, j);
        EXPECT_TRUE(mat_near(w, f.weights));
        trace_head_materialize(&lean, l, h);
        ASSERT_TRUE(trace_head_has_matrices(lean, l, h));
        EXPECT_EQ(a.weights, f.weights);  // the same kernel on the same q, k, v: bit-identical
        EXPECT_TRUE(mat_near(a.scores, f.scores));
        trace_head_release(&lean, l, h);
        EXPECT_FALSE(trace_head_has_matrices(lean, l, h));
        EXPECT_TRUE(trace_head_has_matrices(full, l, h));
      }
    EXPECT_TRUE(mat_near(lean.layers.back().output, full.layers.back().output));
  }
}

// Grouped-query attention: query heads 2g and 2g+1 share key/value head g; their queries differ.
TEST(Model, GroupedQueryHeadsShareKeysAndValues) {
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse_text(R"({"d_model": 16, "heads": 4, "kv_heads": 2, "text": "a b c d e"})", &c, &error)) << error;
  Trace t;
  ASSERT_TRUE(model_compute(c, nullptr, &t, &error)) << error;
  const auto& h = t.layers[0].heads;
  EXPECT_EQ(h[0].k, h[1].k);
  EXPECT_EQ(h[0].v, h[1].v);
  EXPECT_EQ(h[2].k, h[3].k);
  EXPECT_NE(h[0].k, h[2].k);
  EXPECT_NE(h[0].q, h[1].q);
  EXPECT_EQ(model_weights_for(c).layers[0].self_attn.in_proj_w.rows(), 4 * 4 + 2 * (4 + 4));
}

// Numerics at the edges: defined results (finite, rows summing to 1 or 0) or clear refusals, natively and in WASM.
json compute_ok(const std::string& cfg) {
  std::string result, error;
  EXPECT_TRUE(model_compute_json(cfg, nullptr, 0, &result, &error)) << cfg << ": " << error;
  return result.empty() ? json() : json::parse(result);
}

void expect_rows_normalised(const json& r, const std::string& what) {
  std::set<int> full;
  for (const json& i : r["fully_masked_rows"]) full.insert(i.get<int>());
  for (const json& layer : r["layers"])
    for (const json& head : layer["heads"])
      for (size_t i = 0; i < head["weights"].size(); ++i) {
        double sum = 0;
        for (const json& w : head["weights"][i]) sum += w.get<double>();
        EXPECT_NEAR(sum, full.count(int(i)) ? 0.0 : 1.0, 1e-5) << what << " row " << i;
      }
}

TEST(Numerics, TemperatureNearZeroGivesOneHotRows) {
  const json r = compute_ok(R"({"attention": {"temperature": 1e-30}})");
  expect_rows_normalised(r, "temperature 1e-30");
  for (const json& row : r["layers"][0]["heads"][0]["weights"]) {
    double mx = 0;
    for (const json& w : row) mx = std::max(mx, w.get<double>());
    EXPECT_EQ(mx, 1.0);
  }
}

TEST(Numerics, HugeAndSubnormalInputs) {
  const json huge = compute_ok(R"({"inputs": {"q": [[1e30, -1e30], [3e38, 1]], "k": [[1e30, 1e30], [-1e30, 2]], "v": [[1], [2]]}})");
  expect_rows_normalised(huge, "±1e30");
  EXPECT_FALSE(huge["warnings"].empty());
  const json sub = compute_ok(R"({"inputs": {"q": [[1e-40, 1e-41]], "k": [[1e-40, 0], [0, 1e-45]], "v": [[1], [3]]}})");
  expect_rows_normalised(sub, "subnormal");
  EXPECT_NEAR(sub["layers"][0]["heads"][0]["weights"][0][0].get<double>(), 0.5, 1e-6);  // scores ~0: uniform
  EXPECT_NEAR(sub["layers"][0]["heads"][0]["context"][0][0].get<double>(), 2.0, 1e-6);
}

TEST(Numerics, AllRowsMaskedOneKeyAndUnitWidth) {
  const json all = compute_ok(R"({"text": "a b", "attention": {"mask": {"cells": [[0, 0], [0, 1], [1, 0], [1, 1]]}}})");
  EXPECT_EQ(all["fully_masked_rows"], json({0, 1}));
  expect_rows_normalised(all, "all masked");
  for (const json& row : all["layers"][0]["heads"][0]["context"])
    for (const json& x : row) EXPECT_EQ(x, 0.0);
  const json one = compute_ok(R"({"inputs": {"q": [[1], [2], [3]], "k": [[5]], "v": [[7, 8]]}})");
  for (const json& row : one["layers"][0]["heads"][0]["weights"]) EXPECT_EQ(row, json({1.0}));
  EXPECT_EQ(one["layers"][0]["heads"][0]["context"][2], json({7.0, 8.0}));
  const json unit = compute_ok(R"({"d_model": 2, "heads": 2, "mode": "transformer", "attention": {"mask": {"causal": true}}})");
  expect_rows_normalised(unit, "d_k = 1");
  EXPECT_EQ(unit["layers"][0]["heads"][0]["context"][0].size(), 1u);
}

TEST(Numerics, NonFiniteImportsAreRefusedByName) {
  std::string result, error;
  EXPECT_FALSE(model_compute_json(R"({"inputs": {"q": [[1e39]], "k": [[1]], "v": [[1]]}})", nullptr, 0, &result, &error));
  EXPECT_EQ(error, "inputs.q[0][0] is outside the float32 range (got 1e+39)");
  std::vector<uint8_t> file;
  ASSERT_TRUE(model_weights_json(R"({"text": "a"})", &file, &error));
  SafeTensorsFile f;
  ASSERT_TRUE(safetensors_read(file.data(), file.size(), &f, &error));
  f.tensors["fc_out.bias"].data[0] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<uint8_t> bad = safetensors_write(f);
  EXPECT_FALSE(model_compute_json(R"({"text": "a"})", bad.data(), bad.size(), &result, &error));
  EXPECT_EQ(error, "weights: tensor 'fc_out.bias': value 0 is NaN or infinite");
}

}  // namespace
}  // namespace attnplay

// ---------------------------------------------------------------------------------------------------------
// Bring your own attention: tools/export_attention.py's demo export (tests/fixtures/attention/, made by
// make_fixtures.py from a PyTorch nn.TransformerEncoder) in every format reads back as the same maps.
namespace attnplay {
namespace {

std::string fixture_bytes(const std::string& name) {
  std::ifstream f(std::string(ATTNPLAY_FIXTURES_DIR) + "/attention/" + name, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

bool import_fixture(const std::string& name, ImportedAttention* a, std::string* error) {
  const std::string b = fixture_bytes(name);
  return attention_import(reinterpret_cast<const uint8_t*>(b.data()), b.size(), name, a, error);
}

TEST(AttentionImport, EveryFormatGivesThePyTorchMaps) {
  const json expected = json::parse(fixture_bytes("expected.json"));
  const auto tokens = expected["tokens"].get<std::vector<std::string>>();
  for (const char* name : {"demo.npz", "demo.npy", "demo.safetensors", "demo.json"}) {
    SCOPED_TRACE(name);
    ImportedAttention a;
    std::string error;
    ASSERT_TRUE(import_fixture(name, &a, &error)) << error;
    ASSERT_EQ(a.layers.size(), 2u);
    ASSERT_EQ(a.layers[0].size(), 4u);
    if (std::string(name) == "demo.npy") {  // a bare array has no labels
      EXPECT_EQ(a.tokens[0], "q0");
      EXPECT_EQ(a.key_tokens[9], "k9");
    } else {
      EXPECT_EQ(a.tokens, tokens);
      EXPECT_EQ(a.key_tokens, tokens);
    }
    EXPECT_TRUE(a.warnings.empty());
    for (size_t l = 0; l < 2; ++l)
      for (size_t h = 0; h < 4; ++h) {
        const auto rows = expected["attention"][l][h].get<std::vector<std::vector<float>>>();
        Mat want(10, 10);
        for (int i = 0; i < 10; ++i)
          for (int j = 0; j < 10; ++j) want(i, j) = rows[size_t(i)][size_t(j)];
        EXPECT_TRUE(mat_near(a.layers[l][h], want)) << "layer " << l << " head " << h;
      }
    Trace t;
    attention_import_trace(a, &t);
    EXPECT_TRUE(t.imported);
    EXPECT_EQ(t.layers[1].heads[3].attn.weights, a.layers[1][3]);
    EXPECT_EQ(trace_weight(t, 1, 3, 5, 2), a.layers[1][3](5, 2));
  }
}

TEST(AttentionImport, BadFilesAreRefusedByName) {
  struct Case {
    const char* name;
    std::string bytes;
    const char* error;
  };
  const std::vector<Case> cases = {
      {"bad_compressed.npz", fixture_bytes("bad_compressed.npz"), "is compressed (np.savez_compressed); save it with np.savez"},
      {"bad_int.npy", fixture_bytes("bad_int.npy"), "dtype '<i4' is not supported"},
      {"bad_nan.npy", fixture_bytes("bad_nan.npy"), "is not finite"},
      {"bad_tokens.npz", fixture_bytes("bad_tokens.npz"), "tokens has 9 entries but the attention has n_q = 10"},
      {"truncated.npz", fixture_bytes("demo.npz").substr(0, 700), "npz: "},
      {"truncated.npy", fixture_bytes("demo.npy").substr(0, 300), "the data is shorter than its shape"},
      {"ragged.json", R"({"attention": [[0.5, 0.5], [1]]})", "attention[1] must be a list of 2"},
      {"five.json", R"({"attention": [[[[[1]]]]]})", "more than 4 levels"},
      {"flat.json", R"({"attention": [1, 2]})", "nested list of numbers (2 to 4 levels)"},
      {"unknown.json", R"({"attention": [[1]], "labels": []})", "unknown field 'labels'"},
      {"config.json", R"({"text": "a b"})", "json: unknown field 'text'"},
      {"empty.json", R"({"tokens": ["a"]})", "no \"attention\" array"},
      {"noise.bin", "\x01\x02\x03", "not an attention file"},
      {"other.safetensors", fixture_bytes("../bad/ok.safetensors"), "no tensor named 'attention'"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ImportedAttention a;
    std::string error;
    EXPECT_FALSE(attention_import(reinterpret_cast<const uint8_t*>(c.bytes.data()), c.bytes.size(), c.name, &a, &error));
    EXPECT_NE(error.find(c.error), std::string::npos) << error;
  }
  // Rows that are not softmax weights are shown, with a warning.
  ImportedAttention a;
  std::string error;
  const std::string raw = R"({"attention": [[2, 3], [0, 0]], "tokens": ["a", "b"]})";
  ASSERT_TRUE(attention_import(reinterpret_cast<const uint8_t*>(raw.data()), raw.size(), "x.json", &a, &error)) << error;
  ASSERT_EQ(a.warnings.size(), 1u);
}

// A crafted .npz whose tokens hold UTF-32 surrogates (and a value past U+10FFFF) gives well-formed UTF-8: each becomes
// U+FFFD, as the one encoder (utf8_append) makes them everywhere.
TEST(AttentionImport, SurrogatesInNpzTokensBecomeReplacementCharacters) {
  auto le16 = [](std::string* s, uint32_t v) { s->push_back(char(v & 0xFF)), s->push_back(char((v >> 8) & 0xFF)); };
  auto le32 = [&](std::string* s, uint32_t v) { le16(s, v & 0xFFFF), le16(s, v >> 16); };
  auto npy = [](const std::string& descr, const std::string& shape, const std::string& data) {
    std::string h = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + h.size() + 1) % 64) h += ' ';
    h += '\n';
    std::string out = "\x93NUMPY\x01";
    out.push_back('\0');
    out.push_back(char(h.size() & 0xFF));
    out.push_back(char(h.size() >> 8));
    return out + h + data;
  };
  std::string weights;  // [2, 2] float32: two softmax rows
  for (float v : {0.5f, 0.5f, 1.0f, 0.0f}) weights.append(reinterpret_cast<const char*>(&v), 4);
  std::string units;  // '<U2': "a" + a lone high surrogate, then a value past U+10FFFF + a low surrogate
  for (uint32_t cp : {0x61u, 0xD800u, 0x110000u, 0xDC00u}) le32(&units, cp);
  const std::vector<std::pair<std::string, std::string>> members = {{"attention.npy", npy("<f4", "(2, 2)", weights)},
                                                                    {"tokens.npy", npy("<U2", "(2,)", units)}};
  std::string zip, cd;  // stored (method 0) members, then the central directory and its end record
  for (const auto& [name, data] : members) {
    const uint32_t local = uint32_t(zip.size());
    le32(&zip, 0x04034b50), le16(&zip, 20), le16(&zip, 0), le16(&zip, 0), le16(&zip, 0), le16(&zip, 0), le32(&zip, 0);
    le32(&zip, uint32_t(data.size())), le32(&zip, uint32_t(data.size())), le16(&zip, uint32_t(name.size())), le16(&zip, 0);
    zip += name + data;
    le32(&cd, 0x02014b50), le16(&cd, 20), le16(&cd, 20), le16(&cd, 0), le16(&cd, 0), le16(&cd, 0), le16(&cd, 0), le32(&cd, 0);
    le32(&cd, uint32_t(data.size())), le32(&cd, uint32_t(data.size())), le16(&cd, uint32_t(name.size()));
    le16(&cd, 0), le16(&cd, 0), le16(&cd, 0), le16(&cd, 0), le32(&cd, 0), le32(&cd, local);
    cd += name;
  }
  const uint32_t cd_off = uint32_t(zip.size());
  zip += cd;
  le32(&zip, 0x06054b50), le16(&zip, 0), le16(&zip, 0), le16(&zip, 2), le16(&zip, 2), le32(&zip, uint32_t(cd.size()));
  le32(&zip, cd_off), le16(&zip, 0);
  ImportedAttention a;
  std::string error;
  ASSERT_TRUE(attention_import(reinterpret_cast<const uint8_t*>(zip.data()), zip.size(), "crafted.npz", &a, &error)) << error;
  ASSERT_EQ(a.tokens.size(), 2u);
  EXPECT_EQ(a.tokens[0], "a\xEF\xBF\xBD");
  EXPECT_EQ(a.tokens[1], "\xEF\xBF\xBD\xEF\xBF\xBD");
  for (const std::string& t : a.tokens) EXPECT_TRUE(utf8_is_valid(t)) << t;
}

}  // namespace
}  // namespace attnplay
