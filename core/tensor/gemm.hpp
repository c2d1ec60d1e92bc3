#pragma once
// Dense products through KokkosBlas::gemm (BLAS on the host, cuBLAS on CUDA builds).
// C = alpha op(A) op(B) + beta C with op = identity ('N') or transpose ('T').
// Shapes are checked with messages that name the operands.
#include <KokkosBlas3_gemm.hpp>
#include <stdexcept>

#include "core/runtime/error.hpp"
#include "core/tensor/cuda_batched_gemm.hpp"
#include "core/tensor/host_gemm.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

namespace detail {

// Threads of the default execution space that may each make their own BLAS call: its
// concurrency when it runs on the host (OpenMP) and BLAS is single-threaded, else 1
// (Serial; CUDA, whose gemm is cuBLAS'; a BLAS that threads by itself).
inline int gemm_host_threads() {
  if constexpr (!Kokkos::SpaceAccessibility<ExecSpace, Kokkos::HostSpace>::accessible) {
    return 1;
  } else {
    const int threads = ExecSpace().concurrency();
    return threads > 1 && blas_single_threaded() ? threads : 1;
  }
}

// Below this many flops a gemm is not worth a fork and join of the threads.
inline constexpr double kGemmSplitFlops = 2e5;

// Rows of a rank-2 view as row-major storage: its row stride, 0 when its columns are not
// contiguous (then the caller leaves the product to KokkosBlas).
template <class View>
std::size_t row_stride(const View& v) {
  return v.stride(1) == 1 ? static_cast<std::size_t>(v.stride(0)) : 0;
}

// C = alpha op(A) op(B) + beta C with the rows (or, when C has fewer rows than columns,
// the columns) of C split into one block per host thread, each block one single-threaded
// BLAS call. Each entry of C is still one k-sum by one BLAS call; whether its bits match
// an unsplit call depends on the BLAS (results are reproducible for a fixed thread count).
// False when the views are not on the host or not row-major (nothing done then).
template <class T, class ViewA, class ViewB, class ViewC>
bool gemm_on_host_threads(int threads, char trans_a, char trans_b, std::size_t m, std::size_t n,
                          std::size_t k, T alpha, const ViewA& a, const ViewB& b, T beta,
                          const ViewC& c) {
  using Memory = typename ViewC::memory_space;
  if constexpr (!Kokkos::SpaceAccessibility<Kokkos::HostSpace, Memory>::accessible) {
    return false;
  } else {
    const std::size_t lda = row_stride(a), ldb = row_stride(b), ldc = row_stride(c);
    if (lda == 0 || ldb == 0 || ldc == 0) return false;
    const T* pa = a.data();
    const T* pb = b.data();
    T* pc = c.data();
    const bool by_rows = m >= n;
    const std::size_t length = by_rows ? m : n;
    const std::size_t blocks = std::min<std::size_t>(threads, length);
    Kokkos::parallel_for(
        "tensor::gemm_blocks", Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(0, blocks),
        [=](const int block) {
          const std::size_t begin = length * block / blocks, end = length * (block + 1) / blocks;
          if (by_rows) {  // rows [begin, end) of op(A) and C
            const T* a_rows = trans_a == 'N' ? pa + begin * lda : pa + begin;
            host_gemm(trans_a, trans_b, end - begin, n, k, alpha, a_rows, lda, pb, ldb, beta,
                      pc + begin * ldc, ldc);
          } else {  // columns [begin, end) of op(B) and C
            const T* b_columns = trans_b == 'N' ? pb + begin : pb + begin * ldb;
            host_gemm(trans_a, trans_b, m, end - begin, k, alpha, pa, lda, b_columns, ldb, beta,
                      pc + begin, ldc);
          }
        });
    return true;
  }
}

}  // namespace detail

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
  // A threaded host backend (OpenMP): the threads of Kokkos share the product, instead of
  // a second pool of BLAS threads competing with them for the cores.
  const int threads = detail::gemm_host_threads();
  if (threads > 1 && 2.0 * m * n * k >= detail::kGemmSplitFlops &&
      detail::gemm_on_host_threads(threads, trans_a, trans_b, m, n, k, alpha, a, b, beta, c)) {
    return;
  }
  const char ta[2] = {trans_a, '\0'};
  const char tb[2] = {trans_b, '\0'};
  KokkosBlas::gemm(ta, tb, alpha, a, b, beta, c);
}

