// attnplay model: real checkpoints (../shared/SPEC.md §9). A Hugging Face folder of GPT-2, BERT, Llama or Qwen2 —
// config.json, model.safetensors (or model.safetensors.index.json and its shards), tokenizer.json — read into the
// module tree of the tiny Transformer's own layers (LayerWeights over MhaWeights, network.h's encoder_layer_forward),
// computed in float32 from F32, F16 or BF16 values, with the interventions that make attention a thing to probe:
// extra masks, temperature, head ablation. The same code runs natively (the CLI) and in WebAssembly (the JS API).
//
// Dimension glossary: n (tokens), hidden (d_model), heads, kv_heads, head_dim, d_ff (the MLP's width), vocab, layers.
//
// Index
//   [Arch]     PretrainedArch, pretrained_arch: one row per model_type (pretrained_arch_*.cpp): config.json -> dims,
//              the block (norms, MLP, positions, mask, head), the name table of its tensors
//   [Load]     PretrainedSource (the folder: small files whole, the shards' headers), PretrainedLoader (plan the
//              reads, check names, shapes and memory before any allocation, then take the bytes in any order),
//              pretrained_load_dir (the CLI's: a folder on disk)
//   [Model]    PretrainedModel (dims, weights, tokenizer), pretrained_info_json (the model card)
//   [Compute]  PretrainedRequest (token ids, mask, temperature, ablation, logits), pretrained_compute (with the
//              incremental path: an appended suffix reuses the prefix's rows; an ablation recomputes from the first
//              layer it changes), pretrained_result_json
#pragma once

#include "core/gemm.h"
#include "core/layers.h"
#include "model/config.h"
#include "model/hf_tokenizer.h"
#include "model/model.h"
#include "model/safetensors.h"
#include "model/weights.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace attnplay {

// [Arch] --------------------------------------------------------------------------------------------------
enum PretrainedNorm {
  PRETRAINED_NORM_LAYER,           // nn.LayerNorm (weight and bias)
  PRETRAINED_NORM_RMS,             // RMSNorm: x / sqrt(mean(x²) + eps) · weight (Llama, Qwen2)
};
enum PretrainedHead {
  PRETRAINED_HEAD_NONE,            // no logits (BertModel)
  PRETRAINED_HEAD_LM,              // logits = final_norm(h) · Eᵀ (tied) or · lm_headᵀ
  PRETRAINED_HEAD_MLM,             // BERT's cls.predictions: dense, gelu, LayerNorm, then · Eᵀ + bias
};

// What config.json says, resolved: everything the forward and the name table need.
struct PretrainedDims {
  std::string model_type;
  int hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, d_ff = 0, vocab = 0;
  int max_positions = 0;           // positions past it are refused (SPEC §9)
  float norm_eps = 1e-5f;
  PretrainedNorm norm = PRETRAINED_NORM_LAYER;
  bool norm_first = true;          // pre-LN (GPT-2, Llama) or post-LN (BERT)
  ActivationKind activation = ACTIVATION_KIND_GELU;
  bool gated = false;              // SiLU-gated MLP: down(act(gate(x)) ⊙ up(x))
  bool learned_positions = false;  // absolute position table (GPT-2's wpe, BERT's position_embeddings)
  float rope_theta = 0;            // > 0: RoPE, rotate-half layout (Llama, Qwen2)
  bool causal = true;              // the model's own mask (BERT: bidirectional)
  bool attn_bias = true;           // q, k, v biases (GPT-2, BERT, Qwen2); Llama has none
  bool out_bias = true;            // the attention output's and the MLP's biases
  bool token_type = false;         // BERT: token_type_embeddings row 0 added (every token_type_id is 0)
  bool embedding_norm = false;     // BERT: LayerNorm after the embeddings
  bool final_norm = true;          // ln_f / norm before the head (BERT has none)
  bool tie_word_embeddings = true;
  PretrainedHead head = PRETRAINED_HEAD_LM;  // BERT: MLM when the file has cls.predictions, else none
};

// One rule of an architecture's name table: a tensor as the file names it (relative to the base model, `{i}` the
// layer), the destination in the module tree and how its values land there.
enum PretrainedPlace {
  PRETRAINED_PLACE_COPY,           // the same shape, row-major
  PRETRAINED_PLACE_TRANSPOSE,      // GPT-2's Conv1D weight [in, out] -> nn.Linear's [out, in]
  PRETRAINED_PLACE_PACKED,         // E [vocab, hidden] -> the head's packed Eᵀ (the loader sets it for the head's tensor)
};
struct PretrainedTensorRule {
  std::string name;                // "h.{i}.attn.c_attn.weight"
  std::vector<int64_t> shape;      // as the file must hold it
  std::function<float*(struct PretrainedWeights* w, int layer)> dest;  // the first value it fills
  int64_t dest_row_stride = 0;     // floats between destination rows (0: the tensor's own row length)
  PretrainedPlace place = PRETRAINED_PLACE_COPY;
  bool per_layer = false;          // {i} runs over the layers
  bool optional = false;           // may be absent (a head the file may not have); its absence decides `head`
};

