#include "solvers/flow/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <random>

#include "core/io/hdf5_reader.hpp"
#include "core/io/vtk_series.hpp"
#include "core/mesh/submesh.hpp"
#include "core/mesh/vtk_piece.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/flow/trajectory_file.hpp"

namespace tessera::solvers::flow {
namespace {

mesh::Mesh load_mesh(const FlowConfig& f) {
  mesh::Mesh m = mesh::load_channel_mesh(f.mesh);
  check_channel_mesh(m, f.mesh.from_file ? mesh::resolve_mesh_file(f.mesh) : "generated channel");
  return m;
}

// This rank's VTK piece: the cells whose first vertex it owns, with vertex fields.
struct PieceWriter {
  mesh::Submesh part;
  PieceWriter(const mesh::Mesh& m, const FlowSolver& solver, MPI_Comm comm) {
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

void write_fields(io::ResultsFile& results, const FlowSolver& solver) {
  results.begin_field_step(solver.time());
  const auto n = static_cast<std::int64_t>(solver.global_vertices());
  const std::vector<std::int64_t>& rows = solver.owned_vertices();
  results.write_field_rows("velocity", n, rows, solver.owned_vertex_velocity(), 2);
  results.write_field_rows("pressure", n, rows, solver.owned_vertex_pressure(), 1);
}

// Messages the solver steps send, from the call counts of the communication regions that
// FlowSolver::set_timers times (krylov.hpp): halo exchanges (each one message per
// neighbour rank) and all-reduces, totalled over the steps and carried by checkpoints
// ("/messages") like the iteration totals, so that a resumed run reports the averages of
// an uninterrupted one. The all-reduces of the forces and the pressure probe (region
// "forces") are outside the steps and not counted; neither is hypre's internal
// communication (pressure_amg.hpp).
class MessageCounts {
 public:
  explicit MessageCounts(const runtime::Timers& timers) : timers_(timers) {}
  void begin_step() {
    halo_at_ = timers_.calls(kHaloExchangeRegion);
    allreduce_at_ = timers_.calls(kAllreduceRegion);
  }
  void end_step() {
    halo_exchanges_ += static_cast<double>(timers_.calls(kHaloExchangeRegion) - halo_at_);
    allreduces_ += static_cast<double>(timers_.calls(kAllreduceRegion) - allreduce_at_);
    steps_ += 1;
  }
  void write_state(io::ResultsFile& state) const {
    state.write_root_array("/messages", {3}, {halo_exchanges_, allreduces_, steps_});
  }
  // A checkpoint without "/messages" (written before the counts existed) restarts them:
  // the averages then cover the steps since the resume.
  void restore(const io::Hdf5Reader& state) {
    if (!state.has("/messages")) return;
    const std::vector<double> counts = state.read("/messages");
    halo_exchanges_ = counts.at(0);
    allreduces_ = counts.at(1);
    steps_ = counts.at(2);
  }
  // Root attributes halo_exchanges_per_step and allreduces_per_step.
  void write_attributes(io::ResultsFile& results) const {
    const double steps = std::max(1.0, steps_);
    results.set_attribute("/", "halo_exchanges_per_step", halo_exchanges_ / steps);
    results.set_attribute("/", "allreduces_per_step", allreduces_ / steps);
  }

 private:
  const runtime::Timers& timers_;
  long long halo_at_ = 0, allreduce_at_ = 0;
  double halo_exchanges_ = 0, allreduces_ = 0, steps_ = 0;
};

void write_mesh(io::ResultsFile& results, const mesh::Mesh& m) {
  results.write_root_array("/mesh/points", {m.num_points(), 2}, m.points);
  std::vector<double> cells(m.cells.begin(), m.cells.end());
  results.write_root_array("/mesh/cells", {m.num_cells(), 3}, cells);
  std::vector<double> types;
  for (mesh::NodeType t : m.node_types) types.push_back(static_cast<double>(t));
  results.write_root_array("/mesh/node_type", {m.num_points()}, types);
}

FlowSummary run_single(const FlowConfig& f, const io::RunContext& ctx) {
  const auto wall_start = std::chrono::steady_clock::now();
  mesh::Mesh m;
  {
    runtime::Timers::Scope scope(*ctx.timers, "mesh");
    m = load_mesh(f);
  }
  const ChannelFlow& cf = f.flow;
  FlowBoundary boundary;
  boundary.velocity = channel_inflow(cf);
  std::unique_ptr<FlowSolver> solver_ptr;
  {
    runtime::Timers::Scope scope(*ctx.timers, "setup");
    solver_ptr = std::make_unique<FlowSolver>(ctx.comm, m, f.parameters, boundary, f.source);
  }
  FlowSolver& solver = *solver_ptr;
  solver.set_timers(ctx.timers);
  io::ResultsFile& results = *ctx.results;
  write_mesh(results, m);
  const bool vtk = f.vtk;
  std::unique_ptr<io::VtkSeries> series;
  std::unique_ptr<PieceWriter> pieces;
  if (vtk) {
    series = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, "flow");
    pieces = std::make_unique<PieceWriter>(m, solver, ctx.comm);
  }
  const double t_end = f.t_end;
  const double dt = f.parameters.dt;
  const double field_interval = f.field_interval;
  const long long vtk_every = f.vtk_every;
  const long long metrics_every = f.metrics_every;
  const long long log_every = f.log_every;
  const bool steady = f.steady;
  const double steady_tolerance = f.steady_tolerance;
  const double x0 = f.mesh.channel.cylinder_x, y0 = f.mesh.channel.cylinder_y,
               r = f.mesh.channel.cylinder_radius;
  // Loop state beside the solver's: output counters, the force samples that
  // periodic_stats reads at the end, the latest coefficients and iteration totals.
  long long outputs = 0;
  long long next_field = 1;
  std::vector<double> times, drags, lifts;
  Coefficients coefficients;
  double delta_p = 0;
  long long iterations = 0, pressure_iterations = 0;
  MessageCounts messages(*ctx.timers);
  StepReport report;
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
                         runtime::comm_size(ctx.comm), " rank(s); nu = ", f.parameters.viscosity,
                         ", U_m = ", cf.max_inflow,
                         ", Re = ", cf.mean_inflow() * cf.diameter / f.parameters.viscosity,
                         ", dt = ", dt, ", t_end = ", t_end));

