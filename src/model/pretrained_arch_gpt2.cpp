// attnplay model: GPT-2 (model_type "gpt2": GPT-2 and distilgpt2), as transformers' modeling_gpt2.py defines it
// (GPT2Model, GPT2LMHeadModel): learned positions (wpe), pre-LN blocks with a fused c_attn, Conv1D weights stored
// [in, out], gelu_new, ln_f, the LM head tied to wte. Contracts: pretrained.h.
#include "model/pretrained_arch.h"

namespace attnplay {
namespace {

bool gpt2_config(const nlohmann::json& j, PretrainedDims* d, std::string* error) {
  ConfigReader r(j, error);
  d->vocab = r.integer("vocab_size", 50257);
  d->max_positions = r.integer("n_positions", 1024);
  d->hidden = r.integer("n_embd", 768);
  d->layers = r.integer("n_layer", 12);
  d->heads = r.integer("n_head", 12);
  d->kv_heads = d->heads;
  d->d_ff = r.integer_or_null("n_inner", 4 * d->hidden);
  d->norm_eps = r.number("layer_norm_epsilon", 1e-5);
  d->activation = r.activation("activation_function", "gelu_new");
  d->tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  r.refuse_true("scale_attn_by_inverse_layer_idx", "scales each layer's scores by 1/(layer + 1)");
  r.refuse_false("scale_attn_weights", "leaves the scores unscaled");
  d->norm = PRETRAINED_NORM_LAYER;
  d->norm_first = true;
  d->learned_positions = true;
  d->causal = true;
  d->head = PRETRAINED_HEAD_LM;
  return r.ok() && dims_divide(d, error);
}

std::vector<PretrainedTensorRule> gpt2_rules(const PretrainedDims& d) {
  const int64_t h = d.hidden, f = d.d_ff;
  RuleList t;
  t.add("wte.weight", {d.vocab, h}, slot_embedding);
  t.add("wpe.weight", {d.max_positions, h}, slot_positions);
  // Conv1D [in, out]: c_attn's q | k | v columns become in_proj's rows, c_proj's and the MLP's [out, in].
  t.layer("h.{i}.ln_1.weight", {h}, slot_norm1_w);
  t.layer("h.{i}.ln_1.bias", {h}, slot_norm1_b);
  t.layer("h.{i}.attn.c_attn.weight", {h, 3 * h}, slot_in_proj_w, PRETRAINED_PLACE_TRANSPOSE);
  t.layer("h.{i}.attn.c_attn.bias", {3 * h}, slot_in_proj_b);
  t.layer("h.{i}.attn.c_proj.weight", {h, h}, slot_out_proj_w, PRETRAINED_PLACE_TRANSPOSE);
  t.layer("h.{i}.attn.c_proj.bias", {h}, slot_out_proj_b);
  t.layer("h.{i}.ln_2.weight", {h}, slot_norm2_w);
  t.layer("h.{i}.ln_2.bias", {h}, slot_norm2_b);
  t.layer("h.{i}.mlp.c_fc.weight", {h, f}, slot_up_w, PRETRAINED_PLACE_TRANSPOSE);
  t.layer("h.{i}.mlp.c_fc.bias", {f}, slot_up_b);
  t.layer("h.{i}.mlp.c_proj.weight", {f, h}, slot_down_w, PRETRAINED_PLACE_TRANSPOSE);
  t.layer("h.{i}.mlp.c_proj.bias", {h}, slot_down_b);
  t.add("ln_f.weight", {h}, slot_final_norm_w);
  t.add("ln_f.bias", {h}, slot_final_norm_b);
  if (!d.tie_word_embeddings) t.add("lm_head.weight", {d.vocab, h}, slot_lm_head);
  return t.rules;
}

}  // namespace

// The buffers GPT2Attention registers (a causal mask and its fill value) and a tied head's stored copy: not parameters.
extern const PretrainedArch kPretrainedGpt2 = {"gpt2", "transformer.", gpt2_config, gpt2_rules,
                                               {".attn.bias", ".attn.masked_bias", "lm_head.weight"}, nullptr};

}  // namespace attnplay
