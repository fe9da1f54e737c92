// attnplay training benchmark: milliseconds per optimiser step (forward + backward + Adam) of the tiny Transformer,
// natively and in WASM under Node (the same source; `./build.sh bench` runs both). Plain timing, median of rounds:
// Google Benchmark does not build for WASM. Sizes: what the Train panel runs (d_model 32), and a wider model where
// the matrix products dominate. An argument runs only the cases whose name contains it ("reference").
#include "core/gemm.h"
#include "model/train.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Case {
  const char* name;
  const char* dims;  // d_model / heads / layers (d_ff), as printed
  const char* config;
  const char* task;
  int length, vocab, batch;
};

double median_ms(const Case& k) {
  using namespace attnplay;
  Config c;
  std::string error;
  if (!config_parse_text(k.config, &c, &error)) {
    std::fprintf(stderr, "%s: %s\n", k.name, error.c_str());
    return -1;
  }
  TrainTask task{};
  train_task_from_name(k.task, &task);
  c.tokens = train_task_vocab(k.vocab);
  TrainState s;
  train_state_init(&s, weights_seeded(c));
  Rng rng = rng_stream(1, std::string("bench/") + k.task);
  const bool causal = train_task_causal(task);
  std::vector<double> times;
  for (int r = 0; r < 23; ++r) {
    const TrainBatch b = train_task_batch(task, k.length, k.vocab, k.batch, &rng);
    const auto t0 = std::chrono::steady_clock::now();
    train_step(c, &s, b, causal, TRAIN_OPTIMIZER_ADAM, 1e-3f);
    const auto t1 = std::chrono::steady_clock::now();
    if (r >= 3) times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());  // 3 warm-up steps
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";  // run only the cases whose name contains this (profiling)
  const Case cases[] = {
      {"copy, Train panel", "32 / 4 / 2", R"({"mode":"transformer","d_model":32,"heads":4,"transformer":{"layers":2},"text":"0"})", "copy", 8, 10, 16},
      {"induction, causal", "32 / 4 / 2", R"({"mode":"transformer","d_model":32,"heads":4,"transformer":{"layers":2},"text":"0"})", "induction", 12, 30, 16},
      {"reverse, wide", "128 / 4 / 2", R"({"mode":"transformer","d_model":128,"heads":4,"transformer":{"layers":2},"text":"0"})", "reverse", 64, 20, 16},
      // The model bench/bench_train_torch.py runs in PyTorch (issue 14's comparison): same shapes, task and optimiser.
      {"reference (vs PyTorch)", "64 / 4 / 2 (d_ff 128)", R"({"mode":"transformer","d_model":64,"heads":4,"transformer":{"layers":2,"d_ff":128},"text":"0"})", "copy", 24, 10, 16},
  };
#ifdef __wasm__
  const std::string target = std::string("wasm, ") + attnplay::gemm_kernel_name();
#else
  const std::string target = std::string("native, ") + attnplay::gemm_kernel_name();
#endif
  std::printf("| training step (%s) | d_model / heads / layers | n x batch | median ms |\n|---|---|---|---|\n", target.c_str());
  for (const Case& k : cases) {
    if (!only.empty() && std::string(k.name).find(only) == std::string::npos) continue;
    const double ms = median_ms(k);
    if (ms < 0) return 1;
    const int n = std::string(k.task) == "induction" ? 2 * k.length + k.length / 2 : k.length;  // induction: 2L..3L-1
    std::printf("| %s | %s | %s%d x %d | %.2f |\n", k.name, k.dims,
                std::string(k.task) == "induction" ? "~" : "", n, k.batch, ms);
  }
  return 0;
}
