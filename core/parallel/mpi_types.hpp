#pragma once
// The MPI datatype of a C++ scalar type.
#include <mpi.h>

#include <cstdint>
#include <type_traits>

namespace tessera::parallel {

template <class T>
MPI_Datatype mpi_type() {
  if constexpr (std::is_same_v<T, float>) return MPI_FLOAT;
  if constexpr (std::is_same_v<T, double>) return MPI_DOUBLE;
  if constexpr (std::is_same_v<T, int>) return MPI_INT;
  if constexpr (std::is_same_v<T, long long>) return MPI_LONG_LONG;
  if constexpr (std::is_same_v<T, std::int64_t>) return MPI_INT64_T;
  static_assert(std::is_arithmetic_v<T>, "mpi_type: not an arithmetic type");
  return MPI_BYTE;
}

}  // namespace tessera::parallel