  // Checkpoints (output.checkpoint_every counts solver steps) hold the solver's state over
  // all P2 nodes in global order and every counter of the loop, so a run resumes on any
  // number of ranks. The results file up to the checkpoint travels with it (Checkpoints).
  auto write_state = [&](io::ResultsFile& state) {
    const FlowSolver::State s = solver.state();  // fields on rank 0 only, as written
    const std::vector<std::uint64_t> nodes = {solver.global_nodes()};
    state.write_root_array("/solver/ux", nodes, s.ux);
    state.write_root_array("/solver/uy", nodes, s.uy);
    state.write_root_array("/solver/ux_old", nodes, s.ux_old);
    state.write_root_array("/solver/uy_old", nodes, s.uy_old);
    state.write_root_array("/solver/p", nodes, s.p);
    state.write_root_array("/solver/dux_dt", nodes, s.dux_dt);
    state.write_root_array("/solver/duy_dt", nodes, s.duy_dt);
    state.write_root_array("/solver/convection_ux", nodes, s.convection_ux);
    state.write_root_array("/solver/convection_uy", nodes, s.convection_uy);
    state.write_root_array("/solver/clock", {2}, {s.time, static_cast<double>(s.steps)});
    state.write_root_array(
        "/loop", {7},
        {static_cast<double>(outputs), static_cast<double>(next_field), coefficients.drag,
         coefficients.lift, delta_p, static_cast<double>(iterations),
         static_cast<double>(pressure_iterations)});
    state.write_root_array("/samples/time", {times.size()}, times);
    state.write_root_array("/samples/drag", {drags.size()}, drags);
    state.write_root_array("/samples/lift", {lifts.size()}, lifts);
    const std::vector<double> vtk_times = series ? series->times() : std::vector<double>();
    state.write_root_array("/vtk_times", {vtk_times.size()}, vtk_times);
    messages.write_state(state);
  };
  auto restore_state = [&](const std::string& path) {
    const io::Hdf5Reader state(path);
    FlowSolver::State s;
    s.ux = state.read("/solver/ux");
    s.uy = state.read("/solver/uy");
    s.ux_old = state.read("/solver/ux_old");
    s.uy_old = state.read("/solver/uy_old");
    s.p = state.read("/solver/p");
    s.dux_dt = state.read("/solver/dux_dt");
    s.duy_dt = state.read("/solver/duy_dt");
    s.convection_ux = state.read("/solver/convection_ux");
    s.convection_uy = state.read("/solver/convection_uy");
    const std::vector<double> clock = state.read("/solver/clock");
    s.time = clock.at(0);
    s.steps = static_cast<long long>(clock.at(1));
    solver.restore(s);
    const std::vector<double> loop = state.read("/loop");
    outputs = static_cast<long long>(loop.at(0));
    next_field = static_cast<long long>(loop.at(1));
    coefficients.drag = loop.at(2);
    coefficients.lift = loop.at(3);
    delta_p = loop.at(4);
    iterations = static_cast<long long>(loop.at(5));
    pressure_iterations = static_cast<long long>(loop.at(6));
    times = state.read("/samples/time");
    drags = state.read("/samples/drag");
    lifts = state.read("/samples/lift");
    if (series) series->restore(state.read("/vtk_times"));
    messages.restore(state);
  };

