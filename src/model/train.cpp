// attnplay model: training. Contracts: train.h; the network, forward and backward: network.h (the one inference runs).
//
// Index
//   [Tasks]      train_task_*                  copy, reverse, sort, induction batches (seeded)
//   [Check]      train_check_config
//   [Gradients]  weights_params, train_loss_and_grads   net_forward, cross-entropy, net_backward per length (stacked)
//   [Steps]      train_state_init, train_optimizer_apply, train_step   SGD and Adam as torch.optim
#include "model/train.h"

#include "core/gemm.h"
#include "model/model.h"
#include "model/network.h"
#include "model/weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace attnplay {

// [Tasks] --------------------------------------------------------------------------------------------------
// The spellings of the CLI, the JS API and the Train panel.
static const char* const kTaskNames[TRAIN_TASK_COUNT] = {"copy", "reverse", "sort", "induction"};
static const char* const kOptimizerNames[TRAIN_OPTIMIZER_COUNT] = {"sgd", "adam"};

bool train_task_from_name(const std::string& name, TrainTask* out) {
  for (int t = 0; t < TRAIN_TASK_COUNT; ++t)
    if (name == kTaskNames[t]) {
      *out = TrainTask(t);
      return true;
    }
  return false;
}

const char* train_task_name(TrainTask task) { return task >= 0 && task < TRAIN_TASK_COUNT ? kTaskNames[task] : "?"; }

const char* train_optimizer_name(TrainOptimizer opt) {
  return opt >= 0 && opt < TRAIN_OPTIMIZER_COUNT ? kOptimizerNames[opt] : "?";
}

bool train_optimizer_from_name(const std::string& name, TrainOptimizer* out) {
  for (int o = 0; o < TRAIN_OPTIMIZER_COUNT; ++o)
    if (name == kOptimizerNames[o]) {
      *out = TrainOptimizer(o);
      return true;
    }
  return false;
}

bool train_task_causal(TrainTask task) { return task == TRAIN_TASK_INDUCTION; }

std::vector<std::string> train_task_vocab(int vocab) {
  std::vector<std::string> v;
  for (int i = 0; i < vocab; ++i) v.push_back(std::to_string(i));
  return v;
}

TrainBatch train_task_batch(TrainTask task, int length, int vocab, int batch, Rng* rng) {
  TrainBatch b;
  for (int s = 0; s < batch; ++s) {
    std::vector<int> x(static_cast<size_t>(length));
    for (int& t : x) t = int(rng_next_u64(rng) % uint64_t(vocab));
    std::vector<int> in = x, target = x;
    switch (task) {
      case TRAIN_TASK_COPY:
      case TRAIN_TASK_COUNT: break;
      case TRAIN_TASK_REVERSE: std::reverse(target.begin(), target.end()); break;
      case TRAIN_TASK_SORT: std::sort(target.begin(), target.end()); break;
      case TRAIN_TASK_INDUCTION: {
        // [a_1..a_L, f_1..f_k, a_1..a_L] with k random in [0, L): position t predicts token t+1, counted over the
        // second occurrence only. The random gap k means no fixed offset finds the answer: the model has to find
        // the earlier occurrence of the current token and copy what followed it (an induction head). The a_i are
        // distinct and the fillers avoid them (when the vocabulary allows), so that earlier occurrence is unique.
        std::vector<int> pool(static_cast<size_t>(vocab));
        std::iota(pool.begin(), pool.end(), 0);
        for (int i = 0; i < vocab - 1; ++i) std::swap(pool[size_t(i)], pool[size_t(i + int(rng_next_u64(rng) % uint64_t(vocab - i)))]);
        if (length <= vocab) x.assign(pool.begin(), pool.begin() + length);
        const int k = int(rng_next_u64(rng) % uint64_t(length));
        in = x;
        for (int f = 0; f < k; ++f)
          in.push_back(length < vocab ? pool[size_t(length + int(rng_next_u64(rng) % uint64_t(vocab - length)))]
                                      : int(rng_next_u64(rng) % uint64_t(vocab)));
        const size_t second = in.size();
        in.insert(in.end(), x.begin(), x.end());
        target.assign(in.size(), kIgnoreTarget);
        for (size_t t = second; t + 1 < in.size(); ++t) target[t] = in[t + 1];
        break;
      }
    }
    b.inputs.push_back(std::move(in));
    b.targets.push_back(std::move(target));
  }
  return b;
}

// [Check] --------------------------------------------------------------------------------------------------
bool train_check_config(const Config& c, std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  if (c.mode == MODEL_MODE_ATTENTION)
    return fail("train: mode must be \"transformer\" or \"seq2seq\" (training trains the tiny Transformer or the translator)");
  if (!c.attention.mask.padding.empty() || !c.attention.mask.cells.empty())
    return fail("train: attention.mask.padding and attention.mask.cells name positions of one text; training uses causal and window only");
  return true;
}

