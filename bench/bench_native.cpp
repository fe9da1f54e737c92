// attnplay native benchmarks (Google Benchmark): multi-head self-attention with four d_model×d_model projections,
// the same mha_batched kernel the WASM core runs, at the sizes of the web benchmark (bench/bench_core.mjs).
#include "core/layers.h"
#include "model/model.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

namespace {

std::vector<float> random_vec(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(gen);
  return v;
}

// args: n, d_model, heads, causal
void BM_MultiHeadAttention(benchmark::State& state) {
  const int n = int(state.range(0)), d = int(state.range(1)), heads = int(state.range(2));
  const bool causal = state.range(3) != 0;
  const auto x = random_vec(size_t(n) * d, 1), wq = random_vec(size_t(d) * d, 2), wk = random_vec(size_t(d) * d, 3),
             wv = random_vec(size_t(d) * d, 4), wo = random_vec(size_t(d) * d, 5);
  std::vector<float> out(size_t(n) * d);
  for (auto _ : state) {
    attnplay::mha_batched(x.data(), wq.data(), wk.data(), wv.data(), wo.data(), n, d, heads, causal, out.data(), nullptr);
    benchmark::DoNotOptimize(out.data());
  }
  // 4 projections (2·n·d² each) + QKᵀ and P·V (2·n²·d each)
  state.counters["GFLOP/s"] = benchmark::Counter(8.0 * n * d * d + 4.0 * n * n * d, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}
BENCHMARK(BM_MultiHeadAttention)->Args({256, 128, 8, 0})->Args({1024, 256, 8, 0})->Args({1024, 256, 8, 1})->Args({2048, 256, 8, 0})
    ->Unit(benchmark::kMillisecond);

// The whole JSON path the CLI takes: parse, seeded weights, forward, result JSON (default transformer, 512 tokens).
void BM_ComputeJsonTransformer512(benchmark::State& state) {
  std::string text;
  for (int i = 0; i < 512; ++i) text += "w" + std::to_string(i % 50) + " ";
  const std::string cfg = R"({"mode": "transformer", "d_model": 64, "heads": 4, "text": ")" + text + "\"}";
  std::string result, error;
  for (auto _ : state) {
    if (!attnplay::model_compute_json(cfg, nullptr, 0, &result, &error)) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(result.data());
  }
}
BENCHMARK(BM_ComputeJsonTransformer512)->Unit(benchmark::kMillisecond);

// The forward pass the playground runs on every edit (no JSON): default transformer of issue 5, n tokens.
void BM_ModelComputeTransformer(benchmark::State& state) {
  const int n = int(state.range(0));
  std::string text;
  for (int i = 0; i < n; ++i) text += "w" + std::to_string(i % 50) + " ";
  attnplay::Config c;
  std::string error;
  const std::string cfg = R"({"mode": "transformer", "d_model": 64, "heads": 4, "text": ")" + text + "\"}";
  if (!attnplay::config_parse_text(cfg, &c, &error)) {
    state.SkipWithError(error.c_str());
    return;
  }
  attnplay::Trace t;
  for (auto _ : state) {
    if (!attnplay::model_compute(c, nullptr, &t, &error)) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(t.logits.data());
  }
}
BENCHMARK(BM_ModelComputeTransformer)->Arg(512)->Arg(2048)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
