// attnplay tests: src/core against plain-loop references and hand-computed values.
#include "core/attention.h"
#include "core/gemm.h"
#include "core/layers.h"
#include "test_util.h"

#include <array>
#include <cfloat>
#include <limits>
#include <random>
#include <tuple>

extern std::string g_expect_kernel;  // tests/unit/test_main.cpp: --expect-kernel=NAME

namespace attnplay {
namespace {

// Deterministic test data (std::mt19937's sequence is fixed by the standard; the distribution is ours).
Mat random_mat(int rows, int cols, unsigned seed, float scale = 1.0f) {
  std::mt19937 gen(seed);
  Mat m(rows, cols);
  for (int i = 0; i < m.size(); ++i) m.data()[i] = scale * (float(gen() % 20001) / 10000.0f - 1.0f);
  return m;
}

TEST(Softmax, RowsSumToOneAndMaskedAreZero) {
  Mat s(2, 3);
  s << 1, 2, 3, -1, 0, 1;
  MaskMat m = MaskMat::Zero(2, 3);
  m(1, 2) = 1;
  Mat w;
  std::vector<uint8_t> full;
  softmax_rows_masked(s, &m, &w, &full);
  EXPECT_NEAR(w.row(0).sum(), 1.0f, 1e-6f);
  EXPECT_NEAR(w.row(1).sum(), 1.0f, 1e-6f);
  EXPECT_EQ(w(1, 2), 0.0f);
  const double e0 = std::exp(-1.0), e1 = 1.0;  // row 1 keeps [-1, 0]
  EXPECT_NEAR(w(1, 0), e0 / (e0 + e1), 1e-7);
  EXPECT_EQ(full[0], 0);
  EXPECT_EQ(full[1], 0);
}

TEST(Softmax, FullyMaskedRowIsZeroAndFlagged) {
  Mat s = Mat::Ones(2, 2);
  MaskMat m = MaskMat::Zero(2, 2);
  m.row(0).setConstant(1);
  Mat w;
  std::vector<uint8_t> full;
  softmax_rows_masked(s, &m, &w, &full);
  EXPECT_EQ(w.row(0).sum(), 0.0f);
  EXPECT_EQ(full[0], 1);
  EXPECT_EQ(full[1], 0);
}

TEST(Softmax, ExtremeScoresGiveNoNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  Mat s(4, 3);
  s << 1e30f, -1e30f, 0, -1e30f, -1e30f, -1e30f, inf, inf, 1, -inf, -inf, -inf;
  Mat w;
  std::vector<uint8_t> full;
  softmax_rows_masked(s, nullptr, &w, &full);
  ASSERT_TRUE(mat_all_finite(w));
  EXPECT_EQ(w(0, 0), 1.0f);
  EXPECT_NEAR(w(1, 0), 1.0f / 3, 1e-7);  // equal scores: uniform
  EXPECT_EQ(w(2, 0), 0.5f);              // +inf entries split the weight
  EXPECT_EQ(w(2, 2), 0.0f);
  EXPECT_NEAR(w(3, 1), 1.0f / 3, 1e-7);  // all -inf (overflow, not masked): uniform
}

TEST(Mask, CombinedKinds) {
  MaskSpec spec;
  spec.causal = true;
  spec.window = 1;
  spec.padding = {0};
  spec.cells = {{3, 2}};
  MaskMat m = mask_build(spec, 4, 4);
  // row i sees j in [i-1, i], minus key 0, minus (3, 2)
  const int expect[4][4] = {{1, 1, 1, 1}, {1, 0, 1, 1}, {1, 0, 0, 1}, {1, 1, 1, 0}};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) EXPECT_EQ(int(m(i, j)), expect[i][j]) << "cell " << i << "," << j;
  EXPECT_TRUE(mask_spec_is_empty(MaskSpec{}));
  EXPECT_FALSE(mask_spec_is_empty(spec));
}

TEST(Mask, CausalCrossAttentionIsTopLeftAligned) {
  MaskSpec spec;
  spec.causal = true;
  MaskMat m = mask_build(spec, 2, 4);
  EXPECT_EQ(int(m(0, 0)), 0);
  EXPECT_EQ(int(m(0, 1)), 1);
  EXPECT_EQ(int(m(1, 1)), 0);
  EXPECT_EQ(int(m(1, 2)), 1);
}

struct AttnCase {
  AttentionKind kind;
  int n_q, n_k, d_k, d_v, d_a;
  bool causal;
  int window;
  float divisor, temperature;
};

std::ostream& operator<<(std::ostream& os, const AttnCase& c) {
  return os << "kind=" << c.kind << " n_q=" << c.n_q << " n_k=" << c.n_k << " d_k=" << c.d_k << " d_v=" << c.d_v
            << " d_a=" << c.d_a << " causal=" << c.causal << " window=" << c.window << " divisor=" << c.divisor
            << " temperature=" << c.temperature;
}

class AttentionVsReference : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionVsReference, FastMatchesPlainLoops) {
  const AttnCase c = GetParam();
  const Mat q = random_mat(c.n_q, c.d_k, 1), k = random_mat(c.n_k, c.d_k, 2), v = random_mat(c.n_k, c.d_v, 3);
  const Mat wg = random_mat(c.d_k, c.d_k, 4), wa = random_mat(c.d_a, c.d_k, 5), ua = random_mat(c.d_a, c.d_k, 6);
  const Vec va = random_mat(c.d_a, 1, 7);
  AttentionParams p;
  p.kind = c.kind;
  p.scale_divisor = c.divisor;
  p.temperature = c.temperature;
  p.w_general = &wg;
  p.w_additive = &wa;
  p.u_additive = &ua;
  p.v_additive = &va;
  MaskSpec spec;
  spec.causal = c.causal;
  spec.window = c.window;
  const MaskMat mask = mask_build(spec, c.n_q, c.n_k);
  AttentionOutput fast, ref;
  attention_forward(q, k, v, p, &mask, &fast);
  attention_forward_reference(q, k, v, p, &mask, &ref);
  EXPECT_TRUE(mat_near(fast.scores, ref.scores)) << "scores";
  EXPECT_TRUE(mat_near(fast.weights, ref.weights)) << "weights";
  EXPECT_TRUE(mat_near(fast.context, ref.context)) << "context";
  EXPECT_EQ(fast.fully_masked, ref.fully_masked);
  for (int i = 0; i < c.n_q; ++i) {
    const float sum = fast.weights.row(i).sum();
    if (fast.fully_masked[size_t(i)]) EXPECT_EQ(sum, 0.0f);
    else EXPECT_NEAR(sum, 1.0f, 1e-5f) << "row " << i;
  }
  // The same head kept lean (what the UI does beyond its memory budget): same context, no matrices, a thumbnail
  // equal to pooling the full weights, and every weight recoverable from row_lse.
  AttentionDetail lean;
  lean.keep_matrices = false;
  lean.thumb = 8;
  AttentionOutput small;
  attention_forward(q, k, v, p, &mask, &small, lean);
  EXPECT_EQ(small.scores.size(), 0);
  EXPECT_EQ(small.weights.size(), 0);
  EXPECT_TRUE(mat_near(small.context, fast.context)) << "context without matrices";
  EXPECT_EQ(small.fully_masked, fast.fully_masked);
  // Tolerance 1e-5 rel + 1e-6 abs on sums of up to a few hundred weights: float accumulation order differs.
  EXPECT_TRUE(mat_near(small.thumb, attention_thumbnail(ref.weights, 8), 1e-5, 1e-6)) << "thumbnail";
  Mat recovered(c.n_q, c.n_k);
  for (int i = 0; i < c.n_q; ++i)
    for (int j = 0; j < c.n_k; ++j) recovered(i, j) = attention_weight_at(q, k, p, &mask, small.row_lse, i, j);
  EXPECT_TRUE(mat_near(recovered, ref.weights)) << "weights from row_lse";
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, AttentionVsReference,
    ::testing::Values(AttnCase{ATTENTION_KIND_SCALED_DOT, 5, 5, 4, 4, 4, false, -1, 2.0f, 1.0f},
                      AttnCase{ATTENTION_KIND_SCALED_DOT, 7, 7, 8, 3, 8, true, -1, 2.828427f, 0.5f},
                      AttnCase{ATTENTION_KIND_DOT, 6, 9, 5, 7, 5, false, 2, 1.0f, 2.0f},
                      AttnCase{ATTENTION_KIND_GENERAL, 4, 6, 3, 2, 3, true, -1, 3.0f, 1.0f},
                      AttnCase{ATTENTION_KIND_ADDITIVE, 5, 3, 4, 4, 6, false, -1, 1.0f, 1.0f},
                      AttnCase{ATTENTION_KIND_ADDITIVE, 9, 9, 2, 5, 3, true, 1, 1.0f, 0.25f},
                      AttnCase{ATTENTION_KIND_SCALED_DOT, 1, 1, 1, 1, 1, false, -1, 1.0f, 1.0f},
                      AttnCase{ATTENTION_KIND_SCALED_DOT, 33, 17, 16, 16, 16, true, 3, 4.0f, 1.0f},
                      // several query blocks of 64, ragged last block, keys skipped per block by causal / window
                      AttnCase{ATTENTION_KIND_SCALED_DOT, 150, 131, 16, 8, 16, true, -1, 4.0f, 1.0f},
                      AttnCase{ATTENTION_KIND_GENERAL, 130, 130, 8, 8, 8, false, 5, 2.0f, 0.7f},
                      AttnCase{ATTENTION_KIND_DOT, 129, 200, 4, 5, 4, false, -1, 1.0f, 3.0f}));