struct PretrainedArch {
  const char* model_type;          // config.json's model_type
  const char* prefix;              // the base model's prefix the file may use ("transformer.", "bert.", "model.")
  // config.json -> dims; false: *error names the field (e.g. a rope_scaling this build does not implement).
  bool (*read_config)(const nlohmann::json& config, PretrainedDims* d, std::string* error);
  // The tensors the file holds, for these dims; head decides which optional rules apply (see has_tensor).
  std::vector<PretrainedTensorRule> (*rules)(const PretrainedDims& d);
  // Tensors the file may hold that are not used (buffers, heads this build does not compute): suffixes / names.
  std::vector<std::string> ignored;
  // The dims as the file's tensors settle them (BERT: MLM head when cls.predictions is there). nullptr: as read.
  void (*settle)(PretrainedDims* d, const std::function<bool(const std::string&)>& has_tensor);
};
const std::vector<const PretrainedArch*>& pretrained_archs();       // gpt2, bert, llama, qwen2
const PretrainedArch* pretrained_arch(const std::string& model_type);  // nullptr: not supported

// [Model] -------------------------------------------------------------------------------------------------
struct PretrainedWeights {
  Mat embedding;                   // [vocab, hidden] wte / word_embeddings / embed_tokens; empty when it is the tied head
  Mat positions;                   // [max_positions, hidden] learned absolute positions, or empty
  Vec token_type;                  // [hidden] BERT's token_type_embeddings row 0, or empty
  Vec emb_norm_w, emb_norm_b;      // [hidden] BERT's embeddings.LayerNorm
  std::vector<LayerWeights> layers;  // [layers]: attention in_proj rows q (heads·head_dim), k, v (kv_heads·head_dim)
  Vec final_norm_w, final_norm_b;  // [hidden] ln_f / norm (bias empty: RMSNorm)
  GemmPacked head;                 // the LM head's matrix E [vocab, hidden] as the GEMM's packed B = Eᵀ (gemm.h):
                                   //   lm_head, or the tied embedding itself (then `embedding` is empty and a token's
                                   //   row is gathered from here): packed once as the file is read, so a forward packs
                                   //   nothing and holds no second copy of the largest matrix

  Mat mlm_dense_w;                 // [hidden, hidden] BERT's cls.predictions.transform.dense
  Vec mlm_dense_b, mlm_norm_w, mlm_norm_b;  // [hidden]
  Vec mlm_bias;                    // [vocab] cls.predictions.bias
};

struct PretrainedModel {
  PretrainedDims dims;
  PretrainedWeights weights;
  HfTokenizer tokenizer;           // empty when the folder has no tokenizer.json (then token_ids only)
  bool has_tokenizer = false;
  std::string dtype;               // the file's parameter dtype ("F16", or "F32+F16" when mixed)
  int64_t parameters = 0;          // values of every tensor the model uses (the tied head counted once)
  double bytes = 0;                // float32 bytes held
  double limit_bytes = 0;          // the limit it was loaded under (PretrainedLimits): a compute must fit beside it
  std::vector<std::string> files;  // the folder's files it was read from (config.json, tokenizer files, the index, each
                                   //   safetensors shard), in name order: what a workspace records of it
};
std::string pretrained_info_json(const PretrainedModel& m);  // {model_type, layers, heads, kv_heads, hidden_size, ...}

