// attnplay tests: the encoder-decoder network (network.h: decoder_layer_*, seq2seq_*) against PyTorch's nn.Transformer
// (tests/fixtures/golden/seq2seq_index.json, written by make_fixtures.py section 4): every attention's per-head
// weights and the logits of the forward pass, and the gradients of sum(logits ⊙ R) against autograd.
#include "model/model.h"
#include "model/network.h"
#include "ui/app.h"
#include "ui/share.h"
#include "model/train.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <string>

namespace attnplay {
namespace {

using json = nlohmann::json;

Mat mat_of(const json& j) {
  if (!j.empty() && !j[0].is_array()) {  // a vector, as one row
    Mat m(1, Eigen::Index(j.size()));
    for (size_t c = 0; c < j.size(); ++c) m(0, Eigen::Index(c)) = j[c].get<float>();
    return m;
  }
  Mat m(Eigen::Index(j.size()), Eigen::Index(j[0].size()));
  for (size_t i = 0; i < j.size(); ++i)
    for (size_t c = 0; c < j[i].size(); ++c) m(Eigen::Index(i), Eigen::Index(c)) = j[i][c].get<float>();
  return m;
}

Vec vec_of(const json& j) {
  Vec v(Eigen::Index(j.size()));
  for (size_t i = 0; i < j.size(); ++i) v[Eigen::Index(i)] = j[i].get<float>();
  return v;
}

// Every tensor of w under its SPEC §8 name (the fixture's names), as a visitor over (name, matrix-or-vector): the
// weights' own walk (weights_visit), the file's tensors.
void visit(ModelWeights* w, const std::function<void(const std::string&, Mat*, Vec*)>& f) {
  weights_visit(w, nullptr, [&f](const WeightTensor& t) {
    if (t.in_file) f(t.name, t.mat, t.vec);
  });
}

struct Case {
  std::string name;
  Config config;
  ModelWeights weights;
  std::vector<int> src_ids, tgt_ids;
  MaskMat src_mask, cross_mask;
  json expected, grads;
  Mat r;
};

// A case's model: config (the fixture's fields; cross_kind and its W, U, v_a when given) and weights by SPEC §8 name.
Case case_model(const json& jc) {
  Case c;
  c.name = jc["name"];
  const json& cfg = jc["config"];
  Config& k = c.config;
  k.mode = MODEL_MODE_TRANSFORMER;
  k.d_model = cfg["d_model"];
  k.heads = k.kv_heads = cfg["heads"];
  k.d_k = k.d_v = k.d_model / k.heads;
  k.layers = cfg["layers"];
  k.d_ff = cfg["d_ff"];
  k.activation = cfg["activation"] == "gelu" ? ACTIVATION_KIND_GELU : ACTIVATION_KIND_RELU;
  k.norm_first = cfg["norm_first"];
  k.positional = POSITIONAL_KIND_SINUSOIDAL;
  ModelWeights& w = c.weights;
  auto mha_shape = [&k](MhaWeights* m) {
    m->heads = m->kv_heads = k.heads;
    m->d_k = m->d_v = k.d_k;
  };
  w.layers.resize(size_t(k.layers));
  for (LayerWeights& lw : w.layers) mha_shape(&lw.self_attn);
  w.seq2seq.decoder.resize(cfg["decoder_layers"].get<size_t>());
  for (DecoderLayerWeights& dl : w.seq2seq.decoder) {
    mha_shape(&dl.self_attn);
    mha_shape(&dl.cross_attn);
  }
  const json& tw = jc["weights"];
  visit(&w, [&tw](const std::string& name, Mat* m, Vec* v) {
    ASSERT_TRUE(tw.contains(name)) << name;
    if (m) *m = mat_of(tw[name]);
    else *v = vec_of(tw[name]);
  });
  const std::string kind = cfg.value("cross_kind", "scaled_dot");
  k.cross_attention.kind = kind == "general" ? ATTENTION_KIND_GENERAL : kind == "additive" ? ATTENTION_KIND_ADDITIVE : ATTENTION_KIND_SCALED_DOT;
  if (jc.contains("extra")) {
    const json& e = jc["extra"];
    AttentionKindWeights& cw = w.seq2seq.cross_kind;
    if (k.cross_attention.kind == ATTENTION_KIND_GENERAL) cw.general_w = mat_of(e["W"]);
    if (k.cross_attention.kind == ATTENTION_KIND_ADDITIVE) {
      cw.additive_w = mat_of(e["W"]);
      cw.additive_u = mat_of(e["U"]);
      cw.additive_v = vec_of(e["v_a"]);
    }
  }
  return c;
}

std::vector<Case> load_cases() {
  std::ifstream in(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/seq2seq_index.json");
  EXPECT_TRUE(in) << "golden/seq2seq_index.json missing: ./build.sh fixtures";
  json j;
  in >> j;
  std::vector<Case> out;
  for (const json& jc : j["cases"]) {
    Case c = case_model(jc);
    c.src_ids = jc["src_ids"].get<std::vector<int>>();
    c.tgt_ids = jc["tgt_ids"].get<std::vector<int>>();
    MaskSpec pad;
    pad.padding = jc["config"]["padding"].get<std::vector<int>>();
    const int n_s = int(c.src_ids.size()), n_t = int(c.tgt_ids.size());
    c.src_mask = mask_build(pad, n_s, n_s);
    c.cross_mask = mask_build(pad, n_t, n_s);
    c.expected = jc["expected"];
    c.grads = jc["grads"];
    c.r = mat_of(jc["R"]);
    out.push_back(std::move(c));
  }
  return out;
}

// The forward pass: each attention's weights per head and the logits, to the SPEC's tolerance.
TEST(Seq2Seq, ForwardMatchesNnTransformer) {
  for (Case& c : load_cases()) {
    SCOPED_TRACE(c.name);
    const NetSpec spec = net_spec(c.config, c.weights);
    Seq2SeqActs a;
    seq2seq_forward(spec, c.weights, c.src_ids, c.tgt_ids, &c.src_mask, &c.cross_mask, NetOptions(), &a);
    EXPECT_TRUE(mat_near(a.logits, mat_of(c.expected["logits"]))) << "logits";
    auto heads_near = [](const std::vector<HeadTrace>& heads, const json& want, const std::string& what) {
      ASSERT_EQ(heads.size(), want.size()) << what;
      for (size_t h = 0; h < heads.size(); ++h)
        EXPECT_TRUE(mat_near(heads[h].attn.weights, mat_of(want[h]))) << what << " head " << h;
    };
    ASSERT_EQ(a.encoder.layers.size(), c.expected["encoder"].size());
    for (size_t l = 0; l < a.encoder.layers.size(); ++l)
      heads_near(a.encoder.layers[l].heads, c.expected["encoder"][l], "encoder layer " + std::to_string(l));
    ASSERT_EQ(a.decoder.size(), c.expected["cross"].size());
    for (size_t l = 0; l < a.decoder.size(); ++l) {
      heads_near(a.decoder[l].self.heads, c.expected["decoder_self"][l], "decoder self layer " + std::to_string(l));
      heads_near(a.decoder[l].cross.heads, c.expected["cross"][l], "cross layer " + std::to_string(l));
    }
  }
}

// The backward pass: every tensor's gradient of sum(logits ⊙ R) against autograd. Tolerance 1e-4 relative + 1e-5
// absolute (looser than the forward's 1e-5 + 1e-6): float32 sums of products through a dozen layers, in another order.
TEST(Seq2Seq, BackwardMatchesAutograd) {
  for (Case& c : load_cases()) {
    SCOPED_TRACE(c.name);
    const NetSpec spec = net_spec(c.config, c.weights);
    NetOptions o;
    o.for_backward = true;
    Seq2SeqActs a;
    seq2seq_forward(spec, c.weights, c.src_ids, c.tgt_ids, &c.src_mask, &c.cross_mask, o, &a);
    ModelWeights g = weights_zeros_like(c.weights);
    seq2seq_backward(spec, c.weights, c.src_ids, c.tgt_ids, a, c.r, &g);
    int checked = 0;
    visit(&g, [&](const std::string& name, Mat* m, Vec* v) {
      ASSERT_TRUE(c.grads.contains(name)) << name;
      const Mat got = m ? *m : Mat(v->transpose());
      EXPECT_TRUE(mat_near(got, mat_of(c.grads[name]), 1e-4, 1e-5)) << "gradient of " << name;
      ++checked;
    });
    EXPECT_EQ(size_t(checked), c.grads.size()) << "every tensor of the fixture has its gradient checked";
  }
}

json load_steps_fixture() {
  std::ifstream in(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/seq2seq_steps.json");
  EXPECT_TRUE(in) << "golden/seq2seq_steps.json missing: ./build.sh fixtures";
  json j;
  in >> j;
  return j;
}

// The cross-attention's kinds against the network written out in torch ops (make_fixtures.py section 5, which checks
// those ops against nn.Transformer with scaled_dot): general q W kᵀ / √d_k and additive v_a · tanh(W q + U k), with
// the source's padding; every attention's per-head weights and the logits.
TEST(Seq2Seq, CrossKindsMatchTorchOps) {
  const json fixture = load_steps_fixture();  // (kept: a range over a temporary's member would dangle)
  ASSERT_EQ(fixture["kinds"].size(), 3u);
  for (const json& jc : fixture["kinds"]) {
    Case c = case_model(jc);
    SCOPED_TRACE(c.name + " (cross kind " + jc["config"]["cross_kind"].get<std::string>() + ")");
    const std::vector<int> src = jc["src_ids"], tgt = jc["tgt_ids"];
    MaskSpec pad;
    pad.padding = jc["config"]["padding"].get<std::vector<int>>();
    const MaskMat src_mask = mask_build(pad, int(src.size()), int(src.size()));
    const MaskMat cross_mask = mask_build(pad, int(tgt.size()), int(src.size()));
    const NetSpec spec = net_spec(c.config, c.weights, &c.weights.seq2seq.cross_kind);
    Seq2SeqActs a;
    seq2seq_forward(spec, c.weights, src, tgt, &src_mask, &cross_mask, NetOptions(), &a);
    const json& want = jc["expected"];
    EXPECT_TRUE(mat_near(a.logits, mat_of(want["logits"]))) << "logits";
    auto heads_near = [](const std::vector<HeadTrace>& heads, const json& w, const std::string& what) {
      ASSERT_EQ(heads.size(), w.size()) << what;
      for (size_t h = 0; h < heads.size(); ++h) EXPECT_TRUE(mat_near(heads[h].attn.weights, mat_of(w[h]))) << what << " head " << h;
    };
    for (size_t l = 0; l < a.encoder.layers.size(); ++l) heads_near(a.encoder.layers[l].heads, want["encoder"][l], "encoder " + std::to_string(l));
    ASSERT_EQ(a.decoder.size(), want["cross"].size());
    for (size_t l = 0; l < a.decoder.size(); ++l) {
      heads_near(a.decoder[l].self.heads, want["decoder_self"][l], "decoder self " + std::to_string(l));
      heads_near(a.decoder[l].cross.heads, want["cross"][l], "cross " + std::to_string(l));
    }
  }
}

// Training steps against torch.optim (SGD, Adam) with autograd over the same batch: teacher forcing (the decoder reads
// the target shifted right), the mean cross-entropy over every target token. Cross kinds scaled_dot, additive, general
// (their W, U, v_a are not trained, as in the fixture). Loss per step to 1e-5 relative; the weights after the last step
// to 1e-4 relative + 1e-5 absolute (a few optimiser steps compound float32 rounding of the gradients).
TEST(Seq2Seq, TrainingStepsMatchTorchOptim) {
  const json fixture = load_steps_fixture();
  ASSERT_EQ(fixture["steps"].size(), 3u);
  for (const json& jc : fixture["steps"]) {
    Case c = case_model(jc);
    const std::string opt_name = jc["optimizer"];
    const float lr = jc["lr"];
    const int steps = jc["steps"];
    SCOPED_TRACE(c.name + " (" + opt_name + ", lr " + std::to_string(lr) + ", " + std::to_string(steps) + " steps, cross kind " +
                 jc["config"]["cross_kind"].get<std::string>() + ")");
    TranslationBatch b;
    b.sources = jc["sources"].get<std::vector<std::vector<int>>>();
    b.decoder_inputs = jc["decoder_inputs"].get<std::vector<std::vector<int>>>();
    b.targets = jc["targets"].get<std::vector<std::vector<int>>>();
    for (const auto& t : b.targets) b.align.emplace_back(t.size(), -1);
    TrainOptimizer opt = TRAIN_OPTIMIZER_SGD;
    ASSERT_TRUE(train_optimizer_from_name(opt_name, &opt));
    TrainState st;
    train_state_init(&st, c.weights);
    const std::vector<double> losses = jc["losses"];
    for (int step = 0; step < steps; ++step) {
      const TrainResult r = translation_train_step(c.config, &st, b, opt, lr);
      EXPECT_NEAR(r.loss, losses[size_t(step)], 1e-5 * std::fabs(losses[size_t(step)]) + 1e-6) << "step " << step;
    }
    Case want = c;
    const json& fin = jc["final"];
    visit(&want.weights, [&fin](const std::string& name, Mat* m, Vec* v) {
      if (m) *m = mat_of(fin[name]);
      else *v = vec_of(fin[name]);
    });
    // Except the key biases of dot-product scores (scaled_dot, general): their exact gradient is 0 (one vector added to
    // every key shifts a whole row of scores, which softmax ignores), so both sides' gradients are rounding noise that
    // Adam scales up to ±lr per step. There they are only checked to stay within lr·steps of the start (as in
    // test_train.cpp). Additive cross-attention's key bias goes through tanh: it has a real gradient and is compared.
    std::vector<std::pair<std::string, Mat>> got, start;
    auto collect = [](std::vector<std::pair<std::string, Mat>>* out) {
      return [out](const std::string& name, Mat* m, Vec* v) { out->emplace_back(name, m ? *m : Mat(v->transpose())); };
    };
    visit(&st.weights, collect(&got));
    visit(&c.weights, collect(&start));
    const int d = c.config.d_model;
    const bool additive_cross = c.config.cross_attention.kind == ATTENTION_KIND_ADDITIVE;
    const double bound = double(lr) * steps * 1.001;
    int checked = 0;
    visit(&want.weights, [&](const std::string& name, Mat* m, Vec* v) {
      Mat w = m ? *m : Mat(v->transpose());
      Mat& g = got[size_t(checked)].second;
      const bool key_bias = name.size() > 12 && name.compare(name.size() - 12, 12, "in_proj_bias") == 0 &&
                            !(additive_cross && name.find("multihead_attn") != std::string::npos);
      if (key_bias)
        for (int i = d; i < 2 * d; ++i) {
          EXPECT_LE(std::fabs(g(0, i) - start[size_t(checked)].second(0, i)), bound) << name << " key bias " << i;
          g(0, i) = w(0, i);  // compared above; excluded below
        }
      EXPECT_TRUE(mat_near(g, w, 1e-4, 1e-5)) << "tensor " << name << " after " << steps << " steps";
      ++checked;
    });
    EXPECT_EQ(size_t(checked), fin.size()) << "every tensor of the fixture is compared";
  }
}

// weights_params covers the decoder side too (so optimisers and zeros_like reach every trainable tensor).
TEST(Seq2Seq, ZerosLikeClearsEveryTensor) {
  for (Case& c : load_cases()) {
    ModelWeights z = weights_zeros_like(c.weights);
    visit(&z, [&](const std::string& name, Mat* m, Vec* v) {
      const float mx = m ? m->cwiseAbs().maxCoeff() : v->cwiseAbs().maxCoeff();
      EXPECT_EQ(mx, 0.0f) << c.name << " " << name;
    });
  }
}

// Runs two frames of the headless app at a size.
void frames(App* app, ImVec2 size) {
  ImGui::GetIO().DisplaySize = size;
  for (int f = 0; f < 2; ++f) {
    app_fonts_build_if_needed(app);
    ImGui::NewFrame();
    app_frame(app);
    ImGui::Render();
  }
}

// The playground given a seq2seq config (setConfig, a URL): the band selector picks encoder self, decoder self or cross,
// every offered view draws each band at a phone's, an article's and a laptop's size, and the result JSON stays SPEC §8's.
TEST(Seq2Seq, PlaygroundShowsEveryBandInEveryViewAndLayout) {
  ImGui::CreateContext();
  ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
  App app;
  std::string error;
  app_init(&app, json{{"mode", "seq2seq"}, {"source", "three hundred twenty one"}, {"target", "3 2 1 end x y z"},
                      {"d_model", 8}, {"heads", 2}, {"transformer", {{"layers", 2}, {"decoder_layers", 1}}}},
           &error);
  EXPECT_EQ(error, "");
  ASSERT_TRUE(app.state.full.seq2seq);
  const std::vector<std::string> src = {"three", "hundred", "twenty", "one"}, tgt = {"3", "2", "1", "end", "x", "y", "z"};
  struct Want { TraceBand band; std::vector<std::string> rows, cols; size_t layers; };
  for (const Want& w : {Want{TRACE_BAND_ENCODER, src, src, 2}, Want{TRACE_BAND_DECODER_SELF, tgt, tgt, 1},
                        Want{TRACE_BAND_CROSS, tgt, src, 1}}) {
    app_state_set_band(&app.state, w.band);
    SCOPED_TRACE("band " + std::to_string(int(w.band)));
    EXPECT_FALSE(app.state.trace.seq2seq);
    EXPECT_EQ(app.state.trace.tokens, w.rows);
    EXPECT_EQ(app.state.trace.key_tokens, w.cols);
    EXPECT_EQ(app.state.trace.layers.size(), w.layers);
    for (ImVec2 size : {ImVec2(390, 844), ImVec2(720, 440), ImVec2(1280, 720)})
      for (int v = 0; v < APP_VIEW_COUNT; ++v) {
        SCOPED_TRACE(std::to_string(int(size.x)) + " view " + app_view_info(v).name);
        app.state.sel.view = AppView(v);
        app.state.sel.mean_heads = v % 2 == 0;  // both ways over the views
        frames(&app, size);
        EXPECT_FALSE(app.state.stale) << app.state.error;
        EXPECT_TRUE(app.clipped.empty()) << app.clipped[0];
        if (v == APP_VIEW_DECODE) EXPECT_EQ(app.state.sel.band, TRACE_BAND_CROSS);  // decoding shows cross rows
      }
    EXPECT_TRUE(app.layout.count("band_cross")) << "the band selector";
  }
  // The Model view draws the three bands (thumbnail ids name the band).
  app.state.sel.view = APP_VIEW_MODEL;
  frames(&app, ImVec2(1280, 720));
  for (const char* id : {"thumb_encoder_1_1", "thumb_decoder_self_0_0", "thumb_cross_0_1"}) EXPECT_TRUE(app.layout.count(id)) << id;
  const json result = json::parse(app_state_result_json(app.state));
  EXPECT_EQ(result["tokens"], json(tgt));
  EXPECT_EQ(result["source_tokens"], json(src));
  EXPECT_EQ(result["cross"][0]["heads"][0]["weights"].size(), 7u);
  EXPECT_EQ(result["encoder"].size(), 2u);
  // A share link keeps the band and the heads' mean; a cell past the band's rows is clamped to them.
  app_state_set_band(&app.state, TRACE_BAND_DECODER_SELF);
  app.state.sel.mean_heads = true;
  const std::string q = share_query(app);
  EXPECT_NE(q.find("band=decoder_self"), std::string::npos) << q;
  EXPECT_NE(q.find("mean=1"), std::string::npos) << q;
  App other;
  app_init(&other, json::object(), &error);
  ASSERT_TRUE(share_apply(&other, q, &error)) << error;
  EXPECT_EQ(other.state.sel.band, TRACE_BAND_DECODER_SELF);
  EXPECT_TRUE(other.state.sel.mean_heads);
  EXPECT_EQ(other.state.trace.tokens, tgt);
  ASSERT_TRUE(share_apply(&other, "band=encoder&cell=6,6", &error)) << error;
  EXPECT_EQ(other.state.sel.query, 3) << "the encoder band has 4 rows";
  EXPECT_FALSE(share_apply(&other, "band=decoder", &error));
  EXPECT_NE(error.find("band: must be encoder, decoder_self or cross"), std::string::npos) << error;
  app_shutdown(&other);
  app_shutdown(&app);
  ImGui::DestroyContext();
}

// setConfig (a deep merge) switches a page to mode seq2seq and back: the page's own text goes with the mode it belonged
// to, while the caller's fields are kept (and refused by name when they do not fit).
TEST(Seq2Seq, SetConfigSwitchesModes) {
  AppState s;
  std::string error;
  app_state_init(&s, json::object(), &error);
  ASSERT_TRUE(app_state_merge(&s, json{{"mode", "seq2seq"}, {"source", "a b c"}, {"target", "x y"}}, &error)) << error;
  EXPECT_TRUE(s.full.seq2seq);
  EXPECT_FALSE(s.config.contains("text"));
  ASSERT_TRUE(app_state_merge(&s, json{{"transformer", {{"decoder_layers", 1}}}}, &error)) << error;
  EXPECT_EQ(s.full.decoder.size(), 1u);
  ASSERT_TRUE(app_state_merge(&s, json{{"mode", "transformer"}, {"text", "one two"}}, &error)) << error;
  EXPECT_FALSE(s.full.seq2seq);
  EXPECT_FALSE(s.config.contains("source"));
  EXPECT_FALSE(s.config["transformer"].contains("decoder_layers"));
  EXPECT_EQ(s.trace.tokens, (std::vector<std::string>{"one", "two"}));
  // The caller's own mismatch is still refused by name, and changes nothing.
  EXPECT_FALSE(app_state_merge(&s, json{{"mode", "seq2seq"}, {"text", "a b"}, {"source", "a"}, {"target", "b"}}, &error));
  EXPECT_NE(error.find("text does not apply to mode \"seq2seq\""), std::string::npos) << error;
  EXPECT_EQ(s.trace.tokens, (std::vector<std::string>{"one", "two"}));
}

// trace_band hands each attention over as it was computed: the cross band's heads are the decoder's cross heads, the
// decoder self band is causal with the whole layer's output, and the cross band carries cross_attention's kind.
TEST(Seq2Seq, TraceBandsAreTheDecodersAttentions) {
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse(json{{"mode", "seq2seq"}, {"source", "a b c d"}, {"target", "x y z"}, {"d_model", 8}, {"heads", 2},
                                {"attention", {{"mask", {{"padding", {3}}}}}},
                                {"cross_attention", {{"kind", "additive"}}}, {"transformer", {{"layers", 1}}}},
                           &c, &error)) << error;
  Trace t;
  ASSERT_TRUE(model_compute(c, nullptr, &t, &error)) << error;
  const Trace self = trace_band(t, TRACE_BAND_DECODER_SELF), cross = trace_band(t, TRACE_BAND_CROSS);
  EXPECT_EQ(cross.attention.spec.kind, ATTENTION_KIND_ADDITIVE);
  EXPECT_EQ(self.attention.spec.kind, ATTENTION_KIND_SCALED_DOT);
  ASSERT_EQ(cross.layers.size(), 1u);
  EXPECT_EQ(cross.layers[0].heads[1].attn.weights, t.decoder[0].cross.heads[1].attn.weights);
  EXPECT_EQ(self.layers[0].output, t.decoder[0].output);
  ASSERT_EQ(self.attention.mask.rows(), 3);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_EQ(int(self.attention.mask(i, j)), j > i ? 1 : 0) << i << "," << j;
  ASSERT_EQ(cross.attention.mask.rows(), 3);
  ASSERT_EQ(cross.attention.mask.cols(), 4);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(int(cross.attention.mask(i, 3)), 1) << "the source's padding hides key 3 from row " << i;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cross.layers[0].heads[0].attn.weights(i, 3), 0.0f);
  // The walkthrough's parameters for a cross cell are the cross-attention's.
  EXPECT_EQ(trace_params(cross).kind, ATTENTION_KIND_ADDITIVE);
}

// Greedy decoding: each step is the forward pass over the tokens emitted so far; its cross row is that pass's last
// row, and its token the argmax of that row's logits.
TEST(Seq2Seq, GreedyDecodeStepsAreForwardPasses) {
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse(json{{"mode", "seq2seq"}, {"source", "a b c"}, {"target", "<s> x y z"}, {"tokenizer", "whitespace"}, {"d_model", 8}, {"heads", 2},
                                {"transformer", {{"layers", 1}, {"decoder_layers", 2}}}},
                           &c, &error)) << error;
  std::vector<DecodeStep> steps;
  ASSERT_TRUE(model_greedy_decode(c, nullptr, 4, &steps, &error)) << error;
  ASSERT_EQ(steps.size(), 4u);
  const ModelWeights w = weights_seeded(c);
  std::vector<std::string> prefix = {"<s>"};
  for (size_t k = 0; k < steps.size(); ++k) {
    SCOPED_TRACE("step " + std::to_string(k));
    Config ck = c;
    ck.tokens = prefix;
    Trace t;
    ASSERT_TRUE(model_compute(ck, &w, &t, &error)) << error;
    const int row = int(prefix.size()) - 1;
    Eigen::Index best;
    t.target_logits.row(row).maxCoeff(&best);
    EXPECT_EQ(steps[k].token, t.tgt_vocab[size_t(best)]);
    EXPECT_GT(steps[k].prob, 0.0f);
    EXPECT_LE(steps[k].prob, 1.0f);
    ASSERT_EQ(steps[k].cross.size(), 2u);
    for (int l = 0; l < 2; ++l)
      for (int h = 0; h < 2; ++h)
        EXPECT_EQ(Mat(steps[k].cross[size_t(l)].row(h)), Mat(t.decoder[size_t(l)].cross.heads[size_t(h)].attn.weights.row(row)));
    prefix.push_back(steps[k].token);
  }
  // Refused by name: steps beyond the target's length (its learned positions bound it), or another mode.
  EXPECT_FALSE(model_greedy_decode(c, nullptr, 5, &steps, &error));
  EXPECT_NE(error.find("steps"), std::string::npos) << error;
  Config enc;
  ASSERT_TRUE(config_parse(json{{"text", "a b"}}, &enc, &error));
  EXPECT_FALSE(model_greedy_decode(enc, nullptr, 1, &steps, &error));
  EXPECT_NE(error.find("mode"), std::string::npos) << error;
}

// translation_check: the task's tokens in the vocabularies, learned positions enough for its sentences, and the word-
// order task's target no longer than its source.
TEST(Seq2Seq, TranslationCheckRefusesByName) {
  auto cfg = [](json extra) {
    json j = {{"mode", "seq2seq"}, {"source", "cat sees big dog"}, {"target", "<s> cat big dog sees"}, {"tokenizer", "whitespace"}, {"d_model", 8}, {"heads", 2},
              {"transformer", {{"layers", 1}}}};
    j.merge_patch(extra);
    Config c;
    std::string e;
    EXPECT_TRUE(config_parse(j, &c, &e)) << e;
    return c;
  };
  std::string error;
  const Config ok = cfg(json::object());
  EXPECT_TRUE(translation_check(TRANSLATION_TASK_SOV, ok, translation_task_weights(TRANSLATION_TASK_SOV, ok), &error)) << error;
  const Config longer = cfg(json{{"target", "<s> cat big dog sees it now"}});
  EXPECT_FALSE(translation_check(TRANSLATION_TASK_SOV, longer, translation_task_weights(TRANSLATION_TASK_SOV, longer), &error));
  EXPECT_NE(error.find("target: 6 tokens but the source has 4"), std::string::npos) << error;
  // The date task may write more target than source tokens ("2026 - 11 - 21" from "21 nov 2026").
  EXPECT_TRUE(translation_check(TRANSLATION_TASK_DATE, longer, translation_task_weights(TRANSLATION_TASK_DATE, longer), &error)) << error;
  // Weights seeded for the sentence, not the task: a token of the task is missing.
  EXPECT_FALSE(translation_check(TRANSLATION_TASK_DATE, ok, weights_seeded(ok), &error));
  EXPECT_NE(error.find("train: task date: "), std::string::npos) << error;
  // Learned positions fewer than the task's target needs.
  const Config learned = cfg(json{{"transformer", {{"positional", "learned"}}}});
  ModelWeights w = translation_task_weights(TRANSLATION_TASK_NUMBERS_ZH, learned);
  w.seq2seq.tgt_pos_embedding.conservativeResize(3, Eigen::NoChange);
  EXPECT_FALSE(translation_check(TRANSLATION_TASK_NUMBERS_ZH, learned, w, &error));
  EXPECT_NE(error.find("tgt_pos_embedding.weight has 3 positions but task numbers_zh needs 5"), std::string::npos) << error;
}

}  // namespace
}  // namespace attnplay

