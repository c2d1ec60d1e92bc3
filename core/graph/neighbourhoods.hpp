#pragma once
// Wider neighbourhoods built from a graph's one-hop adjacency, for the augmented
// attention of the mesh transformer: K-hop (every node within K hops), dilated (nodes
// at hop distances d, 2d, ..., m d exactly), and global nodes (virtual nodes linked to
// every node). Also the edge features of MeshGraphNets (relative position and distance).
// Built on the host, once per mesh.
#include <vector>

#include "core/graph/csr_graph.hpp"

namespace tessera::graph {

// Host copy of a graph as two vectors.
struct HostCsr {
  std::vector<Index> row_ptr;
  std::vector<Index> col_idx;
  std::size_t num_nodes() const { return row_ptr.empty() ? 0 : row_ptr.size() - 1; }
  std::size_t num_edges() const { return col_idx.size(); }
};

HostCsr to_host(const CsrGraph& graph);

// Hop distances from `source` up to `max_hops` (-1 beyond), by breadth-first search.
// `distance` must have num_nodes entries, all -1; they are reset before returning
// except for the visited list, which is returned (cheap repeated searches).
std::vector<Index> bounded_bfs(const HostCsr& graph, Index source, int max_hops,
                               std::vector<int>& distance);

// Row i: every node j != i within `hops` hops of i, plus i itself when `self_loops`.
HostCsr k_hop(const HostCsr& graph, int hops, bool self_loops = true);

// Row i: the nodes at hop distance exactly d, 2d, ..., count*d from i (plus i itself
// when `self_loops`). With d = 1 it equals k_hop(graph, count).
HostCsr dilated(const HostCsr& graph, int dilation, int count, bool self_loops = true);

// The graph plus `global_nodes` virtual nodes numbered num_nodes, num_nodes + 1, ...:
// every original node gains an edge to each virtual node and every virtual node is
// linked to all nodes (itself included when `self_loops`).
HostCsr with_global_nodes(const HostCsr& graph, int global_nodes, bool self_loops = true);

// For each edge (i <- j) of row i: (x_j - x_i, y_j - y_i[, z_j - z_i], |x_j - x_i|), as a
// num_edges x (dimension + 1) row-major array. `points` is num_nodes x dimension.
std::vector<double> edge_features(const HostCsr& graph, const std::vector<double>& points,
                                  int dimension);

// Whether j in N(i) exactly when i in N(j).
bool is_symmetric(const HostCsr& graph);

CsrGraph to_device(const HostCsr& graph);

}  // namespace tessera::graph
