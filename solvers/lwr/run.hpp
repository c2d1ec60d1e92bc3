#pragma once
// The lwr experiment's driver: simulate a road from its initial density, sample the
// virtual loop detectors, and write the density (with speed and flow) over space and
// time to the results file and to a VTK series; mass and, for an inviscid Riemann
// problem, the L1 error against the exact solution as metrics.
#include <cstdint>

#include "core/io/run_context.hpp"
#include "solvers/lwr/config.hpp"

namespace tessera::solvers::lwr {

struct LwrSummary {
  long long cells = 0;
  long long steps = 0;
  long long field_outputs = 0;
  double initial_mass = 0, final_mass = 0;
};

LwrSummary run_lwr(const LwrConfig& config, const io::RunContext& context);

}  // namespace tessera::solvers::lwr
