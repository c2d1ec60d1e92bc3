#include "solvers/lwr/riemann_exact.hpp"

#include <algorithm>
#include <stdexcept>

namespace tessera::solvers::lwr {
namespace {

// The self-similar solution as a function of xi = (x - x0)/t is piecewise: a constant
// left state up to xi_left, a fan (or, for the triangular diagram, a constant critical
// state) up to xi_right, then the constant right state. A shock or a contact has
// xi_left == xi_right.
struct WaveFan {
  double xi_left = 0.0;
  double xi_right = 0.0;
  bool smooth_fan = false;   // Greenshields rarefaction: rho linear in xi inside
  double fan_density = 0.0;  // triangular rarefaction: constant inside
};

WaveFan wave_structure(const FundamentalDiagram& diagram, double rho_left, double rho_right) {
  WaveFan fan;
  if (rho_left == rho_right) {
    return fan;  // no wave; any xi splits two equal states
  }
  if (rho_left < rho_right) {
    // Shock (Lax entropy condition holds for concave f), or a contact when both states
    // sit on the same linear branch of the triangular diagram: Rankine-Hugoniot covers both.
    const double s = (diagram.flux(rho_left) - diagram.flux(rho_right)) / (rho_left - rho_right);
    fan.xi_left = s;
    fan.xi_right = s;
    return fan;
  }
  if (diagram.kind == FluxKind::kGreenshields) {
    fan.xi_left = diagram.characteristic_speed(rho_left);
    fan.xi_right = diagram.characteristic_speed(rho_right);
    fan.smooth_fan = true;
    return fan;
  }
  const double rho_c = diagram.critical_density();
  if (rho_right >= rho_c) {
    fan.xi_left = fan.xi_right = -diagram.wave_speed;  // both congested: contact
  } else if (rho_left <= rho_c) {
    fan.xi_left = fan.xi_right = diagram.v_max;  // both free-flowing: contact
  } else {
    fan.xi_left = -diagram.wave_speed;
    fan.xi_right = diagram.v_max;
    fan.fan_density = rho_c;
  }
  return fan;
}

// Inverse of f' for Greenshields: the density whose characteristic speed is xi.
double greenshields_fan_density(const FundamentalDiagram& diagram, double xi) {
  return 0.5 * diagram.rho_max * (1.0 - xi / diagram.v_max);
}

double fan_density_at(const FundamentalDiagram& diagram, const WaveFan& fan, double xi) {
  return fan.smooth_fan ? greenshields_fan_density(diagram, xi) : fan.fan_density;
}

}  // namespace

double riemann_exact_density(const FundamentalDiagram& diagram, double rho_left, double rho_right,
                             double x0, double x, double t) {
  if (t <= 0.0) return x < x0 ? rho_left : rho_right;
  const WaveFan fan = wave_structure(diagram, rho_left, rho_right);
  const double xi = (x - x0) / t;
  if (xi < fan.xi_left) return rho_left;
  if (xi >= fan.xi_right) return rho_right;
  return fan_density_at(diagram, fan, xi);
}

double riemann_exact_cell_average(const FundamentalDiagram& diagram, double rho_left,
                                  double rho_right, double x0, double a, double b, double t) {
  if (!(b > a)) {
    throw std::invalid_argument("riemann_exact_cell_average: the cell [a, b] needs a < b");
  }
  WaveFan fan;
  if (t > 0.0) fan = wave_structure(diagram, rho_left, rho_right);
  const double tt = t > 0.0 ? t : 0.0;
  // Breakpoints in x; the pieces are [a, x_left], [x_left, x_right], [x_right, b].
  const double x_left = std::clamp(x0 + fan.xi_left * tt, a, b);
  const double x_right = std::clamp(x0 + fan.xi_right * tt, a, b);
  double integral = rho_left * (x_left - a) + rho_right * (b - x_right);
  if (x_right > x_left) {
    // Inside the fan rho is affine in x (or constant), so the midpoint rule is exact.
    const double x_mid = 0.5 * (x_left + x_right);
    integral += (x_right - x_left) * fan_density_at(diagram, fan, (x_mid - x0) / tt);
  }
  return integral / (b - a);
}

}  // namespace tessera::solvers::lwr