// ALiBi slopes: the paper's geometric sequence, and its rule for head counts that are not powers of two.
TEST(Positions, AlibiSlopesFollowThePaper) {
  const std::vector<float> s8 = alibi_slopes(8);
  ASSERT_EQ(s8.size(), 8u);
  for (int h = 0; h < 8; ++h) EXPECT_FLOAT_EQ(s8[size_t(h)], std::pow(2.0f, -float(h + 1))) << "head " << h;
  // 3 heads: the slopes of 2 heads (2^-4, 2^-8), then every other slope of 4 heads (2^-2)
  EXPECT_EQ(alibi_slopes(3), (std::vector<float>{std::pow(2.0f, -4.0f), std::pow(2.0f, -8.0f), std::pow(2.0f, -2.0f)}));
  EXPECT_EQ(alibi_slopes(1), std::vector<float>{std::pow(2.0f, -8.0f)});
}

// RoPE rotates pairs: norms are kept, and q_i·k_j depends only on i - j for the same vectors at every position.
TEST(Positions, RopeKeepsNormsAndDependsOnRelativePosition) {
  const int n = 9, d = 6;
  Mat q(n, d), k(n, d);
  const Mat a = random_mat(1, d, 3), b = random_mat(1, d, 4);
  for (int p = 0; p < n; ++p) {
    q.row(p) = a;
    k.row(p) = b;
  }
  const Mat q0 = q;
  rope_apply(&q, 10000.0f);
  rope_apply(&k, 10000.0f);
  for (int p = 0; p < n; ++p) EXPECT_NEAR(q.row(p).norm(), q0.row(p).norm(), 1e-5) << "row " << p;
  EXPECT_TRUE(mat_near(q.row(0), a)) << "position 0 is not rotated";
  const Mat s = q * k.transpose();
  for (int i = 1; i < n; ++i)
    for (int j = 1; j < n; ++j) EXPECT_NEAR(s(i, j), s(i - 1, j - 1), 1e-5) << "i=" << i << " j=" << j;
  // Pair 0 of position 1 turns by exactly 1 radian (θ_0 = 1).
  Mat one = Mat::Zero(2, 2);
  one(1, 0) = 1;
  rope_apply(&one, 10000.0f);
  EXPECT_NEAR(one(1, 0), std::cos(1.0), 1e-6);
  EXPECT_NEAR(one(1, 1), std::sin(1.0), 1e-6);
}

