// attnplay model: the tiny Transformer's parameters, seeded or loaded, in PyTorch's names (../shared/SPEC.md §5).
//
// Dimension glossary: vocab (distinct tokens), d_model, heads, d_k = d_v = d_model / heads (PyTorch layout),
// d_ff (FFN width), layers, max_len (rows of a learned position table).
//
// Seeded weights follow PyTorch's default initialisation, drawn from our own RNG (rng.h), one stream per
// tensor, and one per row for the token-indexed tables (embedding, fc_out) and positions: editing the text never
// changes the vectors of the tokens that stay, and a seed means the same numbers native and in WASM.
//   embedding / pos_embedding   ≈ N(0, 1)                                  (nn.Embedding)
//   in_proj_weight              U(±√(6 / (d_model + 3·d_model)))          (xavier_uniform_), in_proj_bias = 0
//   out_proj.weight             U(±1/√fan_in), out_proj.bias = 0          (nn.MultiheadAttention)
//   linear1/linear2/fc_out      U(±1/√fan_in) for weight and bias          (nn.Linear)
//   norm1/norm2                 weight 1, bias 0                           (nn.LayerNorm)
//   general W, additive W/U/v_a U(±1/√fan_in); never in the file: always from the seed (or the config's inputs)
//
// Index
//   ModelWeights / LayerWeights      the parameters
//   [Tree]   WeightTensor, weights_visit   every tensor named once, as PyTorch's named_parameters: seeding, saving,
//            loading, the trainable list (weights_params) and the tests walk it. A tensor added to a struct above and
//            to the walk (weights.cpp) is seeded, saved, loaded and trained with no other change.
//   weights_seeded                   from the config's seed and the vocabulary
//   weights_to_safetensors           -> file contents (with "vocab" in __metadata__)
//   weights_from_safetensors         <- file contents, checked against the config: missing, misshapen or extra
//                                       tensors are refused by name
//   weights_params, weights_zeros_like   the trainable tensors in the walk's order; zeros of the same shapes
//   weights_token_ids                tokens -> vocabulary ids ("<unk>" fallback, else refused by name)
#pragma once

#include "core/layers.h"
#include "model/config.h"
#include "model/safetensors.h"

#include <functional>
#include <string>
#include <vector>

