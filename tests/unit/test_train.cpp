// attnplay tests: training. Every backward pass against central finite differences (native and WASM), the whole
// model's gradients likewise, the toy tasks, and the optimisers against PyTorch autograd (golden/train_index.json).
#include "core/backward.h"
#include "model/config.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "model/train.h"
#include "test_util.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <sstream>

namespace attnplay {
namespace {

Mat rnd(int r, int c, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  Mat m(r, c);
  for (int i = 0; i < m.size(); ++i) m.data()[i] = u(gen);
  return m;
}

// Central differences of loss() over n entries of p (every entry, or an even sample of `sample`), against the
// analytic gradient g. Tolerance: float32 forward passes, so differences carry ~1e-7·|loss|/h of rounding: the
// allowed error is abs_tol + rel_tol·|g|. Prints the first differing entries.
::testing::AssertionResult fd_check(const char* what, float* p, const float* g, size_t n, const std::function<double()>& loss,
                                   double h = 1e-3, double rel_tol = 2e-2, double abs_tol = 2e-4, size_t sample = 48) {
  std::ostringstream os;
  int bad = 0;
  const size_t stride = n > sample ? n / sample : 1;
  for (size_t i = 0; i < n; i += stride) {
    const float keep = p[i];
    p[i] = float(keep + h);
    const double up = loss();
    p[i] = float(keep - h);
    const double down = loss();
    p[i] = keep;
    const double fd = (up - down) / (2 * h), an = g[i];
    if (!(std::fabs(fd - an) <= abs_tol + rel_tol * std::fabs(an))) {
      if (bad < 5) os << "\n  " << what << "[" << i << "] analytic " << an << " finite difference " << fd;
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " of " << (n + stride - 1) / stride << " entries differ" << os.str();
  return ::testing::AssertionSuccess();
}

double dot_loss(const Mat& y, const Mat& r) { return double((y.array() * r.array()).sum()); }

TEST(Backward, LinearMatchesFiniteDifferences) {
  Mat x = rnd(5, 4, 1), w = rnd(3, 4, 2);
  Vec b = rnd(3, 1, 3);
  const Mat r = rnd(5, 3, 4);
  auto loss = [&] {
    Mat y;
    linear_forward(x, w, b, &y);
    return dot_loss(y, r);
  };
  Mat dx, dw = Mat::Zero(3, 4);
  Vec db = Vec::Zero(3);
  linear_backward(x, w, r, &dx, &dw, &db);
  EXPECT_TRUE(fd_check("x", x.data(), dx.data(), size_t(x.size()), loss));
  EXPECT_TRUE(fd_check("w", w.data(), dw.data(), size_t(w.size()), loss));
  EXPECT_TRUE(fd_check("b", b.data(), db.data(), size_t(b.size()), loss));
}

TEST(Backward, LayerNormMatchesFiniteDifferences) {
  Mat x = rnd(4, 6, 5, 2.0f);
  Vec gamma = (rnd(6, 1, 6, 0.3f).array() + 1.0f).matrix(), beta = rnd(6, 1, 7);
  const Mat r = rnd(4, 6, 8);
  auto loss = [&] {
    Mat y;
    layer_norm_forward(x, gamma, beta, 1e-5f, &y);
    return dot_loss(y, r);
  };
  Mat y, dx;
  LayerNormCache cache;
  layer_norm_forward_cached(x, gamma, beta, 1e-5f, &y, &cache);
  Mat y_plain;
  layer_norm_forward(x, gamma, beta, 1e-5f, &y_plain);
  EXPECT_EQ(y, y_plain);  // the cached forward is the same arithmetic
  Vec dg = Vec::Zero(6), db = Vec::Zero(6);
  layer_norm_backward(cache, gamma, r, &dx, &dg, &db);
  EXPECT_TRUE(fd_check("x", x.data(), dx.data(), size_t(x.size()), loss));
  EXPECT_TRUE(fd_check("gamma", gamma.data(), dg.data(), size_t(gamma.size()), loss));
  EXPECT_TRUE(fd_check("beta", beta.data(), db.data(), size_t(beta.size()), loss));
}

TEST(Backward, ActivationsMatchFiniteDifferences) {
  for (ActivationKind kind : {ACTIVATION_KIND_RELU, ACTIVATION_KIND_GELU}) {
    SCOPED_TRACE(kind == ACTIVATION_KIND_RELU ? "relu" : "gelu");
    Mat x = rnd(3, 7, 9, 3.0f);
    for (int i = 0; i < x.size(); ++i)  // keep relu's kink out of the differences' reach
      if (std::fabs(x.data()[i]) < 0.05f) x.data()[i] = 0.3f;
    const Mat r = rnd(3, 7, 10);
    auto loss = [&] {
      Mat y = x;
      activation_forward(kind, &y);
      return dot_loss(y, r);
    };
    Mat dx;
    activation_backward(kind, x, r, &dx);
    EXPECT_TRUE(fd_check("x", x.data(), dx.data(), size_t(x.size()), loss));
  }
}

TEST(Backward, AttentionMatchesFiniteDifferences) {
  struct Case {
    AttentionKind kind;
    bool causal;
    int window;
    float temperature, slope;
  };
  const Mat wg = rnd(4, 4, 20, 0.7f), wa = rnd(5, 4, 21), ua = rnd(5, 4, 22);
  const Vec va = rnd(5, 1, 23);
  for (const Case& cs : {Case{ATTENTION_KIND_SCALED_DOT, false, -1, 1.0f, 0.0f}, Case{ATTENTION_KIND_SCALED_DOT, true, -1, 0.7f, 0.25f},
                         Case{ATTENTION_KIND_DOT, false, 1, 1.5f, 0.0f}, Case{ATTENTION_KIND_GENERAL, true, -1, 0.8f, 0.0f},
                         Case{ATTENTION_KIND_ADDITIVE, false, 2, 0.6f, 0.125f}}) {
    SCOPED_TRACE("kind=" + std::to_string(cs.kind) + " causal=" + std::to_string(cs.causal) + " window=" +
                 std::to_string(cs.window) + " temperature=" + std::to_string(cs.temperature) + " slope=" + std::to_string(cs.slope));
    Mat q = rnd(5, 4, 11), k = rnd(6, 4, 12), v = rnd(6, 3, 13);
    if (cs.causal) k = rnd(5, 4, 12), v = rnd(5, 3, 13);
    const int n_k = int(k.rows());
    AttentionParams p;
    p.kind = cs.kind;
    p.scale_divisor = 2.0f;
    p.temperature = cs.temperature;
    p.alibi_slope = cs.slope;
    p.w_general = &wg;
    p.w_additive = &wa;
    p.u_additive = &ua;
    p.v_additive = &va;
    MaskSpec spec;
    spec.causal = cs.causal;
    spec.window = cs.window;
    const MaskMat mask = mask_build(spec, 5, n_k);
    const Mat r = rnd(5, 3, 14);
    auto loss = [&] {
      AttentionOutput a;
      attention_forward(q, k, v, p, &mask, &a);
      return dot_loss(a.context, r);
    };
    AttentionOutput a;
    attention_forward(q, k, v, p, &mask, &a);
    Mat dq, dk, dv;
    attention_backward(q, k, v, a.weights, p, r, &dq, &dk, &dv);
    EXPECT_TRUE(fd_check("q", q.data(), dq.data(), size_t(q.size()), loss));
    EXPECT_TRUE(fd_check("k", k.data(), dk.data(), size_t(k.size()), loss));
    EXPECT_TRUE(fd_check("v", v.data(), dv.data(), size_t(v.size()), loss));
  }
}

TEST(Backward, RopeIsTheTransposeOfTheRotation) {
  Mat x = rnd(6, 8, 15);
  const Mat r = rnd(6, 8, 16);
  auto loss = [&] {
    Mat y = x;
    rope_apply(&y, 100.0f);
    return dot_loss(y, r);
  };
  Mat d = r;
  rope_backward(&d, 100.0f);
  EXPECT_TRUE(fd_check("x", x.data(), d.data(), size_t(x.size()), loss));
}

TEST(Backward, CrossEntropyMatchesFiniteDifferencesAndIgnoresTargets) {
  Mat logits = rnd(4, 5, 17, 2.0f);
  const std::vector<int> targets = {1, kIgnoreTarget, 4, 0};
  Mat d;
  int correct = 0;
  const double sum = cross_entropy_forward_backward(logits, targets, 3, &d, &correct);
  auto loss = [&] {
    Mat dd;
    return cross_entropy_forward_backward(logits, targets, 3, &dd, nullptr) / 3;
  };
  EXPECT_TRUE(fd_check("logits", logits.data(), d.data(), size_t(logits.size()), loss));
  EXPECT_EQ(d.row(1).norm(), 0.0f);  // an ignored position has no gradient
  // -log softmax by hand for row 0
  double z = 0;
  for (int v = 0; v < 5; ++v) z += std::exp(double(logits(0, v)));
  double by_hand = -(double(logits(0, 1)) - std::log(z));
  for (int i : {2, 3}) {
    double zi = 0;
    for (int v = 0; v < 5; ++v) zi += std::exp(double(logits(i, v)));
    by_hand += -(double(logits(i, targets[size_t(i)])) - std::log(zi));
  }
  EXPECT_NEAR(sum, by_hand, 1e-5);
}

// The whole model: every tensor's gradient (sampled entries) against finite differences of the batch's mean loss.
// Printed: each config. gelu throughout: a finite difference across relu's kink measures nothing (relu's backward
// has its own test above, and the PyTorch training golden runs relu models).
TEST(Backward, WholeModelMatchesFiniteDifferences) {
  const char* configs[] = {
      R"({"mode": "transformer", "d_model": 8, "heads": 2, "transformer": {"layers": 2, "d_ff": 12, "activation": "gelu"}, "attention": {"mask": {"causal": true}}})",
      R"({"mode": "transformer", "d_model": 8, "heads": 2, "transformer": {"layers": 1, "d_ff": 12, "norm_first": true, "activation": "gelu", "positional": "learned"}, "attention": {"temperature": 0.8}})",
      R"({"mode": "transformer", "d_model": 8, "heads": 4, "kv_heads": 2, "transformer": {"layers": 1, "d_ff": 8, "positional": "rope", "activation": "gelu"}, "attention": {"kind": "dot", "mask": {"window": 2}}})",
      R"({"mode": "transformer", "d_model": 8, "heads": 2, "kv_heads": 1, "transformer": {"layers": 1, "d_ff": 8, "positional": "alibi", "norm_first": true, "activation": "gelu"}})",
      R"({"mode": "transformer", "d_model": 8, "heads": 2, "transformer": {"layers": 1, "d_ff": 8, "activation": "gelu"}, "attention": {"kind": "general", "mask": {"causal": true}}})",
      R"({"mode": "transformer", "d_model": 8, "heads": 2, "transformer": {"layers": 1, "d_ff": 8, "activation": "gelu"}, "attention": {"kind": "additive", "temperature": 0.7}})"};
  for (const char* cfg : configs) {
    SCOPED_TRACE(cfg);
    Config c;
    std::string error;
    ASSERT_TRUE(config_parse_text(cfg, &c, &error)) << error;
    ASSERT_TRUE(train_check_config(c, &error)) << error;
    Config vc = c;
    vc.tokens = train_task_vocab(5);
    ModelWeights w = weights_seeded(vc);
    // Non-trivial norms and biases, so no term hides behind a 1 or a 0.
    std::mt19937 gen(3);
    std::uniform_real_distribution<float> u(-0.3f, 0.3f);
    for (LayerWeights& lw : w.layers)
      for (Vec* b : {&lw.norm1_w, &lw.norm1_b, &lw.norm2_w, &lw.norm2_b, &lw.self_attn.in_proj_b, &lw.self_attn.out_proj_b})
        for (int i = 0; i < b->size(); ++i) (*b)[i] += u(gen);
    Rng rng = rng_stream(7, "test");
    const TrainBatch batch = train_task_batch(TRAIN_TASK_REVERSE, 5, 5, 2, &rng);
    ModelWeights g;
    const TrainResult r = train_loss_and_grads(c, w, batch, false, &g);
    EXPECT_EQ(r.counted, 10);
    auto loss = [&] {
      ModelWeights scratch;
      return train_loss_and_grads(c, w, batch, false, &scratch).loss;
    };
    const std::vector<ParamRef> ps = weights_params(&w), gs = weights_params(&g);
    ASSERT_EQ(ps.size(), gs.size());
    for (size_t t = 0; t < ps.size(); ++t) {
      SCOPED_TRACE("tensor " + std::to_string(t));
      // 5e-3 steps: the loss is a float32 forward of ~2, so smaller steps drown in rounding.
      EXPECT_TRUE(fd_check("param", ps[t].data, gs[t].data, ps[t].size, loss, 5e-3, 3e-2, 3e-4, 12));
    }
  }
}

// train_loss_and_grads stacks the sequences of one length (NetSpec::segment). Reference: one sequence at a time
// through net_forward / net_backward (the unstacked network the views run), summed. Stacking only reorders float sums
// (the weight gradients become one product over all rows), so the two agree to rounding: worst |a - b| over
// max(1, max |b|) of each tensor ≤ 2e-6. Every positional scheme, grouped-query heads, each mask kind, both norm
// placements, the four attention kinds, and a batch of three lengths (given data may mix them).
TrainResult train_loss_and_grads_one_at_a_time(const Config& c, const ModelWeights& w, const TrainBatch& batch, bool causal,
                                               ModelWeights* grads) {
  *grads = weights_zeros_like(w);
  TrainResult r;
  for (const auto& t : batch.targets)
    for (int v : t) r.counted += v != kIgnoreTarget ? 1 : 0;
  const NetSpec spec = net_spec(c, w);
  NetOptions o;
  o.for_backward = true;
  double loss = 0;
  int correct = 0;
  for (size_t s = 0; s < batch.inputs.size(); ++s) {
    const int n = int(batch.inputs[s].size());
    MaskSpec ms;
    ms.causal = causal || c.attention.mask.causal;
    ms.window = c.attention.mask.window;
    const MaskMat mask = mask_spec_is_empty(ms) ? MaskMat() : mask_build(ms, n, n);
    NetActs acts;
    net_forward(spec, w, batch.inputs[s], mask.size() ? &mask : nullptr, o, &acts);
    Mat d_logits;
    loss += cross_entropy_forward_backward(acts.logits, batch.targets[s], r.counted, &d_logits, &correct);
    net_backward(spec, w, batch.inputs[s], acts, d_logits, grads);
  }
  r.loss = loss / r.counted;
  r.accuracy = double(correct) / r.counted;
  return r;
}

TEST(Train, StackedBatchEqualsOneSequenceAtATime) {
  const char* configs[] = {
      R"({"mode": "transformer", "d_model": 16, "heads": 2, "transformer": {"layers": 2, "d_ff": 24}})",
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "transformer": {"layers": 2, "d_ff": 24, "norm_first": true, "activation": "gelu", "positional": "learned"}, "attention": {"mask": {"causal": true}}})",
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "kv_heads": 2, "transformer": {"layers": 1, "d_ff": 16, "positional": "rope"}, "attention": {"kind": "dot", "mask": {"window": 2}}})",
      R"({"mode": "transformer", "d_model": 16, "heads": 4, "kv_heads": 1, "transformer": {"layers": 1, "d_ff": 16, "positional": "alibi", "norm_first": true}, "attention": {"mask": {"causal": true}}})",
      R"({"mode": "transformer", "d_model": 16, "heads": 2, "transformer": {"layers": 1, "d_ff": 16, "positional": "none"}, "attention": {"kind": "general", "temperature": 0.8}})",
      R"({"mode": "transformer", "d_model": 16, "heads": 2, "transformer": {"layers": 1, "d_ff": 16}, "attention": {"kind": "additive"}})"};
  for (const char* cfg : configs) {
    for (const bool mixed : {false, true}) {
      SCOPED_TRACE(std::string(cfg) + (mixed ? " (three lengths)" : " (one length)"));
      Config c;
      std::string error;
      ASSERT_TRUE(config_parse_text(cfg, &c, &error)) << error;
      ASSERT_TRUE(train_check_config(c, &error)) << error;
      Config vc = c;
      vc.tokens = train_task_vocab(7);
      const ModelWeights w = weights_seeded(vc);
      Rng rng = rng_stream(11, "stacked");
      TrainBatch batch = train_task_batch(TRAIN_TASK_SORT, 6, 7, 5, &rng);
      if (mixed)  // lengths 6, 3, 3, 6, 4, 6, 6, 6: interleaved, so grouping must not depend on order
        for (const int len : {3, 4, 3}) {
          const TrainBatch extra = train_task_batch(TRAIN_TASK_REVERSE, len, 7, 1, &rng);
          batch.inputs.insert(batch.inputs.begin() + 1 + 2 * (len == 4), extra.inputs[0]);
          batch.targets.insert(batch.targets.begin() + 1 + 2 * (len == 4), extra.targets[0]);
        }
      batch.targets[0][2] = kIgnoreTarget;  // an uncounted position inside the stack
      ModelWeights g, g_ref;
      const TrainResult r = train_loss_and_grads(c, w, batch, false, &g);
      const TrainResult ref = train_loss_and_grads_one_at_a_time(c, w, batch, false, &g_ref);
      EXPECT_EQ(r.counted, ref.counted);
      EXPECT_NEAR(r.loss, ref.loss, 1e-6 * std::max(1.0, ref.loss));
      EXPECT_EQ(r.accuracy, ref.accuracy);
      std::vector<ParamRef> gs = weights_params(&g), rs = weights_params(&g_ref);
      ASSERT_EQ(gs.size(), rs.size());
      double worst_all = 0;
      for (size_t t = 0; t < gs.size(); ++t) {
        ASSERT_EQ(gs[t].size, rs[t].size);
        double scale = 1, worst = 0;
        size_t at = 0;
        for (size_t i = 0; i < rs[t].size; ++i) scale = std::max(scale, double(std::fabs(rs[t].data[i])));
        for (size_t i = 0; i < rs[t].size; ++i) {
          const double e = std::fabs(double(gs[t].data[i]) - double(rs[t].data[i]));
          if (e > worst) worst = e, at = i;
        }
        EXPECT_LE(worst / scale, 2e-6) << "tensor " << t << " [" << at << "]: stacked " << gs[t].data[at]
                                       << ", one at a time " << rs[t].data[at];
        worst_all = std::max(worst_all, worst / scale);
      }
      std::printf("  %s batch, %s: worst gradient error / scale %.2g\n", mixed ? "three-length" : "one-length", cfg, worst_all);
    }
  }
}