  if (ctx.checkpoints && ctx.checkpoints->resuming()) {
    restore_state(ctx.checkpoints->resume_state_path());
    runtime::log::info(
        str("flow: resumed at t = ", solver.time(), ", step ", solver.steps_taken()));
  } else {
    output();
  }
  const long long total_steps = static_cast<long long>(std::ceil(t_end / dt - 1e-9));
  runtime::Progress progress("flow", static_cast<double>(total_steps),
                             runtime::comm_rank(ctx.comm) == 0);
  for (long long k = solver.steps_taken() + 1; k <= total_steps; ++k) {
    try {
      runtime::Timers::Scope scope(*ctx.timers, "solver");
      messages.begin_step();
      report = solver.step();
      messages.end_step();
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
      coefficients = force_coefficients(solver.obstacle_forces(), cf);
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
    if (ctx.checkpoints) ctx.checkpoints->at_boundary(k, results, write_state);
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
  messages.write_attributes(results);
  results.set_attribute("/", "drag_coefficient", coefficients.drag);
  results.set_attribute("/", "lift_coefficient", coefficients.lift);
  results.set_attribute("/", "pressure_difference", delta_p);
  results.set_attribute("/", "steady_change", report.relative_change);
  // A steady run has no period, only the decay of the start-up oscillation.
  const PeriodicStats ps =
      steady ? PeriodicStats{} : periodic_stats(times, drags, lifts, f.periodic_from, cf);
  if (ps.periods > 0) {
    results.set_attribute("/", "strouhal", ps.strouhal);
    results.set_attribute("/", "lift_periods", ps.periods);
    results.set_attribute("/", "drag_max", ps.drag_max);
    results.set_attribute("/", "drag_min", ps.drag_min);
    results.set_attribute("/", "lift_max", ps.lift_max);
    results.set_attribute("/", "lift_min", ps.lift_min);
  }
  FlowSummary summary;
  summary.steps = solver.steps_taken();
  summary.seconds = seconds;
  summary.drag = coefficients.drag;
  summary.lift = coefficients.lift;
  summary.pressure_difference = delta_p;
  summary.periodic = ps;
  return summary;
}

double draw(std::mt19937_64& rng, const std::vector<double>& range) {
  return range[0] + (range[1] - range[0]) * std::uniform_real_distribution<double>(0, 1)(rng);
}

FlowSummary run_dataset(const FlowConfig& f, const io::RunContext& ctx) {
  const int rank = runtime::comm_rank(ctx.comm);
  std::mt19937_64 rng(static_cast<std::uint64_t>(f.seed));
  const long long frames = f.dataset.frames;
  const long long per_frame = f.dataset.steps_per_frame;
  const double dt = f.parameters.dt;
  const double warmup = f.dataset.warmup;
  const long long warmup_steps = static_cast<long long>(std::llround(warmup / dt));
  const std::vector<std::pair<std::string, long long>> splits = {
      {"train", f.dataset.train}, {"valid", f.dataset.valid}, {"test", f.dataset.test}};
  long long total = 0;
  for (const auto& s : splits) total += s.second;
  runtime::Progress progress(
      "dataset", static_cast<double>(total * (warmup_steps + frames * per_frame)), rank == 0);
  long long done_steps = 0;

  // Checkpoints are taken between trajectories (output.checkpoint_every counts solver
  // steps, checked when a trajectory is done): the position (split, next trajectory), the
  // step count, and the split's file as written so far, copied beside state.h5. A
  // resumed run draws the cases of the trajectories before that position again (the
  // random sequence is the same) and solves from the next one; a trajectory cut off
  // midway is solved again from its start, so kills cost at most one trajectory.
  std::size_t resume_split = 0;
  long long resume_next = 0;
  MessageCounts messages(*ctx.timers);
  if (ctx.checkpoints && ctx.checkpoints->resuming()) {
    const io::Hdf5Reader state(ctx.checkpoints->resume_state_path());
    const std::vector<double> loop = state.read("/loop");
    messages.restore(state);
    resume_split = static_cast<std::size_t>(loop.at(0));
    resume_next = static_cast<long long>(loop.at(1));
    done_steps = static_cast<long long>(loop.at(2));
    runtime::log::info(str("dataset: resumed before ", splits.at(resume_split).first,
                           " trajectory ", resume_next, " (", done_steps, " solver steps done)"));
  }
  for (std::size_t split_index = 0; split_index < splits.size(); ++split_index) {
    const std::string& split = splits[split_index].first;
    const long long count = splits[split_index].second;
    if (count == 0) continue;
    // Splits before the resume position are finished: their files are in place.
    const bool finished = split_index < resume_split;
    const long long first = split_index == resume_split ? resume_next : 0;
    const std::string path = (std::filesystem::path(ctx.directory) / (split + ".h5")).string();
    std::unique_ptr<TrajectoryFile> file;
    if (rank == 0 && !finished) {
      const bool resumed = ctx.checkpoints && ctx.checkpoints->resuming() && first > 0;
      file = std::make_unique<TrajectoryFile>(
          path,
          resumed
              ? (std::filesystem::path(ctx.checkpoints->resume_folder()) / (split + ".h5")).string()
              : std::string());
    }
    // Collective: the split's file and position go into the checkpoint's folder.
    auto write_state = [&](io::ResultsFile& state, long long next) {
      int failed = 0;
      std::string error;
      if (rank == 0) {
        try {
          file->copy_to(
              (std::filesystem::path(state.path()).parent_path() / (split + ".h5")).string());
        } catch (const std::exception& e) {
          failed = 1;
          error = e.what();
        }
      }
      MPI_Bcast(&failed, 1, MPI_INT, 0, ctx.comm);
      if (failed) throw std::runtime_error(rank == 0 ? error : "checkpoint failed on rank 0");
      state.write_root_array("/loop", {3},
                             {static_cast<double>(split_index), static_cast<double>(next),
                              static_cast<double>(done_steps)});
      messages.write_state(state);
    };
    for (long long k = 0; k < count; ++k) {
      mesh::ChannelSpec spec = f.mesh.channel;
      spec.cylinder_x = draw(rng, f.dataset.cylinder_x_range);
      spec.cylinder_y = draw(rng, f.dataset.cylinder_y_range);
      spec.cylinder_radius = draw(rng, f.dataset.radius_range);
      const double um = draw(rng, f.dataset.inflow_range);
      if (finished || k < first) continue;  // written before the checkpoint resumed from
      mesh::Mesh m;
      {
        runtime::Timers::Scope scope(*ctx.timers, "mesh");
        m = mesh::generate_channel_mesh(spec);
      }
      ChannelFlow cf = f.flow;
      cf.max_inflow = um;
      cf.diameter = 2 * spec.cylinder_radius;
      cf.cylinder_x = spec.cylinder_x;
      cf.cylinder_y = spec.cylinder_y;
      cf.cylinder_radius = spec.cylinder_radius;
      FlowParameters p = f.parameters;
      p.velocity_limit = f.velocity_limit_factor * um;
      if (f.curved_cylinder) {
        p.obstacle_circle = Circle{spec.cylinder_x, spec.cylinder_y, spec.cylinder_radius};
      }
      FlowBoundary boundary;
      boundary.velocity = channel_inflow(cf);
      FlowSolver solver(ctx.comm, m, p, boundary, str(split, " trajectory ", k));
      solver.set_timers(ctx.timers);
      std::vector<std::vector<double>> velocity, pressure;
      std::unique_ptr<io::VtkSeries> series;
      std::unique_ptr<PieceWriter> pieces;
      if (f.vtk) {
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
        messages.begin_step();
        solver.step();
        messages.end_step();
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
      const bool more = k + 1 < count || std::any_of(splits.begin() + split_index + 1, splits.end(),
                                                     [](const auto& s) { return s.second > 0; });
      if (ctx.checkpoints && more) {
        ctx.checkpoints->at_boundary(done_steps, *ctx.results,
                                     [&](io::ResultsFile& state) { write_state(state, k + 1); });
      }
    }
    if (rank == 0 && file) file->close();
    MPI_Barrier(ctx.comm);
    ctx.results->set_attribute("/", split + "_trajectories", static_cast<double>(count));
  }
  progress.finish();
  messages.write_attributes(*ctx.results);
  FlowSummary summary;
  summary.steps = done_steps;
  summary.trajectories = total;
  return summary;
}

}  // namespace

FlowSummary run_flow(const FlowConfig& config, const io::RunContext& context) {
  return config.dataset.enabled() ? run_dataset(config, context) : run_single(config, context);
}

}  // namespace tessera::solvers::flow
