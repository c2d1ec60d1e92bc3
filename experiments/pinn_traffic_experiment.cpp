// The traffic PINN experiment: estimate the density rho(x, t) of a road from loop
// detectors (and probe vehicles) with a physics-informed network, standard or with
// multi-task optimisation, on an LWR simulation or a measured NGSIM grid
// (models/pinn_traffic owns the keys, the configuration and the driver).
#include "core/runtime/error.hpp"
#include "core/runtime/log.hpp"
#include "experiments/experiment.hpp"
#include "models/pinn_traffic/run.hpp"

namespace tessera::experiments {

namespace pinn = models::pinn_traffic;

namespace {

void log_summary(const pinn::PinnTrafficSummary& s) {
  runtime::log::info(
      str("PINN done: relative L2 ", s.relative_l2,
          s.ngsim ? " on held-out rows" : " over the space-time grid", " (all cells ",
          s.relative_l2_all, "), ", s.adam_evaluations, " Adam + ", s.lbfgs_evaluations,
          " L-BFGS gradient evaluations",
          s.mto ? str(", transfers ", s.transfers_helped, "/", s.transfers_tried, " helped",
                      s.transfers_adopted > 0 ? str(", ", s.transfers_adopted, " adoptions")
                                              : std::string())
                : std::string(),
          ", ", s.seconds, " s"));
  if (s.validation) {
    runtime::log::info(str("PINN validation rows: relative L2 ", s.relative_l2_validation));
  }
  // The PINN beside the best classical estimator on the same cells.
  const pinn::BaselineScore* best = nullptr;
  for (const auto& b : s.baselines) {
    if (!best || b.relative_l2 < best->relative_l2) best = &b;
  }
  if (best) {
    runtime::log::info(
        str("PINN against the best baseline (", best->name, ", relative L2 ", best->relative_l2,
            "): ratio ", s.relative_l2 / best->relative_l2,
            s.relative_l2 < best->relative_l2 ? " (the PINN wins)" : " (the baseline wins)"));
  }
}

}  // namespace

ExperimentKind pinn_traffic_experiment_kind() {
  ExperimentKind kind;
  kind.name = "pinn_traffic";
  kind.description =
      "physics-informed network for traffic density from loop detectors (standard or "
      "multi-task optimisation), on LWR simulations or NGSIM data";
  kind.add_keys = pinn::add_pinn_traffic_keys;
  kind.check = [](const config::Config& c, int ranks) {
    const pinn::PinnTrafficConfig p = pinn::from_config(c);
    pinn::validate(p, ranks);
  };
  // Checkpoints of the training state (standard PINN and MTO alike).
  kind.resumable = true;
  kind.run = [](const config::Config& c, RunContext& context) {
    log_summary(pinn::run_pinn_traffic(pinn::from_config(c), context));
  };
  return kind;
}

}  // namespace tessera::experiments
