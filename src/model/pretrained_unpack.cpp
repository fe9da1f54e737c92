// attnplay model: a pretrained compute's bytes read back (pretrained_pack.h), and SPEC §9's result JSON of a trace
// (pretrained.h). Apart from the compute (pretrained_pack.cpp) so that the page's app, which only reads what its
// worker computed, links neither the engine nor the tokenizers.
#include "model/pretrained_pack.h"

#include "core/assert.h"
#include "model/head_scores.h"
#include "model/safetensors.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

namespace attnplay {

using json = nlohmann::json;

std::string pretrained_result_json(const Trace& t, const PretrainedRequest& r) {
  std::string s = model_result_json(t);  // {"tokens":...,"layers":...,"logits"?...} (no vocab: the tokenizer has it)
  const std::string key = "{\"tokens\":";
  ATTNPLAY_ASSERT(s.compare(0, key.size(), key) == 0);
  s.insert(1, "\"token_ids\":" + json(r.ids).dump() + ",");  // beside tokens (SPEC §9)
  return s;
}

namespace {

// A field out of its range (any number a buffer could hold: never cast where C++ leaves the result undefined).
struct BadField {
  std::string what;
};
int int_of(const json& j, const std::string& what, long long lo, long long hi) {
  if (!j.is_number_integer()) throw BadField{what + " is not an integer"};
  const bool big = j.is_number_unsigned() && j.get<unsigned long long>() > 0x7fffffffffffffffull;
  const long long x = big ? hi + 1 : j.get<long long>();
  if (x < lo || x > hi) throw BadField{what + " is out of range"};
  return int(x);
}
std::vector<int> ints_of(const json& j, const std::string& what, long long lo, long long hi) {
  if (!j.is_array()) throw BadField{what + " is not a list"};
  std::vector<int> out;
  for (const json& e : j) out.push_back(int_of(e, what, lo, hi));
  return out;
}
float float_of(const json& j, const std::string& what) {
  if (!j.is_number()) throw BadField{what + " is not a number"};
  const double x = j.get<double>();
  if (!(std::fabs(x) <= double(std::numeric_limits<float>::max()))) throw BadField{what + " is not a finite float32"};
  return float(x);
}

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

bool top_rows(Reader* rd, const json& meta, const std::string& prefix, const char* tokens_key, int n, int vocab,
              PretrainedTopRows* out) {
  if (!rd->h.tensors.count(prefix + ".ids")) return true;
  Mat ids, probs;
  const std::vector<int64_t>& shape = rd->h.tensors.at(prefix + ".ids").shape;
  if (shape.size() != 2) return rd->fail(prefix + ".ids has another shape than the trace's");
  const int64_t top = shape[1];
  if (!rd->mat(prefix + ".ids", n, top, &ids) || !rd->mat(prefix + ".probs", n, top, &probs)) return false;
  if (!meta.contains(tokens_key) || !meta[tokens_key].is_array() || int(meta[tokens_key].size()) != n)
    return rd->fail(std::string(tokens_key) + " is missing or not one row per token");
  for (Eigen::Index i = 0; i < ids.size(); ++i) {
    const float id = ids.data()[i];
    if (!(id >= 0 && id < float(vocab) && id == std::floor(id))) return rd->fail(prefix + ".ids holds a value that is not a token id");
  }
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
    v.ids = ints_of(meta["ids"], "ids", 0, std::numeric_limits<int>::max());
    v.info_json = meta["info"].get<std::string>();
    const json info = json::parse(v.info_json);
    const int n = int(t.tokens.size());
    if (n == 0 || int(v.ids.size()) != n || int(v.tokens.size()) != n) return rd.fail("tokens, display and ids differ in length (or are empty)");
    const int layers = int_of(info.at("layers"), "info.layers", 1, 1 << 20), heads = int_of(info.at("heads"), "info.heads", 1, 1 << 20);
    const int head_dim = int_of(info.at("head_dim"), "info.head_dim", 1, 1 << 20);
    const int hidden = int_of(info.at("hidden_size"), "info.hidden_size", 1, 1 << 24);
    const int vocab = int_of(info.at("vocab_size"), "info.vocab_size", 1, 1 << 24);
    for (int id : v.ids)
      if (id >= vocab) return rd.fail("ids holds an id past vocab_size");
    // (every head has its tensors: the counts are bounded by the buffer before anything is sized by them)
    if (layers <= 0 || heads <= 0 || head_dim <= 0 || hidden <= 0 || double(layers) * heads * 4 > double(rd.h.tensors.size()))
      return rd.fail("info's layers and heads do not match the tensors");
    t.lean = meta["lean"].get<bool>();
    const json& a = meta["attention"];
    t.attention.spec.kind = ATTENTION_KIND_SCALED_DOT;
    t.attention.spec.temperature = float_of(a.at("temperature"), "attention.temperature");
    t.attention.scale_divisor = float_of(a.at("scale_divisor"), "attention.scale_divisor");
    MaskSpec& ms = t.attention.spec.mask;
    ms.causal = a.at("causal").get<bool>();
    ms.window = a.at("window").is_null() ? -1 : int_of(a.at("window"), "attention.window", -1, 1 << 24);
    ms.padding = ints_of(a.at("padding"), "attention.padding", 0, n - 1);
    for (const json& c : a.at("cells"))
      ms.cells.push_back({int_of(c.at(0), "attention.cells", 0, n - 1), int_of(c.at(1), "attention.cells", 0, n - 1)});
    t.fully_masked_rows = ints_of(meta["fully_masked_rows"], "fully_masked_rows", 0, n - 1);
    t.warnings = meta["warnings"].get<std::vector<std::string>>();
    if (meta.contains("head_scores") && meta["head_scores"].is_object()) {
      for (int k = 0; k < HEAD_SCORE_COUNT; ++k) {
        Mat m = Mat::Constant(layers, heads, std::numeric_limits<float>::quiet_NaN());
        const json& rows = meta["head_scores"].at(kHeadScores[k].name);
        for (int l = 0; l < layers; ++l)
          for (int h = 0; h < heads; ++h)
            if (!rows.at(size_t(l)).at(size_t(h)).is_null()) m(l, h) = float_of(rows[size_t(l)][size_t(h)], "head_scores");
        v.head_scores.push_back(std::move(m));
      }
    }
    if (meta.contains("mask_token") && meta["mask_token"].is_array()) {
      v.mask_token_id = int_of(meta["mask_token"].at(0), "mask_token", 0, vocab - 1);
      v.mask_token = meta["mask_token"].at(1).get<std::string>();
    }
    v.stats = {int_of(meta["stats"].at("recomputed_from_layer"), "stats", 0, layers),
               int_of(meta["stats"].at("rows_computed"), "stats", 0, n)};
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
    if (t.logits.size() && t.logits.cols() != vocab) return rd.fail("logits has another width than vocab_size");
    if (!top_rows(&rd, meta, "predictions", "prediction_tokens", n, vocab, &v.predictions) ||
        !top_rows(&rd, meta, "baseline", "baseline_tokens", n, vocab, &v.baseline))
      return false;
  } catch (const json::exception& e) {
    return rd.fail(std::string("malformed metadata (") + e.what() + ")");
  } catch (const BadField& b) {
    return rd.fail(b.what);
  } catch (const std::bad_alloc&) {  // (a shape whose product overflows, or more than this heap holds)
    return rd.fail("a tensor is larger than this heap can hold");
  }
  *out = std::move(v);
  return true;
}

}  // namespace attnplay