// ALiBi in the blocked kernel matches the reference (which adds -slope·|i-j| / temperature to each score).
TEST(Positions, AlibiInTheFastPathMatchesTheReference) {
  const Mat q = random_mat(70, 8, 1), k = random_mat(70, 8, 2), v = random_mat(70, 4, 3);
  AttentionParams p;
  p.scale_divisor = std::sqrt(8.0f);
  p.temperature = 0.7f;
  p.alibi_slope = 0.25f;
  MaskSpec spec;
  spec.causal = true;
  const MaskMat mask = mask_build(spec, 70, 70);
  AttentionOutput fast, ref;
  attention_forward(q, k, v, p, &mask, &fast);
  attention_forward_reference(q, k, v, p, &mask, &ref);
  EXPECT_TRUE(mat_near(fast.scores, ref.scores));
  EXPECT_TRUE(mat_near(fast.weights, ref.weights));
  EXPECT_TRUE(mat_near(fast.context, ref.context));
  AttentionParams none = p;
  none.alibi_slope = 0;
  AttentionOutput plain;
  attention_forward(q, k, v, none, &mask, &plain);
  EXPECT_NEAR(fast.scores(5, 2), plain.scores(5, 2) - 0.25f * 3 / 0.7f, 1e-5);
}

// Thumbnails: each output cell is the mean of its block (reference: plain loops over the bins' definition).
TEST(Attention, ThumbnailIsTheMeanOfEachBlock) {
  for (auto [rows, cols, side] : {std::tuple{10, 7, 4}, {5, 5, 8}, {300, 129, 128}, {1, 9, 3}}) {
    SCOPED_TRACE("rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) + " side=" + std::to_string(side));
    const Mat m = random_mat(rows, cols, 11);
    const Mat t = attention_thumbnail(m, side);
    ASSERT_EQ(t.rows(), std::min(rows, side));
    ASSERT_EQ(t.cols(), std::min(cols, side));
    Mat ref = Mat::Zero(t.rows(), t.cols());
    for (int a = 0; a < t.rows(); ++a)
      for (int b = 0; b < t.cols(); ++b) {
        double sum = 0;
        int count = 0;
        for (int i = 0; i < rows; ++i)
          for (int j = 0; j < cols; ++j)
            if (i >= a * rows / t.rows() && i < (a + 1) * rows / t.rows() &&  // bins [⌊a·n/side⌋, ⌊(a+1)·n/side⌋)
                j >= b * cols / t.cols() && j < (b + 1) * cols / t.cols()) {
              sum += m(i, j);
              ++count;
            }
        ASSERT_GT(count, 0);
        ref(a, b) = float(sum / count);
      }
    EXPECT_TRUE(mat_near(t, ref));
  }
}

// Blocks that see no key at all (padding + cells) and fully masked rows inside a block, kept and lean.
TEST(Attention, FullyMaskedRowsInsideBlocks) {
  const int n = 100;
  const Mat q = random_mat(n, 8, 1), k = random_mat(n, 8, 2), v = random_mat(n, 4, 3);
  MaskSpec spec;
  spec.causal = true;
  spec.padding = {0, 1, 2};  // rows 0..2 see nothing
  for (int j = 0; j <= 70; ++j) spec.cells.push_back({70, j});  // row 70 (second block) sees nothing
  const MaskMat mask = mask_build(spec, n, n);
  AttentionParams p;
  p.scale_divisor = 2.0f;
  AttentionOutput fast, ref, lean;
  attention_forward(q, k, v, p, &mask, &fast);
  attention_forward_reference(q, k, v, p, &mask, &ref);
  AttentionDetail d;
  d.keep_matrices = false;
  d.thumb = 16;
  attention_forward(q, k, v, p, &mask, &lean, d);
  EXPECT_EQ(fast.fully_masked, ref.fully_masked);
  for (int i : {0, 1, 2, 70}) {
    EXPECT_EQ(fast.fully_masked[size_t(i)], 1) << "row " << i;
    EXPECT_EQ(lean.row_lse[i], -std::numeric_limits<float>::infinity()) << "row " << i;
  }
  EXPECT_TRUE(mat_near(fast.weights, ref.weights));
  EXPECT_TRUE(mat_near(fast.context, ref.context));
  EXPECT_TRUE(mat_near(lean.context, ref.context));
  EXPECT_TRUE(mat_all_finite(lean.thumb));
  EXPECT_EQ(attention_weight_at(q, k, p, &mask, lean.row_lse, 70, 3), 0.0f);
  EXPECT_NEAR(attention_weight_at(q, k, p, &mask, lean.row_lse, 71, 70), ref.weights(71, 70), 1e-6);
}

TEST(Attention, HandComputedScaledDot) {
  Mat q(1, 2), k(2, 2), v(2, 1);
  q << 1, 0;
  k << 1, 0, 0, 1;
  v << 10, 20;
  AttentionParams p;
  p.scale_divisor = std::sqrt(2.0f);
  AttentionOutput out;
  attention_forward(q, k, v, p, nullptr, &out);
  const double s0 = 1 / std::sqrt(2.0), w0 = std::exp(s0) / (std::exp(s0) + 1);
  EXPECT_NEAR(out.scores(0, 0), s0, 1e-6);
  EXPECT_EQ(out.scores(0, 1), 0.0f);
  EXPECT_NEAR(out.weights(0, 0), w0, 1e-6);
  EXPECT_NEAR(out.context(0, 0), 10 * w0 + 20 * (1 - w0), 1e-4);
}

TEST(Attention, HugeInputsOverflowToDoubleWithoutNaN) {
  Mat q(2, 2), k(3, 2), v = random_mat(3, 2, 9);
  q << 1e30f, 1e30f, -1e30f, 1e30f;
  k << 1e30f, -1e30f, 1e30f, 1e30f, -1e30f, -1e30f;
  AttentionParams p;
  p.scale_divisor = std::sqrt(2.0f);
  AttentionOutput out;
  attention_forward(q, k, v, p, nullptr, &out);
  EXPECT_TRUE(out.overflowed);
  EXPECT_TRUE(mat_all_finite(out.scores));
  EXPECT_TRUE(mat_all_finite(out.weights));
  EXPECT_TRUE(mat_all_finite(out.context));
  EXPECT_EQ(out.weights(0, 1), 1.0f);  // q0·k1 = 2e60 dominates
  EXPECT_EQ(out.scores(0, 1), FLT_MAX);
}

TEST(Attention, TinyTemperatureSaturatesToArgmax) {
  Mat q = random_mat(3, 4, 11), k = random_mat(5, 4, 12), v = random_mat(5, 2, 13);
  AttentionParams p;
  p.temperature = 1e-30f;
  AttentionOutput out;
  attention_forward(q, k, v, p, nullptr, &out);
  EXPECT_TRUE(mat_all_finite(out.weights));
  for (int i = 0; i < 3; ++i) {
    Eigen::Index best;
    (q.row(i) * k.transpose()).maxCoeff(&best);
    EXPECT_NEAR(out.weights(i, best), 1.0f, 1e-6f) << "row " << i;
  }
}

TEST(Batched, MatchesAttentionForwardPerHead) {
  for (bool causal : {false, true}) {
    const int H = 3, n_q = 6, n_k = 6, d_k = 4, d_v = 5;
    const Mat q = random_mat(H * n_q, d_k, 21), k = random_mat(H * n_k, d_k, 22), v = random_mat(H * n_k, d_v, 23);
    Mat ctx(H * n_q, d_v), w(H * n_q, n_k), ctx_nw(H * n_q, d_v);
    const float scale = 0.5f;
    attention_batched(q.data(), k.data(), v.data(), H, n_q, n_k, d_k, d_v, causal, scale, ctx.data(), w.data());
    attention_batched(q.data(), k.data(), v.data(), H, n_q, n_k, d_k, d_v, causal, scale, ctx_nw.data(), nullptr);
    EXPECT_TRUE(mat_near(ctx, ctx_nw)) << "weights=false must not change the context";
    MaskSpec spec;
    spec.causal = causal;
    const MaskMat mask = mask_build(spec, n_q, n_k);
    AttentionParams p;
    p.scale_divisor = 1.0f / scale;
    for (int h = 0; h < H; ++h) {
      AttentionOutput ref;
      attention_forward_reference(q.middleRows(h * n_q, n_q), k.middleRows(h * n_k, n_k), v.middleRows(h * n_k, n_k), p,
                                  &mask, &ref);
      EXPECT_TRUE(mat_near(ctx.middleRows(h * n_q, n_q), ref.context)) << "causal=" << causal << " head " << h;
      EXPECT_TRUE(mat_near(w.middleRows(h * n_q, n_q), ref.weights)) << "causal=" << causal << " head " << h;
    }
  }
}

TEST(Layers, LayerNormMatchesDefinition) {
  const Mat x = random_mat(3, 6, 31, 5.0f);
  Vec g = random_mat(6, 1, 32), b = random_mat(6, 1, 33);
  Mat y;
  layer_norm_forward(x, g, b, 1e-5f, &y);
  for (int i = 0; i < 3; ++i) {
    const double mean = x.row(i).cast<double>().mean();
    const double var = (x.row(i).cast<double>().array() - mean).square().mean();
    for (int c = 0; c < 6; ++c) EXPECT_NEAR(y(i, c), (x(i, c) - mean) / std::sqrt(var + 1e-5) * g[c] + b[c], 1e-5);
  }
  Mat big = Mat::Constant(1, 4, 1e30f);
  big(0, 0) = -1e30f;
  layer_norm_forward(big, Vec::Ones(4), Vec::Zero(4), 1e-5f, &y);
  EXPECT_TRUE(mat_all_finite(y));
}

TEST(Layers, Activations) {
  Mat x(1, 4);
  x << -2, -0.5, 0, 1.5;
  Mat r = x, g = x;
  activation_forward(ACTIVATION_KIND_RELU, &r);
  activation_forward(ACTIVATION_KIND_GELU, &g);
  EXPECT_EQ(r(0, 0), 0.0f);
  EXPECT_EQ(r(0, 3), 1.5f);
  EXPECT_NEAR(g(0, 0), -0.04550010f, 1e-6);  // torch.nn.functional.gelu(torch.tensor([-2., 1.5]))
  EXPECT_NEAR(g(0, 3), 1.39978909f, 1e-6);
}

TEST(Layers, MhaBatchedMatchesMhaForward) {
  for (bool causal : {false, true}) {
    const int n = 7, d = 12, H = 3;
    const Mat x = random_mat(n, d, 41), wq = random_mat(d, d, 42), wk = random_mat(d, d, 43), wv = random_mat(d, d, 44),
              wo = random_mat(d, d, 45);
    Mat out(n, d), w(H * n, n);
    mha_batched(x.data(), wq.data(), wk.data(), wv.data(), wo.data(), n, d, H, causal, out.data(), w.data());
    MhaWeights mw;
    mw.heads = H;
    mw.d_k = mw.d_v = d / H;
    mw.in_proj_w.resize(3 * d, d);
    mw.in_proj_w << wq.transpose(), wk.transpose(), wv.transpose();  // x·W == x·(Wᵀ)ᵀ
    mw.in_proj_b = Vec::Zero(3 * d);
    mw.out_proj_w = wo.transpose();
    mw.out_proj_b = Vec::Zero(d);
    AttentionParams p;
    p.scale_divisor = std::sqrt(float(d / H));
    MaskSpec spec;
    spec.causal = causal;
    const MaskMat mask = mask_build(spec, n, n);
    std::vector<HeadTrace> heads;
    Mat concat, ref;
    mha_forward(x, x, mw, p, &mask, &heads, &concat, &ref);
    // Tolerance 1e-4 relative: two differently ordered float32 GEMM chains over d=12 with |x| ~ 1.
    EXPECT_TRUE(mat_near(out, ref, 1e-4, 1e-5)) << "causal=" << causal;
    for (int h = 0; h < H; ++h) EXPECT_TRUE(mat_near(w.middleRows(h * n, n), heads[size_t(h)].attn.weights, 1e-4, 1e-6));
  }
}

}  // namespace
}  // namespace attnplay

