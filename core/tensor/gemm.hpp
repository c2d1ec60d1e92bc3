#pragma once
// Dense products through KokkosBlas::gemm (BLAS on the host, cuBLAS on CUDA builds).
// C = alpha op(A) op(B) + beta C with op = identity ('N') or transpose ('T').
// Shapes are checked with messages that name the operands.
#include <KokkosBlas3_gemm.hpp>
#include <stdexcept>

#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

template <class T, class ViewA, class ViewB, class ViewC>
void gemm(char trans_a, char trans_b, T alpha, const ViewA& a, const ViewB& b, T beta,
          const ViewC& c) {
  const std::size_t m = trans_a == 'N' ? a.extent(0) : a.extent(1);
  const std::size_t k = trans_a == 'N' ? a.extent(1) : a.extent(0);
  const std::size_t kb = trans_b == 'N' ? b.extent(0) : b.extent(1);
  const std::size_t n = trans_b == 'N' ? b.extent(1) : b.extent(0);
  if (k != kb || c.extent(0) != m || c.extent(1) != n) {
    throw std::invalid_argument(str("gemm: op(A) ", trans_a, " ", shape_text(a), " times op(B) ",
                                    trans_b, " ", shape_text(b), " does not fit C ",
                                    shape_text(c)));
  }
  if (m == 0 || n == 0) return;
  if (k == 0) {
    // BLAS would leave C untouched for k = 0 only when beta = 1; make it explicit.
    Kokkos::parallel_for(
        "tensor::gemm_scale", Kokkos::RangePolicy<ExecSpace>(0, m), KOKKOS_LAMBDA(const int i) {
          for (std::size_t j = 0; j < n; ++j) c(i, j) = beta == T(0) ? T(0) : beta * c(i, j);
        });
    return;
  }
  const char ta[2] = {trans_a, '\0'};
  const char tb[2] = {trans_b, '\0'};
  KokkosBlas::gemm(ta, tb, alpha, a, b, beta, c);
}

// Batched gemm over the first index of 3-D tensors: C[i] = alpha op(A[i]) op(B[i]) + beta C[i].
// Each batch is an unmanaged LayoutRight matrix, so every product goes to BLAS.
template <class T>
void batched_gemm(char trans_a, char trans_b, T alpha, const Tensor3<T>& a, const Tensor3<T>& b,
                  T beta, const Tensor3<T>& c) {
  if (a.extent(0) != b.extent(0) || a.extent(0) != c.extent(0)) {
    throw std::invalid_argument(str("batched_gemm: batch sizes ", a.extent(0), ", ", b.extent(0),
                                    ", ", c.extent(0), " differ"));
  }
  for (std::size_t i = 0; i < a.extent(0); ++i) {
    const Matrix<T> ai(a.data() + i * a.extent(1) * a.extent(2), a.extent(1), a.extent(2));
    const Matrix<T> bi(b.data() + i * b.extent(1) * b.extent(2), b.extent(1), b.extent(2));
    const Matrix<T> ci(c.data() + i * c.extent(1) * c.extent(2), c.extent(1), c.extent(2));
    gemm(trans_a, trans_b, alpha, ai, bi, beta, ci);
  }
}

}  // namespace tessera::tensor
