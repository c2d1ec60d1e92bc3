// Fundamental diagrams: capacity at the critical density, demand and supply as the two
// monotone halves of f, and the Godunov flux they make.
#include <cmath>

#include "solvers/lwr/fundamental_diagram.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

namespace {

FundamentalDiagram make(FluxKind kind) {
  FundamentalDiagram d;
  d.kind = kind;
  d.v_max = 30.0;    // m/s
  d.rho_max = 0.15;  // vehicles per metre
  d.wave_speed = 6.0;
  return d;
}

}  // namespace

TEST_CASE("Greenshields diagram", "[diagram]") {
  const FundamentalDiagram d = make(FluxKind::kGreenshields);
  CHECK(d.critical_density() == Approx(0.075));
  CHECK(d.capacity() == Approx(30.0 * 0.15 / 4.0));
  CHECK(d.flux(0.0) == 0.0);
  CHECK(d.flux(0.15) == 0.0);
  CHECK(d.flux(0.05) == Approx(30.0 * 0.05 * (1.0 - 0.05 / 0.15)));
  CHECK(d.speed(0.0) == 30.0);
  CHECK(d.speed(0.15) == 0.0);
  CHECK(d.speed(0.1) * 0.1 == Approx(d.flux(0.1)));
  CHECK(d.characteristic_speed(0.0) == 30.0);
  CHECK(d.characteristic_speed(0.075) == Approx(0.0).margin(1e-12));
  CHECK(d.characteristic_speed(0.15) == -30.0);
  CHECK(d.max_characteristic_speed() == 30.0);
  // The critical density maximises f.
  for (double rho = 0.0; rho <= 0.15; rho += 0.001) {
    CHECK(d.flux(rho) <= d.capacity() * (1.0 + 1e-15));
  }
}

TEST_CASE("triangular diagram", "[diagram]") {
  const FundamentalDiagram d = make(FluxKind::kTriangular);
  const double rho_c = 6.0 * 0.15 / 36.0;
  CHECK(d.critical_density() == Approx(rho_c));
  // Both branches meet at capacity.
  CHECK(30.0 * rho_c == Approx(6.0 * (0.15 - rho_c)));
  CHECK(d.capacity() == Approx(30.0 * rho_c));
  CHECK(d.flux(0.01) == Approx(0.3));
  CHECK(d.flux(0.1) == Approx(6.0 * 0.05));
  CHECK(d.speed(0.0) == 30.0);
  CHECK(d.speed(0.01) == 30.0);
  CHECK(d.speed(0.1) == Approx(6.0 * 0.05 / 0.1));
  CHECK(d.speed(0.15) == 0.0);
  CHECK(d.characteristic_speed(0.01) == 30.0);
  CHECK(d.characteristic_speed(0.1) == -6.0);
  CHECK(d.max_characteristic_speed() == 30.0);
  FundamentalDiagram slow_free = d;
  slow_free.v_max = 4.0;
  CHECK(slow_free.max_characteristic_speed() == 6.0);
}

TEST_CASE("demand, supply and the Godunov flux", "[diagram]") {
  for (FluxKind kind : {FluxKind::kGreenshields, FluxKind::kTriangular}) {
    const FundamentalDiagram d = make(kind);
    const double rho_c = d.critical_density();
    const double q_max = d.capacity();
    const double light = 0.5 * rho_c;
    const double heavy = 0.5 * (rho_c + d.rho_max);
    // Free flow: a light cell sends what it carries and accepts up to capacity.
    CHECK(d.demand(light) == Approx(d.flux(light)));
    CHECK(d.supply(light) == Approx(q_max));
    // Congestion: a jammed cell sends at capacity and accepts only f.
    CHECK(d.demand(heavy) == Approx(q_max));
    CHECK(d.supply(heavy) == Approx(d.flux(heavy)));
    CHECK(d.demand(rho_c) == Approx(q_max));
    CHECK(d.supply(rho_c) == Approx(q_max));
    CHECK(d.demand(d.rho_max) == Approx(q_max));
    CHECK(d.supply(0.0) == Approx(q_max));
    // Godunov: consistent (F(a, a) = f(a)), and the four Riemann cases.
    for (double rho : {0.0, light, rho_c, heavy, d.rho_max}) {
      CHECK(d.godunov_flux(rho, rho) == Approx(d.flux(rho)).margin(1e-15));
    }
    CHECK(d.godunov_flux(light, heavy) == Approx(std::fmin(d.flux(light), d.flux(heavy))));
    CHECK(d.godunov_flux(heavy, light) == Approx(q_max));  // transonic rarefaction
    CHECK(d.godunov_flux(0.0, d.rho_max) == 0.0);
    CHECK(d.godunov_flux(d.rho_max, 0.0) == Approx(q_max));
  }
}
