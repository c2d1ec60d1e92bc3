// The lwr experiment: LWR traffic on a ring or open road with virtual loop detectors
// (solvers/lwr owns the keys, the configuration and the driver).
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "solvers/lwr/run.hpp"

namespace tessera::experiments {

namespace lwr = solvers::lwr;

ExperimentKind lwr_experiment_kind() {
  ExperimentKind kind;
  kind.name = "lwr";
  kind.description = "LWR traffic flow on a ring or open road with virtual loop detectors";
  kind.add_keys = lwr::add_lwr_keys;
  kind.resumable = true;
  kind.check = [](const config::Config& c, int ranks) {
    lwr::validate(lwr::from_config(c), ranks);
  };
  kind.run = [](const config::Config& c, RunContext& context) {
    const lwr::LwrSummary s = lwr::run_lwr(lwr::from_config(c), context);
    runtime::log::info(str("LWR done: ", s.steps, " steps, ", s.field_outputs,
                           " field outputs, mass ", s.initial_mass, " -> ", s.final_mass));
  };
  return kind;
}

}  // namespace tessera::experiments
