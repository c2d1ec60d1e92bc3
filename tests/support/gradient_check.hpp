#pragma once
// Central finite differences for backward passes, in double precision.
// A layer is checked through a scalar loss L = sum(y * r) with a fixed random r, so that
// dL/dy = r: run backward(r), then compare each analytic derivative with
// (L(v + h) - L(v - h)) / 2h for the entries of an input or parameter buffer.
#include <algorithm>
#include <cmath>
#include <functional>

#include "core/tensor/random.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::testing {

struct GradientCheck {
  double max_abs_error = 0;
  // |a - n| / max(|a|, |n|, floor): below `floor` the error counts as absolute, since
  // round-off in the loss (~1e-16 L / h) swamps the relative error of tiny derivatives.
  double max_relative_error = 0;
  std::size_t worst_index = 0;
};

// `values`: the buffer to perturb (a flat view of an input or of the parameters);
// `analytic`: dL/dvalues from backward; `loss`: recomputes L from the current values.
// Checks at most `max_entries` entries spread over the buffer.
inline GradientCheck check_gradient(const tensor::Vector<double>& values,
                                    const tensor::Vector<double>& analytic,
                                    const std::function<double()>& loss, double h = 1e-6,
                                    std::size_t max_entries = 200, double floor = 1e-3) {
  GradientCheck result;
  auto host_values = Kokkos::create_mirror_view(values);
  // A copy, never a view of `analytic`: a loss that runs backward again (adding to the
  // same gradients) must not change the values being checked.
  auto host_analytic = Kokkos::create_mirror(analytic);
  Kokkos::deep_copy(host_values, values);
  Kokkos::deep_copy(host_analytic, analytic);
  const std::size_t n = values.extent(0);
  const std::size_t stride = std::max<std::size_t>(1, n / max_entries);
  for (std::size_t i = 0; i < n; i += stride) {
    const double original = host_values(i);
    host_values(i) = original + h;
    Kokkos::deep_copy(values, host_values);
    const double plus = loss();
    host_values(i) = original - h;
    Kokkos::deep_copy(values, host_values);
    const double minus = loss();
    host_values(i) = original;
    Kokkos::deep_copy(values, host_values);
    const double numeric = (plus - minus) / (2 * h);
    const double error = std::abs(numeric - host_analytic(i));
    const double relative =
        error / std::max({std::abs(numeric), std::abs(host_analytic(i)), floor});
    if (relative > result.max_relative_error) {
      result.max_relative_error = relative;
      result.worst_index = i;
    }
    result.max_abs_error = std::max(result.max_abs_error, error);
  }
  return result;
}

// sum(y * r) in double.
inline double weighted_sum(const tensor::Matrix<double>& y, const tensor::Matrix<double>& r) {
  double total = 0;
  const std::size_t cols = y.extent(1);
  Kokkos::parallel_reduce(
      "test::weighted_sum", y.extent(0),
      KOKKOS_LAMBDA(const int i, double& acc) {
        for (std::size_t j = 0; j < cols; ++j) acc += y(i, j) * r(i, j);
      },
      total);
  return total;
}

inline tensor::Matrix<double> random_matrix(std::size_t rows, std::size_t cols, std::uint64_t seed,
                                            double scale = 1.0) {
  tensor::Matrix<double> m("random", rows, cols);
  tensor::fill_normal(tensor::Vector<double>(m.data(), rows * cols), 0.0, scale, seed, 0);
  return m;
}

}  // namespace tessera::testing
