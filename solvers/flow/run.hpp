#pragma once
// The flow experiment's drivers: one flow past the cylinder (DFG 2D-1/2D-2/2D-3, with
// drag, lift, pressure difference and the Strouhal number in the results file), or a set
// of trajectories with varied inflow speed and cylinder (train.h5, valid.h5, test.h5) for
// the mesh models.
#include <cstdint>

#include "core/io/run_context.hpp"
#include "solvers/flow/config.hpp"

namespace tessera::solvers::flow {

struct FlowSummary {
  long long steps = 0;
  double seconds = 0;
  double drag = 0, lift = 0, pressure_difference = 0;
  PeriodicStats periodic;  // periods = 0 for steady runs and data sets
  long long trajectories = 0;
};

// Runs the data-set mode when config.dataset.train > 0, one flow otherwise.
FlowSummary run_flow(const FlowConfig& config, const io::RunContext& context);

}  // namespace tessera::solvers::flow
