// The traffic PINN experiment (models/pinn_traffic): estimate the density rho(x, t) of a
// road from loop detectors (and probe vehicles) with a physics-informed network, as a
// standard PINN or with multi-task optimisation, on an LWR simulation (whose full field
// is the truth) or on a measured NGSIM grid (train on detector rows, score on the rest).
#include <algorithm>
#include <cmath>
#include <memory>

#include "core/io/data_root.hpp"
#include "core/io/vtk_series.hpp"
#include "core/nn/jet_mlp.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "experiments/experiment.hpp"
#include "experiments/lwr_config.hpp"
#include "models/pinn_traffic/collocation.hpp"
#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/training.hpp"
#include "models/pinn_traffic/transfer.hpp"
#include "solvers/lwr/detectors.hpp"
#include "solvers/lwr/initial_conditions.hpp"

namespace tessera::experiments {
namespace {

using config::at_least;
using config::between;
using config::greater_than;
using config::open_closed;
namespace lwr = solvers::lwr;
namespace pinn = models::pinn_traffic;

void add_pinn_keys(config::Schema& s) {
  s.add_string("data.source", std::string("simulation"), {"simulation", "ngsim"},
               "simulation: LWR solver truth; ngsim: a measured density grid (data.file)");
  s.add_string("data.file", std::string("traffic/NGSIM_US80_4pm_Density_Data.txt"), {},
               "ngsim: density grid under the data root (rows = space, columns = time)");
  s.add_real("data.cell_length", 20.0, greater_than(0), "ngsim: length of a space bin (row)");
  s.add_real("data.interval", 5.0, greater_than(0), "ngsim: duration of a time bin (column)");
  s.add_real("data.scale", 1.0, greater_than(0), "ngsim: factor from file values to density");

  s.add_int("solver.cells", 400, at_least(2),
             "simulation: cells of the truth grid the PINN is scored on");
  s.add_int("solver.truth_refinement", 1, between(1, 64),
            "simulation: solver cells per truth cell (the truth is their block average; the "
            "first-order solver's own error on solver.cells alone can match the PINN's)");
  s.add_real("solver.road_length", 1.0, greater_than(0), "simulation: length L of the road");
  s.add_real("solver.v_max", 1.0, greater_than(0),
             "free-flow speed of the Greenshields diagram (PDE of the PINN; the solver's too)");
  s.add_real("solver.rho_max", 1.0, greater_than(0), "jam density (PDE, solver, data check)");
  s.add_real("solver.cfl", 0.9, open_closed(0, 1), "simulation: CFL number");
  s.add_real("solver.viscosity", 0.005, at_least(0),
             "diffusion eps of rho_t + f(rho)_x = eps rho_xx (PDE and solver)");
  s.add_real("solver.t_end", 1.0, greater_than(0), "simulation: end of the time window");
  s.add_string("solver.boundary", std::string("ring"), {"ring", "open"},
               "simulation: ring (periodic boundary term) or open road");
  s.add_real("solver.upstream_density", 0.0, at_least(0), "open road: density upstream of x = 0");
  s.add_real("solver.downstream_density", 0.0, at_least(0),
             "open road: density downstream of x = L");

  s.add_string("initial.kind", std::string("bell"), {"uniform", "riemann", "bell", "platoons"},
               "simulation: initial density profile");
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
  s.add_int("initial.seed", 1, at_least(0),
            "platoons: where the platoons are (apart from run.seed, which seeds training)");

  s.add_real_list("detectors.positions", std::vector<double>{0.1, 0.3, 0.5, 0.7, 0.9},
                  config::any_value(),
                  "loop detector positions; ngsim: the grid rows containing them are observed, "
                  "the others held out");
  s.add_real("detectors.interval", 0.01, greater_than(0), "simulation: time between samples");

  s.add_bool("observations.initial", true,
             "the initial density is known (initial term); ngsim: the first time column");
  s.add_int("observations.initial_points", 200, at_least(1),
            "equally spaced samples of the initial density");
  s.add_int("observations.probes", 0, at_least(0), "simulation: probe vehicles (0: none)");
  s.add_real("observations.probe_interval", 0.02, greater_than(0),
             "simulation: time between probe samples");
  s.add_real("observations.noise", 0.0, at_least(0),
             "standard deviation of Gaussian noise on the observations (density units)");
  s.add_int("observations.seed", 1, at_least(0), "probe start positions and noise");

  s.add_int("model.hidden_layers", 8, at_least(1), "hidden layers of the MLP rho(x, t)");
  s.add_int("model.width", 20, at_least(1), "neurons per hidden layer");
  s.add_string("model.activation", std::string("tanh"), {"tanh", "sine"}, "hidden activation");
  s.add_string("model.precision", std::string("float"), {"float", "double"},
               "floating-point type of the network and its training");

  s.add_int("collocation.points", 10000, at_least(1), "collocation points of the PDE residual");
  s.add_string("collocation.sampler", std::string("sobol"), {"uniform", "latin_hypercube", "sobol"},
               "how collocation points are drawn");
  s.add_int("collocation.resample_every", 0, at_least(0),
            "Adam steps between new collocation sets (0: one set)");
  s.add_int("collocation.boundary_points", 200, at_least(1),
            "ring roads: times of the periodic boundary pairs");

  s.add_real("loss.data_weight", 1.0, at_least(0), "weight of the observation misfit");
  s.add_real("loss.residual_weight", 1.0, at_least(0), "weight of the PDE residual");
  s.add_real("loss.initial_weight", 1.0, at_least(0), "weight of the initial-density misfit");
  s.add_real("loss.boundary_weight", 1.0, at_least(0), "weight of the periodic boundary term");

  s.add_int("train.adam_steps", 10000, at_least(0),
            "Adam gradient evaluations of all tasks together (MTO splits them over its tasks)");
  s.add_real("train.lr", 1e-3, greater_than(0), "Adam learning rate (peak)");
  s.add_string("train.schedule", std::string("constant"),
               {"constant", "warmup_cosine", "step_decay"}, "learning-rate schedule of Adam");
  s.add_real("train.min_lr", 1e-5, at_least(0), "warmup_cosine: final learning rate");
  s.add_int("train.warmup_steps", 0, at_least(0), "warmup_cosine: linear warm-up steps");
  s.add_int("train.decay_every", 2000, at_least(1), "step_decay: steps between decays");
  s.add_real("train.decay_gamma", 0.5, greater_than(0), "step_decay: factor per decay");
  s.add_real("train.clip_norm", 0.0, at_least(0), "global gradient-norm clipping (0: off)");
  s.add_int("train.lbfgs_evaluations", 2000, at_least(0),
            "L-BFGS closure evaluations after Adam (main task; 0: none)");
  s.add_int("train.lbfgs_history", 50, at_least(1), "L-BFGS curvature pairs");
  s.add_real("train.lbfgs_tolerance_change", 1e-9, at_least(0),
             "L-BFGS stops once the directional derivative, step or loss change is below it "
             "(absolute, torch's default; small PINN losses need a smaller one)");
  s.add_int("train.log_every", 100, at_least(1),
            "Adam steps (standard PINN) or L-BFGS evaluations between metric records");

  s.add_bool("mto.enabled", false, "multi-task optimisation (main task + auxiliary tasks)");
  s.add_string("mto.tasks", std::string("other_collocation, resampled"), {},
               "auxiliary tasks, comma-separated: physics_heavy, data_heavy, resampled, "
               "early_time, other_collocation, other_init");
  s.add_int("mto.interval", 100, at_least(1), "Adam steps of each task between transfers");
  s.add_real("mto.alpha", 0.5, open_closed(0, 1), "largest blending strength of a transfer");
  s.add_real("mto.alpha_min", 0.05, open_closed(0, 1), "smallest blending strength");
  s.add_real("mto.weight_factor", 10.0, greater_than(0),
             "physics_heavy/data_heavy: loss weight multiplier");
  s.add_real("mto.early_fraction", 0.5, open_closed(0, 1),
             "early_time: fraction of the time window of its residual");
  s.add_bool("mto.reset_worse", true,
             "auxiliary tasks scoring worse than the main task restart from it at a transfer");
  s.add_int("mto.validation_points", 2000, at_least(1),
            "collocation points of the main task's validation objective");

  s.add_real("output.field_interval", 0.01, greater_than(0),
             "simulation: time between rows of the truth (evaluation) grid");
}

template <typename F>
void with_source(const config::Config& c, F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    throw InputError(str(c.source(), ": ", e.what()));
  }
}

bool is_ngsim(const config::Config& c) {
  return c.get_string("data.source") == "ngsim";
}

pinn::SensorSpec sensor_spec(const config::Config& c) {
  pinn::SensorSpec s;
  s.detector_positions = c.get_real_list("detectors.positions");
  s.detector_interval = c.get_real("detectors.interval");
  s.probes = c.get_int("observations.probes");
  s.probe_interval = c.get_real("observations.probe_interval");
  s.probe_seed = static_cast<std::uint64_t>(c.get_int("observations.seed"));
  return s;
}

pinn::DensityGrid read_grid(const config::Config& c) {
  const std::string path =
      io::resolve_data_file(c.get_string("run.data_root"), c.get_string("data.file"));
  return pinn::read_density_grid(path, c.get_real("data.cell_length"), c.get_real("data.interval"),
                                 c.get_real("data.scale"), c.get_real("solver.rho_max"));
}

pinn::PinnProblem problem_of(const config::Config& c, const pinn::DensityGrid* grid) {
  pinn::PinnProblem p;
  p.v_max = c.get_real("solver.v_max");
  p.rho_max = c.get_real("solver.rho_max");
  p.viscosity = c.get_real("solver.viscosity");
  if (grid) {
    p.road_length = grid->road_length;
    p.t_start = grid->t_start;
    p.t_end = grid->t_end;
    p.ring = false;
  } else {
    p.road_length = c.get_real("solver.road_length");
    p.t_end = c.get_real("solver.t_end");
    p.ring = c.get_string("solver.boundary") == "ring";
  }
  return p;
}

pinn::OptimiserSpec optimiser_of(const config::Config& c) {
  pinn::OptimiserSpec o;
  o.lr = c.get_real("train.lr");
  o.schedule = c.get_string("train.schedule");
  o.min_lr = c.get_real("train.min_lr");
  o.warmup_steps = c.get_int("train.warmup_steps");
  o.decay_every = c.get_int("train.decay_every");
  o.decay_gamma = c.get_real("train.decay_gamma");
  o.clip_norm = c.get_real("train.clip_norm");
  o.lbfgs_history = static_cast<int>(c.get_int("train.lbfgs_history"));
  o.lbfgs_tolerance_change = c.get_real("train.lbfgs_tolerance_change");
  return o;
}

pinn::MtoOptions mto_of(const config::Config& c) {
  pinn::MtoOptions m;
  m.enabled = c.get_bool("mto.enabled");
  m.tasks = pinn::parse_task_list(c.get_string("mto.tasks"), "mto.tasks");
  m.interval = c.get_int("mto.interval");
  m.alpha = c.get_real("mto.alpha");
  m.alpha_min = c.get_real("mto.alpha_min");
  m.weight_factor = c.get_real("mto.weight_factor");
  m.early_fraction = c.get_real("mto.early_fraction");
  m.reset_worse = c.get_bool("mto.reset_worse");
  m.validation_points = static_cast<std::size_t>(c.get_int("mto.validation_points"));
  return m;
}

void check_pinn(const config::Config& c, int /*ranks*/) {
  with_source(c, [&] {
    if (is_ngsim(c)) {
      const pinn::DensityGrid grid = read_grid(c);  // reads and checks every value
      problem_of(c, &grid).validate();
      if (c.get_real_list("detectors.positions").empty()) {
        throw InputError(
            "empty observation set: detectors.positions is empty, so no row of the data "
            "grid is observed; list the positions of the detector rows to train on");
      }
      const auto rows = pinn::columns_at(grid, c.get_real_list("detectors.positions"));
      if (rows.size() >= grid.nx()) {
        throw InputError(str("detectors.positions observe all ", grid.nx(),
                             " rows of the data grid: none is left to evaluate on"));
      }
    } else {
      problem_of(c, nullptr).validate();
      const lwr::LwrParameters p = lwr_parameters_from(c);
      lwr::validate_parameters(p);
      lwr::validate_initial_condition(
          lwr_initial_condition_from(c, static_cast<std::uint64_t>(c.get_int("initial.seed"))), p);
      lwr::DetectorArray detectors(c.get_real_list("detectors.positions"), p.road_length);
      if (detectors.detector_count() == 0 && c.get_int("observations.probes") == 0) {
        pinn::require_observations(pinn::ObservationSet{}, "");
      }
      const double rows = c.get_real("solver.t_end") / c.get_real("output.field_interval");
      if (rows > 100000) {
        throw InputError(str("key 'output.field_interval' gives ", rows,
                             " rows of the truth grid for solver.t_end = ",
                             c.get_real("solver.t_end"), ": expected at most 100000"));
      }
    }
    const pinn::MtoOptions m = mto_of(c);
    if (m.enabled && m.tasks.empty()) {
      throw InputError("mto.enabled = true but mto.tasks names no auxiliary task");
    }
    pinn::TransferController(m.alpha, m.alpha_min);
    optimiser_of(c).make_schedule(1);
  });
}

// The truth, the observations and which grid columns (positions) count in the metric.
struct Truth {
  pinn::DensityGrid grid;
  pinn::ObservationSet observations;
  std::vector<std::size_t> metric_columns;  // empty: all
  std::vector<double> detector_positions;
  long long solver_steps = 0;
};

Truth make_truth(const config::Config& c) {
  Truth truth;
  if (is_ngsim(c)) {
    truth.grid = read_grid(c);
    const auto rows = pinn::columns_at(truth.grid, c.get_real_list("detectors.positions"));
    truth.observations = pinn::column_observations(truth.grid, rows);
    for (std::size_t ix = 0; ix < truth.grid.nx(); ++ix) {
      if (!std::binary_search(rows.begin(), rows.end(), ix)) truth.metric_columns.push_back(ix);
    }
    for (std::size_t ix : rows) truth.detector_positions.push_back(truth.grid.x[ix]);
  } else {
    pinn::SimulationSpec spec;
    spec.lwr = lwr_parameters_from(c);
    spec.initial =
        lwr_initial_condition_from(c, static_cast<std::uint64_t>(c.get_int("initial.seed")));
    spec.t_end = c.get_real("solver.t_end");
    spec.field_interval = c.get_real("output.field_interval");
    spec.truth_refinement = c.get_int("solver.truth_refinement");
    pinn::SimulatedData data = pinn::simulate_lwr(spec, sensor_spec(c));
    truth.grid = std::move(data.truth);
    truth.observations = std::move(data.observations);
    truth.detector_positions = c.get_real_list("detectors.positions");
    truth.solver_steps = data.solver_steps;
  }
  pinn::add_noise(truth.observations, c.get_real("observations.noise"),
                  static_cast<std::uint64_t>(c.get_int("observations.seed")));
  return truth;
}

// The space-time grid as quads (x across, t up) with the true and predicted density: one
// VTK step, each rank writing a block of time rows.
void write_vtk(MPI_Comm comm, const std::string& directory, const pinn::DensityGrid& grid,
               const std::vector<double>& prediction) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  const std::size_t nx = grid.nx(), nt = grid.nt();
  const pinn::Shard rows = pinn::shard_of(nt, rank, ranks);
  auto edges = [](const std::vector<double>& centres, double low, double high) {
    std::vector<double> e(centres.size() + 1);
    e.front() = centres.size() > 1 ? centres[0] - 0.5 * (centres[1] - centres[0]) : low;
    for (std::size_t i = 1; i < centres.size(); ++i) e[i] = 0.5 * (centres[i - 1] + centres[i]);
    e.back() = centres.size() > 1
                   ? centres.back() + 0.5 * (centres.back() - centres[centres.size() - 2])
                   : high;
    return e;
  };
  const std::vector<double> xe = edges(grid.x, 0, grid.road_length);
  const std::vector<double> te = edges(grid.t, grid.t_start, grid.t_end);
  io::UnstructuredPiece piece;
  for (std::size_t r = 0; r <= rows.count; ++r) {
    for (std::size_t i = 0; i <= nx; ++i) {
      piece.points.insert(piece.points.end(), {xe[i], te[rows.first + r], 0.0});
    }
  }
  io::NamedArray truth{"density_true", 1, {}}, predicted{"density_pred", 1, {}},
      error{"abs_error", 1, {}};
  piece.cell_offsets.push_back(0);
  for (std::size_t r = 0; r < rows.count; ++r) {
    for (std::size_t i = 0; i < nx; ++i) {
      const auto a = static_cast<std::int64_t>(r * (nx + 1) + i);
      const auto b = static_cast<std::int64_t>((r + 1) * (nx + 1) + i);
      piece.connectivity.insert(piece.connectivity.end(), {a, a + 1, b + 1, b});
      piece.cell_offsets.push_back(static_cast<std::int64_t>(piece.connectivity.size()));
      piece.cell_types.push_back(io::CellType::kQuad);
      const std::size_t k = (rows.first + r) * nx + i;
      truth.values.push_back(grid.density[k]);
      predicted.values.push_back(prediction[k]);
      error.values.push_back(std::abs(prediction[k] - grid.density[k]));
    }
  }
  piece.cell_data = {truth, predicted, error};
  io::VtkSeries series(comm, directory, "pinn_spacetime");
  series.write_step(0.0, piece);
}

