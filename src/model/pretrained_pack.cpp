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

namespace {

struct Reader {
  const uint8_t* bytes;
  SafeTensorsHeader h;
  std::string* error;
  bool fail(const std::string& what) {
    if (error) *error = "pretrained result: " + what;
    return false;
  }
  // The tensor as [rows, cols] into *m (-1: any size there; cols 0: a vector of rows values); absent and optional:
  // true, m empty.
  bool mat(const std::string& name, int64_t rows, int64_t cols, Mat* m, bool optional = false) {
    const auto it = h.tensors.find(name);
    if (it == h.tensors.end()) return optional ? true : fail(name + " is missing");
    const SafeTensorEntry& t = it->second;
    const size_t rank = cols == 0 ? 1 : 2;
    if (t.dtype != "F32") return fail(name + " is " + t.dtype + ", not F32");
    if (t.shape.size() != rank || (rows >= 0 && t.shape[0] != rows) || (rank == 2 && cols > 0 && t.shape[1] != cols))
      return fail(name + " has another shape than the trace's");
    const int64_t r = t.shape[0], c = t.shape.size() > 1 ? t.shape[1] : 1;
    m->resize(r, c);
    std::memcpy(m->data(), bytes + t.begin, size_t(r * c) * 4);
    return true;
  }
};

bool top_rows(Reader* rd, const json& meta, const std::string& prefix, const char* tokens_key, int n, PretrainedTopRows* out) {
  if (!rd->h.tensors.count(prefix + ".ids")) return true;
  Mat ids, probs;
  const int64_t top = rd->h.tensors.at(prefix + ".ids").shape.back();
  if (!rd->mat(prefix + ".ids", n, top, &ids) || !rd->mat(prefix + ".probs", n, top, &probs)) return false;
  if (!meta.contains(tokens_key) || !meta[tokens_key].is_array() || int(meta[tokens_key].size()) != n)
    return rd->fail(std::string(tokens_key) + " is missing or not one row per token");
  out->assign(size_t(n), {});
  for (int i = 0; i < n; ++i)
    for (int64_t j = 0; j < top; ++j)
      (*out)[size_t(i)].push_back({int(ids(i, j)), probs(i, j), meta[tokens_key][size_t(i)].at(size_t(j)).at(0).get<std::string>(),
                                   meta[tokens_key][size_t(i)].at(size_t(j)).at(1).get<std::string>()});
  return true;
}

}  // namespace

