#pragma once
// Traffic demand through the days of a simulation: per origin,
//   demand(t) = peak demand x daily profile(time of day, weekday or weekend)
//               x day factor (lognormal, mean 1) x exp(AR(1) noise),
// turning fractions that drift through the day around a junction's base values, and
// every random stream keyed by (seed, origin or junction, day): a day's traffic does not
// depend on which days were simulated before it, nor on the rank count.
#include <cstdint>
#include <vector>

#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

struct DemandOptions {
  std::uint64_t seed = 1;
  double day_sigma = 0.08;         // std of the log day factor
  double noise_sigma = 0.10;       // stationary std of the AR(1) log noise
  double noise_correlation = 0.9;  // AR(1) coefficient from one interval to the next
  double interval = 300.0;         // s between demand updates
  double turning_amplitude = 0.3;  // relative daily swing of the turning fractions
  int first_weekday = 0;           // day 0 is a Monday (0) ... Sunday (6)
};

// Share of the peak demand at `hour` (0-24): weekdays a night base, a morning peak
// (around 07:45) and a higher evening peak (around 17:15) with a midday plateau between,
// shaped per origin by `morning` and `evening` weights in [0, 1]; weekends one broad
// midday bump. At most 1.
double daily_profile(double hour, bool weekend, double morning = 1.0, double evening = 1.0);

class DemandModel {
 public:
  // `peak_demand` per node id (veh/s, 0 for nodes that are not origins). InputError for
  // options out of range (names the key under `key_prefix`, e.g. "demand.").
  DemandModel(const RoadNetwork& network, std::vector<double> peak_demand, DemandOptions options,
              const std::string& key_prefix = "demand.");

  const DemandOptions& options() const { return options_; }
  int weekday(long long day) const { return static_cast<int>((options_.first_weekday + day) % 7); }
  bool weekend(long long day) const { return weekday(day) >= 5; }
  int intervals_per_day() const { return intervals_per_day_; }

  // Demand of every origin (veh/s, in network.origins() order) during interval k of
  // `day`. Intervals of one day are cheapest in order (the AR(1) state is carried);
  // any other order recomputes the day from its first interval.
  const std::vector<double>& origin_demand(long long day, int interval);

  // The deterministic part of origin o's demand (o indexes network.origins()): peak x
  // daily profile, without the day factor and the noise.
  double expected_demand(std::size_t o, long long day, int interval) const;

  // Turning fractions of a junction during interval k (its base fractions from the
  // network, each movement swinging by up to turning_amplitude through the day, rows
  // renormalised). Empty for junctions with one out-link.
  std::vector<std::vector<double>> turning(int node, int interval) const;

 private:
  const RoadNetwork& network_;
  std::vector<double> peak_demand_;
  DemandOptions options_;
  int intervals_per_day_ = 288;
  std::vector<int> origins_;
  std::vector<double> morning_, evening_;  // per origin
  long long day_ = -1;
  int interval_ = -1;
  std::vector<double> noise_;   // AR(1) state per origin
  std::vector<double> demand_;  // per origin, the current interval
};

}  // namespace tessera::solvers::lwr::network
