#pragma once
// MeshGraphNets node types for a 2-D channel (flow enters at x_min, leaves at x_max,
// walls at y_min and y_max, obstacles inside), for meshes whose file carries none: the
// CylinderFlow VTU/XDMF files, a solver's own meshes. The generator uses the same rules
// with its physical groups in place of geometry, so both kinds of mesh agree.
//
// Corners belong to two sides. By default the walls take them: the no-slip value u = 0
// holds there whatever the other side says (the DFG inflow profile vanishes at the
// walls, and the outflow condition is a natural one that must not free a wall node).
// CornerRule::kInflowOutflow gives them to the inflow and outflow instead, for data
// sets that mark them so.
#include <optional>

#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

enum class CornerRule : std::uint8_t { kWall, kInflowOutflow };

struct ChannelGeometry {
  // The channel's sides; each one absent is taken from the points' bounding box.
  std::optional<double> x_min, x_max, y_min, y_max;
  // Node type of boundary nodes on no side (the cylinder). MeshGraphNets' cylinder_flow
  // uses NodeType::kWallBoundary, since the cylinder is a no-slip wall for the model.
  NodeType obstacle_type = NodeType::kObstacle;
  CornerRule corners = CornerRule::kWall;
  // A point is on a side when closer than this x the box diagonal (files store float32).
  double relative_tolerance = 1e-6;
};

// Tags every boundary facet by the side both its points lie on (else kObstacle), then
// sets node types from the tags (node_types_from_boundary_tags). Computes the boundary
// facets first when the mesh has none. InputError for a mesh that is not 2-D.
void derive_node_types(Mesh& mesh, const ChannelGeometry& geometry = {});

// Node types from boundary tags: NORMAL inside; on the boundary INFLOW, OUTFLOW,
// WALL_BOUNDARY, or `obstacle_type`, a point on two sides taking the type `corners`
// says. Untagged facets leave their points NORMAL.
void node_types_from_boundary_tags(Mesh& mesh, NodeType obstacle_type, CornerRule corners);

}  // namespace tessera::mesh
