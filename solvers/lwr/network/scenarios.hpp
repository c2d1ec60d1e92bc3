#pragma once
// Synthetic road networks with loop detectors, built to look like the real ones traffic
// forecasting data come from: a freeway corridor (one direction, interchanges with an
// off-ramp then an on-ramp, a lane drop as the recurrent bottleneck), a network of
// crossing freeways (two carriageways each, interchanges where they cross, local ramps
// between), and a LargeST-scale grid of urban roads with a zone connector at every
// junction. Each comes with its peak-hour demand and exit supplies, tuned so that the
// peak congests (merges, lane drop, a business district) without gridlocking: queues
// dissolve when demand falls back to about 40 % of the peak. Deterministic: the same options
// give the same network (no random streams, a fixed seed for the freeway layout).
#include <string>
#include <vector>

#include "solvers/lwr/network/detectors.hpp"  // DetectorSite
#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network {

struct Scenario {
  std::string name;
  RoadNetwork network;                  // not finalized (the caller finalizes with its dt)
  std::vector<DetectorSite> detectors;  // in a sensible order (along each road, road by road)
  // Per node id: an origin's demand at the peak hour, veh/s (0 for other nodes).
  std::vector<double> peak_demand;
  // Per node id: a destination's exit supply, veh/s (an off-ramp's signal-limited
  // arterial; mainline ends: the link capacity); 0 for other nodes.
  std::vector<double> exit_capacity;
  // The roads themselves (freeway carriageways, grid roads; not ramps or zone
  // connectors), in driving order road by road: where queues are looked for.
  std::vector<int> mainline_links;
  // The per-lane diagram of every link. Capacities derived from it (a mainline origin's
  // 80 % of capacity, exits at the link capacity) follow it; demands given in veh/h (ramps,
  // zones, the arterials behind off-ramps) do not.
  LaneDiagram lane;
};

// One direction of a freeway from an origin to a destination (nodes along x, ramps on
// the right at negative y). Interchanges are spread evenly, each an off-ramp 400 m before
// its centre and an on-ramp 400 m after (with fewer of one kind, some interchanges have
// only the other); ramps are 1-lane links of 300-400 m. Towards the start on-ramps are
// heavy and exits light (commuters joining), from about a third of the way the reverse:
// at the peak the mainline (origin at 80 % of capacity) fills up to capacity at the first
// merges, and the lane drop (lanes - 1 lanes for 1-1.5 km in the second half, as near 85 %
// of the way as fits; none with one lane) queues too. Defaults: 36 nodes, 35 links, 60
// detectors "D000".. in driving order; one hour at the peak queues about 7 km behind the
// third merge and the lane drop, cleared 40 minutes into 40 % of the peak.
struct CorridorOptions {
  double length = 30000;  // m
  int lanes = 3;
  int on_ramps = 8;
  int off_ramps = 8;
  double detector_spacing = 500;  // m, along the mainline
  double demand_scale = 1.0;      // multiplies every peak demand
  LaneDiagram lane;               // of every link
};
Scenario corridor(const CorridorOptions& options);

// `freeways` straight freeways across a square of side `extent`, in general position:
// every two cross once inside the square (at least 2 km apart and `extent` / 8 from its
// edges; the layout with the farthest-apart crossings of a fixed pseudo-random search),
// and each crossing is one junction where the four carriageways meet: straight on 0.82,
// right 0.10, left 0.08 onto the other freeway, no U-turns. Each freeway is two
// carriageways ("f<k>a" and "f<k>b", 30 m apart in the picture) from an origin at one edge
// to a destination at the other, with local interchanges (an off-ramp then an on-ramp, as
// in the corridor) about every `ramp_spacing` m between the crossings: inbound ramps
// (heavy on, light off) for the first 40 % of each carriageway, outbound ones after 70 %,
// so traffic builds up towards the middle and its merges there queue at the peak.
// Defaults: 6 interchanges, 238 nodes, 248 links, 212 detectors; one hour at the peak
// congests about 35 km behind 13 merges, clear within 30 minutes at 40 %.
struct FreewayNetworkOptions {
  int freeways = 4;
  double extent = 40000;  // m
  int lanes = 3;          // per carriageway
  double ramp_spacing = 4000;
  double detector_spacing = 1600;  // m, along each carriageway
  double demand_scale = 1.0;
  LaneDiagram lane;  // of every link
};
Scenario freeway_network(const FreewayNetworkOptions& options);

// rows x columns junctions `spacing` m apart with a road each way between neighbours
// (ids first, named "j<r>_<c>-j<r>_<c>"), and at every junction a zone connector: an
// origin feeding it and a destination fed by it, each over a 300 m link of one lane.
// Turning fractions by direction: straight 0.55, left 0.15, right 0.15, into the zone 0.15
// (renormalised where a movement is missing, no U-turns); traffic from the zone splits
// evenly over the roads. Zone demand falls from 1,700 veh/h in the middle (a business
// district, 0.3 of the grid's width across) to 200 at the edges; a zone's local streets
// take 1,200 veh/h, so at the peak the district's connectors fill. Defaults
// (LargeST-sized): 3267 nodes, 6402 links of which 4224 roads, 8448 detectors. With turn
// lanes (the default) the roads rarely queue; with one FIFO queue per approach
// (turn_lanes = false) one hour at the peak congests about 57 km of road around the
// district, clear within 30 minutes at 40 %, and a day profile at 1.2-1.3 x the peak
// locks the grid up within two or three nights. Small grids have a small district and
// hardly congest.
struct GridOptions {
  int rows = 33, columns = 33;
  double spacing = 1000;  // m
  int lanes = 2;
  int detectors_per_link = 2;  // evenly spaced on every road link (not on the connectors)
  double demand_scale = 1.0;
  LaneDiagram lane;  // of every link
  // Junctions with a lane (and a queue) per movement, so a blocked turn does not hold back
  // the traffic going straight (node fifo = false); false: one FIFO queue per approach,
  // which locks the grid up within days above about 1.1 x the peak demand.
  bool turn_lanes = true;
};
Scenario grid(const GridOptions& options);

}  // namespace tessera::solvers::lwr::network
