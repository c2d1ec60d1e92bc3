#pragma once
// DCRNN's Gaussian kernel for sensor graphs: w_ij = exp(-(d_ij / sigma)^2) with sigma the
// standard deviation of the listed road distances, weights below a threshold dropped.
// Used where sensor graphs are read (st_forecast) and where they are made (LWR networks).
#include <algorithm>
#include <cmath>
#include <vector>

namespace tessera::graph {

// Population standard deviation of the distances; 1 when there are none or all are equal.
inline double distance_sigma(const std::vector<double>& distances) {
  if (distances.empty()) return 1.0;
  double sum = 0, squares = 0;
  for (const double d : distances) {
    sum += d;
    squares += d * d;
  }
  const double n = static_cast<double>(distances.size());
  const double mean = sum / n;
  const double sigma = std::sqrt(std::max(0.0, squares / n - mean * mean));
  return sigma > 0 ? sigma : 1.0;
}

// The kernel weight of one distance, 0 below `threshold`.
inline double gaussian_kernel_weight(double distance, double sigma, double threshold) {
  const double w = std::exp(-(distance / sigma) * (distance / sigma));
  return w >= threshold ? w : 0.0;
}

}  // namespace tessera::graph
