#pragma once
// The sensor graph of a simulated network, as forecasting data sets ship it (DCRNN's
// distances file): for every detector, the road distance to each detector reachable
// downstream within `max_distance`, along the directed links (shortest path).
#include <cstddef>
#include <vector>

#include "solvers/lwr/network/detectors.hpp"
#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

struct DetectorDistance {
  std::size_t from = 0, to = 0;  // detector indices
  double distance = 0;           // m along the road, > 0
};

// Sorted by (from, to). InputError naming the first detector that no other detector
// reaches and that reaches no other within max_distance (a disconnected detector would
// be an isolated node of the sensor graph); `distance_key` names the key to raise.
std::vector<DetectorDistance> road_distances(const RoadNetwork& network,
                                             const std::vector<DetectorSite>& detectors,
                                             double max_distance, const std::string& distance_key);

}  // namespace tessera::solvers::lwr::network
