#pragma once
// Counter-based random numbers: the value for (seed, stream, index) is a pure function
// of those three numbers, so parameter initialisation and dropout masks do not depend
// on how many ranks share the work or in which order entries are visited.
#include <cstdint>

#include "core/tensor/math.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

// A strong 64-bit mix (splitmix64 finaliser) of the three numbers.
KOKKOS_INLINE_FUNCTION std::uint64_t counter_hash(std::uint64_t seed, std::uint64_t stream,
                                                  std::uint64_t index) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ULL + stream * 0xD1B54A32D192ED03ULL + index;
  for (int round = 0; round < 2; ++round) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z = z ^ (z >> 31);
  }
  return z;
}

// Uniform in [0, 1) with 53 random bits.
KOKKOS_INLINE_FUNCTION double counter_uniform(std::uint64_t seed, std::uint64_t stream,
                                              std::uint64_t index) {
  return static_cast<double>(counter_hash(seed, stream, index) >> 11) * 0x1.0p-53;
}

// Standard normal by Box-Muller on two uniforms of the same counter.
KOKKOS_INLINE_FUNCTION double counter_normal(std::uint64_t seed, std::uint64_t stream,
                                             std::uint64_t index) {
  const double u1 = 1.0 - counter_uniform(seed, stream, 2 * index);  // (0, 1]
  const double u2 = counter_uniform(seed, stream, 2 * index + 1);
  return math::sqrt(-2.0 * math::log(u1)) * math::cos(6.283185307179586 * u2);
}

// Fills v[i] (i counted from `offset`) with uniform values in [low, high).
template <class T>
void fill_uniform(const Vector<T>& v, T low, T high, std::uint64_t seed, std::uint64_t stream,
                  std::uint64_t offset = 0) {
  Kokkos::parallel_for(
      "tensor::fill_uniform", Kokkos::RangePolicy<ExecSpace>(0, v.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        v(i) = low + (high - low) * static_cast<T>(counter_uniform(seed, stream, offset + i));
      });
}

template <class T>
void fill_normal(const Vector<T>& v, T mean, T stddev, std::uint64_t seed, std::uint64_t stream,
                 std::uint64_t offset = 0) {
  Kokkos::parallel_for(
      "tensor::fill_normal", Kokkos::RangePolicy<ExecSpace>(0, v.extent(0)),
      KOKKOS_LAMBDA(const int i) {
        v(i) = mean + stddev * static_cast<T>(counter_normal(seed, stream, offset + i));
      });
}

}  // namespace tessera::tensor