TEST(Train, TasksAreWhatTheyClaim) {
  Rng rng = rng_stream(1, "tasks");
  const TrainBatch rev = train_task_batch(TRAIN_TASK_REVERSE, 6, 10, 3, &rng);
  ASSERT_EQ(rev.inputs.size(), 3u);
  for (size_t s = 0; s < 3; ++s)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(rev.targets[s][size_t(i)], rev.inputs[s][size_t(5 - i)]);
  const TrainBatch srt = train_task_batch(TRAIN_TASK_SORT, 6, 10, 2, &rng);
  for (const auto& t : srt.targets) EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  const TrainBatch ind = train_task_batch(TRAIN_TASK_INDUCTION, 4, 10, 20, &rng);
  std::set<size_t> gaps;
  for (size_t s = 0; s < ind.inputs.size(); ++s) {
    const auto& in = ind.inputs[s];
    const auto& tg = ind.targets[s];
    ASSERT_GE(in.size(), 8u);
    ASSERT_LE(in.size(), 11u);
    const size_t second = in.size() - 4;
    gaps.insert(second - 4);
    EXPECT_EQ(std::set<int>(in.begin(), in.begin() + 4).size(), 4u) << "distinct tokens in the repeated segment";
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(in[i], in[second + i]);
    for (size_t i = 4; i < second; ++i) EXPECT_EQ(std::count(in.begin(), in.begin() + 4, in[i]), 0) << "fillers avoid the segment";
    for (size_t i = 0; i < second; ++i) EXPECT_EQ(tg[i], kIgnoreTarget);
    for (size_t i = second; i + 1 < in.size(); ++i) EXPECT_EQ(tg[i], in[i + 1]);
    EXPECT_EQ(tg.back(), kIgnoreTarget);
  }
  EXPECT_GE(gaps.size(), 3u) << "the gap between the two occurrences varies";
  EXPECT_TRUE(train_task_causal(TRAIN_TASK_INDUCTION));
  EXPECT_FALSE(train_task_causal(TRAIN_TASK_COPY));
}

