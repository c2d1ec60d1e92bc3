#pragma once
// Data-parallel gradient reduction: the flat gradient buffer of a ParameterStore is
// summed over a communicator with ONE MPI_Allreduce, and for `average` divided by the
// rank count. With `average`, each rank must have computed its gradient scaled so that
// the average over ranks is the full-batch gradient (for a mean loss over N rows of which
// a rank holds n_r: scale the local gradient of sum-over-own-rows / N by the rank count);
// with `sum`, each rank's gradient is its share of the full one (sum over own rows / N),
// which is what a mesh split over ranks gives (each rank the terms of its own nodes).
//
// MPI sees host memory through a mirror (a no-op on host builds) unless the build
// defines TESSERA_GPU_AWARE_MPI, in which case device pointers go straight to MPI.
#include <mpi.h>

#include <climits>
#include <string>
#include <type_traits>

#include "core/nn/parameter_store.hpp"
#include "core/parallel/mpi_types.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/tensor.hpp"

namespace tessera::parallel {

template <class T>
class GradientAllreduce {
 public:
  explicit GradientAllreduce(MPI_Comm comm) : comm_(comm) { MPI_Comm_size(comm, &size_); }

  // Collective over the communicator. Every rank's store must have the same size.
  void average(nn::ParameterStore<T>& store) {
    if (size_ == 1) return;
    sum(store);
    const tensor::Vector<T> grads = store.grads();
    const T inverse = static_cast<T>(1.0 / size_);
    Kokkos::parallel_for(
        "parallel::gradient_average", Kokkos::RangePolicy<tensor::ExecSpace>(0, grads.extent(0)),
        KOKKOS_LAMBDA(const int i) { grads(i) *= inverse; });
  }

  // Collective: every rank's gradients become the sum over ranks.
  void sum(nn::ParameterStore<T>& store) {
    if (size_ == 1) return;
    const tensor::Vector<T> grads = store.grads();
    const std::size_t n = grads.extent(0);
    if (n > static_cast<std::size_t>(INT_MAX)) {
      throw std::runtime_error(
          str("gradient all-reduce: ", n, " gradients exceed one MPI message (INT_MAX entries)"));
    }
    Kokkos::fence();  // kernels that wrote the gradients must be done before MPI reads them
#ifdef TESSERA_GPU_AWARE_MPI
    MPI_Allreduce(MPI_IN_PLACE, grads.data(), static_cast<int>(n), mpi_type<T>(), MPI_SUM, comm_);
#else
    using Mirror = typename tensor::Vector<T>::HostMirror;
    if constexpr (std::is_same<typename Mirror::memory_space, tensor::MemSpace>::value) {
      MPI_Allreduce(MPI_IN_PLACE, grads.data(), static_cast<int>(n), mpi_type<T>(), MPI_SUM, comm_);
    } else {
      // Staging buffer kept between calls.
      if (host_.extent(0) != n) host_ = Mirror("parallel::gradient_staging", n);
      Kokkos::deep_copy(host_, grads);
      MPI_Allreduce(MPI_IN_PLACE, host_.data(), static_cast<int>(n), mpi_type<T>(), MPI_SUM, comm_);
      Kokkos::deep_copy(grads, host_);
    }
#endif
  }

  MPI_Comm comm() const {
    return comm_;
  }
  int ranks() const {
    return size_;
  }

 private:
  MPI_Comm comm_;
  int size_ = 1;
  typename tensor::Vector<T>::HostMirror host_;
};

// One-off form of GradientAllreduce::average (a training loop should keep the object,
// which keeps its staging buffer between steps).
template <class T>
void average_gradients(nn::ParameterStore<T>& store, MPI_Comm comm) {
  GradientAllreduce<T>(comm).average(store);
}

}  // namespace tessera::parallel
