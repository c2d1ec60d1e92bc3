#include "core/mesh/channel_node_types.hpp"

#include <cmath>

#include "core/runtime/error.hpp"

namespace tessera::mesh {

namespace {

// Higher wins when a point lies on facets of several tags.
int priority(BoundaryTag tag, CornerRule corners) {
  switch (tag) {
    case BoundaryTag::kUntagged:
      return 0;
    case BoundaryTag::kObstacle:
      return 1;
    case BoundaryTag::kWall:
      return corners == CornerRule::kWall ? 3 : 2;
    case BoundaryTag::kInflow:
    case BoundaryTag::kOutflow:
      return corners == CornerRule::kWall ? 2 : 3;
  }
  return 0;
}

NodeType node_type_of(BoundaryTag tag, NodeType obstacle_type) {
  switch (tag) {
    case BoundaryTag::kInflow:
      return NodeType::kInflow;
    case BoundaryTag::kOutflow:
      return NodeType::kOutflow;
    case BoundaryTag::kWall:
      return NodeType::kWallBoundary;
    case BoundaryTag::kObstacle:
      return obstacle_type;
    case BoundaryTag::kUntagged:
      break;
  }
  return NodeType::kNormal;
}

}  // namespace

void node_types_from_boundary_tags(Mesh& mesh, NodeType obstacle_type, CornerRule corners) {
  std::vector<BoundaryTag> point_tag(mesh.num_points(), BoundaryTag::kUntagged);
  const std::size_t facets = mesh.num_boundary_facets();
  for (std::size_t f = 0; f < facets; ++f) {
    const BoundaryTag tag = mesh.boundary_tags[f];
    for (int k = 0; k < mesh.dimension; ++k) {
      BoundaryTag& current = point_tag[mesh.boundary_facets[f * mesh.dimension + k]];
      if (priority(tag, corners) > priority(current, corners)) current = tag;
    }
  }
  mesh.node_types.resize(mesh.num_points());
  for (std::size_t p = 0; p < point_tag.size(); ++p) {
    mesh.node_types[p] = node_type_of(point_tag[p], obstacle_type);
  }
}

void derive_node_types(Mesh& mesh, const ChannelGeometry& geometry) {
  if (mesh.dimension != 2) {
    throw InputError(str("derive_node_types: channel node types are defined for 2-D meshes; ",
                         "this mesh is ", mesh.dimension, "-D"));
  }
  if (mesh.boundary_facets.empty()) compute_boundary_facets(mesh, "derive_node_types");
  const std::vector<double> box = bounding_box(mesh);
  const double x_min = geometry.x_min.value_or(box[0]);
  const double x_max = geometry.x_max.value_or(box[1]);
  const double y_min = geometry.y_min.value_or(box[2]);
  const double y_max = geometry.y_max.value_or(box[3]);
  if (!(x_min < x_max && y_min < y_max)) {
    throw InputError(str("derive_node_types: the channel [", x_min, ", ", x_max, "] x [", y_min,
                         ", ", y_max, "] is empty"));
  }
  const double tolerance = geometry.relative_tolerance * std::hypot(x_max - x_min, y_max - y_min);
  const auto near = [tolerance](double a, double b) { return std::abs(a - b) <= tolerance; };

  const std::size_t facets = mesh.num_boundary_facets();
  mesh.boundary_tags.resize(facets);
  for (std::size_t f = 0; f < facets; ++f) {
    const Index a = mesh.boundary_facets[2 * f];
    const Index b = mesh.boundary_facets[2 * f + 1];
    const double xa = mesh.coordinate(a, 0), ya = mesh.coordinate(a, 1);
    const double xb = mesh.coordinate(b, 0), yb = mesh.coordinate(b, 1);
    BoundaryTag tag = BoundaryTag::kObstacle;
    if (near(xa, x_min) && near(xb, x_min)) {
      tag = BoundaryTag::kInflow;
    } else if (near(xa, x_max) && near(xb, x_max)) {
      tag = BoundaryTag::kOutflow;
    } else if ((near(ya, y_min) && near(yb, y_min)) || (near(ya, y_max) && near(yb, y_max))) {
      tag = BoundaryTag::kWall;
    }
    mesh.boundary_tags[f] = tag;
  }
  node_types_from_boundary_tags(mesh, geometry.obstacle_type, geometry.corners);
}

}  // namespace tessera::mesh