// Learning, not just gradients: the reverse task (bidirectional) goes from chance to near-perfect in a few hundred
// Adam steps with a fixed seed (a step count, not a time).
TEST(Train, ReverseIsLearnt) {
  Config c;
  std::string error;
  ASSERT_TRUE(config_parse_text(R"({"mode": "transformer", "d_model": 32, "heads": 4, "transformer": {"layers": 2, "d_ff": 64}})",
                                &c, &error))
      << error;
  Config vc = c;
  vc.tokens = train_task_vocab(6);
  TrainState st;
  train_state_init(&st, weights_seeded(vc));
  Rng rng = rng_stream(1, "train");
  TrainResult r;
  double first = 0;
  for (int step = 0; step < 400; ++step) {
    r = train_step(c, &st, train_task_batch(TRAIN_TASK_REVERSE, 5, 6, 16, &rng), false, TRAIN_OPTIMIZER_ADAM, 3e-3f);
    if (step == 0) first = r.loss;
  }
  std::printf("  reverse (length 5, vocab 6): loss %.3f -> %.4f, accuracy %.3f after 400 steps\n", first, r.loss, r.accuracy);
  EXPECT_GT(first, 1.2);
  EXPECT_LT(r.loss, 0.2);
  EXPECT_GT(r.accuracy, 0.95);
}

