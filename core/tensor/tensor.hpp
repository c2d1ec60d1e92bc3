#pragma once
// Tensors are plain Kokkos Views with LayoutRight (row-major, like PyTorch), in the
// default execution space's memory. These aliases keep signatures short; an
// "unmanaged" view points into memory owned by someone else (a slice of the flat
// parameter buffer, a batch of a 3-D tensor).
#include <Kokkos_Core.hpp>
#include <cstddef>
#include <string>

namespace tessera::tensor {

using ExecSpace = Kokkos::DefaultExecutionSpace;
using MemSpace = ExecSpace::memory_space;

template <class T>
using Vector = Kokkos::View<T*, Kokkos::LayoutRight, MemSpace>;
template <class T>
using Matrix = Kokkos::View<T**, Kokkos::LayoutRight, MemSpace>;
template <class T>
using Tensor3 = Kokkos::View<T***, Kokkos::LayoutRight, MemSpace>;

template <class T>
using UnmanagedVector =
    Kokkos::View<T*, Kokkos::LayoutRight, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
template <class T>
using UnmanagedMatrix =
    Kokkos::View<T**, Kokkos::LayoutRight, MemSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

// A matrix view of `rows x cols` entries starting at `data` (no ownership).
template <class T>
Matrix<T> matrix_view(T* data, std::size_t rows, std::size_t cols) {
  return Matrix<T>(data, rows, cols);
}
template <class T>
Vector<T> vector_view(T* data, std::size_t size) {
  return Vector<T>(data, size);
}

// Allocates a zeroed matrix with a label (labels show up in Kokkos Tools).
template <class T>
Matrix<T> zeros(const std::string& label, std::size_t rows, std::size_t cols) {
  return Matrix<T>(label, rows, cols);
}

// (Re)allocates `m` to rows x cols unless it already has that shape (contents are then
// kept). For activation buffers that layers reuse between steps.
template <class T>
void ensure_shape(Matrix<T>& m, const std::string& label, std::size_t rows, std::size_t cols) {
  if (m.extent(0) != rows || m.extent(1) != cols || m.data() == nullptr) {
    m = Matrix<T>(label, rows, cols);
  }
}
template <class T>
void ensure_size(Vector<T>& v, const std::string& label, std::size_t size) {
  if (v.extent(0) != size || v.data() == nullptr) v = Vector<T>(label, size);
}

// "[3 x 4]" for error messages.
template <class View>
std::string shape_text(const View& v) {
  std::string out = "[";
  for (unsigned r = 0; r < View::rank; ++r) {
    out += (r ? " x " : "") + std::to_string(v.extent(r));
  }
  return out + "]";
}

}  // namespace tessera::tensor
