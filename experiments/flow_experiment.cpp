// The flow experiment: incompressible flow past a cylinder (the DFG benchmarks 2D-1,
// 2D-2, 2D-3) or, with dataset.train > 0, trajectory data sets for the mesh models
// (solvers/flow owns the keys, the configuration and the drivers).
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "solvers/flow/run.hpp"

namespace tessera::experiments {

namespace flow = solvers::flow;

namespace {

void log_summary(const flow::FlowConfig& config, const flow::FlowSummary& s) {
  if (config.dataset.enabled()) {
    runtime::log::info(
        str("flow data sets done: ", s.trajectories, " trajectories, ", s.steps, " solver steps"));
    return;
  }
  const flow::PeriodicStats& ps = s.periodic;
  runtime::log::info(str("flow done: ", s.steps, " steps in ", s.seconds, " s; c_D = ", s.drag,
                         ", c_L = ", s.lift, ", dp = ", s.pressure_difference,
                         ps.periods > 0
                             ? str("; over ", ps.periods, " lift periods: St = ", ps.strouhal,
                                   ", c_D max = ", ps.drag_max, ", c_L max = ", ps.lift_max)
                             : std::string()));
}

}  // namespace

ExperimentKind flow_experiment_kind() {
  ExperimentKind kind;
  kind.name = "flow";
  kind.description =
      "incompressible flow past a cylinder (DFG benchmarks 2D-1/2D-2/2D-3) or a set of "
      "trajectories for the mesh transformer";
  kind.add_keys = flow::add_flow_keys;
  kind.check = [](const config::Config& c, int ranks) {
    flow::validate(flow::from_config(c), ranks);
  };
  kind.run = [](const config::Config& c, RunContext& context) {
    const flow::FlowConfig config = flow::from_config(c);
    log_summary(config, flow::run_flow(config, context));
  };
  // Both modes checkpoint: the benchmark run at solver steps, the data sets between
  // trajectories (solvers/flow/run.cpp).
  kind.resumable = true;
  return kind;
}

}  // namespace tessera::experiments
