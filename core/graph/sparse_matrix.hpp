#pragma once
// A sparse matrix with values in CSR form (a weighted graph: the scaled Laplacian of a
// sensor graph for Chebyshev convolutions), and its product with dense row blocks.
// Rows of the dense operand come in `groups` consecutive blocks of num_rows rows each
// (one block per (window, time step)), and the matrix acts on every block alike:
//   dst[g*n + i, dst_col + c] = alpha * sum_j A(i, j) src[g*n + j, src_col + c]
//                               + beta * other[g*n + i, other_col + c]
// for c < width, so that column slices of a wider matrix (the stacked Chebyshev terms)
// are used in place. `other` may be `dst` itself (accumulation); `src` must be another
// column block than `dst`.
#include <cstddef>
#include <vector>

#include "core/graph/csr_graph.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::graph {

template <class T>
struct SparseMatrix {
  IndexView row_ptr;  // num_rows + 1
  IndexView col_idx;  // sorted within each row
  Kokkos::View<T*, Kokkos::LayoutRight, tensor::MemSpace> values;

  std::size_t num_rows() const { return row_ptr.extent(0) > 0 ? row_ptr.extent(0) - 1 : 0; }
  std::size_t num_entries() const { return col_idx.extent(0); }
};

// From host arrays (checked as a CSR graph; values one per column entry).
template <class T>
SparseMatrix<T> sparse_from_host(const std::vector<Index>& row_ptr,
                                 const std::vector<Index>& col_idx,
                                 const std::vector<double>& values) {
  if (values.size() != col_idx.size()) {
    throw InputError(
        str("sparse matrix: ", values.size(), " values for ", col_idx.size(), " column entries"));
  }
  const CsrGraph pattern = csr_from_host(row_ptr, col_idx);
  SparseMatrix<T> m;
  m.row_ptr = pattern.row_ptr;
  m.col_idx = pattern.col_idx;
  m.values = decltype(m.values)("sparse_matrix.values", values.size());
  auto host = Kokkos::create_mirror_view(m.values);
  for (std::size_t k = 0; k < values.size(); ++k) host(k) = static_cast<T>(values[k]);
  Kokkos::deep_copy(m.values, host);
  return m;
}

// A column slice [col, col + width) of a row-major matrix.
template <class T>
struct ColumnBlock {
  tensor::Matrix<T> matrix;
  std::size_t col = 0;
};

template <class T>
void sparse_block_product(const SparseMatrix<T>& a, std::size_t groups, ColumnBlock<T> src, T alpha,
                          ColumnBlock<T> other, T beta, ColumnBlock<T> dst, std::size_t width) {
  const std::size_t n = a.num_rows();
  const auto row_ptr = a.row_ptr;
  const auto col_idx = a.col_idx;
  const auto values = a.values;
  const tensor::Matrix<T> x = src.matrix, o = other.matrix, y = dst.matrix;
  const std::size_t xc = src.col, oc = other.col, yc = dst.col;
  const bool use_other = beta != T(0);
  Kokkos::parallel_for(
      "graph::sparse_block_product", Kokkos::RangePolicy<tensor::ExecSpace>(0, groups * n),
      KOKKOS_LAMBDA(const int r) {
        const std::size_t base = (static_cast<std::size_t>(r) / n) * n;
        const std::size_t i = static_cast<std::size_t>(r) % n;
        // The row's entries in the outer loop, the contiguous columns inner: each source
        // row is read once, in order.
        for (std::size_t c = 0; c < width; ++c) {
          y(r, yc + c) = use_other ? beta * o(r, oc + c) : T(0);
        }
        for (Index k = row_ptr(i); k < row_ptr(i + 1); ++k) {
          const T weight = alpha * values(k);
          const std::size_t j = base + static_cast<std::size_t>(col_idx(k));
          for (std::size_t c = 0; c < width; ++c) y(r, yc + c) += weight * x(j, xc + c);
        }
      });
}

}  // namespace tessera::graph