// [Load] --------------------------------------------------------------------------------------------------
// The folder as the loader sees it: small files whole (config.json, tokenizer.json, tokenizer_config.json,
// model.safetensors.index.json) and, for each safetensors file, its header (the first 8 + N bytes) and its size.
struct PretrainedSource {
  std::map<std::string, std::string> files;
  std::map<std::string, std::vector<uint8_t>> headers;
  std::map<std::string, uint64_t> sizes;
};
// A byte range the loader needs: one tensor's values in one file (fed in chunks, any order, each once).
struct PretrainedRead {
  std::string file;
  uint64_t begin = 0, end = 0;     // absolute offsets in the file
};
struct PretrainedLimits {
  double max_bytes = 4.0 * 1073741824.0;  // float32 weights (plus a reserve for one compute) over this are refused
};
class PretrainedLoader {
 public:
  PretrainedLoader();
  ~PretrainedLoader();
  // Parses the config and tokenizer, every header, the name table: refused by name (file, tensor or field) before
  // anything large is allocated; then allocates the weights. reads() lists what to feed.
  bool begin(const PretrainedSource& source, const PretrainedLimits& limits, std::string* error);
  const std::vector<PretrainedRead>& reads() const;
  // Bytes [offset, offset + n) of read r (offset relative to its begin, a multiple of 4): converted into place.
  bool feed(size_t r, uint64_t offset, const uint8_t* bytes, size_t n, std::string* error);
  // Every read fed whole; false names the first tensor that was not. The loader is empty afterwards.
  bool finish(std::shared_ptr<PretrainedModel>* out, std::string* error);

 private:
  struct State;
  std::unique_ptr<State> s_;
};
// The folder's files from disk through the same loader (the CLI).
bool pretrained_load_dir(const std::string& dir, const PretrainedLimits& limits, std::shared_ptr<PretrainedModel>* out,
                         std::string* error);

// [Compute] -----------------------------------------------------------------------------------------------
using PretrainedLogits = ConfigLogits;  // CONFIG_LOGITS_ALL, _LAST, _NONE (config.h: the field's values)
constexpr PretrainedLogits PRETRAINED_LOGITS_ALL = CONFIG_LOGITS_ALL, PRETRAINED_LOGITS_LAST = CONFIG_LOGITS_LAST,
                           PRETRAINED_LOGITS_NONE = CONFIG_LOGITS_NONE;
struct PretrainedRequest {
  std::vector<int> ids;            // [n] token ids (< vocab)
  std::vector<std::string> tokens; // [n] their vocabulary strings (the ids as strings without a tokenizer)
  MaskSpec mask;                   // added to the model's own (causal for GPT-2, Llama, Qwen2)
  float temperature = 1.0f;        // divides every score
  std::vector<std::pair<int, int>> ablate;  // [layer, head]: context 0 before the output projection
  PretrainedLogits logits = PRETRAINED_LOGITS_ALL;
};
// The config of SPEC §9 (mode "pretrained") against a loaded model -> the request: text through the tokenizer (or
// token_ids), masks, temperature, ablation and logits checked against the model (refused by name).
bool pretrained_request(const Config& c, const PretrainedModel& m, PretrainedRequest* out, std::string* error);

// What the last compute kept to start the next one from (the incremental path). One per model and caller.
struct PretrainedCache;
std::shared_ptr<PretrainedCache> pretrained_cache_new();

// The forward pass -> a Trace (tokens, token ids, every layer's heads and output, logits). cache may be null; given,
// an edit that only appends tokens (a causal model) computes the new rows only, and a changed ablation recomputes
// from the first layer it touches; the numbers equal a full recompute's to rounding (the GEMMs over fewer rows
// sum in another order; tested to 1e-5 of each tensor's largest value).
// out may be null when a cache is given: the trace stays in it (pretrained_cache_trace), not copied.
bool pretrained_compute(const PretrainedModel& m, const PretrainedRequest& r, PretrainedCache* cache, Trace* out,
                        std::string* error);
const Trace& pretrained_cache_trace(const PretrainedCache& cache);  // the last compute's trace
struct PretrainedStats {
  int recomputed_from_layer = 0;   // the first layer computed anew (layers: nothing)
  int rows_computed = 0;           // rows computed in each of those layers (n: all; an appended token: 1)
};
PretrainedStats pretrained_cache_stats(const PretrainedCache& cache);  // of the last compute

// SPEC §9's result: {tokens, token_ids, layers, logits?, fully_masked_rows, warnings}.
std::string pretrained_result_json(const Trace& t, const PretrainedRequest& r);

// The model a config names, found by the caller's resolver (the CLI: the folder on disk; the JS API: a loaded model's
// handle), and the cache its computes share.
struct PretrainedRef {
  std::shared_ptr<const PretrainedModel> model;
  std::shared_ptr<PretrainedCache> cache;            // may be null (no incremental path)
};
using PretrainedResolver = std::function<bool(const ConfigPretrained& p, PretrainedRef* out, std::string* error)>;
// A parsed mode-pretrained config -> the result JSON, or false and the one line that names what is refused.
bool pretrained_compute_json(const Config& c, const PretrainedResolver& resolve, std::string* result, std::string* error);

}  // namespace attnplay
