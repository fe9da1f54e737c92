// attnplay core: what this build is (the About panel, `attnplay --version`, core.version / core.simd).
#pragma once

#include <string>

namespace attnplay {

const char* build_version();        // "0.1.0" (CMake project version)
const char* build_type();           // "Release", "Debug", ...
std::string build_summary();        // one line: version, target, SIMD state, Eigen's instruction sets, build type

}  // namespace attnplay
