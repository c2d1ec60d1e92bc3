#pragma once
// The classical traffic-state estimators a PINN is measured against, on the same detector
// data and scored on the same cells (a user who does not train a network would use one
// of these):
//   mean            the mean of every detector sample (the trivial estimator);
//   interpolation   linear interpolation in space between the detectors at each time
//                   (constant beyond the outermost ones; across x = L on a ring road);
//   adaptive_smoothing  Treiber & Helbing's adaptive smoothing method (ASM, 2002): two
//                   exponential kernels stretched along the free-flow and the congested
//                   characteristic speeds, blended by the smoothed speed;
//   lwr             the model-only estimator: the LWR solver with the fitted Greenshields
//                   diagram between the outermost detectors, whose densities (or speeds
//                   through the diagram) are its boundary data.
// Every estimator returns a time-major grid like DensityGrid::density.
#include <string>
#include <vector>

#include "models/pinn_traffic/ground_truth.hpp"

namespace tessera::models::pinn_traffic {

// The samples of one loop detector, in time order. `speed` is empty when the data has no
// speeds (then estimators that need one derive it from the density through the diagram).
struct DetectorSeries {
  double position = 0;
  std::vector<double> t, density, speed;
  // Linear interpolation in time, constant before the first and after the last sample.
  double density_at(double time) const;
  double speed_at(double time) const;
};

// The detector samples of a set grouped by position (sorted), each in time order; probe
// samples are ignored.
std::vector<DetectorSeries> detector_series(const ObservationSet& observations);

// Greenshields' diagram v = v_max (1 - rho / rho_max).
struct GreenshieldsFit {
  double v_max = 1, rho_max = 1;
  bool fitted = false;  // false: the configured diagram was kept (see fit_greenshields)
  std::size_t samples = 0;
  double speed_rmse = 0;  // of the fit over its samples
};

// Least squares of speed against density over every detector sample that has a speed.
// Keeps `fallback` (fitted = false) when there are no speeds, fewer than 3 samples, or the
// fitted slope is not negative (no congestion branch to fit).
GreenshieldsFit fit_greenshields(const std::vector<DetectorSeries>& series,
                                 const GreenshieldsFit& fallback);

// The adaptive smoothing method's parameters (Treiber & Helbing 2002; Treiber, Kesting &
// Wilson 2011), in the data's units. Zero means "derive it" (resolve_asm_options).
struct AsmOptions {
  double c_free = 0;       // free-flow characteristic speed (> 0); 0: v_max of the diagram
  double c_congested = 0;  // congested wave speed (< 0); 0: -0.1875 c_free (-15 of 80 km/h)
  double sigma = 0;        // space width of the kernel; 0: half the mean detector spacing
  double tau = 0;          // time width; 0: the detectors' median sampling interval
  double v_critical = 0;   // speed of the free/congested crossover; 0: 0.75 c_free (60/80)
  double v_width = 0;      // width of the crossover; 0: 0.25 c_free (20/80)
};
AsmOptions resolve_asm_options(const AsmOptions& options, const std::vector<DetectorSeries>& series,
                               double v_max);

enum class LwrBoundaryData { kDensity, kSpeed };

struct BaselineOptions {
  AsmOptions asm_options;
  LwrBoundaryData lwr_boundary = LwrBoundaryData::kDensity;
  double viscosity = 0;  // of the LWR estimator (the PINN's eps)
  bool ring = false;     // a ring road (interpolation wraps; the LWR estimator needs an
                         // initial density, initial_density below)
  // Known initial density at the grid positions (empty: not observed); the LWR estimator
  // starts from it, otherwise from the interpolation at the first time.
  std::vector<double> initial_density;
};

struct BaselineEstimate {
  std::string name;             // mean, interpolation, adaptive_smoothing, lwr
  std::string description;      // one line for logs and the results file
  std::vector<double> density;  // time-major, nt x nx of the grid
};

std::vector<double> mean_estimate(const std::vector<DetectorSeries>& series,
                                  const DensityGrid& grid);
// The interpolation at one time, at the grid's positions.
std::vector<double> interpolation_at(const std::vector<DetectorSeries>& series,
                                     const DensityGrid& grid, double time, bool ring);
std::vector<double> interpolation_estimate(const std::vector<DetectorSeries>& series,
                                           const DensityGrid& grid, bool ring);
// `diagram` converts densities to speeds for series without speeds.
std::vector<double> adaptive_smoothing_estimate(const std::vector<DetectorSeries>& series,
                                                const DensityGrid& grid, const AsmOptions& options,
                                                const GreenshieldsFit& diagram);
// Open road: cells strictly between the outermost detectors' grid cells are simulated,
// the detector cells are the ghost cells (their measured values), cells beyond them take
// the nearest detector's value. Ring road: the whole ring from the initial density.
// Boundary densities are clipped to [0, rho_max] of the diagram.
std::vector<double> lwr_estimate(const std::vector<DetectorSeries>& series, const DensityGrid& grid,
                                 const GreenshieldsFit& diagram, const BaselineOptions& options);

// Every estimator that applies (the LWR one needs two detectors on an open road, or the
// initial density on a ring). InputError for fewer than one detector.
std::vector<BaselineEstimate> classical_estimates(const std::vector<DetectorSeries>& series,
                                                  const DensityGrid& grid,
                                                  const GreenshieldsFit& diagram,
                                                  const BaselineOptions& options);

// sqrt(sum (p - truth)^2 / sum truth^2) over the cells whose grid column (position) is
// counted (columns empty: every cell).
double relative_l2_on_columns(const std::vector<double>& prediction, const DensityGrid& truth,
                              const std::vector<std::size_t>& columns);

}  // namespace tessera::models::pinn_traffic
