#pragma once
// Exact solutions of the LWR Riemann problem (a single jump at x0 at t = 0) on an
// infinite road, for checking the finite-volume solver against the truth: a shock when
// density rises downstream, a rarefaction fan when it falls. For the triangular diagram
// the fan degenerates to a constant state at the critical density, and two states on
// the same linear branch are joined by a contact discontinuity moving at that branch's
// slope (v_max or -w).
#include "solvers/lwr/fundamental_diagram.hpp"

namespace tessera::solvers::lwr {

// Density at position x and time t >= 0. At t <= 0 the initial jump (x < x0 is left).
double riemann_exact_density(const FundamentalDiagram& diagram, double rho_left, double rho_right,
                             double x0, double x, double t);

// Exact average of the solution over the cell [a, b] at time t (a < b), for L1 errors
// that measure the scheme rather than the sampling of a discontinuity.
double riemann_exact_cell_average(const FundamentalDiagram& diagram, double rho_left,
                                  double rho_right, double x0, double a, double b, double t);

}  // namespace tessera::solvers::lwr
