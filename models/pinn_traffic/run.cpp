#include "models/pinn_traffic/run.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/io/vtk_series.hpp"
#include "core/nn/jet_mlp.hpp"
#include "core/nn/parameter_store.hpp"
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "core/runtime/progress.hpp"
#include "core/runtime/runtime.hpp"
#include "models/pinn_traffic/collocation.hpp"
#include "models/pinn_traffic/transfer.hpp"

namespace tessera::models::pinn_traffic {
namespace {

// The truth, the observations and which grid columns (positions) count in the metric.
struct Truth {
  DensityGrid grid;
  ObservationSet observations;
  std::vector<std::size_t> metric_columns;      // empty: all
  std::vector<std::size_t> validation_columns;  // ngsim: detectors.validation
  std::vector<double> detector_positions;
  long long solver_steps = 0;
};

Truth make_truth(const PinnTrafficConfig& c) {
  Truth truth;
  if (c.ngsim) {
    truth.grid = read_grid(c);
    const auto rows = columns_at(truth.grid, c.sensors.detector_positions);
    truth.validation_columns = validation_columns(truth.grid, c.validation_positions, rows);
    truth.observations = column_observations(truth.grid, rows, read_speeds(c, truth.grid));
    const auto& held = truth.validation_columns;
    for (std::size_t ix = 0; ix < truth.grid.nx(); ++ix) {
      if (!std::binary_search(rows.begin(), rows.end(), ix) &&
          !std::binary_search(held.begin(), held.end(), ix)) {
        truth.metric_columns.push_back(ix);
      }
    }
    for (std::size_t ix : rows) truth.detector_positions.push_back(truth.grid.x[ix]);
  } else {
    SimulatedData data = simulate_lwr(c.simulation, c.sensors);
    truth.grid = std::move(data.truth);
    truth.observations = std::move(data.observations);
    truth.detector_positions = c.sensors.detector_positions;
    truth.solver_steps = data.solver_steps;
  }
  add_noise(truth.observations, c.noise, c.noise_seed);
  return truth;
}

// The space-time grid as quads (x across, t up) with the true and predicted density: one
// VTK step, each rank writing a block of time rows.
void write_vtk(MPI_Comm comm, const std::string& directory, const DensityGrid& grid,
               const std::vector<double>& prediction) {
  const int rank = runtime::comm_rank(comm), ranks = runtime::comm_size(comm);
  const std::size_t nx = grid.nx(), nt = grid.nt();
  const Shard rows = shard_of(nt, rank, ranks);
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

// The classical estimators on the same detectors, scored on the same cells; each one's
// prediction and errors go to /baselines/<name>, its error to /metrics and the log. A
// resumed run (`resumed`) has the metrics in its results file already.
std::vector<BaselineScore> run_baselines(const PinnTrafficConfig& c, const Truth& truth,
                                         const PinnSetup& setup, io::ResultsFile& results,
                                         bool resumed) {
  const std::vector<DetectorSeries> series = detector_series(truth.observations);
  GreenshieldsFit configured;
  configured.v_max = setup.problem.v_max;
  configured.rho_max = setup.problem.rho_max;
  const GreenshieldsFit diagram = c.fit_diagram ? fit_greenshields(series, configured) : configured;
  if (c.fit_diagram) {
    runtime::log::info(
        diagram.fitted
            ? str("baselines: Greenshields fit of ", diagram.samples,
                  " detector speed-density pairs: v_max ", diagram.v_max, ", rho_max ",
                  diagram.rho_max, " (speed RMSE ", diagram.speed_rmse, ")")
            : str("baselines: no detector speeds to fit a diagram to (data.speed_file); the LWR "
                  "estimator uses solver.v_max ",
                  configured.v_max, " and solver.rho_max ", configured.rho_max));
  }
  BaselineOptions options = c.baseline_options;
  options.viscosity = setup.problem.viscosity;
  options.ring = setup.problem.ring;
  if (!setup.data.initial_values.empty()) {
    // The LWR estimator starts from what the PINN is told of the initial density: its
    // samples, interpolated in space (as detectors at one time).
    ObservationSet initial;
    for (std::size_t k = 0; k < setup.data.initial_count(); ++k) {
      initial.add(setup.problem.x_of(setup.data.initial_points[2 * k]), 0.0,
                  setup.problem.rho_of(setup.data.initial_values[k]), ObservationSource::kDetector);
    }
    options.initial_density =
        interpolation_at(detector_series(initial), truth.grid, 0.0, setup.problem.ring);
  }
  std::vector<BaselineScore> scores;
  const std::uint64_t nx = truth.grid.nx(), nt = truth.grid.nt();
  for (const BaselineEstimate& e : classical_estimates(series, truth.grid, diagram, options)) {
    BaselineScore score;
    score.name = e.name;
    score.relative_l2 = relative_l2_on_columns(e.density, truth.grid, truth.metric_columns);
    score.relative_l2_all = relative_l2_on_columns(e.density, truth.grid, {});
    const std::string group = "/baselines/" + e.name;
    results.write_root_array(group + "/density_pred", {nt, nx}, e.density);
    results.set_attribute(group + "/density_pred", "description", e.description);
    results.set_attribute(group + "/density_pred", "relative_l2", score.relative_l2);
    results.set_attribute(group + "/density_pred", "relative_l2_all", score.relative_l2_all);
    std::string validation;
    if (!truth.validation_columns.empty()) {
      score.relative_l2_validation =
          relative_l2_on_columns(e.density, truth.grid, truth.validation_columns);
      results.set_attribute(group + "/density_pred", "relative_l2_validation",
                            score.relative_l2_validation);
      validation = str(", validation rows ", score.relative_l2_validation);
    }
    if (!resumed) {
      results.append_metric("baseline_" + e.name + "_relative_l2", 0.0, score.relative_l2);
    }
    runtime::log::info(str("baseline ", e.name, ": relative L2 ", score.relative_l2, validation,
                           " (", e.description, ")"));
    scores.push_back(score);
  }
  return scores;
}

template <class T>
PinnTrafficSummary run_typed(const PinnTrafficConfig& c, const io::RunContext& ctx) {
  const bool root = runtime::comm_rank(ctx.comm) == 0;
  Truth truth;
  {
    runtime::Timers::Scope scope(*ctx.timers, "pinn.ground_truth");
    truth = make_truth(c);
  }
  require_observations(truth.observations, c.source);

  PinnSetup setup = c.setup;
  if (c.ngsim) {
    setup.problem.road_length = truth.grid.road_length;
    setup.problem.t_start = truth.grid.t_start;
    setup.problem.t_end = truth.grid.t_end;
  }
  setup.data = make_training_data(setup.problem, truth.observations, truth.grid, c.initial_points,
                                  c.boundary_points);
  setup.evaluation = make_evaluation_set(setup.problem, truth.grid, truth.metric_columns,
                                         truth.validation_columns);
  const std::vector<TaskSpec> tasks = task_specs(setup);

  std::string task_text;
  for (const auto& t : tasks) task_text += (task_text.empty() ? "" : ", ") + t.name;
  runtime::log::info(
      str("PINN: ", c.ngsim ? "NGSIM grid " : "LWR simulation, ", truth.grid.nx(), " x ",
          truth.grid.nt(), " (space x time) truth, ",
          truth.observations.count(ObservationSource::kDetector), " detector and ",
          truth.observations.count(ObservationSource::kProbe), " probe samples, ",
          setup.data.initial_count(), " initial samples, ", setup.main.collocation.points, " ",
          sampler_name(setup.main.collocation.sampler),
          " collocation points; eps' = ", setup.problem.residual_parameters().viscosity,
          ", v_max' = ", setup.problem.residual_parameters().v_max, " (normalised)"));
  runtime::log::info(str("PINN: ", setup.mto.enabled ? "multi-task optimisation" : "standard PINN",
                         ", tasks: ", task_text, "; ", setup.training.adam_evaluations, " Adam + ",
                         setup.training.lbfgs_evaluations, " L-BFGS gradient evaluations, ",
                         c.precision));

  io::ResultsFile& results = *ctx.results;
  const bool resuming = ctx.checkpoints && ctx.checkpoints->resuming();
  std::vector<BaselineScore> baselines;
  if (c.baselines) {
    runtime::Timers::Scope scope(*ctx.timers, "pinn.baselines");
    baselines = run_baselines(c, truth, setup, results, resuming);
  }
  const bool validation = !truth.validation_columns.empty();
  const double total_work =
      static_cast<double>(setup.training.adam_evaluations + setup.training.lbfgs_evaluations);
  runtime::Progress progress("pinn", total_work > 0 ? total_work : 1, root, "evaluations");
  auto observer = [&](const TrainingRecord& r) {
    const double x = static_cast<double>(r.evaluations);
    results.append_metric("loss_data", x, r.terms.data);
    results.append_metric("loss_residual", x, r.terms.residual);
    results.append_metric("loss_initial", x, r.terms.initial);
    results.append_metric("loss_boundary", x, r.terms.boundary);
    if (setup.main.weights.speed > 0) results.append_metric("loss_speed", x, r.terms.speed);
    if (setup.main.adaptive.every > 0) {
      results.append_metric("weight_data", x, r.weights.data);
      results.append_metric("weight_initial", x, r.weights.initial);
      results.append_metric("weight_speed", x, r.weights.speed);
    }
    if (setup.network.learn_diagram) {
      results.append_metric("diagram_v_max", x, r.diagram[0]);
      results.append_metric("diagram_rho_max", x, r.diagram[1]);
    }
    results.append_metric("loss_total", x, r.terms.total);
    results.append_metric("relative_l2", x, r.metrics.relative_l2);
    results.append_metric("relative_l2_all", x, r.metrics.relative_l2_all);
    if (validation) {
      results.append_metric("relative_l2_validation", x, r.metrics.relative_l2_validation);
    }
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

  // Checkpoints (output.checkpoint_every counts gradient evaluations): the training
  // state (training.hpp); the metrics so far are in the results file the checkpoint keeps.
  TrainingCheckpoints checkpoints;
  if (ctx.checkpoints) {
    checkpoints.boundary = [&](long long step,
                               const std::function<void(io::ResultsFile&)>& write_state) {
      ctx.checkpoints->at_boundary(step, results, write_state);
    };
    if (resuming) {
      checkpoints.resume_from = ctx.checkpoints->resume_state_path();
      runtime::log::info(str("PINN: resuming training from ", checkpoints.resume_from));
    }
  }
  TrainingResult result;
  {
    runtime::Timers::Scope scope(*ctx.timers, "pinn.train");
    result = train_pinn<T>(ctx.comm, setup, observer, ctx.timers,
                           ctx.checkpoints ? &checkpoints : nullptr);
  }
  progress.finish(str("relative L2 ", result.metrics.relative_l2));
  if (setup.network.learn_diagram) {
    runtime::log::info(str("PINN: learned diagram v_max ", result.diagram[0], ", rho_max ",
                           result.diagram[1], " (configured ", setup.problem.v_max, ", ",
                           setup.problem.rho_max, ")"));
  }
  if (result.selected_at >= 0) {
    runtime::log::info(str("PINN: parameters of evaluation ", result.selected_at,
                           " kept (smallest validation error, train.select)"));
  }

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
  const ObservationSet& obs = truth.observations;
  const std::uint64_t n_obs = obs.size();
  results.write_root_array("/observations/x", {n_obs}, obs.x);
  results.write_root_array("/observations/t", {n_obs}, obs.t);
  results.write_root_array("/observations/density", {n_obs}, obs.density);
  results.write_root_array("/observations/source", {n_obs},
                           std::vector<double>(obs.source.begin(), obs.source.end()));
  results.set_attribute("/observations/source", "values", "0 loop detector, 1 probe vehicle");
  results.write_root_array("/detectors/position", {truth.detector_positions.size()},
                           truth.detector_positions);
  if (validation) {
    std::vector<double> positions;
    for (std::size_t ix : truth.validation_columns) positions.push_back(truth.grid.x[ix]);
    results.write_root_array("/detectors/validation_position", {positions.size()}, positions);
  }

  // The final parameters as a checkpoint (a store of the model's shape on every rank).
  nn::ParameterStore<T> store;
  nn::JetMlp<T> net;
  declare_pinn_model(store, net, setup.network);
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
  if (validation) attribute("relative_l2_validation", result.metrics.relative_l2_validation);
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
  attribute("diagram_v_max", result.diagram[0]);
  attribute("diagram_rho_max", result.diagram[1]);
  attribute("refined_points", static_cast<double>(result.refined_points));
  attribute("selected_at", static_cast<double>(result.selected_at));
  attribute("weight_data", result.weights.data);
  attribute("weight_residual", result.weights.residual);
  attribute("weight_speed", result.weights.speed);
  results.set_attribute("/", "tasks", task_text);
  results.set_attribute("/", "method", setup.mto.enabled ? "mto" : "standard");

  if (c.vtk) write_vtk(ctx.comm, ctx.directory, truth.grid, result.prediction);
  PinnTrafficSummary summary;
  summary.ngsim = c.ngsim;
  summary.mto = setup.mto.enabled;
  summary.relative_l2 = result.metrics.relative_l2;
  summary.relative_l2_all = result.metrics.relative_l2_all;
  summary.relative_l2_validation = result.metrics.relative_l2_validation;
  summary.validation = validation;
  summary.baselines = baselines;
  summary.adam_evaluations = result.adam_evaluations;
  summary.lbfgs_evaluations = result.lbfgs_evaluations;
  summary.transfers_tried = result.transfers_tried;
  summary.transfers_helped = result.transfers_helped;
  summary.transfers_adopted = result.transfers_adopted;
  summary.seconds = result.seconds;
  return summary;
}
}  // namespace

PinnTrafficSummary run_pinn_traffic(const PinnTrafficConfig& config,
                                    const io::RunContext& context) {
  return config.double_precision ? run_typed<double>(config, context)
                                 : run_typed<float>(config, context);
}

}  // namespace tessera::models::pinn_traffic
