#include "solvers/lwr/run.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/config/config.hpp"
#include "core/io/data_root.hpp"
#include "core/io/hdf5_reader.hpp"
#include "core/io/text_readers.hpp"
#include "core/io/vtk_series.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "solvers/lwr/detectors.hpp"
#include "solvers/lwr/riemann_exact.hpp"
#include "solvers/lwr/road_piece.hpp"

namespace tessera::solvers::lwr {
namespace {

// initial.kind = "data": one column of a text grid (rows are equal bins along the road)
// interpolated linearly to the cell centres [first, first + count).
std::vector<double> data_profile(const InitialDataGrid& data, const LwrParameters& p,
                                 long long first, long long count) {
  const std::string path = io::resolve_data_file(data.data_root, data.file);
  const io::Grid grid = io::read_text_grid(path);
  const std::size_t column = data.column;
  if (column >= grid.cols) {
    throw InputError(str("key 'initial.column' = ", column, " but ", path, " has ", grid.cols,
                         " columns: expected an integer in [0, ", grid.cols - 1, "]"));
  }
  std::vector<double> samples(grid.rows);
  for (std::size_t r = 0; r < grid.rows; ++r) {
    samples[r] = grid.at(r, column) * data.scale;
    if (!(samples[r] >= 0 && samples[r] <= p.diagram.rho_max)) {
      throw InputError(
          str(path, ": row ", r + 1, ", column ", column + 1, ": density ", samples[r],
              " (after initial.scale) is outside [0, solver.rho_max = ", p.diagram.rho_max, "]"));
    }
  }
  const double bin = p.road_length / static_cast<double>(grid.rows);
  std::vector<double> out(count);
  for (long long i = 0; i < count; ++i) {
    const double x = (static_cast<double>(first + i) + 0.5) * p.road_length / p.cells;
    const double position = std::clamp(x / bin - 0.5, 0.0, static_cast<double>(grid.rows - 1));
    const auto k = std::min(static_cast<std::size_t>(position), grid.rows - 1);
    const std::size_t k1 = std::min(k + 1, grid.rows - 1);
    const double w = position - static_cast<double>(k);
    out[i] = (1 - w) * samples[k] + w * samples[k1];
  }
  return out;
}

std::vector<double> initial_density(const LwrConfig& c, long long first, long long count) {
  if (c.initial_data.enabled) return data_profile(c.initial_data, c.road, first, count);
  return initial_cell_averages(c.initial, c.road, first, count);
}

// Times k * interval (k = 1, 2, ...) are hit exactly by counting, not by adding.
struct EventClock {
  double interval;
  long long next = 1;
  double next_time() const { return static_cast<double>(next) * interval; }
  bool due(double t) const { return next_time() <= t * (1 + 1e-12) + 1e-300; }
};

}  // namespace

void validate(const LwrConfig& c, int ranks) {
  config::with_source(c.source, [&] {
    validate_parameters(c.road);
    block_decomposition(c.road.cells, ranks, 0);
    if (c.initial_data.enabled) {
      data_profile(c.initial_data, c.road, 0, 1);  // reads and checks the whole file
    } else {
      validate_initial_condition(c.initial, c.road);
    }
    DetectorArray detectors(c.detector_positions, c.road.road_length);
  });
  const double outputs = c.t_end / c.field_interval;
  if (outputs > 100000) {
    throw InputError(str(c.source, ": key 'output.field_interval' gives ", outputs,
                         " field outputs for solver.t_end = ", c.t_end,
                         ": expected at most 100000 (raise the interval)"));
  }
}

LwrSummary run_lwr(const LwrConfig& c, const io::RunContext& ctx) {
  const LwrParameters& p = c.road;
  const InitialCondition& ic = c.initial;
  const double t_end = c.t_end;
  LwrSolver solver(ctx.comm, p);
  solver.set_density(initial_density(c, solver.first_cell(), solver.local_cells()));
  DetectorArray detectors(c.detector_positions, p.road_length);

  io::ResultsFile& results = *ctx.results;
  const long long n = solver.global_cells();
  std::vector<double> centers(solver.local_cells());
  for (long long i = 0; i < solver.local_cells(); ++i) {
    centers[i] = solver.cell_center(solver.first_cell() + i);
  }
  results.write_distributed_array("/fields/x", n, solver.first_cell(), centers);
  results.set_attribute("/fields/x", "description", "cell centres of the road");

  std::unique_ptr<io::VtkSeries> series;
  if (c.vtk) series = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, "density");
  const io::UnstructuredPiece road =
      road_piece(0.0, solver.dx(), solver.first_cell(), solver.local_cells());

