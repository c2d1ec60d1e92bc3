// The lwr_network experiment: traffic on a road network (cell transmission model) with
// daily demand, incidents and loop detectors, written as a forecasting data set
// (solvers/lwr/network owns the keys, the configuration and the driver).
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "solvers/lwr/network/run.hpp"

namespace tessera::experiments {

namespace net = solvers::lwr::network;

ExperimentKind lwr_network_experiment_kind() {
  ExperimentKind kind;
  kind.name = "lwr_network";
  kind.description =
      "LWR traffic on a road network (junctions, daily demand, incidents, loop detectors): a "
      "sensor data set for forecasting";
  kind.add_keys = net::add_lwr_network_keys;
  kind.resumable = true;
  kind.check = [](const config::Config& c, int ranks) {
    net::validate(net::network_from_config(c), ranks);
  };
  kind.run = [](const config::Config& c, RunContext& context) {
    const net::NetworkSummary s = net::run_lwr_network(net::network_from_config(c), context);
    runtime::log::info(str("LWR network done: ", s.steps, " steps of ", s.cells, " cells in ",
                           s.seconds, " s (", s.cell_updates_per_second / 1e6,
                           " M cell-updates/s); ", s.readings, " readings of ", s.detectors,
                           " detectors, mean speed ", s.mean_speed, " km/h, ",
                           100.0 * s.congested_fraction, " % of readings below 60 km/h; ",
                           s.incidents, " incidents; mass balance error ", s.mass_balance_error,
                           s.gridlock_day >= 0 ? str("; GRIDLOCK from day ", s.gridlock_day) : ""));
  };
  return kind;
}

}  // namespace tessera::experiments
