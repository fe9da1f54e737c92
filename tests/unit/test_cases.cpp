// attnplay tests: one table of cases, generated as a cross product (ggml's test-backend-ops way) instead of hand-written
// rows: kind × mask × positions × kv_heads × shape. Every case runs through
//   - the fast path (mha_forward on the packed kernels) against a plain-loop reference (double projections,
//     attention_forward_reference per head, RoPE and ALiBi applied as the reference defines them);
//   - the network the trainer runs (net_forward with for_backward), which must give bit-identical activations to the
//     inference forward (model_compute) on self-attention shapes;
//   - mha_backward against finite differences of the fast forward (small shapes: a sample of input and weight entries).
// The same binary runs natively and in WASM under Node (ctest), so each case also runs on the WASM SIMD128 kernels.
#include "core/backward.h"
#include "core/layers.h"
#include "model/model.h"
#include "model/network.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace attnplay {
namespace {

enum CaseMask { CASE_MASK_NONE, CASE_MASK_CAUSAL, CASE_MASK_WINDOW, CASE_MASK_PADDING_CELLS };
struct Case {
  AttentionKind kind;
  CaseMask mask;
  PositionalKind positions;  // none, or a scheme that acts inside attention (positional_info: RoPE, ALiBi, ...)
  int kv_heads;      // of 4 query heads: 4 (multi-head), 2 (grouped), 1 (multi-query)
  int n_q, n_k;      // n_q != n_k: cross-attention
};

const char* const kMaskNames[] = {"none", "causal", "window2", "padding+cells"};

// Every kind and every scheme that acts inside attention, from their tables: a new one joins the cross product.
const char* kind_name(AttentionKind k) { return attention_kind_info(k).name; }
const char* position_name(PositionalKind p) { return positional_info(p).name; }
std::vector<PositionalKind> case_positions() {
  std::vector<PositionalKind> out = {POSITIONAL_KIND_NONE};
  for (int p = 0; p < POSITIONAL_KIND_COUNT; ++p)
    if (positional_info(PositionalKind(p)).attention) out.push_back(PositionalKind(p));
  return out;
}

std::string case_name(const Case& c) {
  std::ostringstream os;
  os << "kind=" << kind_name(c.kind) << " mask=" << kMaskNames[c.mask] << " positions=" << position_name(c.positions)
     << " kv_heads=" << c.kv_heads << " n_q=" << c.n_q << " n_k=" << c.n_k;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << case_name(c); }

// The cross product. Shapes: small square, cross (rectangular), and one past the kernels' 64-query block.
std::vector<Case> all_cases() {
  const int shapes[][2] = {{5, 5}, {6, 3}, {70, 70}};
  std::vector<Case> out;
  for (int kind = 0; kind < ATTENTION_KIND_COUNT; ++kind)
    for (int mask = 0; mask < 4; ++mask)
      for (PositionalKind pos : case_positions())
        for (int kv : {4, 2, 1})
          for (const auto& s : shapes)
            out.push_back({AttentionKind(kind), CaseMask(mask), pos, kv, s[0], s[1]});
  return out;
}

constexpr int kHeads = 4, kDk = 4, kDModel = 8;

Mat random_mat(int rows, int cols, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  Mat m(rows, cols);
  for (int i = 0; i < m.size(); ++i) m.data()[i] = u(gen);
  return m;
}

MaskMat case_mask(const Case& c) {
  MaskSpec spec;
  spec.causal = c.mask == CASE_MASK_CAUSAL;
  spec.window = c.mask == CASE_MASK_WINDOW ? 2 : -1;
  if (c.mask == CASE_MASK_PADDING_CELLS) {
    spec.padding = {c.n_k - 1};
    spec.cells = {{0, 0}, {c.n_q - 1, c.n_k / 2}};
  }
  return mask_build(spec, c.n_q, c.n_k);
}

struct CaseModel {
  MhaWeights w;
  AttentionKindWeights kw;
  AttentionParams params;
  MhaOptions options;
  std::vector<float> alibi;
};

void make_model(const Case& c, CaseModel* m) {
  m->w.heads = kHeads;
  m->w.kv_heads = c.kv_heads;
  m->w.d_k = m->w.d_v = kDk;
  const int rows = kHeads * kDk + c.kv_heads * 2 * kDk;
  m->w.in_proj_w = random_mat(rows, kDModel, 11, 0.6f);
  m->w.in_proj_b = random_mat(rows, 1, 12, 0.1f);
  m->w.out_proj_w = random_mat(kDModel, kHeads * kDk, 13, 0.5f);
  m->w.out_proj_b = random_mat(kDModel, 1, 14, 0.1f);
  m->kw.general_w = random_mat(kDk, kDk, 15, 0.5f);
  m->kw.additive_w = random_mat(6, kDk, 16, 0.5f);
  m->kw.additive_u = random_mat(6, kDk, 17, 0.5f);
  m->kw.additive_v = random_mat(6, 1, 18);
  m->params = attention_params_make(c.kind, 2.0f, 0.8f, m->kw);
  // The scheme's own setup (network.cpp's table), on a config of this case's heads.
  Config pc;
  pc.heads = kHeads;
  pc.d_k = kDk;
  pc.rope_base = 100.0f;
  NetSpec ns;
  if (const auto inside = positional_info(c.positions).attention) inside(pc, &ns);
  m->alibi = ns.alibi;
  m->options.rope_base = ns.rope_base;
  m->options.alibi = m->alibi.empty() ? nullptr : &m->alibi;
}

// x [n, d_model] · rows [first, first + count) of w and b, in double -> [n, count].
Mat project_reference(const Mat& x, const Mat& w, const Vec& b, int first, int count) {
  Mat y(x.rows(), count);
  for (int i = 0; i < x.rows(); ++i)
    for (int r = 0; r < count; ++r) {
      double acc = b[first + r];
      for (int c = 0; c < x.cols(); ++c) acc += double(x(i, c)) * double(w(first + r, c));
      y(i, r) = float(acc);
    }
  return y;
}

class CrossProduct : public ::testing::TestWithParam<Case> {};
class CrossProductNetwork : public ::testing::TestWithParam<Case> {};
class CrossProductBackward : public ::testing::TestWithParam<Case> {};

TEST_P(CrossProduct, FastPathMatchesTheReference) {
  const Case c = GetParam();
  CaseModel m;
  make_model(c, &m);
  const Mat x_q = random_mat(c.n_q, kDModel, 1), x_kv = random_mat(c.n_k, kDModel, 2);
  const MaskMat mask = case_mask(c);
  std::vector<HeadTrace> heads;
  Mat concat, out;
  mha_forward(x_q, x_kv, m.w, m.params, &mask, &heads, &concat, &out, m.options);
  Mat ref_concat(c.n_q, kHeads * kDk);
  for (int h = 0; h < kHeads; ++h) {
    SCOPED_TRACE("head " + std::to_string(h));
    const MhaHeadRows r = mha_head_rows(m.w, h);
    Mat q = project_reference(x_q, m.w.in_proj_w, m.w.in_proj_b, r.q, kDk);
    Mat k = project_reference(x_kv, m.w.in_proj_w, m.w.in_proj_b, r.k, kDk);
    const Mat v = project_reference(x_kv, m.w.in_proj_w, m.w.in_proj_b, r.v, kDk);
    if (m.options.rope_base > 0) {
      rope_apply(&q, m.options.rope_base);
      rope_apply(&k, m.options.rope_base);
    }
    AttentionParams p = m.params;
    p.alibi_slope = m.alibi.empty() ? 0.0f : m.alibi[size_t(h)];
    AttentionOutput ref;
    attention_forward_reference(q, k, v, p, &mask, &ref);
    // Tolerance 1e-4 rel + 1e-5 abs (the SPEC's is 1e-5 + 1e-6): float32 projections against double ones, and the
    // difference passes through exp.
    EXPECT_TRUE(mat_near(heads[size_t(h)].attn.weights, ref.weights, 1e-4, 1e-5)) << "weights";
    EXPECT_TRUE(mat_near(heads[size_t(h)].attn.context, ref.context, 1e-4, 1e-5)) << "context";
    EXPECT_EQ(heads[size_t(h)].attn.fully_masked, ref.fully_masked);
    ref_concat.middleCols(h * kDk, kDk) = ref.context;
  }
  EXPECT_TRUE(mat_near(out, project_reference(ref_concat, m.w.out_proj_w, m.w.out_proj_b, 0, kDModel), 1e-4, 1e-5))
      << "output";
}

// The trainer's forward is the inference forward: same activations, bit for bit, on a one-layer Transformer.
// (Self-attention shapes; padding and cells name positions of one text, which training does not take.)
TEST_P(CrossProductNetwork, TrainingForwardIsTheInferenceForward) {
  const Case c = GetParam();
  std::string text;
  for (int i = 0; i < c.n_q; ++i) text += "t" + std::to_string(i % 9) + " ";
  const char* pos = position_name(c.positions);
  const std::string mask = c.mask == CASE_MASK_CAUSAL ? R"("mask": {"causal": true})"
                           : c.mask == CASE_MASK_WINDOW ? R"("mask": {"window": 2})" : R"("mask": {})";
  const std::string cfg = std::string(R"({"mode": "transformer", "d_model": 8, "heads": 4, "kv_heads": )") +
                          std::to_string(c.kv_heads) + R"(, "text": ")" + text + R"(", "attention": {"kind": ")" +
                          kind_name(c.kind) + R"(", )" + mask + R"(}, "transformer": {"layers": 1, "d_ff": 16, "norm_first": )" +
                          (c.n_q == 5 ? "true" : "false") + R"(, "positional": ")" + pos + R"("}})";
  Config config;
  std::string error;
  ASSERT_TRUE(config_parse_text(cfg, &config, &error)) << error << "\n" << cfg;
  Trace t;
  ASSERT_TRUE(model_compute(config, nullptr, &t, &error)) << error;
  const ModelWeights w = weights_seeded(config);
  std::vector<int> ids;
  ASSERT_TRUE(weights_token_ids(w, config.tokens, &ids, &error)) << error;
  const NetSpec spec = net_spec(config, w);
  NetOptions o;
  o.for_backward = true;
  NetActs a;
  net_forward(spec, w, ids, t.attention.mask.size() ? &t.attention.mask : nullptr, o, &a);
  auto same = [](const Mat& x, const Mat& y) { return x.rows() == y.rows() && x.cols() == y.cols() && x == y; };
  EXPECT_TRUE(same(a.x, t.x)) << "embeddings";
  for (int h = 0; h < kHeads; ++h)
    EXPECT_TRUE(same(a.layers[0].heads[size_t(h)].attn.weights, t.layers[0].heads[size_t(h)].attn.weights)) << "head " << h;
  EXPECT_TRUE(same(a.layers[0].output, t.layers[0].output)) << "layer output";
  EXPECT_TRUE(same(a.logits, t.logits)) << "logits";
}

