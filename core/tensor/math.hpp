#pragma once
// Math functions usable in kernels on Kokkos 3.4 (Kokkos::Experimental::) and 3.7+/4.x
// (Kokkos::). Also min/max/clamp, which Kokkos 3.4 lacks.
#include <Kokkos_Core.hpp>

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
KOKKOS_INLINE_FUNCTION T abs(T x) {
  return x < T(0) ? -x : x;
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

}  // namespace tessera::math
