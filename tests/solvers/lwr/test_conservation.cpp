// On a ring nothing enters or leaves, and the flux form telescopes: the total number of
// vehicles must stay put to round-off, with and without the viscous term.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"
#include "tests/support/catch.hpp"

using namespace tessera::solvers::lwr;

namespace {

LwrParameters ring(FluxKind kind, double viscosity) {
  LwrParameters p;
  p.cells = 256;
  p.road_length = 2.0;
  p.diagram.kind = kind;
  p.diagram.v_max = 1.5;
  p.diagram.rho_max = 0.2;
  p.diagram.wave_speed = 0.4;
  p.cfl = 0.95;
  p.viscosity = viscosity;
  p.boundary = Boundary::kRing;
  return p;
}

InitialCondition platoons() {
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kPlatoons;
  ic.base = 0.02;
  ic.platoons = 5;
  ic.platoon_density = 0.17;
  ic.platoon_length = 0.15;
  ic.seed = 42;
  return ic;
}

InitialCondition bell() {
  InitialCondition ic;
  ic.kind = InitialCondition::Kind::kBell;
  ic.base = 0.05;
  ic.amplitude = 0.12;
  ic.center = 0.7;
  ic.width = 0.2;
  return ic;
}

}  // namespace

TEST_CASE("mass is conserved on a ring to round-off", "[conservation]") {
  const FluxKind kind = GENERATE(FluxKind::kGreenshields, FluxKind::kTriangular);
  const double viscosity = GENERATE(0.0, 2e-3);
  const bool use_bell = GENERATE(false, true);
  const LwrParameters p = ring(kind, viscosity);
  const InitialCondition ic = use_bell ? bell() : platoons();
  LwrSolver solver(MPI_COMM_SELF, p);
  const std::vector<double> rho0 = initial_cell_averages(ic, p, 0, p.cells);
  solver.set_density(rho0);
  const double mass0 = solver.total_mass();
  for (int k = 0; k < 2000; ++k) solver.step(solver.stable_dt());
  solver.check_finite();
  const double drift = std::fabs(solver.total_mass() - mass0) / mass0;
  INFO("flux " << static_cast<int>(kind) << ", viscosity " << viscosity << ", bell " << use_bell
               << ": relative mass change " << drift << " after 2000 steps, t = " << solver.time());
  CHECK(drift < 1e-12);
  CHECK(solver.steps_taken() == 2000);
  // A monotone scheme creates no new extrema.
  const std::vector<double> rho = solver.density_host();
  CHECK(*std::min_element(rho.begin(), rho.end()) >=
        *std::min_element(rho0.begin(), rho0.end()) - 1e-15);
  CHECK(*std::max_element(rho.begin(), rho.end()) <=
        *std::max_element(rho0.begin(), rho0.end()) + 1e-15);
}
