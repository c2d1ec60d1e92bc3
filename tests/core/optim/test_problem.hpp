#pragma once
// The small problem the optimiser tests train on: an MLP fc1 -> tanh -> fc2 (as the
// torch model in analysis/reference/reference_optim.py) with a mean-squared-error loss,
// plus the norm-wise comparison the reference tests report. Also used by the
// data-parallel test in tests/core/parallel.
#include <cmath>
#include <string>
#include <vector>

#include "core/nn/activations.hpp"
#include "core/nn/linear.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/tensor/reduce.hpp"

namespace tessera::testing {

template <class T>
struct TanhMlp {
  nn::Linear<T> fc1, fc2;
  nn::Activation<T> act{nn::ActivationKind::kTanh, "act"};
  tensor::Matrix<T> dy;

  void declare(nn::ParameterStore<T>& store, std::size_t in, std::size_t hidden, std::size_t out) {
    fc1.declare(store, "fc1", in, hidden);
    fc2.declare(store, "fc2", hidden, out);
  }

  // Loss = sum over these rows of (y - target)^2 / denominator; the gradient of
  // grad_scale * loss is ADDED to store.grads(). denominator = rows x outputs gives
  // torch's mse_loss; a data-parallel rank passes the global count and the rank count
  // as grad_scale, so that the all-reduced average is the full-batch gradient.
  double loss_and_grad(nn::ParameterStore<T>& store, const tensor::Matrix<T>& x,
                       const tensor::Matrix<T>& target, double denominator,
                       double grad_scale = 1.0) {
    const tensor::Matrix<T>& y = fc2.forward(store, act.forward(fc1.forward(store, x)));
    tensor::ensure_shape(dy, "mlp.dy", y.extent(0), y.extent(1));
    const tensor::Matrix<T> d = dy;
    const std::size_t cols = y.extent(1);
    const T factor = static_cast<T>(2.0 * grad_scale / denominator);
    double sum = 0;
    Kokkos::parallel_reduce(
        "test::mse_loss", Kokkos::RangePolicy<tensor::ExecSpace>(0, y.extent(0)),
        KOKKOS_LAMBDA(const int i, double& acc) {
          for (std::size_t j = 0; j < cols; ++j) {
            const T r = y(i, j) - target(i, j);
            d(i, j) = factor * r;
            acc += static_cast<double>(r) * static_cast<double>(r);
          }
        },
        sum);
    fc1.backward(store, act.backward(fc2.backward(store, dy)), false);
    return sum / denominator;
  }
};

// ||a - b|| / ||b|| (or ||a - b|| when b is 0).
inline double relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  double diff = 0, ref = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff += (a[i] - b[i]) * (a[i] - b[i]);
    ref += b[i] * b[i];
  }
  if (a.size() != b.size()) return INFINITY;
  return ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff);
}

inline double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

// Host values into a new (rows x cols) matrix.
template <class T>
tensor::Matrix<T> matrix_from(const std::vector<double>& values, std::size_t rows,
                              std::size_t cols) {
  tensor::Matrix<T> m("test::matrix", rows, cols);
  auto host = Kokkos::create_mirror_view(m);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) host(i, j) = static_cast<T>(values[i * cols + j]);
  }
  Kokkos::deep_copy(m, host);
  return m;
}

}  // namespace tessera::testing
