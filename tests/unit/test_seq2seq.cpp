// attnplay tests: the encoder-decoder network (network.h: decoder_layer_*, seq2seq_*) against PyTorch's nn.Transformer
// (tests/fixtures/golden/seq2seq_index.json, written by make_fixtures.py section 4): every attention's per-head
// weights and the logits of the forward pass, and the gradients of sum(logits ⊙ R) against autograd.
#include "model/model.h"
#include "model/network.h"
#include "ui/app.h"
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

// Every tensor of w under its SPEC §8 name (the fixture's names), as a visitor over (name, matrix-or-vector).
void visit(ModelWeights* w, const std::function<void(const std::string&, Mat*, Vec*)>& f) {
  f("embedding.weight", &w->embedding, nullptr);
  f("tgt_embedding.weight", &w->seq2seq.tgt_embedding, nullptr);
  f("fc_out.weight", &w->fc_out_w, nullptr);
  f("fc_out.bias", nullptr, &w->fc_out_b);
  auto mha = [&f](const std::string& pre, MhaWeights* m) {
    f(pre + "in_proj_weight", &m->in_proj_w, nullptr);
    f(pre + "in_proj_bias", nullptr, &m->in_proj_b);
    f(pre + "out_proj.weight", &m->out_proj_w, nullptr);
    f(pre + "out_proj.bias", nullptr, &m->out_proj_b);
  };
  for (size_t l = 0; l < w->layers.size(); ++l) {
    const std::string pre = "transformer.encoder.layers." + std::to_string(l) + ".";
    LayerWeights& lw = w->layers[l];
    mha(pre + "self_attn.", &lw.self_attn);
    f(pre + "linear1.weight", &lw.linear1_w, nullptr);
    f(pre + "linear1.bias", nullptr, &lw.linear1_b);
    f(pre + "linear2.weight", &lw.linear2_w, nullptr);
    f(pre + "linear2.bias", nullptr, &lw.linear2_b);
    f(pre + "norm1.weight", nullptr, &lw.norm1_w);
    f(pre + "norm1.bias", nullptr, &lw.norm1_b);
    f(pre + "norm2.weight", nullptr, &lw.norm2_w);
    f(pre + "norm2.bias", nullptr, &lw.norm2_b);
  }
  Seq2SeqWeights& s = w->seq2seq;
  f("transformer.encoder.norm.weight", nullptr, &s.enc_norm_w);
  f("transformer.encoder.norm.bias", nullptr, &s.enc_norm_b);
  for (size_t l = 0; l < s.decoder.size(); ++l) {
    const std::string pre = "transformer.decoder.layers." + std::to_string(l) + ".";
    DecoderLayerWeights& dl = s.decoder[l];
    mha(pre + "self_attn.", &dl.self_attn);
    mha(pre + "multihead_attn.", &dl.cross_attn);
    f(pre + "linear1.weight", &dl.linear1_w, nullptr);
    f(pre + "linear1.bias", nullptr, &dl.linear1_b);
    f(pre + "linear2.weight", &dl.linear2_w, nullptr);
    f(pre + "linear2.bias", nullptr, &dl.linear2_b);
    f(pre + "norm1.weight", nullptr, &dl.norm1_w);
    f(pre + "norm1.bias", nullptr, &dl.norm1_b);
    f(pre + "norm2.weight", nullptr, &dl.norm2_w);
    f(pre + "norm2.bias", nullptr, &dl.norm2_b);
    f(pre + "norm3.weight", nullptr, &dl.norm3_w);
    f(pre + "norm3.bias", nullptr, &dl.norm3_b);
  }
  f("transformer.decoder.norm.weight", nullptr, &s.dec_norm_w);
  f("transformer.decoder.norm.bias", nullptr, &s.dec_norm_b);
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

std::vector<Case> load_cases() {
  std::ifstream in(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/seq2seq_index.json");
  EXPECT_TRUE(in) << "golden/seq2seq_index.json missing: ./build.sh fixtures";
  json j;
  in >> j;
  std::vector<Case> out;
  for (const json& jc : j["cases"]) {
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
    c.src_ids = jc["src_ids"].get<std::vector<int>>();
    c.tgt_ids = jc["tgt_ids"].get<std::vector<int>>();
    MaskSpec pad;
    pad.padding = cfg["padding"].get<std::vector<int>>();
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

// The playground given a seq2seq config (setConfig, a URL): until the translation views arrive the views show the
// encoder's self-attention over the source, in every view and layout, and nothing reads past the source's rows.
TEST(Seq2Seq, PlaygroundShowsTheEncoderInEveryViewAndLayout) {
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.DeltaTime = 1.0f / 60.0f;
  App app;
  std::string error;
  app_init(&app, json{{"mode", "seq2seq"}, {"source", "three hundred twenty one"}, {"target", "3 2 1 end x y z"},
                      {"d_model", 8}, {"heads", 2}, {"transformer", {{"layers", 2}, {"decoder_layers", 1}}}},
           &error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(app.state.trace.seq2seq);
  EXPECT_EQ(app.state.trace.tokens, (std::vector<std::string>{"three", "hundred", "twenty", "one"}));
  for (ImVec2 size : {ImVec2(390, 844), ImVec2(720, 440), ImVec2(1280, 720)})
    for (int v = 0; v < APP_VIEW_COUNT; ++v) {
      SCOPED_TRACE(std::to_string(int(size.x)) + " view " + std::to_string(v));
      io.DisplaySize = size;
      app.state.sel.view = AppView(v);
      for (int f = 0; f < 2; ++f) {
        app_fonts_build_if_needed(&app);
        ImGui::NewFrame();
        app_frame(&app);
        ImGui::Render();
      }
      EXPECT_FALSE(app.state.stale) << app.state.error;
    }
  const json result = json::parse(app_state_result_json(app.state));
  EXPECT_EQ(result["tokens"], json({"3", "2", "1", "end", "x", "y", "z"}));
  EXPECT_EQ(result["cross"][0]["heads"][0]["weights"].size(), 7u);
  app_shutdown(&app);
  ImGui::DestroyContext();
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
