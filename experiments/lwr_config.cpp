#include "experiments/lwr_config.hpp"

namespace tessera::experiments {

namespace lwr = solvers::lwr;

lwr::LwrParameters lwr_parameters_from(const config::Config& c) {
  lwr::LwrParameters p;
  p.cells = c.get_int("solver.cells");
  p.road_length = c.get_real("solver.road_length");
  const bool has_flux = c.values().count("solver.flux") != 0;
  p.diagram.kind = has_flux && c.get_string("solver.flux") == "triangular"
                       ? lwr::FluxKind::kTriangular
                       : lwr::FluxKind::kGreenshields;
  p.diagram.v_max = c.get_real("solver.v_max");
  p.diagram.rho_max = c.get_real("solver.rho_max");
  if (c.values().count("solver.wave_speed") != 0) {
    p.diagram.wave_speed = c.get_real("solver.wave_speed");
  }
  p.cfl = c.get_real("solver.cfl");
  p.viscosity = c.get_real("solver.viscosity");
  p.boundary =
      c.get_string("solver.boundary") == "open" ? lwr::Boundary::kOpen : lwr::Boundary::kRing;
  p.upstream_density = c.get_real("solver.upstream_density");
  p.downstream_density = c.get_real("solver.downstream_density");
  return p;
}

lwr::InitialCondition lwr_initial_condition_from(const config::Config& c, std::uint64_t seed) {
  lwr::InitialCondition ic;
  const std::string& kind = c.get_string("initial.kind");
  ic.kind = kind == "riemann"    ? lwr::InitialCondition::Kind::kRiemann
            : kind == "bell"     ? lwr::InitialCondition::Kind::kBell
            : kind == "platoons" ? lwr::InitialCondition::Kind::kPlatoons
                                 : lwr::InitialCondition::Kind::kUniform;
  ic.density = c.get_real("initial.density");
  ic.rho_left = c.get_real("initial.rho_left");
  ic.rho_right = c.get_real("initial.rho_right");
  ic.x0 = c.get_real("initial.x0");
  ic.base = c.get_real("initial.base");
  ic.amplitude = c.get_real("initial.amplitude");
  ic.center = c.get_real("initial.center");
  ic.width = c.get_real("initial.width");
  ic.platoons = c.get_int("initial.platoons");
  ic.platoon_density = c.get_real("initial.platoon_density");
  ic.platoon_length = c.get_real("initial.platoon_length");
  ic.seed = seed;
  return ic;
}

}  // namespace tessera::experiments
