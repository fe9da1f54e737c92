// attnplay model: a pretrained compute as bytes and back. Contracts and the format: pretrained_pack.h.
#include "model/pretrained_pack.h"

#include "core/attention.h"
#include "core/assert.h"
#include "model/head_scores.h"
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace attnplay {

using json = nlohmann::json;

PretrainedTopRows pretrained_top(const PretrainedModel& m, const Mat& logits, int top) {
  PretrainedTopRows out(size_t(logits.rows()));
  const int vocab = int(logits.cols());
  const int k = std::min(top, vocab);
  std::vector<int> order(static_cast<size_t>(vocab));
  for (Eigen::Index i = 0; i < logits.rows(); ++i) {
    const auto row = logits.row(i);
    const float mx = row.maxCoeff();
    double sum = 0;
    for (int j = 0; j < vocab; ++j) sum += std::exp(double(row(j)) - mx);
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
      return row(a) > row(b) || (row(a) == row(b) && a < b);
    });
    for (int r = 0; r < k; ++r) {
      const int id = order[size_t(r)];
      const std::string* t = m.has_tokenizer ? hf_tokenizer_id_to_token(m.tokenizer, id) : nullptr;
      out[size_t(i)].push_back({id, float(std::exp(double(row(id)) - mx) / sum), t ? *t : std::to_string(id),
                                m.has_tokenizer ? hf_tokenizer_display(m.tokenizer, id) : std::to_string(id)});
    }
  }
  return out;
}

namespace {

// The tensors of one file, written straight from the trace's matrices (no second copy of the maps).
struct PackEntry {
  std::string name;
  std::vector<int64_t> shape;
  const float* data;
  size_t count;
};

void add(std::vector<PackEntry>* e, std::string name, const Mat& m) {
  if (m.size() == 0) return;
  e->push_back({std::move(name), {int64_t(m.rows()), int64_t(m.cols())}, m.data(), size_t(m.size())});
}

void add_top(std::vector<PackEntry>* e, std::vector<std::vector<float>>* keep, const std::string& prefix,
             const PretrainedTopRows& rows, json* tokens) {
  if (rows.empty()) return;
  const size_t top = rows[0].size();
  std::vector<float> ids, probs;
  *tokens = json::array();
  for (const auto& r : rows) {
    json row = json::array();
    for (const PretrainedTokenProb& p : r) {
      ids.push_back(float(p.id));  // ids below 2^24 are exact in float32 (vocabularies are far smaller)
      probs.push_back(p.prob);
      row.push_back({p.token, p.display});
    }
    tokens->push_back(std::move(row));
  }
  keep->push_back(std::move(ids));
  e->push_back({prefix + ".ids", {int64_t(rows.size()), int64_t(top)}, keep->back().data(), keep->back().size()});
  keep->push_back(std::move(probs));
  e->push_back({prefix + ".probs", {int64_t(rows.size()), int64_t(top)}, keep->back().data(), keep->back().size()});
}

std::vector<uint8_t> write(const std::vector<PackEntry>& entries, const json& metadata) {
  json header = json::object();
  size_t offset = 0;
  for (const PackEntry& p : entries) {
    header[p.name] = {{"dtype", "F32"}, {"shape", p.shape}, {"data_offsets", {offset, offset + p.count * 4}}};
    offset += p.count * 4;
  }
  json meta = json::object();
  for (const auto& [k, v] : metadata.items()) meta[k] = v.is_string() ? v.get<std::string>() : v.dump();
  header["__metadata__"] = meta;
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');
  std::vector<uint8_t> out(8 + h.size() + offset);
  const uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  uint8_t* d = out.data() + 8 + h.size();
  for (const PackEntry& p : entries) {
    std::memcpy(d, p.data, p.count * 4);
    d += p.count * 4;
  }
  return out;
}

}  // namespace

