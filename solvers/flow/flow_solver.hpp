#pragma once
// Incompressible Navier-Stokes (density 1, viscosity nu) on a triangle mesh, distributed
// over a METIS partition of the nodes with one-hop halos:
//   u_t + (u . grad) u - nu lap u + grad p = 0,  div u = 0.
// Taylor-Hood P2-P1 elements (isoparametric, so a snapped cylinder is curved) and the
// incremental pressure-correction scheme (Goda; Guermond, Minev & Shen 2006) with BDF2
// and extrapolated convection: each step solves
//   1. momentum   (3/(2dt) M + N(u_ext) + nu K) u* = M (...) + (p^n, div v)  [BiCGStab]
//   2. pressure   (grad phi, grad q) = -3/(2dt) (div u*, q),  p^{n+1} = p^n + phi  [CG]
//   3. correction M (u^{n+1} - u*) = 2dt/3 (phi, div v)  [CG]
// all with Jacobi preconditioning. The scheme is linearly implicit (no CFL limit from
// the viscous term); steady flows are reached by marching, and a steady state of the
// scheme is exactly the Taylor-Hood Galerkin solution.
//
// Boundary parts come from the mesh's boundary tags: kInflow, kWall and kObstacle take
// Dirichlet velocities from FlowBoundary::velocity; kOutflow is do-nothing
// (nu du/dn - p n = 0 weakly) with the pressure held at its value there.
#include <mpi.h>

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/mesh/mesh.hpp"
#include "core/parallel/communicator.hpp"
#include "core/parallel/halo_plan.hpp"
#include "core/parallel/partition.hpp"
#include "solvers/flow/distributed_csr.hpp"
#include "solvers/flow/element_values.hpp"
#include "solvers/flow/krylov.hpp"
#include "solvers/flow/p2_mesh.hpp"
#include "solvers/flow/pressure_amg.hpp"

namespace tessera::solvers::flow {

// Pressure Poisson solver: Jacobi-preconditioned CG (always there) or CG with a
// BoomerAMG V-cycle from hypre (pressure_amg.hpp; needs a build with hypre).
enum class PressureSolver { kCg, kAmg };

struct FlowParameters {
  double viscosity = 1e-3;
  double dt = 1e-3;
  int time_order = 2;  // 1: backward Euler, 2: BDF2 (its first step is backward Euler)
  // Midpoints of obstacle edges are moved onto this circle (curved cylinder).
  std::optional<Circle> obstacle_circle;
  // Tests with an exact solution prescribe the velocity on the outflow part too.
  bool outflow_velocity_dirichlet = false;
  // Largest |u| dt / h allowed (h: shortest edge of an element); 0 turns the check off.
  // The convection term is extrapolated, so steps far beyond CFL 1 lose accuracy and
  // eventually stability.
  double max_cfl = 0;
  // |u| beyond this is taken as divergence.
  double velocity_limit = 1e3;
  KrylovOptions momentum{1e-9, 1e-14, 2000};
  KrylovOptions pressure{1e-9, 1e-14, 10000};
  PressureSolver pressure_solver = PressureSolver::kCg;
  KrylovOptions correction{1e-10, 1e-15, 1000};
  int partition_seed = 1;
};

// Dirichlet velocity at (x, y) at time t on the boundary part `tag` (a corner takes the
// first of obstacle, wall, inflow, outflow it lies on).
using BoundaryVelocity =
    std::function<std::array<double, 2>(double x, double y, double t, mesh::BoundaryTag tag)>;

struct FlowBoundary {
  BoundaryVelocity velocity;
  // Pressure held on the outflow part (constant in time); empty: 0.
  std::function<double(double x, double y)> outflow_pressure;
};

struct StepReport {
  long long step = 0;
  double time = 0;
  KrylovStats momentum_x, momentum_y, pressure, correction_x, correction_y;
  double max_velocity = 0;
  double cfl = 0;
  // max |u^{n+1} - u^n| / (dt max(|u|, 1e-300)): how far from steady.
  double relative_change = 0;
  int linear_iterations() const {
    return momentum_x.iterations + momentum_y.iterations + pressure.iterations +
           correction_x.iterations + correction_y.iterations;
  }
};

struct Forces {
  double fx = 0;  // drag direction
  double fy = 0;  // lift direction
};

// The solver's decomposition, also used by `tessera bench scaling_model` to compute the
// halo volumes of P parts without running P ranks: METIS partitions the vertex adjacency
// of the P1 mesh (the mesh the models see, no self-loops) with FlowParameters::
// partition_seed; a P2 midpoint goes with its edge's first vertex; each part keeps the
// one-hop halo of p2_graph (p2_mesh.hpp) as ghosts.
graph::HostCsr flow_vertex_graph(const P2Mesh& p2);
// partition_metis(flow_vertex_graph(p2), parts, seed).
parallel::Partition flow_vertex_partition(const P2Mesh& p2, int parts, int seed);
// Owner of every P2 node (vertices, then midpoints) from a partition of the vertices.
// InputError when the partition does not have one entry per vertex.
std::vector<int> p2_node_owner(const P2Mesh& p2, const parallel::Partition& vertex_partition);

class FlowSolver {
 public:
  // Collective. Every rank passes the whole mesh (replicated, like the HaloPlan's graph).
  // `partition` of the mesh vertices; empty: METIS over the communicator's ranks.
  // InputError for a mesh without an outflow part (the pressure would float), or one
  // whose elements fold when the obstacle is snapped.
  FlowSolver(MPI_Comm comm, const mesh::Mesh& mesh, FlowParameters parameters,
             FlowBoundary boundary, const std::string& source = "flow mesh",
             std::optional<parallel::Partition> partition = std::nullopt);
  ~FlowSolver();