namespace attnplay {
namespace {

// The vector kernels against their plain-loop references, on odd sizes and tails.
struct GemmCase {
  int M, N, K;
};
std::ostream& operator<<(std::ostream& os, const GemmCase& c) { return os << "M=" << c.M << " N=" << c.N << " K=" << c.K; }
class GemmVsReference : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmVsReference, PackedKernelMatchesPlainLoops) {
  const GemmCase c = GetParam();
  std::printf("  M %d N %d K %d, kernel %s\n", c.M, c.N, c.K, gemm_kernel_name());
  const Mat A = random_mat(c.M, c.K, 51), B = random_mat(c.K, c.N, 52);
  Mat got = Mat::Constant(c.M, c.N, 7.0f), want(c.M, c.N);
  gemm(c.M, c.N, c.K, A.data(), c.K, B.data(), c.N, got.data(), c.N);
  gemm_reference(c.M, c.N, c.K, A.data(), c.K, B.data(), c.N, want.data(), c.N);
  // 1e-5 relative of the largest |value| (float32 sums of K products; K up to 300 here).
  EXPECT_TRUE(mat_near(got, want, 0, 1e-5 * std::max(1.0f, want.cwiseAbs().maxCoeff())));
  // accumulate, and partial k/n ranges (the causal blocks use them)
  GemmPacked packed;
  gemm_pack_b(c.K, c.N, B.data(), c.N, &packed);
  Mat acc = want;
  gemm_packed(c.M, A.data(), c.K, packed, acc.data(), c.N, true);
  EXPECT_TRUE(mat_near(acc, 2 * want, 0, 2e-5 * std::max(1.0f, want.cwiseAbs().maxCoeff())));
  const int kc = c.K / 2, nc = std::max(1, c.N / 2 + 1);
  Mat part = Mat::Zero(c.M, nc), part_ref(c.M, nc);
  gemm_packed(c.M, A.data(), c.K, packed, part.data(), nc, false, kc, nc);
  gemm_reference(c.M, nc, kc, A.data(), c.K, B.data(), c.N, part_ref.data(), nc);
  EXPECT_TRUE(mat_near(part, part_ref, 0, 1e-5 * std::max(1.0f, part_ref.cwiseAbs().maxCoeff())));
}

INSTANTIATE_TEST_SUITE_P(Shapes, GemmVsReference,
                         ::testing::Values(GemmCase{1, 1, 1}, GemmCase{4, 8, 3}, GemmCase{5, 17, 9}, GemmCase{3, 7, 1},
                                           GemmCase{64, 100, 32}, GemmCase{33, 31, 300}, GemmCase{130, 256, 64},
                                           GemmCase{7, 5, 0}));

// A packed buffer is reused across products (thread_local in the layers) and is no longer zero-filled first: repacking
// into one that held a larger B gives the right product. Both packings (B and Bᵀ); whole panels (the vector copy: 16 and
// 64 columns are whole panels in WASM, 64 with AVX-512) and partial ones.
TEST(GemmPack, RepackIntoAUsedBufferMatchesTheReference) {
  for (const int N : {16, 64, 13, 3}) {
    std::printf("  K 5 N %d into a buffer that held K 9 N 80 (kernel %s)\n", N, gemm_kernel_name());
    const Mat big = random_mat(9, 80, 61) * 100.0f, A = random_mat(6, 5, 62), B = random_mat(5, N, 63);
    const Mat Bt = B.transpose();
    Mat want(6, N);
    gemm_reference(6, N, 5, A.data(), 5, B.data(), N, want.data(), N);
    for (const bool transposed : {false, true}) {
      GemmPacked packed;
      gemm_pack_b(9, 80, big.data(), 80, &packed);
      if (transposed) gemm_pack_bt(5, N, Bt.data(), 5, &packed);
      else gemm_pack_b(5, N, B.data(), N, &packed);
      Mat got = Mat::Constant(6, N, 7.0f);
      gemm_packed(6, A.data(), 5, packed, got.data(), N);
      EXPECT_TRUE(mat_near(got, want, 0, 1e-5f)) << "N=" << N << " transposed=" << transposed;
    }
  }
}

// vtranspose against Eigen's transpose: tiles, ragged edges, strides wider than the rows.
TEST(VectorOps, TransposeMatchesEigen) {
  for (const auto& rc : std::vector<std::pair<int, int>>{{1, 1}, {4, 4}, {3, 9}, {24, 192}, {17, 5}, {384, 64}, {0, 3}}) {
    const int rows = rc.first, cols = rc.second, lda = cols + 3, ldo = rows + 2;
    std::printf("  transpose %d x %d (lda %d, ldo %d)\n", rows, cols, lda, ldo);
    const Mat src = random_mat(rows, lda, 71);
    Mat out = Mat::Constant(cols, ldo, -9.0f);
    vtranspose(rows, cols, src.data(), lda, out.data(), ldo);
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) ASSERT_EQ(out(j, i), src(i, j)) << "element (" << i << ", " << j << ")";
    for (int j = 0; j < cols; ++j)
      for (int i = rows; i < ldo; ++i) ASSERT_EQ(out(j, i), -9.0f) << "wrote past the rows at (" << j << ", " << i << ")";
  }
}