// [Gradients] ----------------------------------------------------------------------------------------------
TrainResult train_loss_and_grads(const Config& c, const ModelWeights& w, const TrainBatch& batch, bool causal,
                                 ModelWeights* grads) {
  *grads = weights_zeros_like(w);
  TrainResult r;
  for (const auto& t : batch.targets)
    for (int v : t) r.counted += v != kIgnoreTarget ? 1 : 0;
  if (r.counted == 0) return r;
  NetSpec spec = net_spec(c, w);       // the network model_compute runs (network.h)
  const GemmWeightScope packed_once;    // w is const here: each weight matrix is packed once for all sequences
  NetOptions o;
  o.for_backward = true;
  // Kept from call to call: a step's activations (a few MB for the Train panel's model) land in the last step's
  // buffers. Natively, fresh buffers of that size are mmaps, and their page faults took 9 % of a step.
  thread_local NetActs acts;
  double loss = 0;
  int correct = 0;
  // The sequences of one length go through the network together, stacked (NetSpec::segment): one product per
  // linear layer for all of them instead of one per sequence (issue 14: the products were 24 rows tall). Toy tasks
  // have one length per batch; given data may have several.
  std::vector<int> lengths;
  for (const auto& ids : batch.inputs)
    if (std::find(lengths.begin(), lengths.end(), int(ids.size())) == lengths.end()) lengths.push_back(int(ids.size()));
  std::vector<int> ids, targets;
  Mat d_logits;
  for (const int n : lengths) {
    if (n == 0) continue;
    ids.clear();
    targets.clear();
    for (size_t s = 0; s < batch.inputs.size(); ++s)
      if (int(batch.inputs[s].size()) == n) {
        ids.insert(ids.end(), batch.inputs[s].begin(), batch.inputs[s].end());
        targets.insert(targets.end(), batch.targets[s].begin(), batch.targets[s].end());
      }
    MaskSpec mask_spec;
    mask_spec.causal = causal || c.attention.mask.causal;
    mask_spec.window = c.attention.mask.window;
    const bool has_mask = !mask_spec_is_empty(mask_spec);
    const MaskMat mask = has_mask ? mask_build(mask_spec, n, n) : MaskMat();
    spec.segment = n;
    net_forward(spec, w, ids, has_mask ? &mask : nullptr, o, &acts);
    loss += cross_entropy_forward_backward(acts.logits, targets, r.counted, &d_logits, &correct);
    net_backward(spec, w, ids, acts, d_logits, grads);
  }
  r.loss = loss / r.counted;
  r.accuracy = double(correct) / r.counted;
  return r;
}

// [Steps] --------------------------------------------------------------------------------------------------
void train_state_init(TrainState* s, ModelWeights weights) {
  s->weights = std::move(weights);
  s->adam_m = weights_zeros_like(s->weights);
  s->adam_v = weights_zeros_like(s->weights);
  s->step = 0;
}

// One tensor's Adam update. The four arrays never overlap (separate ModelWeights): __restrict lets the compiler
// vectorise the loop (sqrt and division stay IEEE per element, so the numbers are the scalar loop's).
constexpr float kAdamBeta1 = 0.9f, kAdamBeta2 = 0.999f, kAdamEps = 1e-8f;  // torch.optim.Adam's defaults
static void adam_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, size_t n,
                        float step_size, float bc2_sqrt) {
  for (size_t i = 0; i < n; ++i) {
    const float gi = g[i];
    m[i] = m[i] * kAdamBeta1 + gi * (1.0f - kAdamBeta1);
    v[i] = v[i] * kAdamBeta2 + gi * gi * (1.0f - kAdamBeta2);
    const float denom = std::sqrt(v[i]) / bc2_sqrt + kAdamEps;
    p[i] -= step_size * (m[i] / denom);
  }
}

void train_optimizer_apply(TrainState* s, ModelWeights* g, TrainOptimizer opt, float lr) {
  ++s->step;
  const std::vector<ParamRef> ps = weights_params(&s->weights), gs = weights_params(g);
  if (opt == TRAIN_OPTIMIZER_SGD) {
    for (size_t t = 0; t < ps.size(); ++t)
      for (size_t i = 0; i < ps[t].size; ++i) ps[t].data[i] -= lr * gs[t].data[i];  // torch.optim.SGD: p.add_(g, alpha=-lr)
    return;
  }
  // torch.optim.Adam (single-tensor path): m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
  // p -= (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
  const std::vector<ParamRef> ms = weights_params(&s->adam_m), vs = weights_params(&s->adam_v);
  const double bc1 = 1.0 - std::pow(double(kAdamBeta1), double(s->step)), bc2 = 1.0 - std::pow(double(kAdamBeta2), double(s->step));
  const float step_size = float(lr / bc1), bc2_sqrt = float(std::sqrt(bc2));
  for (size_t t = 0; t < ps.size(); ++t) adam_update(ps[t].data, gs[t].data, ms[t].data, vs[t].data, ps[t].size, step_size, bc2_sqrt);
}

TrainResult train_step(const Config& c, TrainState* s, const TrainBatch& batch, bool causal, TrainOptimizer opt, float lr) {
  ModelWeights g;
  const TrainResult r = train_loss_and_grads(c, s->weights, batch, causal, &g);
  train_optimizer_apply(s, &g, opt, lr);
  return r;
}

}  // namespace attnplay
