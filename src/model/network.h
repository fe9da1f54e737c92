// attnplay model: the tiny Transformer, defined once. Inference (model_compute, the trace every view reads),
// training (train.cpp: forward, loss, backward), the walkthrough and the geometry view all run these functions,
// so the loss and the pictures come from the same arithmetic. Each part has its forward beside its backward, and
// the forward keeps in its activations struct what the backward consumes (llm.c's layout).
//
// Dimension glossary: n (tokens of one sequence), d_model, heads, kv_heads, d_k, d_v, d_ff, vocab, layers.
//
// Adding a positional scheme is its enum value (config.h) and its row in network.cpp's table (positional_info): the
// config's spelling, the README, the weights' learned table and the tests follow. A layer variant is encoder_layer_*.
//
// Index
//   [Positions] PositionalInfo, positional_info   one row per scheme: added to x, or inside attention (RoPE, ALiBi)
//   [Spec]    NetSpec, net_spec                 the network a Config and its weights describe
//   [Embed]   embed_forward / embed_backward    ids -> x: token rows plus additive positions (sinusoidal, learned)
//             model_positions                   the sinusoidal table
//   [Layer]   LayerTrace, encoder_layer_forward / encoder_layer_backward   nn.TransformerEncoderLayer, post/pre-norm
//   [Model]   NetActs, net_forward / net_backward   embed, layers, logits (fc_out)
//   [Decoder] DecoderLayerTrace, decoder_layer_forward / _backward   nn.TransformerDecoderLayer, post/pre-norm
//   [Seq2Seq] Seq2SeqActs, seq2seq_forward / seq2seq_backward   nn.Transformer: encoder + norm, decoder + norm, fc_out
//   (multi-head attention itself: mha_forward in core/layers.h, mha_backward in core/backward.h)
#pragma once

#include "core/backward.h"
#include "core/layers.h"
#include "model/config.h"
#include "model/weights.h"

#include <vector>

namespace attnplay {

constexpr float kNetLayerNormEps = 1e-5f;  // nn.LayerNorm's default eps, in both norms of every layer

struct NetSpec;

// [Positions] ---------------------------------------------------------------------------------------------
// Everything that differs between positional schemes (network.cpp's table, in PositionalKind order).
struct PositionalInfo {
  const char* name;                    // the config's spelling: "sinusoidal", "learned", "none", "rope", "alibi"
  const char* where;                   // "x" (added to the token vectors), "attention" (inside it) or "" (none)
  bool learned;                        // a table of its own in the weights: pos_embedding [max_len, d_model]
  // Positions added to x: the rows for positions 0..n-1 -> pe [n, d_model] (learned: the weights' table, rows >= n).
  // nullptr: nothing is added to x.
  void (*table)(int n, int d_model, const Mat& learned, Mat* pe);
  // Positions inside attention: set them on the spec (RoPE's base, ALiBi's slopes). nullptr: none.
  void (*attention)(const Config& c, NetSpec* s);
  // The config refused by name when the scheme cannot take it ("" when it can).
  std::string (*check)(const Config& c);
};
const PositionalInfo& positional_info(PositionalKind kind);  // 0 <= kind < POSITIONAL_KIND_COUNT

// [Spec] --------------------------------------------------------------------------------------------------
enum NetNorm {
  NET_NORM_LAYER,                      // nn.LayerNorm
  NET_NORM_RMS,                        // RMSNorm (Llama's): no mean, no bias
};

struct NetSpec {
  AttentionParams attention;           // kind, scale, temperature; kind weights point into the ModelWeights
  AttentionParams cross_attention;     // the decoder's cross-attention (seq2seq); the same as attention unless set
  PositionalKind positional = POSITIONAL_KIND_SINUSOIDAL;
  float rope_base = 0;                 // > 0: RoPE on every head's q and k
  std::vector<float> alibi;            // [heads] ALiBi slopes, or empty
  bool norm_first = false;             // pre-norm (x + SA(LN(x))) instead of post-norm (LN(x + SA(x)))
  NetNorm norm = NET_NORM_LAYER;       // (RMS and the next three: real checkpoints' layers, pretrained.h; forward only)
  float norm_eps = 1e-5f;              // nn.LayerNorm's default; a checkpoint's config.json may say otherwise
  bool gated = false;                  // the FFN is down(act(gate(x)) ⊙ up(x)) (LayerWeights::gate_w: the gate)
  bool rope_half = false;              // RoPE in the rotate-half layout (Hugging Face's Llama)
  ActivationKind activation = ACTIVATION_KIND_RELU;
  int d_model = 0;
  int segment = 0;                     // > 0: the encoder's rows are sequences of `segment` tokens stacked (a training
                                       //   batch of one length: each linear layer is one product for all of them);
                                       //   positions and attention restart at each (MhaOptions::segment)
};
// Valid while w lives (the attention parameters point into it). w may be any weights with c's kind extras.
// cross_kind: the cross-attention kind's extra parameters (nullptr: kind_weights).
NetSpec    net_spec(const Config& c, const AttentionKindWeights& kind_weights, const AttentionKindWeights* cross_kind = nullptr);
// The options mha_forward / mha_backward take: positions inside attention, and what to keep of each head.
MhaOptions net_mha_options(const NetSpec& s, const AttentionDetail* details = nullptr);

// [Embed] -------------------------------------------------------------------------------------------------
// ids [n] (each < vocab) -> x [n, d_model] = embedding rows + positions (sinusoidal table or learned rows < max_len).
// With s.segment: ids are the sequences one after another, and row p has position p % segment.
void embed_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, Mat* x);
// d_x [n, d_model] -> g->embedding (and g->pos_embedding when learned) accumulate.
void embed_backward(const NetSpec& s, const std::vector<int>& ids, const Mat& d_x, ModelWeights* g);
Mat  model_positions(int n, int d_model);           // sinusoidal table -> [n, d_model]: PE[p, 2i] = sin(p / 10000^(2i/d)), [2i+1] = cos