bool pretrained_unpack(const uint8_t* bytes, size_t size, PretrainedView* out, std::string* error) {
  Reader rd{bytes, {}, error};
  if (!safetensors_read_header(bytes, size, size, "pretrained result", &rd.h, error)) return false;
  PretrainedView v;
  try {
    json meta = json::object();
    for (const auto& [k, s] : rd.h.metadata) meta[k] = k == "info" ? json(s) : json::parse(s);
    for (const char* k : {"tokens", "display", "ids", "info", "attention", "lean", "fully_masked_rows", "warnings", "stats"})
      if (!meta.contains(k)) return rd.fail(std::string("metadata ") + k + " is missing");
    Trace& t = v.trace;
    v.tokens = meta["tokens"].get<std::vector<std::string>>();
    t.tokens = meta["display"].get<std::vector<std::string>>();
    t.key_tokens = t.tokens;
    v.ids = meta["ids"].get<std::vector<int>>();
    v.info_json = meta["info"].get<std::string>();
    const json info = json::parse(v.info_json);
    const int n = int(t.tokens.size());
    if (n == 0 || int(v.ids.size()) != n || int(v.tokens.size()) != n) return rd.fail("tokens, display and ids differ in length (or are empty)");
    const int layers = info.at("layers").get<int>(), heads = info.at("heads").get<int>();
    const int head_dim = info.at("head_dim").get<int>(), hidden = info.at("hidden_size").get<int>();
    t.lean = meta["lean"].get<bool>();
    const json& a = meta["attention"];
    t.attention.spec.kind = ATTENTION_KIND_SCALED_DOT;
    t.attention.spec.temperature = a.at("temperature").get<float>();
    t.attention.scale_divisor = a.at("scale_divisor").get<float>();
    MaskSpec& ms = t.attention.spec.mask;
    ms.causal = a.at("causal").get<bool>();
    ms.window = a.at("window").get<int>();
    ms.padding = a.at("padding").get<std::vector<int>>();
    for (const json& c : a.at("cells")) ms.cells.push_back({c.at(0).get<int>(), c.at(1).get<int>()});
    t.fully_masked_rows = meta["fully_masked_rows"].get<std::vector<int>>();
    t.warnings = meta["warnings"].get<std::vector<std::string>>();
    if (meta.contains("head_scores") && meta["head_scores"].is_object()) {
      for (int k = 0; k < HEAD_SCORE_COUNT; ++k) {
        Mat m = Mat::Constant(layers, heads, std::numeric_limits<float>::quiet_NaN());
        const json& rows = meta["head_scores"].at(kHeadScores[k].name);
        for (int l = 0; l < layers; ++l)
          for (int h = 0; h < heads; ++h)
            if (!rows.at(size_t(l)).at(size_t(h)).is_null()) m(l, h) = rows[size_t(l)][size_t(h)].get<float>();
        v.head_scores.push_back(std::move(m));
      }
    }
    if (meta.contains("mask_token") && meta["mask_token"].is_array()) {
      v.mask_token_id = meta["mask_token"].at(0).get<int>();
      v.mask_token = meta["mask_token"].at(1).get<std::string>();
    }
    v.stats = {meta["stats"].at("recomputed_from_layer").get<int>(), meta["stats"].at("rows_computed").get<int>()};
    std::vector<uint8_t> fully(size_t(n), 0);
    for (int r : t.fully_masked_rows) {
      if (r < 0 || r >= n) return rd.fail("fully_masked_rows holds a row out of range");
      fully[size_t(r)] = 1;
    }
    Mat mask;
    if (!rd.mat("mask", n, n, &mask, true)) return false;
    if (mask.size()) t.attention.mask = (mask.array() != 0.0f).cast<uint8_t>();
    t.layers.resize(size_t(layers));
    for (int l = 0; l < layers; ++l) {
      LayerTrace& lt = t.layers[size_t(l)];
      const std::string lp = "layers." + std::to_string(l);
      if (!rd.mat(lp + ".output", n, hidden, &lt.output)) return false;
      lt.heads.resize(size_t(heads));
      for (int h = 0; h < heads; ++h) {
        HeadTrace& ht = lt.heads[size_t(h)];
        const std::string hp = lp + ".heads." + std::to_string(h);
        Mat lse;
        if (!rd.mat(hp + ".q", n, head_dim, &ht.q) || !rd.mat(hp + ".k", n, head_dim, &ht.k) ||
            !rd.mat(hp + ".v", n, head_dim, &ht.v) || !rd.mat(hp + ".context", n, head_dim, &ht.attn.context) ||
            !rd.mat(hp + ".row_lse", n, 0, &lse, true) || !rd.mat(hp + ".scores", n, n, &ht.attn.scores, t.lean) ||
            !rd.mat(hp + ".weights", n, n, &ht.attn.weights, t.lean) || !rd.mat(hp + ".thumb", -1, -1, &ht.attn.thumb, !t.lean))
          return false;
        if (lse.size()) ht.attn.row_lse = Eigen::Map<const Vec>(lse.data(), n);
        if (t.lean && ht.attn.row_lse.size() == 0 && ht.attn.weights.size() == 0) return rd.fail(hp + ".row_lse is missing");
        ht.attn.fully_masked = fully;
      }
    }
    if (!rd.mat("logits", n, -1, &t.logits, true)) return false;
    if (t.logits.size() && t.logits.cols() != info.at("vocab_size").get<int>()) return rd.fail("logits has another width than vocab_size");
    if (!top_rows(&rd, meta, "predictions", "prediction_tokens", n, &v.predictions) ||
        !top_rows(&rd, meta, "baseline", "baseline_tokens", n, &v.baseline))
      return false;
  } catch (const json::exception& e) {
    return rd.fail(std::string("malformed metadata (") + e.what() + ")");
  }
  *out = std::move(v);
  return true;
}

}  // namespace attnplay
