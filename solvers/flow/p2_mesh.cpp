#include "solvers/flow/p2_mesh.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/runtime/error.hpp"

namespace tessera::solvers::flow {

P2Mesh make_p2_mesh(const mesh::Mesh& p1, const std::optional<Circle>& snap_obstacle,
                    const std::string& source) {
  if (p1.dimension != 2 || p1.cell_kind != mesh::CellKind::kTriangle) {
    throw InputError(str(source, ": the flow solver needs a 2-D triangle mesh, got ",
                         mesh::to_string(p1.cell_kind), "s in ", p1.dimension, "-D"));
  }
  if (p1.num_boundary_facets() == 0) {
    throw InputError(str(source, ": the mesh has no boundary facets (run finish_mesh first)"));
  }
  P2Mesh out;
  out.num_vertices = p1.num_points();
  out.points = p1.points;
  const std::size_t cells = p1.num_cells();
  out.elements.resize(cells * 6);
  // Edges numbered in order of first appearance: deterministic for a given mesh.
  std::map<std::pair<Index, Index>, Index> midpoint_of;
  for (std::size_t c = 0; c < cells; ++c) {
    for (int k = 0; k < 3; ++k) {
      const Index a = p1.cells[c * 3 + k];
      const Index b = p1.cells[c * 3 + (k + 1) % 3];
      out.elements[c * 6 + k] = a;
      const auto key = std::minmax(a, b);
      auto [it, inserted] = midpoint_of.try_emplace({key.first, key.second}, 0);
      if (inserted) {
        it->second = static_cast<Index>(out.points.size() / 2);
        out.points.push_back(0.5 * (p1.coordinate(a, 0) + p1.coordinate(b, 0)));
        out.points.push_back(0.5 * (p1.coordinate(a, 1) + p1.coordinate(b, 1)));
        out.edge_vertices.push_back(key.first);
        out.edge_vertices.push_back(key.second);
      }
      out.elements[c * 6 + 3 + k] = it->second;
    }
  }
  out.node_tags.assign(out.num_nodes(), 0);
  for (std::size_t f = 0; f < p1.num_boundary_facets(); ++f) {
    const Index a = p1.boundary_facets[2 * f];
    const Index b = p1.boundary_facets[2 * f + 1];
    const mesh::BoundaryTag tag = p1.boundary_tags[f];
    if (tag == mesh::BoundaryTag::kUntagged) continue;
    const auto key = std::minmax(a, b);
    const Index m = midpoint_of.at({key.first, key.second});
    for (Index node : {a, b, m}) out.node_tags[static_cast<std::size_t>(node)] |= tag_bit(tag);
    if (tag == mesh::BoundaryTag::kObstacle && snap_obstacle) {
      double& x = out.points[2 * static_cast<std::size_t>(m)];
      double& y = out.points[2 * static_cast<std::size_t>(m) + 1];
      const double dx = x - snap_obstacle->cx;
      const double dy = y - snap_obstacle->cy;
      const double r = std::hypot(dx, dy);
      if (r < 0.5 * snap_obstacle->radius || r > 1.5 * snap_obstacle->radius) {
        throw InputError(str(source, ": obstacle edge (", a, ", ", b, ") lies at distance ", r,
                             " from the circle centre (", snap_obstacle->cx, ", ",
                             snap_obstacle->cy, "), far from its radius ", snap_obstacle->radius,
                             ": the obstacle is not that circle"));
      }
      x = snap_obstacle->cx + dx * snap_obstacle->radius / r;
      y = snap_obstacle->cy + dy * snap_obstacle->radius / r;
    }
  }
  return out;
}

graph::HostCsr p2_graph(const P2Mesh& mesh) {
  const std::size_t n = mesh.num_nodes();
  std::vector<std::vector<graph::Index>> rows(n);
  for (std::size_t e = 0; e < mesh.num_elements(); ++e) {
    for (int i = 0; i < 6; ++i) {
      auto& row = rows[static_cast<std::size_t>(mesh.elements[e * 6 + i])];
      for (int j = 0; j < 6; ++j)
        row.push_back(static_cast<graph::Index>(mesh.elements[e * 6 + j]));
    }
  }
  graph::HostCsr g;
  g.row_ptr.assign(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) {
    auto& row = rows[i];
    row.push_back(static_cast<graph::Index>(i));
    std::sort(row.begin(), row.end());
    row.erase(std::unique(row.begin(), row.end()), row.end());
    g.col_idx.insert(g.col_idx.end(), row.begin(), row.end());
    g.row_ptr[i + 1] = static_cast<graph::Index>(g.col_idx.size());
    std::vector<graph::Index>().swap(row);
  }
  return g;
}

}  // namespace tessera::solvers::flow
