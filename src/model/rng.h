// attnplay model: the deterministic random numbers behind every seeded weight and input.
//
// Why our own: std::*_distribution differs between libstdc++ (native) and libc++ (emscripten), and libm's
// log/cos differ in the last bit, so seeded weights would not be bit-identical native vs WASM. Everything here
// is integer arithmetic plus IEEE-exact float operations (the build uses -ffp-contract=off).
//
// Index
//   rng_stream         an independent stream per (seed, name): editing one tensor's shape never moves another's values
//   rng_next_u64       SplitMix64 step
//   rng_uniform        float in [0, 1) with 24 random bits (exact)
//   rng_fill_uniform   U(lo, hi)
//   rng_fill_normal    approximately N(0, 1): Irwin–Hall sum of 12 uniforms minus 6 (mean 0, variance 1, |x| < 6)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace attnplay {

struct Rng {
  uint64_t state = 0;
};

Rng      rng_stream(uint64_t seed, std::string_view name);            // stream keyed by seed and a name (FNV-1a)
uint64_t rng_next_u64(Rng* rng);                                      // SplitMix64
float    rng_uniform(Rng* rng);                                       // [0, 1), multiples of 2^-24
void     rng_fill_uniform(Rng* rng, float lo, float hi, float* out, size_t n);  // out[i] = lo + (hi - lo)·u
void     rng_fill_normal(Rng* rng, float* out, size_t n);             // Irwin–Hall(12) - 6

}  // namespace attnplay