namespace detail {

// Entry i of a batch, as an unmanaged row-major matrix.
template <class T>
Matrix<T> batch_matrix(const Tensor3<T>& t, std::size_t i) {
  return Matrix<T>(t.data() + i * t.extent(1) * t.extent(2), t.extent(1), t.extent(2));
}

// The first product of a batch through gemm, which checks the shapes for all of them.
// Returns true when the remaining products are left to the caller; false when there are
// none, or their shapes are degenerate (then gemm's own handling did them here).
template <class T>
bool first_of_batch(char trans_a, char trans_b, T alpha, const Tensor3<T>& a,
                    const Tensor3<T>& b, T beta, const Tensor3<T>& c) {
  if (a.extent(0) == 0) return false;
  gemm(trans_a, trans_b, alpha, batch_matrix(a, 0), batch_matrix(b, 0), beta, batch_matrix(c, 0));
  const std::size_t k = trans_a == 'N' ? a.extent(2) : a.extent(1);
  if (c.extent(1) > 0 && c.extent(2) > 0 && k > 0) return true;
  for (std::size_t i = 1; i < a.extent(0); ++i) {
    gemm(trans_a, trans_b, alpha, batch_matrix(a, i), batch_matrix(b, i), beta, batch_matrix(c, i));
  }
  return false;
}

// batched_gemm on a threaded host backend: the products of a batch are small (attention
// per window and head), so each thread takes whole products, one single-threaded BLAS call
// each.
template <class T>
void batched_gemm_on_host_threads(char trans_a, char trans_b, T alpha, const Tensor3<T>& a,
                                  const Tensor3<T>& b, T beta, const Tensor3<T>& c) {
  if (!first_of_batch(trans_a, trans_b, alpha, a, b, beta, c)) return;
  const std::size_t m = c.extent(1), n = c.extent(2);
  const std::size_t k = trans_a == 'N' ? a.extent(2) : a.extent(1);
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, MemSpace>::accessible) {
    const T* pa = a.data();
    const T* pb = b.data();
    T* pc = c.data();
    const std::size_t lda = a.extent(2), ldb = b.extent(2);
    const std::size_t size_a = a.extent(1) * a.extent(2), size_b = b.extent(1) * b.extent(2);
    Kokkos::parallel_for(
        "tensor::batched_gemm",
        Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace>(1, a.extent(0)),
        [=](const int i) {
          host_gemm(trans_a, trans_b, m, n, k, alpha, pa + i * size_a, lda, pb + i * size_b, ldb,
                    beta, pc + i * m * n, n);
        });
  } else {
    for (std::size_t i = 1; i < a.extent(0); ++i) {
      gemm(trans_a, trans_b, alpha, batch_matrix(a, i), batch_matrix(b, i), beta,
           batch_matrix(c, i));
    }
  }
}

}  // namespace detail

// Batched gemm over the first index of 3-D tensors: C[i] = alpha op(A[i]) op(B[i]) + beta C[i].
// Each batch is an unmanaged LayoutRight matrix, so every product goes to BLAS.
template <class T>
void batched_gemm(char trans_a, char trans_b, T alpha, const Tensor3<T>& a, const Tensor3<T>& b,
                  T beta, const Tensor3<T>& c) {
  if (a.extent(0) != b.extent(0) || a.extent(0) != c.extent(0)) {
    throw std::invalid_argument(str("batched_gemm: batch sizes ", a.extent(0), ", ", b.extent(0),
                                    ", ", c.extent(0), " differ"));
  }
  if (detail::gemm_host_threads() > 1 && a.extent(0) > 1) {
    detail::batched_gemm_on_host_threads(trans_a, trans_b, alpha, a, b, beta, c);
    return;
  }
#if defined(TESSERA_CUDA_BATCHED_GEMM)
  if constexpr (std::is_same<MemSpace, Kokkos::CudaSpace>::value) {
    if (a.extent(0) > 1) {  // the rest in one cuBLAS call
      if (detail::first_of_batch(trans_a, trans_b, alpha, a, b, beta, c)) {
        const std::size_t m = c.extent(1), n = c.extent(2);
        const std::size_t k = trans_a == 'N' ? a.extent(2) : a.extent(1);
        const std::size_t size_a = a.extent(1) * a.extent(2), size_b = b.extent(1) * b.extent(2);
        detail::cuda_batched_gemm(trans_a, trans_b, a.extent(0) - 1, m, n, k, alpha,
                                  a.data() + size_a, a.extent(2), size_a, b.data() + size_b,
                                  b.extent(2), size_b, beta, c.data() + m * n, n, m * n);
      }
      return;
    }
  }
#endif
  for (std::size_t i = 0; i < a.extent(0); ++i) {
    gemm(trans_a, trans_b, alpha, detail::batch_matrix(a, i), detail::batch_matrix(b, i), beta,
         detail::batch_matrix(c, i));
  }
}

}  // namespace tessera::tensor