// vrelu_backward against the scalar rule, PyTorch's: relu'(0) = 0; a NaN input passes no gradient.
TEST(VectorOps, ReluBackwardSelectsWherePositive) {
  std::vector<float> pre = {1.0f, -1.0f, 0.0f, -0.0f, 2e-38f, -2e-38f, std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 3.0f, -3.0f};
  for (int i = 0; i < 40; ++i) pre.push_back(float((i * 37) % 11) - 5.0f);  // a tail past every vector width
  std::vector<float> dy(pre.size()), dx(pre.size(), 99.0f);
  for (size_t i = 0; i < dy.size(); ++i) dy[i] = 0.5f + float(i);
  vrelu_backward(pre.data(), dy.data(), dx.data(), pre.size());
  for (size_t i = 0; i < pre.size(); ++i) ASSERT_EQ(dx[i], pre[i] > 0.0f ? dy[i] : 0.0f) << "pre " << pre[i] << " at " << i;
}

TEST(GemmKernel, ExpectedPathIsInUse) {
  std::printf("  gemm kernel in use: %s (built-in: %s); expected: %s\n", gemm_kernel_name(), gemm_builtin_kernel_name(),
              g_expect_kernel.empty() ? "(not given)" : g_expect_kernel.c_str());
  if (g_expect_kernel.empty()) GTEST_SKIP() << "no --expect-kernel given";
  EXPECT_STREQ(gemm_kernel_name(), g_expect_kernel.c_str());
}

