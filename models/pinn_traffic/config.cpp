#include "models/pinn_traffic/config.hpp"

#include "core/io/data_root.hpp"
#include "core/runtime/error.hpp"
#include "models/pinn_traffic/transfer.hpp"
#include "solvers/lwr/config.hpp"
#include "solvers/lwr/detectors.hpp"

namespace tessera::models::pinn_traffic {

using config::at_least;
using config::between;
using config::greater_than;
using config::open_closed;
namespace lwr = solvers::lwr;

void add_pinn_traffic_keys(config::Schema& s) {
  s.add_string("data.source", std::string("simulation"), {"simulation", "ngsim"},
               "simulation: LWR solver truth; ngsim: a measured density grid (data.file)");
  s.add_string("data.file", std::string("traffic/NGSIM_US80_4pm_Density_Data.txt"), {},
               "ngsim: density grid under the data root (rows = space, columns = time)");
  s.add_string("data.speed_file", std::string(""), {},
               "ngsim: measured speeds in the density file's layout (NGSIM's velocity grid; "
               "empty: none): the speed term and the classical estimators read them");
  s.add_real("data.cell_length", 20.0, greater_than(0), "ngsim: length of a space bin (row)");
  s.add_real("data.interval", 5.0, greater_than(0), "ngsim: duration of a time bin (column)");
  s.add_real("data.scale", 1.0, greater_than(0), "ngsim: factor from file values to density");

  // The road: v_max, rho_max and viscosity are the PINN's PDE as well as the solver's.
  lwr::RoadKeyOptions road;
  road.cells = 400;
  road.min_cells = 2;
  road.viscosity = 0.005;
  road.cells_help = "simulation: cells of the truth grid the PINN is scored on";
  lwr::add_lwr_road_keys(s, road);
  s.add_int("solver.truth_refinement", 1, between(1, 64),
            "simulation: solver cells per truth cell (the truth is their block average; the "
            "first-order solver's own error on solver.cells alone can match the PINN's)");
  lwr::add_lwr_initial_keys(s, {/*data_grid=*/false, /*own_seed=*/true});

  s.add_real_list("detectors.positions", std::vector<double>{0.1, 0.3, 0.5, 0.7, 0.9},
                  config::any_value(),
                  "loop detector positions; ngsim: the grid rows containing them are observed, "
                  "the others held out");
  s.add_real_list("detectors.validation", std::vector<double>{}, config::any_value(),
                  "ngsim: detector rows neither trained on nor scored (their error is reported "
                  "as relative_l2_validation, for choosing settings without the test rows)");
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
  s.add_string("model.pde", std::string("lwr"), {"lwr", "arz"},
               "the PINN's physics: lwr (first order, density alone) or arz (Aw-Rascle-Zhang "
               "with relaxation: density and speed as outputs; open roads)");
  s.add_real("model.arz_relaxation_time", 30.0, greater_than(0),
             "arz: time in which the speed relaxes to Greenshields' (data's time units)");
  s.add_bool("model.learn_diagram", false,
             "learn the Greenshields diagram: v_max and rho_max become trainable parameters "
             "(log ratios to solver.v_max and solver.rho_max, which are their start)");
  s.add_real("model.space_frequency", 1.0, greater_than(0),
             "factor on the first layer's initial weights of x (wider initial frequencies)");
  s.add_real("model.time_frequency", 1.0, greater_than(0),
             "factor on the first layer's initial weights of t (waves that repeat many times "
             "in the window need more than 1)");
  s.add_string("model.precision", std::string("float"), {"float", "double"},
               "floating-point type of the network and its training");

  s.add_int("collocation.points", 10000, at_least(1), "collocation points of the PDE residual");
  s.add_string("collocation.sampler", std::string("sobol"), {"uniform", "latin_hypercube", "sobol"},
               "how collocation points are drawn");
  s.add_int("collocation.resample_every", 0, at_least(0),
            "Adam steps between new collocation sets (0: one set)");
  s.add_int("collocation.refine_every", 0, at_least(0),
            "residual-based adaptive refinement: Adam steps between additions of the "
            "collocation.refine_points candidates of largest residual (0: off)");
  s.add_int("collocation.refine_points", 500, at_least(1), "refinement: points added each time");
  s.add_int("collocation.refine_candidates", 20000, at_least(1),
            "refinement: Sobol candidates scored each time");
  s.add_int("collocation.boundary_points", 200, at_least(1),
            "ring roads: times of the periodic boundary pairs");

  s.add_real("loss.data_weight", 1.0, at_least(0), "weight of the observation misfit");
  s.add_real("loss.residual_weight", 1.0, at_least(0), "weight of the PDE residual");
  s.add_real("loss.initial_weight", 1.0, at_least(0), "weight of the initial-density misfit");
  s.add_real("loss.boundary_weight", 1.0, at_least(0), "weight of the periodic boundary term");
  s.add_real("loss.speed_weight", 0.0, at_least(0),
             "weight of the measured speeds against the diagram's speed of the predicted "
             "density (in units of solver.v_max; needs data.speed_file)");
  s.add_string("loss.residual_scale", std::string("characteristic"), {"characteristic", "none"},
               "characteristic: divide the residual by max(1, v_max T / L), time in units of the "
               "free-flow crossing time (the residual on the data's scale); none: as is");
  s.add_string("loss.adaptive", std::string("none"), {"none", "grad_norm"},
               "grad_norm: balance the loss weights by gradient norms (Wang, Teng & Perdikaris "
               "2021): w_i <- (1 - a) w_i + a max|grad w_r L_r| / mean|grad L_i|");
  s.add_int("loss.adaptive_every", 10, at_least(1),
            "grad_norm: Adam steps between weight updates (each costs one gradient evaluation "
            "per term)");
  s.add_real("loss.adaptive_alpha", 0.9, open_closed(0, 1), "grad_norm: moving-average factor");

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
  s.add_string("train.select", std::string("last"), {"last", "validation"},
               "final parameters: the last ones, or those of the record with the smallest error "
               "on the validation rows (detectors.validation)");
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

  s.add_bool("baselines.enabled", true,
             "classical estimators beside the PINN on the same detectors and cells: mean, "
             "interpolation, adaptive smoothing, LWR from the outermost detectors");
  s.add_string("baselines.diagram", std::string("fitted"), {"fitted", "configured"},
               "Greenshields diagram of the LWR estimator and of speeds derived from density: "
               "least squares of the detector speeds (fitted; needs speeds) or solver.*");
  s.add_string("baselines.lwr_boundary", std::string("density"), {"density", "speed"},
               "boundary data of the LWR estimator: the outermost detectors' density, or "
               "their speed through the diagram");
  s.add_real("baselines.asm_c_free", 0.0, at_least(0),
             "adaptive smoothing: free-flow wave speed (0: v_max of the diagram)");
  s.add_real("baselines.asm_c_congested", 0.0, config::any_value(),
             "adaptive smoothing: congested wave speed, negative (0: -0.1875 c_free, "
             "Treiber-Helbing's -15 of 80 km/h)");
  s.add_real("baselines.asm_sigma", 0.0, at_least(0),
             "adaptive smoothing: space width of the kernel (0: half the detector spacing)");
  s.add_real("baselines.asm_tau", 0.0, at_least(0),
             "adaptive smoothing: time width of the kernel (0: the detector sampling interval)");
  s.add_real("baselines.asm_v_critical", 0.0, at_least(0),
             "adaptive smoothing: crossover speed between free and congested (0: 0.75 c_free)");
  s.add_real("baselines.asm_v_width", 0.0, at_least(0),
             "adaptive smoothing: width of the crossover (0: 0.25 c_free)");

  s.add_real("output.field_interval", 0.01, greater_than(0),
             "simulation: time between rows of the truth (evaluation) grid");
}

namespace {

PinnProblem problem_of(const config::Config& c, bool ngsim) {
  PinnProblem p;
  p.v_max = c.get_real("solver.v_max");
  p.rho_max = c.get_real("solver.rho_max");
  p.viscosity = c.get_real("solver.viscosity");
  // An NGSIM run takes the road and the time window from its grid (the driver sets them).
  p.road_length = c.get_real("solver.road_length");
  p.t_end = c.get_real("solver.t_end");
  p.ring = !ngsim && c.get_string("solver.boundary") == "ring";
  p.scale_residual = c.get_string("loss.residual_scale") == "characteristic";
  p.arz = c.get_string("model.pde") == "arz";
  p.relaxation_time = c.get_real("model.arz_relaxation_time");
  return p;
}

OptimiserSpec optimiser_of(const config::Config& c) {
  OptimiserSpec o;
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

MtoOptions mto_of(const config::Config& c) {
  MtoOptions m;
  m.enabled = c.get_bool("mto.enabled");
  m.tasks = parse_task_list(c.get_string("mto.tasks"), "mto.tasks");
  m.interval = c.get_int("mto.interval");
  m.alpha = c.get_real("mto.alpha");
  m.alpha_min = c.get_real("mto.alpha_min");
  m.weight_factor = c.get_real("mto.weight_factor");
  m.early_fraction = c.get_real("mto.early_fraction");
  m.reset_worse = c.get_bool("mto.reset_worse");
  m.validation_points = static_cast<std::size_t>(c.get_int("mto.validation_points"));
  return m;
}

}  // namespace

PinnTrafficConfig from_config(const config::Config& c) {
  PinnTrafficConfig p;
  p.source = c.source();
  p.ngsim = c.get_string("data.source") == "ngsim";
  p.grid.data_root = c.get_string("run.data_root");
  p.grid.file = c.get_string("data.file");
  p.grid.speed_file = c.get_string("data.speed_file");
  p.grid.cell_length = c.get_real("data.cell_length");
  p.grid.interval = c.get_real("data.interval");
  p.grid.scale = c.get_real("data.scale");

  p.simulation.lwr = lwr::road_from_config(c);
  // initial.seed places platoons; run.seed seeds training.
  p.simulation.initial =
      lwr::initial_from_config(c, static_cast<std::uint64_t>(c.get_int("initial.seed")));
  p.simulation.t_end = c.get_real("solver.t_end");
  p.simulation.field_interval = c.get_real("output.field_interval");
  p.simulation.truth_refinement = c.get_int("solver.truth_refinement");
  p.flux = c.get_string("solver.flux");

  p.sensors.detector_positions = c.get_real_list("detectors.positions");
  p.sensors.detector_interval = c.get_real("detectors.interval");
  p.validation_positions = c.get_real_list("detectors.validation");
  p.baselines = c.get_bool("baselines.enabled");
  p.fit_diagram = c.get_string("baselines.diagram") == "fitted";
  p.baseline_options.lwr_boundary = c.get_string("baselines.lwr_boundary") == "speed"
                                        ? LwrBoundaryData::kSpeed
                                        : LwrBoundaryData::kDensity;
  AsmOptions& a = p.baseline_options.asm_options;
  a.c_free = c.get_real("baselines.asm_c_free");
  a.c_congested = c.get_real("baselines.asm_c_congested");
  a.sigma = c.get_real("baselines.asm_sigma");
  a.tau = c.get_real("baselines.asm_tau");
  a.v_critical = c.get_real("baselines.asm_v_critical");
  a.v_width = c.get_real("baselines.asm_v_width");
  p.sensors.probes = c.get_int("observations.probes");
  p.sensors.probe_interval = c.get_real("observations.probe_interval");
  p.sensors.probe_seed = static_cast<std::uint64_t>(c.get_int("observations.seed"));
  p.noise = c.get_real("observations.noise");
  p.noise_seed = static_cast<std::uint64_t>(c.get_int("observations.seed"));
  const bool observe_initial = c.get_bool("observations.initial");
  p.initial_points =
      observe_initial ? static_cast<std::size_t>(c.get_int("observations.initial_points")) : 0;
  p.boundary_points = static_cast<std::size_t>(c.get_int("collocation.boundary_points"));
  p.vtk = c.get_bool("output.vtk");
  p.precision = c.get_string("model.precision");
  p.double_precision = p.precision == "double";

  PinnSetup& setup = p.setup;
  setup.problem = problem_of(c, p.ngsim);
  setup.network.hidden_layers = static_cast<std::size_t>(c.get_int("model.hidden_layers"));
  setup.network.width = static_cast<std::size_t>(c.get_int("model.width"));
  setup.network.activation = nn::activation_from_name(c.get_string("model.activation"));
  setup.network.learn_diagram = c.get_bool("model.learn_diagram");
  setup.network.outputs = setup.problem.arz ? 2 : 1;
  setup.network.space_frequency = c.get_real("model.space_frequency");
  setup.network.time_frequency = c.get_real("model.time_frequency");
  setup.main.weights.speed = c.get_real("loss.speed_weight");
  if (c.get_string("loss.adaptive") == "grad_norm") {
    setup.main.adaptive.every = c.get_int("loss.adaptive_every");
    setup.main.adaptive.alpha = c.get_real("loss.adaptive_alpha");
  }
  ResidualRefinement& refine = setup.main.collocation.refinement;
  refine.every = c.get_int("collocation.refine_every");
  refine.points = static_cast<std::size_t>(c.get_int("collocation.refine_points"));
  refine.candidates = static_cast<std::size_t>(c.get_int("collocation.refine_candidates"));
  setup.training.select_on_validation = c.get_string("train.select") == "validation";
  setup.main.weights.data = c.get_real("loss.data_weight");
  setup.main.weights.residual = c.get_real("loss.residual_weight");
  setup.main.weights.initial = observe_initial ? c.get_real("loss.initial_weight") : 0.0;
  setup.main.weights.boundary = setup.problem.ring ? c.get_real("loss.boundary_weight") : 0.0;
  setup.main.collocation.sampler = sampler_from_name(c.get_string("collocation.sampler"));
  setup.main.collocation.points = static_cast<std::size_t>(c.get_int("collocation.points"));
  setup.main.collocation.resample_every = c.get_int("collocation.resample_every");
  setup.training.adam_evaluations = c.get_int("train.adam_steps");
  setup.training.lbfgs_evaluations = c.get_int("train.lbfgs_evaluations");
  setup.training.log_every = c.get_int("train.log_every");
  setup.training.optimiser = optimiser_of(c);
  setup.training.seed = static_cast<std::uint64_t>(c.get_int("run.seed"));
  // An unknown task name is an InputError naming mto.tasks: name the file too.
  config::with_source(p.source, [&] { setup.mto = mto_of(c); });
  return p;
}

DensityGrid read_grid(const PinnTrafficConfig& p) {
  const std::string path = io::resolve_data_file(p.grid.data_root, p.grid.file);
  return read_density_grid(path, p.grid.cell_length, p.grid.interval, p.grid.scale,
                           p.setup.problem.rho_max);
}

std::vector<double> read_speeds(const PinnTrafficConfig& p, const DensityGrid& grid) {
  if (p.grid.speed_file.empty()) return {};
  return read_speed_grid(io::resolve_data_file(p.grid.data_root, p.grid.speed_file), grid);
}

void validate(const PinnTrafficConfig& p, int /*ranks*/) {
  config::with_source(p.source, [&] {
    if (p.flux != "greenshields") {
      throw InputError(str("key 'solver.flux' = \"", p.flux,
                           "\": the PINN's PDE has the Greenshields diagram: expected "
                           "\"greenshields\""));
    }
    const std::vector<double>& positions = p.sensors.detector_positions;
    if (p.ngsim) {
      const DensityGrid grid = read_grid(p);  // reads and checks every value
      PinnProblem problem = p.setup.problem;
      problem.road_length = grid.road_length;
      problem.t_start = grid.t_start;
      problem.t_end = grid.t_end;
      problem.validate();
      if (positions.empty()) {
        throw InputError(
            "empty observation set: detectors.positions is empty, so no row of the data "
            "grid is observed; list the positions of the detector rows to train on");
      }
      read_speeds(p, grid);
      const auto rows = columns_at(grid, positions);
      const auto validation = validation_columns(grid, p.validation_positions, rows);
      if (rows.size() + validation.size() >= grid.nx()) {
        throw InputError(str("detectors.positions and detectors.validation take all ", grid.nx(),
                             " rows of the data grid: none is left to evaluate on"));
      }
    } else {
      if (!p.validation_positions.empty()) {
        throw InputError(
            "detectors.validation applies to measured grids (data.source = \"ngsim\"): a "
            "simulation is scored on its whole space-time grid");
      }
      if (!p.grid.speed_file.empty()) {
        throw InputError(
            "data.speed_file applies to measured grids (data.source = \"ngsim\"); a "
            "simulation's speeds follow from its diagram");
      }
      p.setup.problem.validate();
      lwr::validate_parameters(p.simulation.lwr);
      lwr::validate_initial_condition(p.simulation.initial, p.simulation.lwr);
      lwr::DetectorArray detectors(positions, p.simulation.lwr.road_length);
      if (detectors.detector_count() == 0 && p.sensors.probes == 0) {
        require_observations(ObservationSet{}, "");
      }
      const double rows = p.simulation.t_end / p.simulation.field_interval;
      if (rows > 100000) {
        throw InputError(str("key 'output.field_interval' gives ", rows,
                             " rows of the truth grid for solver.t_end = ", p.simulation.t_end,
                             ": expected at most 100000"));
      }
    }
    if (p.setup.main.weights.speed > 0 && (!p.ngsim || p.grid.speed_file.empty())) {
      throw InputError(str("loss.speed_weight = ", p.setup.main.weights.speed,
                           " needs measured speeds: set data.speed_file (data.source = "
                           "\"ngsim\"), or loss.speed_weight = 0"));
    }
    if (p.setup.problem.arz && p.setup.network.learn_diagram) {
      throw InputError(
          "model.learn_diagram = true with model.pde = \"arz\": the learned diagram is for the "
          "LWR residual (the ARZ model fits the speed as an output instead)");
    }
    if (p.setup.training.select_on_validation && p.validation_positions.empty()) {
      throw InputError(
          "train.select = \"validation\" needs validation rows: list them in "
          "detectors.validation (rows neither trained on nor scored)");
    }
    const ResidualRefinement& refine = p.setup.main.collocation.refinement;
    if (refine.every > 0 && refine.points > refine.candidates) {
      throw InputError(str("collocation.refine_points = ", refine.points,
                           " is more than collocation.refine_candidates = ", refine.candidates,
                           ": the points are chosen among the candidates"));
    }
    const MtoOptions& m = p.setup.mto;
    if (m.enabled && m.tasks.empty()) {
      throw InputError("mto.enabled = true but mto.tasks names no auxiliary task");
    }
    TransferController(m.alpha, m.alpha_min);
    const AsmOptions& a = p.baseline_options.asm_options;
    if (a.c_congested > 0) {
      throw InputError(str("key 'baselines.asm_c_congested' = ", a.c_congested,
                           ": congested waves travel upstream: expected a negative speed (or 0 "
                           "for the default)"));
    }
    p.setup.training.optimiser.make_schedule(1);
  });
}

}  // namespace tessera::models::pinn_traffic
