// attnplay model: the ablation sweep. Contracts: pretrained_sweep.h.
#include "model/pretrained_sweep.h"

#include "core/assert.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace attnplay {

using json = nlohmann::json;

namespace {

// softmax(logits[row])[token], in double (a 50k-token row's sum).
float token_prob(const Mat& logits, int row, int token) {
  const auto r = logits.row(row);
  const double mx = r.maxCoeff();
  double sum = 0;
  for (Eigen::Index j = 0; j < r.size(); ++j) sum += std::exp(double(r(j)) - mx);
  return float(std::exp(double(r(token)) - mx) / sum);
}

bool run(const PretrainedRef& ref, const PretrainedRequest& r, int row, int token, float* prob, std::string* error) {
  Trace own;
  if (!pretrained_compute(*ref.model, r, ref.cache.get(), ref.cache ? nullptr : &own, error)) return false;
  *prob = token_prob((ref.cache ? pretrained_cache_trace(*ref.cache) : own).logits, row, token);
  return true;
}

}  // namespace

bool pretrained_sweep_begin(const Config& c, const PretrainedRef& ref, int position, int token, PretrainedSweep* s,
                            std::string* error) {
  ATTNPLAY_ASSERT(ref.model && s);
  const PretrainedModel& m = *ref.model;
  if (m.dims.head == PRETRAINED_HEAD_NONE)
    return *error = "sweep: this model has no LM head (no predictions to follow)", false;
  PretrainedSweep out;
  if (!pretrained_request(c, m, &out.base, error)) return false;
  const int n = int(out.base.ids.size());
  if (position >= n) return *error = "sweep: position " + std::to_string(position) + " is past the last token (" + std::to_string(n - 1) + ")", false;
  out.position = position < 0 ? n - 1 : position;
  out.base.ablate.clear();
  if (out.base.mask.causal) {  // rows after the position cannot change its prediction: leave them out
    out.base.ids.resize(size_t(out.position) + 1);
    out.base.tokens.resize(size_t(out.position) + 1);
    out.base.logits = PRETRAINED_LOGITS_LAST;
    out.row = 0;
  } else {
    out.base.logits = PRETRAINED_LOGITS_ALL;
    out.row = out.position;
  }
  Trace own;
  if (!pretrained_compute(m, out.base, ref.cache.get(), ref.cache ? nullptr : &own, error)) return false;
  const Mat& logits = (ref.cache ? pretrained_cache_trace(*ref.cache) : own).logits;
  if (token >= m.dims.vocab) return *error = "sweep: token " + std::to_string(token) + " is past the vocabulary (" + std::to_string(m.dims.vocab) + ")", false;
  if (token < 0) logits.row(out.row).maxCoeff(&token);
  out.token = token;
  out.baseline = token_prob(logits, out.row, token);
  const std::string* t = m.has_tokenizer ? hf_tokenizer_id_to_token(m.tokenizer, token) : nullptr;
  out.token_str = t ? *t : std::to_string(token);
  out.display = m.has_tokenizer ? hf_tokenizer_display(m.tokenizer, token) : std::to_string(token);
  out.total = m.dims.layers * m.dims.heads;
  out.probs = Mat::Constant(m.dims.layers, m.dims.heads, std::numeric_limits<float>::quiet_NaN());
  *s = std::move(out);
  return true;
}

bool pretrained_sweep_step(const PretrainedRef& ref, PretrainedSweep* s, std::string* error) {
  ATTNPLAY_ASSERT(ref.model && s);
  if (s->finished()) return true;
  const int heads = int(s->probs.cols());
  const int l = s->done / heads, h = s->done % heads;
  PretrainedRequest r = s->base;
  r.ablate = {{l, h}};
  float p = 0;
  if (!run(ref, r, s->row, s->token, &p, error)) return false;
  s->probs(l, h) = p;
  ++s->done;
  return true;
}

std::string pretrained_sweep_json(const PretrainedSweep& s) {
  json probs = json::array(), ranking = json::array();
  std::vector<std::pair<int, int>> order;
  for (Eigen::Index l = 0; l < s.probs.rows(); ++l) {
    json row = json::array();
    for (Eigen::Index h = 0; h < s.probs.cols(); ++h) {
      const float p = s.probs(l, h);
      row.push_back(std::isnan(p) ? json() : json(p));
      if (!std::isnan(p)) order.push_back({int(l), int(h)});
    }
    probs.push_back(row);
  }
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) {
    return std::fabs(s.probs(a.first, a.second) - s.baseline) > std::fabs(s.probs(b.first, b.second) - s.baseline);
  });
  for (const auto& [l, h] : order) ranking.push_back({l, h, s.probs(l, h) - s.baseline});
  return json{{"position", s.position}, {"token_id", s.token}, {"token", s.token_str}, {"display", s.display},
              {"baseline", s.baseline}, {"layers", s.probs.rows()}, {"heads", s.probs.cols()}, {"done", s.done},
              {"probs", probs}, {"ranking", ranking}}.dump();
}

}  // namespace attnplay
