#include "experiments/bench/bench_flow.hpp"

#include <algorithm>
#include <chrono>

#include "core/mesh/channel_generator.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/flow/dfg.hpp"

namespace tessera::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Times min(options.repeats, 10) steps of the DFG 2D-2 set-up on `m` after
// options.warmup steps from rest.
BenchRow time_flow_steps(MPI_Comm comm, const mesh::Mesh& m, const mesh::ChannelSpec& spec,
                         double cylinder_size, solvers::flow::PressureSolver pressure_solver,
                         const BenchOptions& options, int ranks, double mesh_seconds) {
  namespace flow = solvers::flow;
  flow::ChannelFlow cf;
  cf.max_inflow = 1.5;
  cf.ramp_time = 0.1;
  flow::FlowParameters p;
  p.viscosity = 1e-3;
  p.dt = 0.5 * cylinder_size / cf.max_inflow;
  p.obstacle_circle = flow::Circle{spec.cylinder_x, spec.cylinder_y, spec.cylinder_radius};
  p.pressure_solver = pressure_solver;
  flow::FlowBoundary boundary;
  boundary.velocity = flow::channel_inflow(cf);
  auto start = std::chrono::steady_clock::now();
  flow::FlowSolver solver(comm, m, p, boundary, "bench channel");
  const double setup_seconds = max_over_ranks(comm, seconds_since(start));
  for (int k = 0; k < options.warmup; ++k) solver.step();
  const int steps = std::max(1, std::min(options.repeats, 10));
  double pressure = 0, momentum = 0, correction = 0;
  MPI_Barrier(comm);
  start = std::chrono::steady_clock::now();
  for (int k = 0; k < steps; ++k) {
    const flow::StepReport r = solver.step();
    pressure += r.pressure.iterations;
    momentum += r.momentum_x.iterations + r.momentum_y.iterations;
    correction += r.correction_x.iterations + r.correction_y.iterations;
  }
  Kokkos::fence();
  const double per_step = max_over_ranks(comm, seconds_since(start)) / steps;
  const bool amg = pressure_solver == flow::PressureSolver::kAmg;
  BenchRow row;
  row.benchmark = "flow_step";
  row.shape = str("vertices=", solver.global_vertices(), " ranks=", ranks,
                  " pressure=", amg ? "amg" : "jacobi_cg");
  row.seconds = per_step;
  row.extra = per_step / (static_cast<double>(solver.global_vertices()) / 1000.0);
  row.note = "extra = seconds per step per 1000 vertices";
  row.more = {{"vertices", static_cast<double>(solver.global_vertices())},
              {"p2_nodes", static_cast<double>(solver.global_nodes())},
              {"ranks", static_cast<double>(ranks)},
              {"pressure_amg", amg ? 1.0 : 0.0},
              {"pressure_iterations", pressure / steps},
              {"momentum_iterations", momentum / steps},
              {"correction_iterations", correction / steps},
              {"setup_seconds", setup_seconds},
              {"mesh_seconds", mesh_seconds}};
  runtime::log::info(str("bench flow: ", row.shape, ": ", per_step, " s/step, ", pressure / steps,
                         " pressure iterations/step"));
  return row;
}

}  // namespace

std::vector<BenchRow> bench_flow(MPI_Comm comm, const BenchOptions& options) {
  namespace flow = solvers::flow;
  // (far size, cylinder size): about 3.5k, 14k, 55k and 230k vertices. Jacobi-CG's
  // pressure iterations double per refinement, so it is timed up to 55k only; hypre's
  // AMG (when built in) on every mesh, the 230k one giving the strong-scaling row.
  struct Level {
    double size, cylinder_size;
    bool with_jacobi;
  };
  std::vector<Level> levels = {{0.02, 0.005, true},
                               {0.01, 0.0025, true},
                               {0.005, 0.00125, true},
                               {0.0025, 0.000625, false}};
  if (options.quick) levels = {{0.08, 0.02, true}};
  const int ranks = runtime::comm_size(comm);
  std::vector<BenchRow> rows;
  for (const Level& level : levels) {
    auto start = std::chrono::steady_clock::now();
    mesh::ChannelSpec spec;
    spec.mesh_size = level.size;
    spec.cylinder_mesh_size = level.cylinder_size;
    const mesh::Mesh m = mesh::generate_channel_mesh(spec);
    const double mesh_seconds = max_over_ranks(comm, seconds_since(start));
    std::vector<flow::PressureSolver> solvers;
    if (level.with_jacobi) solvers.push_back(flow::PressureSolver::kCg);
    if (flow::hypre_available()) solvers.push_back(flow::PressureSolver::kAmg);
    for (const flow::PressureSolver pressure_solver : solvers) {
      rows.push_back(time_flow_steps(comm, m, spec, level.cylinder_size, pressure_solver, options,
                                     ranks, mesh_seconds));
    }
  }
  return rows;
}

}  // namespace tessera::bench
