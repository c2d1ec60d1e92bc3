#pragma once
// The softmax pass of retrieval: exp of a row shifted by its maximum, summed. With d in
// the tens, one scalar expf per score costs as much as the gemm that made the score, so
// the exponentials use math::fast_exp (vectorised for float) and the sum runs on eight
// lanes, so that it is not one long dependency chain.
//
// On x86-64 host builds the float version is compiled apart (exp_shift_sum.cpp) in
// clones for AVX-512, AVX2 and the baseline, picked at load time by the processor: the
// project builds for the portable x86-64 baseline (SSE2, 4 floats per instruction),
// where this loop, the hot spot of retrieval at d = 64, would run at a quarter of the
// AVX-512 width of the machines it mostly runs on.
#include <cstddef>
#include <type_traits>

#include "core/tensor/math.hpp"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(KOKKOS_ENABLE_CUDA) && \
    !defined(KOKKOS_ENABLE_HIP) && !defined(KOKKOS_ENABLE_SYCL)
#define TESSERA_HOPFIELD_CLONED_EXP 1
#endif

namespace tessera::models::hopfield {

// row[j] <- exp(row[j] - shift) for j < n; returns the sum.
template <class T>
KOKKOS_INLINE_FUNCTION T exp_shift_sum_portable(T* row, std::size_t n, T shift) {
  for (std::size_t j = 0; j < n; ++j) row[j] = math::fast_exp(row[j] - shift);
  T lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    for (int l = 0; l < 8; ++l) lanes[l] += row[j + l];
  }
  for (; j < n; ++j) lanes[0] += row[j];
  return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) +
         ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
}

#ifdef TESSERA_HOPFIELD_CLONED_EXP
// exp_shift_sum_portable<float> in processor-specific clones (exp_shift_sum.cpp).
float exp_shift_sum_cloned(float* row, std::size_t n, float shift);
#endif

template <class T>
KOKKOS_INLINE_FUNCTION T exp_shift_sum(T* row, std::size_t n, T shift) {
#ifdef TESSERA_HOPFIELD_CLONED_EXP
  if constexpr (std::is_same_v<T, float>) return exp_shift_sum_cloned(row, n, shift);
#endif
  return exp_shift_sum_portable(row, n, shift);
}

}  // namespace tessera::models::hopfield
