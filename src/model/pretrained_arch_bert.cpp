// attnplay model: BERT (model_type "bert"), as transformers' modeling_bert.py defines it (BertModel, BertForMaskedLM):
// word + position + token_type (row 0) embeddings and their LayerNorm, post-LN blocks (BertSelfAttention,
// BertSelfOutput, BertIntermediate, BertOutput) with layer_norm_eps, the MLM head cls.predictions when the file has it
// (BertLMPredictionHead: transform, then the decoder tied to the word embeddings, plus its bias). Contracts:
// pretrained.h.
#include "model/pretrained_arch.h"

namespace attnplay {
namespace {

bool bert_config(const nlohmann::json& j, PretrainedDims* d, std::string* error) {
  ConfigReader r(j, error);
  d->vocab = r.integer("vocab_size", 30522);
  d->hidden = r.integer("hidden_size", 768);
  d->layers = r.integer("num_hidden_layers", 12);
  d->heads = r.integer("num_attention_heads", 12);
  d->kv_heads = d->heads;
  d->d_ff = r.integer("intermediate_size", 3072);
  d->max_positions = r.integer("max_position_embeddings", 512);
  r.integer("type_vocab_size", 2);
  d->norm_eps = r.number("layer_norm_eps", 1e-12);
  d->activation = r.activation("hidden_act", "gelu");
  d->tie_word_embeddings = r.boolean("tie_word_embeddings", true);
  if (j.contains("position_embedding_type") && j["position_embedding_type"] != "absolute")
    r.fail("position_embedding_type " + j["position_embedding_type"].dump() + " is not supported (supported: \"absolute\")");
  d->norm = PRETRAINED_NORM_LAYER;
  d->norm_first = false;
  d->learned_positions = true;
  d->token_type = true;
  d->embedding_norm = true;
  d->final_norm = false;
  d->causal = false;
  d->head = PRETRAINED_HEAD_MLM;  // settled by the file: BertModel has no cls.predictions
  return r.ok() && dims_divide(d, error);
}

std::vector<PretrainedTensorRule> bert_rules(const PretrainedDims& d) {
  const int64_t h = d.hidden, f = d.d_ff;
  RuleList t;
  t.add("embeddings.word_embeddings.weight", {d.vocab, h}, slot_embedding);
  t.add("embeddings.position_embeddings.weight", {d.max_positions, h}, slot_positions);
  t.add("embeddings.token_type_embeddings.weight", {-1, h}, slot_token_type);  // row 0 only (any number of types)
  t.add("embeddings.LayerNorm.weight", {h}, slot_emb_norm_w);
  t.add("embeddings.LayerNorm.bias", {h}, slot_emb_norm_b);
  t.layer("encoder.layer.{i}.attention.self.query.weight", {h, h}, slot_q_w);
  t.layer("encoder.layer.{i}.attention.self.query.bias", {h}, slot_q_b);
  t.layer("encoder.layer.{i}.attention.self.key.weight", {h, h}, slot_k_w);
  t.layer("encoder.layer.{i}.attention.self.key.bias", {h}, slot_k_b);
  t.layer("encoder.layer.{i}.attention.self.value.weight", {h, h}, slot_v_w);
  t.layer("encoder.layer.{i}.attention.self.value.bias", {h}, slot_v_b);
  t.layer("encoder.layer.{i}.attention.output.dense.weight", {h, h}, slot_out_proj_w);
  t.layer("encoder.layer.{i}.attention.output.dense.bias", {h}, slot_out_proj_b);
  t.layer("encoder.layer.{i}.attention.output.LayerNorm.weight", {h}, slot_norm1_w);
  t.layer("encoder.layer.{i}.attention.output.LayerNorm.bias", {h}, slot_norm1_b);
  t.layer("encoder.layer.{i}.intermediate.dense.weight", {f, h}, slot_up_w);
  t.layer("encoder.layer.{i}.intermediate.dense.bias", {f}, slot_up_b);
  t.layer("encoder.layer.{i}.output.dense.weight", {h, f}, slot_down_w);
  t.layer("encoder.layer.{i}.output.dense.bias", {h}, slot_down_b);
  t.layer("encoder.layer.{i}.output.LayerNorm.weight", {h}, slot_norm2_w);
  t.layer("encoder.layer.{i}.output.LayerNorm.bias", {h}, slot_norm2_b);
  if (d.head == PRETRAINED_HEAD_MLM) {
    t.add("cls.predictions.transform.dense.weight", {h, h}, slot_mlm_dense_w);
    t.add("cls.predictions.transform.dense.bias", {h}, slot_mlm_dense_b);
    t.add("cls.predictions.transform.LayerNorm.weight", {h}, slot_mlm_norm_w);
    t.add("cls.predictions.transform.LayerNorm.bias", {h}, slot_mlm_norm_b);
    t.add("cls.predictions.bias", {d.vocab}, slot_mlm_bias);
    if (!d.tie_word_embeddings) t.add("cls.predictions.decoder.weight", {d.vocab, h}, slot_lm_head);
  }
  return t.rules;
}

// BertModel files have no cls.predictions: no logits then.
void bert_settle(PretrainedDims* d, const std::function<bool(const std::string&)>& has_tensor) {
  d->head = has_tensor("cls.predictions.bias") || has_tensor("cls.predictions.decoder.bias") ||
                    has_tensor("cls.predictions.transform.dense.weight")
                ? PRETRAINED_HEAD_MLM
                : PRETRAINED_HEAD_NONE;
}

}  // namespace

// Not used: the position_ids buffer, the pooler and the next-sentence head (BertForPreTraining), a tied decoder's copy
// and its bias (the same tensor as cls.predictions.bias).
extern const PretrainedArch kPretrainedBert = {
    "bert", "bert.", bert_config, bert_rules,
    {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias", "cls.seq_relationship.weight",
     "cls.seq_relationship.bias", "cls.predictions.decoder.weight", "cls.predictions.decoder.bias"},
    bert_settle};

}  // namespace attnplay
