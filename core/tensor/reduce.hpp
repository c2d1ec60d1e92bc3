#pragma once
// Element-wise helpers and reductions over whole views (named kernels).
#include "core/tensor/math.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

// Flat element count and pointer access for any contiguous view.
template <class View>
std::size_t element_count(const View& v) {
  return v.span();
}

template <class T>
void fill(const Vector<T>& v, T value) {
  Kokkos::deep_copy(v, value);
}

// y += alpha x
template <class T>
void axpy(T alpha, const Vector<T>& x, const Vector<T>& y) {
  Kokkos::parallel_for(
      "tensor::axpy", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i) { y(i) += alpha * x(i); });
}

template <class T>
void scale(const Vector<T>& x, T alpha) {
  Kokkos::parallel_for(
      "tensor::scale", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i) { x(i) *= alpha; });
}

// Sums and norms accumulate in double, whatever T is.
template <class T>
double sum(const Vector<T>& x) {
  double total = 0;
  Kokkos::parallel_reduce(
      "tensor::sum", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) { acc += static_cast<double>(x(i)); }, total);
  return total;
}

template <class T>
double dot(const Vector<T>& x, const Vector<T>& y) {
  double total = 0;
  Kokkos::parallel_reduce(
      "tensor::dot", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        acc += static_cast<double>(x(i)) * static_cast<double>(y(i));
      },
      total);
  return total;
}

template <class T>
double squared_norm(const Vector<T>& x) {
  return dot(x, x);
}

// max_i |x_i| (0 for an empty view).
template <class T>
double max_abs(const Vector<T>& x) {
  double result = 0;
  Kokkos::parallel_reduce(
      "tensor::max_abs", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) {
        const double a = math::abs(static_cast<double>(x(i)));
        if (a > acc) acc = a;
      },
      Kokkos::Max<double>(result));
  return x.extent(0) > 0 ? result : 0.0;
}

// sum_i |x_i|.
template <class T>
double abs_sum(const Vector<T>& x) {
  double total = 0;
  Kokkos::parallel_reduce(
      "tensor::abs_sum", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i, double& acc) { acc += math::abs(static_cast<double>(x(i))); },
      total);
  return total;
}

// Index of the first non-finite entry, or -1.
template <class T>
long long first_non_finite(const Vector<T>& x) {
  long long first = 0;
  Kokkos::parallel_reduce(
      "tensor::first_non_finite", Kokkos::RangePolicy<ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i, long long& acc) {
        if (!math::isfinite(x(i)) && i < acc) acc = i;
      },
      Kokkos::Min<long long>(first));
  // Min starts from the largest long long: that value means "none found".
  return first >= static_cast<long long>(x.extent(0)) ? -1 : first;
}

// Flat 1-D view over all entries of a contiguous matrix (same memory).
template <class T>
Vector<T> flat(const Matrix<T>& m) {
  return Vector<T>(m.data(), m.extent(0) * m.extent(1));
}

}  // namespace tessera::tensor
