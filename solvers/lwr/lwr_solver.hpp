#pragma once
// Finite-volume solver for the LWR traffic model rho_t + f(rho)_x = eps rho_xx on a road
// [0, L]: N cells of width dx = L/N, explicit Euler in time, the exact (Godunov) flux
// min(demand, supply) at every interface and central differences for the viscous term.
// Cells are split into contiguous blocks over the ranks of a communicator; one ghost
// cell each side is exchanged before every step. Because each cell update reads only
// its two neighbours and every rank uses the same dt, the result on any number of
// ranks is bitwise identical to one rank. The solver makes the ground truth for the
// traffic PINN and the sensor-network forecasts.
//
// The solver talks on a duplicate of the caller's communicator (parallel::Communicator),
// so its halo messages never match the caller's.
#include <mpi.h>

#include <Kokkos_Core.hpp>
#include <vector>

#include "core/parallel/communicator.hpp"
#include "solvers/lwr/fundamental_diagram.hpp"

namespace tessera::solvers::lwr {

enum class Boundary {
  kRing,  // periodic: a circular road, total mass is conserved
  kOpen   // inflow from upstream_density on the left, outflow into downstream_density
};

struct LwrParameters {
  long long cells = 100;
  double road_length = 1.0;
  FundamentalDiagram diagram;
  double cfl = 0.9;
  double viscosity = 0.0;  // eps >= 0; 0 is the pure hyperbolic LWR model
  Boundary boundary = Boundary::kRing;
  double upstream_density = 0.0;    // open road: density of the road beyond x = 0
  double downstream_density = 0.0;  // open road: density of the road beyond x = L
};

// Throws InputError naming the offending key (solver.cells, solver.cfl, ...) and its
// allowed range.
void validate_parameters(const LwrParameters& p);

// Contiguous block of cells owned by one rank: the first `cells % ranks` ranks get one
// cell more. Throws InputError when there are more ranks than cells.
struct BlockDecomposition {
  long long first = 0;
  long long count = 0;
};
BlockDecomposition block_decomposition(long long cells, int ranks, int rank);

class LwrSolver {
 public:
  // Every rank of comm constructs it (no communication happens here). Validates p and
  // the rank count (InputError); the initial density is zero.
  LwrSolver(MPI_Comm comm, const LwrParameters& p);
  // Copies would share the device buffers (views are handles) and corrupt each other.
  LwrSolver(const LwrSolver&) = delete;
  LwrSolver& operator=(const LwrSolver&) = delete;
  LwrSolver(LwrSolver&&) = default;
  LwrSolver& operator=(LwrSolver&&) = default;

  const LwrParameters& parameters() const { return params_; }
  const FundamentalDiagram& diagram() const { return params_.diagram; }
  MPI_Comm comm() const { return comm_; }

  long long global_cells() const { return params_.cells; }
  long long first_cell() const { return first_; }
  long long local_cells() const { return local_; }
  double dx() const { return dx_; }
  double cell_center(long long global_index) const;

  // Owned cells, host, in global order from first_cell(). Size must be local_cells().
  void set_density(const std::vector<double>& owned);
  // Host copy of the owned cells.
  std::vector<double> density_host() const;
  // Device view of local_cells() + 2 entries: index 0 is the left ghost, 1..local_cells()
  // the owned cells in global order, local_cells() + 1 the right ghost. The ghosts are
  // valid right after exchange_halo() (neighbour values, or the boundary densities at the
  // ends of an open road); a step swaps buffers, so call exchange_halo() before reading
  // them. The handle changes with every step: fetch it again after stepping.
  Kokkos::View<double*> density() const { return rho_; }

  double time() const { return time_; }
  long long steps_taken() const { return steps_; }
  // A run resumed from a checkpoint: the time and step count it had reached (with
  // set_density, the whole state of the solver).
  void restore_clock(double time, long long steps);

  // Largest dt of a monotone step: dt (a/dx + 2 eps/dx^2) <= cfl with a the maximal
  // characteristic speed. This is at most cfl dx/a and at most cfl dx^2/(2 eps); the
  // sum (not just each limit alone) is what keeps upwind advection plus explicit
  // diffusion free of oscillations. With eps = 0 it is exactly cfl dx/a.
  double stable_dt() const;

  // Halo exchange, then one explicit step. Collective. Throws std::logic_error when
  // dt > stable_dt() (with a relative slack of 1e-12) or dt < 0.
  void step(double dt);
  // Steps of stable_dt(), the last one shortened to land exactly on t_target.
  // Collective. Throws std::logic_error when t_target < time().
  void advance_to(double t_target);

  // Open road: the densities beyond x = 0 and x = L from now on (boundary data that
  // changes in time, such as measured detector series). std::invalid_argument outside
  // [0, rho_max].
  void set_boundary_densities(double upstream, double downstream);

  // Fills the ghost cells from the neighbouring ranks (or the boundary densities).
  // Collective; step() calls it, exposed for tests and for callers reading ghosts.
  void exchange_halo();

  // Sum of rho dx over all cells of all ranks (MPI_Allreduce). Collective.
  double total_mass() const;

  // Whether this rank owns the cell containing x (x == L belongs to the last cell).
  bool owns_position(double x) const;
  // Density of the cell containing x; only on the owner (std::logic_error elsewhere),
  // std::out_of_range when x is outside [0, L].
  double density_at(double x) const;

  // Collective. Throws std::runtime_error naming the step, the time and the first bad
  // cell when any rank holds NaN/Inf or a density outside [-tol, rho_max + tol],
  // tol = 1e-9 rho_max: a monotone scheme never leaves [0, rho_max], so this means a
  // broken setup (or a bug), not a tolerance to tune.
  void check_finite() const;

 private:
  long long cell_index(double x) const;  // global cell containing x, clamped to [0, N-1]

  parallel::Communicator comm_;  // a duplicate of the caller's
  LwrParameters params_;
  int rank_ = 0;
  int size_ = 1;
  int left_ = MPI_PROC_NULL;  // neighbour ranks; MPI_PROC_NULL at the ends of an open road
  int right_ = MPI_PROC_NULL;
  long long first_ = 0;
  long long local_ = 0;
  double dx_ = 0.0;
  double time_ = 0.0;
  long long steps_ = 0;

  Kokkos::View<double*> rho_;       // owned + 2 ghosts, layout documented at density()
  Kokkos::View<double*> rho_next_;  // same layout, written by the update, then swapped
  Kokkos::View<double*> flux_;      // local + 1 interface fluxes, flux_(j) between j, j+1
  // Halo buffers: [0] = first owned / left ghost, [1] = last owned / right ghost.
  Kokkos::View<double*> send_;
  Kokkos::View<double*> recv_;
  Kokkos::View<double*>::HostMirror send_host_;
  Kokkos::View<double*>::HostMirror recv_host_;
  Kokkos::View<double*>::HostMirror rho_host_;
};

}  // namespace tessera::solvers::lwr