  // Initial velocity and pressure at every node (boundary values then overwritten by the
  // boundary conditions at t = 0). Without it the fluid starts at rest.
  void set_initial(const std::function<std::array<double, 3>(double x, double y)>& state);
  void set_time(double t) { time_ = t; }

  // One step; CollectiveError (same on every rank) naming the step and time when the
  // state becomes non-finite, exceeds velocity_limit or the CFL limit. The solver then
  // still holds the last good state.
  StepReport step();

  // Times the communication of step() in `timers` (regions kHaloExchangeRegion and
  // kAllreduceRegion of krylov.hpp, nested in the caller's region around step()).
  // nullptr, the default: nothing is timed. Not owned; it must outlive the steps.
  void set_timers(runtime::Timers* timers) { timers_ = timers; }

  double time() const { return time_; }
  long long steps_taken() const { return steps_; }
  const FlowParameters& parameters() const { return parameters_; }
  const P2Mesh& p2_mesh() const { return p2_; }
  const parallel::HaloPlan& plan() const { return *plan_; }
  std::size_t global_vertices() const { return p2_.num_vertices; }
  std::size_t global_nodes() const { return p2_.num_nodes(); }
  // Shortest vertex-to-vertex edge of the mesh (for CFL estimates).
  double min_edge_length() const { return min_edge_; }

  // Force of the fluid on the obstacle (kObstacle nodes) at the current state, from the
  // momentum residual tested with a function that is 1 on the obstacle (John 2004):
  // more accurate than integrating the stress over the surface.
  Forces obstacle_forces() const;
  // Pressure at the vertex nearest to (x, y) (exact at mesh vertices). Collective.
  double pressure_at(double x, double y) const;

  // The vertices this rank owns (global ids, ascending) and their values: velocity
  // (owned x 2, row-major) and pressure.
  const std::vector<std::int64_t>& owned_vertices() const { return owned_vertices_; }
  std::vector<double> owned_vertex_velocity() const;
  std::vector<double> owned_vertex_pressure() const;
  // Whole-mesh vertex fields on every rank (Allgather): velocity (N x 2) and pressure.
  std::vector<double> global_vertex_velocity() const;
  std::vector<double> global_vertex_pressure() const;

  // Everything step() carries from one step to the next, over all P2 nodes in global
  // order (vertices, then edge midpoints: the P2Mesh numbering, which does not depend on
  // the partition), so that a checkpoint resumes on any rank count. Restoring it into a
  // solver on the same mesh and rank count continues bitwise as if never interrupted:
  //   velocity, u^n and u^{n-1} (BDF2 and the convection extrapolation); pressure p^n
  //   (incremental scheme); du/dt and the extrapolated velocity the convection matrix
  //   was last assembled with (both only enter obstacle_forces() before the next step);
  //   the time and the step count (BDF2 starts with one backward Euler step).
  // The Krylov solvers start from guesses made inside step() (the extrapolated velocity,
  // zero increments), so they carry nothing.
  struct State {
    std::vector<double> ux, uy, ux_old, uy_old, p, dux_dt, duy_dt, convection_ux, convection_uy;
    double time = 0;
    long long steps = 0;
  };
  // Collective. Complete on rank 0 only (the one that writes checkpoints); other ranks
  // get the time and step count with empty fields, which keeps the memory of a large run
  // off every rank.
  State state() const;
  // Not collective: every rank passes the complete state (read from a checkpoint).
  // InputError when the field sizes are not this mesh's node count.
  void restore(const State& state);

