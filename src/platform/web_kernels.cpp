// attnplay platform (web): puts the relaxed-SIMD GEMM and exp behind gemm_packed and vexp_shift_sum when the page
// has them.
//
// Linked into every WebAssembly executable (the app, attnplay-core, the unit tests, the training benchmark) with
// web/kernels/relaxed_kernels.js as its --js-library. That library has already validated and instantiated the
// kernel module before static constructors run (a run dependency holds them), so a constructor here suffices.
#include "core/gemm.h"

#include <cstdint>

extern "C" {
// From web/kernels/relaxed_kernels.js: table slots of the kernel module's exports (0 when it did not load). A
// WebAssembly function pointer is a table index, so the slot is the pointer: calls stay wasm to wasm.
int attnplay_relaxed_gemm_pointer();
int attnplay_relaxed_exp_pointer();
}

namespace {

bool web_kernels_install() {
  const int gemm = attnplay_relaxed_gemm_pointer(), exp = attnplay_relaxed_exp_pointer();
  if (gemm == 0 || exp == 0) return false;
  attnplay::gemm_kernel_install(reinterpret_cast<attnplay::GemmKernel>(uintptr_t(gemm)), "relaxed-simd");
  attnplay::vexp_kernel_install(reinterpret_cast<attnplay::ExpShiftSumKernel>(uintptr_t(exp)));
  return true;
}

const bool web_kernels_installed = web_kernels_install();

}  // namespace
