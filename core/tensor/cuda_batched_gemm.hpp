#pragma once
// batched_gemm on CUDA builds: one strided batched cuBLAS call for the whole batch
// (cublas<S|D>gemmStridedBatched) instead of a host loop of small gemms, each a launch.
// Only where Kokkos has CUDA and KokkosKernels uses cuBLAS; TESSERA_CUDA_BATCHED_GEMM
// says so.
#include <KokkosKernels_config.h>
#include <Kokkos_Macros.hpp>
#include <cstddef>

#if defined(KOKKOS_ENABLE_CUDA) && defined(KOKKOSKERNELS_ENABLE_TPL_CUBLAS)
#define TESSERA_CUDA_BATCHED_GEMM 1

namespace tessera::tensor::detail {

// Row-major C_i (m x n) = alpha op(A_i) op(B_i) + beta C_i for i < batches, on device
// memory; A_i = a + i * stride_a (row stride lda), likewise B_i and C_i.
void cuda_batched_gemm(char trans_a, char trans_b, std::size_t batches, std::size_t m,
                       std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                       std::size_t stride_a, const float* b, std::size_t ldb, std::size_t stride_b,
                       float beta, float* c, std::size_t ldc, std::size_t stride_c);
void cuda_batched_gemm(char trans_a, char trans_b, std::size_t batches, std::size_t m,
                       std::size_t n, std::size_t k, double alpha, const double* a,
                       std::size_t lda, std::size_t stride_a, const double* b, std::size_t ldb,
                       std::size_t stride_b, double beta, double* c, std::size_t ldc,
                       std::size_t stride_c);

}  // namespace tessera::tensor::detail
#endif