// [Layer] -------------------------------------------------------------------------------------------------
// One layer's activations: what the views draw (heads, concat, output) and, with for_backward, what the backward
// reads (the rest, else left empty).
struct LayerTrace {
  std::vector<HeadTrace> heads;        // [heads]
  Mat concat;                          // [n_q, heads·d_v] the heads' contexts side by side
  Mat output;                          // [n_q, d_model] (attention: concat·out_projᵀ + b; with inputs: concat)
  Mat x_in;                            // [n, d_model] the layer's input
  Mat attn_in;                         // what the attention reads: x_in, or LN1(x_in) with norm_first
  Mat x1;                              // after the attention block: LN1(x_in + sa) post-norm, x_in + sa pre-norm
  Mat ffn_in;                          // x1 (post-norm) or LN2(x1) (pre-norm)
  Mat pre_act, post_act;               // [n, d_ff] before / after the activation
  LayerNormCache ln1, ln2;
};
// What a forward of some rows of a sequence adds (real checkpoints, pretrained.cpp): ablated heads, and the keys and
// values of the rows before them (a kept prefix: mha_forward's MhaOptions::past, positions from position_offset).
struct LayerExtras {
  const std::vector<uint8_t>* ablated = nullptr;  // [heads]
  const std::vector<HeadTrace>* past = nullptr;   // [heads]
  int position_offset = 0;
};
// x [n, d_model] in place: the layer's input -> its output. mask [n, n] (with extras.past: [n, past + n]) or nullptr;
// details [heads] or nullptr.
void encoder_layer_forward(const NetSpec& s, const LayerWeights& lw, const MaskMat* mask, const AttentionDetail* details,
                           bool for_backward, LayerTrace* lt, Mat* x, const LayerExtras& extras = LayerExtras());
// d_x in place: the gradient of the layer's output -> of its input; g accumulates. lt from a for_backward forward.
void encoder_layer_backward(const NetSpec& s, const LayerWeights& lw, const LayerTrace& lt, LayerWeights* g, Mat* d_x);

