#pragma once
// The traffic-density problem a PINN solves, and the change of variables it trains in.
// The network sees x^ = 2 x / L - 1 and t^ = 2 (t - t0) / T - 1 on [-1, 1]^2 and outputs
// u = rho / rho_max, so that inputs and output are O(1) whatever the units (normalised
// ring roads or NGSIM's feet and seconds). In these variables the LWR equation
//   rho_t + v_max (1 - 2 rho / rho_max) rho_x - eps rho_xx = 0   (Greenshields)
// becomes, after dividing by rho_max dt^/dt,
//   u_t^ + (v_max T / L) (1 - 2 u) u_x^ - (2 eps T / L^2) u_x^x^ = 0,
// which is lwr_residual_loss with v_max' = v_max T / L, rho_max' = 1 and
// eps' = 2 eps T / L^2 (residual_parameters()).
#include "models/pinn_traffic/arz_residual.hpp"
#include "models/pinn_traffic/lwr_residual.hpp"

namespace tessera::models::pinn_traffic {

struct PinnProblem {
  double road_length = 1.0;  // L: the road is [0, L]
  double t_start = 0.0;      // t0
  double t_end = 1.0;        // t0 + T
  bool ring = true;          // periodic road (a periodic boundary term) or open road
  double v_max = 1.0;        // Greenshields free-flow speed
  double rho_max = 1.0;      // jam density
  double viscosity = 0.0;    // eps >= 0
  // loss.residual_scale = "characteristic": the residual is divided by max(1, v_max'),
  // i.e. time is measured in the time a free-flow wave takes to cross the road whenever
  // the window is longer (NGSIM: v_max' = 25, so the residual stops outweighing the data
  // 625-fold and a weight near 1 works).
  bool scale_residual = true;
  // model.pde = "arz": the second-order ARZ model (arz_residual.hpp) with density and
  // speed both network outputs, relaxing to Greenshields' speed in `relaxation_time`.
  bool arz = false;
  double relaxation_time = 30.0;

  // InputError naming the key (solver.viscosity, solver.v_max, ...) and the allowed range.
  void validate() const;

  double duration() const { return t_end - t_start; }
  double x_hat(double x) const { return 2.0 * x / road_length - 1.0; }
  double t_hat(double t) const { return 2.0 * (t - t_start) / duration() - 1.0; }
  double x_of(double x_hat) const { return (x_hat + 1.0) * 0.5 * road_length; }
  double t_of(double t_hat) const { return t_start + (t_hat + 1.0) * 0.5 * duration(); }
  double u_of(double rho) const { return rho / rho_max; }
  double rho_of(double u) const { return u * rho_max; }

  // The coefficients of the residual in normalised variables (see above).
  LwrResidualCoefficients residual_parameters() const;
  ArzResidualCoefficients arz_parameters() const;
};

}  // namespace tessera::models::pinn_traffic
