/* attnplay: force-included in WASM builds. clang reports __GNUC__ 4.2, so Eigen 3.4 takes its x86 inline-asm
 * workaround for pmin/pmax (meant for GCC < 6.3), which cannot compile to WebAssembly. Claiming GCC 6.3
 * after Eigen's own detection turns that workaround off; nothing else in Eigen reads EIGEN_COMP_GNUC's value. */
#pragma once
#ifdef __cplusplus
#include <Eigen/src/Core/util/Macros.h>
#undef EIGEN_COMP_GNUC
#define EIGEN_COMP_GNUC 63
#endif
