#include "core/tensor/host_gemm.hpp"

#include "core/runtime/runtime.hpp"

// The Fortran BLAS (column-major) that KokkosBlas' host path calls too.
extern "C" {
void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
            const float* beta, float* c, const int* ldc);
void dgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
            const double* alpha, const double* a, const int* lda, const double* b,
            const int* ldb, const double* beta, double* c, const int* ldc);
}

namespace tessera::tensor::detail {

namespace {

// Row-major C (m x n) = alpha op(A) op(B) + beta C is column-major
// C^T (n x m) = alpha op(B)^T op(A)^T + beta C^T: the same call with the operands swapped.
template <class T, class Gemm>
void row_major(Gemm gemm, char trans_a, char trans_b, std::size_t m, std::size_t n,
               std::size_t k, T alpha, const T* a, std::size_t lda, const T* b, std::size_t ldb,
               T beta, T* c, std::size_t ldc) {
  const int im = static_cast<int>(m), in = static_cast<int>(n), ik = static_cast<int>(k);
  const int ia = static_cast<int>(lda), ib = static_cast<int>(ldb), ic = static_cast<int>(ldc);
  gemm(&trans_b, &trans_a, &in, &im, &ik, &alpha, b, &ib, a, &ia, &beta, c, &ic);
}

}  // namespace

void host_gemm(char trans_a, char trans_b, std::size_t m, std::size_t n, std::size_t k,
               float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
               float beta, float* c, std::size_t ldc) {
  row_major(sgemm_, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void host_gemm(char trans_a, char trans_b, std::size_t m, std::size_t n, std::size_t k,
               double alpha, const double* a, std::size_t lda, const double* b, std::size_t ldb,
               double beta, double* c, std::size_t ldc) {
  row_major(dgemm_, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

bool blas_single_threaded() { return runtime::blas_threads() <= 1; }

}  // namespace tessera::tensor::detail
