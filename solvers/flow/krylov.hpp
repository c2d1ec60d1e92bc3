#pragma once
// Distributed Krylov solvers with Jacobi preconditioning over a DistributedCsr: CG for
// the symmetric positive definite systems (pressure Poisson, mass), BiCGStab for the
// non-symmetric momentum system. Each matrix-vector product first gathers the one-hop
// halo; dot products are local sums joined by MPI_Allreduce, so every rank takes the
// same iteration path.
#include <mpi.h>

#include <string>

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

// Solve A x = b; x holds the initial guess on entry (owned rows; ghosts are refreshed).
// On return x's ghosts are valid.
KrylovStats conjugate_gradient(MPI_Comm comm, const parallel::HaloPlan& plan,
                               const DistributedCsr& a, const Vec& b, const Vec& x,
                               const KrylovOptions& options);
KrylovStats bicgstab(MPI_Comm comm, const parallel::HaloPlan& plan, const DistributedCsr& a,
                     const Vec& b, const Vec& x, const KrylovOptions& options);

// Global dot product over owned rows.
double dot(MPI_Comm comm, std::size_t owned, const Vec& a, const Vec& b);

}  // namespace tessera::solvers::flow
