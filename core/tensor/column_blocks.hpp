#pragma once
// Column blocks of row-major matrices: out(:, out_first + j) = in(:, in_first + j) for
// j < width. A model that concatenates features side by side (STID's embeddings) fills
// its wide matrix block by block, and its backward pass cuts each block's gradient out
// into a matrix of its own, the shape the block's layer takes.
#include <stdexcept>
#include <string>

#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

template <class T>
void copy_columns(const Matrix<T>& in, std::size_t in_first, const Matrix<T>& out,
                  std::size_t out_first, std::size_t width, const std::string& label) {
  if (in.extent(0) != out.extent(0) || in_first + width > in.extent(1) ||
      out_first + width > out.extent(1)) {
    throw std::invalid_argument(str(label, ": columns [", in_first, ", ", in_first + width, ") of ",
                                    shape_text(in), " do not fit columns [", out_first, ", ",
                                    out_first + width, ") of ", shape_text(out)));
  }
  Kokkos::parallel_for(
      "tensor::copy_columns", Kokkos::RangePolicy<ExecSpace>(0, in.extent(0)),
      KOKKOS_LAMBDA(const int r) {
        for (std::size_t j = 0; j < width; ++j) out(r, out_first + j) = in(r, in_first + j);
      });
}

// A (rows, width) matrix holding columns [first, first + width) of `in`, in `out`.
template <class T>
const Matrix<T>& column_block(const Matrix<T>& in, std::size_t first, std::size_t width,
                              Matrix<T>& out, const std::string& label) {
  ensure_shape(out, label, in.extent(0), width);
  copy_columns(in, first, out, 0, width, label);
  return out;
}

}  // namespace tessera::tensor
