#pragma once
// Configuration of the lwr_network experiment: which network (a built-in scenario and
// its options), the lane diagram, the time step and days, the demand, incidents,
// detectors, the sensor graph and the outputs. Keys are in the field's units (km, km/h,
// veh/km/lane, veh/h/lane, minutes); NetworkConfig holds SI values.
#include <string>

#include "core/config/config.hpp"
#include "solvers/lwr/network/demand.hpp"
#include "solvers/lwr/network/detectors.hpp"
#include "solvers/lwr/network/incidents.hpp"
#include "solvers/lwr/network/scenarios.hpp"

namespace tessera::solvers::lwr::network {

struct NetworkConfig {
  std::string source;    // the experiment file, for messages
  std::string scenario;  // corridor, freeways, grid
  CorridorOptions corridor;
  FreewayNetworkOptions freeways;
  GridOptions grid;
  LaneDiagram lane;
  double dt = 5.0;
  double demand_scale = 1.0;  // also inside the scenario's options; kept for messages
  std::string partition = "metis";
  long long days = 1;
  DemandOptions demand;
  IncidentOptions incidents;
  DetectorNoise noise;
  double detector_interval = 300.0;
  double graph_max_distance = 5000.0;
  double graph_threshold = 0.1;
  double field_interval = 900.0;  // s; 0: no fields
  long long field_days = 1;       // fields on the first days only (they are large)
  bool vtk = true;
};

void add_lwr_network_keys(config::Schema& schema);
NetworkConfig network_from_config(const config::Config& c);

// The scenario's network with the configured lane diagram on every link, not finalized.
Scenario build_scenario(const NetworkConfig& c);
// Every check that can be made without running, for `ranks` ranks: builds and finalizes
// the network, partitions it, places the detectors and builds the sensor graph.
// InputError naming the file and the key.
void validate(const NetworkConfig& c, int ranks);

}  // namespace tessera::solvers::lwr::network