  const bool riemann_check =
      ic.kind == InitialCondition::Kind::kRiemann && p.viscosity == 0.0 && !c.initial_data.enabled;
  LwrSummary summary;
  summary.cells = n;
  summary.initial_mass = solver.total_mass();
  long long fields_written = 0;

  auto write_fields = [&] {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    solver.check_finite();
    const std::vector<double> rho = solver.density_host();
    results.begin_field_step(solver.time());
    results.write_field("density", n, solver.first_cell(), rho);
    std::vector<double> speed(rho.size()), flow(rho.size());
    for (std::size_t i = 0; i < rho.size(); ++i) {
      speed[i] = p.diagram.speed(rho[i]);
      flow[i] = p.diagram.flux(rho[i]);
    }
    const double mass = solver.total_mass();
    const double initial_mass = summary.initial_mass;
    results.append_metric("mass", solver.time(), mass);
    results.append_metric("mass_relative_change", solver.time(),
                          initial_mass != 0 ? (mass - initial_mass) / initial_mass : mass);
    if (riemann_check) {
      double local_error = 0;
      for (long long i = 0; i < solver.local_cells(); ++i) {
        const double a = (solver.first_cell() + i) * solver.dx();
        const double exact = riemann_exact_cell_average(p.diagram, ic.rho_left, ic.rho_right, ic.x0,
                                                        a, a + solver.dx(), solver.time());
        local_error += std::abs(rho[i] - exact) * solver.dx();
      }
      double error = 0;
      MPI_Allreduce(&local_error, &error, 1, MPI_DOUBLE, MPI_SUM, ctx.comm);
      results.append_metric("l1_error_vs_exact_riemann", solver.time(), error);
    }
    if (series && fields_written % c.vtk_every == 0) {
      io::UnstructuredPiece piece = road;
      piece.cell_data.push_back({"density", 1, rho});
      piece.cell_data.push_back({"speed", 1, speed});
      piece.cell_data.push_back({"flow", 1, flow});
      series->write_step(solver.time(), piece);
    }
    ++fields_written;
  };

  runtime::log::info(str("LWR: ", n, " cells, dx = ", solver.dx(), ", dt = ", solver.stable_dt(),
                         ", t_end = ", t_end, ", ", c.boundary_name, " road, ", c.flux_name,
                         " flux, ", detectors.detector_count(), " detector(s)"));
  EventClock field_clock{c.field_interval};
  EventClock detector_clock{c.detector_interval};