  // L2 norms of (u_h - u) and (p_h - p) over the domain for an exact (u, v, p).
  std::array<double, 2> l2_errors(
      const std::function<std::array<double, 3>(double x, double y)>& exact) const;

  // Public only for nvcc, which cannot compile a device lambda inside a private or
  // protected member function; not part of the interface.
  // The convection matrix N(u) of a velocity with valid ghosts.
  void assemble_convection(const Vec& ux, const Vec& uy);
  // The boundary velocity at time t on the Dirichlet nodes of ux, uy.
  void set_dirichlet(const Vec& ux, const Vec& uy, double t);

 private:
  // After copy_step_data_to_device (it reads the device masks).
  void assemble_constant_matrices();
  void copy_step_data_to_device(const std::vector<char>& velocity_dirichlet,
                                const std::vector<char>& pressure_fixed,
                                const std::vector<int>& obstacle_rows);
  std::vector<double> gather_global(const std::vector<double>& owned_values, int components) const;

  parallel::Communicator comm_;  // a duplicate of the caller's
  FlowParameters parameters_;
  FlowBoundary boundary_;
  P2Mesh p2_;
  std::unique_ptr<parallel::HaloPlan> plan_;
  std::vector<int> local_elements_;    // my elements x 6, local ids
  std::vector<char> element_counted_;  // 1 when this rank counts the element in integrals
  ElementValues values_;
  // Nodes with a Dirichlet velocity (local ids, owned and ghosts) and their boundary
  // parts: the boundary callback runs on the host for these nodes only.
  std::vector<int> dirichlet_nodes_;
  std::vector<mesh::BoundaryTag> dirichlet_tags_;
  std::vector<std::int64_t> owned_vertices_;
  std::vector<int> owned_vertex_local_;
  double min_edge_ = 0;

  DistributedCsr mass_, stiffness_, convection_, momentum_, mass_dirichlet_, laplace_;
  DistributedCsr div_x_, div_y_, grad_x_, grad_y_;
  std::unique_ptr<AmgPressureSolver> pressure_amg_;  // when pressure_solver is kAmg
  Vec ux_, uy_, ux_old_, uy_old_, p_, dux_dt_, duy_dt_;
  Vec convection_ux_, convection_uy_;  // what convection_ was last assembled with

  // What step()'s kernels read, copied to the device once, so that a step does no work
  // on the host beyond the boundary callback on the Dirichlet nodes.
  struct DeviceData {
    Kokkos::View<int*, tensor::MemSpace> elements;          // E x 6 local node ids
    Kokkos::View<double*, tensor::MemSpace> wdet;           // E x Q
    Kokkos::View<double*, tensor::MemSpace> grad_phi;       // E x Q x 6 x 2
    Kokkos::View<double*, tensor::MemSpace> phi;            // Q x 6: the reference P2 basis
    Kokkos::View<double*, tensor::MemSpace> shortest_edge;  // per element, for the CFL number
    Kokkos::View<int*, tensor::MemSpace> position;          // the velocity pattern's, E x 36
    // The convection assembly: element matrices (E x 36), then per owned row the elements
    // that hold it, as e * 6 + its place in e, ascending in e, so that the rows add in an
    // element loop's order (no atomics, the same bits on every backend).
    Kokkos::View<double*, tensor::MemSpace> element_matrices;
    Kokkos::View<int*, tensor::MemSpace> row_element_ptr, row_elements;
    Kokkos::View<char*, tensor::MemSpace> velocity_dirichlet, pressure_fixed;  // per local node
    Kokkos::View<int*, tensor::MemSpace> obstacle_rows;                        // owned rows
    Kokkos::View<int*, tensor::MemSpace> dirichlet_nodes;                      // dirichlet_nodes_
    Kokkos::View<double*, tensor::MemSpace> dirichlet_values;  // (x, y) per Dirichlet node
    Kokkos::View<double*, tensor::MemSpace>::HostMirror dirichlet_values_host;
  } device_;
  // step()'s vectors, kept across steps (local_count() x 1 each).
  struct StepVectors {
    Vec ex, ey, wx, wy, tmp, bx, by, sx, sy, rhs, phi, p_new, ux_new, uy_new, delta;
  } work_;
  KrylovWorkspace krylov_workspace_;
  double time_ = 0;
  long long steps_ = 0;
  runtime::Timers* timers_ = nullptr;
};

}  // namespace tessera::solvers::flow
