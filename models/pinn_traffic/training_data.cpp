#include "models/pinn_traffic/training_data.hpp"

#include <cmath>

namespace tessera::models::pinn_traffic {

TrainingData make_training_data(const PinnProblem& problem, const ObservationSet& observations,
                                const DensityGrid& truth, std::size_t initial_samples,
                                std::size_t boundary_points) {
  TrainingData data;
  for (std::size_t i = 0; i < observations.size(); ++i) {
    data.observation_points.push_back(problem.x_hat(observations.x[i]));
    data.observation_points.push_back(problem.t_hat(observations.t[i]));
    data.observation_values.push_back(problem.u_of(observations.density[i]));
    if (observations.speed.size() == observations.size()) {
      data.speed_points.push_back(problem.x_hat(observations.x[i]));
      data.speed_points.push_back(problem.t_hat(observations.t[i]));
      data.speed_values.push_back(observations.speed[i] / problem.v_max);
    }
  }
  const std::size_t nx = truth.nx();
  if (initial_samples > 0 && nx > 0 && truth.nt() > 0) {
    const std::size_t m = initial_samples < nx ? initial_samples : nx;
    const double t0 = problem.t_hat(truth.t[0]);
    for (std::size_t k = 0; k < m; ++k) {
      const auto ix = static_cast<std::size_t>((static_cast<double>(k) + 0.5) *
                                               static_cast<double>(nx) / static_cast<double>(m));
      data.initial_points.push_back(problem.x_hat(truth.x[ix]));
      data.initial_points.push_back(t0);
      data.initial_values.push_back(problem.u_of(truth.at(0, ix)));
    }
  }
  if (problem.ring) {
    for (std::size_t j = 0; j < boundary_points; ++j) {
      data.boundary_times.push_back(-1.0 + 2.0 * (static_cast<double>(j) + 0.5) /
                                               static_cast<double>(boundary_points));
    }
  }
  return data;
}

EvaluationSet make_evaluation_set(const PinnProblem& problem, const DensityGrid& truth,
                                  const std::vector<std::size_t>& metric_columns,
                                  const std::vector<std::size_t>& validation_columns) {
  EvaluationSet set;
  std::vector<char> counted(truth.nx(), metric_columns.empty() ? 1 : 0);
  for (std::size_t ix : metric_columns) counted.at(ix) = 1;
  std::vector<char> validation(truth.nx(), 0);
  for (std::size_t ix : validation_columns) validation.at(ix) = 1;
  for (std::size_t it = 0; it < truth.nt(); ++it) {
    for (std::size_t ix = 0; ix < truth.nx(); ++ix) {
      set.points.push_back(problem.x_hat(truth.x[ix]));
      set.points.push_back(problem.t_hat(truth.t[it]));
      set.truth.push_back(truth.at(it, ix));
      set.in_metric.push_back(counted[ix]);
      set.in_validation.push_back(validation[ix]);
    }
  }
  return set;
}

}  // namespace tessera::models::pinn_traffic