bool pretrained_compute_packed(const Config& c, const PretrainedRef& ref, const PretrainedPackOptions& o,
                               std::vector<uint8_t>* out, std::string* error) {
  ATTNPLAY_ASSERT(ref.model);
  const PretrainedModel& m = *ref.model;
  PretrainedRequest r;
  if (!pretrained_request(c, m, &r, error)) return false;
  const int n = int(r.ids.size());
  const bool want_logits = m.dims.head != PRETRAINED_HEAD_NONE;
  r.logits = want_logits ? PRETRAINED_LOGITS_ALL : PRETRAINED_LOGITS_NONE;  // predictions at every row
  PretrainedTopRows baseline;
  if (!r.ablate.empty() && want_logits) {
    PretrainedRequest plain = r;
    plain.ablate.clear();
    Trace bt;
    if (!pretrained_compute(m, plain, ref.cache.get(), ref.cache ? nullptr : &bt, error)) return false;
    baseline = pretrained_top(m, (ref.cache ? pretrained_cache_trace(*ref.cache) : bt).logits, o.top);
  }
  Trace own;
  if (!pretrained_compute(m, r, ref.cache.get(), ref.cache ? nullptr : &own, error)) return false;
  const Trace& t = ref.cache ? pretrained_cache_trace(*ref.cache) : own;
  const PretrainedTopRows predictions = want_logits ? pretrained_top(m, t.logits, o.top) : PretrainedTopRows();

  const int layers = int(t.layers.size()), heads = int(t.layers[0].heads.size());
  const bool lean = 2.0 * layers * heads * double(n) * n * 4.0 > o.max_matrix_bytes;
  const int fl = std::clamp(o.focus_layer, 0, layers - 1), fh = std::clamp(o.focus_head, 0, heads - 1);
  std::vector<PackEntry> e;
  std::vector<Mat> thumbs;  // lean heads' thumbnails, alive until written
  thumbs.reserve(size_t(layers * heads));
  std::vector<std::vector<float>> keep;
  keep.reserve(8);
  for (int l = 0; l < layers; ++l) {
    const LayerTrace& lt = t.layers[size_t(l)];
    const std::string lp = "layers." + std::to_string(l);
    add(&e, lp + ".output", lt.output);
    for (int h = 0; h < heads; ++h) {
      const HeadTrace& ht = lt.heads[size_t(h)];
      const std::string hp = lp + ".heads." + std::to_string(h);
      add(&e, hp + ".q", ht.q);
      add(&e, hp + ".k", ht.k);
      add(&e, hp + ".v", ht.v);
      add(&e, hp + ".context", ht.attn.context);
      if (ht.attn.row_lse.size())
        e.push_back({hp + ".row_lse", {int64_t(ht.attn.row_lse.size())}, ht.attn.row_lse.data(), size_t(ht.attn.row_lse.size())});
      if (!lean || (l == fl && h == fh) || ht.attn.overflowed) {
        add(&e, hp + ".scores", ht.attn.scores);
        add(&e, hp + ".weights", ht.attn.weights);
      }
      if (lean) {
        thumbs.push_back(attention_thumbnail(ht.attn.weights, o.thumb));
        add(&e, hp + ".thumb", thumbs.back());
      }
    }
  }
  Mat mask;
  if (t.attention.mask.size()) {
    mask = t.attention.mask.cast<float>().matrix();
    add(&e, "mask", mask);
  }
  if (want_logits && double(n) * t.logits.cols() * 4.0 <= o.max_logit_bytes) add(&e, "logits", t.logits);
  json meta = json::object();
  json pred_tokens, base_tokens;
  add_top(&e, &keep, "predictions", predictions, &pred_tokens);
  add_top(&e, &keep, "baseline", baseline, &base_tokens);
  if (!predictions.empty()) meta["prediction_tokens"] = pred_tokens;
  if (!baseline.empty()) meta["baseline_tokens"] = base_tokens;
  meta["tokens"] = t.tokens;
  json display = json::array();
  for (int id : r.ids) display.push_back(m.has_tokenizer ? hf_tokenizer_display(m.tokenizer, id) : std::to_string(id));
  meta["display"] = display;
  meta["ids"] = r.ids;
  meta["info"] = pretrained_info_json(m);
  const MaskSpec& ms = t.attention.spec.mask;
  json cells = json::array();
  for (const auto& [i, j] : ms.cells) cells.push_back({i, j});
  meta["attention"] = json{{"temperature", t.attention.spec.temperature}, {"scale_divisor", t.attention.scale_divisor},
                           {"causal", ms.causal}, {"window", ms.window}, {"padding", ms.padding}, {"cells", cells}};
  meta["mask_token"] = nullptr;
  for (const char* name : {"[MASK]", "<mask>"})
    if (const int id = m.has_tokenizer ? hf_tokenizer_token_to_id(m.tokenizer, name) : -1; id >= 0 && meta["mask_token"].is_null())
      meta["mask_token"] = json::array({id, name});
  meta["lean"] = lean;
  const std::vector<Mat> scores = head_scores(t);  // (every head's weights are still here: the finder sees them all)
  json hs = json::object();
  for (int k = 0; k < HEAD_SCORE_COUNT; ++k) {
    json rows = json::array();
    for (int l = 0; l < layers; ++l) {
      json row = json::array();
      for (int h = 0; h < heads; ++h) row.push_back(std::isfinite(scores[size_t(k)](l, h)) ? json(scores[size_t(k)](l, h)) : json());
      rows.push_back(row);
    }
    hs[kHeadScores[k].name] = rows;
  }
  meta["head_scores"] = hs;
  meta["fully_masked_rows"] = t.fully_masked_rows;
  meta["warnings"] = t.warnings;
  PretrainedStats st = ref.cache ? pretrained_cache_stats(*ref.cache) : PretrainedStats{0, n};
  meta["stats"] = json{{"recomputed_from_layer", st.recomputed_from_layer}, {"rows_computed", st.rows_computed}};
  *out = write(e, meta);
  return true;
}

}  // namespace attnplay
