#pragma once
// What a traffic-state estimator is given: density samples at points of space-time, from
// loop detectors (fixed positions, regular times) and optionally probe vehicles (samples
// along vehicle trajectories), in physical units. The PINN fits them (the data term) and
// nothing else of the truth.
#include <cstdint>
#include <string>
#include <vector>

namespace tessera::models::pinn_traffic {

enum class ObservationSource : int { kDetector = 0, kProbe = 1 };

struct ObservationSet {
  std::vector<double> x, t, density;
  std::vector<int> source;  // ObservationSource per sample
  // Measured speed per sample, or empty when the data has none (simulations; NGSIM
  // without data.speed_file).
  std::vector<double> speed;

  std::size_t size() const { return x.size(); }
  bool empty() const { return x.empty(); }
  void add(double x_value, double t_value, double rho, ObservationSource from);
  std::size_t count(ObservationSource from) const;
};

// InputError saying how to get data when the set is empty: a PINN for state estimation
// has nothing to estimate from (`where`, when not empty, prefixes the message: the
// experiment file).
void require_observations(const ObservationSet& set, const std::string& where);

// Gaussian noise of standard deviation `stddev` (density units) on every sample, drawn
// from the counter RNG (seed, sample index); results are clipped at 0 (a density).
void add_noise(ObservationSet& set, double stddev, std::uint64_t seed);

}  // namespace tessera::models::pinn_traffic