// An installed kernel (the relaxed-SIMD one in WASM) against the built-in one and the plain loops, on the shapes the
// attention and training paths make: tails of the 4 x 8 tile, partial k / n, accumulation. Skips without one.
TEST(GemmKernel, InstalledKernelAgreesWithTheBuiltInOne) {
  const GemmKernel installed = gemm_kernel_installed();
  if (!installed) GTEST_SKIP() << "no kernel installed (in use: " << gemm_kernel_name() << ")";
  const std::string name = gemm_kernel_name();
  for (const auto& [M, N, K] : std::vector<std::array<int, 3>>{{1, 1, 1}, {3, 7, 2}, {4, 8, 1}, {5, 9, 17},
                                                                 {24, 64, 64}, {67, 130, 33}, {128, 24, 256}}) {
    std::printf("  M %d N %d K %d: %s vs %s\n", M, N, K, name.c_str(), gemm_builtin_kernel_name());
    const Mat A = random_mat(M, K, 71), B = random_mat(K, N, 72);
    GemmPacked packed;
    gemm_pack_b(K, N, B.data(), N, &packed);
    Mat fast = Mat::Constant(M, N, 3.0f), builtin = fast, want(M, N);
    gemm_packed(M, A.data(), K, packed, fast.data(), N, true);
    gemm_kernel_install(nullptr, nullptr);
    gemm_packed(M, A.data(), K, packed, builtin.data(), N, true);
    gemm_kernel_install(installed, name.c_str());
    gemm_reference(M, N, K, A.data(), K, B.data(), N, want.data(), N);
    want.array() += 3.0f;
    // Fused multiply-add rounds once per step where mul + add rounds twice: the two kernels differ by float32
    // rounding only, 1e-5 of the largest |value| for K <= 256.
    const float tol = 1e-5f * std::max(1.0f, want.cwiseAbs().maxCoeff());
    EXPECT_TRUE(mat_near(fast, want, 0, tol));
    EXPECT_TRUE(mat_near(fast, builtin, 0, tol));
  }
}

