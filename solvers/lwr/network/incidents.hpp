#pragma once
// Random incidents: on each link and day a Poisson number of them (rate per lane-km per
// day), each at a uniform time of day and cell, lasting 20-90 minutes and dropping that
// cell's capacity by 30-70 %. Keyed by (seed, link, day) like the demand, so that they
// do not depend on the rank count or on the days simulated before.
#include <cstdint>
#include <string>
#include <vector>

#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

struct IncidentOptions {
  std::uint64_t seed = 1;
  double rate = 0.005;         // incidents per lane-km per day
  double min_duration = 1200;  // s
  double max_duration = 5400;  // s
  double min_drop = 0.3;       // capacity lost, as a fraction
  double max_drop = 0.7;
};

struct Incident {
  int link = -1;
  long long cell = 0;
  double start = 0, end = 0;   // s from the start of the simulation
  double capacity_factor = 1;  // what is left, 1 - drop
};

// All incidents of days [0, days), sorted by start time. InputError (key under
// `key_prefix`) for options out of range. The network must be finalized (cells known).
std::vector<Incident> generate_incidents(const RoadNetwork& network, const IncidentOptions& options,
                                         long long days,
                                         const std::string& key_prefix = "incidents.");

// Applies incidents to a cell-capacity setter as time passes: at each call with the
// current time it reports the cells whose factor changed (overlapping incidents on one
// cell: the lowest factor wins).
class IncidentSchedule {
 public:
  explicit IncidentSchedule(std::vector<Incident> incidents);
  const std::vector<Incident>& incidents() const { return incidents_; }

  struct Change {
    int link;
    long long cell;
    double factor;
  };
  // Changes due by time t (incidents with start <= t begin, those with end <= t end).
  std::vector<Change> advance(double t);
  int active() const { return static_cast<int>(active_.size()); }

 private:
  std::vector<Incident> incidents_;
  std::size_t next_ = 0;
  std::vector<std::size_t> active_;  // indices into incidents_
};

}  // namespace tessera::solvers::lwr::network
