#pragma once
// Math functions usable in kernels on Kokkos 3.4 (Kokkos::Experimental::) and 3.7+/4.x
// (Kokkos::). Also min/max/clamp, which Kokkos 3.4 lacks.
#include <Kokkos_Core.hpp>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace tessera::math {

#if KOKKOS_VERSION >= 30700
#define TESSERA_KOKKOS_MATH Kokkos
#else
#define TESSERA_KOKKOS_MATH Kokkos::Experimental
#endif

template <class T>
KOKKOS_INLINE_FUNCTION T exp(T x) {
  return TESSERA_KOKKOS_MATH::exp(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T log(T x) {
  return TESSERA_KOKKOS_MATH::log(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T sqrt(T x) {
  return TESSERA_KOKKOS_MATH::sqrt(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T tanh(T x) {
  return TESSERA_KOKKOS_MATH::tanh(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T sin(T x) {
  return TESSERA_KOKKOS_MATH::sin(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T cos(T x) {
  return TESSERA_KOKKOS_MATH::cos(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T erf(T x) {
  return TESSERA_KOKKOS_MATH::erf(x);
}
template <class T>
KOKKOS_INLINE_FUNCTION T pow(T x, T y) {
  return TESSERA_KOKKOS_MATH::pow(x, y);
}
template <class T>
KOKKOS_INLINE_FUNCTION T hypot(T x, T y) {
  return TESSERA_KOKKOS_MATH::hypot(x, y);
}
template <class T>
KOKKOS_INLINE_FUNCTION T abs(T x) {
  return x < T(0) ? -x : x;
}
// std::copysign, bit for bit (-0.0 is negative), for float and double: Kokkos 3.4 lacks it.
template <class T>
KOKKOS_INLINE_FUNCTION T copysign(T magnitude, T sign) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "math::copysign: float or double");
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  constexpr Bits kSign = Bits(1) << (8 * sizeof(T) - 1);
  Bits m, s;
  std::memcpy(&m, &magnitude, sizeof(T));
  std::memcpy(&s, &sign, sizeof(T));
  const Bits out = (m & ~kSign) | (s & kSign);
  T result;
  std::memcpy(&result, &out, sizeof(T));
  return result;
}
template <class T>
KOKKOS_INLINE_FUNCTION bool isfinite(T x) {
  return TESSERA_KOKKOS_MATH::isfinite(x);
}

template <class T>
KOKKOS_INLINE_FUNCTION T min(T a, T b) {
  return b < a ? b : a;
}
template <class T>
KOKKOS_INLINE_FUNCTION T max(T a, T b) {
  return a < b ? b : a;
}
template <class T>
KOKKOS_INLINE_FUNCTION T clamp(T x, T lo, T hi) {
  return x < lo ? lo : (hi < x ? hi : x);
}

#undef TESSERA_KOKKOS_MATH

// Sum of term(j) for j < n in 8 interleaved partial sums, added pairwise at the end. A
// single running sum is a chain of dependent additions that the compiler may not reorder;
// eight independent ones vectorise. The order is fixed (results are deterministic), but
// it is not a sequential sum's.
template <class T, class Term>
KOKKOS_INLINE_FUNCTION T lane_sum(std::size_t n, const Term& term) {
  constexpr std::size_t kLanes = 8;
  T part[kLanes] = {};
  std::size_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (std::size_t k = 0; k < kLanes; ++k) part[k] += term(j + k);
  }
  for (std::size_t k = 0; j < n; ++j, ++k) part[k] += term(j);
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

// Float exp and tanh that the compiler can vectorise (libm's expf/tanhf are scalar calls
// of 5-30 ns here). Written branch-free, with integer bit work instead of float compares
// in selects, which -ftrapping-math (the default) keeps from being if-converted. Double
// keeps the library functions: finite-difference checks run in double.

// exp(x) for float: Cephes' range reduction x = n ln2 + r and degree-6 polynomial; error
// within 2 ulp. Arguments below -87 give 0 (exp(-inf) = 0 for masked scores), above 87
// e^87; NaN stays NaN.
KOKKOS_INLINE_FUNCTION float fast_exp(float a) {
  constexpr std::int32_t kLimit = 0x42AE0000;  // 87.0f
  constexpr std::int32_t kInfinity = 0x7f800000;
  std::int32_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const std::int32_t sign = bits & static_cast<std::int32_t>(0x80000000u);
  std::int32_t magnitude = bits & 0x7fffffff;
  const std::int32_t keep =
      -static_cast<std::int32_t>((magnitude < kLimit) | (magnitude > kInfinity));
  // All ones where the result underflows: a negative argument beyond the limit, not NaN.
  const std::int32_t underflow =
      -static_cast<std::int32_t>((sign != 0) & (magnitude > kLimit) & (magnitude <= kInfinity));
  magnitude = ((magnitude & keep) | (kLimit & ~keep)) | sign;
  float x;
  std::memcpy(&x, &magnitude, sizeof x);
  // Round x log2(e) to an integer through the float format: adding 1.5 * 2^23 leaves the
  // integer in the low mantissa bits.
  const float shifted = x * 1.44269504088896341f + 12582912.0f;
  const float n = shifted - 12582912.0f;
  std::int32_t shifted_bits;
  std::memcpy(&shifted_bits, &shifted, sizeof shifted_bits);
  const std::int32_t exponent = shifted_bits - 0x4B400000;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  // In unsigned arithmetic: for a NaN argument the exponent is garbage, and a signed
  // shift past the sign bit is undefined (UBSan); the result is NaN either way.
  const std::uint32_t scale_bits = (static_cast<std::uint32_t>(exponent) + 127u) << 23;
  float scale;
  std::memcpy(&scale, &scale_bits, sizeof scale);
  float result = y * scale;
  std::int32_t result_bits;
  std::memcpy(&result_bits, &result, sizeof result_bits);
  result_bits &= ~underflow;
  std::memcpy(&result, &result_bits, sizeof result);
  return result;
}
KOKKOS_INLINE_FUNCTION double fast_exp(double x) {
  return exp(x);
}

// tanh(x) for float: Eigen's rational approximation on [-9, 9] (tanh(9) rounds to 1 in
// float), at most 4e-7 absolute error; NaN stays NaN, +-Inf gives +-1.
KOKKOS_INLINE_FUNCTION float fast_tanh(float a) {
  constexpr std::int32_t kNine = 0x41100000;  // 9.0f
  constexpr std::int32_t kInfinity = 0x7f800000;
  std::int32_t bits;
  std::memcpy(&bits, &a, sizeof bits);
  const std::int32_t sign = bits & static_cast<std::int32_t>(0x80000000u);
  std::int32_t magnitude = bits & 0x7fffffff;
  const std::int32_t keep =
      -static_cast<std::int32_t>((magnitude < kNine) | (magnitude > kInfinity));
  magnitude = (magnitude & keep) | (kNine & ~keep);
  float x;
  std::memcpy(&x, &magnitude, sizeof x);
  // Estrin's scheme: shorter dependency chains than Horner's.
  const float x2 = x * x, x4 = x2 * x2, x8 = x4 * x4;
  const float p =
      (4.89352455891786e-03f + x2 * 6.37261928875436e-04f) +
      x4 * (1.48572235717979e-05f + x2 * 5.12229709037114e-08f) +
      x8 * ((-8.60467152213735e-11f + x2 * 2.00018790482477e-13f) + x4 * -2.76076847742355e-16f);
  const float q = (4.89352518554385e-03f + x2 * 2.26843463243900e-03f) +
                  x4 * (1.18534705686654e-04f + x2 * 1.19825839466702e-06f);
  float result = x * p / q;
  std::int32_t result_bits;
  std::memcpy(&result_bits, &result, sizeof result_bits);
  result_bits |= sign;
  std::memcpy(&result, &result_bits, sizeof result);
  return result;
}
KOKKOS_INLINE_FUNCTION double fast_tanh(double x) {
  return tanh(x);
}

}  // namespace tessera::math
