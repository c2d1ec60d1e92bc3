#pragma once
// The LWR road and initial density from an experiment's [solver] and [initial] keys,
// shared by the experiments that simulate a road (lwr) or learn one (pinn_traffic).
#include <cstdint>

#include "core/config/config.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::experiments {

// solver.flux and solver.wave_speed are optional: without them the diagram is Greenshields.
solvers::lwr::LwrParameters lwr_parameters_from(const config::Config& c);

// initial.kind "uniform", "riemann", "bell" or "platoons" (anything else: uniform), with
// `seed` for random platoons.
solvers::lwr::InitialCondition lwr_initial_condition_from(const config::Config& c,
                                                          std::uint64_t seed);

}  // namespace tessera::experiments
