#pragma once
// The softmax pass of retrieval: exp of a row shifted by its maximum, summed. With d in
// the tens, one scalar expf per score costs as much as the gemm that made the score, so
// the exponentials use math::fast_exp (vectorised for float) and the sum runs on eight
// lanes, so that it is not one long dependency chain.
#include <cstddef>

#include "core/tensor/math.hpp"

namespace tessera::hopfield {

// row[j] <- exp(row[j] - shift) for j < n; returns the sum.
template <class T>
KOKKOS_INLINE_FUNCTION T exp_shift_sum(T* row, std::size_t n, T shift) {
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

}  // namespace tessera::hopfield