template <class T>
void run_typed(const config::Config& c, RunContext& ctx) {
  const bool root = runtime::comm_rank(ctx.comm) == 0;
  Truth truth;
  {
    runtime::Timers::Scope scope(*ctx.timers, "pinn.ground_truth");
    truth = make_truth(c);
  }
  pinn::require_observations(truth.observations, c.source());

  pinn::PinnSetup setup;
  setup.problem = problem_of(c, is_ngsim(c) ? &truth.grid : nullptr);
  setup.network.hidden_layers = static_cast<std::size_t>(c.get_int("model.hidden_layers"));
  setup.network.width = static_cast<std::size_t>(c.get_int("model.width"));
  setup.network.activation = nn::activation_from_name(c.get_string("model.activation"));
  setup.main.weights.data = c.get_real("loss.data_weight");
  setup.main.weights.residual = c.get_real("loss.residual_weight");
  setup.main.weights.initial =
      c.get_bool("observations.initial") ? c.get_real("loss.initial_weight") : 0.0;
  setup.main.weights.boundary = setup.problem.ring ? c.get_real("loss.boundary_weight") : 0.0;
  setup.main.collocation.sampler = pinn::sampler_from_name(c.get_string("collocation.sampler"));
  setup.main.collocation.points = static_cast<std::size_t>(c.get_int("collocation.points"));
  setup.main.collocation.resample_every = c.get_int("collocation.resample_every");
  const std::size_t initial_points =
      c.get_bool("observations.initial")
          ? static_cast<std::size_t>(c.get_int("observations.initial_points"))
          : 0;
  setup.data =
      pinn::make_training_data(setup.problem, truth.observations, truth.grid, initial_points,
                               static_cast<std::size_t>(c.get_int("collocation.boundary_points")));
  setup.evaluation = pinn::make_evaluation_set(setup.problem, truth.grid, truth.metric_columns);
  setup.training.adam_evaluations = c.get_int("train.adam_steps");
  setup.training.lbfgs_evaluations = c.get_int("train.lbfgs_evaluations");
  setup.training.log_every = c.get_int("train.log_every");
  setup.training.optimiser = optimiser_of(c);
  setup.training.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  setup.mto = mto_of(c);
  const std::vector<pinn::TaskSpec> tasks = pinn::task_specs(setup);

  std::string task_text;
  for (const auto& t : tasks) task_text += (task_text.empty() ? "" : ", ") + t.name;
  runtime::log::info(
      str("PINN: ", is_ngsim(c) ? "NGSIM grid " : "LWR simulation, ", truth.grid.nx(), " x ",
          truth.grid.nt(), " (space x time) truth, ",
          truth.observations.count(pinn::ObservationSource::kDetector), " detector and ",
          truth.observations.count(pinn::ObservationSource::kProbe), " probe samples, ",
          setup.data.initial_count(), " initial samples, ", setup.main.collocation.points, " ",
          pinn::sampler_name(setup.main.collocation.sampler),
          " collocation points; eps' = ", setup.problem.residual_parameters().viscosity,
          ", v_max' = ", setup.problem.residual_parameters().v_max, " (normalised)"));
  runtime::log::info(str("PINN: ", setup.mto.enabled ? "multi-task optimisation" : "standard PINN",
                         ", tasks: ", task_text, "; ", setup.training.adam_evaluations, " Adam + ",
                         setup.training.lbfgs_evaluations, " L-BFGS gradient evaluations, ",
                         c.get_string("model.precision")));

  io::ResultsFile& results = *ctx.results;
  const double total_work =
      static_cast<double>(setup.training.adam_evaluations + setup.training.lbfgs_evaluations);
  runtime::Progress progress("pinn", total_work > 0 ? total_work : 1, root, "evaluations");
  auto observer = [&](const pinn::TrainingRecord& r) {
    const double x = static_cast<double>(r.evaluations);
    results.append_metric("loss_data", x, r.terms.data);
    results.append_metric("loss_residual", x, r.terms.residual);
    results.append_metric("loss_initial", x, r.terms.initial);
    results.append_metric("loss_boundary", x, r.terms.boundary);
    results.append_metric("loss_total", x, r.terms.total);
    results.append_metric("relative_l2", x, r.metrics.relative_l2);
    results.append_metric("relative_l2_all", x, r.metrics.relative_l2_all);
    results.append_metric("wall_seconds", x, r.seconds);
    results.append_metric("phase_lbfgs", x, r.phase == "lbfgs" ? 1.0 : 0.0);
    if (!r.validation.empty()) {
      for (std::size_t k = 0; k < r.validation.size(); ++k) {
        results.append_metric("mto_validation_" + tasks[k].name, x, r.validation[k]);
      }
      results.append_metric("mto_alpha", x, r.alpha);
      results.append_metric("mto_best_task", x, r.best_task);
      results.append_metric("mto_transfer", x, r.transfer);
    }
    progress.update(x, str(r.phase, " loss ", r.terms.total, " rel L2 ", r.metrics.relative_l2));
  };

  pinn::TrainingResult result;
  {
    runtime::Timers::Scope scope(*ctx.timers, "pinn.train");
    result = pinn::train_pinn<T>(ctx.comm, setup, observer, ctx.timers);
  }
  progress.finish(str("relative L2 ", result.metrics.relative_l2));

  runtime::Timers::Scope scope(*ctx.timers, "output");
  const std::uint64_t nx = truth.grid.nx(), nt = truth.grid.nt();
  results.write_root_array("/pinn/x", {nx}, truth.grid.x);
  results.write_root_array("/pinn/t", {nt}, truth.grid.t);
  results.write_root_array("/pinn/density_true", {nt, nx}, truth.grid.density);
  results.write_root_array("/pinn/density_pred", {nt, nx}, result.prediction);
  std::vector<double> in_metric(setup.evaluation.in_metric.begin(),
                                setup.evaluation.in_metric.end());
  results.write_root_array("/pinn/in_metric", {nt, nx}, in_metric);
  results.set_attribute("/pinn/density_true", "layout", "time x position");
  const pinn::ObservationSet& obs = truth.observations;
  const std::uint64_t n_obs = obs.size();
  results.write_root_array("/observations/x", {n_obs}, obs.x);
  results.write_root_array("/observations/t", {n_obs}, obs.t);
  results.write_root_array("/observations/density", {n_obs}, obs.density);
  results.write_root_array("/observations/source", {n_obs},
                           std::vector<double>(obs.source.begin(), obs.source.end()));
  results.set_attribute("/observations/source", "values", "0 loop detector, 1 probe vehicle");
  results.write_root_array("/detectors/position", {truth.detector_positions.size()},
                           truth.detector_positions);

  // The final parameters as a checkpoint (a store of the model's shape on every rank).
  nn::ParameterStore<T> store;
  nn::JetMlp<T> net;
  net.declare(store, "pinn", setup.network.sizes(), setup.network.activation);
  store.finalize();
  {
    auto host = Kokkos::create_mirror_view(store.params());
    for (std::size_t i = 0; i < result.parameters.size(); ++i) {
      host(i) = static_cast<T>(result.parameters[i]);
    }
    Kokkos::deep_copy(store.params(), host);
  }
  store.save(results, "/checkpoint/parameters");

  const auto attribute = [&](const char* name, double value) {
    results.set_attribute("/", name, value);
  };
  attribute("relative_l2", result.metrics.relative_l2);
  attribute("relative_l2_all", result.metrics.relative_l2_all);
  attribute("gradient_evaluations",
            static_cast<double>(result.adam_evaluations + result.lbfgs_evaluations));
  attribute("adam_evaluations", static_cast<double>(result.adam_evaluations));
  attribute("lbfgs_evaluations", static_cast<double>(result.lbfgs_evaluations));
  attribute("transfers_tried", static_cast<double>(result.transfers_tried));
  attribute("transfers_helped", static_cast<double>(result.transfers_helped));
  attribute("transfers_adopted", static_cast<double>(result.transfers_adopted));
  attribute("training_seconds", result.seconds);
  attribute("parameters", static_cast<double>(store.size()));
  attribute("solver_steps", static_cast<double>(truth.solver_steps));
  results.set_attribute("/", "tasks", task_text);
  results.set_attribute("/", "method", setup.mto.enabled ? "mto" : "standard");

  if (c.get_bool("output.vtk")) write_vtk(ctx.comm, ctx.directory, truth.grid, result.prediction);
  runtime::log::info(
      str("PINN done: relative L2 ", result.metrics.relative_l2,
          is_ngsim(c) ? " on held-out rows" : " over the space-time grid", " (all cells ",
          result.metrics.relative_l2_all, "), ", result.adam_evaluations, " Adam + ",
          result.lbfgs_evaluations, " L-BFGS gradient evaluations",
          setup.mto.enabled
              ? str(", transfers ", result.transfers_helped, "/", result.transfers_tried, " helped",
                    result.transfers_adopted > 0
                        ? str(", ", result.transfers_adopted, " adoptions")
                        : std::string())
              : std::string(),
          ", ", result.seconds, " s"));
}

void run_pinn(const config::Config& c, RunContext& ctx) {
  if (c.get_string("model.precision") == "double") {
    run_typed<double>(c, ctx);
  } else {
    run_typed<float>(c, ctx);
  }
}

}  // namespace

ExperimentKind pinn_traffic_experiment_kind() {
  ExperimentKind kind;
  kind.name = "pinn_traffic";
  kind.description =
      "physics-informed network for traffic density from loop detectors (standard or "
      "multi-task optimisation), on LWR simulations or NGSIM data";
  kind.add_keys = add_pinn_keys;
  kind.check = check_pinn;
  kind.run = run_pinn;
  return kind;
}

}  // namespace tessera::experiments
