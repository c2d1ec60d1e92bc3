// The incompressible flow experiment (solvers/flow): one channel flow past a cylinder
// (the DFG benchmarks 2D-1, 2D-2, 2D-3, with drag, lift, pressure difference and
// Strouhal number in the results file), or, with dataset.train > 0, a set of
// trajectories with varied inflow speed and cylinder for the mesh transformer.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>

#include "core/io/vtk_series.hpp"
#include "core/mesh/channel_generator.hpp"
#include "core/mesh/read_mesh.hpp"
#include "core/mesh/submesh.hpp"
#include "core/mesh/vtk_piece.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "experiments/experiment.hpp"
#include "solvers/flow/dfg.hpp"
#include "solvers/flow/flow_solver.hpp"
#include "solvers/flow/trajectory_file.hpp"

namespace tessera::experiments {
namespace {

using config::at_least;
using config::between;
using config::greater_than;
namespace flow = solvers::flow;

void add_flow_keys(config::Schema& s) {
  s.add_string("mesh.source", std::string("channel"), {"channel", "file"},
               "channel: the DFG channel meshed by Gmsh; file: mesh.file (VTU, XDMF, "
               "MeshGraphNets HDF5) with inflow, outflow and obstacle boundary tags");
  s.add_string("mesh.file", std::string(), {}, "mesh file when mesh.source = \"file\"");
  s.add_real("mesh.length", 2.2, greater_than(0), "channel length");
  s.add_real("mesh.height", 0.41, greater_than(0), "channel height H");
  s.add_real("mesh.cylinder_x", 0.2, greater_than(0), "cylinder centre x");
  s.add_real("mesh.cylinder_y", 0.2, greater_than(0), "cylinder centre y");
  s.add_real("mesh.cylinder_radius", 0.05, greater_than(0), "cylinder radius (D = 2 r)");
  s.add_real("mesh.size", 0.02, greater_than(0), "target triangle size away from the cylinder");
  s.add_real("mesh.cylinder_size", 0.005, greater_than(0), "target triangle size on the cylinder");
  s.add_real("mesh.refinement_distance", 0.15, greater_than(0),
             "distance over which the size grows from the cylinder's to the far size");
  s.add_bool("mesh.curved_cylinder", true,
             "move P2 midpoints of cylinder edges onto the circle (isoparametric boundary)");

  s.add_real("flow.viscosity", 1e-3, greater_than(0), "kinematic viscosity nu (density 1)");
  s.add_real("flow.max_inflow", 0.3, greater_than(0),
             "U_m, centre-line inflow speed: 0.3 for DFG 2D-1 (Re 20), 1.5 for 2D-2/2D-3 (Re 100)");
  s.add_string("flow.inflow", std::string("steady"), {"steady", "sine"},
               "steady: parabolic profile; sine: U_m sin(pi t / 8) (DFG 2D-3)");
  s.add_real("flow.ramp_time", 0.0, at_least(0),
             "inflow ramps up smoothly from rest over this time");
  s.add_real(
      "flow.kick_speed", 0.0, config::any_value(),
      "the cylinder spins with this surface speed (x U_m) at the start, to trigger shedding");
  s.add_real("flow.kick_time", 0.0, at_least(0), "the spin fades out over this time");

  s.add_real("solver.dt", 0.01, greater_than(0), "time step");
  s.add_int("solver.time_order", 2, between(1, 2), "1: backward Euler, 2: BDF2");
  s.add_real("solver.t_end", 1.0, greater_than(0), "final time");
  s.add_bool("solver.steady", false,
             "stop early when max |u^{n+1} - u^n| / (dt max |u|) < solver.steady_tolerance");
  s.add_real("solver.steady_tolerance", 1e-8, greater_than(0), "steady-state criterion");
  s.add_real("solver.max_cfl", 0.0, at_least(0),
             "largest allowed max |u| dt / h (0: no check); checked every step");
  s.add_real("solver.velocity_limit", 100.0, greater_than(0),
             "max |u| beyond this many times flow.max_inflow is divergence");
  s.add_string("solver.pressure_solver", std::string("cg"), {"cg", "amg"},
               "pressure Poisson solver: \"cg\" (Jacobi-preconditioned CG) or \"amg\" "
               "(CG with a hypre BoomerAMG V-cycle; iterations stay flat under refinement)");
  s.add_real("solver.pressure_tolerance", 1e-9, greater_than(0),
             "relative residual of the pressure CG");
  s.add_real("solver.momentum_tolerance", 1e-9, greater_than(0),
             "relative residual of the momentum BiCGStab");
  s.add_int("solver.max_iterations", 10000, at_least(1), "iteration cap of each Krylov solve");
  s.add_int("solver.log_every", 100, at_least(1), "log iterations and residuals every k steps");

  s.add_real("output.field_interval", 0.0, at_least(0),
             "time between velocity/pressure fields in run.h5 and VTK (0: final state only)");
  s.add_int("output.vtk_every", 1, at_least(1), "write every k-th field output to VTK");
  s.add_int("output.metrics_every", 1, at_least(1), "steps between drag/lift/pressure samples");
  s.add_real("output.periodic_from", 0.0, at_least(0),
             "Strouhal number and c_D/c_L extremes from the lift maxima after this time");

  s.add_int("dataset.train", 0, at_least(0),
            "trajectories in train.h5; 0: run one flow (the benchmark mode) instead");
  s.add_int("dataset.valid", 0, at_least(0), "trajectories in valid.h5");
  s.add_int("dataset.test", 0, at_least(0), "trajectories in test.h5");
  s.add_real_list("dataset.inflow_range", std::vector<double>{0.5, 1.5}, greater_than(0),
                  "[min, max] of U_m, drawn uniformly");
  s.add_real_list("dataset.cylinder_x_range", std::vector<double>{0.15, 0.35}, greater_than(0),
                  "[min, max] of the cylinder centre x");
  s.add_real_list("dataset.cylinder_y_range", std::vector<double>{0.16, 0.25}, greater_than(0),
                  "[min, max] of the cylinder centre y");
  s.add_real_list("dataset.radius_range", std::vector<double>{0.04, 0.07}, greater_than(0),
                  "[min, max] of the cylinder radius");
  s.add_int("dataset.frames", 100, at_least(2), "frames stored per trajectory");
  s.add_int("dataset.steps_per_frame", 2, at_least(1), "solver steps between stored frames");
  s.add_real("dataset.warmup", 0.0, at_least(0), "simulated time before the first frame");
}

flow::ChannelFlow channel_flow_from(const config::Config& c) {
  flow::ChannelFlow f;
  f.height = c.get_real("mesh.height");
  f.max_inflow = c.get_real("flow.max_inflow");
  f.diameter = 2 * c.get_real("mesh.cylinder_radius");
  f.ramp_time = c.get_real("flow.ramp_time");
  f.sine_inflow = c.get_string("flow.inflow") == "sine";
  f.cylinder_x = c.get_real("mesh.cylinder_x");
  f.cylinder_y = c.get_real("mesh.cylinder_y");
  f.cylinder_radius = c.get_real("mesh.cylinder_radius");
  f.kick_speed = c.get_real("flow.kick_speed");
  f.kick_time = c.get_real("flow.kick_time");
  return f;
}

mesh::ChannelSpec channel_spec_from(const config::Config& c) {
  mesh::ChannelSpec spec;
  spec.length = c.get_real("mesh.length");
  spec.height = c.get_real("mesh.height");
  spec.cylinder_x = c.get_real("mesh.cylinder_x");
  spec.cylinder_y = c.get_real("mesh.cylinder_y");
  spec.cylinder_radius = c.get_real("mesh.cylinder_radius");
  spec.mesh_size = c.get_real("mesh.size");
  spec.cylinder_mesh_size = c.get_real("mesh.cylinder_size");
  spec.refinement_distance = c.get_real("mesh.refinement_distance");
  return spec;
}

flow::FlowParameters parameters_from(const config::Config& c) {
  flow::FlowParameters p;
  p.viscosity = c.get_real("flow.viscosity");
  p.dt = c.get_real("solver.dt");
  p.time_order = static_cast<int>(c.get_int("solver.time_order"));
  p.max_cfl = c.get_real("solver.max_cfl");
  p.velocity_limit = c.get_real("solver.velocity_limit") * c.get_real("flow.max_inflow");
  const int cap = static_cast<int>(c.get_int("solver.max_iterations"));
  p.pressure.relative_tolerance = c.get_real("solver.pressure_tolerance");
  p.momentum.relative_tolerance = c.get_real("solver.momentum_tolerance");
  p.pressure.max_iterations = p.momentum.max_iterations = cap;
  if (c.get_string("solver.pressure_solver") == "amg") {
    if (!flow::hypre_available()) {
      throw InputError(str(c.source(), ": 'solver.pressure_solver' = \"amg\" needs hypre, and this "
                           "build has none: install libhypre-dev (./setup.sh does) and rebuild, "
                           "or use \"cg\""));
    }
    p.pressure_solver = flow::PressureSolver::kAmg;
  }
  if (c.get_bool("mesh.curved_cylinder")) {
    p.obstacle_circle = flow::Circle{c.get_real("mesh.cylinder_x"), c.get_real("mesh.cylinder_y"),
                                     c.get_real("mesh.cylinder_radius")};
  }
  return p;
}

void check_range(const config::Config& c, const std::string& key) {
  const auto r = c.get_real_list(key);
  if (r.size() != 2 || r[0] > r[1]) {
    throw InputError(str(c.source(), ": key '", key, "' must be [min, max] with min <= max"));
  }
}

void check_flow(const config::Config& c, int ranks) {
  const double h = c.get_real("mesh.height");
  const double cy = c.get_real("mesh.cylinder_y"), r = c.get_real("mesh.cylinder_radius");
  if (c.get_string("mesh.source") == "channel" && (cy - r <= 0 || cy + r >= h)) {
    throw InputError(str(c.source(), ": keys 'mesh.cylinder_y' = ", cy,
                         " and 'mesh.cylinder_radius' = ", r,
                         " put the cylinder through a wall of the channel of height ", h));
  }
  if (c.get_string("mesh.source") == "file") {
    if (c.get_string("mesh.file").empty()) {
      throw InputError(str(c.source(), ": key 'mesh.file' is empty but mesh.source = \"file\""));
    }
    try {
      flow::check_channel_mesh(mesh::read_mesh(c.get_string("mesh.file")),
                               c.get_string("mesh.file"));
    } catch (const InputError& e) {
      throw InputError(str(c.source(), ": ", e.what()));
    }
  }
  // The CFL number at the cylinder with the peak inflow speed, before any run.
  const double max_cfl = c.get_real("solver.max_cfl");
  const double cfl = 1.5 * c.get_real("flow.max_inflow") * c.get_real("solver.dt") /
                     (0.5 * c.get_real("mesh.cylinder_size"));
  if (max_cfl > 0 && cfl > max_cfl) {
    throw InputError(str(c.source(), ": key 'solver.dt' = ", c.get_real("solver.dt"),
                         " gives an estimated CFL number ", cfl,
                         " near the cylinder (1.5 U_m dt / ",
                         "(mesh.cylinder_size / 2)), above solver.max_cfl = ", max_cfl,
                         ": expected dt <= ", c.get_real("solver.dt") * max_cfl / cfl));
  }
  if (c.get_int("dataset.train") > 0) {
    for (const char* key : {"dataset.inflow_range", "dataset.cylinder_x_range",
                            "dataset.cylinder_y_range", "dataset.radius_range"}) {
      check_range(c, key);
    }
    const auto ys = c.get_real_list("dataset.cylinder_y_range");
    const auto rs = c.get_real_list("dataset.radius_range");
    if (ys[0] - rs[1] <= 0.01 * h || ys[1] + rs[1] >= 0.99 * h) {
      throw InputError(str(c.source(),
                           ": dataset.cylinder_y_range and dataset.radius_range allow a ",
                           "cylinder touching a wall of the channel of height ", h));
    }
  }
  (void)ranks;
}

mesh::Mesh load_mesh(const config::Config& c, const mesh::ChannelSpec& spec) {
  mesh::Mesh m = c.get_string("mesh.source") == "file" ? mesh::read_mesh(c.get_string("mesh.file"))
                                                       : mesh::generate_channel_mesh(spec);
  flow::check_channel_mesh(
      m, c.get_string("mesh.source") == "file" ? c.get_string("mesh.file") : "generated channel");
  return m;
}

// This rank's VTK piece: the cells whose first vertex it owns, with vertex fields.
struct PieceWriter {
  mesh::Submesh part;
  PieceWriter(const mesh::Mesh& m, const flow::FlowSolver& solver, MPI_Comm comm) {
    const int rank = runtime::comm_rank(comm);
    const auto& plan = solver.plan();
    std::vector<mesh::Index> cells;
    for (std::size_t e = 0; e < m.num_cells(); ++e) {
      const long long id = plan.local_id(m.cells[e * 3]);
      if (id >= 0 && static_cast<std::size_t>(id) < plan.owned_count()) {
        cells.push_back(static_cast<mesh::Index>(e));
      }
    }
    (void)rank;
    part = mesh::extract_cells(m, cells);
  }
  io::UnstructuredPiece piece(const std::vector<double>& velocity,
                              const std::vector<double>& pressure) const {
    mesh::Field u{"velocity", 2, {}}, p{"pressure", 1, {}};
    for (mesh::Index g : part.global_points) {
      u.values.push_back(velocity[2 * g]);
      u.values.push_back(velocity[2 * g + 1]);
      p.values.push_back(pressure[g]);
    }
    return mesh::to_vtk_piece(part.mesh, {u, p});
  }
};

void write_fields(io::ResultsFile& results, const flow::FlowSolver& solver) {
  results.begin_field_step(solver.time());
  const auto n = static_cast<std::int64_t>(solver.global_vertices());
  const std::vector<std::int64_t>& rows = solver.owned_vertices();
  results.write_field_rows("velocity", n, rows, solver.owned_vertex_velocity(), 2);
  results.write_field_rows("pressure", n, rows, solver.owned_vertex_pressure(), 1);
}

void write_mesh(io::ResultsFile& results, const mesh::Mesh& m) {
  results.write_root_array("/mesh/points", {m.num_points(), 2}, m.points);
  std::vector<double> cells(m.cells.begin(), m.cells.end());
  results.write_root_array("/mesh/cells", {m.num_cells(), 3}, cells);
  std::vector<double> types;
  for (mesh::NodeType t : m.node_types) types.push_back(static_cast<double>(t));
  results.write_root_array("/mesh/node_type", {m.num_points()}, types);
}

void run_single(const config::Config& c, RunContext& ctx) {
  const auto wall_start = std::chrono::steady_clock::now();
  const mesh::ChannelSpec spec = channel_spec_from(c);
  mesh::Mesh m;
  {
    runtime::Timers::Scope scope(*ctx.timers, "mesh");
    m = load_mesh(c, spec);
  }
  const flow::ChannelFlow cf = channel_flow_from(c);
  flow::FlowBoundary boundary;
  boundary.velocity = flow::channel_inflow(cf);
  std::unique_ptr<flow::FlowSolver> solver_ptr;
  {
    runtime::Timers::Scope scope(*ctx.timers, "setup");
    solver_ptr =
        std::make_unique<flow::FlowSolver>(ctx.comm, m, parameters_from(c), boundary, c.source());
  }
  flow::FlowSolver& solver = *solver_ptr;
  io::ResultsFile& results = *ctx.results;
  write_mesh(results, m);
  const bool vtk = c.get_bool("output.vtk");
  std::unique_ptr<io::VtkSeries> series;
  std::unique_ptr<PieceWriter> pieces;
  if (vtk) {
    series = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, "flow");
    pieces = std::make_unique<PieceWriter>(m, solver, ctx.comm);
  }
  const double t_end = c.get_real("solver.t_end");
  const double dt = c.get_real("solver.dt");
  const double field_interval = c.get_real("output.field_interval");
  const long long vtk_every = c.get_int("output.vtk_every");
  const long long metrics_every = c.get_int("output.metrics_every");
  const long long log_every = c.get_int("solver.log_every");
  const bool steady = c.get_bool("solver.steady");
  const double steady_tolerance = c.get_real("solver.steady_tolerance");
  const double x0 = c.get_real("mesh.cylinder_x"), y0 = c.get_real("mesh.cylinder_y"),
               r = c.get_real("mesh.cylinder_radius");
  long long outputs = 0;
  auto output = [&] {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    write_fields(results, solver);
    if (series && outputs % vtk_every == 0) {
      series->write_step(solver.time(), pieces->piece(solver.global_vertex_velocity(),
                                                      solver.global_vertex_pressure()));
    }
    ++outputs;
  };
  runtime::log::info(str("flow: ", solver.global_vertices(), " vertices, ", solver.global_nodes(),
                         " P2 nodes, ", m.num_cells(), " triangles on ",
                         runtime::comm_size(ctx.comm),
                         " rank(s); nu = ", c.get_real("flow.viscosity"), ", U_m = ", cf.max_inflow,
                         ", Re = ", cf.mean_inflow() * cf.diameter / c.get_real("flow.viscosity"),
                         ", dt = ", dt, ", t_end = ", t_end));
  output();
  const long long total_steps = static_cast<long long>(std::ceil(t_end / dt - 1e-9));
  runtime::Progress progress("flow", static_cast<double>(total_steps),
                             runtime::comm_rank(ctx.comm) == 0);
  std::vector<double> times, drags, lifts;
  flow::Coefficients coefficients;
  double delta_p = 0;
  long long iterations = 0, pressure_iterations = 0;
  flow::StepReport report;
  long long next_field = 1;
  for (long long k = 1; k <= total_steps; ++k) {
    try {
      runtime::Timers::Scope scope(*ctx.timers, "solver");
      report = solver.step();
    } catch (const CollectiveError&) {
      // Keep the last good state in the results file (left as run.h5.partial).
      output();
      results.set_attribute("/", "diverged_at_step", static_cast<double>(k));
      throw;
    }
    iterations += report.linear_iterations();
    pressure_iterations += report.pressure.iterations;
    const bool last = k == total_steps || (steady && report.relative_change < steady_tolerance);
    if (k % metrics_every == 0 || last) {
      runtime::Timers::Scope scope(*ctx.timers, "forces");
      coefficients = flow::force_coefficients(solver.obstacle_forces(), cf);
      delta_p = solver.pressure_at(x0 - r, y0) - solver.pressure_at(x0 + r, y0);
      const double t = solver.time();
      results.append_metric("drag_coefficient", t, coefficients.drag);
      results.append_metric("lift_coefficient", t, coefficients.lift);
      results.append_metric("pressure_difference", t, delta_p);
      results.append_metric("pressure_iterations", t, report.pressure.iterations);
      results.append_metric("momentum_iterations", t, report.momentum_x.iterations);
      results.append_metric("steady_change", t, report.relative_change);
      times.push_back(t);
      drags.push_back(coefficients.drag);
      lifts.push_back(coefficients.lift);
    }
    if (k % log_every == 0 || last) {
      runtime::log::info(
          str("flow step ", k, " t = ", solver.time(), ": c_D = ", coefficients.drag,
              ", c_L = ", coefficients.lift, ", dp = ", delta_p, "; iterations momentum ",
              report.momentum_x.iterations, "+", report.momentum_y.iterations, " (residual ",
              report.momentum_x.final_residual, "), pressure ", report.pressure.iterations,
              " (residual ", report.pressure.final_residual, "), correction ",
              report.correction_x.iterations, "; CFL ", report.cfl, ", change ",
              report.relative_change));
      if (!report.pressure.converged || !report.momentum_x.converged) {
        runtime::log::warn(str("flow step ", k, ": a linear solve stopped at the iteration cap ",
                               "before its tolerance (raise solver.max_iterations)"));
      }
    }
    if ((field_interval > 0 && solver.time() >= next_field * field_interval * (1 - 1e-9)) || last) {
      output();
      while (next_field * field_interval <= solver.time() * (1 + 1e-9) && field_interval > 0) {
        ++next_field;
      }
    }
    progress.update(static_cast<double>(k),
                    str("t = ", solver.time(), " c_D = ", coefficients.drag));
    if (last) break;
  }
  progress.finish(str(solver.steps_taken(), " steps"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  results.set_attribute("/", "vertices", static_cast<double>(solver.global_vertices()));
  results.set_attribute("/", "p2_nodes", static_cast<double>(solver.global_nodes()));
  results.set_attribute("/", "triangles", static_cast<double>(m.num_cells()));
  results.set_attribute("/", "steps", static_cast<double>(solver.steps_taken()));
  results.set_attribute("/", "final_time", solver.time());
  results.set_attribute("/", "run_seconds", seconds);
  results.set_attribute(
      "/", "linear_iterations_per_step",
      static_cast<double>(iterations) / std::max<long long>(1, solver.steps_taken()));
  results.set_attribute(
      "/", "pressure_iterations_per_step",
      static_cast<double>(pressure_iterations) / std::max<long long>(1, solver.steps_taken()));
  results.set_attribute("/", "drag_coefficient", coefficients.drag);
  results.set_attribute("/", "lift_coefficient", coefficients.lift);
  results.set_attribute("/", "pressure_difference", delta_p);
  results.set_attribute("/", "steady_change", report.relative_change);
  // A steady run has no period, only the decay of the start-up oscillation.
  const flow::PeriodicStats ps =
      steady ? flow::PeriodicStats{}
             : flow::periodic_stats(times, drags, lifts, c.get_real("output.periodic_from"), cf);
  if (ps.periods > 0) {
    results.set_attribute("/", "strouhal", ps.strouhal);
    results.set_attribute("/", "lift_periods", ps.periods);
    results.set_attribute("/", "drag_max", ps.drag_max);
    results.set_attribute("/", "drag_min", ps.drag_min);
    results.set_attribute("/", "lift_max", ps.lift_max);
    results.set_attribute("/", "lift_min", ps.lift_min);
  }
  runtime::log::info(
      str("flow done: ", solver.steps_taken(), " steps in ", seconds,
          " s; c_D = ", coefficients.drag, ", c_L = ", coefficients.lift, ", dp = ", delta_p,
          ps.periods > 0 ? str("; over ", ps.periods, " lift periods: St = ", ps.strouhal,
                               ", c_D max = ", ps.drag_max, ", c_L max = ", ps.lift_max)
                         : std::string()));
}

double draw(std::mt19937_64& rng, const std::vector<double>& range) {
  return range[0] + (range[1] - range[0]) * std::uniform_real_distribution<double>(0, 1)(rng);
}

void run_dataset(const config::Config& c, RunContext& ctx) {
  const int rank = runtime::comm_rank(ctx.comm);
  std::mt19937_64 rng(static_cast<std::uint64_t>(c.get_int("run.seed")));
  const long long frames = c.get_int("dataset.frames");
  const long long per_frame = c.get_int("dataset.steps_per_frame");
  const double dt = c.get_real("solver.dt");
  const double warmup = c.get_real("dataset.warmup");
  const long long warmup_steps = static_cast<long long>(std::llround(warmup / dt));
  const std::vector<std::pair<std::string, long long>> splits = {
      {"train", c.get_int("dataset.train")},
      {"valid", c.get_int("dataset.valid")},
      {"test", c.get_int("dataset.test")}};
  long long total = 0;
  for (const auto& s : splits) total += s.second;
  runtime::Progress progress(
      "dataset", static_cast<double>(total * (warmup_steps + frames * per_frame)), rank == 0);
  long long done_steps = 0;
  for (const auto& [split, count] : splits) {
    if (count == 0) continue;
    const std::string path = (std::filesystem::path(ctx.directory) / (split + ".h5")).string();
    std::unique_ptr<flow::TrajectoryFile> file;
    if (rank == 0) file = std::make_unique<flow::TrajectoryFile>(path);
    for (long long k = 0; k < count; ++k) {
      mesh::ChannelSpec spec = channel_spec_from(c);
      spec.cylinder_x = draw(rng, c.get_real_list("dataset.cylinder_x_range"));
      spec.cylinder_y = draw(rng, c.get_real_list("dataset.cylinder_y_range"));
      spec.cylinder_radius = draw(rng, c.get_real_list("dataset.radius_range"));
      const double um = draw(rng, c.get_real_list("dataset.inflow_range"));
      mesh::Mesh m;
      {
        runtime::Timers::Scope scope(*ctx.timers, "mesh");
        m = mesh::generate_channel_mesh(spec);
      }
      flow::ChannelFlow cf = channel_flow_from(c);
      cf.max_inflow = um;
      cf.diameter = 2 * spec.cylinder_radius;
      cf.cylinder_x = spec.cylinder_x;
      cf.cylinder_y = spec.cylinder_y;
      cf.cylinder_radius = spec.cylinder_radius;
      flow::FlowParameters p = parameters_from(c);
      p.velocity_limit = c.get_real("solver.velocity_limit") * um;
      if (c.get_bool("mesh.curved_cylinder")) {
        p.obstacle_circle = flow::Circle{spec.cylinder_x, spec.cylinder_y, spec.cylinder_radius};
      }
      flow::FlowBoundary boundary;
      boundary.velocity = flow::channel_inflow(cf);
      flow::FlowSolver solver(ctx.comm, m, p, boundary, str(split, " trajectory ", k));
      std::vector<std::vector<double>> velocity, pressure;
      std::unique_ptr<io::VtkSeries> series;
      std::unique_ptr<PieceWriter> pieces;
      if (c.get_bool("output.vtk")) {
        series = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, str(split, "_", k));
        pieces = std::make_unique<PieceWriter>(m, solver, ctx.comm);
      }
      for (long long s = 0; s < warmup_steps + frames * per_frame; ++s) {
        if (s >= warmup_steps && (s - warmup_steps) % per_frame == 0) {
          runtime::Timers::Scope scope(*ctx.timers, "output");
          velocity.push_back(solver.global_vertex_velocity());
          pressure.push_back(solver.global_vertex_pressure());
          if (series)
            series->write_step(solver.time(), pieces->piece(velocity.back(), pressure.back()));
        }
        if (static_cast<long long>(velocity.size()) == frames) break;
        runtime::Timers::Scope scope(*ctx.timers, "solver");
        solver.step();
        progress.update(static_cast<double>(++done_steps), str(split, " ", k + 1, "/", count));
      }
      const double re = cf.mean_inflow() * cf.diameter / p.viscosity;
      if (rank == 0) {
        file->write_trajectory(static_cast<int>(k), m, velocity, pressure, dt * per_frame,
                               {{"max_inflow", um},
                                {"mean_inflow", cf.mean_inflow()},
                                {"cylinder_x", spec.cylinder_x},
                                {"cylinder_y", spec.cylinder_y},
                                {"cylinder_radius", spec.cylinder_radius},
                                {"viscosity", p.viscosity},
                                {"reynolds", re},
                                {"solver_dt", dt},
                                {"start_time", warmup}});
      }
      runtime::log::info(str("dataset ", split, " ", k, ": U_m = ", um, ", cylinder (",
                             spec.cylinder_x, ", ", spec.cylinder_y, ") r = ", spec.cylinder_radius,
                             ", Re = ", re, ", ", m.num_points(), " nodes, ", velocity.size(),
                             " frames"));
    }
    if (rank == 0) file->close();
    MPI_Barrier(ctx.comm);
    ctx.results->set_attribute("/", split + "_trajectories", static_cast<double>(count));
  }
  progress.finish();
}

void run_flow(const config::Config& c, RunContext& ctx) {
  if (c.get_int("dataset.train") > 0) {
    run_dataset(c, ctx);
  } else {
    run_single(c, ctx);
  }
}

}  // namespace

ExperimentKind flow_experiment_kind() {
  ExperimentKind kind;
  kind.name = "flow";
  kind.description =
      "incompressible flow past a cylinder (DFG benchmarks 2D-1/2D-2/2D-3) or a set of "
      "trajectories for the mesh transformer";
  kind.add_keys = add_flow_keys;
  kind.check = check_flow;
  kind.run = run_flow;
  return kind;
}

}  // namespace tessera::experiments
