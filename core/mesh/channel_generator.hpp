#pragma once
// Triangle meshes of the DFG flow-around-a-cylinder benchmark (Schäfer & Turek 1996,
// tests 2D-1 and 2D-2): a 2.2 x 0.41 channel with a cylinder of radius 0.05 centred at
// (0.2, 0.2), meshed by Gmsh with a finer size near the cylinder, where the wake forms.
// The flow solver and the mesh transformer train on these; every size is a parameter,
// from a few hundred nodes for tests to millions for scaling runs.
#include "core/mesh/channel_node_types.hpp"
#include "core/mesh/mesh.hpp"

namespace tessera::mesh {

struct ChannelSpec {
  double length = 2.2;
  double height = 0.41;
  double cylinder_x = 0.2;
  double cylinder_y = 0.2;
  double cylinder_radius = 0.05;
  // Target triangle size away from the cylinder, and on the cylinder itself.
  double mesh_size = 0.02;
  double cylinder_mesh_size = 0.005;
  // Distance from the cylinder surface over which the size grows linearly from
  // cylinder_mesh_size to mesh_size.
  double refinement_distance = 0.15;
  // Gmsh's Mesh.Algorithm: 6 (Frontal-Delaunay) gives the best triangles. 5 (Delaunay)
  // was no faster here: mesh_size 0.001 and cylinder_mesh_size 0.0005 took 159 s for
  // 1.15M nodes with 6 and 195 s for 1.30M nodes with 5, on one busy core (Gmsh is
  // serial here, for reproducibility). Nodes grow as about 1.15 / mesh_size^2.
  int algorithm = 6;
  // Node type conventions, as in ChannelGeometry.
  NodeType obstacle_type = NodeType::kObstacle;
  CornerRule corners = CornerRule::kWall;
};

// The meshed channel: counter-clockwise triangles, points numbered in Gmsh's order (the
// same for the same spec, run after run), boundary facets tagged by Gmsh physical groups
// (inflow x = 0, outflow x = length, walls y = 0 and y = height, the cylinder) and node
// types from them, no fields. InputError naming the parameter when the spec is not a
// channel (non-positive sizes, a cylinder touching the walls). Not thread-safe with
// other Gmsh users in the process: Gmsh's state is global, and this initialises and
// finalises it.
Mesh generate_channel_mesh(const ChannelSpec& spec = {});

}  // namespace tessera::mesh
