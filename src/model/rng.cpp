// attnplay model: deterministic RNG. Contracts: rng.h.
#include "model/rng.h"

namespace attnplay {

static uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

Rng rng_stream(uint64_t seed, std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;  // FNV-1a 64
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  return Rng{mix64(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull) ^ h};
}

uint64_t rng_next_u64(Rng* rng) {
  rng->state += 0x9E3779B97F4A7C15ull;
  return mix64(rng->state);
}

float rng_uniform(Rng* rng) { return float(rng_next_u64(rng) >> 40) * (1.0f / 16777216.0f); }

void rng_fill_uniform(Rng* rng, float lo, float hi, float* out, size_t n) {
  const float span = hi - lo;
  for (size_t i = 0; i < n; ++i) {
    const float u = rng_uniform(rng);
    const float scaled = span * u;  // two roundings, never fused: bit-identical on every target
    out[i] = lo + scaled;
  }
}

void rng_fill_normal(Rng* rng, float* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float acc = 0.0f;
    for (int t = 0; t < 12; ++t) acc += rng_uniform(rng);
    out[i] = acc - 6.0f;
  }
}

}  // namespace attnplay
