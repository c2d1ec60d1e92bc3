#pragma once
// Copies between host vectors of doubles (what readers, generators and the results file
// speak) and device tensors of any precision, spelled out so that no host-device copy is
// hidden. Values are converted with static_cast; layouts are row-major on both sides.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::tensor {

// Rows [first, first + count) of a row-major (rows x cols) host array -> a new device
// matrix (count x cols).
template <class T>
Matrix<T> from_host(const std::vector<double>& host, std::size_t cols, std::size_t first,
                    std::size_t count, const std::string& label) {
  if ((first + count) * cols > host.size()) {
    throw std::invalid_argument(str(label, ": rows [", first, ", ", first + count, ") x ", cols,
                                    " columns do not fit in ", host.size(), " host values"));
  }
  Matrix<T> out(label, count, cols);
  auto mirror = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      mirror(i, j) = static_cast<T>(host[(first + i) * cols + j]);
    }
  }
  Kokkos::deep_copy(out, mirror);
  return out;
}

// A whole row-major (rows x cols) host array -> a new device matrix.
template <class T>
Matrix<T> from_host(const std::vector<double>& host, std::size_t rows, std::size_t cols,
                    const std::string& label) {
  return from_host<T>(host, cols, 0, rows, label);
}

// A host array -> a new device vector.
template <class T>
Vector<T> from_host(const std::vector<double>& host, const std::string& label) {
  Vector<T> out(label, host.size());
  auto mirror = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < host.size(); ++i) mirror(i) = static_cast<T>(host[i]);
  Kokkos::deep_copy(out, mirror);
  return out;
}

// A host vector of any element type -> a new device view of the same type (index lists,
// masks and geometry that kernels read; graph and halo index views are this type).
template <class T>
Kokkos::View<T*, Kokkos::LayoutRight, MemSpace> to_device(const std::vector<T>& host,
                                                          const std::string& label) {
  Kokkos::View<T*, Kokkos::LayoutRight, MemSpace> out(label, host.size());
  auto mirror = Kokkos::create_mirror_view(out);
  for (std::size_t i = 0; i < host.size(); ++i) mirror(i) = host[i];
  Kokkos::deep_copy(out, mirror);
  return out;
}

// Any contiguous device view (vector, matrix, 3-D tensor) -> its values in row-major
// order as doubles on the host.
template <class View>
std::vector<double> to_host(const View& v) {
  auto mirror = Kokkos::create_mirror_view(v);
  Kokkos::deep_copy(mirror, v);
  return std::vector<double>(mirror.data(), mirror.data() + mirror.size());
}

}  // namespace tessera::tensor
