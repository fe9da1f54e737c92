// attnplay core: build description. Contracts: build_info.h.
#include "core/build_info.h"

#include "core/attention.h"
#include "core/gemm.h"

#ifndef ATTNPLAY_VERSION
#define ATTNPLAY_VERSION "0.0.0"
#endif
#ifndef ATTNPLAY_BUILD_TYPE
#define ATTNPLAY_BUILD_TYPE "unknown"
#endif

namespace attnplay {

const char* build_version() { return ATTNPLAY_VERSION; }
const char* build_type() { return ATTNPLAY_BUILD_TYPE; }

std::string build_summary() {
#if defined(__wasm__)  // the target, not the toolchain: core names no platform
  const char* target = "wasm32";
#else
  const char* target = "native";
#endif
  return std::string("attnplay ") + build_version() + " (" + target + ", " + build_type() + "), SIMD " +
         (core_simd_enabled() ? "on" : "off") + ", matrix kernels " + gemm_kernel_name() + ", Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
         std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION) +
         " instruction sets: " + core_simd_instruction_sets();
}

}  // namespace attnplay
