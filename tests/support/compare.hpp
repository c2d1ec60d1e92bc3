#pragma once
// Comparing a parallel or sharded result with its one-process reference.
#include <algorithm>
#include <cmath>
#include <vector>

#include "tests/support/catch.hpp"

namespace tessera::testing {

// The largest entry difference over the largest entry of the reference `a` (the
// absolute difference when `a` is all zero). REQUIREs equal sizes.
inline double relative_difference(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0, scale = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(a[i]));
  }
  return scale > 0 ? worst / scale : worst;
}

}  // namespace tessera::testing
