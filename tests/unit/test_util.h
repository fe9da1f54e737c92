// attnplay tests: comparison helpers shared by the unit tests (native and WASM).
#pragma once

#include "core/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>

namespace attnplay {

// Scale-aware comparison: |a - b| <= abs_tol + rel_tol·|b| for every element (the SPEC's tolerance by default).
// On failure, names the first few differing elements with both values.
inline ::testing::AssertionResult mat_near(const Mat& a, const Mat& b, double rel_tol = 1e-5, double abs_tol = 1e-6) {
  if (a.rows() != b.rows() || a.cols() != b.cols())
    return ::testing::AssertionFailure() << "shape " << a.rows() << "x" << a.cols() << " vs " << b.rows() << "x" << b.cols();
  std::ostringstream os;
  int bad = 0;
  double worst = 0;
  for (int i = 0; i < a.rows(); ++i)
    for (int j = 0; j < a.cols(); ++j) {
      const double x = a(i, j), y = b(i, j);
      if (std::isinf(x) && x == y) continue;
      const double err = std::fabs(x - y), allowed = abs_tol + rel_tol * std::fabs(y);
      if (!(err <= allowed)) {
        if (bad < 5) os << "\n  [" << i << "," << j << "] got " << x << " expected " << y << " (err " << err << " > " << allowed << ")";
        ++bad;
      }
      if (std::isfinite(err)) worst = std::max(worst, err / (abs_tol + rel_tol * std::fabs(y)));
    }
  if (bad) return ::testing::AssertionFailure() << bad << " element(s) differ; worst err/allowed " << worst << os.str();
  return ::testing::AssertionSuccess();
}

inline bool mat_all_finite(const Mat& m) {
  for (int i = 0; i < m.size(); ++i)
    if (!std::isfinite(m.data()[i])) return false;
  return true;
}

}  // namespace attnplay
