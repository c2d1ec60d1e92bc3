#pragma once
// Reorders the rows of a (outer * a * b, cols) matrix from (outer, a, b) order to
// (outer, b, a) order: row (o * a + i) * b + j moves to row (o * b + j) * a + i. A
// spatio-temporal model switches with it between "per time step over sensors" and
// "per sensor over time steps"; the inverse is transpose_rows with a and b swapped.
#include <stdexcept>

#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

template <class T>
void transpose_rows(const Matrix<T>& in, std::size_t outer, std::size_t a, std::size_t b,
                    Matrix<T>& out, const std::string& label) {
  if (in.extent(0) != outer * a * b) {
    throw std::invalid_argument(
        str(label, ": ", shape_text(in), " does not have ", outer, " x ", a, " x ", b, " rows"));
  }
  ensure_shape(out, label, in.extent(0), in.extent(1));
  const Matrix<T> dst = out;
  const std::size_t cols = in.extent(1);
  Kokkos::parallel_for(
      "tensor::transpose_rows", Kokkos::RangePolicy<ExecSpace>(0, in.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t row = static_cast<std::size_t>(r);
        const std::size_t o = row / (a * b), rest = row % (a * b);
        const std::size_t i = rest / b, j = rest % b;
        const std::size_t target = (o * b + j) * a + i;
        for (std::size_t c = 0; c < cols; ++c) dst(target, c) = in(r, c);
      });
}

}  // namespace tessera::tensor
