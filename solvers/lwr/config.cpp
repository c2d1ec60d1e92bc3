#include "solvers/lwr/config.hpp"

#include "core/runtime/error.hpp"
#include "solvers/lwr/detectors.hpp"

namespace tessera::solvers::lwr {

using config::at_least;
using config::greater_than;
using config::open_closed;

void add_lwr_road_keys(config::Schema& s, const RoadKeyOptions& options) {
  s.add_int("solver.cells", options.cells, at_least(static_cast<double>(options.min_cells)),
            options.cells_help);
  s.add_real("solver.road_length", 1.0, greater_than(0), "length L of the road [0, L]");
  s.add_string("solver.flux", std::string("greenshields"), {"greenshields", "triangular"},
               "fundamental diagram f(rho)");
  s.add_real("solver.v_max", 1.0, greater_than(0), "free-flow speed");
  s.add_real("solver.rho_max", 1.0, greater_than(0), "jam density");
  s.add_real("solver.wave_speed", 0.5, greater_than(0),
             "congested backward wave speed w (triangular diagram only)");
  s.add_real("solver.cfl", 0.9, open_closed(0, 1), "CFL number of the explicit step");
  s.add_real("solver.viscosity", options.viscosity, at_least(0),
             "diffusion eps in rho_t + f(rho)_x = eps rho_xx");
  s.add_real("solver.t_end", 1.0, greater_than(0), "final time");
  s.add_string("solver.boundary", std::string("ring"), {"ring", "open"},
               "ring: periodic road; open: inflow and outflow at the ends");
  s.add_real("solver.upstream_density", 0.0, at_least(0),
             "open road: density upstream of x = 0 (sets the inflow demand)");
  s.add_real("solver.downstream_density", 0.0, at_least(0),
             "open road: density downstream of x = L (sets the outflow supply)");
}

LwrParameters road_from_config(const config::Config& c) {
  LwrParameters p;
  p.cells = c.get_int("solver.cells");
  p.road_length = c.get_real("solver.road_length");
  p.diagram.kind =
      c.get_string("solver.flux") == "triangular" ? FluxKind::kTriangular : FluxKind::kGreenshields;
  p.diagram.v_max = c.get_real("solver.v_max");
  p.diagram.rho_max = c.get_real("solver.rho_max");
  p.diagram.wave_speed = c.get_real("solver.wave_speed");
  p.cfl = c.get_real("solver.cfl");
  p.viscosity = c.get_real("solver.viscosity");
  p.boundary = c.get_string("solver.boundary") == "open" ? Boundary::kOpen : Boundary::kRing;
  p.upstream_density = c.get_real("solver.upstream_density");
  p.downstream_density = c.get_real("solver.downstream_density");
  return p;
}

void add_lwr_initial_keys(config::Schema& s, const InitialKeyOptions& options) {
  std::vector<std::string> kinds = {"uniform", "riemann", "bell", "platoons"};
  if (options.data_grid) kinds.push_back("data");
  s.add_string("initial.kind", std::string("bell"), kinds, "initial density profile");
  s.add_real("initial.density", 0.3, at_least(0), "uniform: the density");
  s.add_real("initial.rho_left", 0.2, at_least(0), "riemann: density for x < x0");
  s.add_real("initial.rho_right", 0.8, at_least(0), "riemann: density for x > x0");
  s.add_real("initial.x0", 0.5, at_least(0), "riemann: position of the jump");
  s.add_real("initial.base", 0.2, at_least(0), "bell, platoons: background density");
  s.add_real("initial.amplitude", 0.6, config::any_value(), "bell: height of the bell");
  s.add_real("initial.center", 0.5, at_least(0), "bell: centre of the bell");
  s.add_real("initial.width", 0.1, greater_than(0), "bell: width of the bell");
  s.add_int("initial.platoons", 3, at_least(1), "platoons: number of platoons");
  s.add_real("initial.platoon_density", 0.7, at_least(0), "platoons: density inside a platoon");
  s.add_real("initial.platoon_length", 0.05, greater_than(0), "platoons: length of a platoon");
  if (options.own_seed) {
    s.add_int("initial.seed", 1, at_least(0),
              "platoons: where the platoons are (apart from run.seed, which seeds training)");
  }
  if (options.data_grid) {
    s.add_string("initial.file", std::string("traffic/NGSIM_US80_4pm_Density_Data.txt"), {},
                 "data: text grid (rows = space, columns = time) under the data root");
    s.add_int("initial.column", 0, at_least(0),
              "data: the column (time) of the grid to start from");
    s.add_real("initial.scale", 1.0, greater_than(0), "data: factor from file units to density");
  }
}

InitialCondition initial_from_config(const config::Config& c, std::uint64_t seed) {
  InitialCondition ic;
  const std::string& kind = c.get_string("initial.kind");
  ic.kind = kind == "riemann"    ? InitialCondition::Kind::kRiemann
            : kind == "bell"     ? InitialCondition::Kind::kBell
            : kind == "platoons" ? InitialCondition::Kind::kPlatoons
                                 : InitialCondition::Kind::kUniform;
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

InitialDataGrid initial_data_grid_from_config(const config::Config& c) {
  InitialDataGrid d;
  d.enabled = c.get_string("initial.kind") == "data";
  d.data_root = c.get_string("run.data_root");
  d.file = c.get_string("initial.file");
  d.column = static_cast<std::size_t>(c.get_int("initial.column"));
  d.scale = c.get_real("initial.scale");
  return d;
}

void add_lwr_keys(config::Schema& s) {
  add_lwr_road_keys(s);
  add_lwr_initial_keys(s, {/*data_grid=*/true, /*own_seed=*/false});
  s.add_real_list("detectors.positions", std::vector<double>{}, at_least(0),
                  "positions of virtual loop detectors on the road");
  s.add_real("detectors.interval", 0.01, greater_than(0), "time between detector samples");
  s.add_real("output.field_interval", 0.01, greater_than(0),
             "time between density fields in the results file and VTK");
  s.add_int("output.vtk_every", 1, at_least(1), "write every k-th field to VTK");
}

LwrConfig from_config(const config::Config& c) {
  LwrConfig l;
  l.source = c.source();
  l.road = road_from_config(c);
  // Random platoons are placed by run.seed in this experiment.
  l.initial = initial_from_config(c, static_cast<std::uint64_t>(c.get_int("run.seed")));
  l.initial_data = initial_data_grid_from_config(c);
  l.t_end = c.get_real("solver.t_end");
  l.detector_positions = c.get_real_list("detectors.positions");
  l.detector_interval = c.get_real("detectors.interval");
  l.field_interval = c.get_real("output.field_interval");
  l.vtk_every = c.get_int("output.vtk_every");
  l.vtk = c.get_bool("output.vtk");
  l.boundary_name = c.get_string("solver.boundary");
  l.flux_name = c.get_string("solver.flux");
  return l;
}

}  // namespace tessera::solvers::lwr
