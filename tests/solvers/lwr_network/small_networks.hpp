#pragma once
// Small road networks built by hand for the network solver's tests.
#include <string>
#include <vector>

#include "solvers/lwr/network/road_network.hpp"

namespace tessera::solvers::lwr::network::testing {

inline Node make_node(const std::string& name, NodeKind kind, double x = 0, double y = 0) {
  Node n;
  n.name = name;
  n.kind = kind;
  n.x = x;
  n.y = y;
  return n;
}

inline Link make_link(const std::string& name, int from, int to, double length, int lanes,
                      long long cells = 0) {
  Link l;
  l.name = name;
  l.from = from;
  l.to = to;
  l.length = length;
  l.lanes = lanes;
  l.cells = cells;
  return l;
}

// origin -> up (3 lanes) -> merge (+ on-ramp) -> mid -> diverge (-> off-ramp) -> down ->
// destination. Link ids: 0 up, 1 ramp_on, 2 mid, 3 down, 4 ramp_off.
inline RoadNetwork corridor(double off_ramp_fraction = 0.2) {
  RoadNetwork net;
  const int o = net.add_node(make_node("origin", NodeKind::kOrigin, 0, 0));
  const int on = net.add_node(make_node("on_ramp_origin", NodeKind::kOrigin, 2000, -300));
  const int merge = net.add_node(make_node("merge", NodeKind::kJunction, 2000, 0));
  const int diverge = net.add_node(make_node("diverge", NodeKind::kJunction, 4000, 0));
  const int d = net.add_node(make_node("destination", NodeKind::kDestination, 6000, 0));
  const int off = net.add_node(make_node("off_ramp_exit", NodeKind::kDestination, 4400, -300));
  net.add_link(make_link("up", o, merge, 2000, 3));
  net.add_link(make_link("ramp_on", on, merge, 400, 1));
  net.add_link(make_link("mid", merge, diverge, 2000, 3));
  net.add_link(make_link("down", diverge, d, 2000, 3));
  net.add_link(make_link("ramp_off", diverge, off, 500, 1));
  net.node(diverge).turning = {{1.0 - off_ramp_fraction, off_ramp_fraction}};
  return net;
}

// An n x n grid of junctions, one link each way between neighbours (2 lanes, 1 km),
// an origin and a destination at every boundary junction. Turning fractions: straight
// 0.6, left and right 0.2 each (renormalised where a turn is missing), no U-turns.
inline RoadNetwork grid(int n) {
  RoadNetwork net;
  const double spacing = 1000.0;
  auto junction = [&](int i, int j) { return i * n + j; };
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      net.add_node(make_node("j" + std::to_string(i) + "_" + std::to_string(j), NodeKind::kJunction,
                             j * spacing, i * spacing));
    }
  }
  auto road = [&](int a, int b) {
    net.add_link(make_link("l" + std::to_string(a) + "_" + std::to_string(b), a, b, spacing, 2));
  };
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (j + 1 < n) {
        road(junction(i, j), junction(i, j + 1));
        road(junction(i, j + 1), junction(i, j));
      }
      if (i + 1 < n) {
        road(junction(i, j), junction(i + 1, j));
        road(junction(i + 1, j), junction(i, j));
      }
    }
  }
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      if (i != 0 && j != 0 && i != n - 1 && j != n - 1) continue;
      const int here = junction(i, j);
      // Copies: add_node may move the nodes (a reference would dangle).
      const double hx = net.node(here).x, hy = net.node(here).y;
      const int o = net.add_node(
          make_node("o" + std::to_string(here), NodeKind::kOrigin, hx - 300, hy - 300));
      const int d = net.add_node(
          make_node("d" + std::to_string(here), NodeKind::kDestination, hx + 300, hy + 300));
      net.add_link(make_link("in" + std::to_string(here), o, here, 600, 1));
      net.add_link(make_link("out" + std::to_string(here), here, d, 600, 1));
    }
  }
  // Turning fractions by direction of travel.
  for (int node = 0; node < n * n; ++node) {
    const Node& centre = net.node(node);
    std::vector<std::vector<double>> rows;
    for (const int in : net.in_links(node)) {
      const Node& from = net.node(net.link(in).from);
      const double ix = centre.x - from.x, iy = centre.y - from.y;
      std::vector<double> row;
      double sum = 0;
      for (const int out : net.out_links(node)) {
        const Node& to = net.node(net.link(out).to);
        const double ox = to.x - centre.x, oy = to.y - centre.y;
        const double dot = ix * ox + iy * oy, cross = ix * oy - iy * ox;
        const double len = std::sqrt((ix * ix + iy * iy) * (ox * ox + oy * oy));
        double w = 0.2;                 // a turn
        if (dot > 0.7 * len) w = 0.6;   // straight on
        if (dot < -0.7 * len) w = 0.0;  // U-turn
        if (net.node(net.link(out).to).kind == NodeKind::kDestination) w = 0.15;
        if (cross > 0 && w == 0.2) w = 0.25;  // left a little more than right
        row.push_back(w);
        sum += w;
      }
      for (double& w : row) w /= sum;
      rows.push_back(row);
    }
    if (net.out_links(node).size() > 1) net.node(node).turning = rows;
  }
  return net;
}

}  // namespace tessera::solvers::lwr::network::testing
