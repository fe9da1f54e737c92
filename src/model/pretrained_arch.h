// attnplay model (private to the pretrained_*.cpp files): what an architecture's file uses to say its config.json
// fields and its name table in a few lines each. The contract an architecture fills is PretrainedArch (pretrained.h).
//
// Index
//   ConfigReader        config.json fields with their defaults, refused by field name
//   slot_*              the module tree's destinations (PretrainedWeights): where each rule's values land
//   RuleList            the name table, a rule a line
//   dims_divide         heads divide hidden, kv_heads divide heads, and so on
#pragma once

#include "model/pretrained.h"

#include <nlohmann/json.hpp>

namespace attnplay {

// config.json's fields, one call each; the first bad one is kept and named ("config.json: n_head must be ...").
class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& j, std::string* error) : j_(j), error_(error) {}
  int integer(const char* key, int def);                  // a positive integer, def when absent or null
  int integer_or_null(const char* key, int def) { return integer(key, def); }
  float number(const char* key, double def);              // a positive finite number
  bool boolean(const char* key, bool def);
  ActivationKind activation(const char* key, const char* def);  // gelu, gelu_new, relu, silu (refused otherwise)
  void refuse_true(const char* key, const char* what);    // true is refused: this build does not compute what it asks
  void refuse_false(const char* key, const char* what);
  void refuse_present(const char* key, const char* what); // any value but null (and absence) is refused
  bool ok() const { return ok_; }
  void fail(const std::string& message);

 private:
  const nlohmann::json& j_;
  std::string* error_;
  bool ok_ = true;
};

// Checks the dims fit together (head_dim set from hidden / heads when 0); false names the fields.
bool dims_divide(PretrainedDims* d, std::string* error);

// Destinations in the module tree. The layer's attention in_proj holds q (heads·head_dim rows), then k, then v
// (kv_heads·head_dim rows each), as MhaWeights lays them out.
float* slot_embedding(PretrainedWeights* w, int);
float* slot_positions(PretrainedWeights* w, int);
float* slot_token_type(PretrainedWeights* w, int);
float* slot_emb_norm_w(PretrainedWeights* w, int);
float* slot_emb_norm_b(PretrainedWeights* w, int);
float* slot_final_norm_w(PretrainedWeights* w, int);
float* slot_final_norm_b(PretrainedWeights* w, int);
float* slot_lm_head(PretrainedWeights* w, int);
float* slot_mlm_dense_w(PretrainedWeights* w, int);
float* slot_mlm_dense_b(PretrainedWeights* w, int);
float* slot_mlm_norm_w(PretrainedWeights* w, int);
float* slot_mlm_norm_b(PretrainedWeights* w, int);
float* slot_mlm_bias(PretrainedWeights* w, int);
float* slot_in_proj_w(PretrainedWeights* w, int layer);   // all rows (a fused q | k | v)
float* slot_q_w(PretrainedWeights* w, int layer);
float* slot_k_w(PretrainedWeights* w, int layer);
float* slot_v_w(PretrainedWeights* w, int layer);
float* slot_in_proj_b(PretrainedWeights* w, int layer);
float* slot_q_b(PretrainedWeights* w, int layer);
float* slot_k_b(PretrainedWeights* w, int layer);
float* slot_v_b(PretrainedWeights* w, int layer);
float* slot_out_proj_w(PretrainedWeights* w, int layer);
float* slot_out_proj_b(PretrainedWeights* w, int layer);
float* slot_norm1_w(PretrainedWeights* w, int layer);
float* slot_norm1_b(PretrainedWeights* w, int layer);
float* slot_norm2_w(PretrainedWeights* w, int layer);
float* slot_norm2_b(PretrainedWeights* w, int layer);
float* slot_up_w(PretrainedWeights* w, int layer);       // linear1 (the MLP's up projection, c_fc, intermediate)
float* slot_up_b(PretrainedWeights* w, int layer);
float* slot_gate_w(PretrainedWeights* w, int layer);     // a gated MLP's gate_proj
float* slot_down_w(PretrainedWeights* w, int layer);     // linear2 (down_proj, c_proj, output.dense)
float* slot_down_b(PretrainedWeights* w, int layer);

using PretrainedSlot = float* (*)(PretrainedWeights* w, int layer);
struct RuleList {
  std::vector<PretrainedTensorRule> rules;
  void add(const std::string& name, std::vector<int64_t> shape, PretrainedSlot slot,
           PretrainedPlace place = PRETRAINED_PLACE_COPY, bool optional = false) {
    PretrainedTensorRule r;
    r.name = name;
    r.shape = std::move(shape);
    r.dest = slot;
    r.place = place;
    r.optional = optional;
    rules.push_back(std::move(r));
  }
  void layer(const std::string& name, std::vector<int64_t> shape, PretrainedSlot slot,
             PretrainedPlace place = PRETRAINED_PLACE_COPY) {
    add(name, std::move(shape), slot, place);
    rules.back().per_layer = true;
  }
};

}  // namespace attnplay
