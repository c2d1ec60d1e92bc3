#include "core/tensor/cuda_batched_gemm.hpp"

#if defined(TESSERA_CUDA_BATCHED_GEMM)
#include <cublas_v2.h>

#include <Kokkos_Core.hpp>
#include <stdexcept>
#include <string>

namespace tessera::tensor::detail {

namespace {

// One cuBLAS handle for the process, on Kokkos' default stream, destroyed when Kokkos
// finalizes (before the CUDA context goes).
cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) {
      throw std::runtime_error("batched_gemm: cublasCreate failed");
    }
    Kokkos::push_finalize_hook([h] { cublasDestroy(h); });
    return h;
  }();
  cublasSetStream(handle, Kokkos::Cuda().cuda_stream());
  return handle;
}

cublasOperation_t operation(char trans) { return trans == 'N' ? CUBLAS_OP_N : CUBLAS_OP_T; }

void check(cublasStatus_t status) {
  if (status != CUBLAS_STATUS_SUCCESS) {
    throw std::runtime_error("batched_gemm: cuBLAS failed with status " +
                             std::to_string(static_cast<int>(status)));
  }
}

}  // namespace

// Row-major C_i = alpha op(A_i) op(B_i) + beta C_i is column-major
// C_i^T = alpha op(B_i)^T op(A_i)^T + beta C_i^T, as in host_gemm.cpp.
void cuda_batched_gemm(char trans_a, char trans_b, std::size_t batches, std::size_t m,
                       std::size_t n, std::size_t k, float alpha, const float* a, std::size_t lda,
                       std::size_t stride_a, const float* b, std::size_t ldb, std::size_t stride_b,
                       float beta, float* c, std::size_t ldc, std::size_t stride_c) {
  check(cublasSgemmStridedBatched(
      cublas_handle(), operation(trans_b), operation(trans_a), static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(k), &alpha, b, static_cast<int>(ldb),
      static_cast<long long>(stride_b), a, static_cast<int>(lda), static_cast<long long>(stride_a),
      &beta, c, static_cast<int>(ldc), static_cast<long long>(stride_c), static_cast<int>(batches)));
}

void cuda_batched_gemm(char trans_a, char trans_b, std::size_t batches, std::size_t m,
                       std::size_t n, std::size_t k, double alpha, const double* a,
                       std::size_t lda, std::size_t stride_a, const double* b, std::size_t ldb,
                       std::size_t stride_b, double beta, double* c, std::size_t ldc,
                       std::size_t stride_c) {
  check(cublasDgemmStridedBatched(
      cublas_handle(), operation(trans_b), operation(trans_a), static_cast<int>(n),
      static_cast<int>(m), static_cast<int>(k), &alpha, b, static_cast<int>(ldb),
      static_cast<long long>(stride_b), a, static_cast<int>(lda), static_cast<long long>(stride_a),
      &beta, c, static_cast<int>(ldc), static_cast<long long>(stride_c), static_cast<int>(batches)));
}

}  // namespace tessera::tensor::detail
#endif
