#include "models/pinn_traffic/ground_truth.hpp"

#include <algorithm>
#include <cmath>

#include "core/io/text_readers.hpp"
#include "core/runtime/error.hpp"
#include "core/tensor/random.hpp"
#include "solvers/lwr/detectors.hpp"

namespace tessera::models::pinn_traffic {

namespace lwr = solvers::lwr;

namespace {

// Times k * interval (k = 0, 1, ...) are hit exactly by counting, not by adding.
struct Clock {
  double interval;
  long long next = 0;
  double next_time() const { return static_cast<double>(next) * interval; }
  bool due(double t) const { return next_time() <= t * (1 + 1e-12) + 1e-300; }
};

// Refined solver cells per truth cell, at most: 64 already makes the explicit solver
// 64^3 times slower (its time step shrinks with dx^2 once viscous).
constexpr long long kMaxRefinement = 64;

void require_positive(double value, const char* key) {
  if (!(value > 0) || !std::isfinite(value)) {
    throw InputError(str(key, " = ", value, " must be positive"));
  }
}

}  // namespace

SimulatedData simulate_lwr(const SimulationSpec& spec, const SensorSpec& sensors) {
  const lwr::LwrParameters& p = spec.lwr;
  if (p.diagram.kind != lwr::FluxKind::kGreenshields) {
    throw InputError(
        "solver.flux: the traffic PINN's residual uses the Greenshields diagram; a "
        "triangular diagram has no second derivative at its kink");
  }
  lwr::validate_parameters(p);
  const long long refinement = spec.truth_refinement;
  if (refinement < 1 || refinement > kMaxRefinement) {
    throw InputError(str("solver.truth_refinement = ", refinement, " must be in [1, ",
                         kMaxRefinement, "] (solver cells per cell of the truth grid)"));
  }
  require_positive(spec.t_end, "solver.t_end");
  require_positive(spec.field_interval, "output.field_interval");
  require_positive(sensors.detector_interval, "detectors.interval");
  if (sensors.probes < 0) {
    throw InputError(str("observations.probes = ", sensors.probes, " must be >= 0"));
  }
  if (sensors.probes > 0) require_positive(sensors.probe_interval, "observations.probe_interval");
  const double length = p.road_length;
  lwr::DetectorArray detectors(sensors.detector_positions, length);  // checks positions

  lwr::LwrParameters fine = p;
  fine.cells = p.cells * refinement;
  lwr::LwrSolver solver(MPI_COMM_SELF, fine);
  solver.set_density(lwr::initial_cell_averages(spec.initial, fine, 0, fine.cells));
  const auto cells = static_cast<std::size_t>(p.cells);
  const auto block = static_cast<std::size_t>(refinement);

  SimulatedData out;
  DensityGrid& grid = out.truth;
  grid.road_length = length;
  grid.t_start = 0;
  grid.t_end = spec.t_end;
  const double coarse_dx = length / static_cast<double>(p.cells);
  for (std::size_t i = 0; i < cells; ++i) {
    grid.x.push_back((static_cast<double>(i) + 0.5) * coarse_dx);
  }

  const bool ring = p.boundary == lwr::Boundary::kRing;
  std::vector<double> probe_x(static_cast<std::size_t>(sensors.probes));
  std::vector<bool> on_road(probe_x.size(), true);
  for (std::size_t k = 0; k < probe_x.size(); ++k) {
    probe_x[k] = length * tensor::counter_uniform(sensors.probe_seed, 0x9806e, k);
  }
  auto cell_of = [&](double x) {
    const auto i = static_cast<long long>(std::floor(x / solver.dx()));
    return static_cast<std::size_t>(std::clamp<long long>(i, 0, fine.cells - 1));
  };
  // The truth row of the solver's density: block averages (the plain copy without
  // refinement, so that refinement 1 is bitwise the unrefined truth).
  auto truth_row = [&](const std::vector<double>& rho) {
    if (block == 1) return rho;
    std::vector<double> row(cells);
    for (std::size_t i = 0; i < cells; ++i) {
      double sum = 0;
      for (std::size_t j = 0; j < block; ++j) sum += rho[i * block + j];
      row[i] = sum / static_cast<double>(block);
    }
    return row;
  };

  std::vector<double> rho = solver.density_host();
  Clock fields{spec.field_interval}, detector_clock{sensors.detector_interval},
      probe_clock{sensors.probe_interval};
  auto record = [&](double t) {
    if (fields.due(t)) {
      grid.t.push_back(t);
      const std::vector<double> row = truth_row(rho);
      grid.density.insert(grid.density.end(), row.begin(), row.end());
      while (fields.due(t)) ++fields.next;
    }
    if (detector_clock.due(t)) {
      for (double x : detectors.positions()) {
        out.observations.add(x, t, rho[cell_of(x)], ObservationSource::kDetector);
      }
      while (detector_clock.due(t)) ++detector_clock.next;
    }
    if (sensors.probes > 0 && probe_clock.due(t)) {
      for (std::size_t k = 0; k < probe_x.size(); ++k) {
        if (on_road[k]) {
          out.observations.add(probe_x[k], t, rho[cell_of(probe_x[k])], ObservationSource::kProbe);
        }
      }
      while (probe_clock.due(t)) ++probe_clock.next;
    }
  };

  record(0.0);
  const double t_end = spec.t_end;
  while (solver.time() < t_end) {
    double target = std::min(t_end, fields.next_time());
    target = std::min(target, detector_clock.next_time());
    if (sensors.probes > 0) target = std::min(target, probe_clock.next_time());
    // One solver step at a time (advance_to lands exactly on the target), so that probes
    // move with the density of every step.
    const double before = solver.time();
    solver.advance_to(std::min(target, before + solver.stable_dt()));
    const double dt = solver.time() - before;
    for (std::size_t k = 0; k < probe_x.size(); ++k) {
      if (!on_road[k]) continue;
      double x = probe_x[k] + p.diagram.speed(rho[cell_of(probe_x[k])]) * dt;
      if (ring) {
        x = std::fmod(x, length);
        if (x < 0) x += length;
      } else if (x > length) {
        on_road[k] = false;
      }
      probe_x[k] = x;
    }
    rho = solver.density_host();
    record(solver.time());
  }
  out.solver_steps = solver.steps_taken();
  solver.check_finite();
  return out;
}

DensityGrid read_density_grid(const std::string& path, double cell_length, double interval,
                              double scale, double rho_max) {
  require_positive(cell_length, "data.cell_length");
  require_positive(interval, "data.interval");
  require_positive(scale, "data.scale");
  const io::Grid raw = io::read_text_grid(path);
  if (raw.rows < 2 || raw.cols < 2) {
    throw InputError(str(path, ": a density grid needs at least 2 rows (space bins) and 2 ",
                         "columns (time bins); it has ", raw.rows, " x ", raw.cols));
  }
  DensityGrid grid;
  grid.road_length = static_cast<double>(raw.rows) * cell_length;
  grid.t_start = 0;
  grid.t_end = static_cast<double>(raw.cols) * interval;
  for (std::size_t r = 0; r < raw.rows; ++r) {
    grid.x.push_back((static_cast<double>(r) + 0.5) * cell_length);
  }
  for (std::size_t c = 0; c < raw.cols; ++c) {
    grid.t.push_back((static_cast<double>(c) + 0.5) * interval);
  }
  grid.density.resize(raw.rows * raw.cols);
  for (std::size_t r = 0; r < raw.rows; ++r) {
    for (std::size_t c = 0; c < raw.cols; ++c) {
      const double rho = raw.at(r, c) * scale;
      if (rho < 0) {
        throw InputError(str(path, ": row ", r + 1, ", column ", c + 1, ": density ", rho,
                             " is negative; densities must be >= 0 (a hole in the data "
                             "written as a negative number?)"));
      }
      if (rho > rho_max) {
        throw InputError(str(path, ": row ", r + 1, ", column ", c + 1, ": density ", rho,
                             " (after data.scale) is above the jam density solver.rho_max = ",
                             rho_max, "; raise solver.rho_max or fix data.scale"));
      }
      grid.density[c * raw.rows + r] = rho;
    }
  }
  return grid;
}

std::vector<std::size_t> columns_at(const DensityGrid& grid, const std::vector<double>& positions,
                                    const std::string& key) {
  std::vector<std::size_t> out;
  const double bin = grid.road_length / static_cast<double>(grid.nx());
  for (std::size_t d = 0; d < positions.size(); ++d) {
    const double x = positions[d];
    if (!(x >= 0.0 && x <= grid.road_length)) {
      throw InputError(str(key, "[", d, "] = ", x, " is outside the road [0, ", grid.road_length,
                           "] of the data grid (", grid.nx(), " bins of ", bin, ")"));
    }
    const auto i = static_cast<std::size_t>(std::floor(x / bin));
    out.push_back(i < grid.nx() ? i : grid.nx() - 1);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<double> read_speed_grid(const std::string& path, const DensityGrid& like) {
  const io::Grid raw = io::read_text_grid(path);
  if (raw.rows != like.nx() || raw.cols != like.nt()) {
    throw InputError(str(path, ": a speed grid of ", raw.rows, " x ", raw.cols,
                         " (rows = space, columns = time); expected the density grid's ", like.nx(),
                         " x ", like.nt()));
  }
  std::vector<double> speed(raw.rows * raw.cols);
  for (std::size_t r = 0; r < raw.rows; ++r) {
    for (std::size_t c = 0; c < raw.cols; ++c) {
      const double v = raw.at(r, c);
      if (!(v >= 0) || !std::isfinite(v)) {
        throw InputError(str(path, ": row ", r + 1, ", column ", c + 1, ": speed ", v,
                             " must be a finite number >= 0"));
      }
      speed[c * raw.rows + r] = v;
    }
  }
  return speed;
}

std::vector<std::size_t> validation_columns(const DensityGrid& grid,
                                            const std::vector<double>& positions,
                                            const std::vector<std::size_t>& observed) {
  const std::vector<std::size_t> out = columns_at(grid, positions, "detectors.validation");
  for (std::size_t ix : out) {
    if (std::binary_search(observed.begin(), observed.end(), ix)) {
      throw InputError(str("detectors.validation: the row at x = ", grid.x[ix],
                           " is also observed (detectors.positions); a validation detector must "
                           "be neither trained on nor scored"));
    }
  }
  return out;
}

ObservationSet column_observations(const DensityGrid& grid, const std::vector<std::size_t>& columns,
                                   const std::vector<double>& speed) {
  ObservationSet set;
  for (std::size_t ix : columns) {
    for (std::size_t it = 0; it < grid.nt(); ++it) {
      set.add(grid.x.at(ix), grid.t[it], grid.at(it, ix), ObservationSource::kDetector);
      if (!speed.empty()) set.speed.push_back(speed.at(it * grid.nx() + ix));
    }
  }
  return set;
}

}  // namespace tessera::models::pinn_traffic