// PyTorch autograd + torch.optim from the same safetensors start on the same batch (make_fixtures.py, 2c): the loss
// of every step and the weights at the end. Printed: each case and its worst error.
std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream os;
  os << f.rdbuf();
  return os.str();
}

bool load_weights(const std::string& file, const Config& c, ModelWeights* w, std::string* error) {
  const std::string bytes = read_bytes(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/" + file);
  SafeTensorsFile f;
  return safetensors_read(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &f, error) &&
         weights_from_safetensors(f, c, w, error);
}

TEST(Train, MatchesPyTorchAutogradAndOptimisers) {
  const nlohmann::json index = nlohmann::json::parse(read_bytes(std::string(ATTNPLAY_FIXTURES_DIR) + "/golden/train_index.json"));
  ASSERT_GE(index["cases"].size(), 6u);
  for (const auto& tc : index["cases"]) {
    const std::string name = tc["name"];
    SCOPED_TRACE(name);
    Config c;
    std::string error;
    ASSERT_TRUE(config_parse(tc["config"], &c, &error)) << error;
    ASSERT_TRUE(train_check_config(c, &error)) << error;
    ModelWeights start, expected;
    ASSERT_TRUE(load_weights(tc["start"], c, &start, &error)) << error;
    ASSERT_TRUE(load_weights(tc["final"], c, &expected, &error)) << error;
    if (tc.contains("extra")) {  // general's W / additive's W, U, v_a: fixed values (never trained, never in the file)
      auto mat = [](const nlohmann::json& j) {
        const auto rows = j.get<std::vector<std::vector<float>>>();
        Mat m(int(rows.size()), int(rows[0].size()));
        for (int i = 0; i < m.rows(); ++i)
          for (int k = 0; k < m.cols(); ++k) m(i, k) = rows[size_t(i)][size_t(k)];
        return m;
      };
      const auto& e = tc["extra"];
      if (c.attention.kind == ATTENTION_KIND_GENERAL) start.general_w = mat(e["W"]);
      if (c.attention.kind == ATTENTION_KIND_ADDITIVE) {
        start.additive_w = mat(e["W"]);
        start.additive_u = mat(e["U"]);
        const auto va = e["v_a"].get<std::vector<float>>();
        start.additive_v = Eigen::Map<const Vec>(va.data(), Eigen::Index(va.size()));
      }
    }
    TrainBatch batch;
    batch.inputs = tc["inputs"].get<std::vector<std::vector<int>>>();
    batch.targets = tc["targets"].get<std::vector<std::vector<int>>>();
    TrainState st;
    train_state_init(&st, start);
    const TrainOptimizer opt = tc["optimizer"] == "adam" ? TRAIN_OPTIMIZER_ADAM : TRAIN_OPTIMIZER_SGD;
    const auto losses = tc["losses"].get<std::vector<double>>();
    for (size_t step = 0; step < losses.size(); ++step) {
      const TrainResult r = train_step(c, &st, batch, false, opt, tc["lr"].get<float>());
      EXPECT_NEAR(r.loss, losses[step], 1e-5 * std::fabs(losses[step]) + 1e-6) << "step " << step;
    }
    // Weights after the last step. Tolerance 1e-4 relative + 1e-5 absolute (looser than the forward pass's 1e-5 +
    // 1e-6): a few optimiser steps compound float32 rounding differences of the gradients.
    // Except the key bias without RoPE: its exact gradient is 0 (adding one vector to every key shifts a whole row of
    // scores, which softmax ignores), so both sides' gradients are rounding noise that Adam scales up to ±lr per
    // step. There it is only checked to stay within lr·steps of the start.
    if (c.positional != POSITIONAL_KIND_ROPE)
      for (size_t l = 0; l < expected.layers.size(); ++l) {
        Vec& got_b = st.weights.layers[l].self_attn.in_proj_b;
        Vec& want_b = expected.layers[l].self_attn.in_proj_b;
        const Vec& start_b = start.layers[l].self_attn.in_proj_b;
        const int q_rows = c.heads * c.d_k, k_rows = c.kv_heads * c.d_k;
        const double bound = tc["lr"].get<double>() * double(losses.size()) * 1.001;
        for (int i = q_rows; i < q_rows + k_rows; ++i) {
          EXPECT_LE(std::fabs(got_b[i] - start_b[i]), bound) << "layer " << l << " key bias " << i;
          got_b[i] = want_b[i];  // compared above; excluded below
        }
      }
    std::vector<ParamRef> got = weights_params(&st.weights), want = weights_params(&expected);
    ASSERT_EQ(got.size(), want.size());
    double worst = 0;
    for (size_t t = 0; t < got.size(); ++t) {
      Mat a = Eigen::Map<Mat>(got[t].data, 1, Eigen::Index(got[t].size));
      Mat b = Eigen::Map<Mat>(want[t].data, 1, Eigen::Index(want[t].size));
      EXPECT_TRUE(mat_near(a, b, 1e-4, 1e-5)) << "tensor " << t;
      worst = std::max(worst, double((a - b).cwiseAbs().maxCoeff()));
    }
    std::printf("  %-40s %zu %s steps, final weights max |diff| %.2g\n", name.c_str(), losses.size(),
                opt == TRAIN_OPTIMIZER_ADAM ? "Adam" : "SGD", worst);
  }
}

}  // namespace
}  // namespace attnplay
