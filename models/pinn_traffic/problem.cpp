#include "models/pinn_traffic/problem.hpp"

#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::models::pinn_traffic {

void PinnProblem::validate() const {
  auto positive = [](double value, const char* key, const char* meaning) {
    if (!(value > 0) || !std::isfinite(value)) {
      throw InputError(str(key, " = ", value, " must be positive and finite (", meaning, ")"));
    }
  };
  positive(road_length, "solver.road_length", "length of the road");
  positive(v_max, "solver.v_max", "free-flow speed of the Greenshields diagram");
  positive(rho_max, "solver.rho_max", "jam density of the Greenshields diagram");
  if (!(t_end > t_start) || !std::isfinite(t_end - t_start)) {
    throw InputError(str("solver.t_end = ", t_end, " must be after the start time ", t_start,
                         " (the PINN needs a time window of positive length)"));
  }
  if (arz) positive(relaxation_time, "model.arz_relaxation_time", "ARZ relaxation time");
  if (arz && ring) {
    throw InputError(
        "model.pde = \"arz\" is for open roads (NGSIM, open simulations): its periodic "
        "boundary term is not written; use model.pde = \"lwr\" on a ring");
  }
  if (!(viscosity >= 0) || !std::isfinite(viscosity)) {
    throw InputError(str("solver.viscosity = ", viscosity,
                         " is out of range: the diffusion eps of rho_t + f(rho)_x = eps rho_xx "
                         "must be >= 0 (0 for the pure LWR model)"));
  }
}

LwrResidualCoefficients PinnProblem::residual_parameters() const {
  const double length = road_length, duration = t_end - t_start;
  LwrResidualCoefficients p;
  p.v_max = v_max * duration / length;
  p.rho_max = 1.0;
  p.viscosity = 2.0 * viscosity * duration / (length * length);
  p.residual_scale = scale_residual && p.v_max > 1.0 ? 1.0 / p.v_max : 1.0;
  return p;
}

ArzResidualCoefficients PinnProblem::arz_parameters() const {
  const LwrResidualCoefficients lwr = residual_parameters();
  ArzResidualCoefficients a;
  a.v_max = lwr.v_max;
  a.viscosity = lwr.viscosity;
  a.residual_scale = lwr.residual_scale;
  a.relaxation = (t_end - t_start) / (2.0 * relaxation_time);
  return a;
}

}  // namespace tessera::models::pinn_traffic