// [Model] -------------------------------------------------------------------------------------------------
struct NetActs {
  Mat x;                               // [n, d_model] embedding + positions
  std::vector<LayerTrace> layers;      // [layers]
  Mat logits;                          // [n, vocab]
};
struct NetOptions {
  bool for_backward = false;                                  // keep what net_backward needs
  const std::vector<std::vector<AttentionDetail>>* details = nullptr;  // [layers][heads] what to keep, or everything
};
// ids [n] -> a: x, every layer, logits. mask [n, n] or nullptr. With s.segment: ids [B·segment], mask [segment,
// segment], every activation stacks the B sequences' rows (the weights: see mha_forward).
void net_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, const MaskMat* mask,
                 const NetOptions& o, NetActs* a);
// d_logits [n, vocab] -> g accumulates every trainable tensor's gradient (the kind extras get none: SPEC §5).
void net_backward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& ids, const NetActs& a,
                  const Mat& d_logits, ModelWeights* g);

// [Decoder] -----------------------------------------------------------------------------------------------
// Post-norm: x1 = LN1(x + SA(x)), x2 = LN2(x1 + CA(x1, memory)), out = LN3(x2 + FF(x2)).
// Pre-norm:  x1 = x + SA(LN1(x)), x2 = x1 + CA(LN2(x1), memory), out = x2 + FF(LN3(x2)).
struct DecoderLayerTrace {
  LayerTrace self;                     // the masked self-attention: heads [n_t, n_t], concat (its output: sa)
  LayerTrace cross;                    // the cross-attention: heads [n_t, n_s], concat (its output: ca)
  Mat output;                          // [n_t, d_model] the layer's output
  Mat x_in, sa_in, x1, ca_in, x2, ffn_in, pre_act, post_act;  // for the backward (for_backward), else empty
  LayerNormCache ln1, ln2, ln3;
};
// x [n_t, d_model] in place; memory [n_s, d_model]; self_mask [n_t, n_t] (causal), cross_mask [n_t, n_s] or nullptr.
void decoder_layer_forward(const NetSpec& s, const DecoderLayerWeights& lw, const Mat& memory, const MaskMat* self_mask,
                           const MaskMat* cross_mask, bool for_backward, DecoderLayerTrace* lt, Mat* x);
// d_x in place (output -> input gradient); d_memory [n_s, d_model] accumulates (+=); g accumulates.
void decoder_layer_backward(const NetSpec& s, const DecoderLayerWeights& lw, const Mat& memory, const DecoderLayerTrace& lt,
                            DecoderLayerWeights* g, Mat* d_x, Mat* d_memory);

// [Seq2Seq] -----------------------------------------------------------------------------------------------
struct Seq2SeqActs {
  NetActs encoder;                     // x: source embedding + positions; layers; (logits unused)
  Mat memory_in, memory;               // [n_s, d_model] before / after the final encoder norm
  LayerNormCache enc_norm;
  Mat tgt_x;                           // [n_t, d_model] target embedding + positions
  std::vector<DecoderLayerTrace> decoder;
  Mat dec_in, dec_out;                 // [n_t, d_model] before / after the final decoder norm
  LayerNormCache dec_norm;
  Mat logits;                          // [n_t, tgt_vocab]
};
// src_ids [n_s], tgt_ids [n_t] (the decoder's input as given) -> a. src_mask [n_s, n_s] for the encoder's
// self-attention and cross_mask [n_t, n_s] (memory key padding) or nullptr; the decoder's self-attention is causal.
void seq2seq_forward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& src_ids, const std::vector<int>& tgt_ids,
                     const MaskMat* src_mask, const MaskMat* cross_mask, const NetOptions& o, Seq2SeqActs* a);
// d_logits [n_t, tgt_vocab] -> g accumulates every trainable tensor's gradient (g shaped as w).
void seq2seq_backward(const NetSpec& s, const ModelWeights& w, const std::vector<int>& src_ids, const std::vector<int>& tgt_ids,
                      const Seq2SeqActs& a, const Mat& d_logits, ModelWeights* g);

}  // namespace attnplay
