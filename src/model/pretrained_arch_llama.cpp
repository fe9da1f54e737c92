// attnplay model: Llama (model_type "llama": Llama 2/3, TinyLlama, SmolLM) and Qwen2 ("qwen2": the same with q, k, v
// biases), as transformers' modeling_llama.py and modeling_qwen2.py define them (LlamaForCausalLM, Qwen2ForCausalLM):
// RMSNorm, RoPE with rope_theta in the rotate-half layout, grouped-query heads (repeat_kv), the SiLU-gated MLP,
// a tied or untied head. Contracts: pretrained.h.
#include "model/pretrained_arch.h"

namespace attnplay {
namespace {

bool llama_like_config(const nlohmann::json& j, PretrainedDims* d, std::string* error, bool qwen2) {
  ConfigReader r(j, error);
  d->vocab = r.integer("vocab_size", 32000);
  d->hidden = r.integer("hidden_size", 4096);
  d->d_ff = r.integer("intermediate_size", 11008);
  d->layers = r.integer("num_hidden_layers", 32);
  d->heads = r.integer("num_attention_heads", 32);
  d->kv_heads = r.integer_or_null("num_key_value_heads", d->heads);
  d->head_dim = r.integer_or_null("head_dim", 0);
  d->max_positions = r.integer("max_position_embeddings", 2048);
  d->norm_eps = r.number("rms_norm_eps", 1e-6);
  d->rope_theta = r.number("rope_theta", 10000.0);
  d->activation = r.activation("hidden_act", "silu");
  d->tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  // RoPE's settings: rope_scaling (transformers 4) or rope_parameters (transformers 5, which moves rope_theta there).
  // Type "default" is plain RoPE; any other scales the positions (linear, dynamic, yarn, llama3, longrope) and is
  // refused by name rather than computed wrongly.
  for (const char* key : {"rope_scaling", "rope_parameters"}) {
    if (!j.contains(key) || j[key].is_null()) continue;
    const nlohmann::json& v = j[key];
    const nlohmann::json* type = !v.is_object() ? nullptr : v.contains("rope_type") ? &v["rope_type"] : v.contains("type") ? &v["type"] : nullptr;
    if (v.is_object() && (!type || *type == "default")) {
      if (v.contains("rope_theta")) d->rope_theta = ConfigReader(v, error).number("rope_theta", d->rope_theta);
      continue;
    }
    r.refuse_present(key, "scales RoPE's positions (linear, dynamic, yarn, llama3): this build computes plain RoPE");
  }
  if (qwen2) {
    r.refuse_true("use_sliding_window", "restricts some layers to a sliding window");
    d->attn_bias = true;
  } else {
    d->attn_bias = r.boolean("attention_bias", false);
    r.refuse_true("mlp_bias", "gives the MLP biases");
  }
  d->out_bias = !qwen2 && d->attn_bias;  // Llama's attention_bias covers o_proj too; Qwen2's o_proj has none
  d->norm = PRETRAINED_NORM_RMS;
  d->norm_first = true;
  d->gated = true;
  d->causal = true;
  d->head = PRETRAINED_HEAD_LM;
  return r.ok() && dims_divide(d, error);
}

bool llama_config(const nlohmann::json& j, PretrainedDims* d, std::string* error) { return llama_like_config(j, d, error, false); }
bool qwen2_config(const nlohmann::json& j, PretrainedDims* d, std::string* error) { return llama_like_config(j, d, error, true); }

std::vector<PretrainedTensorRule> llama_rules(const PretrainedDims& d) {
  const int64_t h = d.hidden, f = d.d_ff, q = int64_t(d.heads) * d.head_dim, kv = int64_t(d.kv_heads) * d.head_dim;
  RuleList t;
  t.add("embed_tokens.weight", {d.vocab, h}, slot_embedding);
  t.layer("layers.{i}.input_layernorm.weight", {h}, slot_norm1_w);
  t.layer("layers.{i}.self_attn.q_proj.weight", {q, h}, slot_q_w);
  t.layer("layers.{i}.self_attn.k_proj.weight", {kv, h}, slot_k_w);
  t.layer("layers.{i}.self_attn.v_proj.weight", {kv, h}, slot_v_w);
  if (d.attn_bias) {
    t.layer("layers.{i}.self_attn.q_proj.bias", {q}, slot_q_b);
    t.layer("layers.{i}.self_attn.k_proj.bias", {kv}, slot_k_b);
    t.layer("layers.{i}.self_attn.v_proj.bias", {kv}, slot_v_b);
  }
  t.layer("layers.{i}.self_attn.o_proj.weight", {h, q}, slot_out_proj_w);
  if (d.out_bias) t.layer("layers.{i}.self_attn.o_proj.bias", {h}, slot_out_proj_b);
  t.layer("layers.{i}.post_attention_layernorm.weight", {h}, slot_norm2_w);
  t.layer("layers.{i}.mlp.gate_proj.weight", {f, h}, slot_gate_w);
  t.layer("layers.{i}.mlp.up_proj.weight", {f, h}, slot_up_w);
  t.layer("layers.{i}.mlp.down_proj.weight", {h, f}, slot_down_w);
  t.add("norm.weight", {h}, slot_final_norm_w);
  if (!d.tie_word_embeddings) t.add("lm_head.weight", {d.vocab, h}, slot_lm_head);
  return t.rules;
}

}  // namespace

// Not used: the rotary embedding's inv_freq buffer (older files save it) and a tied head's stored copy.
extern const PretrainedArch kPretrainedLlama = {"llama", "model.", llama_config, llama_rules,
                                                {".rotary_emb.inv_freq", "lm_head.weight"}, nullptr};
extern const PretrainedArch kPretrainedQwen2 = {"qwen2", "model.", qwen2_config, llama_rules,
                                                {".rotary_emb.inv_freq", "lm_head.weight"}, nullptr};

}  // namespace attnplay