  // Checkpoints (output.checkpoint_every counts solver steps) hold the density in global
  // order and every counter of the loop, so a run resumes on any number of ranks.
  auto write_state = [&](io::ResultsFile& state) {
    state.write_distributed_array("/density", n, solver.first_cell(), solver.density_host());
    const DetectorArray::Series s = detectors.gather(ctx.comm);
    const std::uint64_t values = s.detectors * s.samples;
    state.write_root_array("/detectors/time", {s.samples}, s.time);
    state.write_root_array("/detectors/density", {values}, s.density);
    state.write_root_array("/detectors/speed", {values}, s.speed);
    state.write_root_array("/detectors/flow", {values}, s.flow);
    state.write_root_array(
        "/loop", {6},
        {solver.time(), static_cast<double>(solver.steps_taken()),
         static_cast<double>(field_clock.next), static_cast<double>(detector_clock.next),
         static_cast<double>(fields_written), summary.initial_mass});
    const std::vector<double> vtk_times = series ? series->times() : std::vector<double>();
    state.write_root_array("/vtk_times", {vtk_times.size()}, vtk_times);
  };
  auto restore_state = [&](const std::string& path) {
    const io::Hdf5Reader state(path);
    const std::vector<double> rho = state.read("/density");
    if (static_cast<long long>(rho.size()) != n) {
      throw InputError(str(path, ": /density has ", rho.size(), " cells, the road has ", n));
    }
    solver.set_density(
        std::vector<double>(rho.begin() + solver.first_cell(),
                            rho.begin() + solver.first_cell() + solver.local_cells()));
    const std::vector<double> loop = state.read("/loop");
    solver.restore_clock(loop.at(0), static_cast<long long>(loop.at(1)));
    field_clock.next = static_cast<long long>(loop.at(2));
    detector_clock.next = static_cast<long long>(loop.at(3));
    fields_written = static_cast<long long>(loop.at(4));
    summary.initial_mass = loop.at(5);
    DetectorArray::Series s;
    s.time = state.read("/detectors/time");
    s.density = state.read("/detectors/density");
    s.speed = state.read("/detectors/speed");
    s.flow = state.read("/detectors/flow");
    detectors.restore(solver, s);
    if (series) series->restore(state.read("/vtk_times"));
  };

  if (ctx.checkpoints && ctx.checkpoints->resuming()) {
    restore_state(ctx.checkpoints->resume_state_path());
    runtime::log::info(str("LWR: resumed at t = ", solver.time(), ", step ", solver.steps_taken()));
  } else {
    write_fields();
    detectors.sample(solver, solver.time());
  }

  // Output times shorten some steps: count them in the estimate.
  const double estimated_steps = std::ceil(t_end / solver.stable_dt()) +
                                 std::floor(t_end / field_clock.interval) +
                                 std::floor(t_end / detector_clock.interval);
  runtime::Progress progress("lwr", estimated_steps, runtime::comm_rank(ctx.comm) == 0);
  while (solver.time() < t_end) {
    const double target = std::min({t_end, field_clock.next_time(), detector_clock.next_time()});
    {
      runtime::Timers::Scope scope(*ctx.timers, "solver");
      solver.advance_to(target);
    }
    const double t = solver.time();
    if (detector_clock.due(t)) {
      detectors.sample(solver, t);
      while (detector_clock.due(t)) ++detector_clock.next;
    }
    if (field_clock.due(t) || t >= t_end) {
      write_fields();
      while (field_clock.due(t)) ++field_clock.next;
    }
    progress.update(static_cast<double>(solver.steps_taken()), str("t = ", t));
    if (ctx.checkpoints && t < t_end) {
      ctx.checkpoints->at_boundary(solver.steps_taken(), results, write_state);
    }
  }
  progress.finish(str(solver.steps_taken(), " steps"));

  {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    const DetectorArray::Series s = detectors.gather(ctx.comm);
    const std::uint64_t count = s.position.size();
    const std::uint64_t samples = s.time.size();
    results.write_root_array("/detectors/position", {count}, s.position);
    results.write_root_array("/detectors/time", {samples}, s.time);
    results.write_root_array("/detectors/density", {count, samples}, s.density);
    results.write_root_array("/detectors/speed", {count, samples}, s.speed);
    results.write_root_array("/detectors/flow", {count, samples}, s.flow);
    results.set_attribute("/detectors/density", "layout", "detector x sample");
  }
  results.set_attribute("/", "steps", static_cast<double>(solver.steps_taken()));
  results.set_attribute("/", "dt", solver.stable_dt());
  summary.steps = solver.steps_taken();
  summary.field_outputs = fields_written;
  summary.final_mass = solver.total_mass();
  return summary;
}

}  // namespace tessera::solvers::lwr