namespace attnplay {

struct LayerWeights {
  MhaWeights self_attn;               // in_proj [3·d_model, d_model] (generalised to heads·(2·d_k + d_v) rows), out_proj
  Mat linear1_w; Vec linear1_b;       // [d_ff, d_model], [d_ff] (a gated FFN's up projection)
  Mat linear2_w; Vec linear2_b;       // [d_model, d_ff], [d_model]
  Vec norm1_w, norm1_b;               // [d_model] (RMSNorm: no bias)
  Vec norm2_w, norm2_b;               // [d_model]
  Mat gate_w;                         // [d_ff, d_model] a gated FFN's gate (NetSpec::gated: real checkpoints only; not
                                      //   part of the tiny Transformer's tree)
};

// nn.TransformerDecoderLayer (mode seq2seq, SPEC §8): masked self-attention, cross-attention over the encoder's output
// (multihead_attn), the FFN, three norms.
struct DecoderLayerWeights {
  MhaWeights self_attn;               // as LayerWeights::self_attn
  MhaWeights cross_attn;              // multihead_attn: q from the decoder, k and v from the memory
  Mat linear1_w; Vec linear1_b;       // [d_ff, d_model], [d_ff]
  Mat linear2_w; Vec linear2_b;       // [d_model, d_ff], [d_model]
  Vec norm1_w, norm1_b;               // [d_model] before / around the self-attention
  Vec norm2_w, norm2_b;               //           the cross-attention
  Vec norm3_w, norm3_b;               //           the FFN
};

// What an encoder-decoder adds to the encoder's weights (nn.Transformer's decoder side and final norms).
struct Seq2SeqWeights {
  std::vector<std::string> tgt_vocab; // [tgt_vocab]
  Mat tgt_embedding;                  // [tgt_vocab, d_model]
  Mat tgt_pos_embedding;              // [max_len, d_model] when positional is "learned", else empty
  std::vector<DecoderLayerWeights> decoder;  // [decoder_layers]
  Vec enc_norm_w, enc_norm_b;         // [d_model] transformer.encoder.norm
  Vec dec_norm_w, dec_norm_b;         // [d_model] transformer.decoder.norm
  AttentionKindWeights cross_kind;    // the cross-attention kind's extra parameters (never in the file)
};

// The base holds the extra parameters of kinds general/additive (general_w, additive_w, additive_u, additive_v): not
// part of the file (SPEC §5 names only PyTorch's tensors).
struct ModelWeights : AttentionKindWeights {
  std::vector<std::string> vocab;     // [vocab]
  Mat embedding;                      // [vocab, d_model]
  Mat pos_embedding;                  // [max_len, d_model] when positional is "learned", else empty
  std::vector<LayerWeights> layers;   // [layers]
  Mat fc_out_w; Vec fc_out_b;         // [vocab, d_model], [vocab] (seq2seq: over the target vocabulary)
  Seq2SeqWeights seq2seq;             // mode seq2seq only (empty otherwise)
};

// [Tree] ------------------------------------------------------------------------------------------------------
enum WeightInit {                     // how seeding fills a tensor (the table at the top of this file)
  WEIGHT_INIT_ZEROS,
  WEIGHT_INIT_ONES,
  WEIGHT_INIT_UNIFORM,                // U(±bound), one stream: `stream`
  WEIGHT_INIT_ROWS_NORMAL,            // N(0, 1), row r from the stream "<stream>/<labels[r]>"
  WEIGHT_INIT_ROWS_UNIFORM,           // U(±bound), row r from the stream "<stream>/<labels[r]>" after `skip` draws
};
struct WeightTensor {
  std::string name;                   // PyTorch's name: the file's key
  Mat* mat = nullptr;                 // the storage: a matrix [rows, cols] ...
  Vec* vec = nullptr;                 //   ... or a vector [rows]
  int rows = 0, cols = 0;             // the shape (a vector: cols 0): the config's, or the stored one without a config
  int min_rows = 0;                   // > 0: any rows >= min_rows load (learned positions; `rows` is what seeding makes)
  WeightInit init = WEIGHT_INIT_ZEROS;
  float bound = 0;                    // the uniform inits' bound
  std::string stream;                 // the seed stream, or the rows' streams' prefix (the name, unless kept from an
                                      //   older layout so a seed gives the same numbers)
  const std::vector<std::string>* labels = nullptr;  // ROWS_*: one label per row
  int skip = 0;                       // ROWS_UNIFORM: draws of each row's stream that another tensor takes first
  bool in_file = true;                // saved and loaded (the kinds' extra parameters: seeded only, SPEC §5)
  bool trainable = true;              // the optimiser updates it
  std::string why;                    // the expected shape in words, for refusals ("vocab of 3 tokens, d_model=4")
  std::string missing_hint;           // appended when it is missing ("(the config has transformer.layers=2)")
};
// Walks every tensor of w in a fixed order (the trainable list's, the training state's layout). c: the config the
// shapes come from (seeding and loading; the layer lists and each attention's dimensions are sized to it first, the
// vocabularies are w's) or nullptr: every tensor as stored (the learned tables and the decoder side when present).
void weights_visit(ModelWeights* w, const Config* c, const std::function<void(const WeightTensor&)>& fn);

std::vector<std::string> weights_seeded_vocab(const Config& c);                       // distinct tokens, first appearance
std::vector<std::string> weights_seeded_tgt_vocab(const Config& c);                   // seq2seq: the target's distinct tokens
int                      weights_seeded_max_len(const Config& c);                     // max(64, n) rows of learned positions
int                      weights_in_proj_rows(const Config& c);                       // heads·d_k + kv_heads·(d_k + d_v)
ModelWeights             weights_seeded(const Config& c);                             // every tensor from c.seed
void                     weights_seed_extra(const Config& c, ModelWeights* w);        // general/additive params from c.seed
SafeTensorsFile          weights_to_safetensors(const ModelWeights& w);
bool                     weights_from_safetensors(const SafeTensorsFile& f, const Config& c, ModelWeights* out,
                                                  std::string* error);
// Every trainable tensor of w (the safetensors ones), in the walk's order: data pointer and element count.
struct ParamRef {
  float* data;
  size_t size;
};
std::vector<ParamRef>    weights_params(ModelWeights* w);
ModelWeights             weights_zeros_like(const ModelWeights& w);
bool                     weights_token_ids(const ModelWeights& w, const std::vector<std::string>& tokens,
                                           std::vector<int>* ids, std::string* error);
bool                     weights_tgt_token_ids(const ModelWeights& w, const std::vector<std::string>& tokens,
                                               std::vector<int>* ids, std::string* error);  // seq2seq: the target's

}  // namespace attnplay
