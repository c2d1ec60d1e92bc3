#include "solvers/lwr/network/sensor_graph.hpp"

#include <algorithm>
#include <limits>
#include <queue>
#include <utility>

#include "core/runtime/error.hpp"

namespace tessera::solvers::lwr::network {

std::vector<DetectorDistance> road_distances(const RoadNetwork& network,
                                             const std::vector<DetectorSite>& detectors,
                                             double max_distance, const std::string& distance_key) {
  if (!(max_distance > 0)) {
    throw InputError(str("key '", distance_key, "' = ", max_distance / 1000.0,
                         " km: expected a positive distance"));
  }
  std::vector<std::vector<std::size_t>> on_link(static_cast<std::size_t>(network.link_count()));
  for (std::size_t d = 0; d < detectors.size(); ++d) {
    on_link.at(static_cast<std::size_t>(detectors[d].link)).push_back(d);
  }
  const double infinity = std::numeric_limits<double>::infinity();
  std::vector<double> node_distance(static_cast<std::size_t>(network.node_count()), infinity);
  std::vector<int> visited;
  std::vector<DetectorDistance> edges;
  for (std::size_t a = 0; a < detectors.size(); ++a) {
    const DetectorSite& site = detectors[a];
    const Link& start = network.link(site.link);
    // Downstream on the same link.
    for (const std::size_t b : on_link[static_cast<std::size_t>(site.link)]) {
      const double d = detectors[b].position - site.position;
      if (b != a && d > 0 && d <= max_distance) edges.push_back({a, b, d});
    }
    // Dijkstra from the link's end node, bounded by what is left of max_distance.
    const double to_end = start.length - site.position;
    if (to_end > max_distance) continue;
    using Entry = std::pair<double, int>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> frontier;
    node_distance[static_cast<std::size_t>(start.to)] = to_end;
    visited.push_back(start.to);
    frontier.push({to_end, start.to});
    std::vector<std::pair<std::size_t, double>> found;
    while (!frontier.empty()) {
      const auto [dist, node] = frontier.top();
      frontier.pop();
      if (dist > node_distance[static_cast<std::size_t>(node)]) continue;
      for (const int l : network.out_links(node)) {
        for (const std::size_t b : on_link[static_cast<std::size_t>(l)]) {
          const double d = dist + detectors[b].position;
          if (b != a && d <= max_distance) found.emplace_back(b, d);
        }
        const double next = dist + network.link(l).length;
        const auto to = static_cast<std::size_t>(network.link(l).to);
        if (next <= max_distance && next < node_distance[to]) {
          if (node_distance[to] == infinity) visited.push_back(network.link(l).to);
          node_distance[to] = next;
          frontier.push({next, network.link(l).to});
        }
      }
    }
    for (const int n : visited) node_distance[static_cast<std::size_t>(n)] = infinity;
    visited.clear();
    // Several paths may reach a detector: duplicates are merged below (shortest kept).
    for (const auto& [b, d] : found) edges.push_back({a, b, d});
  }
  std::sort(edges.begin(), edges.end(), [](const DetectorDistance& x, const DetectorDistance& y) {
    if (x.from != y.from) return x.from < y.from;
    return x.to != y.to ? x.to < y.to : x.distance < y.distance;
  });
  // Keep the shortest of duplicate pairs (several paths, or a detector downstream on the
  // same link and also reachable around a loop).
  std::vector<DetectorDistance> unique;
  for (const DetectorDistance& e : edges) {
    if (!unique.empty() && unique.back().from == e.from && unique.back().to == e.to) {
      unique.back().distance = std::min(unique.back().distance, e.distance);
    } else {
      unique.push_back(e);
    }
  }
  std::vector<bool> connected(detectors.size(), false);
  for (const DetectorDistance& e : unique) connected[e.from] = connected[e.to] = true;
  if (detectors.size() > 1) {
    for (std::size_t d = 0; d < detectors.size(); ++d) {
      if (!connected[d]) {
        throw InputError(str("detector '", detectors[d].name, "' on link '",
                             network.link(detectors[d].link).name,
                             "' is disconnected from the sensor graph: no other detector lies "
                             "within ",
                             distance_key, " = ", max_distance / 1000.0,
                             " km of it along the road, up- or downstream; raise ", distance_key,
                             " or move the detector"));
      }
    }
  }
  return unique;
}

}  // namespace tessera::solvers::lwr::network
