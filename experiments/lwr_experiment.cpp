// The LWR traffic experiment: simulate a road (ring or open), sample virtual loop
// detectors, and write the density over space and time to the results file and to VTK.
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/io/data_root.hpp"
#include "core/io/text_readers.hpp"
#include "core/io/vtk_series.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "experiments/experiment.hpp"
#include "experiments/lwr_config.hpp"
#include "solvers/lwr/detectors.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "solvers/lwr/riemann_exact.hpp"

namespace tessera::experiments {
namespace {

using config::at_least;
using config::between;
using config::greater_than;
using config::open_closed;
namespace lwr = solvers::lwr;

void add_lwr_keys(config::Schema& s) {
  s.add_int("solver.cells", 1000, at_least(1), "number of finite-volume cells on the road");
  s.add_real("solver.road_length", 1.0, greater_than(0), "length L of the road [0, L]");
  s.add_string("solver.flux", std::string("greenshields"), {"greenshields", "triangular"},
               "fundamental diagram f(rho)");
  s.add_real("solver.v_max", 1.0, greater_than(0), "free-flow speed");
  s.add_real("solver.rho_max", 1.0, greater_than(0), "jam density");
  s.add_real("solver.wave_speed", 0.5, greater_than(0),
             "congested backward wave speed w (triangular diagram only)");
  s.add_real("solver.cfl", 0.9, open_closed(0, 1), "CFL number of the explicit step");
  s.add_real("solver.viscosity", 0.0, at_least(0),
             "diffusion eps in rho_t + f(rho)_x = eps rho_xx");
  s.add_real("solver.t_end", 1.0, greater_than(0), "final time");
  s.add_string("solver.boundary", std::string("ring"), {"ring", "open"},
               "ring: periodic road; open: inflow and outflow at the ends");
  s.add_real("solver.upstream_density", 0.0, at_least(0),
             "open road: density upstream of x = 0 (sets the inflow demand)");
  s.add_real("solver.downstream_density", 0.0, at_least(0),
             "open road: density downstream of x = L (sets the outflow supply)");

  s.add_string("initial.kind", std::string("bell"),
               {"uniform", "riemann", "bell", "platoons", "data"}, "initial density profile");
  s.add_real("initial.density", 0.3, at_least(0), "uniform: the density");
  s.add_real("initial.rho_left", 0.2, at_least(0), "riemann: density for x < x0");
  s.add_real("initial.rho_right", 0.8, at_least(0), "riemann: density for x > x0");
  s.add_real("initial.x0", 0.5, at_least(0), "riemann: position of the jump");
  s.add_real("initial.base", 0.2, at_least(0), "bell, platoons: background density");
  s.add_real("initial.amplitude", 0.6, config::any_value(), "bell: height of the bell");
  s.add_real("initial.center", 0.5, at_least(0), "bell: centre of the bell");
  s.add_real("initial.width", 0.1, greater_than(0), "bell: width of the bell");
  s.add_int("initial.platoons", 3, at_least(1), "platoons: number of platoons");
  s.add_real("initial.platoon_density", 0.7, at_least(0), "platoons: density inside a platoon");
  s.add_real("initial.platoon_length", 0.05, greater_than(0), "platoons: length of a platoon");
  s.add_string("initial.file", std::string("traffic/NGSIM_US80_4pm_Density_Data.txt"), {},
               "data: text grid (rows = space, columns = time) under the data root");
  s.add_int("initial.column", 0, at_least(0), "data: the column (time) of the grid to start from");
  s.add_real("initial.scale", 1.0, greater_than(0), "data: factor from file units to density");

  s.add_real_list("detectors.positions", std::vector<double>{}, at_least(0),
                  "positions of virtual loop detectors on the road");
  s.add_real("detectors.interval", 0.01, greater_than(0), "time between detector samples");

  s.add_real("output.field_interval", 0.01, greater_than(0),
             "time between density fields in the results file and VTK");
  s.add_int("output.vtk_every", 1, at_least(1), "write every k-th field to VTK");
}

// initial.kind = "data": one column of a text grid (rows are equal bins along the road)
// interpolated linearly to the cell centres.
std::vector<double> data_profile(const config::Config& c, const lwr::LwrParameters& p,
                                 long long first, long long count) {
  const std::string relative = c.get_string("initial.file");
  const std::string path = io::resolve_data_file(c.get_string("run.data_root"), relative);
  const io::Grid grid = io::read_text_grid(path);
  const auto column = static_cast<std::size_t>(c.get_int("initial.column"));
  if (column >= grid.cols) {
    throw InputError(str("key 'initial.column' = ", column, " but ", path, " has ", grid.cols,
                         " columns: expected an integer in [0, ", grid.cols - 1, "]"));
  }
  const double scale = c.get_real("initial.scale");
  std::vector<double> samples(grid.rows);
  for (std::size_t r = 0; r < grid.rows; ++r) {
    samples[r] = grid.at(r, column) * scale;
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

std::vector<double> initial_density(const config::Config& c, const lwr::LwrParameters& p,
                                    long long first, long long count) {
  if (c.get_string("initial.kind") == "data") return data_profile(c, p, first, count);
  return lwr::initial_cell_averages(
      lwr_initial_condition_from(c, static_cast<std::uint64_t>(c.get_int("run.seed"))), p, first,
      count);
}

// Prefixes an InputError from the solver with the experiment file, so that the
// message names the file as well as the key.
template <typename F>
void with_source(const config::Config& c, F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    throw InputError(str(c.source(), ": ", e.what()));
  }
}

void check_lwr(const config::Config& c, int ranks) {
  with_source(c, [&] {
    const lwr::LwrParameters p = lwr_parameters_from(c);
    lwr::validate_parameters(p);
    lwr::block_decomposition(p.cells, ranks, 0);
    if (c.get_string("initial.kind") == "data") {
      data_profile(c, p, 0, 1);  // reads and checks the whole file
    } else {
      lwr::validate_initial_condition(
          lwr_initial_condition_from(c, static_cast<std::uint64_t>(c.get_int("run.seed"))), p);
    }
    lwr::DetectorArray detectors(c.get_real_list("detectors.positions"), p.road_length);
  });
  const double t_end = c.get_real("solver.t_end");
  const double outputs = t_end / c.get_real("output.field_interval");
  if (outputs > 100000) {
    throw InputError(str(c.source(), ": key 'output.field_interval' gives ", outputs,
                         " field outputs for solver.t_end = ", t_end,
                         ": expected at most 100000 (raise the interval)"));
  }
}

// Times k * interval (k = 1, 2, ...) are hit exactly by counting, not by adding.
struct EventClock {
  double interval;
  long long next = 1;
  double next_time() const { return static_cast<double>(next) * interval; }
  bool due(double t) const { return next_time() <= t * (1 + 1e-12) + 1e-300; }
};

void run_lwr(const config::Config& c, RunContext& ctx) {
  const lwr::LwrParameters p = lwr_parameters_from(c);
  const lwr::InitialCondition ic =
      lwr_initial_condition_from(c, static_cast<std::uint64_t>(c.get_int("run.seed")));
  const double t_end = c.get_real("solver.t_end");
  lwr::LwrSolver solver(ctx.comm, p);
  solver.set_density(initial_density(c, p, solver.first_cell(), solver.local_cells()));
  lwr::DetectorArray detectors(c.get_real_list("detectors.positions"), p.road_length);

  io::ResultsFile& results = *ctx.results;
  const long long n = solver.global_cells();
  std::vector<double> centers(solver.local_cells());
  for (long long i = 0; i < solver.local_cells(); ++i) {
    centers[i] = solver.cell_center(solver.first_cell() + i);
  }
  results.write_distributed_array("/fields/x", n, solver.first_cell(), centers);
  results.set_attribute("/fields/x", "description", "cell centres of the road");

  const bool vtk = c.get_bool("output.vtk");
  std::unique_ptr<io::VtkSeries> series;
  if (vtk) series = std::make_unique<io::VtkSeries>(ctx.comm, ctx.directory, "density");
  const io::UnstructuredPiece road =
      io::line_piece(0.0, solver.dx(), solver.first_cell(), solver.local_cells());
  const long long vtk_every = c.get_int("output.vtk_every");

  const bool riemann_check = ic.kind == lwr::InitialCondition::Kind::kRiemann && p.viscosity == 0.0;
  const double initial_mass = solver.total_mass();
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
    results.append_metric("mass", solver.time(), mass);
    results.append_metric("mass_relative_change", solver.time(),
                          initial_mass != 0 ? (mass - initial_mass) / initial_mass : mass);
    if (riemann_check) {
      double local_error = 0;
      for (long long i = 0; i < solver.local_cells(); ++i) {
        const double a = (solver.first_cell() + i) * solver.dx();
        const double exact = lwr::riemann_exact_cell_average(
            p.diagram, ic.rho_left, ic.rho_right, ic.x0, a, a + solver.dx(), solver.time());
        local_error += std::abs(rho[i] - exact) * solver.dx();
      }
      double error = 0;
      MPI_Allreduce(&local_error, &error, 1, MPI_DOUBLE, MPI_SUM, ctx.comm);
      results.append_metric("l1_error_vs_exact_riemann", solver.time(), error);
    }
    if (series && fields_written % vtk_every == 0) {
      io::UnstructuredPiece piece = road;
      piece.cell_data.push_back({"density", 1, rho});
      piece.cell_data.push_back({"speed", 1, speed});
      piece.cell_data.push_back({"flow", 1, flow});
      series->write_step(solver.time(), piece);
    }
    ++fields_written;
  };

  runtime::log::info(str("LWR: ", n, " cells, dx = ", solver.dx(), ", dt = ", solver.stable_dt(),
                         ", t_end = ", t_end, ", ", c.get_string("solver.boundary"), " road, ",
                         c.get_string("solver.flux"), " flux, ", detectors.detector_count(),
                         " detector(s)"));
  EventClock field_clock{c.get_real("output.field_interval")};
  EventClock detector_clock{c.get_real("detectors.interval")};
  write_fields();
  detectors.sample(solver, solver.time());

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
  }
  progress.finish(str(solver.steps_taken(), " steps"));

  {
    runtime::Timers::Scope scope(*ctx.timers, "output");
    const lwr::DetectorArray::Series s = detectors.gather(ctx.comm);
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
  const double final_mass = solver.total_mass();
  runtime::log::info(str("LWR done: ", solver.steps_taken(), " steps, ", fields_written,
                         " field outputs, mass ", initial_mass, " -> ", final_mass));
}

}  // namespace

ExperimentKind lwr_experiment_kind() {
  ExperimentKind kind;
  kind.name = "lwr";
  kind.description = "LWR traffic flow on a ring or open road with virtual loop detectors";
  kind.add_keys = add_lwr_keys;
  kind.check = check_lwr;
  kind.run = run_lwr;
  return kind;
}

}  // namespace tessera::experiments
