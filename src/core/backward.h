// attnplay core: backward passes of the tiny Transformer's layers (Eigen only), for training.
//
// Dimension glossary: n (tokens of one sequence), d_in / d_out (a linear layer), d (LayerNorm width), d_k, d_v,
// heads, kv_heads, vocab.
//
// Every function takes the gradient of the loss with respect to its forward output (d_y) and what the forward pass
// kept, and ACCUMULATES (+=) into the parameter gradients, so a batch sums its sequences into one set of gradients;
// input gradients are written (=). Each has a finite-difference check in tests/unit/test_train.cpp.
//
// Index
//   [Linear]     linear_backward           y = x·Wᵀ + b
//   [Norm]       layer_norm_backward       (its forward, layer_norm_forward_cached, is in layers.h)
//   [Activation] activation_backward       relu, gelu (exact)
//   [Attention]  attention_backward        one head, every kind: scale, temperature, mask, ALiBi
//   [MHA]        mha_backward              mha_forward's backward: heads, grouped-query heads, RoPE
//   [Positions]  rope_backward             the transpose of rope_apply (rotation by minus the angle)
//   [Loss]       cross_entropy_forward_backward   mean over the targets != kIgnoreTarget, as nn.CrossEntropyLoss
#pragma once

#include "core/layers.h"

#include <vector>

namespace attnplay {

// [Linear] x [n, d_in], w [d_out, d_in], d_y [n, d_out] -> d_x [n, d_in] (nullptr: not needed); d_w += d_yᵀ·x,
// d_b += column sums of d_y (d_b may be nullptr when the layer has no bias).
void linear_backward(const Mat& x, const Mat& w, const Mat& d_y, Mat* d_x, Mat* d_w, Vec* d_b);

// [Norm] ---------------------------------------------------------------------------------------------------
// d_y [n, d] -> d_x [n, d]; d_gamma += Σ_rows d_y ⊙ xhat, d_beta += Σ_rows d_y.
void layer_norm_backward(const LayerNormCache& cache, const Vec& gamma, const Mat& d_y, Mat* d_x, Vec* d_gamma, Vec* d_beta);

// [Activation] pre [any shape] (the input of activation_forward), d_y (same shape) -> d_x = d_y ⊙ act'(pre).
void activation_backward(ActivationKind kind, const Mat& pre, const Mat& d_y, Mat* d_x);

// [Attention] ----------------------------------------------------------------------------------------------
// One head of any kind (attention.h's scores, scale, temperature, mask and ALiBi), weights = softmax rows (0 for a
// fully masked row), out = weights·v. Inputs: q [n_q, d_k], k [n_k, d_k], v [n_k, d_v], the forward weights
// [n_q, n_k] and d_out [n_q, d_v] -> d_q [n_q, d_k], d_k [n_k, d_k], d_v [n_k, d_v] (written). The extra
// parameters of kinds general (W) and additive (W, U, v_a) get no gradient: they are not in the weights file (SPEC
// §5) and always come from the seed, so training leaves them as they are. ALiBi's slope has no gradient either.
// The inputs are Refs: a block of rows or columns of a bigger matrix (mha_backward's stacked sequences) is read in
// place, without a copy.
void attention_backward(const MatCRef& q, const MatCRef& k, const MatCRef& v, const MatCRef& weights,
                        const AttentionParams& params, const MatCRef& d_out, Mat* d_q, Mat* d_k, Mat* d_v);

// [MHA] ----------------------------------------------------------------------------------------------------
// The backward of mha_forward (layers.h), given what it produced: heads (every head's q, k after RoPE, v and
// weights kept) and concat [n_q, heads·d_v]. d_out [n_q, d_model] -> d_x_q [n_q, d_model] (written), and either
// d_x_kv [n_k, d_model] (written; cross-attention) or, for self-attention (x_q and x_kv the same matrix), nullptr:
// then d_x_q is the gradient of that one input. g accumulates in_proj and out_proj gradients.
void mha_backward(const Mat& x_q, const Mat& x_kv, const MhaWeights& w, const AttentionParams& params,
                  const MhaOptions& options, const std::vector<HeadTrace>& heads, const Mat& concat, const Mat& d_out,
                  MhaWeights* g, Mat* d_x_q, Mat* d_x_kv);

// [Positions] d_rotated [n, d] (gradient after rope_apply) -> in place, the gradient before it.
void rope_backward(Mat* d_x, float base);

// [Loss] ---------------------------------------------------------------------------------------------------
constexpr int kIgnoreTarget = -100;   // PyTorch's ignore_index: the position does not count
// logits [n, vocab], targets [n] (vocab ids or kIgnoreTarget); count = the number of counted targets of the whole
// batch (the mean's denominator). Returns Σ over this sequence's counted positions of -log softmax(logits)[target]
// (not yet divided); d_logits = (softmax − onehot) / count on counted rows, 0 elsewhere; *correct += argmax hits.
double cross_entropy_forward_backward(const Mat& logits, const std::vector<int>& targets, int count, Mat* d_logits,
                                      int* correct);

}  // namespace attnplay
