#pragma once
// Row softmax y = exp(x - max) / sum(exp(x - max)) and its backward
// dx = y * (dy - sum(dy * y)). The row functions are inline so that kernels which own
// their rows (attention, with its scale and mask) call them inside their own pass;
// Softmax<T> is the same thing as a layer over the rows of a matrix.
#include <string>

#include "core/runtime/error.hpp"
#include "core/tensor/math.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::nn {

using tensor::Matrix;

// The row max and the inner product of the backward run in four independent lanes: one
// running max or sum is a chain of dependent operations that the compiler may not
// reorder (float), which made long rows (spatial attention over 228 sensors) several
// times slower on CPUs.
template <class T>
KOKKOS_INLINE_FUNCTION T row_max4(const T* in, std::size_t n) {
  T m0 = in[0], m1 = in[0], m2 = in[0], m3 = in[0];
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    m0 = math::max(m0, in[j]);
    m1 = math::max(m1, in[j + 1]);
    m2 = math::max(m2, in[j + 2]);
    m3 = math::max(m3, in[j + 3]);
  }
  for (; j < n; ++j) m0 = math::max(m0, in[j]);
  return math::max(math::max(m0, m1), math::max(m2, m3));
}

template <class T>
KOKKOS_INLINE_FUNCTION T row_dot4(const T* a, const T* b, std::size_t n) {
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    s0 += a[j] * b[j];
    s1 += a[j + 1] * b[j + 1];
    s2 += a[j + 2] * b[j + 2];
    s3 += a[j + 3] * b[j + 3];
  }
  for (; j < n; ++j) s0 += a[j] * b[j];
  return (s0 + s1) + (s2 + s3);
}

// Softmax of n entries from `in` into `out` (they may be the same memory). Subtracting
// the row maximum keeps exp from overflowing. A row that is -inf everywhere (fully
// masked) gives zeros rather than 0/0 = NaN, so that it passes no gradient.
template <class T>
KOKKOS_INLINE_FUNCTION void softmax_row(const T* in, T* out, std::size_t n) {
  if (n == 0) return;
  const T row_max = row_max4(in, n);
  // Kokkos' trait, not std::numeric_limits: usable in device code without relaxed constexpr.
  if (row_max == -Kokkos::Experimental::infinity<T>::value) {
    for (std::size_t j = 0; j < n; ++j) out[j] = T(0);
    return;
  }
  // The exponentials first (a loop the compiler vectorises with math::fast_exp), then
  // their sum on four accumulators.
  for (std::size_t j = 0; j < n; ++j) out[j] = math::fast_exp(in[j] - row_max);
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  std::size_t k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += out[k];
    s1 += out[k + 1];
    s2 += out[k + 2];
    s3 += out[k + 3];
  }
  for (; k < n; ++k) s0 += out[k];
  const T total = (s0 + s1) + (s2 + s3);
  const T inverse = T(1) / total;
  for (std::size_t j = 0; j < n; ++j) out[j] *= inverse;
}

// dx = y * (dy - <dy, y>) over n entries; dx may be the memory of dy.
template <class T>
KOKKOS_INLINE_FUNCTION void softmax_row_backward(const T* y, const T* dy, T* dx, std::size_t n) {
  const T inner = row_dot4(dy, y, n);
  for (std::size_t j = 0; j < n; ++j) dx[j] = y[j] * (dy[j] - inner);
}

// Softmax of every row of x into y (y may be x).
template <class T>
void softmax_rows(const Matrix<T>& x, const Matrix<T>& y) {
  const std::size_t cols = x.extent(1);
  Kokkos::parallel_for(
      "nn::softmax_forward", Kokkos::RangePolicy<tensor::ExecSpace>(0, x.extent(0)),
      KOKKOS_LAMBDA(const int i) { softmax_row(&x(i, 0), &y(i, 0), cols); });
}

// Backward of softmax_rows given its output y; dx may be dy.
template <class T>
void softmax_rows_backward(const Matrix<T>& y, const Matrix<T>& dy, const Matrix<T>& dx) {
  const std::size_t cols = y.extent(1);
  Kokkos::parallel_for(
      "nn::softmax_backward", Kokkos::RangePolicy<tensor::ExecSpace>(0, y.extent(0)),
      KOKKOS_LAMBDA(const int i) { softmax_row_backward(&y(i, 0), &dy(i, 0), &dx(i, 0), cols); });
}

// Softmax over the last dimension as a layer: forward keeps its output for backward.
template <class T>
class Softmax {
 public:
  Softmax() = default;
  explicit Softmax(std::string name) : name_(std::move(name)) {}

  const Matrix<T>& forward(const Matrix<T>& x) {
    tensor::ensure_shape(output_, name_ + ".output", x.extent(0), x.extent(1));
    softmax_rows(x, output_);
    return output_;
  }

  const Matrix<T>& backward(const Matrix<T>& dy) {
    if (dy.extent(0) != output_.extent(0) || dy.extent(1) != output_.extent(1)) {
      throw std::invalid_argument(str(name_, ": output gradient ", tensor::shape_text(dy),
                                      " does not match the forward output ",
                                      tensor::shape_text(output_)));
    }
    tensor::ensure_shape(input_grad_, name_ + ".input_grad", dy.extent(0), dy.extent(1));
    softmax_rows_backward(output_, dy, input_grad_);
    return input_grad_;
  }

  const Matrix<T>& output() const { return output_; }

 private:
  std::string name_ = "softmax";
  Matrix<T> output_, input_grad_;
};

}  // namespace tessera::nn
