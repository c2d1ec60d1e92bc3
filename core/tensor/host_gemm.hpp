#pragma once
// Row-major gemm on host memory straight through the Fortran BLAS, for the pieces that
// core/tensor/gemm.hpp hands to each thread of a threaded host backend (OpenMP): every
// thread computes a block of rows of C with a single-threaded BLAS call, so a gemm runs
// on Kokkos' own threads instead of a second pool of BLAS threads competing with them.
#include <cstddef>

namespace tessera::tensor::detail {

// C (m x n, leading dimension ldc) = alpha op(A) op(B) + beta C, row-major, op = 'N' or
// 'T'; lda and ldb are the row strides of A and B as stored.
void host_gemm(char trans_a, char trans_b, std::size_t m, std::size_t n, std::size_t k,
               float alpha, const float* a, std::size_t lda, const float* b, std::size_t ldb,
               float beta, float* c, std::size_t ldc);
void host_gemm(char trans_a, char trans_b, std::size_t m, std::size_t n, std::size_t k,
               double alpha, const double* a, std::size_t lda, const double* b, std::size_t ldb,
               double beta, double* c, std::size_t ldc);

// True when BLAS runs each call on the calling thread alone (OpenBLAS set to one thread,
// or a BLAS without threads): then several threads may each make their own call.
bool blas_single_threaded();

}  // namespace tessera::tensor::detail
