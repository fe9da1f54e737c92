// attnplay unit tests: main. One extra flag beside GoogleTest's own:
//   --expect-kernel=NAME   fail GemmKernel.ExpectedPathIsInUse unless gemm_kernel_name() is NAME. CTest passes it so
//                          that a WASM run meant for the relaxed-SIMD path cannot pass on the SIMD128 one unnoticed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

std::string g_expect_kernel;  // read by test_core.cpp

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);  // removes the --gtest_* flags it knows
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--expect-kernel=", 16) == 0) {
      g_expect_kernel = argv[i] + 16;
    } else {
      std::fprintf(stderr, "attnplay_tests: unknown argument %s (GoogleTest's --gtest_* or --expect-kernel=NAME)\n",
                   argv[i]);
      return 2;
    }
  }
  return RUN_ALL_TESTS();
}
