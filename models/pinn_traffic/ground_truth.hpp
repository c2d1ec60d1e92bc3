#pragma once
// The density field a PINN is scored against and where its observations come from:
// either an LWR simulation (solvers/lwr, with virtual loop detectors and probe vehicles
// riding the simulated traffic) or a measured grid such as NGSIM US-80 (rows = space
// bins, columns = time bins), whose detector rows are observed and the rest held out.
#include <cstdint>
#include <string>
#include <vector>

#include "models/pinn_traffic/observations.hpp"
#include "solvers/lwr/initial_conditions.hpp"
#include "solvers/lwr/lwr_solver.hpp"

namespace tessera::models::pinn_traffic {

// A density field on a space-time grid, time-major: density[it * x.size() + ix].
struct DensityGrid {
  std::vector<double> x;  // positions of the columns (cell or bin centres), increasing
  std::vector<double> t;  // times of the rows, increasing
  std::vector<double> density;
  double road_length = 0;  // the road is [0, road_length]
  double t_start = 0, t_end = 0;

  std::size_t nx() const { return x.size(); }
  std::size_t nt() const { return t.size(); }
  double at(std::size_t it, std::size_t ix) const { return density[it * x.size() + ix]; }
};

// Loop detectors and probe vehicles of a simulation.
struct SensorSpec {
  std::vector<double> detector_positions;  // in [0, road_length]
  double detector_interval = 0.01;         // a sample of every detector each interval
  long long probes = 0;                    // probe vehicles, placed uniformly at t = 0
  double probe_interval = 0.01;            // a sample of every probe each interval
  std::uint64_t probe_seed = 1;            // where the probes start
};

struct SimulationSpec {
  solvers::lwr::LwrParameters lwr;  // Greenshields diagram only: the PINN's residual
  solvers::lwr::InitialCondition initial;
  double t_end = 1.0;
  double field_interval = 0.01;  // time between rows of the truth grid
  // The solver runs on lwr.cells x truth_refinement cells and the truth grid holds the
  // averages over each block of truth_refinement cells, so the scoring grid stays
  // lwr.cells wide. Godunov's scheme is first order: on 400 cells its numerical diffusion
  // moves the ring-road truth by ~4.5e-3 relative L2 from the converged viscous solution,
  // as much as a trained PINN's error, so without refinement the metric measures the
  // solver rather than the PINN. Detectors and probes sample the refined cells.
  long long truth_refinement = 1;
};

struct SimulatedData {
  DensityGrid truth;  // cell centres x field times (t = 0 included)
  ObservationSet observations;
  long long solver_steps = 0;
};

// Runs the LWR solver on this process alone (MPI_COMM_SELF: every rank computes the same
// truth, bitwise), on lwr.cells x truth_refinement cells; the truth grid is lwr.cells
// block averages at the cell centres of lwr.cells. Detectors record the density of the
// (refined) cell they sit in at multiples of
// detector_interval; probes move with the Greenshields speed of the cell they are in
// (explicit Euler on every solver step), wrap around a ring and leave an open road at
// x = L, and record the density of their cell at multiples of probe_interval.
// InputError naming the key for bad parameters (solver.truth_refinement < 1 among them),
// detector positions outside the road (detectors.positions[i]) or a flux other than
// Greenshields.
SimulatedData simulate_lwr(const SimulationSpec& spec, const SensorSpec& sensors);

// A measured density grid: `path` holds rows = space bins of `cell_length`, columns = time
// bins of `interval` (NGSIM's layout), values times `scale` are densities. The grid's
// positions and times are the bin centres; the road is [0, rows cell_length] and the
// time window [0, columns interval]. InputError naming the file, row and column (1-based)
// for a negative density or one above rho_max (solver.rho_max), and for grids with fewer
// than 2 rows or columns.
DensityGrid read_density_grid(const std::string& path, double cell_length, double interval,
                              double scale, double rho_max);

// The grid columns (space bins) containing the given positions, sorted and without
// repeats. InputError naming key[i] when one is outside [0, road_length].
std::vector<std::size_t> columns_at(const DensityGrid& grid, const std::vector<double>& positions,
                                    const std::string& key = "detectors.positions");

// The columns of the validation detectors (detectors.validation); InputError when one of
// them is also an observed column.
std::vector<std::size_t> validation_columns(const DensityGrid& grid,
                                            const std::vector<double>& positions,
                                            const std::vector<std::size_t>& observed);

// A grid of measured speeds in the layout of `like` (same rows and columns; NGSIM's
// velocity file beside its density file). InputError naming the file for another shape
// and for a negative or non-finite speed (row and column, 1-based).
std::vector<double> read_speed_grid(const std::string& path, const DensityGrid& like);

// Every time of the given grid columns as detector samples; with `speed` (time-major like
// grid.density) the samples carry the measured speed too.
ObservationSet column_observations(const DensityGrid& grid, const std::vector<std::size_t>& columns,
                                   const std::vector<double>& speed = {});

}  // namespace tessera::models::pinn_traffic