// A training step packs each weight once for its 16 sequences (GemmWeightScope); outside a scope nothing is kept.
TEST(GemmWeightScope, PacksEachWeightOnceAndOnlyInsideTheScope) {
  Mat w = random_mat(8, 5, 81);  // Bt [N = 8, K = 5]
  GemmPacked scratch, direct;
  gemm_pack_bt(5, 8, w.data(), 5, &direct);
  EXPECT_EQ(&gemm_pack_weight(5, 8, w.data(), 5, true, &scratch), &scratch) << "no scope: packed into the scratch";
  {
    const GemmWeightScope scope;
    const GemmPacked& p1 = gemm_pack_weight(5, 8, w.data(), 5, true, &scratch);
    const GemmPacked& p2 = gemm_pack_weight(5, 8, w.data(), 5, true, &scratch);
    EXPECT_EQ(&p1, &p2) << "packed once";
    EXPECT_NE(&p1, &scratch);
    EXPECT_EQ(p1.data, direct.data);
    const GemmPacked& p3 = gemm_pack_weight(8, 5, w.data(), 5, false, &scratch);  // the same bytes as B [8, 5]
    EXPECT_NE(&p1, &p3) << "another layout is another entry";
    GemmPacked b;
    gemm_pack_b(8, 5, w.data(), 5, &b);
    EXPECT_EQ(p3.data, b.data);
  }
  EXPECT_EQ(&gemm_pack_weight(5, 8, w.data(), 5, true, &scratch), &scratch) << "outside a scope: the scratch";
  // The next scope (the next training step) reuses the buffer but packs the matrix's new values.
  w(3, 2) += 1.0f;  // the same address, new values
  GemmPacked direct2;
  gemm_pack_bt(5, 8, w.data(), 5, &direct2);
  {
    const GemmWeightScope scope;
    EXPECT_EQ(gemm_pack_weight(5, 8, w.data(), 5, true, &scratch).data, direct2.data) << "repacked in the new scope";
  }
}

TEST(VectorExp, MatchesStdExpAcrossTheRange) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 89.0f; v += 0.0137f) x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  x.push_back(0.0f);
  std::vector<float> y = x;
  vexp_inplace(y.data(), int(y.size()));
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i]));
    if (x[i] < -87.3365f) {
      EXPECT_EQ(y[i], 0.0f) << "exp(" << x[i] << ") underflows to exactly 0";
    } else if (x[i] > 88.3762f) {
      EXPECT_GT(y[i], 1e38f) << "exp(" << x[i] << ") saturates";
    } else {
      const double rel = std::fabs(y[i] - want) / want;
      worst = std::max(worst, rel);
      ASSERT_LT(rel, 4e-7) << "exp(" << x[i] << ") = " << y[i] << ", want " << want;
    }
  }
  std::printf("  vexp worst relative error %.3g over %zu points\n", worst, x.size());
  std::vector<float> row = {1.0f, 2.0f, 3.0f, 0.5f, -1.0f};
  const float sum = vexp_shift_sum(row.data(), int(row.size()), 3.0f);
  EXPECT_NEAR(sum, std::exp(-2.0) + std::exp(-1.0) + 1 + std::exp(-2.5) + std::exp(-4.0), 1e-6);
  EXPECT_EQ(vmax(row.data(), 0), -std::numeric_limits<float>::infinity());
}

