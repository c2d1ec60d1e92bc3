#pragma once
// Distributed Krylov solvers with Jacobi preconditioning over a DistributedCsr: CG for
// the symmetric positive definite systems (pressure Poisson, mass), BiCGStab for the
// non-symmetric momentum system. Each matrix-vector product first gathers the one-hop
// halo; dot products are local sums joined by MPI_Allreduce, so every rank takes the
// same iteration path.
//
// Communication can be timed: every function here takes an optional runtime::Timers
// (nullptr, the default: nothing is timed, the cost is one null check per exchange).
// The two regions nest inside the caller's "solver" region (solvers/flow/run.cpp), and
// their call counts are the messages a step sends (run.h5: halo_exchanges_per_step,
// allreduces_per_step):
//   solver.halo_exchange  every HaloPlan::gather (ghost update before a matrix-vector
//                         product, and of the solution at the end of a solve)
//   solver.allreduce      every MPI_Allreduce (dot products and norms, the step's checks)
#include <mpi.h>

#include <string>
#include <vector>

#include "core/runtime/timers.hpp"
#include "solvers/flow/distributed_csr.hpp"

namespace tessera::solvers::flow {

struct KrylovOptions {
  double relative_tolerance = 1e-8;  // stop when |r| <= max(rel |b|, abs)
  double absolute_tolerance = 1e-14;
  int max_iterations = 2000;
};

struct KrylovStats {
  int iterations = 0;
  double initial_residual = 0;  // |b - A x0|
  double final_residual = 0;
  bool converged = false;
};

// Vectors a solve works in, kept from one solve to the next so that a time step allocates
// nothing (a solve otherwise allocates 4 vectors (CG) or 8 (BiCGStab) and the inverse
// diagonal). One workspace serves any number of solves one after another on the same
// HaloPlan; it is resized when a solve needs more or larger vectors.
struct KrylovWorkspace {
  std::vector<Vec> vectors;
  Kokkos::View<double*, tensor::MemSpace> inverse_diagonal;
};

inline constexpr const char* kHaloExchangeRegion = "solver.halo_exchange";
inline constexpr const char* kAllreduceRegion = "solver.allreduce";

// plan.gather(v), timed as kHaloExchangeRegion when `timers` is given (after a fence, so
// that the region holds the exchange and not kernels still running before it).
void timed_gather(const parallel::HaloPlan& plan, const Vec& v, runtime::Timers* timers);
// MPI_Allreduce, timed as kAllreduceRegion when `timers` is given.
void timed_allreduce(const void* send, void* receive, int count, MPI_Datatype type, MPI_Op op,
                     MPI_Comm comm, runtime::Timers* timers);

// Solve A x = b; x holds the initial guess on entry (owned rows; ghosts are refreshed).
// On return x's ghosts are valid. Without a workspace the solve allocates its vectors.
KrylovStats conjugate_gradient(MPI_Comm comm, const parallel::HaloPlan& plan,
                               const DistributedCsr& a, const Vec& b, const Vec& x,
                               const KrylovOptions& options, runtime::Timers* timers = nullptr,
                               KrylovWorkspace* workspace = nullptr);
KrylovStats bicgstab(MPI_Comm comm, const parallel::HaloPlan& plan, const DistributedCsr& a,
                     const Vec& b, const Vec& x, const KrylovOptions& options,
                     runtime::Timers* timers = nullptr, KrylovWorkspace* workspace = nullptr);

// r = b - A x on the owned rows (x's ghosts gathered first).
void residual(const parallel::HaloPlan& plan, const DistributedCsr& a, const Vec& b, const Vec& x,
              const Vec& r, runtime::Timers* timers = nullptr);

// Global dot product over owned rows.
double dot(MPI_Comm comm, std::size_t owned, const Vec& a, const Vec& b,
           runtime::Timers* timers = nullptr);

}  // namespace tessera::solvers::flow
