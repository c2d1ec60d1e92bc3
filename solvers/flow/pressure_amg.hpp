#pragma once
// The pressure Poisson problem solved by hypre: CG preconditioned with one BoomerAMG
// V-cycle per iteration. Jacobi-CG needs about twice the iterations per mesh refinement
// (334 at 3.5k vertices, 1,314 at 54k); AMG keeps the count nearly flat, which is what
// makes the 200k-vertex meshes of the strong-scaling benchmark practical.
//
// Hypre wants each rank to own a contiguous block of global rows; the DistributedCsr
// numbers rows by the HaloPlan instead, and carries identity rows for the P2 midpoints
// (no pressure there). The solver therefore numbers the "active" rows (the vertices)
// rank by rank, builds the hypre matrix once from the assembled values, and copies the
// right-hand side and the solution in and out at every solve. Inactive rows keep x = 0.
//
// Built only when CMake finds hypre (Debian: libhypre-dev); hypre_available() says so,
// and constructing the solver without it is an InputError naming the remedy.
#include <mpi.h>

#include <memory>
#include <vector>

#include "solvers/flow/distributed_csr.hpp"
#include "solvers/flow/krylov.hpp"

namespace tessera::solvers::flow {

bool hypre_available();

class AmgPressureSolver {
 public:
  // `active` (one flag per local node, owned then ghosts) marks the rows solved; every
  // coupling of an active row must be to active columns (true for the vertex Laplacian).
  // Collective.
  AmgPressureSolver(MPI_Comm comm, const parallel::HaloPlan& plan, const DistributedCsr& a,
                    const std::vector<char>& active, const KrylovOptions& options);
  ~AmgPressureSolver();
  AmgPressureSolver(const AmgPressureSolver&) = delete;
  AmgPressureSolver& operator=(const AmgPressureSolver&) = delete;

  // Solve A x = b; x holds the initial guess on entry. On return x's ghosts are valid.
  // The residuals reported are |b - A x| computed with the DistributedCsr, so they mean
  // the same as conjugate_gradient's. With `timers`, the halo exchanges and all-reduces
  // of those residuals are timed (krylov.hpp); hypre's own communication inside PCG and
  // the V-cycles cannot be timed from here and counts in neither region.
  KrylovStats solve(const Vec& b, const Vec& x, runtime::Timers* timers = nullptr);

  // Rows in the hypre system, summed over ranks.
  long long global_rows() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera::solvers::flow
