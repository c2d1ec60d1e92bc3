#pragma once
// The 6-node (quadratic) triangles the flow solver works on, built from a P1 mesh by
// adding edge midpoints: velocity lives on all nodes (P2), pressure on the vertices (P1),
// the Taylor-Hood pair. Vertices keep their mesh numbering and come first, so a P1 field
// is the first num_vertices entries of a P2-sized one. Midpoints of obstacle edges can be
// snapped onto a circle: the curved (isoparametric) cylinder is what makes the DFG drag
// and lift converge at the P2 rate instead of stalling on a polygon.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/graph/neighbourhoods.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::solvers::flow {

using Index = std::int64_t;

struct Circle {
  double cx = 0.2;
  double cy = 0.2;
  double radius = 0.05;
};

// Bit k set when the node lies on a boundary facet tagged BoundaryTag(k): a corner lies
// on two parts and needs both (no-slip from the wall, p = 0 from the outflow).
using TagMask = std::uint8_t;
inline constexpr TagMask tag_bit(mesh::BoundaryTag tag) {
  return static_cast<TagMask>(1u << static_cast<unsigned>(tag));
}

struct P2Mesh {
  std::size_t num_vertices = 0;
  std::vector<double> points;        // num_nodes x 2
  std::vector<Index> elements;       // num_elements x 6: v0 v1 v2, then midpoints 01 12 20
  std::vector<TagMask> node_tags;    // num_nodes
  std::vector<Index> edge_vertices;  // (num_nodes - num_vertices) x 2: the edge of a midpoint

  std::size_t num_nodes() const { return points.size() / 2; }
  std::size_t num_elements() const { return elements.size() / 6; }
  bool has_tag(Index node, mesh::BoundaryTag tag) const {
    return (node_tags[static_cast<std::size_t>(node)] & tag_bit(tag)) != 0;
  }
};

// InputError naming `source` when the mesh is not 2-D triangles or has no boundary
// facets. With `snap_obstacle`, midpoints of kObstacle facets move onto that circle.
P2Mesh make_p2_mesh(const mesh::Mesh& p1, const std::optional<Circle>& snap_obstacle,
                    const std::string& source);

// Node adjacency through elements (every pair of nodes of one element), with self-loops:
// the sparsity of the P2 operators and the one-hop halo of the solver.
graph::HostCsr p2_graph(const P2Mesh& mesh);

}  // namespace tessera::solvers::flow
