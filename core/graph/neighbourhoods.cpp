#include "core/graph/neighbourhoods.hpp"

#include <algorithm>
#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::graph {

HostCsr to_host(const CsrGraph& graph) {
  return HostCsr{host_vector(graph.row_ptr), host_vector(graph.col_idx)};
}

CsrGraph to_device(const HostCsr& graph) {
  return csr_from_host(graph.row_ptr, graph.col_idx);
}

std::vector<Index> bounded_bfs(const HostCsr& graph, Index source, int max_hops,
                               std::vector<int>& distance) {
  std::vector<Index> visited = {source};
  distance[source] = 0;
  std::size_t frontier_begin = 0;
  for (int hop = 1; hop <= max_hops; ++hop) {
    const std::size_t frontier_end = visited.size();
    for (std::size_t f = frontier_begin; f < frontier_end; ++f) {
      const Index u = visited[f];
      for (Index e = graph.row_ptr[u]; e < graph.row_ptr[u + 1]; ++e) {
        const Index v = graph.col_idx[e];
        if (distance[v] < 0) {
          distance[v] = hop;
          visited.push_back(v);
        }
      }
    }
    frontier_begin = frontier_end;
    if (frontier_begin == visited.size()) break;
  }
  return visited;
}

namespace {

// Builds rows from a predicate on the hop distance of each node reached within
// `max_hops` of the row's node.
template <class Keep>
HostCsr rows_by_distance(const HostCsr& graph, int max_hops, Keep keep) {
  const std::size_t n = graph.num_nodes();
  HostCsr out;
  out.row_ptr.assign(n + 1, 0);
  std::vector<int> distance(n, -1);
  std::vector<Index> row;
  for (std::size_t i = 0; i < n; ++i) {
    const std::vector<Index> visited =
        bounded_bfs(graph, static_cast<Index>(i), max_hops, distance);
    row.clear();
    for (Index v : visited) {
      if (keep(distance[v])) row.push_back(v);
    }
    for (Index v : visited) distance[v] = -1;
    std::sort(row.begin(), row.end());
    out.col_idx.insert(out.col_idx.end(), row.begin(), row.end());
    out.row_ptr[i + 1] = static_cast<Index>(out.col_idx.size());
  }
  return out;
}

}  // namespace

HostCsr k_hop(const HostCsr& graph, int hops, bool self_loops) {
  if (hops < 1) throw InputError(str("k-hop neighbourhood: hops = ", hops, ", expected >= 1"));
  return rows_by_distance(graph, hops, [&](int d) { return d > 0 || self_loops; });
}

HostCsr dilated(const HostCsr& graph, int dilation, int count, bool self_loops) {
  if (dilation < 1 || count < 1) {
    throw InputError(str("dilated neighbourhood: dilation = ", dilation, ", count = ", count,
                         ", expected both >= 1"));
  }
  return rows_by_distance(graph, dilation * count,
                          [&](int d) { return d == 0 ? self_loops : d % dilation == 0; });
}

HostCsr with_global_nodes(const HostCsr& graph, int global_nodes, bool self_loops) {
  if (global_nodes < 0) {
    throw InputError(str("global nodes: ", global_nodes, ", expected >= 0"));
  }
  const std::size_t n = graph.num_nodes();
  const auto first_global = static_cast<Index>(n);
  HostCsr out;
  out.row_ptr.push_back(0);
  for (std::size_t i = 0; i < n; ++i) {
    for (Index e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
      out.col_idx.push_back(graph.col_idx[e]);
    }
    for (int g = 0; g < global_nodes; ++g) out.col_idx.push_back(first_global + g);
    out.row_ptr.push_back(static_cast<Index>(out.col_idx.size()));
  }
  for (int g = 0; g < global_nodes; ++g) {
    for (std::size_t i = 0; i < n; ++i) out.col_idx.push_back(static_cast<Index>(i));
    for (int h = 0; h < global_nodes; ++h) {
      if (h != g || self_loops) out.col_idx.push_back(first_global + h);
    }
    out.row_ptr.push_back(static_cast<Index>(out.col_idx.size()));
  }
  return out;
}

std::vector<double> edge_features(const HostCsr& graph, const std::vector<double>& points,
                                  int dimension) {
  if (points.size() != graph.num_nodes() * static_cast<std::size_t>(dimension)) {
    throw InputError(str("edge features: ", points.size(), " coordinates for ", graph.num_nodes(),
                         " nodes in ", dimension, " dimensions"));
  }
  const int width = dimension + 1;
  std::vector<double> features(graph.num_edges() * width);
  for (std::size_t i = 0; i < graph.num_nodes(); ++i) {
    for (Index e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
      const std::size_t j = graph.col_idx[e];
      double norm2 = 0;
      for (int d = 0; d < dimension; ++d) {
        const double delta = points[j * dimension + d] - points[i * dimension + d];
        features[e * width + d] = delta;
        norm2 += delta * delta;
      }
      features[e * width + dimension] = std::sqrt(norm2);
    }
  }
  return features;
}

bool is_symmetric(const HostCsr& graph) {
  for (std::size_t i = 0; i < graph.num_nodes(); ++i) {
    for (Index e = graph.row_ptr[i]; e < graph.row_ptr[i + 1]; ++e) {
      const Index j = graph.col_idx[e];
      const auto begin = graph.col_idx.begin() + graph.row_ptr[j];
      const auto end = graph.col_idx.begin() + graph.row_ptr[j + 1];
      if (!std::binary_search(begin, end, static_cast<Index>(i))) return false;
    }
  }
  return true;
}

}  // namespace tessera::graph
