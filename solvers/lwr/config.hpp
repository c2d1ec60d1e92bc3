#pragma once
// Configuration of everything on one LWR road. Two fragments, declared once and read by
// one reader each, serve every experiment that simulates or learns a road: the road and
// solver keys ([solver]) and the initial density ([initial]). The lwr experiment adds its
// detectors and outputs (add_lwr_keys, LwrConfig).
#include <cstdint>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::solvers::lwr {

// What differs between the experiments that use the road fragment.
struct RoadKeyOptions {
  std::int64_t cells = 1000;
  std::int64_t min_cells = 1;
  double viscosity = 0.0;
  std::string cells_help = "number of finite-volume cells on the road";
};

// [solver] cells, road_length, flux, v_max, rho_max, wave_speed, cfl, viscosity, t_end,
// boundary, upstream_density, downstream_density.
void add_lwr_road_keys(config::Schema& schema, const RoadKeyOptions& options = {});
LwrParameters road_from_config(const config::Config& c);

struct InitialKeyOptions {
  bool data_grid = false;  // initial.kind "data": a column of a text grid (file, column, scale)
  bool own_seed = false;   // initial.seed (random platoons) apart from run.seed
};

// [initial] kind, density, rho_left, rho_right, x0, base, amplitude, center, width,
// platoons, platoon_density, platoon_length (+ file, column, scale; + seed).
void add_lwr_initial_keys(config::Schema& schema, const InitialKeyOptions& options = {});
// `seed` places random platoons (the caller's initial.seed or run.seed). For kind "data"
// the condition is uniform; InitialDataGrid reads the profile.
InitialCondition initial_from_config(const config::Config& c, std::uint64_t seed);

// initial.kind = "data": one column of a text grid under the data root (rows are equal
// bins along the road), scaled to density units.
struct InitialDataGrid {
  bool enabled = false;
  std::string data_root;  // run.data_root
  std::string file;       // relative to the data root
  std::size_t column = 0;
  double scale = 1.0;
};
InitialDataGrid initial_data_grid_from_config(const config::Config& c);

// The lwr experiment: the road, its initial density, detectors and outputs.
struct LwrConfig {
  std::string source;  // the experiment file, for messages
  LwrParameters road;
  InitialCondition initial;
  InitialDataGrid initial_data;
  double t_end = 1.0;
  std::vector<double> detector_positions;
  double detector_interval = 0.01;
  double field_interval = 0.01;
  std::int64_t vtk_every = 1;
  bool vtk = true;
  std::string boundary_name, flux_name;  // as written, for the log
};

void add_lwr_keys(config::Schema& schema);
LwrConfig from_config(const config::Config& c);
// Every check that can be made without running, for `ranks` ranks (reads a data grid):
// InputError naming the file and the key.
void validate(const LwrConfig& config, int ranks);

}  // namespace tessera::solvers::lwr