// The softmax's exp on whichever path is in use (under unit_wasm_relaxed: the relaxed module's, fused multiply-adds)
// and, where one is installed, against the built-in one. Every length 0..13 exercises the 4-lane tails.
TEST(VectorExp, ShiftSumMatchesStdExpOnTheKernelInUse) {
  const ExpShiftSumKernel installed = vexp_kernel_installed();
  std::printf("  exp in use: %s\n", installed ? "installed kernel" : "built-in vexp");
  std::vector<float> x;
  for (float v = -95.0f; v <= 4.0f; v += 0.0071f) x.push_back(v);
  x.push_back(-std::numeric_limits<float>::infinity());
  const float shift = 4.0f;  // >= every x: arguments in [-99, 0] and -inf
  std::vector<float> y(x.size()), in_place = x;
  const float sum = vexp_shift_sum_to(x.data(), y.data(), int(x.size()), shift);
  const float sum_in_place = vexp_shift_sum(in_place.data(), int(in_place.size()), shift);
  double want_sum = 0, worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = double(x[i] - shift), want = std::exp(a);  // the float difference the kernel exponentiates
    want_sum += want;
    ASSERT_EQ(y[i], in_place[i]) << "i=" << i;
    if (a < -87.3365) {
      ASSERT_EQ(y[i], 0.0f) << "exp(" << a << ") underflows to exactly 0";
    } else {
      const double rel = std::fabs(y[i] - want) / want;
      worst = std::max(worst, rel);
      ASSERT_LT(rel, 4e-7) << "exp(" << a << ") = " << y[i] << ", want " << want;
    }
  }
  std::printf("  worst relative error %.3g over %zu points\n", worst, x.size());
  EXPECT_NEAR(sum, want_sum, 1e-5 * want_sum);  // float accumulators over ~14k terms
  EXPECT_EQ(sum, sum_in_place);
  for (int n = 0; n <= 13; ++n) {
    std::vector<float> row(static_cast<size_t>(n)), out(static_cast<size_t>(n), -1.0f);
    for (int i = 0; i < n; ++i) row[size_t(i)] = -0.37f * float(i);
    const float s = vexp_shift_sum_to(row.data(), out.data(), n, 0.0f);
    double w = 0;
    for (int i = 0; i < n; ++i) {
      w += std::exp(-0.37 * i);
      EXPECT_NEAR(out[size_t(i)], std::exp(double(row[size_t(i)])), 4e-7) << "n=" << n << " i=" << i;
    }
    EXPECT_NEAR(s, w, 1e-6 * std::max(1.0, w)) << "n=" << n;
    if (installed) {  // the built-in exp agrees to float rounding
      std::vector<float> builtin(static_cast<size_t>(n));
      vexp_kernel_install(nullptr);
      const float sb = vexp_shift_sum_to(row.data(), builtin.data(), n, 0.0f);
      vexp_kernel_install(installed);
      for (int i = 0; i < n; ++i) EXPECT_NEAR(out[size_t(i)], builtin[size_t(i)], 2.4e-7f) << "n=" << n << " i=" << i;
      EXPECT_NEAR(s, sb, 1e-6f * std::max(1.0f, sb)) << "n=" << n;
    }
  }
}

TEST(Batched, OddSizesAndCausalCrossShapesMatchTheReference) {
  // Blocks of 64 queries: sizes around the block edge, n_q != n_k, tails of the 4 x 8 tile.
  for (const auto& [n_q, n_k, d_k, d_v] : std::vector<std::array<int, 4>>{{65, 63, 5, 3}, {130, 130, 32, 32}, {1, 200, 7, 9}, {200, 1, 3, 2}}) {
    for (bool causal : {false, true}) {
      const Mat q = random_mat(n_q, d_k, 61), k = random_mat(n_k, d_k, 62), v = random_mat(n_k, d_v, 63);
      Mat ctx(n_q, d_v), w(n_q, n_k);
      attention_batched(q.data(), k.data(), v.data(), 1, n_q, n_k, d_k, d_v, causal, 0.4f, ctx.data(), w.data());
      MaskSpec spec;
      spec.causal = causal;
      const MaskMat mask = mask_build(spec, n_q, n_k);
      AttentionParams p;
      p.scale_divisor = 1.0f / 0.4f;
      AttentionOutput ref;
      attention_forward_reference(q, k, v, p, &mask, &ref);
      EXPECT_TRUE(mat_near(ctx, ref.context)) << "n_q=" << n_q << " n_k=" << n_k << " causal=" << causal;
      EXPECT_TRUE(mat_near(w, ref.weights)) << "n_q=" << n_q << " n_k=" << n_k << " causal=" << causal;
    }
  }
}

}  // namespace
}  // namespace attnplay
