#pragma once
// A road network for the cell transmission model (CTM): directed links (road sections
// with lanes and their own fundamental diagram, cut into cells) between nodes: origins
// where traffic enters, destinations where it leaves, and junctions where links meet
// (merges, diverges, interchanges). Units are SI throughout: metres, seconds and
// vehicles, densities in vehicles per metre over all lanes; configuration keys and
// outputs convert from and to km, km/h and veh/km.
#include <string>
#include <vector>

#include "solvers/lwr/fundamental_diagram.hpp"

namespace tessera::solvers::lwr::network {

// Per lane. The default is the triangle of free speed 105 km/h, wave speed 20 km/h and
// jam density 150 veh/km, cut at 2,100 veh/h (Daganzo's CTM: flow = min(v rho, capacity,
// w (rho_jam - rho))). A capacity at or above the triangle's peak (2,520 veh/h here)
// leaves the triangle as it is.
struct LaneDiagram {
  double free_speed = 105.0 / 3.6;    // m/s
  double wave_speed = 20.0 / 3.6;     // m/s
  double jam_density = 0.150;         // veh/m per lane
  double capacity = 2100.0 / 3600.0;  // veh/s per lane
};

struct Link {
  std::string name;        // unique; detectors and messages use it
  int from = -1, to = -1;  // node ids
  double length = 0.0;     // m
  int lanes = 1;
  LaneDiagram lane;
  long long cells = 0;  // 0: the most cells with dx >= free speed x dt
};

enum class NodeKind { kOrigin, kDestination, kJunction };

struct Node {
  std::string name;
  NodeKind kind = NodeKind::kJunction;
  double x = 0.0, y = 0.0;  // m, for ParaView and plots
  // Junctions with several out-links: turning fractions, one row per in-link (in the
  // order of RoadNetwork::in_links(node)), one column per out-link (order of
  // out_links(node)); each row sums to 1. Empty with one out-link (everything goes there).
  std::vector<std::vector<double>> turning;
  // Junctions: true (the default) for a first-in-first-out node, where a blocked turn
  // holds back the whole in-link (one queue for all movements); false where every movement
  // has lanes of its own (a freeway-to-freeway interchange, whose ramps leave before the
  // crossing), so each out-link's supply is shared among the movements into it alone.
  bool fifo = true;
};

// Largest in- or out-degree of a junction: node models work on fixed-size arrays.
constexpr int kMaxNodeDegree = 8;

// The whole network, the same on every rank (a rank owns some links, but node models at
// its borders need the others' ids and diagrams; a network of 100k links is a few MB).
class RoadNetwork {
 public:
  int add_node(Node node);  // returns the node id
  int add_link(Link link);  // returns the link id; in/out lists follow the order of adds

  const std::vector<Node>& nodes() const { return nodes_; }
  const std::vector<Link>& links() const { return links_; }
  Node& node(int id) { return nodes_.at(static_cast<std::size_t>(id)); }
  Link& link(int id) { return links_.at(static_cast<std::size_t>(id)); }
  const Node& node(int id) const { return nodes_.at(static_cast<std::size_t>(id)); }
  const Link& link(int id) const { return links_.at(static_cast<std::size_t>(id)); }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  int link_count() const { return static_cast<int>(links_.size()); }
  const std::vector<int>& in_links(int node) const {
    return in_.at(static_cast<std::size_t>(node));
  }
  const std::vector<int>& out_links(int node) const {
    return out_.at(static_cast<std::size_t>(node));
  }
  int find_link(const std::string& name) const;  // -1 when absent
  std::vector<int> origins() const;              // node ids, ascending
  std::vector<int> destinations() const;

  // Turning fraction from the k-th in-link to the o-th out-link of a junction (1 with a
  // single out-link).
  double turning_fraction(int node, int in_position, int out_position) const;

  // Sets the cell count of every link with cells = 0 (the most with dx >= v dt, v the
  // largest characteristic speed of the link) and checks the whole network: InputError
  // naming the node or link and what was expected (a node of the wrong degree, turning
  // fractions that do not sum to 1, a link shorter than one cell, a dt above a link's
  // CFL limit dx / max(v, w), duplicate names). `dt_key` names the time-step key.
  void finalize(double dt, const std::string& dt_key);
  // InputError unless `fractions` are valid turning fractions for the node: one row per
  // in-link, one column per out-link, entries in [0, 1], rows summing to 1 (+-1e-9).
  void check_turning(int node, const std::vector<std::vector<double>>& fractions) const;

  // The link's diagram over all its lanes: triangular with rho_max = lanes x jam density.
  FundamentalDiagram diagram(int link) const;
  double capacity(int link) const;     // veh/s over all lanes (the cap of the trapezoid)
  double cell_length(int link) const;  // after finalize()
  long long total_cells() const;

 private:
  std::vector<Node> nodes_;
  std::vector<Link> links_;
  std::vector<std::vector<int>> in_, out_;
};

const char* node_kind_name(NodeKind kind);

// Turning fractions with each row scaled to sum to 1 up to rounding (mass balance at
// junctions depends on it). Rows must have a positive sum.
std::vector<std::vector<double>> normalised_turning(std::vector<std::vector<double>> rows);

}  // namespace tessera::solvers::lwr::network
