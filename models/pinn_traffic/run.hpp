#pragma once
// The traffic PINN experiment's driver: make the truth (an LWR simulation or an NGSIM
// grid) and the observations, train the PINN (standard or multi-task optimisation), and
// write the loss and error series to /metrics, the true and predicted density grids, the
// observations, the final parameters as a checkpoint, and the space-time grid to VTK.
#include <string>
#include <vector>

#include "core/io/run_context.hpp"
#include "models/pinn_traffic/config.hpp"

namespace tessera::models::pinn_traffic {

// A classical estimator's errors on the PINN's cells (baselines.hpp).
struct BaselineScore {
  std::string name;
  double relative_l2 = 0, relative_l2_all = 0, relative_l2_validation = 0;
};

struct PinnTrafficSummary {
  bool ngsim = false, mto = false;
  double relative_l2 = 0;      // on held-out rows (ngsim) or the space-time grid
  double relative_l2_all = 0;  // every cell
  bool validation = false;     // detectors.validation given
  double relative_l2_validation = 0;
  std::vector<BaselineScore> baselines;  // empty with baselines.enabled = false
  long long adam_evaluations = 0, lbfgs_evaluations = 0;
  long long transfers_tried = 0, transfers_helped = 0, transfers_adopted = 0;
  double seconds = 0;
};

PinnTrafficSummary run_pinn_traffic(const PinnTrafficConfig& config, const io::RunContext& context);

}  // namespace tessera::models::pinn_traffic
