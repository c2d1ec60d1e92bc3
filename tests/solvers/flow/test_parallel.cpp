// 1, 2 and 4 ranks give the 1-rank result to solver tolerance: the same DFG run (BDF2,
// unsteady) on the whole communicator and on MPI_COMM_SELF, fields and forces compared;
// a solver state (checkpoints) restored on the same and on another rank count.
#include <Kokkos_Core.hpp>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/mesh/channel_generator.hpp"
#include "core/runtime/error.hpp"
#include "solvers/flow/dfg.hpp"
#include "tests/support/catch.hpp"

using namespace tessera;
using namespace tessera::solvers::flow;

namespace {

struct RunResult {
  std::vector<double> velocity, pressure;
  Coefficients coefficients;
  int iterations = 0;
  int pressure_iterations = 0;
};

// The coarse DFG channel these tests run on.
mesh::Mesh coarse_channel() {
  mesh::ChannelSpec spec;
  spec.mesh_size = 0.05;
  spec.cylinder_mesh_size = 0.015;
  return mesh::generate_channel_mesh(spec);
}

// DFG 2D-2's inflow, ramped up over 0.05 s so that ten steps of 0.01 s see it change.
ChannelFlow ramped_flow() {
  ChannelFlow flow;
  flow.max_inflow = 1.5;
  flow.ramp_time = 0.05;
  return flow;
}

FlowParameters unsteady_parameters() {
  FlowParameters p;
  p.viscosity = 1e-3;
  p.dt = 0.01;
  p.obstacle_circle = Circle{0.2, 0.2, 0.05};
  return p;
}

RunResult run(MPI_Comm comm, const mesh::Mesh& m,
              PressureSolver pressure_solver = PressureSolver::kCg) {
  const ChannelFlow flow = ramped_flow();
  FlowParameters p = unsteady_parameters();
  p.momentum.relative_tolerance = 1e-12;
  p.pressure.relative_tolerance = 1e-12;
  p.correction.relative_tolerance = 1e-12;
  p.pressure_solver = pressure_solver;
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  FlowSolver solver(comm, m, p, b, "dfg parallel");
  RunResult out;
  for (int k = 0; k < 10; ++k) {
    const StepReport report = solver.step();
    out.iterations += report.linear_iterations();
    out.pressure_iterations += report.pressure.iterations;
  }
  out.velocity = solver.global_vertex_velocity();
  out.pressure = solver.global_vertex_pressure();
  out.coefficients = force_coefficients(solver.obstacle_forces(), flow);
  return out;
}

double max_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

TEST_CASE("distributed flow matches one rank", "[parallel]") {
  const mesh::Mesh m = coarse_channel();
  const RunResult serial = run(MPI_COMM_SELF, m);
  const RunResult parallel = run(MPI_COMM_WORLD, m);
  REQUIRE(parallel.velocity.size() == serial.velocity.size());
  const double dv = max_difference(parallel.velocity, serial.velocity);
  const double dp = max_difference(parallel.pressure, serial.pressure);
  INFO("max velocity difference " << dv << ", pressure " << dp << "; iterations "
                                  << parallel.iterations << " vs " << serial.iterations);
  CHECK(dv < 1e-8);
  CHECK(dp < 1e-8);
  CHECK(std::abs(parallel.coefficients.drag - serial.coefficients.drag) < 1e-7);
  CHECK(std::abs(parallel.coefficients.lift - serial.coefficients.lift) < 1e-7);
}

// hypre's AMG-preconditioned CG over the communicator against Jacobi-CG on one rank:
// both solve to 1e-12, so the fields agree to solver tolerance, in far fewer iterations.
TEST_CASE("AMG pressure solver matches Jacobi-CG on one rank", "[parallel]") {
  if (!hypre_available()) {
    WARN("this build has no hypre: the AMG pressure solver is not tested");
    return;
  }
  const mesh::Mesh m = coarse_channel();
  const RunResult serial = run(MPI_COMM_SELF, m, PressureSolver::kCg);
  const RunResult amg = run(MPI_COMM_WORLD, m, PressureSolver::kAmg);
  REQUIRE(amg.velocity.size() == serial.velocity.size());
  const double dv = max_difference(amg.velocity, serial.velocity);
  const double dp = max_difference(amg.pressure, serial.pressure);
  INFO("max velocity difference " << dv << ", pressure " << dp << "; pressure iterations "
                                  << amg.pressure_iterations << " (AMG) vs "
                                  << serial.pressure_iterations << " (Jacobi)");
  CHECK(dv < 1e-8);
  CHECK(dp < 1e-8);
  CHECK(std::abs(amg.coefficients.drag - serial.coefficients.drag) < 1e-7);
  CHECK(std::abs(amg.coefficients.lift - serial.coefficients.lift) < 1e-7);
  CHECK(amg.pressure_iterations * 3 < serial.pressure_iterations);
}

// A checkpoint's solver state: restored into a fresh solver on the same communicator it
// continues bitwise (forces right after the restore included); on one rank (another rank
// count when there are several) to solver tolerance, since dot products sum in another order.
TEST_CASE("solver state restores bitwise on the same ranks and to tolerance on others",
          "[parallel]") {
  const mesh::Mesh m = coarse_channel();
  const ChannelFlow flow = ramped_flow();
  FlowParameters p = unsteady_parameters();
  p.momentum.relative_tolerance = 1e-12;
  p.pressure.relative_tolerance = 1e-12;
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  FlowSolver original(MPI_COMM_WORLD, m, p, b, "state original");
  for (int k = 0; k < 6; ++k) original.step();
  FlowSolver::State state = original.state();
  // Complete on rank 0 only: every rank of a resumed run reads it from the checkpoint.
  for (std::vector<double>* field :
       {&state.ux, &state.uy, &state.ux_old, &state.uy_old, &state.p, &state.dux_dt, &state.duy_dt,
        &state.convection_ux, &state.convection_uy}) {
    field->resize(original.global_nodes());
    MPI_Bcast(field->data(), static_cast<int>(field->size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
  }
  FlowSolver same(MPI_COMM_WORLD, m, p, b, "state same ranks");
  same.restore(state);
  FlowSolver one(MPI_COMM_SELF, m, p, b, "state one rank");
  one.restore(state);
  CHECK(same.time() == original.time());
  CHECK(same.steps_taken() == 6);
  const Forces f0 = original.obstacle_forces(), f1 = same.obstacle_forces();
  CHECK(f0.fx == f1.fx);
  CHECK(f0.fy == f1.fy);
  for (int k = 0; k < 4; ++k) {
    original.step();
    same.step();
    one.step();
  }
  CHECK(same.global_vertex_velocity() == original.global_vertex_velocity());
  CHECK(same.global_vertex_pressure() == original.global_vertex_pressure());
  const double dv = max_difference(one.global_vertex_velocity(), original.global_vertex_velocity());
  const double dp = max_difference(one.global_vertex_pressure(), original.global_vertex_pressure());
  INFO("one rank against the communicator: velocity " << dv << ", pressure " << dp);
  CHECK(dv < 1e-8);
  CHECK(dp < 1e-8);

  state.p.pop_back();
  CHECK_THROWS_AS(one.restore(state), InputError);
}

namespace {

// Kokkos Tools' allocation callback, set in-process: counts the Views allocated (any
// memory space) while it is installed, with the first few labels for the message.
struct AllocationCount {
  static int count;
  static std::string labels;
  static void on_allocate(Kokkos::Profiling::SpaceHandle, const char* label, const void*,
                          std::uint64_t) {
    if (++count <= 5) labels += std::string(labels.empty() ? "" : ", ") + label;
  }
};
int AllocationCount::count = 0;
std::string AllocationCount::labels;

}  // namespace

TEST_CASE("a time step allocates nothing after the first", "[parallel]") {
  // The step's vectors, the Krylov solvers' vectors and the boundary values are kept
  // across steps (issue 18's GPU pass: no allocation, no host copy of a field per step).
  const mesh::Mesh m = coarse_channel();
  const ChannelFlow flow = ramped_flow();
  FlowParameters p = unsteady_parameters();
  FlowBoundary b;
  b.velocity = channel_inflow(flow);
  FlowSolver solver(MPI_COMM_WORLD, m, p, b, "allocation test");
  solver.step();
  solver.step();  // the first BDF2 step
  AllocationCount::count = 0;
  AllocationCount::labels.clear();
  Kokkos::Tools::Experimental::set_allocate_data_callback(&AllocationCount::on_allocate);
  for (int k = 0; k < 3; ++k) solver.step();
  (void)solver.obstacle_forces();
  Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr);
  INFO("allocated: " << AllocationCount::labels);
  CHECK(AllocationCount::count == 0);
  CHECK(solver.steps_taken() == 5);
}