// mha_backward against central differences of mha_forward, through a fixed random projection of the output.
// (The small shapes: a sample of entries each.)
TEST_P(CrossProductBackward, MhaBackwardMatchesFiniteDifferences) {
  const Case c = GetParam();
  CaseModel m;
  make_model(c, &m);
  const bool self = c.n_q == c.n_k;
  const Mat x_q = random_mat(c.n_q, kDModel, 1), x_kv_in = random_mat(c.n_k, kDModel, 2);
  const Mat& x_kv = self ? x_q : x_kv_in;
  const MaskMat mask = case_mask(c);
  const Mat proj = random_mat(c.n_q, kDModel, 3);  // loss = Σ out ⊙ proj
  auto loss = [&](const Mat& xq, const Mat& xkv, const MhaWeights& w) {
    std::vector<HeadTrace> heads;
    Mat concat, out;
    mha_forward(xq, self ? xq : xkv, w, m.params, &mask, &heads, &concat, &out, m.options);
    return double((out.array() * proj.array()).sum());
  };
  std::vector<HeadTrace> heads;
  Mat concat, out;
  mha_forward(x_q, x_kv, m.w, m.params, &mask, &heads, &concat, &out, m.options);
  MhaWeights g = m.w;
  g.in_proj_w.setZero();
  g.in_proj_b.setZero();
  g.out_proj_w.setZero();
  g.out_proj_b.setZero();
  Mat d_xq, d_xkv;
  mha_backward(x_q, x_kv, m.w, m.params, m.options, heads, concat, proj, &g, &d_xq, self ? nullptr : &d_xkv);
  const double h = 1e-3;
  // Tolerance: float32 forwards, so each difference carries ~1e-7·|loss|/h of rounding.
  auto check = [&](const char* what, double analytic, auto nudge) {
    const double fd = (nudge(h) - nudge(-h)) / (2 * h);
    EXPECT_NEAR(fd, analytic, 3e-3 + 2e-2 * std::fabs(analytic)) << what;
  };
  for (int e = 0; e < 6; ++e) {
    const int i = (e * 7) % c.n_q, d = (e * 5) % kDModel;
    check("d_x_q", d_xq(i, d), [&](double s) { Mat x = x_q; x(i, d) += float(s); return loss(x, x_kv_in, m.w); });
    if (!self) {
      const int j = (e * 3) % c.n_k;
      check("d_x_kv", d_xkv(j, d), [&](double s) { Mat x = x_kv_in; x(j, d) += float(s); return loss(x_q, x, m.w); });
    }
    const int r = (e * 11) % int(m.w.in_proj_w.rows());
    check("in_proj_w", g.in_proj_w(r, d), [&](double s) { MhaWeights w = m.w; w.in_proj_w(r, d) += float(s); return loss(x_q, x_kv_in, w); });
    check("in_proj_b", g.in_proj_b[r], [&](double s) { MhaWeights w = m.w; w.in_proj_b[r] += float(s); return loss(x_q, x_kv_in, w); });
    const int o = (e * 3) % kDModel, cc = (e * 5) % (kHeads * kDk);
    check("out_proj_w", g.out_proj_w(o, cc), [&](double s) { MhaWeights w = m.w; w.out_proj_w(o, cc) += float(s); return loss(x_q, x_kv_in, w); });
  }
}

std::string test_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = case_name(info.param);
  for (char& ch : s)
    if (!std::isalnum(uint8_t(ch))) ch = '_';
  return s;
}

template <typename Pred>
std::vector<Case> cases_where(Pred keep) {
  std::vector<Case> out;
  for (const Case& c : all_cases())
    if (keep(c)) out.push_back(c);
  return out;
}

INSTANTIATE_TEST_SUITE_P(KindMaskPositionsKvShape, CrossProduct, ::testing::ValuesIn(all_cases()), test_name);
INSTANTIATE_TEST_SUITE_P(KindMaskPositionsKvShape, CrossProductNetwork,
                         ::testing::ValuesIn(cases_where([](const Case& c) { return c.n_q == c.n_k && c.mask != CASE_MASK_PADDING_CELLS; })),
                         test_name);
INSTANTIATE_TEST_SUITE_P(KindMaskPositionsKvShape, CrossProductBackward,
                         ::testing::ValuesIn(cases_where([](const Case& c) { return c.n_q <= 8; })), test_name);

}  // namespace
}  // namespace attnplay
