#pragma once
// Loop detectors on a road network: each sits on one cell and integrates, over an
// interval (5 minutes by default), the flux through the cell's upstream boundary and
// the cell's density. At the end of the interval it reports flow = sum q dt / T,
// density = sum rho dt / T and speed = sum q / sum rho (the free speed when the cell was
// empty), in veh/h, veh/km and km/h over all lanes. Optional speed noise and dropouts
// (readings missing for minutes to hours, written as 0 as real loop data are).
#include <cstdint>
#include <string>
#include <vector>

#include "solvers/lwr/network/network_solver.hpp"

namespace tessera::solvers::lwr::network {

// A detector: a loop on one cell of a link, `position` metres from the link's start.
struct DetectorSite {
  std::string name;
  int link = -1;
  double position = 0.0;
};

struct DetectorReadings {
  std::vector<double> flow, density, speed;  // one per detector (rank 0 only)
};

struct DetectorNoise {
  std::uint64_t seed = 1;
  double speed_sigma = 0.0;         // km/h, Gaussian
  double dropout_rate = 0.0;        // dropouts starting per detector per day
  double min_dropout = 600.0;       // s
  double max_dropout = 6 * 3600.0;  // s (log-uniform in between)
};

class NetworkDetectors {
 public:
  // InputError naming the detector when its link is unknown (-1) or its position is
  // outside the link, or two detectors share a name.
  NetworkDetectors(const NetworkSolver& solver, std::vector<DetectorSite> sites);

  const std::vector<DetectorSite>& sites() const { return sites_; }
  std::size_t count() const { return sites_.size(); }
  long long cell(std::size_t d) const { return cells_[d]; }  // cell of the detector on its link

  // After every solver step: adds q dt and rho dt on this rank's detectors.
  void accumulate(const NetworkSolver& solver);
  // Collective. Closes the interval: the readings of every detector arrive on rank 0
  // (other ranks get empty vectors) and the sums restart.
  DetectorReadings close_interval(const NetworkSolver& solver);

 private:
  std::vector<DetectorSite> sites_;
  std::vector<long long> cells_;
  std::vector<double> free_speed_;  // per detector, km/h
  // Per detector owned by this rank: its index and local cell.
  std::vector<int> owned_;
  Kokkos::View<long long*> local_cell_;
  Kokkos::View<double*> flux_sum_, density_sum_;
  double elapsed_ = 0.0;
};

// Applies speed noise and dropouts to a series of readings, interval by interval, in
// order (a dropout carries over to the following intervals). Keyed by (seed, detector,
// interval), so the same seed gives the same gaps whatever else changes.
class ReadingCorruptor {
 public:
  ReadingCorruptor(DetectorNoise noise, std::size_t detectors, double interval);
  // Modifies the readings of interval k in place; returns how many detectors are missing.
  std::size_t apply(long long k, DetectorReadings& readings);
  // Checkpoints: the dropouts in progress (interval index each detector is missing until).
  const std::vector<long long>& missing_until() const { return missing_until_; }
  void restore(std::vector<long long> missing_until);

 private:
  DetectorNoise noise_;
  double interval_;
  std::vector<long long> missing_until_;  // interval index (exclusive) per detector
};

}  // namespace tessera::solvers::lwr::network
