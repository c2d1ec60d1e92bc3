#pragma once
// The data of a PINN run in the network's variables (x^, t^ in [-1, 1], u = rho / rho_max,
// see problem.hpp): observations, the known initial density, the times of the periodic
// boundary pairs, and the evaluation grid with its truth. Every rank holds all of it;
// each training task keeps its shard.
#include <vector>

#include "models/pinn_traffic/ground_truth.hpp"
#include "models/pinn_traffic/observations.hpp"
#include "models/pinn_traffic/problem.hpp"

namespace tessera::models::pinn_traffic {

struct TrainingData {
  std::vector<double> observation_points;  // n x 2 (x^, t^), row-major
  std::vector<double> observation_values;  // n, u
  std::vector<double> speed_points;        // k x 2: observations with a measured speed
  std::vector<double> speed_values;        // k, speed / v_max (the configured v_max)
  std::vector<double> initial_points;      // m x 2, all at the first time of the window
  std::vector<double> initial_values;      // m, u
  std::vector<double> boundary_times;      // t^ of the pairs (-1, t^), (1, t^); ring roads

  std::size_t observation_count() const { return observation_values.size(); }
  std::size_t initial_count() const { return initial_values.size(); }
  std::size_t speed_count() const { return speed_values.size(); }
};

struct EvaluationSet {
  std::vector<double> points;       // n x 2 (x^, t^): the whole grid, time-major
  std::vector<double> truth;        // n, density (physical units)
  std::vector<char> in_metric;      // n, 1 where a cell counts in the relative L2 (held out)
  std::vector<char> in_validation;  // n, 1 on validation detector rows (neither trained on
                                    // nor scored); all 0 without them
  std::size_t size() const { return truth.size(); }
};

// `initial_samples` equally spaced cells of the grid's first time row become the initial
// data (0: none; more than the row has: all of it); `boundary_points` equally spaced
// times make the periodic pairs (ring roads only).
TrainingData make_training_data(const PinnProblem& problem, const ObservationSet& observations,
                                const DensityGrid& truth, std::size_t initial_samples,
                                std::size_t boundary_points);

// The whole grid; only the cells of `metric_columns` (positions, as DensityGrid::x
// indices) count in the metric, or every cell when it is empty; the cells of
// `validation_columns` make the validation error.
EvaluationSet make_evaluation_set(const PinnProblem& problem, const DensityGrid& truth,
                                  const std::vector<std::size_t>& metric_columns = {},
                                  const std::vector<std::size_t>& validation_columns = {});

}  // namespace tessera::models::pinn_traffic