namespace attnplay {
namespace {

// The classic figure forms: train the date task (teacher forcing, Adam), then the token accuracy on fresh dates and
// the cross-attention's alignment (last decoder layer, mean over heads: does the row that writes the year look at
// the year?). Native only: the WASM run of this binary would spend minutes on it (its arithmetic is the same).
TEST(Seq2Seq, DateTaskLearnsToAlign) {
#if defined(__wasm__)
  GTEST_SKIP() << "native only (same arithmetic in WASM)";
#endif
  const TranslationTask task = TRANSLATION_TASK_DATE;
  json cfg = {{"mode", "seq2seq"}, {"source_tokens", translation_task_source_vocab(task)},
              {"target_tokens", translation_task_target_vocab(task)}, {"d_model", 32}, {"heads", 2},
              {"transformer", {{"layers", 1}, {"decoder_layers", 1}, {"d_ff", 64}}}};
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse(cfg, &c, &error)) << error;
  TrainState st;
  train_state_init(&st, weights_seeded(c));
  Rng rng = rng_stream(7, "test/date");
  {  // before training: the alignment is not there yet (the figure forms; it is not built in)
    const TranslationBatch probe = translation_task_batch(task, st.weights, 64, &rng);
    ModelWeights g0;
    std::vector<Seq2SeqActs> acts0;
    translation_loss_and_grads(c, st.weights, probe, &g0, &acts0);
    const double before = translation_alignment(probe, acts0);
    std::printf("  date task untrained: alignment %.3f\n", before);
    EXPECT_LT(before, 0.6);
  }
  TrainResult r;
  for (int step = 0; step < 400; ++step) r = translation_train_step(c, &st, translation_task_batch(task, st.weights, 32, &rng), TRAIN_OPTIMIZER_ADAM, 3e-3f);
  const TranslationBatch test = translation_task_batch(task, st.weights, 64, &rng);
  ModelWeights g;
  std::vector<Seq2SeqActs> acts;
  const TrainResult eval = translation_loss_and_grads(c, st.weights, test, &g, &acts);
  const double align = translation_alignment(test, acts);
  std::printf("  date task after 400 steps: train loss %.4f, test token accuracy %.3f, alignment %.3f\n", r.loss, eval.accuracy, align);
  EXPECT_GE(eval.accuracy, 0.95);
  EXPECT_GE(align, 0.80);
}

}  // namespace
}  // namespace attnplay
