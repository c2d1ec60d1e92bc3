#pragma once
// Gradient clipping by the global 2-norm over all parameter gradients, as
// torch.nn.utils.clip_grad_norm_: g *= min(1, max_norm / (norm + 1e-6)).
//
// With a communicator the norm is taken over the gradients of every rank together. That
// is for gradients that are split over ranks (sharded parameters, or clipping before
// the gradient all-reduce of a data-parallel run). After parallel::GradientAllreduce
// every rank holds the same gradient: clip without a communicator then.
#include <mpi.h>

#include <cmath>
#include <string>

#include "core/nn/parameter_store.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/reduce.hpp"

namespace tessera::optim {

// sqrt(sum of squared gradients), accumulated in double; summed over `comm` unless it is
// MPI_COMM_NULL (collective then).
template <class T>
double global_grad_norm(const nn::ParameterStore<T>& store, MPI_Comm comm = MPI_COMM_NULL) {
  double squares = tensor::squared_norm(store.grads());
  if (comm != MPI_COMM_NULL) {
    MPI_Allreduce(MPI_IN_PLACE, &squares, 1, MPI_DOUBLE, MPI_SUM, comm);
  }
  return std::sqrt(squares);
}

// Scales the gradients so that their global norm is at most `max_norm`; returns the norm
// before clipping. A NaN or Inf norm is an error (clipping cannot repair it): the rank
// that holds the bad entry names its parameter slice, the others say it is elsewhere.
// Every rank of `comm` throws together.
template <class T>
double clip_grad_norm(nn::ParameterStore<T>& store, double max_norm,
                      MPI_Comm comm = MPI_COMM_NULL) {
  if (!(max_norm >= 0)) {
    throw InputError(str("clip_grad_norm: max_norm = ", max_norm, " must not be negative"));
  }
  const double norm = global_grad_norm(store, comm);
  if (!std::isfinite(norm)) {
    store.check_finite("clip_grad_norm");
    throw std::runtime_error(
        "clip_grad_norm: the global gradient norm is not finite (NaN or Inf on another rank)");
  }
  const double coefficient = max_norm / (norm + 1e-6);
  if (coefficient < 1) {
    const T c = static_cast<T>(coefficient);
    const tensor::Vector<T> g = store.grads();
    Kokkos::parallel_for(
        "optim::clip_grad_norm", Kokkos::RangePolicy<tensor::ExecSpace>(0, g.extent(0)),
        KOKKOS_LAMBDA(const int i) { g(i) *= c; });
  }
  return norm;
}

}  // namespace tessera::optim
