#pragma once
// The lwr_network experiment's driver: simulate a road network day after day with its
// demand, incidents and loop detectors, and write what a forecasting data set ships:
//   speed.csv, flow.csv, density.csv   (time x detectors, header = detector names;
//                                        missing readings are 0)
//   timestamps.csv                      (per row: reading index, end time in s, day, weekday,
//                                        slot, clock time)
//   sensors.csv                         (index, name, link, position, x, y)
//   sensor_distances.csv                (from,to,cost: road distance in m, DCRNN's layout)
//   sensor_weights.csv                  (from,to,weight: Gaussian kernel of the distances)
//   incidents.csv                       (link, cell, start, end, capacity factor)
// plus run.h5 (/detectors, /incidents, /fields/density, /metrics: vehicles on the network,
// queued at origins, mass-balance error, active incidents) and network.pvd (cells as VTK
// lines with density, speed and flow for ParaView). Every text file is written to
// <name>.partial and renamed when complete.
#include <string>

#include "core/io/run_context.hpp"
#include "solvers/lwr/network/config.hpp"

namespace tessera::solvers::lwr::network {

struct NetworkSummary {
  int nodes = 0, links = 0, detectors = 0, origins = 0;
  long long cells = 0, steps = 0, readings = 0, incidents = 0, graph_edges = 0;
  double mass_balance_error = 0;  // relative, at the end
  double vehicles_exited = 0;
  double seconds = 0;  // wall time of the simulation loop
  double cell_updates_per_second = 0;
  double mean_speed = 0, congested_fraction = 0;  // over all readings: km/h, share < 60 km/h
  long long gridlock_day = -1;  // first day with queues standing at 03:00 (-1: none)
};

NetworkSummary run_lwr_network(const NetworkConfig& config, const io::RunContext& context);

}  // namespace tessera::solvers::lwr::network
